//! Weight initializers, matching the Keras and PyTorch definitions.
//!
//! A dense kernel is `fan_in × fan_out`. Samples are drawn in f64 and rounded to the run's
//! precision, so an f32 and an f64 run with one seed start from the same weights.

use super::activation::{quote, split_param};
use super::real::Real;
use ndarray::Array2;
use rand::{Rng, RngExt};
use rand_distr::StandardNormal;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Standard deviation of a standard normal truncated to [−2, 2]; Keras divides by it.
pub const TRUNCATED_NORMAL_STD: f64 = 0.879_625_661_034_239_8;

/// How a kernel's entries are drawn. Parsed from `name` or `name:scale`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Init {
    /// N(0, 2/(fan_in + fan_out)) — `torch.nn.init.xavier_normal_`.
    XavierNormal,
    /// U(±√(6/(fan_in + fan_out))) — `torch.nn.init.xavier_uniform_`.
    XavierUniform,
    /// N(0, 2/fan_in) — `torch.nn.init.kaiming_normal_(nonlinearity="relu")`.
    HeNormal,
    /// U(±√(6/fan_in)) — `torch.nn.init.kaiming_uniform_(nonlinearity="relu")`.
    HeUniform,
    /// Truncated normal at ±2σ′, σ′ = √(2/fan_in)/0.8796…, so the std is √(2/fan_in) —
    /// `tf.keras.initializers.HeNormal`.
    KerasHeNormal,
    /// N(0, 1/fan_in) — `tf.keras.initializers.LecunNormal` without truncation.
    LecunNormal,
    /// U(±1/√fan_in): `nn.Linear`'s default, kaiming_uniform with a = √5.
    TorchDefault,
    /// N(0, σ²) with a fixed σ.
    Normal(Option<f64>),
    /// U(±a) with a fixed a.
    Uniform(Option<f64>),
    /// A (semi-)orthogonal kernel times a gain (default 1): the sign-corrected QR of a
    /// Gaussian matrix, as `torch.nn.init.orthogonal_` (Saxe et al. 2014).
    Orthogonal(Option<f64>),
    /// Every weight 0.
    Zeros,
    /// Every weight c.
    Constant(Option<f64>),
}

/// Every initializer name, for help texts and error messages.
pub const INIT_NAMES: &[&str] = &[
    "xavier-normal",
    "xavier-uniform",
    "he-normal",
    "he-uniform",
    "keras-he-normal",
    "lecun-normal",
    "torch-default",
    "normal:STD",
    "uniform:LIMIT",
    "orthogonal[:GAIN]",
    "zeros",
    "constant:VALUE",
];

impl Init {
    /// The initializer as prose shows it: `normal:0.0884`, `orthogonal:√2`, its parameter
    /// rounded to 4 decimals instead of a float's last digits (Display, which the config and
    /// --json use, keeps those).
    pub fn prose(self) -> String {
        let short = |p: f64| {
            if (p - 2f64.sqrt()).abs() < 1e-12 {
                "√2".to_string()
            } else if !(1e-4..1e6).contains(&p.abs()) {
                crate::format::echo(p)
            } else {
                let t = format!("{p:.4}");
                t.trim_end_matches('0').trim_end_matches('.').to_string()
            }
        };
        match self {
            Init::Normal(Some(p)) => format!("normal:{}", short(p)),
            Init::Uniform(Some(p)) => format!("uniform:{}", short(p)),
            Init::Orthogonal(Some(p)) => format!("orthogonal:{}", short(p)),
            Init::Constant(Some(p)) => format!("constant:{}", short(p)),
            other => other.to_string(),
        }
    }

