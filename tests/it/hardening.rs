//! Bad input of every kind gets a clear message and a non-zero exit, never a panic, a huge
//! allocation or raw escape sequences on the terminal.

use assert_cmd::Command;
use std::fs;
use std::path::Path;

use super::common;

fn gradtutor() -> Command {
    common::gradtutor("hardening")
}

use common::run;

/// Fails unless the command exits non-zero with `error:` first and `says` in the message,
/// without a panic or a raw escape character.
fn refused(args: &[&str], says: &str) {
    let (code, _, err) = run(gradtutor().args(args));
    assert!(code != 0, "{args:?} exited 0");
    assert!(!err.contains("panicked"), "{args:?} panicked: {err}");
    assert!(
        !err.contains('\x1b'),
        "{args:?} echoed a raw escape: {err:?}"
    );
    let first = err.lines().next().unwrap_or("");
    assert!(first.starts_with("error:"), "{args:?}: {err}");
    assert!(err.contains(says), "{args:?}: wanted {says:?} in {err}");
}

#[test]
fn forty_bad_invocations_each_get_a_message_naming_what_is_wrong() {
    let cases: &[(&[&str], &str)] = &[
        (&["nope"], "unrecognized subcommand 'nope'"),
        (&["ask"], "<ID|SLUG>"),
        (&["ask", "99"], "there is no question 99"),
        (
            &["ask", "vanishing-gradient"],
            "Did you mean 'vanishing-gradients'",
        ),
        (&["ask", "1", "--depth", "0"], "depth must be at least 1"),
        (&["ask", "1", "--std", "NaN"], "--std NaN sets the scale"),
        (
            &["ask", "1", "--activation", "nope"],
            "unknown activation 'nope'",
        ),
        (
            &["ask", "3", "--activation", "relu"],
            "sets --activation itself",
        ),
        (&["demo", "vanish"], "Did you mean 'vanishing'"),
        (&["demo", "vanishing", "--depth", "-1"], "--depth"),
        (&["demo", "vanishing", "--depth", "x"], "--depth"),
        (
            &["demo", "vanishing", "--width", "0"],
            "width must be at least 1",
        ),
        (
            &["demo", "vanishing", "--batch", "0"],
            "batch must be at least 1",
        ),
        (
            &["demo", "vanishing", "--classes", "1"],
            "classes must be at least 2",
        ),
        (
            &["demo", "vanishing", "--init", "bogus"],
            "unknown initializer 'bogus'",
        ),
        (
            &["demo", "vanishing", "--init", "normal"],
            "needs a standard deviation",
        ),
        (
            &["demo", "vanishing", "--init", "normal:-1"],
            "must be positive",
        ),
        (
            &["demo", "vanishing", "--init", "normal:0.1", "--std", "0.2"],
            "already sets its scale",
        ),
        (
            &["demo", "vanishing", "--activation", "elu:inf"],
            "must be finite",
        ),
        (&["demo", "vanishing", "--precision", "f8"], "--precision"),
        (
            &["demo", "vanishing", "--seeds", "0"],
            "--seeds must be between 1 and 100",
        ),
        (
            &["demo", "vanishing", "--seeds", "101"],
            "--seeds must be between 1 and 100",
        ),
        (
            &["demo", "vanishing", "--clip-norm", "0"],
            "--clip-norm must be a positive number",
        ),
        (
            &["demo", "vanishing", "--bn", "--batch", "1"],
            "batch norm needs a batch of at least 2",
        ),
        (
            &["demo", "vanishing", "--depth", "18446744073709551615"],
            "needs about",
        ),
        (
            &["demo", "vanishing", "--width", "4000000000"],
            "needs about",
        ),
        (&["demo", "he", "--depth", "3"], "sets --depth, --width"),
        (
            &["demo", "init", "--std", "0.1"],
            "sets --init, --std itself",
        ),
        (
            &["demo", "vanishing", "--plot", "/nonexistent/x.svg"],
            "does not exist",
        ),
        (
            &["demo", "vanishing", "--plot", "chart.png"],
            "ending in .svg (got chart.png)",
        ),
        (
            &["train", "--plot", "chart.pdf"],
            "ending in .svg (got chart.pdf)",
        ),
        (
            &["train", "--samples", "0"],
            "--samples 0 leaves no examples",
        ),
        (&["train", "--steps", "0"], "--steps must be between"),
        (&["train", "--lr", "-1"], "--lr must be a positive number"),
        (
            &["train", "--compare", "sigmoid+bn+bn"],
            "'+bn' appears twice",
        ),
        (
            &["train", "--compare", "relu+wings"],
            "unknown option '+wings'",
        ),
        (&["train", "--compare", "nope"], "unknown activation 'nope'"),
        (
            &["train", "--compare", "relu@nope"],
            "unknown optimizer 'nope' in --compare entry 'relu@nope'; the optimizers are sgd, \
             momentum, adam",
        ),
        (
            &["train", "--compare", "relu@adam@sgd"],
            "'@' appears twice in --compare entry 'relu@adam@sgd'",
        ),
        (
            &["train", "--compare", "@"],
            "'@' in --compare names no activation",
        ),
        (
            &["train", "--compare", "relu@"],
            "names no optimizer after '@'",
        ),
        (
            &["train", "--compare", "relu", "--activation", "tanh"],
            "drop --activation",
        ),
        (&["train", "--dataset", "mnist"], "--dataset"),
        (&["train", "--depth", "99999999999"], "needs about"),
        (
            &["train", "--batch", "5000"],
            "larger than the 750 training examples",
        ),
        (
            &["train", "--clip-value", "0"],
            "--clip-value must be a positive number",
        ),
        (
            &["train", "--target-loss", "-1"],
            "--target-loss must be a number ≥ 0",
        ),
        (&["quiz", "--question", "99"], "there is no question 99"),
        (&["quiz", "--count", "0"], "--count must be at least 1"),
        (
            &["quiz", "--question", "1", "--answers", "a"],
            "--answers gives 1 answer for 3",
        ),
        (
            &["quiz", "--question", "1", "--answers", "x,b,a"],
            "answer 1: 'x' is not a number",
        ),
        (
            &["quiz", "--question", "1", "--answers", "1,z,a"],
            "answer 2: 'z' is not one of",
        ),
        (&["tour", "--from", "nope"], "there is no question 'nope'"),
        (
            &["check", "/nonexistent-folder"],
            "cannot read the question folder",
        ),
        (&["export", "--format", "pdf"], "--format"),
        (&["completions", "tcsh"], "tcsh"),
        (&["--max-memory", "12XB", "list"], "unknown size unit"),
        (&["--max-memory", "0", "list"], "not a usable memory limit"),
        (
            &["--questions", "/nonexistent-folder", "list"],
            "cannot read the question folder",
        ),
        (
            &["demo", "\x1b[31mred"],
            "unknown experiment '\\u{1b}[31mred'",
        ),
        (&["ask", "a\x07b"], "there is no question 'a\\u{7}b'"),
        (
            &["--questions-only", "/nonexistent-folder", "list"],
            "cannot read the question folder",
        ),
        (
            &["--questions", "/a", "--questions-only", "/b", "list"],
            "not both",
        ),
        (&["bank"], "Usage: gradtutor bank"),
        (&["bank", "dump"], "<DIR>"),
        (&["bank", "dump", "/dev/null"], "is not a folder"),
        (
            &["bank", "dump", "/proc/self/nope/bank"],
            "cannot create the folder",
        ),
        (&["roster"], "<FILE>"),
        (
            &["roster", "/nonexistent/a.json"],
            "/nonexistent/a.json: there is no such file",
        ),
        (&["roster", "/dev/null"], "not a regular file"),
        (&["roster", "/tmp", "--format", "csv"], "it is a folder"),
        (&["roster", "x.json", "x.json"], "x.json is given twice"),
        (&["roster", "--format", "xml", "x.json"], "--format"),
        (
            &["progress", "--name", "a\x1b[2Jb"],
            "a name may not hold control characters",
        ),
    ];
    assert!(cases.len() >= 40);
    for (args, says) in cases {
        refused(args, says);
    }
}

