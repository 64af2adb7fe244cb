//! Hardening 2 (issue 27): text from files, paths and names reaches the terminal escaped;
//! bank text cannot forge lines or flip their direction; Markdown carries no HTML; long input
//! is cut where it is echoed; numbers echo in one short form; numeric flags name themselves
//! when given `-inf` or a negative number; `check` questions what a student would suffer
//! from. Then a table of hostile invocations across every subcommand. Each test names the bug
//! it catches.

use super::common;
use assert_cmd::Command;
use std::fs;
use std::path::{Path, PathBuf};

fn gradtutor() -> Command {
    common::gradtutor("hostile")
}

/// `gradtutor` keeping progress in `progress`.
fn at(progress: &Path) -> Command {
    common::gradtutor_at(progress)
}

/// Whether `text` holds a raw control character other than a newline or a tab, or a bidi
/// control: what would drive or reorder a terminal.
fn raw_control(text: &str) -> Option<char> {
    text.chars().find(|&c| {
        (c.is_control() && c != '\n' && c != '\t')
            || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}')
    })
}

/// A progress record studying `slug` once and answering its item 0 once, named `name`.
fn record(slug: &str, name: Option<&str>) -> String {
    serde_json::json!({
        "format": "gradtutor-progress",
        "version": 1,
        "name": name,
        "studied": { slug: { "times": 1, "last": "2026-12-07 22:00:00 UTC" } },
        "quizzes": [{
            "at": "2026-12-07 22:00:00 UTC",
            "items": [{ "question": slug, "item": 0, "correct": false }]
        }]
    })
    .to_string()
}

/// A folder holding the built-in question 1's file, edited by `edit`, and no bank.toml.
fn bank_with(edit: impl Fn(String) -> String) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let text = fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/questions/01-vanishing-gradients.toml"
    ))
    .unwrap();
    let bank = dir.path().join("bank");
    fs::create_dir(&bank).unwrap();
    fs::write(bank.join("01.toml"), edit(text)).unwrap();
    (dir, bank)
}