    /// Fills in the scale of `normal`, `uniform` or `constant` from `--std` when the name
    /// carried none; errors when such an initializer ends up without a scale.
    pub fn with_scale(self, scale: Option<f64>) -> Result<Init, String> {
        let pick = |own: Option<f64>, what: &str, name: &str| {
            own.or(scale).ok_or_else(|| {
                format!(
                    "initializer '{name}' needs a {what}: write '{name}:0.05' or add --std 0.05"
                )
            })
        };
        // The flag is named when the value came from it.
        let positive = |v: f64, what: &str| {
            if v > 0.0 && v.is_finite() {
                Ok(v)
            } else if self.own_scale().is_none() {
                Err(format!(
                    "--std must be a positive number: it is the {what} of --init {self} (got {})",
                    crate::format::echo(v)
                ))
            } else {
                Err(format!(
                    "the {what} must be a positive number (got {})",
                    crate::format::echo(v)
                ))
            }
        };
        if let (Some(given), Some(own)) = (scale, self.own_scale()) {
            return Err(format!(
                "'{self}' already sets its scale ({}); drop --std {} or write the \
                 initializer's name alone",
                crate::format::echo(own),
                crate::format::echo(given)
            ));
        }
        if let (Some(given), Init::Orthogonal(_)) = (scale, self) {
            return Err(format!(
                "--std {0} sets the scale of --init normal, uniform or constant; an \
                 orthogonal kernel takes a gain instead: write 'orthogonal:{0}'",
                crate::format::echo(given)
            ));
        }
        if let (Some(given), false) = (scale, self.takes_scale()) {
            return Err(format!(
                "--std {} sets the scale of --init normal, uniform or constant; '{self}' \
                 sets its own from the layer's fans, so drop --std",
                crate::format::echo(given)
            ));
        }
        Ok(match self {
            Init::Normal(s) => Init::Normal(Some(positive(
                pick(s, "standard deviation", "normal")?,
                "standard deviation",
            )?)),
            Init::Uniform(a) => {
                Init::Uniform(Some(positive(pick(a, "limit", "uniform")?, "limit")?))
            }
            Init::Constant(c) => {
                let c = pick(c, "value", "constant")?;
                if !c.is_finite() {
                    return Err(format!(
                        "the constant must be a finite number (got {})",
                        crate::format::echo(c)
                    ));
                }
                Init::Constant(Some(c))
            }
            other => other,
        })
    }

    /// Whether the initializer is scaled by `--std` (normal, uniform, constant).
    fn takes_scale(self) -> bool {
        matches!(self, Init::Normal(_) | Init::Uniform(_) | Init::Constant(_))
    }

    /// The scale written into the name (`normal:0.05`), if any.
    fn own_scale(self) -> Option<f64> {
        match self {
            Init::Normal(s) | Init::Uniform(s) | Init::Constant(s) => s,
            _ => None,
        }
    }

    /// Var(W) the rule aims for, or `None` for a constant kernel (not random at all).
    pub fn variance(self, fan_in: usize, fan_out: usize) -> Option<f64> {
        let (fi, fo) = (fan_in as f64, fan_out as f64);
        Some(match self {
            Init::XavierNormal | Init::XavierUniform => 2.0 / (fi + fo),
            Init::HeNormal | Init::HeUniform | Init::KerasHeNormal => 2.0 / fi,
            Init::LecunNormal => 1.0 / fi,
            Init::TorchDefault => 1.0 / (3.0 * fi),
            Init::Normal(s) => s.unwrap_or(0.0).powi(2),
            Init::Uniform(a) => a.unwrap_or(0.0).powi(2) / 3.0,
            // Unit rows or columns along the longer side: mean square 1/max(fan_in, fan_out).
            Init::Orthogonal(g) => g.unwrap_or(1.0).powi(2) / fi.max(fo),
            Init::Zeros => 0.0,
            Init::Constant(_) => return None,
        })
    }

    /// Whether every weight of a kernel gets the same value (so units stay symmetric).
    pub fn is_constant(self) -> bool {
        matches!(self, Init::Zeros | Init::Constant(_))
    }

