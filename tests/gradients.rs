//! Analytic backprop against central finite differences, in f64 on tiny networks.

use gradtutor::gaussian_batch;
use gradtutor::nn::batchnorm::BatchNorm;
use gradtutor::nn::dense::Dense;
use gradtutor::nn::loss;
use gradtutor::nn::network::Hidden;
use gradtutor::nn::{Activation, Init, Network, Spec};
use ndarray::{Array2, array};

/// Which loss the check differentiates.
#[derive(Clone, Copy)]
enum Loss {
    CrossEntropy,
    Mse,
}

fn loss_of(
    net: &Network<f64>,
    x: &Array2<f64>,
    labels: &[usize],
    target: &Array2<f64>,
    kind: Loss,
) -> f64 {
    let tape = net.forward(x.clone());
    match kind {
        Loss::CrossEntropy => loss::softmax_cross_entropy(tape.logits.view(), labels).0,
        Loss::Mse => loss::mean_squared_error(tape.logits.view(), target.view()).0,
    }
}

/// Worst relative error |analytic − numeric| / max(|analytic|, |numeric|, 1e−4) over every
/// parameter and over ∂L/∂x: the relative error wherever a gradient is at least 1e−4, and an
/// absolute error bound of 1e−10 below that (a bias feeding batch norm has gradient exactly 0,
/// where no relative error is defined). The numeric derivative is the fourth-order central
/// stencil [−f(x+2h) + 8f(x+h) − 8f(x−h) + f(x−2h)] / 12h with h = 1e−4: truncation O(h⁴)
/// and rounding ~1e−12.
fn worst_relative_error(spec: &Spec, kind: Loss, seed: u64) -> f64 {
    let batch = 6;
    let mut net = Network::<f64>::build(spec, seed).unwrap();
    // Non-trivial batch-norm parameters, so γ and β are tested away from 1 and 0.
    for (l, layer) in net.hidden.iter_mut().enumerate() {
        if let Some(bn) = &mut layer.bn {
            bn.gamma.mapv_inplace(|_| 0.7 + 0.1 * l as f64);
            bn.beta.mapv_inplace(|_| 0.2 - 0.05 * l as f64);
        }
        layer
            .dense
            .b
            .iter_mut()
            .enumerate()
            .for_each(|(i, b)| *b = 0.03 * i as f64 - 0.05);
    }
    let (x, labels) = gaussian_batch::<f64>(batch, spec.input, spec.outputs, seed);
    let (target, _) = gaussian_batch::<f64>(batch, spec.outputs, 2, seed + 1);

    let tape = net.forward(x.clone());
    let dlogits = match kind {
        Loss::CrossEntropy => loss::softmax_cross_entropy(tape.logits.view(), &labels).1,
        Loss::Mse => loss::mean_squared_error(tape.logits.view(), target.view()).1,
    };
    let back = net.backward(&tape, dlogits, true);
    let analytic: Vec<Vec<f64>> = back
        .grads
        .tensors()
        .iter()
        .map(|t| t.iter().copied().collect())
        .collect();

    let h = 1e-4;
    let rel = |a: f64, n: f64| (a - n).abs() / a.abs().max(n.abs()).max(1e-4);
    let mut worst: f64 = 0.0;
    for (k, grads) in analytic.iter().enumerate() {
        for (j, &a) in grads.iter().enumerate() {
            let at = |delta: f64| {
                let mut probe = net.clone();
                let mut params = probe.params_mut();
                *params[k].iter_mut().nth(j).unwrap() += delta;
                drop(params);
                loss_of(&probe, &x, &labels, &target, kind)
            };
            let n = (-at(2.0 * h) + 8.0 * at(h) - 8.0 * at(-h) + at(-2.0 * h)) / (12.0 * h);
            worst = worst.max(rel(a, n));
        }
    }
    let dx = back.input_grad.expect("asked for ∂L/∂x");
    for (j, &a) in dx.iter().enumerate() {
        let at = |delta: f64| {
            let mut xp = x.clone();
            *xp.iter_mut().nth(j).unwrap() += delta;
            loss_of(&net, &xp, &labels, &target, kind)
        };
        let n = (-at(2.0 * h) + 8.0 * at(h) - 8.0 * at(-h) + at(-2.0 * h)) / (12.0 * h);
        worst = worst.max(rel(a, n));
    }
    worst
}

