//! Engine results pinned to hand-computed values: optimizer steps, mean-field closed forms,
//! and gradient clipping inside training. Each test states the wrong code it is there to catch.
// Tests compare against std math; only src/nn must avoid it (clippy.toml).
#![allow(clippy::disallowed_methods)]

use gradtutor::TrainSettings;
use gradtutor::nn::network::Grads;
use gradtutor::nn::optim::{self, Optimizer, OptimizerState};
use gradtutor::nn::{Activation, Init, Network, Spec, loss};
use gradtutor::{History, TrainConfig, train};
use gradtutor::{Prediction, predict};
use gradtutor::{ProbeConfig, gaussian_batch};
use ndarray::{Array2, ArrayD, Zip};

const GIB: u64 = 1 << 30;

// ---------------------------------------------------------------------------------------------
// Optimizer steps
// ---------------------------------------------------------------------------------------------

/// An input batch and its labels.
type Batch = (Array2<f64>, Vec<usize>);

/// A small ReLU network, a batch to take its gradient on, and a second batch for a second,
/// different gradient.
fn relu_problem() -> (Network<f64>, [Batch; 2]) {
    let spec = Spec {
        input: 6,
        hidden: vec![8, 8],
        outputs: 3,
        activation: Activation::Relu,
        init: Init::HeNormal,
        output_init: Init::XavierNormal,
        batch_norm: false,
        residual: false,
        block: Default::default(),
    };
    let net = Network::build(&spec, 11).unwrap();
    let batches = [
        gaussian_batch::<f64>(16, 6, 3, 11),
        gaussian_batch::<f64>(16, 6, 3, 12),
    ];
    (net, batches)
}

fn grads_of(net: &Network<f64>, (x, labels): &Batch) -> Grads<f64> {
    let tape = net.forward(x.clone());
    let (_, dl) = loss::softmax_cross_entropy(tape.logits.view(), labels);
    net.backward(&tape, dl, false).grads
}

/// Copies of every parameter tensor, in the optimizer's order.
fn params(net: &Network<f64>) -> Vec<ArrayD<f64>> {
    let mut copy = net.clone();
    copy.params_mut().iter().map(|p| p.to_owned()).collect()
}

/// Copies of every gradient tensor, in the optimizer's order.
fn tensors(g: &Grads<f64>) -> Vec<ArrayD<f64>> {
    g.tensors().iter().map(|t| t.to_owned()).collect()
}

/// Asserts that every parameter moved from `before` to `after` by `want` (entrywise) to
/// 1e−12 relative, allowing only the rounding of the final p − Δ. A wanted move of exactly 0
/// must leave the parameter bit-identical.
fn assert_moved(what: &str, before: &[ArrayD<f64>], after: &[ArrayD<f64>], want: &[ArrayD<f64>]) {
    assert_eq!(before.len(), want.len(), "{what}: one update per tensor");
    let mut checked = 0;
    for (i, ((b, a), w)) in before.iter().zip(after).zip(want).enumerate() {
        assert_eq!(b.shape(), w.shape());
        for ((idx, &b), (&a, &w)) in b.indexed_iter().zip(a.iter().zip(w.iter())) {
            if w == 0.0 {
                assert_eq!(
                    a.to_bits(),
                    b.to_bits(),
                    "{what}: tensor {i} {idx:?}: g = 0"
                );
            } else {
                let got = a - b;
                let tol = 1e-12 * w.abs() + f64::EPSILON * a.abs();
                assert!(
                    (got - w).abs() <= tol,
                    "{what}: tensor {i} {idx:?}: moved {got:e}, want {w:e}"
                );
            }
            checked += 1;
        }
    }
    assert!(checked > 100, "{what}: {checked} entries");
}

/// Sets one kernel entry's gradient to exactly 0, so the g = 0 case is always exercised.
fn with_a_zero(mut g: Grads<f64>) -> Grads<f64> {
    g.hidden[1].dense.dw[[2, 3]] = 0.0;
    g
}

