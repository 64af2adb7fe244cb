//! The terminal: every command's text within 80 display columns, the tour at a terminal
//! (single keys, paging, where it stopped) and through a pipe, errors wrapped at a terminal,
//! `demo NAME --help`, and the manual pages (issue 28, "Tour and terminal").

use crate::common::{self, run, stdout, text};
use clap::CommandFactory;
use std::fs;
use unicode_width::UnicodeWidthStr;

const GIB: u64 = 1 << 30;

fn gradtutor(progress: &std::path::Path) -> assert_cmd::Command {
    common::gradtutor_at(progress)
}

/// The lines of `out` wider than 80 display columns (a wide character counts two).
fn over_80(out: &str) -> Vec<String> {
    out.lines()
        .filter(|l| l.width() > 80)
        .map(|l| format!("{} columns: {l}", l.width()))
        .collect()
}

/// Catches: a question's formula table, code listing, caption or title, a settings header,
/// an exploding demo's bars, a training table or a `--compare` command wider than 80
/// columns (47 lines of `ask` 13–19 were, on main), and `list` or help lines past 80.
#[test]
fn every_command_and_every_ask_fits_in_80_columns() {
    let dir = tempfile::tempdir().unwrap();
    let progress = dir.path().join("p.json");
    let bank = gradtutor::Bank::embedded(4 * GIB).unwrap();
    let mut commands: Vec<Vec<String>> = Vec::new();
    let words = |s: &str| s.split(' ').map(String::from).collect::<Vec<_>>();
    for c in [
        "--help",
        "list",
        "demos",
        "demo",
        "demo exploding --depth 100",
        "demo exploding --depth 140",
        "demo vanishing --seeds 3 --depth 8",
        "demo vanishing --norm layer --residual pre --clip-norm 1 --bias-std 0.3 --seeds 2 \
         --precision f64 --loss-scale 1024 --branch-scale 0.5 --activation leaky-relu:0.1 \
         --init orthogonal:1.1 --depth 6",
        "demo residual --norm layer --depth 10",
        "train --steps 40",
        "quiz --question 1 --answers 12.3,b,c",
        "progress",
        "check questions",
    ] {
        commands.push(words(c));
    }
    for sub in gradtutor::Cli::command().get_subcommands() {
        commands.push(vec![sub.get_name().to_string(), "--help".into()]);
    }
    for e in gradtutor::EXPERIMENTS {
        commands.push(vec!["demo".into(), e.name.into()]);
        commands.push(vec!["demo".into(), e.name.into(), "--help".into()]);
    }
    // Every question of the bank, whatever its size: lesson, experiment and training.
    for q in &bank.questions {
        commands.push(vec!["ask".into(), q.id.to_string()]);
    }
    let last = bank.questions.last().unwrap().id.to_string();
    commands.push(vec!["tour".into(), "--from".into(), last]);
    let mut wide = Vec::new();
    for args in &commands {
        let (code, out, err) = run(gradtutor(&progress)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .args(args)
            .write_stdin(""));
        assert_eq!(code, 0, "{args:?}: {err}");
        for line in over_80(&out) {
            wide.push(format!("{}: {line}", args.join(" ")));
        }
    }
    // The roster of the progress those commands recorded.
    let roster = stdout(gradtutor(&progress).args(["roster", progress.to_str().unwrap()]));
    wide.extend(over_80(&roster));
    assert!(
        wide.is_empty(),
        "{} lines over 80:\n{}",
        wide.len(),
        wide.join("\n")
    );
}

/// Catches: `list` cutting titles to fit slugs (11 of 19 were cut at 80 columns), and to 20
/// characters beside an instructor's file names even at COLUMNS=200.
#[test]
fn list_shows_every_title_whole() {
    let bank = gradtutor::Bank::embedded(4 * GIB).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let progress = dir.path().join("p.json");
    let questions = concat!(env!("CARGO_MANIFEST_DIR"), "/questions");
    for (columns, extra) in [("80", None), ("200", Some(questions))] {
        let mut c = gradtutor(&progress);
        c.env("COLUMNS", columns);
        if let Some(q) = extra {
            c.args(["--questions", q]);
        }
        let out = stdout(c.arg("list"));
        assert!(!out.contains('…'), "nothing is cut:\n{out}");
        let words: Vec<&str> = out.split_whitespace().collect();
        for q in &bank.questions {
            // The title's words in order from its slug on (a wrapped title continues below
            // its row's experiment).
            let from = words.iter().position(|w| *w == q.slug).unwrap();
            let mut rest = words[from..].iter();
            for w in q.title.split_whitespace() {
                assert!(rest.any(|x| *x == w), "{} whole in\n{out}", q.title);
            }
        }
        if columns == "200" {
            // Wide enough for every title on its row's one line.
            let line = out
                .lines()
                .find(|l| l.contains("vanishing-gradients"))
                .unwrap();
            assert!(line.contains(&bank.questions[0].title), "{line}");
        }
    }
}