    /// Draws a `fan_in × fan_out` kernel, row by row. The rule's scale is worked out once,
    /// then each weight costs one draw.
    pub fn kernel<F: Real, R: Rng>(self, fan_in: usize, fan_out: usize, rng: &mut R) -> Array2<F> {
        let (fi, fo) = (fan_in as f64, fan_out as f64);
        let shape = (fan_in, fan_out);
        let normal = |std: f64, rng: &mut R| {
            Array2::from_shape_simple_fn(shape, || {
                F::of(std * rng.sample::<f64, _>(StandardNormal))
            })
        };
        let uniform = |limit: f64, rng: &mut R| {
            Array2::from_shape_simple_fn(shape, || F::of(uniform(rng, limit)))
        };
        match self {
            Init::XavierNormal => normal((2.0 / (fi + fo)).sqrt(), rng),
            Init::HeNormal => normal((2.0 / fi).sqrt(), rng),
            Init::LecunNormal => normal((1.0 / fi).sqrt(), rng),
            Init::Normal(s) => normal(s.unwrap_or(0.0), rng),
            Init::KerasHeNormal => {
                let scale = (2.0 / fi).sqrt() / TRUNCATED_NORMAL_STD;
                Array2::from_shape_simple_fn(shape, || {
                    loop {
                        // Re-draw beyond two standard deviations, as TensorFlow's truncated_normal.
                        let z: f64 = rng.sample(StandardNormal);
                        if z.abs() <= 2.0 {
                            return F::of(scale * z);
                        }
                    }
                })
            }
            Init::XavierUniform => uniform((6.0 / (fi + fo)).sqrt(), rng),
            Init::HeUniform => uniform((6.0 / fi).sqrt(), rng),
            Init::TorchDefault => uniform(1.0 / fi.sqrt(), rng),
            Init::Uniform(a) => uniform(a.unwrap_or(0.0), rng),
            Init::Orthogonal(g) => orthogonal(fan_in, fan_out, g.unwrap_or(1.0), rng),
            Init::Zeros => Array2::from_elem(shape, F::of(0.0)),
            Init::Constant(c) => Array2::from_elem(shape, F::of(c.unwrap_or(0.0))),
        }
    }
}

/// A `fan_in × fan_out` kernel with orthonormal columns (fan_in ≥ fan_out) or rows, times
/// `gain`: Q of the QR of a Gaussian matrix drawn row by row, each column of Q multiplied by
/// the sign of R's diagonal so that Q is uniform over the orthogonal group.
fn orthogonal<F: Real, R: Rng>(fan_in: usize, fan_out: usize, gain: f64, rng: &mut R) -> Array2<F> {
    let (tall, wide) = (fan_in.max(fan_out), fan_in.min(fan_out));
    let mut a = nalgebra::DMatrix::<f64>::zeros(tall, wide);
    for i in 0..tall {
        for j in 0..wide {
            a[(i, j)] = rng.sample(StandardNormal);
        }
    }
    let qr = a.qr();
    let (mut q, r) = (qr.q(), qr.r());
    // nalgebra 0.34's Householder QR already gives R a non-negative diagonal, so today this
    // flips nothing. It stays because the distribution depends on it: a QR that returned
    // negative diagonal entries (LAPACK's convention, another nalgebra) would leave Q
    // orthogonal but not uniform over the group, and nothing else would notice.
    for j in 0..wide {
        if r[(j, j)] < 0.0 {
            q.column_mut(j).neg_mut();
        }
    }
    Array2::from_shape_fn((fan_in, fan_out), |(i, j)| {
        let v = if fan_in >= fan_out {
            q[(i, j)]
        } else {
            q[(j, i)]
        };
        F::of(gain * v)
    })
}

/// One draw of U(−limit, limit).
fn uniform<R: Rng>(rng: &mut R, limit: f64) -> f64 {
    limit * (2.0 * rng.random::<f64>() - 1.0)
}

impl fmt::Display for Init {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let with = |f: &mut fmt::Formatter<'_>, name: &str, p: Option<f64>| match p {
            Some(p) => write!(f, "{name}:{}", crate::format::echo(p)),
            None => f.write_str(name),
        };
        match *self {
            Init::XavierNormal => f.write_str("xavier-normal"),
            Init::XavierUniform => f.write_str("xavier-uniform"),
            Init::HeNormal => f.write_str("he-normal"),
            Init::HeUniform => f.write_str("he-uniform"),
            Init::KerasHeNormal => f.write_str("keras-he-normal"),
            Init::LecunNormal => f.write_str("lecun-normal"),
            Init::TorchDefault => f.write_str("torch-default"),
            Init::Normal(s) => with(f, "normal", s),
            Init::Uniform(a) => with(f, "uniform", a),
            Init::Orthogonal(g) => with(f, "orthogonal", g),
            Init::Zeros => f.write_str("zeros"),
            Init::Constant(c) => with(f, "constant", c),
        }
    }
}