// Catches: Adam without bias correction, ε inside √ or off √v̂, β misuse, t stuck at 1.
#[test]
fn adam_steps_match_the_hand_computed_update() {
    let (lr, b1, b2) = (0.01, 0.9, 0.999);
    // The default ε, and one as large as typical gradient entries so its placement is visible.
    for eps in [1e-8, 1e-3] {
        let kind = Optimizer::Adam {
            lr,
            beta1: b1,
            beta2: b2,
            eps,
        };
        if eps == 1e-8 {
            assert_eq!(
                kind,
                Optimizer::adam(lr),
                "adam(lr) uses β₁ 0.9, β₂ 0.999, ε 1e−8"
            );
        }
        let (mut net, batches) = relu_problem();
        let mut opt = OptimizerState::new(kind);
        let what = format!("Adam ε {eps:e}");

        // Step 1, with bias correction: m̂ = g, v̂ = g², so Δ = −η g / (|g| + ε).
        let g1 = with_a_zero(grads_of(&net, &batches[0]));
        let p0 = params(&net);
        opt.step(&mut net, &g1);
        let p1 = params(&net);
        let g1t = tensors(&g1);
        let want1: Vec<ArrayD<f64>> = g1t
            .iter()
            .map(|g| g.mapv(|g| -lr * g / (g.abs() + eps)))
            .collect();
        assert_moved(&format!("{what}, step 1"), &p0, &p1, &want1);
        if eps == 1e-8 {
            // Where ε is negligible step 1 is η·sign(g); without bias correction it would be
            // (1 − β₁)/√(1 − β₂) ≈ 3.16 times that. Make sure such entries are checked.
            let big = g1t.iter().flatten().filter(|g| g.abs() > 1e-4).count();
            assert!(big > 100);
        }

        // Steps 2 and 3 on other gradients, against the textbook recursion.
        let mut m: Vec<ArrayD<f64>> = g1t.iter().map(|g| g.mapv(|g| (1.0 - b1) * g)).collect();
        let mut v: Vec<ArrayD<f64>> = g1t.iter().map(|g| g.mapv(|g| (1.0 - b2) * g * g)).collect();
        let mut before = p1;
        for t in 2..=3i32 {
            let g = with_a_zero(grads_of(&net, &batches[(t % 2) as usize]));
            let gt = tensors(&g);
            let mut want = Vec::new();
            for ((m, v), g) in m.iter_mut().zip(&mut v).zip(&gt) {
                Zip::from(&mut *m)
                    .and(g)
                    .for_each(|m, &g| *m = b1 * *m + (1.0 - b1) * g);
                Zip::from(&mut *v)
                    .and(g)
                    .for_each(|v, &g| *v = b2 * *v + (1.0 - b2) * g * g);
                let mut d = m.clone();
                Zip::from(&mut d).and(&*v).for_each(|d, &v| {
                    let mhat = *d / (1.0 - b1.powi(t));
                    let vhat = v / (1.0 - b2.powi(t));
                    *d = -lr * mhat / (vhat.sqrt() + eps);
                });
                want.push(d);
            }
            opt.step(&mut net, &g);
            let after = params(&net);
            assert_moved(&format!("{what}, step {t}"), &before, &after, &want);
            before = after;
        }
    }
}

// Catches: SGD with the wrong sign, a mis-scaled learning rate, or any state between steps.
#[test]
fn sgd_steps_are_minus_lr_times_the_gradient() {
    let lr = 0.3;
    let (mut net, batches) = relu_problem();
    let mut opt = OptimizerState::new(Optimizer::Sgd { lr });
    for (step, batch) in batches.iter().enumerate() {
        let g = with_a_zero(grads_of(&net, batch));
        let before = params(&net);
        opt.step(&mut net, &g);
        let want: Vec<ArrayD<f64>> = tensors(&g).iter().map(|g| g.mapv(|g| -lr * g)).collect();
        assert_moved(
            &format!("SGD step {}", step + 1),
            &before,
            &params(&net),
            &want,
        );
    }
}

// Catches: momentum with dampening, Nesterov in place of v ← μv + g, or no carried velocity.
#[test]
fn momentum_steps_follow_v_equals_mu_v_plus_g() {
    let (lr, mu) = (0.05, 0.9);
    let (mut net, batches) = relu_problem();
    let mut opt = OptimizerState::new(Optimizer::Momentum { lr, momentum: mu });
    let mut vel: Option<Vec<ArrayD<f64>>> = None;
    for step in 0..3 {
        let g = with_a_zero(grads_of(&net, &batches[step % 2]));
        let gt = tensors(&g);
        let next: Vec<ArrayD<f64>> = match &vel {
            // The first velocity is the gradient itself (PyTorch, no dampening).
            None => gt.clone(),
            Some(v) => v.iter().zip(&gt).map(|(v, g)| v * mu + g).collect(),
        };
        let want: Vec<ArrayD<f64>> = next.iter().map(|v| v * -lr).collect();
        let before = params(&net);
        opt.step(&mut net, &g);
        assert_moved(
            &format!("momentum step {}", step + 1),
            &before,
            &params(&net),
            &want,
        );
        vel = Some(next);
    }
}

