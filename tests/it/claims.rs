//! Words tied to numbers: placeholders filled from the run shown beside them, claims that
//! `check` verifies by running them, and numeric items whose figure the output must print.

use assert_cmd::Command;
use gradtutor::{Figure, Settings, find_experiment};
use std::fs;

const HEAD: &str = "format_version = 1\nid = 1\nslug = \"s\"\ntitle = \"T\"\nquestion = \"Q\"\n";

/// A one-question bank in a fresh folder: `answer` and the rest of the file after it.
fn bank(answer: &str, rest: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        "{HEAD}answer = \"{answer}\"\nkey_points = [\"k\"]\n[experiment]\ndemo = \"vanishing\"\n\
         depth = 8\ntakeaway = \"t\"\n{rest}"
    );
    fs::write(dir.path().join("q.toml"), text).unwrap();
    dir
}

use super::common;

fn gradtutor() -> Command {
    common::gradtutor("claims")
}

/// The depth-8 vanishing run's figure, measured by the library.
fn measured(figure: Figure) -> f64 {
    let settings = Settings {
        depth: Some(8),
        ..Settings::default()
    };
    let report = find_experiment("vanishing")
        .unwrap()
        .run(&settings, 1 << 30)
        .unwrap();
    figure.of(&report.runs[0]).unwrap()
}

#[test]
fn placeholders_are_filled_from_the_run_shown() {
    let dir = bank("Layer 1 gets {grad-orders-drop} orders less.", "");
    let text =
        common::stdout(gradtutor().args(["--questions", dir.path().to_str().unwrap(), "ask", "1"]));
    let want = gradtutor::format_figure(measured(Figure::GradOrdersDrop));
    assert!(
        text.contains(&format!("Layer 1 gets {want} orders less.")),
        "{text}"
    );
    // With other flags the text follows the run that is shown.
    let text = common::stdout(gradtutor().args([
        "--questions",
        dir.path().to_str().unwrap(),
        "ask",
        "1",
        "--depth",
        "4",
    ]));
    assert!(!text.contains(&format!("gets {want} orders")));
}

#[test]
fn an_unknown_placeholder_is_refused_with_a_suggestion() {
    let dir = bank("Layer 1 gets {grad-order-drop} orders less.", "");
    gradtutor()
        .args(["check", dir.path().to_str().unwrap()])
        .assert()
        .failure()
        .stdout(predicates::str::contains(
            "q.toml:6:1: {grad-order-drop} is not a figure; did you mean {grad-orders-drop}?",
        ));
}

#[test]
fn a_true_claim_passes_and_a_false_one_fails_at_its_line() {
    let v = measured(Figure::GradOrdersDrop);
    let claim = |lo: f64, hi: f64| {
        format!(
            "[[claim]]\nfigure = \"grad-orders-drop\"\nmin = {lo}\nmax = {hi}\n\
             text = \"eight layers cost about five orders\"\n"
        )
    };
    let good = bank("A", &claim(v - 0.5, v + 0.5));
    gradtutor()
        .args(["check", good.path().to_str().unwrap()])
        .assert()
        .success()
        .stdout(predicates::str::contains(
            "1 question, 0 quiz items, 1 claim, no problems",
        ));
    let bad = bank("A", &claim(v + 1.0, v + 2.0));
    gradtutor()
        .args(["check", bad.path().to_str().unwrap()])
        .assert()
        .failure()
        .stdout(predicates::str::contains(format!(
            "q.toml:12:1: false claim: grad-orders-drop of the first run is {}",
            gradtutor::format_figure(v)
        )))
        .stdout(predicates::str::contains(
            "\"eight layers cost about five orders\"",
        ));
}

#[test]
fn a_numeric_item_must_ask_for_a_figure_the_output_prints() {
    // demo vanishing never prints the number of parameters (demo he does).
    let item = "[[quiz]]\nprompt = \"How many parameters?\"\nfigure = \"parameters\"\n\
                tolerance = 1.0\nexplanation = \"e\"\n";
    let dir = bank("A", item);
    gradtutor()
        .args(["check", dir.path().to_str().unwrap()])
        .assert()
        .failure()
        .stdout(predicates::str::contains(
            "numeric quiz item: its figure parameters (133386)",
        ))
        .stdout(predicates::str::contains(
            "does not appear in the output of `gradtutor demo vanishing --depth 8`",
        ));
    let printed = item.replace("parameters", "grad-orders-drop");
    let dir = bank("A", &printed);
    gradtutor()
        .args(["check", dir.path().to_str().unwrap()])
        .assert()
        .success();
}

