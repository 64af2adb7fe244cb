//! Initializers, symmetry, reproducibility, optimizers and clipping.
// Tests compare against std math; only src/nn must avoid it (clippy.toml).
#![allow(clippy::disallowed_methods)]

use gradtutor::nn::init::TRUNCATED_NORMAL_STD;
use gradtutor::nn::network::Grads;
use gradtutor::nn::optim::{self, Optimizer, OptimizerState};
use gradtutor::nn::{Activation, Init, Network, Spec, loss, rng};
use gradtutor::{Precision, ProbeConfig, gaussian_batch};
use ndarray::Array2;

const GIB: u64 = 1 << 30;

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
    for f in &r.layers[..2] {
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
    assert!(r.layers[..2].iter().all(|f| f.unit_spread.unwrap() > 0.1));
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
            r.layers
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
    assert_eq!(r.layers.len(), 5);
    assert_eq!(r.layers[4].fan_out, 3);
    assert!(r.layers[..4].iter().all(|f| f.saturated.is_some()));
    assert!(r.layers[4].saturated.is_none());
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

// Catches: an orthogonal init whose variance the theory gets wrong, or a backward pass that
// changes the signal's norm (a stray factor, a gain): through linear layers with square
// orthogonal kernels the backprop signal keeps its norm exactly (χ = 1), layer after layer.
// Not a missing transpose (W is orthogonal too, and keeps the norm as Wᵀ does): the
// finite-difference tests in gradients.rs catch that.
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
    let out = r.layers.last().unwrap().signal_norm;
    for l in &r.layers {
        assert!(
            ((l.signal_norm - out) / out).abs() < 1e-12,
            "layer {}: ‖∂L/∂h‖ {} vs {out} at the output",
            l.layer,
            l.signal_norm
        );
    }
}

/// The sigmoid's select form, its block loop (`apply`, `forward`) and `f` give the bits of
/// the two-branch form 1/(1 + e^(−x)) for x ≥ 0, e^x/(1 + e^x) below, NaNs of either sign
/// included: every 997th f32 bit pattern and a million random f64 ones.
#[test]
fn sigmoid_is_the_two_branch_form_bit_for_bit() {
    fn check<F: gradtutor::nn::Real>(xs: Vec<F>, exp: fn(F) -> F) {
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
