//! Limits on what a command line may ask for, each refused before anything runs: the time
//! budget (`--max-time`), values that are 0 or ∞ in the run's arithmetic, empty flag values,
//! outputs that are not files, and standard output that cannot be written. Each test drives
//! the binary and fails on the code before these limits (issue 27).

use super::common;
use assert_cmd::Command;
use std::fs;
use std::path::Path;
use std::time::Duration;

/// A regression that runs what should be refused fails the test instead of stalling it.
const HANG: Duration = Duration::from_secs(60);

fn gradtutor() -> Command {
    let mut c = common::gradtutor("limits");
    c.timeout(HANG);
    c
}

fn failure(args: &[&str]) -> String {
    common::stderr_of_failure(gradtutor().args(args))
}

/// The built-in bank dumped into `dir/bank`, with question 1's `[train]` steps set to
/// `steps`.
fn bank_with_train_steps(dir: &Path, steps: usize) -> std::path::PathBuf {
    let bank = dir.join("bank");
    common::stdout(gradtutor().args(["bank", "dump"]).arg(&bank));
    let file = bank.join("01-vanishing-gradients.toml");
    let text = fs::read_to_string(&file).unwrap();
    let text = text.replacen("[train]\n", &format!("[train]\nsteps = {steps}\n"), 1);
    fs::write(&file, text).unwrap();
    bank
}

// Catches: runs that go ahead whatever their size (each of these ran for 10 s to minutes),
// a refusal without its estimate, or one that does not say which flag raises the budget.
#[test]
fn runs_estimated_over_the_time_budget_are_refused_with_their_estimate() {
    for (args, estimate) in [
        (
            &["demo", "vanishing", "--width", "8192", "--depth", "3"][..],
            "about 9.7 s",
        ),
        (&["demo", "activations", "--depth", "2000"], "about 11 s"),
        (&["demo", "init", "--classes", "100000"], "about 3.2 s"),
        (&["demo", "precision", "--batch", "100000"], "about 186 s"),
        (&["train", "--steps", "200000"], "about 189 s"),
        (
            &["ask", "1", "--depth", "2000", "--width", "512"],
            "about 25 s",
        ),
    ] {
        let err = failure(args);
        assert!(
            err.contains(estimate)
                && err.contains("over the time budget of 3.0 s")
                && err.contains("--max-time"),
            "{args:?}: {err}"
        );
    }
    // A larger budget lets a refused run go ahead; the variable sets it as the flag does.
    common::stdout(gradtutor().args(["--max-time", "20", "demo", "init", "--classes", "10000"]));
    let err = common::stderr_of_failure(
        gradtutor()
            .env("GRADTUTOR_MAX_TIME", "0.001")
            .args(["demo", "vanishing"]),
    );
    assert!(err.contains("over the time budget of 1.0e-3 s"), "{err}");
    for bad in ["0", "-1", "inf", "NaN", "soon"] {
        let err = failure(&["--max-time", bad, "list"]);
        assert!(err.contains("--max-time"), "{bad}: {err}");
    }
    let help = common::stdout(gradtutor().arg("--help"));
    assert!(help.contains("--max-time <SECONDS>") && help.contains("[default: 3]"));
}

// Catches: a bank whose preset trains for 200,000 steps passing `check` and running for
// minutes under `ask`, `quiz`-free commands that run the bank (`export`), or a budget that
// stops `list`, which runs nothing.
#[test]
fn a_preset_over_the_time_budget_fails_check_and_is_refused_before_it_runs() {
    let dir = tempfile::tempdir().unwrap();
    let bank = bank_with_train_steps(dir.path(), 200_000);
    let mut check = gradtutor();
    check.arg("check").arg(&bank);
    let (code, out, _) = common::run(&mut check);
    assert_eq!(code, 1);
    assert!(
        out.contains("01-vanishing-gradients.toml: [train]: this training would take about")
            && out.contains("200000 steps of 2 configurations")
            && out.contains("over the time budget of 3.0 s"),
        "{out}"
    );
    let err = common::stderr_of_failure(
        gradtutor()
            .arg("--questions-only")
            .arg(&bank)
            .args(["ask", "1"]),
    );
    assert!(err.contains("this training would take about"), "{err}");
    let err =
        common::stderr_of_failure(gradtutor().arg("--questions-only").arg(&bank).arg("export"));
    assert!(
        err.contains("1 run of the bank is over the time budget")
            && err.contains("nothing was run"),
        "{err}"
    );
    common::stdout(gradtutor().arg("--questions-only").arg(&bank).arg("list"));
}