fn spec(activation: Activation, batch_norm: bool, residual: bool) -> Spec {
    Spec {
        input: 4,
        hidden: vec![4, 4, 4],
        outputs: 3,
        activation,
        init: Init::XavierNormal,
        output_init: Init::XavierNormal,
        batch_norm,
        residual,
    }
}

const ACTIVATIONS: [Activation; 8] = [
    Activation::Sigmoid,
    Activation::Tanh,
    Activation::Relu,
    Activation::LeakyRelu(0.1),
    Activation::Elu(1.0),
    Activation::Gelu,
    Activation::Selu,
    Activation::Linear,
];

#[test]
fn every_activation_matches_finite_differences() {
    for act in ACTIVATIONS {
        let err = worst_relative_error(&spec(act, false, false), Loss::CrossEntropy, 7);
        assert!(err < 1e-6, "{act}: worst relative error {err:e}");
    }
}

#[test]
fn batch_norm_matches_finite_differences() {
    for act in ACTIVATIONS {
        let err = worst_relative_error(&spec(act, true, false), Loss::CrossEntropy, 11);
        assert!(
            err < 1e-6,
            "{act} + batch norm: worst relative error {err:e}"
        );
    }
}

#[test]
fn residual_connections_match_finite_differences() {
    for act in ACTIVATIONS {
        let err = worst_relative_error(&spec(act, false, true), Loss::CrossEntropy, 13);
        assert!(err < 1e-6, "{act} + residual: worst relative error {err:e}");
        let err = worst_relative_error(&spec(act, true, true), Loss::CrossEntropy, 17);
        assert!(
            err < 1e-6,
            "{act} + batch norm + residual: worst relative error {err:e}"
        );
    }
}

#[test]
fn mean_squared_error_matches_finite_differences() {
    for act in [Activation::Tanh, Activation::Relu, Activation::Gelu] {
        let err = worst_relative_error(&spec(act, false, false), Loss::Mse, 19);
        assert!(err < 1e-6, "{act} + MSE: worst relative error {err:e}");
    }
}

#[test]
fn unequal_widths_match_finite_differences() {
    let s = Spec {
        input: 5,
        hidden: vec![7, 3],
        outputs: 4,
        ..spec(Activation::Tanh, true, false)
    };
    let err = worst_relative_error(&s, Loss::CrossEntropy, 23);
    assert!(err < 1e-6, "worst relative error {err:e}");
}

#[test]
fn residual_networks_skip_only_where_the_width_is_kept() {
    // 2 → 4 has no skip; 4 → 4 → 4 have one each, as in `train` on 2-D data.
    let s = Spec {
        input: 2,
        hidden: vec![4, 4, 4],
        ..spec(Activation::Sigmoid, false, true)
    };
    let err = worst_relative_error(&s, Loss::CrossEntropy, 29);
    assert!(err < 1e-6, "worst relative error {err:e}");
    let net = gradtutor::nn::Network::<f64>::build(&s, 29).unwrap();
    let skips: Vec<bool> = net.hidden.iter().map(|l| net.skips(l)).collect();
    assert_eq!(skips, [false, true, true]);
}

