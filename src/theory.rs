//! Mean-field predictions (Poole et al. 2016; Schoenholz et al. 2017) to set beside the probe.
//!
//! With σ_w² = fan_in · Var(W), the pre-activation variance follows
//! q_l = σ_w² · E[φ(h)²], h ~ N(0, q_(l−1)), and the backprop signal's squared norm is
//! multiplied per layer by χ_l = σ_w² · E[φ′(h)²]. Random biases of std σ_b add σ_b² to q_l.
//!
//! A recurrent run has its own theory: the linearized RNN's step back multiplies the signal
//! by diag(m)·W_hᵀ, so its spectral radius predicts the per-step factor ([`predict_steps`]).

use crate::nn::Activation;
use crate::nn::recurrent::CellKind;
use crate::probe::recurrent::{Recurrent, RecurrentFigures};
use crate::probe::{ProbeConfig, ProbeKind};
use serde::Serialize;

/// What mean-field theory predicts for a probe configuration.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Prediction {
    /// q_l, the predicted variance of h_l, for each hidden layer.
    pub q: Vec<f64>,
    /// χ_l for the step from layer l+1 back to layer l, l = 1 … depth.
    pub chi: Vec<f64>,
    /// Predicted log₁₀(‖∂L/∂h_1‖ / ‖∂L/∂logits‖) = Σ_l ½ log₁₀ χ_l.
    pub orders: f64,
    /// Geometric mean of √χ_l: the predicted per-layer factor of the signal norm.
    pub factor: f64,
}

/// Whether a theory describes `cfg`. For the MLP, mean-field theory: random, i.i.d. kernels
/// and nothing that rescales or bypasses a layer ([`predict`] succeeds exactly where this
/// does); for a recurrent run, the linearized RNN ([`predict_steps`]).
pub(crate) fn applies(cfg: &ProbeConfig) -> Result<(), String> {
    match &cfg.kind {
        ProbeKind::Mlp(_) => mean_field_applies(cfg),
        ProbeKind::Recurrent(r) => linearization_applies(r),
        ProbeKind::Attention(_) => Err(ATTENTION_NOT_MEAN_FIELD.into()),
    }
}

fn mean_field_applies(cfg: &ProbeConfig) -> Result<(), String> {
    if cfg.spec.batch_norm {
        return Err("batch norm rescales every layer by batch statistics".into());
    }
    if cfg.spec.block.layer_norm {
        return Err("layer norm rescales every example by its own statistics".into());
    }
    if cfg.spec.residual {
        return Err("skip connections add an identity path the i.i.d. theory leaves out".into());
    }
    if cfg.spec.init.is_constant() || cfg.spec.output_init.is_constant() {
        return Err("a constant kernel is not random: every unit computes the same thing".into());
    }
    Ok(())
}

/// The mean-field prediction for an MLP probe, or why the theory does not apply to this
/// configuration ([`applies`]).
pub fn predict(cfg: &ProbeConfig) -> Result<Prediction, String> {
    let bias_std = match &cfg.kind {
        ProbeKind::Mlp(m) => m.bias_std,
        ProbeKind::Recurrent(_) => {
            return Err("mean-field theory describes layers, not steps: see predict_steps".into());
        }
        ProbeKind::Attention(_) => return Err(ATTENTION_NOT_MEAN_FIELD.into()),
    };
    mean_field_applies(cfg)?;
    let fans = cfg.spec.fans();
    let var = |l: usize, init: crate::nn::Init| -> f64 {
        let (i, o) = fans[l];
        i as f64 * init.variance(i, o).unwrap_or(0.0)
    };
    let depth = cfg.depth();
    let sigma2 = |l: usize| {
        if l < depth {
            var(l, cfg.spec.init)
        } else {
            var(l, cfg.spec.output_init)
        }
    };
    let phi = cfg.spec.activation;
    let sb2 = bias_std * bias_std;
    let mut q = Vec::with_capacity(depth);
    // X has unit-variance entries, so E[x²] = 1 for the first layer.
    let mut q_l = sigma2(0) + sb2;
    let mut chi = Vec::with_capacity(depth);
    for l in 0..depth {
        q.push(q_l);
        let next = sigma2(l + 1);
        chi.push(next * gaussian_mean(q_l, |h| phi.df(h).powi(2)));
        q_l = next * gaussian_mean(q_l, |h| phi.f(h).powi(2)) + sb2;
    }
    let orders: f64 = chi.iter().map(|c| 0.5 * libm::log10(*c)).sum();
    Ok(Prediction {
        q,
        chi,
        orders,
        factor: libm::pow(10.0, orders / depth as f64),
    })
}