/// `check` runs experiments for their figures only, without depth sweeps; a numeric item
/// whose figure the demo prints only in its sweep table (σ95/σ5 of demo isometry) still
/// passes, because demo isometry declares that figure printed (`Experiment::prints`). This
/// tests the declaration, not the table: removing the table would not fail it.
#[test]
fn a_figure_printed_only_in_a_sweep_table_counts_as_printed() {
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        "{HEAD}answer = \"A\"\nkey_points = [\"k\"]\n[experiment]\ndemo = \"isometry\"\n\
         depth = 4\nwidth = 16\nbatch = 4\ntakeaway = \"t\"\n[[quiz]]\nprompt = \"Spread?\"\n\
         figure = \"spectrum-spread\"\nrun = \"orth-tanh\"\ntolerance = 1.0\nexplanation = \"e\"\n"
    );
    fs::write(dir.path().join("q.toml"), text).unwrap();
    gradtutor()
        .args(["check", dir.path().to_str().unwrap()])
        .assert()
        .success();
}

#[test]
fn the_built_in_bank_with_one_claim_made_false_fails_at_that_claim() {
    let dir = tempfile::tempdir().unwrap();
    for entry in fs::read_dir("questions").unwrap() {
        let path = entry.unwrap().path();
        fs::copy(&path, dir.path().join(path.file_name().unwrap())).unwrap();
    }
    let name = "01-vanishing-gradients.toml";
    let text = fs::read_to_string(dir.path().join(name)).unwrap();
    // The first claim: the f64 run's first-layer gradient is about 1e−50.
    let line = text.lines().position(|l| l == "[[claim]]").unwrap() + 1;
    let broken = text.replacen("min = 1e-52\nmax = 1e-49", "min = 1e-40\nmax = 1e-39", 1);
    assert_ne!(broken, text);
    fs::write(dir.path().join(name), broken).unwrap();
    gradtutor()
        .args(["check", dir.path().to_str().unwrap()])
        .assert()
        .failure()
        .stdout(predicates::str::contains(format!(
            "{name}:{line}:1: false claim: grad-first of the first run is 9.60e-51, outside \
             1.00e-40–1.00e-39"
        )))
        .stderr(predicates::str::contains("1 problem in"));
}

/// A small `[train]` comparison: SGD against Adam on a 4-layer sigmoid net, 50 steps.
const TRAIN: &str = "[train]\ncompare = \"sigmoid/xavier-normal@sgd,sigmoid/xavier-normal@adam\"\n\
                     depth = 4\nsteps = 50\n";

/// That comparison, trained by the library.
fn trained() -> gradtutor::TrainReport {
    let settings = gradtutor::TrainSettings {
        compare: Some("sigmoid/xavier-normal@sgd,sigmoid/xavier-normal@adam".into()),
        depth: Some(4),
        steps: Some(50),
        ..Default::default()
    };
    gradtutor::train(&settings.config().unwrap(), 1 << 30, &|_| {}).unwrap()
}

#[test]
fn a_training_takeaway_is_filled_from_the_training_run() {
    let take = "takeaway = \"SGD moves layer 1 by {update-ratio-first@sigmoid/xavier-normal@sgd}, \
                Adam by {update-ratio-first@sigmoid/xavier-normal@adam}; loss {final-loss}.\"\n";
    let dir = bank("A", &format!("{TRAIN}{take}"));
    let text =
        common::stdout(gradtutor().args(["--questions", dir.path().to_str().unwrap(), "ask", "1"]))
            .replace('\n', " ");
    let report = trained();
    let ratio = |i: usize| gradtutor::format_figure(report.runs[i].median_update_ratios()[0]);
    let loss = gradtutor::format_figure(report.runs[0].last().1.loss);
    let want = format!(
        "SGD moves layer 1 by {}, Adam by {}; loss {loss}.",
        ratio(0),
        ratio(1)
    );
    // The takeaway is wrapped at 80 columns; compare with single spaces.
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(text.contains(&want), "{want}\n{text}");
    assert_ne!(ratio(0), ratio(1));
}