// ---------------------------------------------------------------------------------------------
// Mean-field theory against closed forms
// ---------------------------------------------------------------------------------------------

fn config(activation: Activation, init: Init, depth: usize, width: usize) -> ProbeConfig {
    let mut cfg = ProbeConfig::canonical(depth, width, 8, 10);
    cfg.spec.activation = activation;
    cfg.spec.init = init;
    cfg.spec.output_init = init;
    cfg
}

fn close(got: f64, want: f64, rel: f64) -> bool {
    (got - want).abs() <= rel * want.abs()
}

fn assert_all(what: &str, got: &[f64], want: &[f64], rel: f64) {
    assert_eq!(got.len(), want.len(), "{what}: one value per hidden layer");
    for (l, (&g, &w)) in got.iter().zip(want).enumerate() {
        assert!(close(g, w, rel), "{what}[{l}]: {g} vs {w}");
    }
}

/// The orders and factor that go with a list of χ.
fn assert_summary(what: &str, p: &Prediction, chi: &[f64]) {
    let orders: f64 = chi.iter().map(|c| 0.5 * c.log10()).sum();
    assert!(
        (p.orders - orders).abs() < 1e-9,
        "{what}: orders {}",
        p.orders
    );
    let factor = 10f64.powf(orders / chi.len() as f64);
    assert!(close(p.factor, factor, 1e-9), "{what}: factor {}", p.factor);
}

// Catches: σ_w² from fan_out or a wrong variance rule, a mis-normalized Gaussian mean.
#[test]
fn linear_units_with_lecun_weights_keep_every_variance_at_one() {
    let cfg = config(Activation::Linear, Init::LecunNormal, 7, 24);
    let p = predict(&cfg).unwrap();
    assert_all("χ", &p.chi, &[1.0; 7], 1e-9);
    assert_all("q", &p.q, &[1.0; 7], 1e-9);
    assert!(p.orders.abs() < 1e-9, "orders {}", p.orders);
    assert!((p.factor - 1.0).abs() < 1e-9);
}

// Catches: q not starting at σ_w,1², and χ_l using layer l's σ_w² instead of layer l+1's.
#[test]
fn linear_variance_recursion_and_the_last_chi_uses_the_output_init() {
    let std = 0.4;
    let mut cfg = config(Activation::Linear, Init::Normal(Some(std)), 5, 8);
    cfg.spec.input = 5; // σ_w,1² = 5·0.16 = 0.8; the hidden layers have 8·0.16 = 1.28.
    cfg.spec.output_init = Init::Normal(Some(0.25)); // σ_w,out² = 8·0.0625 = 0.5.
    let p = predict(&cfg).unwrap();
    let (first, hidden, out) = (5.0 * std * std, 8.0 * std * std, 8.0 * 0.25 * 0.25);
    let q: Vec<f64> = (0..5).map(|l| first * hidden.powi(l)).collect();
    assert_all("q", &p.q, &q, 1e-9);
    let chi = [hidden, hidden, hidden, hidden, out];
    assert_all("χ", &p.chi, &chi, 1e-9);
    assert_summary("linear", &p, &chi);
}

// Catches: ReLU's χ = σ_w² instead of σ_w²/2 (ReLU′ = 1 both sides, or one half-line doubled).
#[test]
fn relu_with_he_weights_is_critical() {
    let cfg = config(Activation::Relu, Init::HeNormal, 6, 32);
    let p = predict(&cfg).unwrap();
    assert_all("χ", &p.chi, &[1.0; 6], 1e-9);
    // q_1 = σ_w² = 2, then q_(l+1) = σ_w² · q_l / 2 = q_l.
    assert_all("q", &p.q, &[2.0; 6], 1e-9);
    assert!(p.orders.abs() < 1e-9);
}