/// Why an attention head has no mean-field line: its theory is [`attention_logit_variance`].
const ATTENTION_NOT_MEAN_FIELD: &str =
    "one attention head has no layers to chain; its theory is the logits' variance";

/// E[z²] of the logits z = qᵀk / c of an attention head (`probe/attention.rs`): tokens
/// x ~ N(0, I_n), W_Q and W_K with i.i.d. N(0, v) entries (v = Var(W) of the initializer
/// at fan-in n, fan-out d_k), so q and k have σ_q² = σ_k² = n·v per component. For two
/// tokens t ≠ u, E[(qᵀk)²] = d_k·σ_q²·σ_k²; for t = u the fourth moments add 2/n of it
/// (E[(xᵀMx)²] = (tr M)² + ‖M‖_F² + tr M² with M = W_Q W_Kᵀ); over the T² logits of a
/// sequence, of which T are t = u: E[z²] = d_k·σ_q²·σ_k²·(1 + 2/(n·T)) / c². E z = 0, so
/// this is the variance. None for an initializer without a variance (a constant kernel).
pub(crate) fn attention_logit_variance(cfg: &ProbeConfig) -> Option<f64> {
    let ProbeKind::Attention(a) = &cfg.kind else {
        return None;
    };
    let n = cfg.spec.input;
    let sigma2 = n as f64 * cfg.spec.init.variance(n, a.d_k)?;
    let c = a.scale.divisor(a.d_k);
    let diagonal = 1.0 + 2.0 / (n as f64 * a.seq_len as f64);
    Some(a.d_k as f64 * sigma2 * sigma2 * diagonal / (c * c))
}

/// Whether the linearized RNN describes a recurrent probe: not an LSTM's.
fn linearization_applies(r: &Recurrent) -> Result<(), String> {
    match r.cell {
        CellKind::Rnn => Ok(()),
        CellKind::Lstm => Err(
            "an LSTM's gradient also runs along the cell path c_t = f ⊙ \
                               c_(t−1) + i ⊙ g, which the linearized RNN does not describe"
                .into(),
        ),
    }
}

/// The linearized RNN's per-step factor of ‖∂L/∂h_t‖ and its log₁₀ over the T − 1 steps back.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct StepPrediction {
    pub factor: f64,
    pub orders: f64,
}

/// The linearized RNN's prediction for a measured run `f`: the per-step factor is the
/// spectral radius ρ of diag(m)·W_hᵀ (see [`Spectrum`](crate::probe::recurrent::Spectrum)),
/// so over T − 1 steps the signal changes by (T − 1)·log₁₀ ρ orders.
pub(crate) fn predict_steps(r: &Recurrent, f: &RecurrentFigures) -> Result<StepPrediction, String> {
    linearization_applies(r)?;
    let Some(sp) = &f.spectrum else {
        return Err("a value is not finite, so the linearization has no spectrum".into());
    };
    if f.steps.len() < 2 {
        return Err("a sequence of one step has no per-step factor".into());
    }
    let gaps = (f.steps.len() - 1) as f64;
    Ok(StepPrediction {
        factor: sp.spectral_radius,
        orders: gaps * libm::log10(sp.spectral_radius),
    })
}

