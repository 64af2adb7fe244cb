//! Element-wise activations φ and their derivatives φ′, each rule beside the other.

use super::real::Real;
use ndarray::{Array2, Zip};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// SELU's λ and α (Klambauer et al. 2017).
pub const SELU_LAMBDA: f64 = 1.050_700_987_355_480_5;
pub const SELU_ALPHA: f64 = 1.673_263_242_354_377_3;

/// An activation function. Parsed from `name` or `name:parameter` (`leaky-relu:0.2`, `elu:1`).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Activation {
    /// σ(x) = 1 / (1 + e^(−x)); σ′ = σ(1 − σ) ≤ 1/4.
    Sigmoid,
    /// tanh x; tanh′ = 1 − tanh² ≤ 1.
    Tanh,
    /// max(0, x); derivative 1 for x > 0, else 0 (0 at x = 0, as PyTorch).
    Relu,
    /// x for x > 0, else slope·x.
    LeakyRelu(f64),
    /// x for x > 0, else α(eˣ − 1).
    Elu(f64),
    /// x·Φ(x), Φ the standard normal CDF (exact, erf-based).
    Gelu,
    /// λx for x > 0, else λα(eˣ − 1).
    Selu,
    /// x.
    Linear,
}

/// Every activation name, for help texts and error messages.
pub const ACTIVATION_NAMES: &[&str] = &[
    "sigmoid",
    "tanh",
    "relu",
    "leaky-relu[:slope]",
    "elu[:alpha]",
    "gelu",
    "selu",
    "linear",
];

/// σ(x) = 1/(1 + e^(−x)), taken as n/(1 + e^(−|x|)) with n = 1 for x ≥ 0 and n = e^(−|x|)
/// below: it never forms e^(+large), and a select, not a branch, picks n.
#[inline]
fn sigmoid<F: Real>(x: F) -> F {
    sigmoid_from(x, neg_abs(x).exp_p())
}

/// σ(x) from x and e = e^(−|x|).
#[inline]
fn sigmoid_from<F: Real>(x: F, e: F) -> F {
    let n = if x >= F::zero() { F::one() } else { e };
    n / (F::one() + e)
}

/// −|x|, as the two-branch sigmoid formed it: −x for x ≥ 0, else x itself, so that a NaN
/// keeps its sign bit (−abs would set it).
#[inline]
fn neg_abs<F: Real>(x: F) -> F {
    if x >= F::zero() { -x } else { x }
}

/// max(x, 0); NaN stays NaN, as in the frameworks (`max` would turn it into 0).
#[inline]
fn relu<F: Real>(x: F) -> F {
    if x > F::zero() || x.is_nan() {
        x
    } else {
        F::zero()
    }
}

/// ReLU′(x) = [x > 0].
#[inline]
fn relu_df<F: Real>(x: F) -> F {
    if x > F::zero() { F::one() } else { F::zero() }
}

/// [`sigmoid`] of every element of `h` in place, the same bits: e^(−|x|) a block at a time
/// through [`Real::exp_all`], which f32 computes in vector instructions.
fn sigmoid_all<F: Real>(h: &mut Array2<F>) {
    const BLOCK: usize = 64;
    let Some(xs) = h.as_slice_memory_order_mut() else {
        return h.mapv_inplace(sigmoid);
    };
    let mut e = [F::zero(); BLOCK];
    for block in xs.chunks_mut(BLOCK) {
        let e = &mut e[..block.len()];
        for (e, &x) in e.iter_mut().zip(block.iter()) {
            *e = neg_abs(x);
        }
        F::exp_all(e);
        for (x, &e) in block.iter_mut().zip(e.iter()) {
            *x = sigmoid_from(*x, e);
        }
    }
}

/// tanh of every element of `h` in place, the same bits as [`Real::tanh_p`] of each, through
/// [`Real::tanh_all`] (f32: in vector instructions).
fn tanh_all<F: Real>(h: &mut Array2<F>) {
    match h.as_slice_memory_order_mut() {
        Some(xs) => F::tanh_all(xs),
        None => h.mapv_inplace(F::tanh_p),
    }
}

