//! Analytic backprop against central finite differences, in f64 on tiny networks: every
//! backward rule (activations, batch and layer norm, residual blocks, branch scales, both
//! losses) through one harness, so they sit here rather than beside each layer.

use crate::nn::loss;
use crate::nn::rng::gaussian_batch;
use crate::nn::{Activation, Block, Init, Network, Placement, Spec};
use ndarray::Array2;

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
        if let Some(ln) = &mut layer.ln {
            ln.gamma
                .iter_mut()
                .enumerate()
                .for_each(|(i, g)| *g = 0.8 + 0.1 * i as f64);
            ln.beta
                .iter_mut()
                .enumerate()
                .for_each(|(i, b)| *b = 0.1 - 0.07 * i as f64);
        }
        // A learned α is tested away from its starting 0 (where ∂L/∂W of the branch is 0).
        if let Some(alpha) = &mut layer.scale
            && alpha[0] == 0.0
        {
            alpha[0] = 0.3 + 0.2 * l as f64;
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
        block: Block::default(),
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
    let net = crate::nn::Network::<f64>::build(&s, 29).unwrap();
    let skips: Vec<bool> = net.hidden.iter().map(|l| net.skips(l)).collect();
    assert_eq!(skips, [false, true, true]);
}

/// `spec` with layer norm or batch norm, a placement and a branch scale.
fn block_spec(
    activation: Activation,
    layer_norm: bool,
    placement: Placement,
    branch_scale: Option<f64>,
) -> Spec {
    Spec {
        block: Block {
            layer_norm,
            placement,
            branch_scale,
        },
        ..spec(activation, !layer_norm, true)
    }
}

#[test]
fn layer_norm_matches_finite_differences() {
    for act in [Activation::Tanh, Activation::Relu, Activation::Sigmoid] {
        let s = Spec {
            block: Block {
                layer_norm: true,
                ..Block::default()
            },
            ..spec(act, false, false)
        };
        let err = worst_relative_error(&s, Loss::CrossEntropy, 31);
        assert!(
            err < 1e-6,
            "{act} + layer norm: worst relative error {err:e}"
        );
        let err = worst_relative_error(&s, Loss::Mse, 32);
        assert!(
            err < 1e-6,
            "{act} + layer norm, MSE: worst relative error {err:e}"
        );
    }
}

#[test]
fn post_and_pre_norm_blocks_match_finite_differences() {
    for act in [Activation::Tanh, Activation::Gelu] {
        for layer_norm in [true, false] {
            for placement in [Placement::Inside, Placement::Post, Placement::Pre] {
                let s = block_spec(act, layer_norm, placement, None);
                let err = worst_relative_error(&s, Loss::CrossEntropy, 37);
                assert!(
                    err < 1e-6,
                    "{act}, layer norm {layer_norm}, {placement:?}: worst relative error {err:e}"
                );
            }
        }
    }
}

#[test]
fn branch_scales_match_finite_differences() {
    // A fixed α, and a learned one (0 at the start, moved away from 0 by the check).
    for scale in [0.25, 0.0] {
        for placement in [Placement::Inside, Placement::Post, Placement::Pre] {
            let s = block_spec(Activation::Tanh, true, placement, Some(scale));
            let err = worst_relative_error(&s, Loss::CrossEntropy, 41);
            assert!(
                err < 1e-6,
                "α {scale}, {placement:?}: worst relative error {err:e}"
            );
        }
        let plain = Spec {
            block: Block {
                branch_scale: Some(scale),
                ..Block::default()
            },
            ..spec(Activation::Relu, false, true)
        };
        let err = worst_relative_error(&plain, Loss::Mse, 43);
        assert!(
            err < 1e-6,
            "α {scale} without norm: worst relative error {err:e}"
        );
    }
}

#[test]
fn a_learned_branch_scale_is_a_parameter_with_its_gradient() {
    // Three blocks of width 4 with α = 0: one extra parameter each, and at α = 0 every block
    // is the identity, so the logits are x W_out exactly; ∂L/∂α_l = Σ ∂L/∂a_l ⊙ φ(h_l).
    let s = block_spec(Activation::Tanh, false, Placement::Inside, Some(0.0));
    let s = Spec {
        batch_norm: false,
        ..s
    };
    assert_eq!(
        s.parameters(),
        Spec {
            block: Block::default(),
            ..s.clone()
        }
        .parameters()
            + 3
    );
    let mut net = Network::<f64>::build(&s, 5).unwrap();
    assert_eq!(net.params_mut().len(), 3 * 3 + 2);
    let (x, labels) = gaussian_batch::<f64>(6, 4, 3, 5);
    let tape = net.forward(x.clone());
    assert_eq!(tape.last, x);
    let (_, dlogits) = loss::softmax_cross_entropy(tape.logits.view(), &labels);
    let back = net.backward(&tape, dlogits.clone(), false);
    // ∂L/∂a_3 = ∂L/∂z W_outᵀ; φ(h_3) = tanh(x W_3) since a_2 = x.
    let da = dlogits.dot(&net.output.w.t());
    let phi = x.dot(&net.hidden[2].dense.w).mapv(libm::tanh);
    let expected = (&da * &phi).sum();
    let got = back.grads.hidden[2].dalpha.as_ref().unwrap()[0];
    assert!((got - expected).abs() < 1e-12, "{got} vs {expected}");
    // With α = 0 the branch's weights get no gradient at all.
    assert!(back.grads.hidden[2].dense.dw.iter().all(|&g| g == 0.0));
}

/// Evaluation runs `Network::logits`, which drops each layer's input as it goes: it must give
/// `forward`'s logits bit for bit for every activation, with and without residual blocks,
/// batch norm, layer norm in each placement and learned branch scales, in f32 and f64.
#[test]
fn logits_alone_are_the_forward_pass_logits_bit_for_bit() {
    fn same<F: crate::nn::Real>(spec: &Spec, label: &str) {
        let mut net = Network::<F>::build(spec, 7).unwrap();
        // Learned α's start at 0, which makes every block the identity: move them.
        for (i, layer) in net.hidden.iter_mut().enumerate() {
            if let Some(alpha) = layer.scale.as_mut() {
                alpha[0] = F::of(0.3 + 0.2 * i as f64);
            }
        }
        let (x, _) = gaussian_batch::<F>(37, spec.input, 3, 5);
        let want = net.forward(x.clone()).logits;
        let got = net.logits(x);
        let bits = |a: &Array2<F>| a.iter().map(|v| v.as_f64().to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&got), bits(&want), "{label}");
    }
    for activation in ACTIVATIONS {
        let wide = |s: Spec| Spec {
            input: 20,
            hidden: vec![40, 40, 40],
            ..s
        };
        let mut specs = vec![
            ("plain", wide(spec(activation, false, false))),
            ("residual", wide(spec(activation, false, true))),
            ("bn", wide(spec(activation, true, false))),
        ];
        for placement in [Placement::Inside, Placement::Post, Placement::Pre] {
            specs.push(("ln", wide(block_spec(activation, true, placement, None))));
        }
        specs.push((
            "learned α",
            wide(block_spec(activation, false, Placement::Inside, Some(0.0))),
        ));
        for (label, s) in &specs {
            same::<f32>(s, &format!("{activation} {label} f32"));
            same::<f64>(s, &format!("{activation} {label} f64"));
        }
    }
}