#[test]
fn sizes_are_refused_from_their_numbers_before_anything_is_allocated() {
    // Under a 1 GiB address-space limit: allocating first (as before) aborts the process;
    // estimating first refuses with the estimate, exit 1.
    for depth in ["100000000", "99999999999", "18446744073709551615"] {
        let bin = assert_cmd::cargo::cargo_bin("gradtutor");
        let script = format!(
            "ulimit -v 1048576; exec {} demo vanishing --depth {depth}",
            bin.display()
        );
        let (code, _, err) = run(Command::new("sh").args(["-c", &script]));
        assert_eq!(code, 1, "depth {depth}: {err}");
        assert!(err.contains("this run needs about"), "depth {depth}: {err}");
    }
}

/// A folder holding question 1 with `edit` applied.
fn bank_with(dir: &Path, edit: impl Fn(String) -> String) {
    let q1 = fs::read_to_string("questions/01-vanishing-gradients.toml").unwrap();
    fs::write(dir.join("01.toml"), edit(q1)).unwrap();
}

#[test]
fn presets_too_large_or_impossible_are_refused_when_the_bank_loads() {
    let dir = tempfile::tempdir().unwrap();
    bank_with(dir.path(), |q| {
        q.replacen("depth = 20", "depth = 99999999999", 1).replacen(
            "[train]",
            "[train]\nsamples = 0",
            1,
        )
    });
    let dir_arg = dir.path().to_str().unwrap();
    for cmd in [vec!["check", dir_arg], vec!["--questions", dir_arg, "list"]] {
        let (code, out, err) = run(gradtutor().args(&cmd));
        let text = out + &err;
        assert!(code != 0, "{cmd:?}: {text}");
        assert!(!text.contains("panicked"), "{cmd:?}: {text}");
        assert!(text.contains("this run needs about"), "{cmd:?}: {text}");
        assert!(
            text.contains("--samples 0 leaves no examples"),
            "{cmd:?}: {text}"
        );
    }
}