/// `text` with its first line starting `key = ` replaced by `line`.
fn replace_line(text: &str, key: &str, line: &str) -> String {
    let mut done = false;
    text.lines()
        .map(|l| {
            if !done && l.starts_with(&format!("{key} = ")) {
                done = true;
                line.to_string()
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

// Point 2: escaping is the output boundary's.

/// Catches: roster printing a record's unknown slug raw (`Left out: … (^[[2Jx)`), in text
/// and in Markdown, from `studied` and from a quiz item's `question`.
#[test]
fn roster_escapes_slugs_only_a_record_knows() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("ada.json");
    fs::write(&file, record("\u{1b}[2Jx", Some("Ada"))).unwrap();
    for format in ["text", "markdown", "csv"] {
        let out = common::stdout(gradtutor().args(["roster", "--format", format]).arg(&file));
        assert_eq!(raw_control(&out), None, "{format}: {out:?}");
        if format != "csv" {
            assert!(out.contains("u{1b}[2Jx"), "{format}: {out}");
        }
    }
}

/// Catches: `check DIR` printing the folder's name raw on its first line.
#[test]
fn check_escapes_the_folder_it_names() {
    let dir = tempfile::tempdir().unwrap();
    let bank = dir.path().join("bank\u{1b}[31m\u{202e}");
    fs::create_dir(&bank).unwrap();
    fs::copy(
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/questions/02-xavier-initialization.toml"
        ),
        bank.join("02.toml"),
    )
    .unwrap();
    let (code, out, err) = common::run(gradtutor().arg("check").arg(&bank));
    assert_eq!(code, 0, "{err}");
    assert_eq!(raw_control(&out), None, "{out:?}");
    assert!(
        out.lines()
            .next()
            .unwrap()
            .contains("bank\\u{1b}[31m\\u{202e}:"),
        "{out}"
    );
}

/// Catches: the `--plot` confirmation printing the path raw (a newline in it printed as a
/// real one, an escape sequence reaching the terminal).
#[test]
fn the_plot_confirmation_escapes_its_path() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a\nb\u{1b}[2J.svg");
    let (code, _, err) = common::run(
        gradtutor()
            .args([
                "demo",
                "vanishing",
                "--depth",
                "2",
                "--width",
                "8",
                "--plot",
            ])
            .arg(&path),
    );
    assert_eq!(code, 0, "{err}");
    assert!(path.exists());
    assert_eq!(raw_control(&err), None, "{err:?}");
    assert_eq!(err.lines().count(), 1, "{err:?}");
    assert!(err.contains("a\\nb\\u{1b}[2J.svg"), "{err}");
}

/// Catches: progress warnings printing the file's path raw. A damaged progress file whose
/// name holds an escape sequence is reported (and set aside) by `ask`.
#[test]
fn progress_warnings_escape_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("p\u{1b}[2J\u{202e}.json");
    fs::write(&file, "not json").unwrap();
    let (_, out, err) = common::run(at(&file).args(["ask", "2", "--no-demo"]));
    assert!(err.contains("p\\u{1b}[2J\\u{202e}.json"), "{err}");
    assert_eq!(raw_control(&err), None, "{err:?}");
    assert_eq!(raw_control(&out), None);
}

// Point 3: one-line fields stay one line; no bidi controls.

/// Catches: a title of three lines passing `check` and printing three lines in `list`; a
/// choice with a line break; a bidi control in bank text.
#[test]
fn bank_text_cannot_forge_lines_or_reorder_them() {
    let cases: [(&str, &str, &str); 4] = [
        (
            "title",
            r#"title = "a\nb\nFAKE LINE""#,
            "01.toml:4:9: the title holds a line break",
        ),
        (
            "title",
            "title = \"plain \u{202e}desrever\"",
            "01.toml:4:16: this text holds the bidirectional control U+202E",
        ),
        (
            "question",
            r#"question = "Why? \u2066isolated\u2069""#,
            "01.toml:5:12: this text holds the bidirectional control U+2066",
        ),
        (
            "title",
            "title = \"mark \u{200f} and \u{061c}\"",
            "01.toml:4:15: this text holds the bidirectional control U+200F",
        ),
    ];
    for (key, line, says) in cases {
        let (_dir, bank) = bank_with(|t| replace_line(&t, key, line));
        let (code, out, _) = common::run(gradtutor().arg("check").arg(&bank));
        assert_ne!(code, 0, "{line}");
        assert!(out.contains(says), "{line}: {out}");
        let err =
            common::stderr_of_failure(gradtutor().arg("--questions-only").arg(&bank).arg("list"));
        assert!(err.contains(says), "{line}: {err}");
        assert_eq!(raw_control(&err), None, "{err:?}");
    }
    // A choice is one line too.
    let (_dir, bank) = bank_with(|t| {
        t.replacen(
            "  \"The tiny value 1e−50, stored as a subnormal number.\",",
            "  \"The tiny value\\n(b) FAKE\",",
            1,
        )
    });
    let (_, out, _) = common::run(gradtutor().arg("check").arg(&bank));
    assert!(out.contains("a choice holds a line break"), "{out}");
}

/// Catches: `progress --name` storing a bidi control, and `roster` printing a name that
/// holds one raw.
#[test]
fn names_hold_no_bidi_controls() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("p.json");
    let err = common::stderr_of_failure(at(&file).args(["progress", "--name", "Ada \u{202e}evil"]));
    assert!(err.contains("bidirectional-text controls"), "{err}");
    assert!(err.contains("U+202E"), "{err}");
    assert!(!file.exists());
    // A name written into a file by hand is escaped by the roster.
    fs::write(
        &file,
        record("vanishing-gradients", Some("Ada \u{202e}evil")),
    )
    .unwrap();
    let out = common::stdout(gradtutor().arg("roster").arg(&file));
    assert_eq!(raw_control(&out), None, "{out:?}");
    assert!(out.contains("Ada \\u{202e}evil"), "{out}");
}