impl Activation {
    /// φ(x).
    #[inline]
    pub fn f<F: Real>(self, x: F) -> F {
        let one = F::one();
        match self {
            Activation::Sigmoid => sigmoid(x),
            Activation::Tanh => x.tanh_p(),
            Activation::Relu => relu(x),
            Activation::LeakyRelu(s) => {
                if x > F::zero() {
                    x
                } else {
                    F::of(s) * x
                }
            }
            Activation::Elu(a) => {
                if x > F::zero() {
                    x
                } else {
                    F::of(a) * (x.exp_p() - one)
                }
            }
            Activation::Gelu => x * normal_cdf(x),
            Activation::Selu => {
                let l = F::of(SELU_LAMBDA);
                if x > F::zero() {
                    l * x
                } else {
                    l * F::of(SELU_ALPHA) * (x.exp_p() - one)
                }
            }
            Activation::Linear => x,
        }
    }

    /// φ′(x).
    #[inline]
    pub fn df<F: Real>(self, x: F) -> F {
        let one = F::one();
        let zero = F::zero();
        match self {
            Activation::Sigmoid => {
                let s = self.f(x);
                s * (one - s)
            }
            Activation::Tanh => {
                let t = x.tanh_p();
                one - t * t
            }
            Activation::Relu => relu_df(x),
            Activation::LeakyRelu(s) => {
                if x > zero {
                    one
                } else {
                    F::of(s)
                }
            }
            Activation::Elu(a) => {
                if x > zero {
                    one
                } else {
                    F::of(a) * x.exp_p()
                }
            }
            // d/dx [x Φ(x)] = Φ(x) + x ϕ(x).
            Activation::Gelu => normal_cdf(x) + x * normal_pdf(x),
            Activation::Selu => {
                if x > zero {
                    F::of(SELU_LAMBDA)
                } else {
                    F::of(SELU_LAMBDA * SELU_ALPHA) * x.exp_p()
                }
            }
            Activation::Linear => one,
        }
    }

    /// sup φ′ over the real line: 1/4 for sigmoid, ≈ 1.129 for GELU (at x = √2), λα for SELU.
    pub fn max_derivative(self) -> f64 {
        match self {
            Activation::Sigmoid => 0.25,
            Activation::Tanh | Activation::Relu | Activation::Linear => 1.0,
            Activation::LeakyRelu(s) => s.abs().max(1.0),
            Activation::Elu(a) => a.max(1.0),
            Activation::Gelu => {
                let x = std::f64::consts::SQRT_2;
                self.df(x)
            }
            Activation::Selu => SELU_LAMBDA * SELU_ALPHA,
        }
    }

    /// (φ(x), φ′(x)) together, sharing the one transcendental call; equal to `(f(x), df(x))`.
    #[inline]
    pub fn f_df<F: Real>(self, x: F) -> (F, F) {
        let one = F::one();
        match self {
            Activation::Sigmoid => {
                let s = self.f(x);
                (s, s * (one - s))
            }
            Activation::Tanh => {
                let t = x.tanh_p();
                (t, one - t * t)
            }
            Activation::Elu(a) if x <= F::zero() => {
                let e = x.exp_p();
                (F::of(a) * (e - one), F::of(a) * e)
            }
            Activation::Selu if x <= F::zero() => {
                let e = x.exp_p();
                let l = F::of(SELU_LAMBDA);
                (
                    l * F::of(SELU_ALPHA) * (e - one),
                    F::of(SELU_LAMBDA * SELU_ALPHA) * e,
                )
            }
            Activation::Gelu => {
                let cdf = normal_cdf(x);
                (x * cdf, cdf + x * normal_pdf(x))
            }
            _ => (self.f(x), self.df(x)),
        }
    }

