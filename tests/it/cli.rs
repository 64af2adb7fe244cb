//! The binary, end to end.

use super::common;

use assert_cmd::Command;
use predicates::prelude::*;
use std::fs;

fn gradtutor() -> Command {
    // `ask` records progress: keep it out of the user's data folder.
    let mut c = common::gradtutor(&format!("cli-{}", std::process::id()));
    c.env_remove("NO_COLOR");
    c
}

/// Runs gradtutor with `args`, expects success, returns its stdout.
fn stdout_of(args: &[&str]) -> String {
    common::stdout(gradtutor().args(args))
}

#[test]
fn clap_command_is_well_formed() {
    use clap::CommandFactory;
    gradtutor::Cli::command().debug_assert();
}

#[test]
fn list_shows_the_bank_within_80_columns() {
    let text = stdout_of(&["list"]);
    assert!(
        text.lines()
            .filter(|l| l.trim_start().starts_with(char::is_numeric))
            .count()
            >= 12
    );
    assert!(text.lines().all(|l| l.chars().count() <= 80), "{text}");
    assert!(text.contains("vanishing"));
}

#[test]
fn ask_by_id_and_by_slug() {
    gradtutor()
        .args(["ask", "3", "--no-demo"])
        .assert()
        .success()
        .stdout(predicate::str::contains("σ′(x) = σ(x) · (1 − σ(x))"))
        .stdout(predicate::str::contains(
            "gradtutor demo activations --depth 20",
        ));
    gradtutor()
        .args(["ask", "saturating-activations", "--no-demo"])
        .assert()
        .success()
        .stdout(predicate::str::contains("Question 3"));
}

#[test]
fn ask_runs_the_experiment_and_flags_override_the_preset() {
    gradtutor()
        .args([
            "ask",
            "1",
            "--depth",
            "6",
            "--width",
            "16",
            "--batch",
            "8",
            "--no-train",
        ])
        .assert()
        .success()
        .stdout(predicate::str::contains("depth 6 × width 16"))
        .stdout(predicate::str::contains("▶"))
        .stdout(predicate::str::contains("$ gradtutor train").not());
}

#[test]
fn ask_runs_the_questions_training_preset_after_the_experiment() {
    let dir = tempfile::tempdir().unwrap();
    write_question(dir.path(), "a.toml", 1, "first");
    let mut text = fs::read_to_string(dir.path().join("a.toml")).unwrap();
    text.push_str(
        "\n[train]\ncompare = \"tanh,relu+bn\"\nsteps = 20\ndepth = 3\nwidth = 8\n\
         samples = 200\ntakeaway = \"watch\"\n",
    );
    fs::write(dir.path().join("a.toml"), text).unwrap();
    let out = stdout_of(&["--questions", dir.path().to_str().unwrap(), "ask", "1"]);
    let (demo, training) = out.split_once("Training").expect("a Training section");
    assert!(demo.contains("depth 3 × width 8"));
    assert!(training.contains("Look for: watch"));
    assert!(training.contains("$ gradtutor train --compare tanh,relu+bn --samples 200"));
    assert!(training.contains("tanh/xavier-normal") && training.contains("relu/he-normal+bn"));
}

#[test]
fn unknown_question_lists_ids_and_points_to_list() {
    gradtutor().args(["ask", "99"]).assert().failure().stderr(
        predicate::str::contains(format!("ids 1–{}", common::bank_size()))
            .and(predicate::str::contains("gradtutor list")),
    );
    gradtutor()
        .args(["ask", "saturating-activation"])
        .assert()
        .failure()
        .stderr(predicate::str::contains(
            "Did you mean 'saturating-activations'",
        ));
}