// Point 5: Markdown carries no HTML.

/// Catches: `roster --format markdown` printing a name `<img src=x onerror=…>` as HTML.
#[test]
fn the_markdown_roster_escapes_html() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("p.json");
    fs::write(
        &file,
        record("vanishing-gradients", Some("<img src=x onerror=alert(1)>")),
    )
    .unwrap();
    let out = common::stdout(
        gradtutor()
            .args(["roster", "--format", "markdown"])
            .arg(&file),
    );
    assert!(!out.contains("<img"), "{out}");
    assert!(out.contains("&lt;img src=x onerror=alert(1)&gt;"), "{out}");
}

/// Catches: the Markdown handout keeping `<script>`, a `javascript:` link and a code
/// fence's language that closes an attribute; `x < 0`, `&` and code spans stay as written.
#[test]
fn the_markdown_handout_escapes_html() {
    let (_dir, bank) = bank_with(|t| {
        let t = t.replacen(
            "key_points = [\n",
            "key_points = [\n  \"<script>alert(1)</script> and [click](javascript:alert(1)) and \
             [ok](https://example.org) and `<b>code</b>` and x < 0 & y &amp;\",\n",
            1,
        );
        t + "\n[[code]]\ncaption = \"A <i>caption</i>\"\nlanguage = \"python\\\"><script>\"\nsource = \"print(1)\"\n"
    });
    let out = common::stdout(
        gradtutor()
            .arg("--questions-only")
            .arg(&bank)
            .args(["export", "--format", "markdown"]),
    );
    assert!(!out.contains("<script"), "a script tag survived");
    assert!(!out.contains("<i>"), "an element survived");
    assert!(
        !out.contains("](javascript:"),
        "a javascript: link survived"
    );
    assert!(out.contains("&lt;script>alert(1)&lt;/script>"));
    assert!(out.contains("[click]\\(javascript:alert(1))"));
    assert!(out.contains("[ok](https://example.org)"));
    assert!(out.contains("`<b>code</b>`"));
    assert!(out.contains("x < 0 & y &amp;amp;"));
    assert!(out.contains("```python\nprint(1)\n```"));
}

// Point 7: long input is cut where it is echoed; lines are read with a cap.

/// Catches: a 100 kB answer, a 100 kB `--depth` and a 3 MB line on stdin echoed whole.
#[test]
fn long_input_is_echoed_short() {
    let long = "b".repeat(100_000);
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("p.json");
    let answers = format!("{long},a,a");
    let (code, out, err) =
        common::run(at(&p).args(["quiz", "--question", "1", "--answers", &answers]));
    assert_ne!(code, 0);
    assert!(
        out.len() + err.len() < 2000,
        "{} bytes",
        out.len() + err.len()
    );
    assert!(err.contains("answer 1: 'bbbb"), "{err}");
    assert!(err.contains("…'"), "{err}");

    let digits = "7".repeat(100_000);
    let (code, out, err) = common::run(gradtutor().args(["demo", "vanishing", "--depth", &digits]));
    assert_ne!(code, 0);
    assert!(
        out.len() + err.len() < 2000,
        "{} bytes",
        out.len() + err.len()
    );
    assert!(err.contains("for '--depth <N>'"), "{err}");

    let line = "b".repeat(3_000_000) + "\n";
    let (code, out, err) = common::run(at(&p).args(["quiz", "--question", "1"]).write_stdin(line));
    // A piped line that is no answer skips its item (issue 28); the echo stays short.
    assert_eq!(code, 0);
    assert!(
        out.len() + err.len() < 4000,
        "{} bytes",
        out.len() + err.len()
    );
}

// Point 8: one short form for echoed numbers.

/// Whether `text` holds a run of 25 digits: a float printed in full.
fn long_number(text: &str) -> Option<&str> {
    let mut start = None;
    for (i, c) in text.char_indices() {
        match (c.is_ascii_digit(), start) {
            (true, None) => start = Some(i),
            (true, Some(s)) if i + 1 - s >= 25 => return Some(&text[s..=i]),
            (false, _) => start = None,
            _ => {}
        }
    }
    None
}