/// Catches: the tour never showing the "Look for" takeaway or the training comparison
/// `ask` shows (through a pipe, where it prints straight through).
#[test]
fn the_piped_tour_shows_what_to_look_for_and_the_training() {
    let dir = tempfile::tempdir().unwrap();
    let progress = dir.path().join("p.json");
    let bank = gradtutor::Bank::embedded(4 * GIB).unwrap();
    let q = bank.questions.iter().find(|q| q.train.is_some()).unwrap();
    let out = stdout(
        gradtutor(&progress)
            .args(["tour", "--from", &q.id.to_string()])
            .write_stdin(""),
    );
    let first = out.split("── tour:").nth(1).unwrap();
    let takeaway: String = q
        .experiment
        .takeaway
        .split(' ')
        .take(4)
        .collect::<Vec<_>>()
        .join(" ");
    assert!(
        first.contains(&format!("Experiment: {}\nLook for: ", q.experiment.demo)),
        "{first}"
    );
    assert!(
        first
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .contains(&takeaway)
    );
    assert!(first.contains("\nTraining\nLook for: "), "{first}");
    assert!(first.contains("$ gradtutor train"), "{first}");
    assert!(out.contains("End of the tour."));
}

/// What a pty session printed so far, as text: rexpect hands the bytes over as Latin-1.
fn utf8(latin1: &str) -> String {
    let bytes: Vec<u8> = latin1.chars().map(|c| c as u32 as u8).collect();
    String::from_utf8_lossy(&bytes).into_owned()
}

fn tour_at_terminal(
    progress: &std::path::Path,
    args: &[&str],
    lines: Option<&str>,
) -> rexpect::session::PtySession {
    let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("gradtutor"));
    cmd.args(["--color", "never", "tour"])
        .args(args)
        .env("GRADTUTOR_PROGRESS", progress)
        .env("COLUMNS", "80")
        .env_remove("GRADTUTOR_QUESTIONS");
    match lines {
        Some(l) => cmd.env("LINES", l),
        None => cmd.env_remove("LINES"),
    };
    rexpect::session::spawn_command(cmd, Some(60_000)).unwrap()
}

/// Catches: a long question scrolling its own header away before the first pause (question
/// 1 is ~58 lines), `s` and `q` needing Enter, a stop without saying where to resume, and a
/// question counted as studied when the tour stopped before its experiment.
#[test]
fn the_tour_pages_takes_single_keys_and_says_where_it_stopped() {
    let dir = tempfile::tempdir().unwrap();
    let progress = dir.path().join("p.json");
    let n = common::bank_size();
    // A 20-line terminal: the first screen holds the header, then "more".
    let mut s = tour_at_terminal(&progress, &[], Some("20"));
    let first = utf8(&s.exp_string("more: Enter").unwrap());
    assert!(first.contains("Question 1 "), "{first}");
    assert!(first.lines().count() <= 20, "{first}");
    // q alone, no Enter: it stops and says how to go on.
    s.send("q").unwrap();
    s.flush().unwrap();
    s.exp_string(&format!(
        "stopped at 1 of {n}; `gradtutor tour --from 1` resumes"
    ))
    .unwrap();
    s.exp_eof().unwrap();
    // Stopped before the experiment: not studied.
    let studied = fs::read_to_string(&progress)
        .map(|t| serde_json::from_str::<serde_json::Value>(&t).unwrap())
        .ok()
        .and_then(|p| p["studied"].get("vanishing-gradients").cloned());
    assert_eq!(studied, None, "not studied");

    // An unpaged terminal: s skips the experiment on one key, q stops at the quiz item.
    let mut s = tour_at_terminal(&progress, &["--from", "11"], None);
    s.exp_string("Enter: the experiment").unwrap();
    s.send("s").unwrap();
    s.flush().unwrap();
    let skipped = utf8(&s.exp_string("Enter: a quiz item").unwrap());
    assert!(skipped.contains("(experiment skipped)"), "{skipped}");
    s.send("q").unwrap();
    s.flush().unwrap();
    s.exp_string(&format!(
        "stopped at 11 of {n}; `gradtutor tour --from 11` resumes"
    ))
    .unwrap();
    s.exp_eof().unwrap();
    let p: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(&progress).unwrap()).unwrap();
    assert_eq!(
        p["studied"]["gradient-health"]["times"], 1,
        "past its lesson"
    );
}