#[test]
fn bad_demo_inputs_fail_with_a_message() {
    let cases: &[(&[&str], &str)] = &[
        (&["demo", "vanish"], "Did you mean 'vanishing'"),
        (
            &["demo", "vanishing", "--activation", "swish"],
            "valid: sigmoid",
        ),
        (
            &["demo", "vanishing", "--init", "glorot-weird"],
            "valid: xavier-normal",
        ),
        (
            &["demo", "vanishing", "--depth", "0"],
            "depth must be at least 1",
        ),
        (
            &["demo", "vanishing", "--batch", "1", "--bn"],
            "batch norm needs a batch of at least 2",
        ),
        (
            &["demo", "vanishing", "--width", "100000", "--depth", "100"],
            "--max-memory",
        ),
        (
            &["demo", "vanishing", "--init", "normal"],
            "needs a standard deviation",
        ),
        (
            &["demo", "activations", "--activation", "relu"],
            "drop --activation",
        ),
        (
            &["demo", "vanishing", "--seeds", "0"],
            "--seeds must be between",
        ),
        (&["demo", "vanishing", "--depth=-3"], "invalid value"),
        (&["--max-memory", "lots", "list"], "not a size"),
    ];
    for (args, msg) in cases {
        gradtutor()
            .args(*args)
            .assert()
            .failure()
            .stderr(predicate::str::contains(*msg).and(predicate::str::contains("panicked").not()));
    }
}

#[test]
fn demos_lists_every_experiment() {
    let text = stdout_of(&["demos"]);
    for name in gradtutor::EXPERIMENTS.iter().map(|e| e.name) {
        assert!(text.contains(name));
    }
    gradtutor()
        .args(["demo", "--list"])
        .assert()
        .success()
        .stdout(text);
}

#[test]
fn color_only_when_asked_or_on_a_terminal() {
    let small = ["demo", "vanishing", "--depth", "3", "--width", "8"];
    assert!(!stdout_of(&small).contains('\x1b'));
    let always = [&["--color", "always"][..], &small].concat();
    assert!(stdout_of(&always).contains('\x1b'));
}

#[test]
fn completions_and_version() {
    gradtutor()
        .args(["completions", "bash"])
        .assert()
        .success()
        .stdout(predicate::str::contains("gradtutor"));
    gradtutor()
        .arg("--version")
        .assert()
        .success()
        .stdout(predicate::str::contains("gradtutor"));
    // The manual page is roff with every subcommand.
    gradtutor()
        .arg("man")
        .assert()
        .success()
        .stdout(predicate::str::starts_with(".ie"))
        .stdout(predicate::str::contains(".TH gradtutor 1"))
        .stdout(predicate::str::contains("completions"));
}

#[test]
fn json_is_valid_and_has_the_documented_fields() {
    let out = stdout_of(&[
        "demo",
        "exploding",
        "--depth",
        "120",
        "--width",
        "32",
        "--json",
    ]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["experiment"], "exploding");
    let run = &v["runs"][0];
    for key in [
        "label",
        "config",
        "loss",
        "first_nonfinite_layer",
        "theory",
        "layers",
    ] {
        assert!(run.get(key).is_some(), "missing {key}");
    }
    for key in [
        "layer",
        "fan_in",
        "fan_out",
        "grad_norm",
        "signal_norm",
        "act_mean",
        "act_std",
        "saturated",
    ] {
        assert!(
            run["layers"][0].get(key).is_some(),
            "missing layers[].{key}"
        );
    }
}

fn write_question(dir: &std::path::Path, file: &str, id: u32, slug: &str) {
    let text = format!(
        "format_version = 1\nid = {id}\nslug = \"{slug}\"\ntitle = \"T\"\nquestion = \"Q?\"\n\
         answer = \"A.\"\nkey_points = [\"k\"]\n\n[experiment]\ndemo = \"vanishing\"\n\
         depth = 3\nwidth = 8\ntakeaway = \"look\"\n"
    );
    fs::write(dir.join(file), text).unwrap();
}