/// Catches: `--clip-norm -1e308`, `train --noise 1e308`, `--loss-scale 1e308` and others
/// printed with 300 digits in headers, descriptions and errors.
#[test]
fn huge_values_echo_in_exponent_form() {
    let cases: &[&[&str]] = &[
        &["demo", "clipping", "--clip-norm", "-1e308"],
        &["demo", "vanishing", "--clip-norm", "1e300", "--depth", "2"],
        &[
            "demo",
            "vanishing",
            "--init",
            "constant:1e300",
            "--depth",
            "2",
        ],
        &[
            "demo",
            "vanishing",
            "--init",
            "uniform:1e300",
            "--depth",
            "2",
        ],
        &[
            "demo",
            "vanishing",
            "--std",
            "1e300",
            "--init",
            "normal",
            "--depth",
            "2",
        ],
        &[
            "demo",
            "vanishing",
            "--activation",
            "leaky-relu:1e300",
            "--depth",
            "2",
        ],
        &["demo", "vanishing", "--bias-std", "1e300", "--depth", "2"],
        &["demo", "isometry", "--bias-std", "1e300"],
        &[
            "demo",
            "recurrent",
            "--forget-bias",
            "1e300",
            "--seq-len",
            "3",
        ],
        &["train", "--noise", "1e308", "--steps", "2"],
        &["train", "--lr", "1e300", "--steps", "2"],
        &["train", "--clip-value", "1e300", "--steps", "2"],
        &["train", "--target-loss", "1e300", "--steps", "2"],
        &["train", "--lr", "-1e308"],
    ];
    for args in cases {
        let (_, out, err) = common::run(gradtutor().args(*args));
        assert_eq!(long_number(&out), None, "{args:?}: {out}");
        assert_eq!(long_number(&err), None, "{args:?}: {err}");
    }
    let err =
        common::stderr_of_failure(gradtutor().args(["demo", "clipping", "--clip-norm", "-1e308"]));
    assert!(err.contains("(got -1e308)"), "{err}");
    // The largest noise f32 can hold is echoed in the header as given.
    let out = common::stdout(gradtutor().args(["train", "--noise", "3e38", "--steps", "2"]));
    assert!(out.contains("noise 3e38 ·"), "{out}");
    // One past it is refused (issue 27, point 9), echoed in the same form.
    let err = common::stderr_of_failure(gradtutor().args(["train", "--noise", "1e308"]));
    assert!(err.contains("--noise 1e308 is ∞"), "{err}");
}

// Point 14: numeric flags name themselves; clap escapes what it echoes.

/// Catches: `--depth -inf`, `--lr -inf`, `--loss-scale -1`, `--threads -1`,
/// `--max-memory -1` answered with "unexpected argument '-i'/'-1'", and clap stripping the
/// control characters of a value it echoes (`'ab'` for `a\x01\x1b[2Jb`).
#[test]
fn numeric_flags_are_named_for_negative_values() {
    let cases: &[(&[&str], &str)] = &[
        (
            &["demo", "vanishing", "--depth", "-inf"],
            "'-inf' for '--depth <N>'",
        ),
        (
            &["demo", "vanishing", "--width", "-1"],
            "'-1' for '--width <N>'",
        ),
        (
            &["train", "--lr", "-inf"],
            "--lr must be a positive number (got -inf)",
        ),
        (&["train", "--depth", "-inf"], "'-inf' for '--depth <N>'"),
        (
            &["demo", "precision", "--loss-scale", "-1"],
            "'-1' for '--loss-scale <S>'",
        ),
        (
            &["train", "--loss-scale", "-1"],
            "'-1' for '--loss-scale <S>'",
        ),
        (&["--threads", "-1", "list"], "'-1' for '--threads <N>'"),
        (
            &["--max-memory", "-1", "list"],
            "'-1' for '--max-memory <SIZE>'",
        ),
        (&["quiz", "--count", "-1"], "'-1' for '--count <K>'"),
    ];
    for (args, says) in cases {
        let err = common::stderr_of_failure(gradtutor().args(*args));
        assert!(err.starts_with("error:"), "{args:?}: {err}");
        assert!(err.contains(says), "{args:?}: wanted {says:?} in {err}");
    }
    let err = common::stderr_of_failure(gradtutor().args([
        "demo",
        "vanishing",
        "--depth",
        "a\u{1}\u{1b}[2Jb\u{202e}",
    ]));
    assert!(
        err.contains("'a\\u{1}\\u{1b}[2Jb\\u{202e}' for '--depth <N>'"),
        "{err}"
    );
}