/// q*, the fixed point of q = σ_w²·E[φ(h)²] + σ_b², h ~ N(0, q), that deep layers settle
/// at, by bisection on [0, σ_w² + σ_b²] (a bounded φ with |φ| ≤ 1 keeps q* there); 0 when
/// the map shrinks every q > 0 (σ_b = 0 with σ_w² ≤ 1/E[φ′(0)²]).
pub(crate) fn fixed_point(phi: Activation, sw2: f64, sb2: f64) -> f64 {
    let gap = |q: f64| sw2 * gaussian_mean(q, |h| phi.f(h).powi(2)) + sb2 - q;
    let (lo, hi) = (0.0, sw2 + sb2);
    if gap(hi) > 0.0 {
        return hi;
    }
    if sb2 == 0.0 && gap(1e-12) <= 0.0 {
        return 0.0;
    }
    let (lo, hi) = bisect(lo, hi, 200, |q| gap(q) > 0.0);
    0.5 * (lo + hi)
}

/// χ* = σ_w²·E[φ′(h)²], h ~ N(0, q*): the per-layer factor on the squared backprop signal
/// once the forward pass has settled at its fixed point.
pub(crate) fn chi_at_fixed_point(phi: Activation, sigma_w: f64, sigma_b: f64) -> f64 {
    let (sw2, sb2) = (sigma_w * sigma_w, sigma_b * sigma_b);
    let q = fixed_point(phi, sw2, sb2);
    sw2 * gaussian_mean(q, |h| phi.df(h).powi(2))
}

/// The σ_w on the order-to-chaos line χ* = 1 for a given σ_b, by bisection on
/// [0.05, 20] (χ* grows with σ_w for tanh); `None` if χ* does not cross 1 there. Each
/// (φ, σ_b) is worked out once per process: an experiment asks again for every network.
pub(crate) fn critical_sigma_w(phi: Activation, sigma_b: f64) -> Option<f64> {
    type Known = Vec<((Activation, u64), Option<f64>)>;
    static KNOWN: std::sync::Mutex<Known> = std::sync::Mutex::new(Vec::new());
    let key = (phi, sigma_b.to_bits());
    let known = |k: &Known| k.iter().find(|(at, _)| *at == key).map(|&(_, v)| v);
    if let Some(v) = known(&KNOWN.lock().unwrap_or_else(|e| e.into_inner())) {
        return v;
    }
    let v = solve_critical_sigma_w(phi, sigma_b);
    KNOWN
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push((key, v));
    v
}

fn solve_critical_sigma_w(phi: Activation, sigma_b: f64) -> Option<f64> {
    let chi = |sw: f64| chi_at_fixed_point(phi, sw, sigma_b) - 1.0;
    let (lo, hi) = (0.05, 20.0);
    if chi(lo) > 0.0 || chi(hi) < 0.0 {
        return None;
    }
    let (lo, hi) = bisect(lo, hi, 100, |sw| chi(sw) < 0.0);
    Some(0.5 * (lo + hi))
}

/// `rounds` halvings of [lo, hi], keeping the half whose lower end satisfies `below`. Stops
/// early once a halving leaves both ends unchanged (the ends are adjacent floats): every
/// later round would too, so the result is exactly that of all `rounds`.
fn bisect(mut lo: f64, mut hi: f64, rounds: usize, below: impl Fn(f64) -> bool) -> (f64, f64) {
    for _ in 0..rounds {
        let mid = 0.5 * (lo + hi);
        let next = match below(mid) {
            true => (mid, hi),
            false => (lo, mid),
        };
        if next == (lo, hi) {
            break;
        }
        (lo, hi) = next;
    }
    (lo, hi)
}

/// ξ = −1/ln χ: the depth over which the squared backprop signal changes by a factor e
/// (χ^ξ = 1/e below χ = 1; read as a growth scale, 1/ln χ, above it), `None` at χ = 1.
pub(crate) fn depth_scale(chi: f64) -> Option<f64> {
    let l = libm::log(chi);
    (l != 0.0 && l.is_finite()).then(|| 1.0 / l.abs())
}