#[test]
fn training_claims_are_checked_and_refused_where_they_cannot_be_measured() {
    let v = trained().runs[1].median_update_ratios()[0];
    let claim = |lo: f64, hi: f64| {
        format!(
            "[[claim]]\nfigure = \"update-ratio-first\"\nrun = \"sigmoid/xavier-normal@adam\"\n\
             min = {lo:e}\nmax = {hi:e}\ntext = \"Adam moves layer 1\"\n"
        )
    };
    let with_train = |rest: &str| format!("{TRAIN}takeaway = \"t\"\n{rest}");
    let good = bank("A", &with_train(&claim(v * 0.9, v * 1.1)));
    gradtutor()
        .args(["check", good.path().to_str().unwrap()])
        .assert()
        .success()
        .stdout(predicates::str::contains("1 claim, no problems"));
    let bad = bank("A", &with_train(&claim(v * 2.0, v * 3.0)));
    gradtutor()
        .args(["check", bad.path().to_str().unwrap()])
        .assert()
        .failure()
        .stdout(predicates::str::contains(format!(
            "false claim: update-ratio-first of run 'sigmoid/xavier-normal@adam' is {}",
            gradtutor::format_figure(v)
        )));
    // Refused at load time: no [train] table, an unknown configuration, `settings`, and an
    // unknown figure in a [train] takeaway.
    for (file, says) in [
        (
            bank("A", &claim(0.0, 1.0)),
            "q.toml:12:1: the figure update-ratio-first is one of a training comparison, and \
             this file has no [train] table",
        ),
        (
            bank(
                "A",
                &with_train(&claim(0.0, 1.0).replace("@adam", "@adamw")),
            ),
            "has no configuration 'sigmoid/xavier-normal@adamw'; did you mean \
             'sigmoid/xavier-normal@adam'?",
        ),
        (
            bank(
                "A",
                &with_train(&format!("{}settings = {{ depth = 3 }}\n", claim(0.0, 1.0))),
            ),
            "`settings` applies to figures of the experiment",
        ),
        (
            bank("A", &format!("{TRAIN}takeaway = \"{{final-los}}\"\n")),
            "{final-los} is not a figure of a training run; did you mean {final-loss}?",
        ),
        (
            bank(
                "A",
                &with_train(&claim(0.0, 1.0).replace("update-ratio-first", "ratio")),
            ),
            "unknown figure 'ratio'; figures of the experiment's run: grad-orders-drop",
        ),
    ] {
        gradtutor()
            .args(["check", file.path().to_str().unwrap()])
            .assert()
            .failure()
            .stdout(predicates::str::contains(says));
    }
}

#[test]
fn a_diverged_run_has_its_step_and_no_final_state() {
    use gradtutor::TrainFigure as F;
    let settings = gradtutor::TrainSettings {
        activation: Some("relu".parse().unwrap()),
        init: Some("normal:1".parse().unwrap()),
        steps: Some(50),
        ..Default::default()
    };
    let report = gradtutor::train(&settings.config().unwrap(), 1 << 30, &|_| {}).unwrap();
    let run = &report.runs[0];
    let step = run
        .diverged
        .as_ref()
        .expect("N(0, 1) ReLU weights diverge")
        .step;
    assert_eq!(F::DivergedStep.of(run), Some(step as f64));
    assert_eq!(F::InitialLoss.of(run), Some(run.initial.train.loss));
    for f in [F::FinalLoss, F::TrainAccuracy, F::TestAccuracy] {
        assert_eq!(f.of(run), None, "{f}");
    }
    // A run that trains has step 0 and its last checkpoint's loss.
    let ok = &trained().runs[0];
    assert_eq!(F::DivergedStep.of(ok), Some(0.0));
    assert_eq!(
        F::FinalLoss.of(ok),
        Some(ok.checkpoints.last().unwrap().train.loss)
    );
}