// Point 15: `check` questions what it accepted.

/// `check` on a folder holding question 1 edited by `edit`: its stdout, after a failure.
fn check_fails(edit: impl Fn(String) -> String) -> String {
    let (_dir, bank) = bank_with(edit);
    let (code, out, err) = common::run(gradtutor().arg("check").arg(&bank));
    assert_ne!(code, 0, "check passed: {out}");
    assert!(err.starts_with("error:"), "{err}");
    out
}

/// Catches: `check` passing a tolerance of 1e308 (every answer right), 0 on a figure that
/// is no whole number, or one finer than the printed figure.
#[test]
fn check_questions_tolerances_no_student_can_meet_or_miss() {
    for (tolerance, says) in [
        ("1e308", "tolerance 1e308 is over ten times the figure"),
        (
            "0.0",
            "tolerance = 0 marks right only the exact value measured",
        ),
        (
            "1e-9",
            "tolerance 1e-9 is finer than the figure's printed precision",
        ),
    ] {
        let out =
            check_fails(|t| t.replacen("tolerance = 0.5", &format!("tolerance = {tolerance}"), 1));
        assert!(out.contains(says), "{tolerance}: {out}");
        assert!(out.contains("01.toml:37:1: numeric quiz item"), "{out}");
    }
}

/// Catches: `check` passing duplicate choices, `slug = "-"`, a 500,000-character title and
/// a `[train]` comparison of one configuration twice (`train --compare` on the command line
/// may repeat one: tests/it/train.rs does, to show runs do not depend on their place).
#[test]
fn check_questions_duplicates_dashes_and_huge_titles() {
    let out = check_fails(|t| {
        t.replacen(
            "  \"NaN.\",",
            "  \"Exactly 0, so that layer receives no update at all.\",",
            1,
        )
    });
    assert!(out.contains("choices (b) and (c) are the same"), "{out}");
    let out = check_fails(|t| replace_line(&t, "slug", "slug = \"-\""));
    assert!(
        out.contains("01.toml:3:1: slug '-' must start and end with a letter or a digit"),
        "{out}"
    );
    let title = format!("title = \"{}\"", "t".repeat(500_000));
    let out = check_fails(|t| replace_line(&t, "title", &title));
    assert!(
        out.contains("the title has 500000 characters"),
        "{}",
        &out[..out.len().min(400)]
    );
    assert!(out.len() < 2000);
    let out = check_fails(|t| {
        t.replacen(
            "compare = \"sigmoid/xavier-normal,relu/he-normal\"",
            "compare = \"sigmoid/xavier-normal,relu/he-normal,relu\"",
            1,
        )
    });
    assert!(
        out.contains("01.toml:32:2: the [train] comparison lists relu/he-normal more than once"),
        "{out}"
    );
}

/// Catches: a folder, or a link to `.`, named `*.toml` skipped without a word.
#[test]
fn check_names_folders_that_look_like_question_files() {
    let (_dir, bank) = bank_with(|t| t);
    fs::create_dir(bank.join("99.toml")).unwrap();
    #[cfg(unix)]
    std::os::unix::fs::symlink(".", bank.join("98.toml")).unwrap();
    let (code, out, err) = common::run(gradtutor().arg("check").arg(&bank));
    assert_ne!(code, 0, "{out}");
    let all = format!("{out}{err}");
    assert!(
        all.contains("99.toml: a folder (or a link to one), not a question file"),
        "{all}"
    );
    #[cfg(unix)]
    assert!(
        all.contains("98.toml: a folder (or a link to one)"),
        "{all}"
    );
}

