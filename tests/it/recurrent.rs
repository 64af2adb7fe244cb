//! The recurrent probe: the per-step factor's closed form, its shape, determinism and
//! refusals, and `demo recurrent`. BPTT against finite differences and the LSTM's forget-gate
//! closed form are tested beside the cell (src/nn/recurrent.rs).
#![allow(clippy::disallowed_methods)]

use super::common;
use gradtutor::nn::recurrent::CellKind;
use gradtutor::nn::{Activation, Init};
use gradtutor::{Precision, ProbeConfig, probe};

// Catches: a BPTT that skips W_h in a step back, applies it twice, or scales it (the norm
// would not change by exactly g per step), and a spectrum other than g. With φ linear and
// W_h = g·Q (Q orthogonal) each step back multiplies ∂L/∂h by g·Qᵀ, which scales every row's
// norm by exactly g. Not a missing transpose: g·Q scales the norm by g too; the
// finite-difference test in src/nn/recurrent.rs catches that.
#[test]
fn linear_rnn_with_orthogonal_w_h_scales_the_signal_by_the_gain_each_step() {
    for gain in [0.5, 1.0, 1.7] {
        let mut cfg = ProbeConfig::recurrent(CellKind::Rnn, 12, 16, 4, 5);
        cfg.spec.activation = Activation::Linear;
        cfg.spec.init = Init::Orthogonal(Some(gain));
        cfg.precision = Precision::F64;
        let r = probe(&cfg, 1 << 30).unwrap();
        let steps = &r.steps().unwrap().steps;
        assert_eq!(steps.len(), 12);
        for w in steps.windows(2) {
            let factor = w[0].signal_norm / w[1].signal_norm;
            assert!(
                (factor - gain).abs() < 1e-12,
                "gain {gain}: factor {factor}"
            );
        }
        let sp = r.steps().unwrap().spectrum.as_ref().unwrap();
        assert!((sp.spectral_radius - gain).abs() < 1e-9, "{sp:?}");
        assert!((sp.top_singular_value - gain).abs() < 1e-9, "{sp:?}");
    }
}

#[test]
fn the_recurrent_probe_has_one_step_per_time_step_and_names_each_gate() {
    let cfg = ProbeConfig::recurrent(CellKind::Lstm, 7, 8, 3, 4);
    let a = probe(&cfg, 1 << 30).unwrap();
    let b = probe(&cfg, 1 << 30).unwrap();
    assert_eq!(a, b, "same seed, same figures");
    let f = a.steps().unwrap();
    let ts: Vec<usize> = f.steps.iter().map(|s| s.t).collect();
    assert_eq!(ts, (1..=7).collect::<Vec<_>>());
    assert!(f.steps.iter().all(|s| s.cell_norm.is_some()));
    let names: Vec<&str> = f.params.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "W_x[i]", "W_h[i]", "b[i]", "W_x[f]", "W_h[f]", "b[f]", "W_x[g]", "W_h[g]", "b[g]",
            "W_x[o]", "W_h[o]", "b[o]", "W_out", "b_out"
        ]
    );
    // The global norm is the norm of the parameters' norms.
    let global = f
        .params
        .iter()
        .map(|p| p.grad_norm.powi(2))
        .sum::<f64>()
        .sqrt();
    assert!((a.global_grad_norm - global).abs() <= 1e-6 * global);
    // (2n + 1)·4n + (n + 1)·classes parameters.
    assert_eq!(cfg.parameters(), 17 * 32 + 9 * 4);
    assert!(a.layers().is_empty());
}

#[test]
fn the_recurrent_probe_is_refused_before_allocating_when_too_large() {
    let cfg = ProbeConfig::recurrent(CellKind::Rnn, 1_000_000, 100_000, 64, 10);
    let err = probe(&cfg, 1 << 30).unwrap_err().to_string();
    assert!(err.contains("memory limit"), "{err}");
    let zero = ProbeConfig::recurrent(CellKind::Rnn, 0, 8, 2, 3);
    let err = probe(&zero, 1 << 30).unwrap_err().to_string();
    assert!(err.contains("--seq-len must be at least 1"), "{err}");
}

fn gradtutor() -> assert_cmd::Command {
    common::gradtutor(&format!("rnn-{}", std::process::id()))
}

fn json_of(args: &[&str]) -> serde_json::Value {
    let out = gradtutor()
        .args(args)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    serde_json::from_slice(&out).unwrap()
}

