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

/// `export` with `args`, no experiment run: its standard output.
fn export(args: &[&str]) -> String {
    let mut c = gradtutor();
    c.args(["export", "--no-runs"]).args(args);
    stdout(&mut c)
}

/// The `## N. Title` headings of a Markdown handout, as their ids.
fn headings(md: &str) -> Vec<u32> {
    md.lines()
        .filter_map(|l| l.strip_prefix("## ")?.split_once(". ")?.0.parse().ok())
        .collect()
}

/// Catches: `--only` ignoring the order given, showing other questions, or listing the whole
/// bank in the contents.
#[test]
fn only_shows_the_questions_named_in_the_order_given() {
    let md = export(&["--only", "5,1,dying-relu"]);
    assert_eq!(headings(&md), [5, 1, 10], "{md}");
    assert!(md.contains("3 questions (built-in bank)"), "{md}");
    let contents: Vec<&str> = md
        .split("## Contents\n\n")
        .nth(1)
        .unwrap()
        .lines()
        .take_while(|l| !l.is_empty())
        .collect();
    assert_eq!(contents.len(), 3, "{contents:?}");
    assert!(contents[0].starts_with("5. [") && contents[2].starts_with("10. ["));
    // The answer key follows the same order.
    let key = md.split("## Answer key").nth(1).unwrap();
    let order: Vec<usize> = ["**5.", "**1.", "**10."]
        .iter()
        .map(|h| key.find(h).unwrap())
        .collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{order:?}");
    // The HTML page too.
    let html = export(&["--format", "html", "--only", "12,2"]);
    let a = html
        .find("<section class=\"question\" id=\"q-predicting-gradient-flow\">")
        .unwrap();
    let b = html
        .find("<section class=\"question\" id=\"q-xavier-initialization\">")
        .unwrap();
    assert!(a < b);
    assert_eq!(html.matches("<section class=\"question\"").count(), 2);
}

/// Catches: an unknown or repeated `--only` entry passing silently, or an error that does not
/// say what exists.
#[test]
fn only_refuses_unknown_and_repeated_questions() {
    let (code, _, err) = run(gradtutor().args(["export", "--no-runs", "--only", "1,99"]));
    assert_ne!(code, 0);
    assert!(
        err.contains("--only: there is no question 99; this bank has ids 1–"),
        "{err}"
    );
    let (code, _, err) = run(gradtutor().args(["export", "--only", "dying-relus"]));
    assert_ne!(code, 0);
    assert!(
        err.contains("Did you mean 'dying-relu' (question 10)?"),
        "{err}"
    );
    let (code, _, err) = run(gradtutor().args(["export", "--only", "1,vanishing-gradients"]));
    assert_ne!(code, 0);
    assert!(
        err.contains("--only names question 1 ('vanishing-gradients') twice"),
        "{err}"
    );
}

/// The explanation of question 1's second item's right choice, and its numeric item's: answer
/// text a
/// worksheet must not show.
const EXPLANATIONS: [&str; 2] = [
    "Plain SGD then changes nothing in those layers",
    "twenty such factors cost about",
];

/// Catches: answers left in a worksheet (`--answers none`), or an answer key missing or
/// misplaced with `end` and `inline`.
#[test]
fn answers_go_inline_at_the_end_or_nowhere() {
    for format in ["markdown", "html"] {
        let sheet = export(&["--format", format, "--only", "1,3", "--answers", "none"]);
        for text in EXPLANATIONS {
            assert!(!sheet.contains(text), "{format}: {text}");
        }
        assert!(
            !sheet.contains("Answer key") && !sheet.contains("Answer:"),
            "{format}"
        );
        assert!(!sheet.contains("<details class=\"answer\">"));
        // The prompts and choices stay.
        assert!(sheet.contains("What does the first layer get when the same network runs in f32?"));
    }
    let md = export(&["--only", "1", "--answers", "inline"]);
    assert!(!md.contains("## Answer key"));
    let item = md.split("2. Run in f64").nth(1).unwrap();
    let answer = item.split("3. Which of these").next().unwrap();
    assert!(
        answer.contains("*Answer:* (b) The value underflows to 0"),
        "{answer}"
    );
    let html = export(&["--format", "html", "--only", "1", "--answers", "end"]);
    assert!(!html.contains("<details class=\"answer\">"));
    let key = html
        .split("<section class=\"answer-key\" id=\"answer-key\">")
        .nth(1)
        .unwrap();
    assert!(
        key.contains("<h2>Answer key</h2>") && key.contains(EXPLANATIONS[0]),
        "{key}"
    );
    // Not run, a numeric item's key names the command that measures it.
    assert!(
        key.contains("Measured by <code>gradtutor demo vanishing --depth 20</code> (not run for this handout)"),
        "{key}"
    );
}

/// Catches: `--no-runs` running (or showing) an experiment, or a placeholder left raw.
#[test]
fn no_runs_leaves_outputs_out_and_figures_blank() {
    let md = export(&["--only", "1"]);
    assert!(!md.contains("```text\n$ gradtutor demo"), "{md}");
    assert!(md.contains("this run measures ×___ per layer"), "{md}");
    assert!(
        md.contains("Run it with `gradtutor demo vanishing --depth 20`."),
        "{md}"
    );
    assert!(!md.contains('{'), "{md}");
}

/// Catches: `--paper` not reaching the page's CSS, or accepted where nothing prints it.
#[test]
fn paper_sets_the_printed_page() {
    let a4 = export(&["--format", "html", "--only", "1", "--paper", "a4"]);
    assert!(a4.contains("@page { size: A4; margin: 12mm 14mm; }"));
    let letter = export(&["--format", "html", "--only", "1", "--paper", "letter"]);
    assert!(letter.contains("@page { size: letter;"));
    let default = export(&["--format", "html", "--only", "1"]);
    assert!(!default.contains("@page"));
    let (code, _, err) = run(gradtutor().args(["export", "--paper", "a4"]));
    assert_ne!(code, 0);
    assert!(
        err.contains("--paper sets the printed page of the HTML handout"),
        "{err}"
    );
}

/// Catches: the HTML handout printing a formula as text rather than MathML.
#[test]
fn the_html_handout_typesets_math() {
    let html = export(&["--format", "html", "--only", "1"]);
    assert!(html.contains(
        "<pre class=\"formula\"><math><mrow><mi>∂</mi><mi>L</mi><mo lspace=\"0\" rspace=\"0\">/</mo>"
    ));
    assert!(
        html.contains("<msubsup><mi>σ</mi><mi>w</mi><mn>2</mn></msubsup>"),
        "σ_w²"
    );
    assert!(!html.contains("σ_w²") && !html.contains("$σ"));
}

/// Catches: `export -o` writing silently, unlike `--plot`.
#[test]
fn export_says_where_it_wrote() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("sheet.md");
    let (code, out, err) = run(gradtutor()
        .args(["export", "--no-runs", "--only", "2", "-o"])
        .arg(&file));
    assert_eq!(code, 0, "{err}");
    assert!(out.is_empty());
    assert_eq!(err, format!("wrote the handout to {}\n", file.display()));
    assert!(fs::read_to_string(&file).unwrap().contains("## 2. "));
}