/// E[f(h)] for h ~ N(0, q): Gauss–Legendre on panels of each half-line z ∈ [0, 12]
/// (h = ±√q z), so a derivative that jumps at 0 (ReLU′) is integrated as exactly as a smooth
/// one; the value at z = 0 is never sampled.
pub fn gaussian_mean(q: f64, f: impl Fn(f64) -> f64) -> f64 {
    if q <= 0.0 {
        return f(0.0);
    }
    let s = q.sqrt();
    let mut sum = 0.0;
    for &(z, w) in half_line_rule() {
        sum += w * (f(s * z) + f(-s * z));
    }
    sum
}

/// Gauss–Legendre points per panel: each panel's rule is exact for polynomials of degree 15.
const POINTS: usize = 8;
/// The half-line ends where the density is below 1e−31.
const Z_MAX: f64 = 12.0;
/// Panels halve toward z = 0 this many times below z = 1, so f(√q z) stays resolved where it
/// turns over at z ~ 1/√q for q up to ~1e10.
const HALVINGS: i32 = 18;

/// (z_k, w_k · pdf(z_k)) for the nodes of [`gaussian_mean`], computed once: panels of width 1
/// on [1, 12], then [2⁻ᵏ⁻¹, 2⁻ᵏ] down to 2⁻¹⁸, then [0, 2⁻¹⁸].
fn half_line_rule() -> &'static [(f64, f64)] {
    static RULE: std::sync::OnceLock<Vec<(f64, f64)>> = std::sync::OnceLock::new();
    RULE.get_or_init(|| {
        let (x, w) = gauss_legendre(POINTS);
        let pdf = |z: f64| libm::exp(-0.5 * z * z) * 0.398_942_280_401_432_7;
        let mut edges = vec![0.0];
        edges.extend((0..=HALVINGS).rev().map(|k| 0.5f64.powi(k)));
        edges.extend((2..=Z_MAX as i32).map(f64::from));
        edges
            .windows(2)
            .flat_map(|e| {
                let (mid, half) = (0.5 * (e[0] + e[1]), 0.5 * (e[1] - e[0]));
                x.iter().zip(&w).map(move |(&x, &w)| {
                    let z = mid + half * x;
                    (z, half * w * pdf(z))
                })
            })
            .collect()
    })
}