    /// a = φ(h), written over `h`, and φ′(h) returned: one pass, and the backward pass needs
    /// only φ′(h).
    pub fn forward<F: Real>(self, h: &mut Array2<F>) -> Array2<F> {
        let mut d = Array2::zeros(h.raw_dim());
        // One match per array, not per element, so each loop body inlines.
        match self {
            Activation::Sigmoid => {
                sigmoid_all(h);
                Zip::from(&mut d)
                    .and(&*h)
                    .for_each(|d, &s| *d = Activation::Sigmoid.df_of_output(s));
            }
            Activation::Tanh => {
                tanh_all(h);
                Zip::from(&mut d)
                    .and(&*h)
                    .for_each(|d, &t| *d = Activation::Tanh.df_of_output(t));
            }
            Activation::Relu => Zip::from(h)
                .and(&mut d)
                .for_each(|x, d| (*x, *d) = (relu(*x), relu_df(*x))),
            other => Zip::from(h)
                .and(&mut d)
                .for_each(|x, d| (*x, *d) = other.f_df(*x)),
        }
        d
    }

    /// a = φ(h), written over `h`, when the backward pass can take φ′ from a (see
    /// [`df_from_output`](Self::df_from_output)).
    pub fn apply<F: Real>(self, h: &mut Array2<F>) {
        // One match per array, not per element, so each loop body inlines.
        match self {
            Activation::Sigmoid => sigmoid_all(h),
            Activation::Tanh => tanh_all(h),
            Activation::Relu => h.mapv_inplace(relu),
            Activation::Linear => {}
            other => h.mapv_inplace(|x| other.f(x)),
        }
    }

    /// Whether φ′(h) is a function of a = φ(h) alone, so the forward pass need not keep it:
    /// sigmoid, tanh, ReLU and linear units.
    pub fn df_from_output(self) -> bool {
        matches!(
            self,
            Activation::Sigmoid | Activation::Tanh | Activation::Relu | Activation::Linear
        )
    }

    /// φ′ from the output a = φ(h): σ′ = a(1 − a), tanh′ = 1 − a², ReLU′ = [a > 0],
    /// linear′ = 1, the same bits as [`df`](Self::df)(h). Only where
    /// [`df_from_output`](Self::df_from_output) holds.
    #[inline]
    pub fn df_of_output<F: Real>(self, a: F) -> F {
        let one = F::one();
        match self {
            Activation::Sigmoid => a * (one - a),
            Activation::Tanh => one - a * a,
            Activation::Relu if a > F::zero() => one,
            Activation::Relu => F::zero(),
            Activation::Linear => one,
            other => unreachable!("φ′ of {other} is not a function of its output"),
        }
    }

    /// ∂L/∂h = ∂L/∂a ⊙ φ′(h), written over `da` in place, with φ′ taken from the output `a`.
    pub fn backward_from_output<F: Real>(self, a: &Array2<F>, da: &mut Array2<F>) {
        let zip = Zip::from(da).and(a);
        // One match per array, not per element: with the variant named in each arm, the
        // per-element rule's match folds away once inlined.
        match self {
            Activation::Sigmoid => zip.for_each(|d, &a| *d *= Activation::Sigmoid.df_of_output(a)),
            Activation::Tanh => zip.for_each(|d, &a| *d *= Activation::Tanh.df_of_output(a)),
            Activation::Relu => zip.for_each(|d, &a| *d *= Activation::Relu.df_of_output(a)),
            Activation::Linear => {}
            other => zip.for_each(|d, &a| *d *= other.df_of_output(a)),
        }
    }

    /// ∂L/∂h = ∂L/∂a ⊙ φ′(h), written over `da` in place, from the φ′(h) that
    /// [`forward`](Self::forward) returned.
    pub fn backward<F: Real>(dphi: &Array2<F>, da: &mut Array2<F>) {
        *da *= dphi;
    }

    /// Whether a unit whose derivative is `dphi` = φ′(x) is saturated: φ′(x) < 0.1 · sup φ′
    /// (for ReLU: inactive, x ≤ 0).
    #[inline]
    pub fn is_saturated<F: Real>(self, dphi: F) -> bool {
        dphi.as_f64().abs() < 0.1 * self.max_derivative()
    }