#[test]
fn control_characters_in_a_bank_are_refused_with_their_place() {
    let dir = tempfile::tempdir().unwrap();
    bank_with(dir.path(), |q| {
        q.replacen("title = \"", "title = \"\\u001b]0;pwned\\u0007", 1)
    });
    let (code, out, _) = run(gradtutor().args(["check", dir.path().to_str().unwrap()]));
    assert_eq!(code, 1);
    assert!(
        out.contains("01.toml:4:9: this text holds the control character U+001B"),
        "{out}"
    );
    assert!(!out.contains('\x1b') && !out.contains('\x07'), "{out:?}");
    let (code, out, err) =
        run(gradtutor().args(["--questions", dir.path().to_str().unwrap(), "ask", "1"]));
    assert_eq!(code, 1);
    assert!(
        !out.contains('\x1b') && !err.contains('\x1b'),
        "{out:?} {err:?}"
    );
}

#[test]
fn a_file_name_cannot_forge_a_line_of_the_report() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("a\nerror: forged.toml"), "id = = 1\n").unwrap();
    let (code, out, _) = run(gradtutor().args(["check", dir.path().to_str().unwrap()]));
    assert_eq!(code, 1);
    assert!(out.contains("a\\nerror: forged.toml:1:6:"), "{out}");
    assert!(
        !out.lines().any(|l| l.starts_with("error: forged")),
        "{out}"
    );
}

#[test]
fn oversized_question_files_and_broken_links_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    bank_with(dir.path(), |q| q);
    let big = format!("# {}\n", "x".repeat(2 << 20));
    fs::write(dir.path().join("big.toml"), big).unwrap();
    std::os::unix::fs::symlink("nowhere.toml", dir.path().join("dangling.toml")).unwrap();
    std::os::unix::fs::symlink("loop.toml", dir.path().join("loop.toml")).unwrap();
    let (code, out, _) = run(gradtutor().args(["check", dir.path().to_str().unwrap()]));
    assert_eq!(code, 1);
    assert!(out.contains("big.toml: it is larger than 1.0 MiB"), "{out}");
    assert!(out.contains("dangling.toml: cannot read it"), "{out}");
    assert!(out.contains("loop.toml: cannot read it"), "{out}");
}

#[test]
fn check_reports_every_kind_of_problem_in_one_run() {
    let dir = tempfile::tempdir().unwrap();
    let q10 = fs::read_to_string("questions/10-dying-relu.toml").unwrap();
    let variant = |id: u32, slug: &str, from: &str, to: &str| {
        q10.replace("id = 10", &format!("id = {id}"))
            .replace("slug = \"dying-relu\"", &format!("slug = \"{slug}\""))
            .replacen(from, to, 1)
    };
    let files = [
        ("a.toml", q10.clone()),
        (
            "b.toml",
            q10.replace("slug = \"dying-relu\"", "slug = \"b\""),
        ),
        ("c.toml", "format_version = 1\nid = = 3\n".to_string()),
        (
            "e.toml",
            variant(33, "e", "[experiment]", "[experiment]\nwidht = 3"),
        ),
        (
            "f.toml",
            variant(30, "f", "demo = \"activations\"", "demo = \"activatons\""),
        ),
        (
            "g.toml",
            variant(31, "g", "run = \"relu\"", "run = \"rleu\""),
        ),
        (
            "h.toml",
            variant(32, "h", "run = \"relu\"", "run = \"tanh\""),
        ),
        (
            "u.toml",
            variant(34, "u", "title = \"", "title = \"unterminated\n"),
        ),
    ];
    for (name, text) in &files {
        fs::write(dir.path().join(name), text).unwrap();
    }
    let (code, out, err) = run(gradtutor().args(["check", dir.path().to_str().unwrap()]));
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("7 problems"), "{err}\n{out}");
    for want in [
        "b.toml:2:1: duplicate id 10 (also at ",
        "c.toml:2:6:",
        "e.toml:31:1: in [experiment]: unknown field `widht`; did you mean `width`?",
        "f.toml:31:1: unknown experiment 'activatons'. Did you mean 'activations'?",
        "g.toml:37:1: the activations experiment has no run 'rleu'; did you mean 'relu'?",
        "h.toml:37:1: the figure dead-percent needs a ReLU run",
        "run 'tanh' of the activations experiment is tanh",
        "u.toml:4:",
    ] {
        assert!(out.contains(want), "wanted {want:?} in\n{out}");
    }
}