#[test]
fn a_questions_only_folder_replaces_the_built_in_bank() {
    let dir = tempfile::tempdir().unwrap();
    write_question(dir.path(), "a.toml", 1, "first");
    write_question(dir.path(), "b.toml", 2, "second");
    gradtutor()
        .args(["--questions-only", dir.path().to_str().unwrap(), "list"])
        .assert()
        .success()
        .stdout(predicate::str::contains("  2  second  T"))
        .stdout(predicate::str::contains("vanishing-gradients").not());
    gradtutor()
        .env("GRADTUTOR_QUESTIONS", dir.path())
        .args(["ask", "second"])
        .assert()
        .success()
        .stdout(predicate::str::contains("depth 3 × width 8"));
}

#[test]
fn broken_banks_are_reported_with_path_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    write_question(dir.path(), "a.toml", 1, "first");
    fs::write(
        dir.path().join("broken.toml"),
        "format_version = 1\nid = = 2\n",
    )
    .unwrap();
    let q = dir.path().to_str().unwrap();
    gradtutor()
        .args(["--questions", q, "list"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("broken.toml:2:6"));

    let dup = tempfile::tempdir().unwrap();
    write_question(dup.path(), "a.toml", 1, "first");
    write_question(dup.path(), "b.toml", 1, "other");
    gradtutor()
        .args(["--questions", dup.path().to_str().unwrap(), "list"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("duplicate id 1"));

    let bad = tempfile::tempdir().unwrap();
    fs::write(bad.path().join("x.toml"), b"title = \"\xff\xfe\"\n").unwrap();
    gradtutor()
        .args(["--questions", bad.path().to_str().unwrap(), "list"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("x.toml: it is not UTF-8"));

    let empty = tempfile::tempdir().unwrap();
    gradtutor()
        .args(["--questions", empty.path().to_str().unwrap(), "list"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("has no question files"));
    gradtutor()
        .args(["--questions", "/nonexistent/bank", "list"])
        .assert()
        .failure()
        .stderr(predicate::str::contains(
            "cannot read the question folder /nonexistent/bank",
        ));
}

#[test]
fn train_prints_a_comparison_and_its_verdicts() {
    let text = stdout_of(&[
        "train",
        "--steps",
        "40",
        "--depth",
        "4",
        "--width",
        "16",
        "--samples",
        "200",
    ]);
    for label in [
        "sigmoid/xavier-normal",
        "relu/he-normal",
        "sigmoid/xavier-normal+bn",
        "sigmoid/xavier-normal+residual",
    ] {
        assert!(text.contains(label), "{label} missing:\n{text}");
    }
    assert_eq!(
        text.matches("▶ ").count(),
        4,
        "one verdict per configuration"
    );
    assert!(text.lines().all(|l| l.chars().count() <= 80), "{text}");
}

#[test]
fn train_json_has_the_history_and_plot_writes_svg() {
    let dir = tempfile::tempdir().unwrap();
    let svg = dir.path().join("loss.svg");
    let text = stdout_of(&[
        "train",
        "--compare",
        "relu/he-normal,tanh",
        "--samples",
        "200",
        "--steps",
        "30",
        "--json",
        "--plot",
        svg.to_str().unwrap(),
    ]);
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let runs = v["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 2);
    assert_eq!(runs[1]["label"], "tanh/xavier-normal");
    assert!(
        runs[1]["variant"].get("optimizer").is_none(),
        "without @ the runs share config.optimizer and name none"
    );
    assert_eq!(runs[0]["losses"].as_array().unwrap().len(), 30);
    assert!(runs[0]["checkpoints"][0]["grad_norms"].is_array());
    assert!(runs[0]["checkpoints"][0]["update_ratios"].is_array());
    assert!(fs::read_to_string(&svg).unwrap().starts_with("<svg"));
}

// Catches: an entry's @optimizer that never reaches its run (both runs would then take the
// same steps), a JSON config without each run's optimizer, a header naming one optimizer.
#[test]
fn compare_entries_with_their_own_optimizers_train_differently() {
    let args = [
        "train",
        "--compare",
        "sigmoid/xavier-normal@sgd,sigmoid/xavier-normal@adam",
        "--depth",
        "10",
        "--steps",
        "30",
    ];
    let text = stdout_of(&[&args[..], &["--json"]].concat());
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let runs = v["runs"].as_array().unwrap();
    let mut first_layer = Vec::new();
    for (run, opt) in runs.iter().zip(["sgd", "adam"]) {
        assert_eq!(run["label"], format!("sigmoid/xavier-normal@{opt}"));
        assert_eq!(run["variant"]["optimizer"], opt);
        let ratios = run["checkpoints"][0]["update_ratios"].as_array().unwrap();
        assert_eq!(ratios.len(), 11);
        first_layer.push(ratios[0].as_f64().unwrap());
    }
    assert_eq!(runs.len(), 2);
    assert_eq!(v["config"]["variants"][1]["optimizer"], "adam");
    let (sgd, adam) = (first_layer[0], first_layer[1]);
    assert!(sgd > 0.0 && adam > 1e3 * sgd, "SGD {sgd}, Adam {adam}");
    let text = stdout_of(&args);
    assert!(
        text.contains("30 steps of sgd, adam per configuration (η 0.01)"),
        "{text}"
    );
    assert!(text.contains("\nsigmoid/xavier-normal@adam\n"), "{text}");
}

#[test]
fn train_rejects_bad_input_with_a_message() {
    gradtutor()
        .args(["train", "--compare", "relu/he"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("unknown initializer 'he'"));
    gradtutor()
        .args(["train", "--dataset", "moons"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("spiral"));
    for (args, says) in [
        (&["train", "--batch", "0"][..], "--batch must be at least 1"),
        (
            &["train", "--noise", "-1"],
            "--noise must be a finite number ≥ 0",
        ),
        (
            &["train", "--compare", "relu+bn", "--batch", "1"],
            "at least 2 examples",
        ),
        (
            &["demo", "vanishing", "--init", "normal", "--std", "-1"],
            "must be a positive",
        ),
    ] {
        gradtutor()
            .args(args)
            .assert()
            .failure()
            .stderr(predicate::str::contains(says));
    }
    gradtutor()
        .args(["train", "--plot", "/nonexistent-dir/x.svg", "--steps", "5"])
        .assert()
        .failure()
        .stderr(predicate::str::contains(
            "cannot write /nonexistent-dir/x.svg",
        ));
}

/// The stdout of `gradtutor --threads N ARGS…` for N = 1 and 2, which must be the same bytes.
fn assert_same_on_one_and_two_threads(args: &[&str]) {
    let run = |threads: &str| {
        let out = gradtutor()
            .args(["--threads", threads])
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    };
    let one = run("1");
    assert!(one.len() > 1000, "a full JSON report");
    assert!(
        one == run("2"),
        "--threads 1 and --threads 2 printed different bytes for {args:?}"
    );
}

// Catches: a thread that draws a layer from the wrong stream, a split of a GEMM's inner sum
// across threads, or figures summed in thread-completion order. The run is large enough
// (6 × 1024² weights, 1024 × 1024 kernels) that matrixmultiply splits its products.
#[test]
fn results_are_bit_identical_on_one_and_two_threads() {
    assert_same_on_one_and_two_threads(&[
        "demo",
        "vanishing",
        "--depth",
        "6",
        "--width",
        "1024",
        "--batch",
        "256",
        "--json",
    ]);
}

// Catches: configurations of a comparison sharing state when they train on two threads
// (one batch stream, one dataset), or runs reported in completion order.
#[test]
fn a_comparison_trains_the_same_on_one_and_two_threads() {
    assert_same_on_one_and_two_threads(&["train", "--steps", "60", "--json"]);
}
