//! Handouts an instructor can tailor (issue 28): math written once as `$…$` LaTeX, typeset
//! as MathML in HTML and as the bank's Unicode elsewhere; `export --only/--answers/--no-runs/
//! --paper`.

use crate::common::{run, stdout};
use std::fs;

fn gradtutor() -> assert_cmd::Command {
    crate::common::gradtutor("handout")
}

/// A question file whose texts are given: `question` as a TOML basic string's body, `answer`
/// as a literal multi-line string's.
fn question_file(question: &str, answer: &str) -> String {
    format!(
        "format_version = 1\nid = 1\nslug = \"first\"\ntitle = \"T\"\nquestion = \"{question}\"\n\
         answer = '''\n{answer}\n'''\nkey_points = [\"k\"]\n\n[experiment]\ndemo = \"vanishing\"\n\
         depth = 3\nwidth = 8\ntakeaway = \"look\"\n"
    )
}

/// Catches: a formula that does not parse passing `check` (and reaching students as raw
/// LaTeX), or its position counted without the string's quotes and escapes.
#[test]
fn check_reports_bad_math_at_its_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let text = question_file(
        r#"Why \"x\" is $\\sigam$?"#,
        "Fine $x_{l+1}$ here.\n  $a_l = a_{l-1$\nand after.",
    );
    fs::write(dir.path().join("q.toml"), text).unwrap();
    let (code, out, err) = run(gradtutor().args(["check", dir.path().to_str().unwrap()]));
    assert_ne!(code, 0, "{err}");
    assert!(err.contains("2 problems"), "{err}");
    // `question = "Why \"x\" is $` is 26 characters: the command starts in column 27.
    assert!(
        out.contains(
            "q.toml:5:27: math: `\\sigam` is not a command this bank knows; did you mean `\\sigma`?"
        ),
        "{out}"
    );
    // The answer's second line (line 8): `  $a_l = a_` is 11 characters, its `{` the 12th.
    assert!(
        out.contains("q.toml:8:12: math: this `{` is never closed"),
        "{out}"
    );
    // Every other command refuses the bank too, before showing anything.
    let (code, out, _) =
        run(gradtutor().args(["--questions-only", dir.path().to_str().unwrap(), "list"]));
    assert_ne!(code, 0);
    assert!(out.is_empty());
}

/// Catches: math shown as LaTeX at the terminal, or the Unicode form drifting from the bank's
/// (`ask 1` printed this line before its math was written as LaTeX).
#[test]
fn the_terminal_shows_the_banks_unicode() {
    let out = stdout(gradtutor().args(["ask", "1", "--no-train"]));
    assert!(
        out.contains("\n  ∂L/∂h_l = (∂L/∂h_(l+1) · W_(l+1)ᵀ) ⊙ φ′(h_l)\n"),
        "{out}"
    );
    assert!(out.contains("σ_w² · E[φ′(h)²] ≈ 1"), "{out}");
    assert!(
        !out.contains("$∂") && !out.contains("_{") && !out.contains('\\'),
        "{out}"
    );
}