// Done-when: a table of hostile invocations across every subcommand.

/// Catches: any subcommand that, given hostile input, exits 0, answers without `error:`
/// first, forgets the flag it refuses, lets a control or bidi character through on either
/// stream, or echoes more than 2 kB.
#[test]
fn sixty_hostile_invocations_are_refused_cleanly() {
    let esc = "\u{1b}[2J\u{7}";
    let rlo = "\u{202e}";
    let long = "9".repeat(50_000);
    let nul_name = format!("x{esc}{rlo}");
    let dir = tempfile::tempdir().unwrap();
    let damaged = dir.path().join(format!("bad{esc}.json"));
    fs::write(&damaged, "{").unwrap();
    let damaged = damaged.to_str().unwrap().to_string();
    let missing = dir
        .path()
        .join(format!("none{rlo}"))
        .to_str()
        .unwrap()
        .to_string();
    let cases: Vec<(Vec<String>, Option<&str>)> = vec![
        // list
        (vec!["list", &nul_name], None),
        (vec!["--questions-only", &missing, "list"], None),
        (vec!["--threads", "-inf", "list"], Some("--threads")),
        (vec!["--threads", &long, "list"], Some("--threads")),
        (
            vec!["--max-memory", &nul_name, "list"],
            Some("--max-memory"),
        ),
        (vec!["--max-memory", "-1", "list"], Some("--max-memory")),
        (vec!["--color", &nul_name, "list"], Some("--color")),
        // ask
        (vec!["ask", &nul_name], None),
        (vec!["ask", &long], None),
        (vec!["ask", "1", "--depth", "-inf"], Some("--depth")),
        (vec!["ask", "1", "--width", &long], Some("--width")),
        (
            vec!["ask", "1", "--activation", &nul_name],
            Some("--activation"),
        ),
        (vec!["ask", "1", "--init", &nul_name], Some("--init")),
        (vec!["ask", "1", "--seed", "-1"], Some("--seed")),
        (
            vec!["ask", "1", "--precision", &nul_name],
            Some("--precision"),
        ),
        // demo
        (vec!["demo", &nul_name], None),
        (
            vec!["demo", "vanishing", "--depth", &nul_name],
            Some("--depth"),
        ),
        (
            vec!["demo", "vanishing", "--depth", "-inf"],
            Some("--depth"),
        ),
        (vec!["demo", "vanishing", "--batch", "-1"], Some("--batch")),
        (
            vec!["demo", "vanishing", "--classes", &long],
            Some("--classes"),
        ),
        (
            vec!["demo", "vanishing", "--std", "NaN", "--init", "normal"],
            Some("--std"),
        ),
        (
            vec!["demo", "vanishing", "--clip-norm", "-1e308"],
            Some("--clip-norm"),
        ),
        (
            vec!["demo", "vanishing", "--clip-norm", "-inf"],
            Some("--clip-norm"),
        ),
        (
            vec!["demo", "vanishing", "--loss-scale", "-1"],
            Some("--loss-scale"),
        ),
        (
            vec!["demo", "vanishing", "--loss-scale", &nul_name],
            Some("--loss-scale"),
        ),
        (vec!["demo", "vanishing", "--bn", &nul_name], Some("--bn")),
        (
            vec!["demo", "vanishing", "--residual", &nul_name],
            Some("--residual"),
        ),
        (
            vec!["demo", "vanishing", "--norm", &nul_name],
            Some("--norm"),
        ),
        (
            vec!["demo", "recurrent", "--cell", &nul_name],
            Some("--cell"),
        ),
        (
            vec!["demo", "recurrent", "--forget-bias", "inf"],
            Some("--forget-bias"),
        ),
        (
            vec!["demo", "recurrent", "--seq-len", "-1"],
            Some("--seq-len"),
        ),
        (
            vec!["demo", "vanishing", "--plot", &format!("{nul_name}.png")],
            Some("--plot"),
        ),
        (
            vec!["demo", "vanishing", "--seeds", "-inf"],
            Some("--seeds"),
        ),
        // demos
        (vec!["demos", &nul_name], None),
        // train
        (vec!["train", "--lr", "-inf"], Some("--lr")),
        (vec!["train", "--lr", &nul_name], Some("--lr")),
        (vec!["train", "--depth", "-1"], Some("--depth")),
        (vec!["train", "--steps", &long], Some("--steps")),
        (vec!["train", "--noise", "-1e308"], Some("--noise")),
        (vec!["train", "--clip-value", "-inf"], Some("--clip-value")),
        (vec!["train", "--target-loss", "-1"], Some("--target-loss")),
        (vec!["train", "--compare", &nul_name], Some("--compare")),
        (
            vec!["train", "--compare", "relu,tanh@", "--steps", "1"],
            Some("--compare"),
        ),
        (vec!["train", "--dataset", &nul_name], Some("--dataset")),
        (vec!["train", "--optimizer", &nul_name], Some("--optimizer")),
        (vec!["train", "--samples", "-1"], Some("--samples")),
        // quiz
        (vec!["quiz", "--question", &nul_name], None),
        (vec!["quiz", "--count", "-inf"], Some("--count")),
        (vec!["quiz", "--seed", &nul_name], Some("--seed")),
        (
            vec![
                "quiz",
                "--question",
                "1",
                "--answers",
                &format!("{nul_name},a,a"),
            ],
            Some("answer 1"),
        ),
        (
            vec!["quiz", "--question", "1", "--answers", &long],
            Some("--answers"),
        ),
        // tour
        (vec!["tour", "--from", &nul_name], None),
        // progress
        (vec!["progress", "--name", &format!("Ada{esc}")], None),
        (vec!["progress", "--name", &format!("Ada{rlo}")], None),
        (vec!["progress", "--name", &long], None),
        (
            vec!["--progress", &damaged, "progress", "--name", &nul_name],
            None,
        ),
        // roster
        (vec!["roster", &damaged], None),
        (vec!["roster", &missing], None),
        (
            vec!["roster", "--format", &nul_name, &damaged],
            Some("--format"),
        ),
        // check
        (vec!["check", &missing], None),
        // export
        (vec!["export", "--format", &nul_name], Some("--format")),
        // serve
        (vec!["serve", "--port", "-1"], Some("--port")),
        (vec!["serve", "--port", &nul_name], Some("--port")),
        // bank dump
        (vec!["bank", "dump"], Some("<DIR>")),
        (vec!["bank", &nul_name], None),
        // completions, man
        (vec!["completions", &nul_name], None),
        (vec!["man", &nul_name], None),
    ]
    .into_iter()
    .map(|(args, flag)| (args.into_iter().map(String::from).collect(), flag))
    .collect();
    assert!(cases.len() >= 60, "{} cases", cases.len());
    let mut failures = Vec::new();
    for (args, flag) in &cases {
        let shown: Vec<String> = args.iter().map(|a| a.chars().take(40).collect()).collect();
        let (code, out, err) = common::run(at(&dir.path().join("p.json")).args(args));
        let mut fail = |why: String| failures.push(format!("{shown:?}: {why}"));
        if code == 0 {
            fail("exited 0".into());
        }
        if !err.starts_with("error:") || err.contains("panicked") {
            fail(format!("stderr {err}"));
        }
        if let Some(flag) = flag
            && !err.contains(flag)
        {
            fail(format!("wanted {flag} in {err}"));
        }
        if let Some(c) = raw_control(&out).or(raw_control(&err)) {
            fail(format!("raw {c:?} in {out:?} / {err:?}"));
        }
        if out.len() + err.len() > 2048 {
            fail(format!("{} bytes: {err}", out.len() + err.len()));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