impl FromStr for Init {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let (name, param) = split_param(s)?;
        let plain = |i: Init| match param {
            None => Ok(i),
            Some(_) => Err(format!("initializer {} takes no parameter", quote(name))),
        };
        let positive = |what: &str| match param {
            Some(p) if p <= 0.0 => Err(format!("the {what} in {} must be positive", quote(s))),
            _ => Ok(param),
        };
        match name.to_ascii_lowercase().as_str() {
            "xavier-normal" | "glorot-normal" => plain(Init::XavierNormal),
            "xavier-uniform" | "glorot-uniform" => plain(Init::XavierUniform),
            "he-normal" | "kaiming-normal" => plain(Init::HeNormal),
            "he-uniform" | "kaiming-uniform" => plain(Init::HeUniform),
            "keras-he-normal" => plain(Init::KerasHeNormal),
            "lecun-normal" => plain(Init::LecunNormal),
            "torch-default" => plain(Init::TorchDefault),
            "normal" => Ok(Init::Normal(positive("standard deviation")?)),
            "uniform" => Ok(Init::Uniform(positive("limit")?)),
            "orthogonal" => Ok(Init::Orthogonal(positive("gain")?)),
            "zeros" | "zero" => plain(Init::Zeros),
            "constant" => Ok(Init::Constant(param)),
            _ => Err(format!(
                "unknown initializer {}{}; valid: {}",
                quote(name),
                crate::format::suggest(name, INIT_NAMES),
                INIT_NAMES.join(", ")
            )),
        }
    }
}

impl TryFrom<String> for Init {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        s.parse()
    }
}

impl From<Init> for String {
    fn from(i: Init) -> String {
        i.to_string()
    }
}

/// Redraws every hidden layer's biases i.i.d. N(0, σ_b²), first layer first, from the seed's
/// bias stream; the output layer's stay 0. σ_b = 0 leaves the network as built.
pub fn gaussian_biases<F: Real>(net: &mut super::Network<F>, std: f64, seed: u64) {
    if std == 0.0 {
        return;
    }
    let mut rng = super::rng::biases(seed);
    for layer in &mut net.hidden {
        layer
            .dense
            .b
            .mapv_inplace(|_| F::of(std * rng.sample::<f64, _>(StandardNormal)));
    }
}

/// Initializers' statistics and limits, and the orthogonal kernel's construction.
#[cfg(test)]
// Tests compare against std math; only the engine's own code must avoid it (clippy.toml).
#[allow(clippy::disallowed_methods)]
mod tests {
    use super::*;
    use crate::nn::rng;

    fn kernel(init: Init) -> Array2<f64> {
        init.kernel::<f64, _>(784, 256, &mut rng::layer(42, 0))
    }

    fn std_of(k: &Array2<f64>) -> f64 {
        let n = k.len() as f64;
        let mean = k.sum() / n;
        (k.mapv(|v| (v - mean).powi(2)).sum() / n).sqrt()
    }

    #[test]
    fn initializer_statistics_on_a_784_by_256_kernel() {
        let (fi, fo) = (784.0f64, 256.0f64);
        let cases = [
            (Init::XavierNormal, (2.0 / (fi + fo)).sqrt()),
            (Init::XavierUniform, (6.0 / (fi + fo)).sqrt() / 3f64.sqrt()),
            (Init::HeNormal, (2.0 / fi).sqrt()),
            (Init::HeUniform, (6.0 / fi).sqrt() / 3f64.sqrt()),
            (Init::KerasHeNormal, (2.0 / fi).sqrt()),
            (Init::LecunNormal, (1.0 / fi).sqrt()),
            (Init::TorchDefault, 1.0 / fi.sqrt() / 3f64.sqrt()),
            (Init::Normal(Some(0.05)), 0.05),
            (Init::Uniform(Some(0.2)), 0.2 / 3f64.sqrt()),
        ];
        for (init, want) in cases {
            let k = kernel(init);
            assert_eq!(k.dim(), (784, 256), "{init}: a kernel is fan_in × fan_out");
            let got = std_of(&k);
            assert!(
                (got / want - 1.0).abs() < 0.02,
                "{init}: std {got} vs rule {want}"
            );
            let var = init.variance(784, 256).unwrap();
            assert!(
                (var.sqrt() / want - 1.0).abs() < 1e-12,
                "{init}: variance rule"
            );
        }
    }

    #[test]
    fn uniform_samples_stay_within_their_limit() {
        let (fi, fo) = (784.0f64, 256.0f64);
        for (init, limit) in [
            (Init::XavierUniform, (6.0 / (fi + fo)).sqrt()),
            (Init::HeUniform, (6.0 / fi).sqrt()),
            (Init::TorchDefault, 1.0 / fi.sqrt()),
            (Init::Uniform(Some(0.2)), 0.2),
        ] {
            let k = kernel(init);
            let max = k.iter().fold(0.0f64, |m, v| m.max(v.abs()));
            assert!(max <= limit, "{init}: {max} beyond {limit}");
            assert!(
                max > 0.99 * limit,
                "{init}: samples should reach near the limit"
            );
        }
    }