/// Catches: a 190–240 character error left for the terminal to break mid-word; piped, the
/// message keeps its one line (a log, a grep).
#[test]
fn errors_wrap_at_a_terminal_and_stay_whole_in_a_pipe() {
    let dir = tempfile::tempdir().unwrap();
    let progress = dir.path().join("p.json");
    for args in [
        &["demo", "nosuch"][..],
        &["demo", "vanishing", "--init", "he"],
    ] {
        let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("gradtutor"));
        cmd.args(args)
            .env("GRADTUTOR_PROGRESS", &progress)
            .env("COLUMNS", "80");
        let mut s = rexpect::session::spawn_command(cmd, Some(20_000)).unwrap();
        let out = utf8(&s.exp_eof().unwrap());
        assert!(out.contains("error:"), "{out}");
        assert!(out.lines().count() > 1, "{out}");
        for line in out.lines() {
            assert!(line.trim_end().width() <= 80, "{line}");
        }
        let err = common::stderr_of_failure(gradtutor(&progress).args(args));
        assert!(
            err.lines().next().unwrap().width() > 80,
            "one line piped: {err}"
        );
    }
    // --init he: which names it may have meant.
    let err =
        common::stderr_of_failure(gradtutor(&progress).args(["demo", "vanishing", "--init", "he"]));
    assert!(
        err.contains("unknown initializer 'he' (did you mean he-normal or he-uniform?)"),
        "{err}"
    );
}

/// Catches: `demo NAME --help` byte-identical to `demo --help` (global options first, no
/// experiment's defaults), `--init`'s help without `orthogonal`, and `demo` without a name
/// refused instead of listing the experiments.
#[test]
fn demo_help_is_the_experiments_own() {
    let dir = tempfile::tempdir().unwrap();
    let progress = dir.path().join("p.json");
    let generic = stdout(gradtutor(&progress).args(["demo", "--help"]));
    assert!(generic.contains("orthogonal[:GAIN]"), "{generic}");
    let exploding = stdout(gradtutor(&progress).args(["demo", "exploding", "--help"]));
    assert_ne!(exploding, generic);
    assert!(exploding.starts_with("demo exploding: "), "{exploding}");
    assert!(exploding.contains("Usage: gradtutor demo exploding [OPTIONS]"));
    // Its own defaults: tanh with N(0, 1) weights, 20 layers.
    let flat = exploding.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(flat.contains("[default: tanh]"), "{exploding}");
    assert!(flat.contains("[default: normal:1]"), "{exploding}");
    assert!(
        !exploding.contains("--max-memory <SIZE>"),
        "globals named once, at the end"
    );
    // recurrent sets --depth itself: not offered.
    let recurrent = stdout(gradtutor(&progress).args(["demo", "recurrent", "--help"]));
    assert!(!recurrent.contains("--depth <N>"), "{recurrent}");
    assert!(recurrent.contains("--seq-len <T>"), "{recurrent}");
    let vanishing = stdout(gradtutor(&progress).args(["demo", "vanishing", "--help"]));
    assert!(
        !vanishing.contains("--seq-len <T>"),
        "recurrent only: {vanishing}"
    );
    let list = stdout(gradtutor(&progress).arg("demo"));
    assert_eq!(list, stdout(gradtutor(&progress).arg("demos")));
}

/// Catches: gradtutor(1) pointing at gradtutor-ask(1) and others that did not exist, and its
/// EXAMPLES filled into one justified paragraph.
#[test]
fn every_page_the_manual_names_exists() {
    let dir = tempfile::tempdir().unwrap();
    let progress = dir.path().join("p.json");
    let page = stdout(gradtutor(&progress).arg("man"));
    let examples = page.split(".SH EXAMPLES\n").nth(1).unwrap();
    assert!(examples.starts_with(".nf\n"), "kept as lines: {examples}");
    assert!(examples.contains("\ngradtutor tour "), "{examples}");
    let mut named = 0;
    for sub in gradtutor::Cli::command().get_subcommands() {
        let name = sub.get_name();
        let reference = format!("gradtutor\\-{}(1)", name.replace('-', "\\-"));
        if name == "help" || !page.contains(&reference) {
            continue;
        }
        named += 1;
        let own = stdout(gradtutor(&progress).args(["man", name]));
        assert!(
            own.contains(&format!(".TH gradtutor-{name} 1")),
            "{name}: {own}"
        );
    }
    assert!(named >= 10, "{named} pages named");
    let dump = text(
        &gradtutor(&progress)
            .args(["man", "bank", "dump"])
            .assert()
            .success()
            .get_output()
            .stdout,
    );
    assert!(dump.contains(".TH gradtutor-bank-dump 1"), "{dump}");
}