/// log₁₀(‖∂L/∂h_T‖ / ‖∂L/∂h_1‖) of the run labelled `label`.
fn drop_of(report: &serde_json::Value, label: &str) -> f64 {
    let run = report["runs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["label"] == label)
        .unwrap_or_else(|| panic!("no run {label}"));
    let steps = run["steps"].as_array().unwrap();
    let norm = |s: &serde_json::Value| s["signal_norm"].as_f64().unwrap();
    (norm(&steps[steps.len() - 1]) / norm(&steps[0])).log10()
}

// The acceptance run: per-step norms for t = 1 … 50 in every run; gain 1 decays far
// less than gain 0.5, and the LSTM less than the RNN at gain 0.5. Figures pinned from the
// default run (seed 42, f32).
#[test]
fn demo_recurrent_json_has_every_step_and_the_expected_ordering() {
    let r = json_of(&["demo", "recurrent", "--seq-len", "50", "--json"]);
    let labels: Vec<&str> = r["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["label"].as_str().unwrap())
        .collect();
    assert_eq!(labels, ["rnn-0.5", "rnn-1", "rnn-3", "lstm"]);
    for run in r["runs"].as_array().unwrap() {
        let ts: Vec<u64> = run["steps"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["t"].as_u64().unwrap())
            .collect();
        assert_eq!(ts, (1..=50).collect::<Vec<u64>>());
        assert_eq!(run["config"]["seq_len"], 50);
    }
    assert_eq!(r["runs"][3]["config"]["cell"], "lstm");
    assert_eq!(r["runs"][3]["config"]["forget_bias"], 1.0);
    assert_eq!(r["runs"][0]["config"]["init"], "orthogonal:0.5");
    let (half, one, three, lstm) = (
        drop_of(&r, "rnn-0.5"),
        drop_of(&r, "rnn-1"),
        drop_of(&r, "rnn-3"),
        drop_of(&r, "lstm"),
    );
    assert!((half - 23.25).abs() < 0.1, "{half}");
    assert!((one - 9.74).abs() < 0.1, "{one}");
    assert!((three + 5.81).abs() < 0.1, "{three}");
    assert!((lstm - 6.03).abs() < 0.1, "{lstm}");
    // The linearized prediction sits beside the measurement.
    let theory = &r["runs"][0]["theory"];
    let (p, m) = (
        theory["predicted_factor"].as_f64().unwrap(),
        theory["measured_factor"].as_f64().unwrap(),
    );
    assert!(
        (p - 0.336).abs() < 0.002 && (m - 0.335).abs() < 0.002,
        "{theory}"
    );
    assert!(r["runs"][3]["theory"]["not_applicable"].is_string());
}

#[test]
fn demo_recurrent_refuses_impossible_settings_with_a_message() {
    for (args, says) in [
        (vec!["--seq-len", "0"], "--seq-len must be at least 1"),
        (vec!["--cell", "gru"], "unknown cell 'gru'"),
        (vec!["--cell", "lstm,lstm"], "listed twice"),
        (vec!["--depth", "4"], "--seq-len"),
        (
            vec!["--width", "100000", "--seq-len", "100000"],
            "memory limit",
        ),
        (
            vec!["--forget-bias", "inf"],
            "--forget-bias must be a finite number",
        ),
    ] {
        gradtutor()
            .args(["demo", "recurrent"])
            .args(&args)
            .assert()
            .failure()
            .stderr(predicates::str::contains(says));
    }
    gradtutor()
        .args(["demo", "vanishing", "--forget-bias", "2"])
        .assert()
        .failure()
        .stderr(predicates::str::contains(
            "--forget-bias only applies to `demo recurrent`",
        ));
}

#[test]
fn demo_recurrent_text_shows_bars_and_the_theory_line_in_80_columns() {
    let out = gradtutor()
        .args([
            "demo",
            "recurrent",
            "--seq-len",
            "12",
            "--cell",
            "rnn",
            "--init",
            "orthogonal:0.5",
        ])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = common::text(&out);
    assert!(text.lines().all(|l| l.chars().count() <= 80), "{text}");
    assert!(text.contains("█"), "{text}");
    assert!(text.contains("linearized: ρ(diag(φ′)·W_hᵀ)"), "{text}");
    // One row per step when T is small: t = 12 … 1.
    for t in 1..=12 {
        assert!(
            text.lines()
                .any(|l| l.trim_start().starts_with(&format!("{t} ")))
        );
    }
}

// Catches: the LSTM compared with an RNN whose W_h has another gain (the default LSTM's
// `orthogonal` is rnn-1's `orthogonal:1`), or the verdict dropped because the two
// initializers are spelled differently; and the first step back folded into the per-step
// factor. Figures from the default run (seed 42, f32).
#[test]
fn demo_recurrent_compares_the_lstm_with_rnn_1_and_reports_its_first_step_apart() {
    let text = common::stdout(gradtutor().args(["demo", "recurrent"]))
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    assert!(
        text.contains("the LSTM keeps 3.7 orders of magnitude more of the signal than rnn-1,"),
        "{text}"
    );
    assert!(!text.contains("than rnn-0.5"), "{text}");
    assert!(
        text.contains("lstm: the first step back, t = 50 to 49, multiplies ‖∂L/∂h‖ by ×0.109"),
        "{text}"
    );
    assert!(
        text.contains("from there to t = 1 the factor is ×0.784 per step"),
        "{text}"
    );
    let r = json_of(&["demo", "recurrent", "--json"]);
    let steps = r["runs"][3]["steps"].as_array().unwrap();
    let norm = |i: usize| steps[i]["signal_norm"].as_f64().unwrap();
    assert!((norm(48) / norm(49) - 0.109).abs() < 0.001);
}