// Catches: the ReLU χ/q errors at σ_w² ≠ 2, and σ_w² = n·std² with the wrong n.
#[test]
fn relu_with_a_fixed_std_has_chi_half_of_n_std_squared() {
    for (width, std) in [(20, 0.3), (50, 0.1), (16, 0.5)] {
        let cfg = config(Activation::Relu, Init::Normal(Some(std)), 5, width);
        let p = predict(&cfg).unwrap();
        let s2 = width as f64 * std * std;
        assert_all(
            &format!("χ n {width} std {std}"),
            &p.chi,
            &[s2 / 2.0; 5],
            1e-6,
        );
        let q: Vec<f64> = (0..5).map(|l| s2 * (s2 / 2.0).powi(l)).collect();
        assert_all(&format!("q n {width} std {std}"), &p.q, &q, 1e-6);
        assert_summary("relu", &p, &[s2 / 2.0; 5]);
    }
}

// Catches: tanh′ wrong near 0, or χ taken at the wrong q (it must be σ_w²(1 − 2q + 7q²)).
#[test]
fn tanh_at_small_variance_has_chi_close_to_sigma_w_squared() {
    let (width, std) = (16, 0.002);
    let cfg = config(Activation::Tanh, Init::Normal(Some(std)), 4, width);
    let p = predict(&cfg).unwrap();
    let s2 = width as f64 * std * std;
    assert!(p.q[0] < 1e-4, "q {:?}", p.q);
    for (l, (&chi, &q)) in p.chi.iter().zip(&p.q).enumerate() {
        assert!(close(chi, s2, 1e-3), "χ[{l}] {chi} vs σ_w² {s2}");
        // E[(1 − tanh²h)²] = 1 − 2q + 7q² − …
        let series = s2 * (1.0 - 2.0 * q + 7.0 * q * q);
        assert!(close(chi, series, 1e-9), "χ[{l}] {chi} vs series {series}");
    }
}

/// E[f(√q z)] for z ~ N(0, 1), by the trapezoid rule on z ∈ [−12, 12] (spectrally accurate
/// for the smooth integrands used here).
fn trapezoid_mean(q: f64, f: impl Fn(f64) -> f64) -> f64 {
    const N: usize = 9600;
    let (a, h) = (-12.0, 24.0 / N as f64);
    let s = q.sqrt();
    let g = |z: f64| f(s * z) * (-0.5 * z * z).exp() / (2.0 * std::f64::consts::PI).sqrt();
    let inner: f64 = (1..N).map(|k| g(a + k as f64 * h)).sum();
    h * (inner + 0.5 * (g(a) + g(-a)))
}

/// (q, χ) of the mean-field recursion with every σ_w² equal, X of unit variance, computed
/// here from the activation's own formulas rather than the crate's.
fn reference(s2: f64, depth: usize, phi: fn(f64) -> f64, dphi: fn(f64) -> f64) -> [Vec<f64>; 2] {
    let (mut q, mut chi) = (Vec::new(), Vec::new());
    let mut q_l = s2;
    for _ in 0..depth {
        q.push(q_l);
        chi.push(s2 * trapezoid_mean(q_l, |h| dphi(h).powi(2)));
        q_l = s2 * trapezoid_mean(q_l, |h| phi(h).powi(2));
    }
    [q, chi]
}

fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

// Catches: a wrong σ′ or tanh′ in theory, or a q recursion that feeds χ the wrong variance.
#[test]
fn sigmoid_with_xavier_matches_an_independent_integration() {
    let depth = 6;
    // classes = width: every layer, the output layer included, is square, so σ_w² = 1.
    let mut cfg = ProbeConfig::canonical(depth, 32, 8, 32);
    cfg.spec.activation = Activation::Sigmoid;
    cfg.spec.init = Init::XavierNormal;
    cfg.spec.output_init = Init::XavierNormal;
    let p = predict(&cfg).unwrap();
    let [q, chi] = reference(1.0, depth, sigmoid, |x| sigmoid(x) * (1.0 - sigmoid(x)));
    assert_all("sigmoid q", &p.q, &q, 1e-6);
    assert_all("sigmoid χ", &p.chi, &chi, 1e-6);
    assert_summary("sigmoid", &p, &p.chi.clone());
    // Sigmoid with σ_w² = 1 settles at χ ≈ 0.056 (a factor √χ ≈ 0.24 per layer).
    let last = *p.chi.last().unwrap();
    assert!((last - 0.056).abs() < 0.0005, "settled χ {last}");

    // Tanh at σ_w² = 1 (LeCun), where q is not small: the same independent integration.
    let cfg = config(Activation::Tanh, Init::LecunNormal, depth, 32);
    let p = predict(&cfg).unwrap();
    let [q, chi] = reference(1.0, depth, f64::tanh, |x| 1.0 - x.tanh().powi(2));
    assert_all("tanh q", &p.q, &q, 1e-6);
    assert_all("tanh χ", &p.chi, &chi, 1e-6);
}