    /// Whether ReLU-style zero derivatives are possible (so "dead units" are meaningful).
    pub fn can_die(self) -> bool {
        matches!(self, Activation::Relu)
    }
}

/// Φ(x) = ½(1 + erf(x/√2)).
#[inline]
fn normal_cdf<F: Real>(x: F) -> F {
    F::of(0.5) * (F::one() + (x * F::of(std::f64::consts::FRAC_1_SQRT_2)).erf_p())
}

/// ϕ(x) = e^(−x²/2) / √(2π).
#[inline]
fn normal_pdf<F: Real>(x: F) -> F {
    F::of(0.398_942_280_401_432_7) * (F::of(-0.5) * x * x).exp_p()
}

impl fmt::Display for Activation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Activation::Sigmoid => f.write_str("sigmoid"),
            Activation::Tanh => f.write_str("tanh"),
            Activation::Relu => f.write_str("relu"),
            Activation::LeakyRelu(s) => write!(f, "leaky-relu:{}", crate::format::echo(*s)),
            Activation::Elu(a) => write!(f, "elu:{}", crate::format::echo(*a)),
            Activation::Gelu => f.write_str("gelu"),
            Activation::Selu => f.write_str("selu"),
            Activation::Linear => f.write_str("linear"),
        }
    }
}

impl FromStr for Activation {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let (name, param) = split_param(s)?;
        let plain = |a: Activation| match param {
            None => Ok(a),
            Some(_) => Err(format!("activation {} takes no parameter", quote(name))),
        };
        match name.to_ascii_lowercase().as_str() {
            "sigmoid" => plain(Activation::Sigmoid),
            "tanh" => plain(Activation::Tanh),
            "relu" => plain(Activation::Relu),
            "leaky-relu" | "leaky_relu" | "leakyrelu" => {
                Ok(Activation::LeakyRelu(param.unwrap_or(0.01)))
            }
            "elu" => Ok(Activation::Elu(param.unwrap_or(1.0))),
            "gelu" => plain(Activation::Gelu),
            "selu" => plain(Activation::Selu),
            "linear" | "identity" => plain(Activation::Linear),
            _ => Err(format!(
                "unknown activation {}{}; valid: {}",
                quote(name),
                crate::format::suggest(name, ACTIVATION_NAMES),
                ACTIVATION_NAMES.join(", ")
            )),
        }
    }
}

/// A name from input, quoted for a message: control characters escaped, at most 40 kept.
pub(crate) fn quote(s: &str) -> String {
    let mut q: String = s.chars().take(40).flat_map(char::escape_debug).collect();
    if s.chars().count() > 40 {
        q.push('…');
    }
    format!("'{q}'")
}

/// Splits `name:value` into the name and a finite parameter.
pub(crate) fn split_param(s: &str) -> Result<(&str, Option<f64>), String> {
    match s.split_once(':') {
        None => Ok((s.trim(), None)),
        Some((name, value)) => {
            let v: f64 = value
                .trim()
                .parse()
                .map_err(|_| format!("{} in {} is not a number", quote(value), quote(s)))?;
            if !v.is_finite() {
                return Err(format!("the parameter in {} must be finite", quote(s)));
            }
            Ok((name.trim(), Some(v)))
        }
    }
}

impl TryFrom<String> for Activation {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        s.parse()
    }
}

impl From<Activation> for String {
    fn from(a: Activation) -> String {
        a.to_string()
    }
}

/// Each activation's fused and from-output derivatives, and the sigmoid, bit for bit.
#[cfg(test)]
// Tests compare against std math; only the engine's own code must avoid it (clippy.toml).
#[allow(clippy::disallowed_methods)]
mod tests {
    use super::*;

