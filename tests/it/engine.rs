//! Initializers, symmetry, reproducibility, optimizers and clipping. Each initializer's
//! statistics and the activations' derivatives are tested beside them (src/nn/init.rs,
//! src/nn/activation.rs).
// Tests compare against std math; only src/nn must avoid it (clippy.toml).
#![allow(clippy::disallowed_methods)]

use gradtutor::nn::network::Grads;
use gradtutor::nn::optim::{self, Optimizer, OptimizerState};
use gradtutor::nn::{Activation, Init, Network, Spec, loss};
use gradtutor::{Precision, ProbeConfig, gaussian_batch};
use ndarray::Array2;

const GIB: u64 = 1 << 30;

fn std_of(k: &Array2<f64>) -> f64 {
    let n = k.len() as f64;
    let mean = k.sum() / n;
    (k.mapv(|v| (v - mean).powi(2)).sum() / n).sqrt()
}

#[test]
fn the_question_7_model_has_235146_parameters() {
    let spec = Spec {
        input: 784,
        hidden: vec![256, 128],
        outputs: 10,
        activation: Activation::Relu,
        init: Init::KerasHeNormal,
        output_init: Init::XavierUniform,
        batch_norm: false,
        residual: false,
        block: Default::default(),
    };
    assert_eq!(spec.fans(), vec![(784, 256), (256, 128), (128, 10)]);
    assert_eq!(spec.parameters(), 200_960 + 32_896 + 1_290);
}

#[test]
fn a_constant_initializer_gives_every_unit_the_same_gradient() {
    // Constant hidden kernels; an output kernel whose rows are equal (a random vector v
    // repeated), so ∂L/∂a is the same non-zero value for every hidden unit.
    let spec = Spec {
        input: 5,
        hidden: vec![6, 6],
        outputs: 3,
        activation: Activation::Tanh,
        init: Init::Constant(Some(0.1)),
        output_init: Init::XavierNormal,
        batch_norm: false,
        residual: false,
        block: Default::default(),
    };
    let mut net = Network::<f64>::build(&spec, 9).unwrap();
    let v = net.output.w.row(0).to_owned();
    for mut row in net.output.w.rows_mut() {
        row.assign(&v);
    }
    let (x, labels) = gaussian_batch::<f64>(8, 5, 3, 9);
    let r = gradtutor::measure_pass(&net, x, &labels, None);
    for f in &r.layers()[..2] {
        assert!(
            f.grad_norm > 1e-4,
            "layer {} gets a real gradient: {}",
            f.layer,
            f.grad_norm
        );
        let spread = f.unit_spread.unwrap();
        assert!(
            spread < 1e-12,
            "layer {}: units differ by {spread:e}",
            f.layer
        );
    }
    // A random initializer breaks the symmetry.
    let random = Network::<f64>::build(
        &Spec {
            init: Init::XavierNormal,
            ..spec
        },
        9,
    )
    .unwrap();
    let (x, labels) = gaussian_batch::<f64>(8, 5, 3, 9);
    let r = gradtutor::measure_pass(&random, x, &labels, None);
    assert!(r.layers()[..2].iter().all(|f| f.unit_spread.unwrap() > 0.1));
}

#[test]
fn same_seed_same_bits_different_seed_different_output() {
    for precision in [Precision::F32, Precision::F64] {
        let mut cfg = ProbeConfig::canonical(6, 32, 16, 10);
        cfg.precision = precision;
        cfg.spec.batch_norm = true;
        let a = gradtutor::probe(&cfg, GIB).unwrap();
        let b = gradtutor::probe(&cfg, GIB).unwrap();
        let bits = |r: &gradtutor::ProbeResult| -> Vec<u64> {
            r.layers()
                .iter()
                .flat_map(|f| [f.grad_norm, f.signal_norm, f.act_mean, f.act_std])
                .chain([r.loss])
                .map(f64::to_bits)
                .collect()
        };
        assert_eq!(
            bits(&a),
            bits(&b),
            "{precision}: same seed must give the same bits"
        );
        cfg.seed = 43;
        let c = gradtutor::probe(&cfg, GIB).unwrap();
        assert_ne!(
            bits(&a),
            bits(&c),
            "{precision}: another seed must give another network"
        );
    }
}