// ---------------------------------------------------------------------------------------------
// Clipping
// ---------------------------------------------------------------------------------------------

fn settings(args: &[(&str, &str)]) -> TrainSettings {
    let mut text = String::new();
    for (k, v) in args {
        text.push_str(&format!("{k} = {v}\n"));
    }
    toml::from_str(&text).unwrap()
}

/// One ReLU/He configuration, small and quick; `extra` adds or replaces settings.
fn small(extra: &[(&str, &str)]) -> TrainConfig {
    let mut args = vec![
        ("depth", "3"),
        ("width", "16"),
        ("steps", "60"),
        ("samples", "400"),
        ("compare", "\"relu/he-normal\""),
    ];
    for &(k, v) in extra {
        args.retain(|(key, _)| *key != k);
        args.push((k, v));
    }
    settings(&args).config().unwrap()
}

fn run(cfg: &TrainConfig) -> History {
    let mut r = train(cfg, GIB, &|_| {}).unwrap();
    assert_eq!(r.runs.len(), 1);
    r.runs.remove(0)
}

// Catches: training that records a clip but does not apply it, or clips below the limit too.
#[test]
fn clipping_in_training_caps_every_step_and_changes_the_run() {
    let c = 0.02;
    let clipped = run(&small(&[("clip-norm", "0.02")]));
    let free = run(&small(&[]));
    assert!(clipped.diverged.is_none() && free.diverged.is_none());
    assert!(
        free.clipped_grad_norms.is_empty(),
        "nothing clipped, nothing recorded"
    );
    assert_eq!(clipped.global_grad_norms.len(), 60);
    assert_eq!(clipped.clipped_grad_norms.len(), 60);
    for (i, (&g, &after)) in clipped
        .global_grad_norms
        .iter()
        .zip(&clipped.clipped_grad_norms)
        .enumerate()
    {
        assert!(g > c, "step {}: norm {g} should be clipped", i + 1);
        let want = g.min(c);
        assert!(close(after, want, 1e-5), "step {}: {g} → {after}", i + 1);
    }
    // Same data, same init: step 1 sees the same gradient; its update then differs.
    assert_eq!(clipped.losses[0].to_bits(), free.losses[0].to_bits());
    assert_eq!(
        clipped.global_grad_norms[0].to_bits(),
        free.global_grad_norms[0].to_bits()
    );
    assert_ne!(clipped.losses[1], free.losses[1]);
    assert_ne!(clipped.global_grad_norms[1], free.global_grad_norms[1]);

    // A limit above every norm changes nothing at all.
    let loose = run(&small(&[("clip-norm", "1e6")]));
    assert_eq!(loose.losses, free.losses);
    assert_eq!(loose.clipped_grad_norms, loose.global_grad_norms);
}

// Catches: stepping with the unclipped gradient, or a coefficient other than c/(‖g‖ + 1e−6).
#[test]
fn a_clipped_sgd_step_moves_every_layer_by_the_clip_coefficient() {
    let extra = [
        ("optimizer", "\"sgd\""),
        ("precision", "\"f64\""),
        ("steps", "1"),
    ];
    let free = run(&small(&extra));
    let mut with_clip = extra.to_vec();
    with_clip.push(("clip-norm", "0.02"));
    let clipped = run(&small(&with_clip));
    let g = free.global_grad_norms[0];
    let coef = 0.02 / (g + 1e-6);
    assert!(coef < 0.5, "the step must be clipped hard (norm {g})");
    let (a, b) = (&clipped.checkpoints[0], &free.checkpoints[0]);
    assert_eq!(
        a.grad_norms, b.grad_norms,
        "grad_norms are taken before clipping"
    );
    for (l, (ra, rb)) in a.update_ratios.iter().zip(&b.update_ratios).enumerate() {
        assert!(
            close(ra / rb, coef, 1e-9),
            "layer {l}: {ra} / {rb} vs {coef}"
        );
    }
}

