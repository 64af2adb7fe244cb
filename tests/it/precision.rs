//! Reduced precision and loss scaling: 16-bit storage through the network,
//! bit-reproducibility, a pinned underflow that scaling mends, and scaling in training and in
//! `demo precision`. The rounding itself and GradScaler's halve/skip/grow rule are tested
//! beside them (src/nn/storage.rs). Each test states the wrong code it is there to catch.

use super::common;

use gradtutor::nn::storage::{LossScale, Storage};
use gradtutor::nn::{Activation, Init, Network};
use gradtutor::{Precision, ProbeConfig, ProbeResult, TrainSettings, gaussian_batch, train};

const GIB: u64 = 1 << 30;

fn representable(s: Storage, values: impl IntoIterator<Item = f32>) -> bool {
    values.into_iter().all(|v| v.is_nan() || s.round(v) == v)
}

// Catches: a layer boundary that forgets to round (weights, activations, logits, signals or
// gradients carrying f32 bits past a layer).
#[test]
fn every_tensor_a_layer_hands_on_is_stored_in_16_bits() {
    let mut cfg = ProbeConfig::canonical(4, 12, 6, 5);
    cfg.spec.residual = true;
    for storage in [Storage::F16, Storage::Bf16] {
        let net = Network::<f32>::build(&cfg.spec, 7)
            .unwrap()
            .stored_in(Some(storage));
        let (mut x, labels) = gaussian_batch::<f32>(6, 12, 5, 7);
        storage.round_all(&mut x);
        for l in &net.hidden {
            assert!(representable(storage, l.dense.w.iter().copied()));
        }
        let tape = net.forward(x);
        for l in 1..=4 {
            assert!(representable(storage, tape.activation(l).iter().copied()));
        }
        assert!(representable(storage, tape.logits.iter().copied()));
        let (_, dl) = gradtutor::nn::loss::softmax_cross_entropy(tape.logits.view(), &labels);
        let back = net.backward(&tape, dl, true);
        for t in back.grads.tensors() {
            assert!(representable(storage, t.iter().copied()));
        }
        assert!(representable(
            storage,
            back.input_grad.unwrap().iter().copied()
        ));
    }
}

fn probe(cfg: &ProbeConfig) -> ProbeResult {
    gradtutor::probe(cfg, GIB).unwrap()
}

/// Sigmoid, Xavier-normal, 12 hidden layers of 16 units, batch 8, seed 42.
fn small_sigmoid(precision: Precision, loss_scale: Option<LossScale>) -> ProbeConfig {
    let mut cfg = ProbeConfig::canonical(12, 16, 8, 10);
    cfg.precision = precision;
    cfg.kind = gradtutor::ProbeKind::Mlp(gradtutor::Mlp {
        loss_scale,
        ..Default::default()
    });
    cfg
}

fn zeros(r: &ProbeResult) -> Vec<usize> {
    r.layers()
        .iter()
        .filter(|l| l.grad_norm == 0.0)
        .map(|l| l.layer)
        .collect()
}

// Catches: an f16 path that does not underflow (no rounding), underflows in bf16 too (wrong
// exponent range), or a loss scale that is not applied before the rounding / not undone after.
#[test]
fn f16_underflows_layers_1_and_2_and_a_static_scale_of_1024_restores_them() {
    let f32_run = probe(&small_sigmoid(Precision::F32, None));
    let bf16 = probe(&small_sigmoid(Precision::Bf16, None));
    let f16 = probe(&small_sigmoid(Precision::F16, None));
    let scaled = probe(&small_sigmoid(
        Precision::F16,
        Some(LossScale::Static(1024.0)),
    ));
    assert_eq!(zeros(&f32_run), Vec::<usize>::new());
    assert_eq!(zeros(&bf16), Vec::<usize>::new());
    assert_eq!(zeros(&f16), vec![1, 2]);
    assert!(f16.layers()[2].grad_norm > 0.0);
    assert_eq!(zeros(&scaled), Vec::<usize>::new());
    assert_eq!(scaled.loss_scale, Some(1024.0));
    // Layer 1's gradient is ≈ 4.4e−8 in f32, and the scaled f16 pass gets it within 1%.
    let (want, got) = (f32_run.layers()[0].grad_norm, scaled.layers()[0].grad_norm);
    assert!((4.3e-8..4.5e-8).contains(&want), "{want}");
    assert!((got / want - 1.0).abs() < 0.01, "{got} vs {want}");
    // The loss is measured before scaling: identical with and without it.
    assert_eq!(scaled.loss, f16.loss);
}