/// Numeric items on figures the demos print only in a verdict, and one on a figure that is
/// not finite (κ of a Gaussian tanh Jacobian, which the demo shows as `≥1e12`).
#[test]
fn a_figure_a_verdict_states_counts_as_printed_and_an_infinite_one_does_not() {
    // Catches: an experiment's `prints` that leaves out what its verdicts state (the flow
    // verdict's signal change, the LSTM's first step back), which made `check` refuse items
    // a student can answer; and a non-finite value passing because its column is declared.
    let dir = tempfile::tempdir().unwrap();
    let items = [
        ("recurrent", "first-step-factor", "lstm"),
        ("residual", "signal-orders-drop", "residual"),
        ("skipinit", "signal-orders-drop", "α=1"),
        ("isometry", "condition-number", "gauss-tanh"),
    ];
    for (i, (demo, figure, run)) in items.iter().enumerate() {
        let text = format!(
            "format_version = 1\nid = {id}\nslug = \"q{id}\"\ntitle = \"T\"\nquestion = \"Q\"\n\
             answer = \"A\"\nkey_points = [\"k\"]\n[experiment]\ndemo = \"{demo}\"\n\
             takeaway = \"t\"\n[[quiz]]\nprompt = \"p\"\nfigure = \"{figure}\"\nrun = \"{run}\"\n\
             tolerance = 0.1\nexplanation = \"x\"\n",
            id = i + 1
        );
        fs::write(dir.path().join(format!("{:02}.toml", i + 1)), text).unwrap();
    }
    let out = gradtutor()
        .args(["--questions-only", dir.path().to_str().unwrap()])
        .args(["check", dir.path().to_str().unwrap()])
        .assert()
        .failure()
        .get_output()
        .clone();
    let text = common::text(&out.stdout) + &common::text(&out.stderr);
    let problems: Vec<&str> = text.lines().filter(|l| l.contains(".toml:")).collect();
    assert_eq!(problems.len(), 1, "{text}");
    assert!(
        problems[0].contains("04.toml:12:1: numeric quiz item: its figure condition-number (inf)"),
        "{text}"
    );
    // The verdicts do state those figures.
    let shown = |args: &[&str]| common::stdout(common::gradtutor("claims").args(args));
    assert!(shown(&["demo", "recurrent"]).contains("the first step back, t = 50 to 49"));
    assert!(shown(&["demo", "residual"]).contains("The backprop signal ‖∂L/∂h‖ itself changes by"));
}

// Catches: a claim whose range is empty or not a range loading silently, so that `ask` and
// `quiz` use the bank and only `check` notices (as a false claim), without the line.
#[test]
fn a_claim_with_min_over_max_or_a_bound_that_is_not_finite_is_refused_at_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let bank = dir.path().join("bank");
    common::stdout(
        common::gradtutor("claims")
            .args(["bank", "dump"])
            .arg(&bank),
    );
    let file = bank.join("01-vanishing-gradients.toml");
    let original = std::fs::read_to_string(&file).unwrap();
    let bounds = "min = 1e-52\nmax = 1e-49\n";
    assert!(original.contains(bounds));
    // The claim's table starts on its first key, the line after `[[claim]]`.
    let line = original[..original.find(bounds).unwrap()].lines().count() - 1;
    for bad in [
        "min = 1e-49\nmax = 1e-52\n",
        "min = nan\nmax = 1e-49\n",
        "min = 1e-52\nmax = inf\n",
        "min = -inf\nmax = 1e-49\n",
    ] {
        std::fs::write(&file, original.replacen(bounds, bad, 1)).unwrap();
        for command in ["list", "ask"] {
            let mut c = common::gradtutor("claims");
            c.arg("--questions-only").arg(&bank).arg(command);
            if command == "ask" {
                c.args(["1", "--no-demo"]);
            }
            let err = common::stderr_of_failure(&mut c);
            assert!(
                err.contains(&format!("01-vanishing-gradients.toml:{line}:"))
                    && err.contains("a claim needs finite min ≤ max"),
                "{bad}: {err}"
            );
        }
    }
}