    #[test]
    fn keras_he_normal_is_truncated_at_two_sigma() {
        let sigma = (2.0f64 / 784.0).sqrt() / TRUNCATED_NORMAL_STD;
        let k = kernel(Init::KerasHeNormal);
        let max = k.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        assert!(max <= 2.0 * sigma, "{max} beyond 2σ′ = {}", 2.0 * sigma);
        assert!(max > 1.95 * sigma, "the tails should reach close to 2σ′");
        // An untruncated He normal of this size has values beyond 2σ′ (a ~4.6% tail of σ).
        let plain = kernel(Init::HeNormal);
        assert!(plain.iter().any(|v| v.abs() > 2.0 * sigma));
    }

    #[test]
    fn constant_and_zero_kernels() {
        assert!(kernel(Init::Zeros).iter().all(|&v| v == 0.0));
        assert!(kernel(Init::Constant(Some(0.3))).iter().all(|&v| v == 0.3));
    }

    // Catches: Q not orthonormal (a wrong QR, Q and R confused), the wide case not transposed,
    // the gain left out, or a kernel that differs between two draws of one seed.
    #[test]
    fn orthogonal_kernels_have_orthonormal_columns_or_rows_times_the_gain() {
        for (fan_in, fan_out, gain) in [(64, 64, 1.0), (96, 40, 1.0), (24, 70, 2.5)] {
            let init = Init::Orthogonal(Some(gain));
            let w = init.kernel::<f64, _>(fan_in, fan_out, &mut rng::layer(7, 3));
            assert_eq!(w.dim(), (fan_in, fan_out));
            // Orthonormal along the shorter side: WᵀW = g²I (tall or square), WWᵀ = g²I (wide).
            let gram = if fan_in >= fan_out {
                w.t().dot(&w)
            } else {
                w.dot(&w.t())
            };
            let n = gram.nrows();
            for i in 0..n {
                for j in 0..n {
                    let want = if i == j { gain * gain } else { 0.0 };
                    assert!(
                        (gram[[i, j]] - want).abs() < 1e-10,
                        "{fan_in}×{fan_out}: gram[{i},{j}] = {}",
                        gram[[i, j]]
                    );
                }
            }
            let again = init.kernel::<f64, _>(fan_in, fan_out, &mut rng::layer(7, 3));
            assert_eq!(w, again, "the same stream gives the same kernel");
            // Var(W) as the theory uses it: mean square gain²/max(fan_in, fan_out).
            let mean_square = w.iter().map(|v| v * v).sum::<f64>() / w.len() as f64;
            let want = init.variance(fan_in, fan_out).unwrap();
            assert!(
                (mean_square - want).abs() < 1e-12,
                "{mean_square} vs {want}"
            );
        }
    }

    // Catches: a kernel that is not the Q (with R's diagonal positive, which makes Q unique and
    // uniform over the orthogonal group) of the Gaussian matrix drawn row by row from the layer's
    // stream: another draw order, or a Q whose R has a negative diagonal entry.
    #[test]
    fn orthogonal_kernel_is_the_sign_corrected_q_of_the_drawn_gaussian_matrix() {
        use rand::RngExt;
        use rand_distr::StandardNormal;
        let (n, m) = (12, 5);
        let w = Init::Orthogonal(None).kernel::<f64, _>(n, m, &mut rng::layer(1, 0));
        let mut draws = rng::layer(1, 0);
        let a = Array2::from_shape_simple_fn((n, m), || draws.sample::<f64, _>(StandardNormal));
        // A = QR with Q = W: R = WᵀA is upper triangular with a positive diagonal.
        let r = w.t().dot(&a);
        for i in 0..m {
            assert!(r[[i, i]] > 0.0, "R[{i},{i}] = {}", r[[i, i]]);
            for j in 0..i {
                assert!(r[[i, j]].abs() < 1e-10, "R[{i},{j}] = {}", r[[i, j]]);
            }
        }
        assert!((w.dot(&r) - &a).iter().all(|d| d.abs() < 1e-10), "QR = A");
    }
}