#[test]
fn probe_reports_each_layer_and_its_shape() {
    let cfg = ProbeConfig::canonical(4, 8, 5, 3);
    let r = gradtutor::probe(&cfg, GIB).unwrap();
    assert_eq!(r.layers().len(), 5);
    assert_eq!(r.layers()[4].fan_out, 3);
    assert!(r.layers()[..4].iter().all(|f| f.saturated.is_some()));
    assert!(r.layers()[4].saturated.is_none());
    // Uniform labels and small logits: the loss is close to ln 3.
    assert!((r.loss - 3f64.ln()).abs() < 0.3, "loss {}", r.loss);
}

#[test]
fn overflow_is_recorded_not_a_panic() {
    let mut cfg = ProbeConfig::canonical(80, 32, 8, 10);
    cfg.spec.activation = Activation::Relu;
    cfg.spec.init = Init::Normal(Some(1.0));
    let r = gradtutor::probe(&cfg, GIB).unwrap();
    let nf = r
        .nonfinite
        .expect("activations grow ≈ √(σ_w²/2) = 4× per layer: 4⁸⁰ ≈ 1e48 overflows f32");
    assert_eq!(nf.pass, gradtutor::Pass::Forward);
    assert!(nf.layer > 1 && nf.layer <= 81);
    assert!(
        r.loss.is_nan(),
        "the loss of an overflowed network is NaN, not {}",
        r.loss
    );
}

#[test]
fn impossible_sizes_and_huge_runs_are_refused() {
    let check = |cfg: ProbeConfig| gradtutor::probe(&cfg, 4 * GIB).unwrap_err().to_string();
    assert!(check(ProbeConfig::canonical(0, 8, 8, 10)).contains("depth"));
    assert!(check(ProbeConfig::canonical(2, 0, 8, 10)).contains("width"));
    assert!(check(ProbeConfig::canonical(2, 8, 0, 10)).contains("batch"));
    let mut bn = ProbeConfig::canonical(2, 8, 1, 10);
    bn.spec.batch_norm = true;
    assert!(check(bn).contains("batch norm"));
    let msg = check(ProbeConfig::canonical(100, 100_000, 64, 10));
    assert!(msg.contains("GiB") && msg.contains("--width"), "{msg}");
}

fn tiny_problem() -> (Network<f64>, Array2<f64>, Vec<usize>) {
    let spec = Spec {
        input: 6,
        hidden: vec![16, 16],
        outputs: 3,
        activation: Activation::Tanh,
        init: Init::XavierNormal,
        output_init: Init::XavierNormal,
        batch_norm: false,
        residual: false,
        block: Default::default(),
    };
    let net = Network::build(&spec, 5).unwrap();
    let (x, labels) = gaussian_batch::<f64>(32, 6, 3, 5);
    (net, x, labels)
}

fn loss_and_grads(net: &Network<f64>, x: &Array2<f64>, labels: &[usize]) -> (f64, Grads<f64>) {
    let tape = net.forward(x.clone());
    let (l, dl) = loss::softmax_cross_entropy(tape.logits.view(), labels);
    (l, net.backward(&tape, dl, false).grads)
}

#[test]
fn every_optimizer_reduces_the_loss() {
    for kind in [
        Optimizer::Sgd { lr: 0.5 },
        Optimizer::Momentum {
            lr: 0.1,
            momentum: 0.9,
        },
        Optimizer::adam(0.01),
    ] {
        let (mut net, x, labels) = tiny_problem();
        let mut opt = OptimizerState::new(kind);
        let (first, _) = loss_and_grads(&net, &x, &labels);
        for _ in 0..50 {
            let (_, g) = loss_and_grads(&net, &x, &labels);
            opt.step(&mut net, &g);
        }
        let (last, _) = loss_and_grads(&net, &x, &labels);
        assert!(last < 0.5 * first, "{kind:?}: loss {first} → {last}");
    }
}

#[test]
fn clipping_by_norm_bounds_the_global_norm() {
    let (net, x, labels) = tiny_problem();
    let (_, mut g) = loss_and_grads(&net, &x, &labels);
    let before = optim::global_norm(&g);
    let max_norm = before / 10.0;
    let reported = optim::clip_grad_norm(&mut g, max_norm);
    assert_eq!(reported, before);
    let after = optim::global_norm(&g);
    // PyTorch's rule scales by max_norm / (total + 1e−6): just under max_norm.
    let expected = before * (max_norm / (before + 1e-6));
    assert!(
        (after - expected).abs() < 1e-12 * expected,
        "{after} vs {expected}"
    );
    assert!(after <= max_norm);
    // Below the limit nothing changes.
    let (_, mut g2) = loss_and_grads(&net, &x, &labels);
    optim::clip_grad_norm(&mut g2, before * 2.0);
    assert_eq!(optim::global_norm(&g2), before);
}