    #[test]
    fn the_fused_forward_gives_the_same_bits_as_f_and_df() {
        let acts = [
            Activation::Sigmoid,
            Activation::Tanh,
            Activation::Relu,
            Activation::LeakyRelu(0.1),
            Activation::Elu(1.5),
            Activation::Gelu,
            Activation::Selu,
            Activation::Linear,
        ];
        for act in acts {
            for i in -400..=400 {
                let x = i as f32 * 0.05;
                let (f, df) = act.f_df(x);
                assert_eq!(f.to_bits(), act.f(x).to_bits(), "{act} φ({x})");
                assert_eq!(df.to_bits(), act.df(x).to_bits(), "{act} φ′({x})");
            }
        }
    }

    // Catches: a from-output derivative that is not bit for bit φ′(h) (e.g. tanh′ = 1 − a with
    // a missing square, σ′ = a(1 + a), ReLU′ at a = 0 taken as 1), which would change every
    // gradient of a network that keeps a_l instead of φ′(h_l).
    #[test]
    fn the_derivative_from_the_output_is_the_derivative_bit_for_bit() {
        let xs: Vec<f64> = (-400..=400)
            .map(|k| k as f64 * 0.05)
            .chain([
                0.0,
                -0.0,
                1e-30,
                -1e-30,
                88.0,
                -88.0,
                f64::INFINITY,
                f64::NEG_INFINITY,
            ])
            .collect();
        for name in ["sigmoid", "tanh", "relu", "linear"] {
            let phi: Activation = name.parse().unwrap();
            assert!(phi.df_from_output(), "{name}");
            for &x in &xs {
                assert_eq!(
                    phi.df_of_output(phi.f(x)).to_bits(),
                    phi.df(x).to_bits(),
                    "{name} at {x} (f64)"
                );
                let x = x as f32;
                assert_eq!(
                    phi.df_of_output(phi.f(x)).to_bits(),
                    phi.df(x).to_bits(),
                    "{name} at {x} (f32)"
                );
            }
        }
        for name in ["elu", "gelu", "selu", "leaky-relu"] {
            let phi: Activation = name.parse().unwrap();
            assert!(!phi.df_from_output(), "{name} keeps φ′");
        }
    }

    /// The sigmoid's select form, its block loop (`apply`, `forward`) and `f` give the bits of
    /// the two-branch form 1/(1 + e^(−x)) for x ≥ 0, e^x/(1 + e^x) below, NaNs of either sign
    /// included: every 997th f32 bit pattern and a million random f64 ones.
    #[test]
    fn sigmoid_is_the_two_branch_form_bit_for_bit() {
        fn check<F: crate::nn::Real>(xs: Vec<F>, exp: fn(F) -> F) {
            let two_branch = |x: F| {
                if x >= F::zero() {
                    F::one() / (F::one() + exp(-x))
                } else {
                    let e = exp(x);
                    e / (F::one() + e)
                }
            };
            let want: Vec<u64> = xs
                .iter()
                .map(|&x| two_branch(x).as_f64().to_bits())
                .collect();
            let bits = |a: &Array2<F>| a.iter().map(|v| v.as_f64().to_bits()).collect::<Vec<_>>();
            let mut a = Array2::from_shape_vec((1, xs.len()), xs.clone()).unwrap();
            let mut h = a.clone();
            Activation::Sigmoid.apply(&mut a);
            assert_eq!(bits(&a), want, "apply");
            Activation::Sigmoid.forward(&mut h);
            assert_eq!(bits(&h), want, "forward");
            let f: Vec<u64> = xs
                .iter()
                .map(|&x| Activation::Sigmoid.f(x).as_f64().to_bits())
                .collect();
            assert_eq!(f, want, "f");
        }
        let mut f32s: Vec<f32> = (0..=u32::MAX).step_by(997).map(f32::from_bits).collect();
        f32s.extend([
            f32::from_bits(0x7fc0_0000),
            f32::from_bits(0xffc0_0000),
            0.0,
            -0.0,
        ]);
        check(f32s, libm::expf);
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let f64s: Vec<f64> = (0..1_000_000)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                f64::from_bits(state)
            })
            .chain([f64::NAN, -f64::NAN, 0.0, -0.0])
            .collect();
        check(f64s, libm::exp);
    }
}