#[test]
fn a_gradient_computed_by_hand() {
    // x = [1, 2], W₁ = [0.5, −0.25]ᵀ → h = 0, a = σ(0) = ½; W_out = [1, −1] → z = [½, −½];
    // label 0: p₀ = σ(1), L = ln(1 + e^(−1)), ∂L/∂z = [p₀ − 1, 1 − p₀];
    // ∂L/∂W_out = ½ ∂L/∂z; ∂L/∂a = (p₀ − 1) − (1 − p₀); ∂L/∂h = ¼ ∂L/∂a; ∂L/∂W₁ = xᵀ ∂L/∂h.
    let net: Network<f64> = Network {
        hidden: vec![Hidden {
            dense: Dense::new(array![[0.5], [-0.25]]),
            bn: None,
        }],
        output: Dense::new(array![[1.0, -1.0]]),
        activation: Activation::Sigmoid,
        residual: false,
        storage: None,
    };
    let tape = net.forward(array![[1.0, 2.0]]);
    let (l, dl) = loss::softmax_cross_entropy(tape.logits.view(), &[0]);
    let back = net.backward(&tape, dl, false);
    let p0 = 0.731_058_578_630_004_9_f64;
    assert!((l - 0.313_261_687_518_222_86).abs() < 1e-15);
    let dz = p0 - 1.0;
    let out = &back.grads.output;
    assert!((out.dw[[0, 0]] - 0.5 * dz).abs() < 1e-15);
    assert!((out.dw[[0, 1]] + 0.5 * dz).abs() < 1e-15);
    assert!((out.db[0] - dz).abs() < 1e-15);
    let dh = 0.25 * 2.0 * dz;
    let first = &back.grads.hidden[0].dense;
    assert!((first.dw[[0, 0]] - dh).abs() < 1e-15, "{}", first.dw);
    assert!((first.dw[[1, 0]] - 2.0 * dh).abs() < 1e-15);
    assert!((back.signal_norms[0] - dh.abs()).abs() < 1e-15);
}

#[test]
fn batch_norm_output_is_normalized() {
    let bn = BatchNorm::<f64>::new(3);
    let x = array![[1.0, 10.0, -3.0], [2.0, 20.0, -1.0], [4.0, 60.0, 2.0]];
    let (y, _) = bn.forward(x.view());
    for col in y.columns() {
        let mean = col.sum() / 3.0;
        let var = col.mapv(|v| (v - mean).powi(2)).sum() / 3.0;
        assert!(mean.abs() < 1e-12);
        // σ²/(σ² + ε): just under 1.
        assert!((var - 1.0).abs() < 1e-4 && var < 1.0, "variance {var}");
    }
}

/// Question 4's quiz: one weight at −∞ in a tanh network. It feeds a single unit, whose
/// pre-activation becomes ±∞ and whose output tanh(±∞) = ±1 stays finite, so the forward pass
/// and the loss survive; the backward pass meets tanh′(±∞) = 0 times that weight, 0 · ∞ = NaN,
/// and every gradient below it becomes NaN.
#[test]
fn an_infinite_weight_makes_nan_in_the_backward_pass_of_tanh() {
    let spec = Spec {
        input: 4,
        hidden: vec![4, 4, 4],
        outputs: 3,
        activation: Activation::Tanh,
        init: Init::XavierNormal,
        output_init: Init::XavierNormal,
        batch_norm: false,
        residual: false,
    };
    let mut net = Network::<f32>::build(&spec, 3).unwrap();
    net.hidden[1].dense.w[[2, 1]] = f32::NEG_INFINITY;
    let (x, labels) = gaussian_batch::<f32>(6, spec.input, spec.outputs, 3);
    let tape = net.forward(x);
    assert!(net.dphi(&tape, 1).column(1).iter().all(|&d| d == 0.0));
    let (l, dlogits) = loss::softmax_cross_entropy(tape.logits.view(), &labels);
    assert!(l.is_finite(), "the forward pass stays finite: loss {l}");
    let back = net.backward(&tape, dlogits, false);
    let finite = |g: &Array2<f32>| g.iter().all(|v| v.is_finite());
    // Above the infinite weight every gradient is finite; at and below it, NaN.
    assert!(finite(&back.grads.output.dw) && finite(&back.grads.hidden[2].dense.dw));
    assert!(
        finite(&back.grads.hidden[1].dense.dw),
        "∂L/∂W_ij = a_i · 0 stays finite"
    );
    assert!(back.grads.hidden[0].dense.dw.iter().any(|v| v.is_nan()));
}