// Catches: dynamic scaling that does not halve on overflow, or reports another scale than it
// measured with.
#[test]
fn dynamic_scaling_halves_until_the_gradients_are_finite() {
    // 2¹⁶ overflows f16 on this exploding network: tanh with N(0, 1) weights.
    let mut cfg = ProbeConfig::canonical(6, 32, 16, 10).with_init(Init::Normal(Some(1.0)));
    cfg.spec.activation = Activation::Tanh;
    cfg.precision = Precision::F16;
    cfg.kind = gradtutor::ProbeKind::Mlp(gradtutor::Mlp {
        loss_scale: Some(LossScale::Static(65536.0)),
        ..Default::default()
    });
    let fixed = probe(&cfg);
    assert!(
        !fixed.global_grad_norm.is_finite(),
        "2¹⁶ must overflow here"
    );
    cfg.kind = gradtutor::ProbeKind::Mlp(gradtutor::Mlp {
        loss_scale: Some(LossScale::Dynamic { interval: 2000 }),
        ..Default::default()
    });
    let dynamic = probe(&cfg);
    let used = dynamic.loss_scale.unwrap();
    assert!(used < 65536.0 && libm::log2(used).fract() == 0.0, "{used}");
    assert!(dynamic.global_grad_norm.is_finite());
    // One halving less overflows: the scale used is the largest that does not.
    cfg.kind = gradtutor::ProbeKind::Mlp(gradtutor::Mlp {
        loss_scale: Some(LossScale::Static(used * 2.0)),
        ..Default::default()
    });
    assert!(!probe(&cfg).global_grad_norm.is_finite());
    cfg.kind = gradtutor::ProbeKind::Mlp(gradtutor::Mlp {
        loss_scale: Some(LossScale::Static(used)),
        ..Default::default()
    });
    assert_eq!(probe(&cfg).layers(), dynamic.layers());
}

// Catches: a reduced-precision run that depends on threads, time or memory layout.
#[test]
fn f16_and_bf16_probes_are_bit_reproducible() {
    for p in [Precision::F16, Precision::Bf16] {
        let mut cfg = ProbeConfig::canonical(20, 64, 32, 10);
        cfg.precision = p;
        cfg.kind = gradtutor::ProbeKind::Mlp(gradtutor::Mlp {
            loss_scale: Some(LossScale::Dynamic { interval: 2000 }),
            ..Default::default()
        });
        let a = serde_json::to_string(&probe(&cfg)).unwrap();
        let b = serde_json::to_string(&probe(&cfg)).unwrap();
        assert_eq!(a, b, "{p}");
    }
    let run = || {
        common::gradtutor("precision")
            .args(["demo", "precision", "--json"])
            .output()
            .unwrap()
    };
    let (a, b) = (run(), run());
    assert!(a.status.success());
    assert_eq!(a.stdout, b.stdout);
}

// Catches: scaling that is not undone exactly: in f32 a power-of-two scale is exact, so
// scaled training must follow the unscaled run bit for bit.
#[test]
fn a_power_of_two_scale_in_f32_changes_no_bit_of_training() {
    let cfg = |scale: Option<&str>| {
        let mut text = "depth = 3\nwidth = 16\nsteps = 40\nsamples = 200\ncompare = \
                        \"tanh/xavier-normal\"\n"
            .to_string();
        if let Some(s) = scale {
            text.push_str(&format!("loss-scale = \"{s}\"\n"));
        }
        toml::from_str::<TrainSettings>(&text)
            .unwrap()
            .config()
            .unwrap()
    };
    let plain = train(&cfg(None), GIB, &|_| {}).unwrap();
    let scaled = train(&cfg(Some("256")), GIB, &|_| {}).unwrap();
    assert_eq!(plain.runs[0].losses, scaled.runs[0].losses);
    assert_eq!(plain.runs[0].checkpoints, scaled.runs[0].checkpoints);
    let ls = scaled.runs[0].loss_scale.as_ref().unwrap();
    assert_eq!((ls.skipped_steps, ls.final_scale), (0, 256.0));
}