// Catches: a scale, rate or bound that is positive as written but 0 (or ∞) in the arithmetic
// the run computes in: accepted, it made every gradient NaN (blamed on a layer) or froze the
// weights.
#[test]
fn values_that_are_0_or_inf_in_the_runs_arithmetic_are_refused_with_its_range() {
    for (args, says) in [
        (
            &["demo", "precision", "--loss-scale", "5e-324"][..],
            "--loss-scale 5e-324 is 0 or subnormal in f32",
        ),
        (
            &["demo", "vanishing", "--loss-scale", "1e39"],
            "--loss-scale 1e39 is ∞ in f32",
        ),
        (
            &["train", "--lr", "1e-320"],
            "--lr 1e-320 is 0 or subnormal in f32",
        ),
        (
            &["train", "--precision", "f16", "--loss-scale", "1e-40"],
            "--loss-scale 1e-40 is 0 or subnormal in f32 (an f16 run computes in f32)",
        ),
        (&["train", "--clip-norm", "1e-39"], "--clip-norm 1e-39"),
        (&["train", "--noise", "1e308"], "--noise 1e308 is ∞"),
        (
            &[
                "demo",
                "vanishing",
                "--precision",
                "f64",
                "--clip-norm",
                "1e-320",
            ],
            "--clip-norm 1e-320 is 0 or subnormal in f64",
        ),
    ] {
        let err = failure(args);
        assert!(err.contains(says), "{args:?}: {err}");
    }
    let err = failure(&["train", "--lr", "1e-320"]);
    assert!(err.contains("from 1.2e-38 to 3.4e38"), "{err}");
    // In f64 the same rate is an ordinary (if useless) number.
    common::stdout(gradtutor().args([
        "train",
        "--precision",
        "f64",
        "--lr",
        "1e-300",
        "--steps",
        "5",
    ]));
}

// Catches: an empty value on the command line read as "not set": `--progress ""` wrote to
// the default progress file instead of the one GRADTUTOR_PROGRESS names.
#[test]
fn an_empty_value_on_a_flag_is_refused_naming_the_flag() {
    for flag in [
        "--progress",
        "--questions",
        "--questions-only",
        "--max-memory",
        "--threads",
        "--max-time",
    ] {
        let err = failure(&[flag, "", "list"]);
        assert!(
            err.starts_with("error:") && err.contains(&format!("{flag} was given an empty value")),
            "{flag}: {err}"
        );
        // After the subcommand too.
        let err = failure(&["list", &format!("{flag}=")]);
        assert!(err.contains(flag), "{flag}: {err}");
    }
    // An empty variable in the environment still means "not set", as documented.
    common::stdout(
        gradtutor()
            .env("GRADTUTOR_QUESTIONS", "")
            .env("GRADTUTOR_MAX_MEMORY", "")
            .env("GRADTUTOR_MAX_TIME", "")
            .env("GRADTUTOR_THREADS", "")
            .arg("list"),
    );
}

// Catches: `export -o -` writing a file named `-`, and a FIFO (or other non-file) as an
// output blocking forever after every experiment has run.
#[cfg(unix)]
#[test]
fn outputs_that_are_not_files_are_refused_before_anything_runs_and_dash_is_stdout() {
    let dir = tempfile::tempdir().unwrap();
    let out = common::stdout(
        gradtutor()
            .current_dir(dir.path())
            .args(["export", "-o", "-"]),
    );
    assert!(out.starts_with("# "), "{}", &out[..80.min(out.len())]);
    assert!(!dir.path().join("-").exists());
    let fifo = dir.path().join("out.fifo");
    let svg = dir.path().join("chart.svg");
    for p in [&fifo, &svg] {
        assert!(
            std::process::Command::new("mkfifo")
                .arg(p)
                .status()
                .unwrap()
                .success()
        );
    }
    let err = common::stderr_of_failure(gradtutor().arg("export").arg("-o").arg(&fifo));
    assert!(
        err.contains("out.fifo") && err.contains("not a regular file"),
        "{err}"
    );
    let err =
        common::stderr_of_failure(gradtutor().args(["demo", "vanishing", "--plot"]).arg(&svg));
    assert!(
        err.contains("chart.svg") && err.contains("not a regular file"),
        "{err}"
    );
    // `bank dump --force` over a FIFO of a question file's name.
    let bank = dir.path().join("bank");
    common::stdout(gradtutor().args(["bank", "dump"]).arg(&bank));
    let question = bank.join("01-vanishing-gradients.toml");
    fs::remove_file(&question).unwrap();
    assert!(
        std::process::Command::new("mkfifo")
            .arg(&question)
            .status()
            .unwrap()
            .success()
    );
    let err = common::stderr_of_failure(gradtutor().args(["bank", "dump", "--force"]).arg(&bank));
    assert!(
        err.contains("01-vanishing-gradients.toml is not a regular file"),
        "{err}"
    );
}

// Catches: output that could not be written reported as success: help and version to a full
// disk, and every command with standard output closed (Rust drops those writes silently).
#[cfg(target_os = "linux")]
#[test]
fn output_that_cannot_be_written_is_an_error() {
    let bin = assert_cmd::cargo::cargo_bin("gradtutor");
    let full = || {
        fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .unwrap()
    };
    for args in [
        &["--help"][..],
        &["--version"],
        &["demo", "--help"],
        &["train", "--help"],
        &["list"],
    ] {
        let o = common::process_at(&std::env::temp_dir().join("gradtutor-limits.json"))
            .args(args)
            .stdout(full())
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(1), "{args:?}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            err.starts_with("error:") && err.contains("No space left"),
            "{args:?}: {err}"
        );
    }
    for args in [
        "list",
        "demo vanishing",
        "quiz --question 9 --answers a,a",
        "tour",
        "--help",
    ] {
        let o = std::process::Command::new("sh")
            .arg("-c")
            .arg(format!("exec \"$0\" {args} >&-"))
            .arg(&bin)
            .env(
                "GRADTUTOR_PROGRESS",
                std::env::temp_dir().join("gradtutor-limits.json"),
            )
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(1), "{args}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            err.contains("cannot write to standard output"),
            "{args}: {err}"
        );
    }
}