// Catches: value clipping that rescales, forgets a bound, or alters entries already inside.
#[test]
fn clipping_by_value_clamps_outside_entries_and_leaves_the_rest_bit_identical() {
    let (net, batches) = relu_problem();
    let original = grads_of(&net, &batches[0]);
    let mut all: Vec<f64> = original
        .tensors()
        .iter()
        .flatten()
        .map(|g| g.abs())
        .collect();
    all.sort_by(f64::total_cmp);
    let c = all[all.len() / 2]; // about half the entries lie outside
    let mut g = original.clone();
    optim::clip_grad_value(&mut g, c);
    let (mut inside, mut above, mut below) = (0, 0, 0);
    for (o, n) in original.tensors().iter().zip(g.tensors()) {
        for (&o, &n) in o.iter().zip(n.iter()) {
            assert!((-c..=c).contains(&n), "{o} → {n} outside ±{c}");
            if o.abs() <= c {
                assert_eq!(
                    n.to_bits(),
                    o.to_bits(),
                    "{o} was inside and must not change"
                );
                inside += 1;
            } else if o > 0.0 {
                assert_eq!(n, c);
                above += 1;
            } else {
                assert_eq!(n, -c);
                below += 1;
            }
        }
    }
    assert!(
        inside > 10 && above > 10 && below > 10,
        "{inside} {above} {below}"
    );
}

// ---------------------------------------------------------------------------------------------
// A configuration's own optimizer (`--compare ...@adam`) inside training
// ---------------------------------------------------------------------------------------------

// Catches: an `@adam` entry that trains with the comparison's optimizer (SGD's and momentum's
// first step is −η g, not −η g/(|g| + ε)), Adam's first step without bias correction
// (0.1 g/√(0.001 g²) ≈ 3.16 sign(g)), or the entries' optimizers swapped between runs.
//
// Full batch (300 of 300 training examples), so step 1's gradient g is the gradient of the
// whole training set, recomputed here. Adam's first step, m̂ = g and v̂ = g², is
// ΔW = −η g/(|g| + ε) ≈ −η sign(g); SGD's is −η g. Each layer's ‖ΔW‖/‖W‖ must match to 1e−9
// (single weights are not in the history; the layer norm pins every entry's step at once,
// exactly, with ε: here the first layer's largest |g| is about 4e−4, so −η sign(g) alone
// would be off by ε/|g| ≈ 2e−5, and more for smaller entries).
#[test]
fn an_at_adam_entry_takes_adams_first_step_and_an_at_sgd_entry_sgds() {
    let cfg = small(&[
        (
            "compare",
            "\"sigmoid/xavier-normal@sgd,sigmoid/xavier-normal@adam\"",
        ),
        ("precision", "\"f64\""),
        ("batch", "300"),
        ("steps", "1"),
        ("lr", "0.02"),
    ]);
    let report = train(&cfg, GIB, &|_| {}).unwrap();
    let data = gradtutor::Dataset::<f64>::generate(cfg.data.clone()).unwrap();
    assert_eq!(data.y_train.len(), 300, "the batch must be the whole set");
    let spec = cfg.probe_config(&cfg.variants[0]).spec;
    let net = Network::<f64>::build(&spec, cfg.seed).unwrap();
    let g = grads_of(&net, &(data.x_train.clone(), data.y_train.clone()));
    let (lr, eps) = (0.02, 1e-8);
    let weights: Vec<&Array2<f64>> = net
        .hidden
        .iter()
        .map(|l| &l.dense.w)
        .chain([&net.output.w])
        .collect();
    let dws: Vec<&Array2<f64>> = g
        .hidden
        .iter()
        .map(|l| &l.dense.dw)
        .chain([&g.output.dw])
        .collect();
    let l2 = |a: &Array2<f64>| a.iter().map(|x| x * x).sum::<f64>().sqrt();
    let [sgd, adam] = [&report.runs[0], &report.runs[1]];
    assert_eq!(sgd.label, "sigmoid/xavier-normal@sgd");
    assert_eq!(adam.label, "sigmoid/xavier-normal@adam");
    for (l, (w, dw)) in weights.iter().zip(&dws).enumerate() {
        let want_sgd = lr * l2(dw) / l2(w);
        let want_adam = lr * l2(&dw.mapv(|g| g / (g.abs() + eps))) / l2(w);
        let got_sgd = sgd.checkpoints[0].update_ratios[l];
        let got_adam = adam.checkpoints[0].update_ratios[l];
        assert!(
            close(got_sgd, want_sgd, 1e-9),
            "layer {l}: SGD {got_sgd} vs {want_sgd}"
        );
        assert!(
            close(got_adam, want_adam, 1e-9),
            "layer {l}: Adam {got_adam} vs {want_adam}"
        );
    }
}