/// Nodes and weights of the n-point Gauss–Legendre rule on [−1, 1]: the roots of P_n by Newton's
/// method from Chebyshev guesses, w_i = 2 / ((1 − x_i²) P_n′(x_i)²).
fn gauss_legendre(n: usize) -> (Vec<f64>, Vec<f64>) {
    let (mut xs, mut ws) = (Vec::with_capacity(n), Vec::with_capacity(n));
    for i in 0..n {
        let mut x = libm::cos(std::f64::consts::PI * (i as f64 + 0.75) / (n as f64 + 0.5));
        let mut dp = 1.0;
        for _ in 0..100 {
            // P_n(x) and P_n′(x) by the three-term recurrence.
            let (mut p0, mut p1) = (1.0, x);
            for k in 2..=n {
                let k = k as f64;
                (p0, p1) = (p1, ((2.0 * k - 1.0) * x * p1 - (k - 1.0) * p0) / k);
            }
            dp = n as f64 * (x * p1 - p0) / (x * x - 1.0);
            let step = p1 / dp;
            x -= step;
            if step.abs() < 1e-16 {
                break;
            }
        }
        xs.push(x);
        ws.push(2.0 / ((1.0 - x * x) * dp * dp));
    }
    (xs, ws)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// E[z²] = d_k·σ⁴·(1 + 2/(n·T))/c² with Xavier's σ² = 2n/(n + d_k), against a Monte
    /// Carlo estimate in f64: 20,000 draws of W_Q, W_K (n = 6, d_k = 3) and of T = 2 tokens,
    /// every logit's square averaged; the diagonal's extra 2/n is what a formula without it
    /// (d_k·σ⁴ alone) would miss by 17 % here. Also the closed form at the defaults.
    #[test]
    fn the_attention_logits_variance_matches_a_monte_carlo_estimate() {
        use crate::nn::Init;
        use crate::probe::attention::AttnScale;
        let mut cfg = ProbeConfig::attention(3, 2, 6, 1);
        let ProbeKind::Attention(a) = &mut cfg.kind else {
            unreachable!()
        };
        a.scale = AttnScale::By(1.5);
        let theory = attention_logit_variance(&cfg).unwrap();
        let s2 = 6.0 * 2.0 / 9.0;
        assert!((theory - 3.0 * s2 * s2 * (1.0 + 2.0 / 12.0) / 2.25).abs() < 1e-12);
        let (mut sum, mut count) = (0.0, 0.0);
        for seed in 0..20_000u64 {
            let wq = Init::XavierNormal.kernel::<f64, _>(6, 3, &mut crate::nn::rng::layer(seed, 0));
            let wk = Init::XavierNormal.kernel::<f64, _>(6, 3, &mut crate::nn::rng::layer(seed, 1));
            let (x, _) = crate::nn::rng::gaussian_batch::<f64>(2, 6, 2, seed);
            let z = x.dot(&wq).dot(&x.dot(&wk).t()) / 1.5;
            sum += z.iter().map(|v| v * v).sum::<f64>();
            count += z.len() as f64;
        }
        let measured = sum / count;
        assert!(
            (measured / theory - 1.0).abs() < 0.04,
            "{measured} vs {theory}"
        );
        let without_diagonal = theory / (1.0 + 2.0 / 12.0);
        assert!((measured / without_diagonal - 1.0).abs() > 0.08);
        // The defaults' d_k = d_model = 1024, T = 32: σ² = 1, unscaled E[z²] = 1024 + 1/16.
        let mut cfg = ProbeConfig::attention(1024, 32, 1024, 4);
        if let ProbeKind::Attention(a) = &mut cfg.kind {
            a.scale = AttnScale::None;
        }
        assert_eq!(attention_logit_variance(&cfg), Some(1024.0625));
    }

    /// The early stop returns what every one of the rounds would have: a plain loop of all
    /// `rounds` halvings is the reference, on a root, on an end and on a NaN predicate.
    #[test]
    fn bisect_stops_early_with_the_result_of_every_round() {
        let full = |lo: f64, hi: f64, rounds: usize, below: &dyn Fn(f64) -> bool| {
            let (mut lo, mut hi) = (lo, hi);
            for _ in 0..rounds {
                let mid = 0.5 * (lo + hi);
                if below(mid) {
                    lo = mid;
                } else {
                    hi = mid;
                }
            }
            (lo, hi)
        };
        type Case<'a> = (f64, f64, &'a dyn Fn(f64) -> bool);
        let cases: [Case; 4] = [
            (0.0, 4.0, &|x| x * x < 2.0),
            (0.05, 20.0, &|x| x < 1.0 / 3.0),
            (0.0, 1.0, &|_| true),
            (0.0, 1.0, &|x| (x - f64::NAN) < 0.0),
        ];
        for (lo, hi, below) in cases {
            for rounds in [0, 1, 30, 100, 200] {
                let got = bisect(lo, hi, rounds, below);
                let want = full(lo, hi, rounds, below);
                assert_eq!(got.0.to_bits(), want.0.to_bits());
                assert_eq!(got.1.to_bits(), want.1.to_bits());
            }
        }
        // And it does stop at adjacent floats around the root.
        let (lo, hi) = bisect(0.0, 4.0, 200, |x| x * x < 2.0);
        assert!(lo * lo < 2.0 && hi * hi >= 2.0 && hi == lo.next_up());
    }

    #[test]
    fn gauss_legendre_integrates_polynomials_of_degree_2n_minus_1_exactly() {
        let (x, w) = gauss_legendre(POINTS);
        assert!((w.iter().sum::<f64>() - 2.0).abs() < 1e-14);
        for k in 0..2 * POINTS {
            let exact = if k % 2 == 1 {
                0.0
            } else {
                2.0 / (k as f64 + 1.0)
            };
            let got: f64 = x.iter().zip(&w).map(|(x, w)| w * x.powi(k as i32)).sum();
            assert!((got - exact).abs() < 1e-14, "x^{k}: {got} vs {exact}");
        }
    }

    /// The dense composite-Simpson integral the predictions were first computed with, as the
    /// reference the faster rule must reproduce.
    fn simpson_mean(q: f64, f: impl Fn(f64) -> f64) -> f64 {
        // 1200 steps as before; finer where √q is so large that f turns over within a step.
        let n = if q <= 100.0 { 1200 } else { 240_000 };
        let step = Z_MAX / n as f64;
        let s = q.sqrt();
        let density = |z: f64| libm::exp(-0.5 * z * z) * 0.398_942_280_401_432_7;
        let half = |sign: f64| {
            let g = |z: f64| f(sign * s * z) * density(z);
            let mut sum = f(sign * f64::MIN_POSITIVE) * density(0.0) + g(Z_MAX);
            for k in 1..n {
                let w = if k % 2 == 1 { 4.0 } else { 2.0 };
                sum += w * g(k as f64 * step);
            }
            sum * step / 3.0
        };
        half(1.0) + half(-1.0)
    }

    // Catches: a fixed point off the map, a critical line that misses its closed form: with
    // σ_b = 0, q* = 0 for σ_w ≤ 1 and tanh′(0) = 1, so χ* = σ_w² and the line starts at 1.
    #[test]
    fn the_tanh_critical_line_starts_at_sigma_w_one_and_bends_up_with_the_bias() {
        let tanh = Activation::Tanh;
        assert_eq!(fixed_point(tanh, 0.81, 0.0), 0.0);
        assert!((chi_at_fixed_point(tanh, 0.9, 0.0) - 0.81).abs() < 1e-12);
        assert!((critical_sigma_w(tanh, 0.0).unwrap() - 1.0).abs() < 1e-9);
        for sb in [0.05, 0.2, 0.5] {
            let sw = critical_sigma_w(tanh, sb).unwrap();
            assert!(
                (chi_at_fixed_point(tanh, sw, sb) - 1.0).abs() < 1e-9,
                "σ_b {sb}"
            );
            let q = fixed_point(tanh, sw * sw, sb * sb);
            let image = sw * sw * gaussian_mean(q, |h| libm::tanh(h).powi(2)) + sb * sb;
            assert!((image - q).abs() < 1e-12, "q* {q} maps to {image}");
            assert!(sw > 1.0, "σ_b {sb}: σ_w {sw}");
        }
        let a = critical_sigma_w(tanh, 0.1).unwrap();
        let b = critical_sigma_w(tanh, 0.4).unwrap();
        assert!(b > a);
        assert!((depth_scale(0.9).unwrap() - 9.491_221_581_029_903).abs() < 1e-9);
        assert_eq!(depth_scale(1.0), None);
    }

    // Catches: too few nodes for steep (large-q) integrands, a mis-scaled panel.
    #[test]
    fn agrees_with_the_dense_integral_for_every_activation_and_variance() {
        use crate::nn::Activation;
        let names = [
            "sigmoid",
            "tanh",
            "relu",
            "leaky-relu",
            "elu",
            "gelu",
            "selu",
            "linear",
        ];
        for name in names {
            let phi: Activation = name.parse().unwrap();
            for e in -6..=7 {
                let q = 10f64.powi(e) * 1.7;
                for (what, new, old) in [
                    (
                        "φ′²",
                        gaussian_mean(q, |h| phi.df(h).powi(2)),
                        simpson_mean(q, |h| phi.df(h).powi(2)),
                    ),
                    (
                        "φ²",
                        gaussian_mean(q, |h| phi.f(h).powi(2)),
                        simpson_mean(q, |h| phi.f(h).powi(2)),
                    ),
                ] {
                    let rel = ((new - old) / old).abs();
                    assert!(
                        rel < 1e-6,
                        "{name} E[{what}] at q {q}: {new} vs {old} ({rel:e})"
                    );
                }
            }
        }
    }
}