// Catches: dynamic scaling in training that does not skip, does not record, or lets an
// overflow end the run as a divergence.
#[test]
fn dynamic_scaling_in_f16_training_skips_and_records_each_halving() {
    let text = "depth = 4\nwidth = 16\nsteps = 60\nsamples = 200\ncompare = \
                \"sigmoid/xavier-normal+bn\"\nprecision = \"f16\"\nloss-scale = \"dynamic\"\n";
    let cfg = toml::from_str::<TrainSettings>(text)
        .unwrap()
        .config()
        .unwrap();
    let r = train(&cfg, GIB, &|_| {}).unwrap();
    let h = &r.runs[0];
    assert!(h.diverged.is_none());
    let ls = h.loss_scale.as_ref().unwrap();
    assert_eq!(ls.scales[0].step, 1);
    assert_eq!(ls.scales[0].scale, 65536.0);
    // No growth within 60 steps (interval 2000): every change is one halving, one skip.
    assert_eq!(ls.scales.len() - 1, ls.skipped_steps);
    assert!(
        ls.skipped_steps > 0,
        "2¹⁶ overflows this network's f16 gradients"
    );
    for w in ls.scales.windows(2) {
        assert_eq!(w[1].scale, w[0].scale / 2.0);
        assert!(w[1].step > w[0].step);
    }
    assert_eq!(ls.final_scale, ls.scales.last().unwrap().scale);
    assert_eq!(h.losses.len(), 60);
}

// Catches: the demo's story drifting from what it claims (f16 zeros, dynamic none).
#[test]
fn demo_precision_at_depth_30_zeros_f16_layers_and_dynamic_scaling_restores_them() {
    let report = gradtutor::find_experiment("precision")
        .unwrap()
        .run(&gradtutor::Settings::default(), GIB)
        .unwrap();
    let labels: Vec<&str> = report.runs.iter().map(|r| r.label.as_str()).collect();
    assert_eq!(labels, ["f32", "bf16", "f16", "f16+scale", "f16+dyn"]);
    let z: Vec<Vec<usize>> = report.runs.iter().map(|r| r.zero_layers()).collect();
    assert!(z[0].is_empty() && z[1].is_empty() && z[3].is_empty() && z[4].is_empty());
    assert_eq!(z[2], (1..=11).collect::<Vec<_>>());
    assert_eq!(report.runs[4].loss_scale_used, Some(65536.0));
}

// Catches: flags the demo cannot honour being accepted silently.
#[test]
fn demo_precision_refuses_precision_and_a_dynamic_static_scale() {
    common::gradtutor("precision")
        .args(["demo", "precision", "--precision", "f16"])
        .assert()
        .failure()
        .stderr(predicates::str::contains("--precision"));
    common::gradtutor("precision")
        .args(["demo", "precision", "--loss-scale", "dynamic"])
        .assert()
        .failure()
        .stderr(predicates::str::contains("takes a number"));
    common::gradtutor("precision")
        .args(["demo", "vanishing", "--loss-scale", "zero"])
        .assert()
        .failure()
        .stderr(predicates::str::contains("--loss-scale takes"));
}

// Catches: the 16-bit paths changing f32 results. The snapshots were written by the binary
// before f16/bf16 existed; f32 must still produce them byte for byte.
#[test]
fn f32_json_is_byte_identical_to_before_reduced_precision() {
    let cases: [(&str, &[&str]); 2] = [
        (
            "exploding-f32-depth10.json",
            &[
                "demo",
                "exploding",
                "--depth",
                "10",
                "--width",
                "32",
                "--batch",
                "16",
            ],
        ),
        (
            "train-f32-depth3.json",
            &[
                "train",
                "--depth",
                "3",
                "--width",
                "8",
                "--steps",
                "20",
                "--samples",
                "100",
            ],
        ),
    ];
    for (file, args) in cases {
        let out = common::gradtutor("precision")
            .args(args)
            .arg("--json")
            .output()
            .unwrap();
        assert!(out.status.success());
        let path = format!("{}/tests/snapshots/{file}", env!("CARGO_MANIFEST_DIR"));
        let want = std::fs::read(&path).unwrap();
        assert!(out.stdout == want, "{file} changed");
    }
}

#[test]
fn a_recurrent_run_refuses_the_16_bit_formats_and_loss_scaling() {
    let err = common::stderr_of_failure(common::gradtutor("precision").args([
        "demo",
        "recurrent",
        "--precision",
        "f16",
    ]));
    assert!(
        err.contains("a recurrent run is measured in f32 or f64 (got --precision f16)"),
        "{err}"
    );
    let err = common::stderr_of_failure(common::gradtutor("precision").args([
        "demo",
        "recurrent",
        "--loss-scale",
        "8",
    ]));
    assert!(err.contains("drop --loss-scale"), "{err}");
}