#[test]
fn clipping_by_value_clamps_every_entry() {
    let (net, x, labels) = tiny_problem();
    let (_, mut g) = loss_and_grads(&net, &x, &labels);
    optim::clip_grad_value(&mut g, 1e-3);
    for t in g.tensors() {
        assert!(t.iter().all(|v| v.abs() <= 1e-3));
    }
    assert!(
        g.tensors()
            .iter()
            .any(|t| t.iter().any(|v| v.abs() == 1e-3))
    );
}

#[test]
fn gaussian_expectations_match_closed_forms() {
    use gradtutor::gaussian_mean;
    let relu = Activation::Relu;
    // E[ReLU′(h)²] = P(h > 0) = ½ and E[ReLU(h)²] = q/2, for any variance q.
    for q in [0.3, 1.0, 7.5] {
        let e = gaussian_mean(q, |h| relu.df(h).powi(2));
        assert!((e - 0.5).abs() < 1e-12, "q {q}: {e}");
        assert!((gaussian_mean(q, |h| relu.f(h).powi(2)) - q / 2.0).abs() < 1e-12 * q);
        assert!((gaussian_mean(q, |h| h * h) - q).abs() < 1e-12 * q);
    }
    assert_eq!(gaussian_mean(0.0, |h| Activation::Sigmoid.df(h)), 0.25);
}

#[test]
fn one_pass_statistics_match_the_two_pass_definitions() {
    // 1003 entries (not a multiple of the 8 lanes), far from 0 so a naive E[x²] − E[x]²
    // would cancel badly: mean 1e6, std about 0.29.
    let x = Array2::from_shape_fn((17, 59), |(i, j)| 1e6 + ((i * 59 + j) % 101) as f64 / 100.0);
    let n = x.len() as f64;
    let mean = x.sum() / n;
    let std = std_of(&x);
    let (m, s) = gradtutor::nn::mean_std(&x);
    assert!((m - mean).abs() <= 1e-9 * mean, "mean {m} vs {mean}");
    assert!((s - std).abs() <= 1e-9 * std, "std {s} vs {std}");
    let norm = x.mapv(|v| v * v).sum().sqrt();
    let got = gradtutor::nn::norm(&x);
    assert!((got - norm).abs() <= 1e-12 * norm, "norm {got} vs {norm}");
    // Entries whose squares leave f64's range still give the right norm.
    let huge = Array2::from_elem((3, 3), 1e200f64);
    assert!((gradtutor::nn::norm(&huge) / 3e200 - 1.0).abs() < 1e-12);
    let tiny = Array2::from_elem((3, 3), 1e-200f64);
    assert!((gradtutor::nn::norm(&tiny) / 3e-200 - 1.0).abs() < 1e-12);
    assert!(
        gradtutor::nn::mean_std(&Array2::from_elem((2, 2), f64::NAN))
            .1
            .is_nan()
    );
}

// Catches: an orthogonal init whose variance the theory gets wrong, or a backward pass that
// changes the signal's norm (a stray factor, a gain): through linear layers with square
// orthogonal kernels the backprop signal keeps its norm exactly (χ = 1), layer after layer.
// Not a missing transpose (W is orthogonal too, and keeps the norm as Wᵀ does): the
// finite-difference tests in src/nn/gradcheck.rs catch that.
#[test]
fn linear_layers_with_orthogonal_kernels_keep_the_signal_norm_exactly() {
    let mut cfg = ProbeConfig::canonical(12, 32, 16, 32);
    cfg.spec.activation = Activation::Linear;
    cfg.spec.init = Init::Orthogonal(None);
    cfg.spec.output_init = Init::Orthogonal(None);
    cfg.precision = Precision::F64;
    let p = gradtutor::predict(&cfg).unwrap();
    assert!(
        p.chi.iter().all(|c| (c - 1.0).abs() < 1e-12),
        "χ {:?}",
        p.chi
    );
    let r = gradtutor::probe(&cfg, 1 << 30).unwrap();
    let out = r.layers().last().unwrap().signal_norm;
    for l in r.layers() {
        assert!(
            ((l.signal_norm - out) / out).abs() < 1e-12,
            "layer {}: ‖∂L/∂h‖ {} vs {out} at the output",
            l.layer,
            l.signal_norm
        );
    }
}