#[test]
fn empty_variables_count_as_unset() {
    for var in [
        "GRADTUTOR_PROGRESS",
        "GRADTUTOR_QUESTIONS",
        "GRADTUTOR_MAX_MEMORY",
    ] {
        let (code, out, err) = run(gradtutor().env(var, "").arg("list"));
        assert_eq!(code, 0, "{var}: {err}");
        assert!(out.contains("vanishing"), "{var}: {out}");
    }
}

#[test]
fn a_completion_script_into_a_full_disk_is_an_error_not_a_panic() {
    let full = fs::File::options().write(true).open("/dev/full").unwrap();
    let out = std::process::Command::new(assert_cmd::cargo::cargo_bin("gradtutor"))
        .args(["completions", "bash"])
        .stdout(full)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert!(err.contains("No space left on device"), "{err}");
}

#[test]
fn a_message_quotes_only_a_short_prefix_of_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    bank_with(dir.path(), |q| {
        q.replacen("id = 1", &format!("id = \"{}\"", "x".repeat(200_000)), 1)
    });
    let (code, out, _) = run(gradtutor().args(["check", dir.path().to_str().unwrap()]));
    assert_eq!(code, 1);
    let line = out.lines().find(|l| l.contains("01.toml:")).unwrap();
    assert!(
        line.chars().count() < 500,
        "{} characters",
        line.chars().count()
    );
    assert!(line.ends_with('…'), "{line}");
}

#[test]
fn a_roster_of_hostile_records_is_refused_or_escaped() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.json");
    let (code, _, err) = run(gradtutor().args([
        "--progress",
        good.to_str().unwrap(),
        "quiz",
        "--question",
        "9",
        "--answers",
        "a,a",
    ]));
    assert_eq!(code, 0, "{err}");
    let record = fs::read_to_string(&good).unwrap();
    // A damaged record is named, with serde's line and column, and left where it is.
    let damaged = dir.path().join("damaged.json");
    fs::write(&damaged, &record[..record.len() / 2]).unwrap();
    let (code, out, err) = run(gradtutor().arg("roster").args([&good, &damaged]));
    assert_eq!(code, 1, "{out}");
    assert!(out.is_empty(), "no table when a file is refused: {out}");
    assert!(
        err.contains("damaged.json cannot be used: it is damaged") && err.contains("line "),
        "{err}"
    );
    assert!(damaged.exists() && !err.contains("panicked"));
    // A name edited by hand to hold escapes or a spreadsheet formula is shown harmlessly.
    let evil = dir.path().join("evil.json");
    fs::write(
        &evil,
        record.replacen(
            "\"version\": 1,",
            "\"version\": 1,\n  \"name\": \"\\u001b[2J=cmd\",",
            1,
        ),
    )
    .unwrap();
    for format in ["text", "csv", "markdown"] {
        let (code, out, err) = run(gradtutor()
            .arg("roster")
            .args([&good, &evil])
            .args(["--format", format]));
        assert_eq!(code, 0, "{err}");
        assert!(!out.contains('\x1b'), "{format}: {out:?}");
        assert!(out.contains("\\u{1b}[2J=cmd"), "{format}: {out}");
    }
    let evil_at_start = dir.path().join("formula.json");
    fs::write(
        &evil_at_start,
        record.replacen(
            "\"version\": 1,",
            "\"version\": 1,\n  \"name\": \"=HYPERLINK(1)\",",
            1,
        ),
    )
    .unwrap();
    let (_, csv, _) = run(gradtutor()
        .arg("roster")
        .args([&evil_at_start])
        .args(["--format", "csv"]));
    assert!(
        csv.lines().nth(1).unwrap().starts_with("'=HYPERLINK(1)"),
        "{csv}"
    );
}