// Catches: a figure left scaled by S: the loss scale multiplies ∂L/∂z, so every figure read
// from the backward pass (‖∂L/∂W‖ and ‖∂L/∂h‖ alike) must be divided by it again. In f32 a
// power-of-two S is exact both ways, so every field of every layer keeps its bits.
#[test]
fn a_power_of_two_scale_in_f32_leaves_every_layer_figure_bit_identical() {
    let plain = probe(&small_sigmoid(Precision::F32, None));
    for s in [256.0, 1.0 / 1024.0] {
        let scaled = probe(&small_sigmoid(Precision::F32, Some(LossScale::Static(s))));
        assert_eq!(scaled.loss_scale, Some(s));
        // Debug keeps −0 apart from 0; equal floats print the same.
        assert_eq!(
            format!("{:?}", plain.layers()),
            format!("{:?}", scaled.layers()),
            "S = {s}"
        );
        assert_eq!(
            plain.global_grad_norm.to_bits(),
            scaled.global_grad_norm.to_bits()
        );
    }
}

// Catches: signal norms reported scaled, or taken before the 16-bit rounding: with S = 1024
// in f16 every layer's ‖∂L/∂h‖ that did not underflow comes within 1 % of the f32 run's.
#[test]
fn f16_with_a_loss_scale_reports_signal_norms_within_1_percent_of_f32() {
    let f32_run = probe(&small_sigmoid(Precision::F32, None));
    let scaled = probe(&small_sigmoid(
        Precision::F16,
        Some(LossScale::Static(1024.0)),
    ));
    let mut compared = 0;
    for (a, b) in f32_run.layers().iter().zip(scaled.layers()) {
        if b.signal_norm == 0.0 {
            continue;
        }
        compared += 1;
        let rel = (b.signal_norm / a.signal_norm - 1.0).abs();
        assert!(
            rel < 0.01,
            "layer {}: {} vs {}",
            a.layer,
            b.signal_norm,
            a.signal_norm
        );
    }
    assert_eq!(
        compared,
        f32_run.layers().len(),
        "none underflows with S = 1024"
    );
}

// Catches: a backward pass that hands a layer an f32 ∂L/∂h (the signal not rounded to the
// storage format between layers), which the end-to-end underflow test only sees indirectly.
#[test]
fn every_layers_backprop_signal_is_stored_in_16_bits() {
    for (residual, bn) in [(false, false), (true, false), (false, true)] {
        let mut cfg = ProbeConfig::canonical(5, 12, 6, 5);
        cfg.spec.residual = residual;
        cfg.spec.batch_norm = bn;
        for storage in [Storage::F16, Storage::Bf16] {
            let net = Network::<f32>::build(&cfg.spec, 3)
                .unwrap()
                .stored_in(Some(storage));
            let (mut x, labels) = gaussian_batch::<f32>(6, 12, 5, 3);
            storage.round_all(&mut x);
            let tape = net.forward(x);
            let (_, dl) = gradtutor::nn::loss::softmax_cross_entropy(tape.logits.view(), &labels);
            let mut signals = Vec::new();
            net.backward_keeping(&tape, dl, false, Some(&mut signals));
            assert_eq!(signals.len(), 5);
            for (l, s) in signals.iter().enumerate() {
                assert!(s.iter().any(|&v| v != 0.0), "layer {} is all 0", l + 1);
                assert!(
                    representable(storage, s.iter().copied()),
                    "{storage:?} residual {residual} bn {bn}: layer {}",
                    l + 1
                );
            }
        }
    }
}

// Catches: training under a static loss scale that records its gradient norms scaled (S×)
// or not at all: the first step's norms, from the same start, come within 2 % of f32's.
#[test]
fn f16_training_with_a_static_scale_reports_gradient_norms_near_f32s() {
    let cfg = |precision: &str, scale: Option<&str>| {
        let mut text = format!(
            "depth = 4\nwidth = 16\nsteps = 20\nsamples = 200\ncompare = \
             \"tanh/xavier-normal\"\nprecision = \"{precision}\"\n"
        );
        if let Some(s) = scale {
            text.push_str(&format!("loss-scale = \"{s}\"\n"));
        }
        toml::from_str::<TrainSettings>(&text)
            .unwrap()
            .config()
            .unwrap()
    };
    let f32_run = train(&cfg("f32", None), GIB, &|_| {}).unwrap();
    let f16_run = train(&cfg("f16", Some("1024")), GIB, &|_| {}).unwrap();
    let (a, b) = (
        &f32_run.runs[0].checkpoints[0],
        &f16_run.runs[0].checkpoints[0],
    );
    assert_eq!(a.step, 1);
    assert_eq!(a.grad_norms.len(), 5);
    for (l, (x, y)) in a.grad_norms.iter().zip(&b.grad_norms).enumerate() {
        let rel = (y / x - 1.0).abs();
        assert!(rel < 0.02, "layer {}: f16 {y} vs f32 {x}", l + 1);
    }
    let ls = f16_run.runs[0].loss_scale.as_ref().unwrap();
    assert_eq!(ls.final_scale, 1024.0);
}
