//! Class mode end to end: quiz scoring (numeric items against real runs), the interactive
//! quiz and tour under a pseudo-terminal, progress files that survive a kill mid-write,
//! `check` on a broken bank, and the Markdown handout.

use super::common;
use super::common::{gradtutor_at as gradtutor, stdout};

use gradtutor::Bank;
use predicates::prelude::*;
use std::fs;
use std::path::Path;

const GIB: u64 = 1 << 30;

const SLOW: &str = "GRADTUTOR_SLOW_WRITE_MS";

/// Question 1's numeric item, measured by the library: the figure the quiz must check against.
fn q1_figure() -> f64 {
    let bank = Bank::embedded(4 * GIB).unwrap();
    let q = bank.find("1").unwrap();
    q.quiz[0].measure(&q.experiment, None, 4 * GIB).unwrap()
}

#[test]
fn the_quiz_scores_choices_and_checks_numbers_against_a_real_run() {
    let dir = tempfile::tempdir().unwrap();
    let progress = dir.path().join("p.json");
    let m = q1_figure();
    assert!(
        (11.0..14.0).contains(&m),
        "20 sigmoid layers lose 11–14 orders: {m}"
    );
    // Within the stated tolerance (±0.5) of the run's own figure: right.
    let all_right = format!("{:.2},b,c", m + 0.4);
    let text =
        stdout(gradtutor(&progress).args(["quiz", "--question", "1", "--answers", &all_right]));
    assert!(text.contains("Score: 3 of 3 (100%)"), "{text}");
    assert!(text.contains("Nothing to review"));
    // Outside it, and wrong letters: wrong, with question 1 to review.
    let all_wrong = format!("{:.2},a,d", m + 0.6);
    let text =
        stdout(gradtutor(&progress).args(["quiz", "--question", "1", "--answers", &all_wrong]));
    assert!(text.contains("Score: 0 of 3 (0%)"), "{text}");
    assert!(text.contains("gradtutor ask 1"));
    assert!(text.contains(&format!("the run measured {}", gradtutor::format_figure(m))));
    // Both attempts are in the progress file.
    let p: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(&progress).unwrap()).unwrap();
    assert_eq!(p["quizzes"].as_array().unwrap().len(), 2);
    assert_eq!(p["quizzes"][0]["items"][0]["correct"], true);
    assert_eq!(p["quizzes"][1]["items"][0]["correct"], false);
}

#[test]
fn bad_answer_lists_are_refused_before_anything_is_asked() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("p.json");
    gradtutor(&p)
        .args(["quiz", "--question", "1", "--answers", "b,c"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("2 answers for 3 quiz items"));
    gradtutor(&p)
        .args(["quiz", "--question", "1", "--answers", "12,z,c"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("answer 2: 'z' is not one of a–d"));
    gradtutor(&p)
        .args(["quiz", "--question", "1", "--answers", "twelve,b,c"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("'twelve' is not a number"));
    assert!(!p.exists(), "nothing was recorded");
}

#[test]
fn the_whole_bank_quiz_is_shuffled_by_the_seed_and_counted() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("p.json");
    let first = |seed: &str| {
        let text = stdout(
            gradtutor(&p)
                .args(["quiz", "--count", "2", "--seed", seed])
                .write_stdin(""),
        );
        text.lines()
            .find(|l| l.starts_with("1/2 · question"))
            .unwrap()
            .to_string()
    };
    assert_eq!(first("5"), first("5"));
    let differs = (6..12).any(|s| first(&s.to_string()) != first("5"));
    assert!(differs, "the seed changes the order");
}

#[test]
fn the_quiz_works_interactively_under_a_pseudo_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let progress = dir.path().join("p.json");
    let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("gradtutor"));
    cmd.args(["--color", "never", "quiz", "--question", "9"])
        .env("GRADTUTOR_PROGRESS", &progress)
        .env("COLUMNS", "80");
    let mut p = rexpect::session::spawn_command(cmd, Some(20_000)).unwrap();
    p.exp_string("Type a letter").unwrap();
    p.exp_string("> ").unwrap();
    p.send_line("z").unwrap();
    p.exp_string("'z' is not one of a").unwrap();
    p.exp_string("try again").unwrap();
    p.send_line("a").unwrap();
    p.exp_string("Right.").unwrap();
    p.exp_string("> ").unwrap();
    p.send_line("b").unwrap();
    p.exp_string("Not quite.").unwrap();
    p.exp_string("Score: 1 of 2 (50%)").unwrap();
    p.exp_eof().unwrap();
    let saved = fs::read_to_string(&progress).unwrap();
    assert!(saved.contains("gradient-clipping"));
}

#[test]
fn the_tour_waits_for_enter_at_a_terminal_and_prints_straight_through_a_pipe() {
    let dir = tempfile::tempdir().unwrap();
    let progress = dir.path().join("p.json");
    // Piped: no waiting, every question from 11 on, the quiz item's answer revealed.
    let text = stdout(
        gradtutor(&progress)
            .args(["tour", "--from", "11"])
            .write_stdin(""),
    );
    let n = common::bank_size();
    assert!(
        text.contains(&format!("── tour: 11 of {n} ──"))
            && text.contains(&format!("── tour: {n} of {n} ──"))
    );
    assert!(text.contains("Answer: the run measures"));
    assert!(text.contains("End of the tour."));
    assert!(!text.contains("Enter:"), "no pause without a terminal");
    let p: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(&progress).unwrap()).unwrap();
    assert_eq!(p["studied"]["gradient-health"]["times"], 1);
    // At a terminal: it asks, waits for Enter, and q stops it.
    let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("gradtutor"));
    cmd.args(["--color", "never", "tour", "--from", "11"])
        .env("GRADTUTOR_PROGRESS", &progress)
        .env("COLUMNS", "80");
    let mut s = rexpect::session::spawn_command(cmd, Some(30_000)).unwrap();
    s.exp_string("Enter: the experiment").unwrap();
    s.send_line("").unwrap();
    s.exp_string("Enter: a quiz item").unwrap();
    s.send_line("").unwrap();
    s.exp_string("Check yourself").unwrap();
    s.exp_string("> ").unwrap();
    s.send_line("a").unwrap();
    s.exp_string("Right.").unwrap();
    s.exp_string("Enter: next question").unwrap();
    s.send_line("q").unwrap();
    s.exp_eof().unwrap();
    let p: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(&progress).unwrap()).unwrap();
    assert_eq!(p["studied"]["gradient-health"]["times"], 2);
    assert!(
        p["studied"]
            .get("predicting-gradient-flow")
            .is_some_and(|v| v["times"] == 1)
    );
}

#[test]
fn killing_a_run_mid_write_leaves_the_old_progress_file_intact() {
    let dir = tempfile::tempdir().unwrap();
    let progress = dir.path().join("p.json");
    stdout(gradtutor(&progress).args(["quiz", "--question", "9", "--answers", "a,a"]));
    let before = fs::read(&progress).unwrap();
    // The hook stalls the write halfway through the temporary file; kill the process there.
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("gradtutor"))
        .args(["quiz", "--question", "9", "--answers", "b,b"])
        .env("GRADTUTOR_PROGRESS", &progress)
        .env(SLOW, "30000")
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let tmp = || {
        fs::read_dir(dir.path())
            .unwrap()
            .filter_map(|e| e.ok())
            .find(|e| e.file_name().to_string_lossy().contains(".tmp-"))
    };
    let start = std::time::Instant::now();
    while tmp().is_none_or(|e| e.metadata().unwrap().len() == 0) {
        assert!(start.elapsed().as_secs() < 20, "the write never started");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(
        fs::read(&progress).unwrap(),
        before,
        "the old file is untouched"
    );
    assert!(
        tmp().is_some(),
        "the half-written file was the temporary one"
    );
    // The next run reads the old record and adds to it.
    stdout(gradtutor(&progress).args(["quiz", "--question", "9", "--answers", "a,b"]));
    let p: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(&progress).unwrap()).unwrap();
    assert_eq!(p["quizzes"].as_array().unwrap().len(), 2);
}

#[test]
fn a_corrupt_or_foreign_progress_file_is_set_aside_not_overwritten() {
    for junk in ["{\"half\": ", "{\"name\": \"someone else's file\"}"] {
        let dir = tempfile::tempdir().unwrap();
        let progress = dir.path().join("p.json");
        fs::write(&progress, junk).unwrap();
        gradtutor(&progress)
            .args(["quiz", "--question", "9", "--answers", "a,a"])
            .assert()
            .success()
            .stderr(
                predicate::str::contains("could not be used")
                    .and(predicate::str::contains("p.json.bak-")),
            );
        let backup = fs::read_dir(dir.path())
            .unwrap()
            .filter_map(|e| e.ok())
            .find(|e| e.file_name().to_string_lossy().starts_with("p.json.bak-"))
            .expect("a backup");
        assert_eq!(fs::read_to_string(backup.path()).unwrap(), junk);
        let p: serde_json::Value =
            serde_json::from_str(&fs::read_to_string(&progress).unwrap()).unwrap();
        assert_eq!(p["format"], "gradtutor-progress");
    }
}

#[test]
fn progress_shows_what_was_studied_and_scored() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("p.json");
    stdout(gradtutor(&p).args(["ask", "9", "--no-demo"]));
    stdout(gradtutor(&p).args(["quiz", "--question", "9", "--answers", "a,b"]));
    let text = stdout(gradtutor(&p).arg("progress"));
    assert!(
        text.contains(&format!(
            "Studied 1 of {} questions; 1 quiz taken.",
            common::bank_size()
        )),
        "{text}"
    );
    let row = text
        .lines()
        .find(|l| l.trim_start().starts_with("9 "))
        .unwrap();
    assert!(row.contains("1×") && row.contains("1/2 right"), "{row}");
    assert!(text.contains("Next: gradtutor ask 1"));
}

#[test]
fn check_lists_every_problem_of_a_broken_bank_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let good = fs::read_to_string("questions/09-gradient-clipping.toml").unwrap();
    fs::write(dir.path().join("a.toml"), &good).unwrap();
    // A duplicate id, a syntax error, a quiz answer that is not a choice, an unknown field.
    fs::write(
        dir.path().join("b.toml"),
        good.replace("slug = \"gradient-clipping\"", "slug = \"other\""),
    )
    .unwrap();
    fs::write(dir.path().join("c.toml"), "format_version = 1\nid = = 3\n").unwrap();
    fs::write(
        dir.path().join("d.toml"),
        good.replace("id = 9", "id = 20")
            .replace("slug = \"gradient-clipping\"", "slug = \"d\"")
            .replacen("answer = \"a\"", "answer = \"f\"", 1),
    )
    .unwrap();
    fs::write(
        dir.path().join("e.toml"),
        good.replace("id = 9", "id = 21")
            .replace("slug = \"gradient-clipping\"", "slug = \"e\"")
            .replace("[experiment]", "[experiment]\nwidht = 3"),
    )
    .unwrap();
    let out = gradtutor(&dir.path().join("p.json"))
        .args(["check", dir.path().to_str().unwrap()])
        .assert()
        .failure()
        .stderr(predicate::str::contains("4 problems in"))
        .get_output()
        .stdout
        .clone();
    let text = common::text(&out);
    assert!(
        text.contains("b.toml:2:1: duplicate id 9 (also at "),
        "{text}"
    );
    assert!(text.contains("c.toml:2:6:"), "{text}");
    assert!(
        text.contains("d.toml:") && text.contains("its answer 'f' is not one of a–d"),
        "{text}"
    );
    assert!(
        text.contains("e.toml:") && text.contains("unknown field `widht`"),
        "{text}"
    );
    // That the built-in bank passes, every numeric item and claim run, is checked by
    // instructor.rs (`bank dump` then `check`, with the bank's exact counts) and claims.rs
    // (one claim made false is the only problem): a third whole-bank run here added 5 s.
}

#[test]
fn the_markdown_handout_of_the_whole_bank_renders_cleanly() {
    use pulldown_cmark::{Event, HeadingLevel, Parser, Tag, TagEnd};
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("handout.md");
    stdout(gradtutor(&dir.path().join("p.json")).args([
        "export",
        "--format",
        "markdown",
        "-o",
        out.to_str().unwrap(),
    ]));
    let md = fs::read_to_string(&out).unwrap();
    assert!(!md.contains('\x1b'), "no terminal escapes");
    let bank = Bank::embedded(4 * GIB).unwrap();
    let (mut h2, mut code_blocks, mut open) = (Vec::new(), 0, 0i32);
    let mut in_h2 = false;
    for event in Parser::new(&md) {
        match event {
            Event::Start(Tag::Heading {
                level: HeadingLevel::H2,
                ..
            }) => {
                in_h2 = true;
                h2.push(String::new());
            }
            Event::End(TagEnd::Heading(HeadingLevel::H2)) => in_h2 = false,
            Event::Text(t) if in_h2 => h2.last_mut().unwrap().push_str(&t),
            Event::Start(Tag::CodeBlock(_)) => {
                code_blocks += 1;
                open += 1;
            }
            Event::End(TagEnd::CodeBlock) => open -= 1,
            _ => {}
        }
    }
    assert_eq!(open, 0);
    // Contents, one section per question, the answer key.
    assert_eq!(h2.len(), bank.questions.len() + 2, "{h2:?}");
    for q in &bank.questions {
        assert!(
            h2.contains(&format!("{}. {}", q.id, q.title)),
            "missing {}",
            q.title
        );
    }
    assert!(
        code_blocks >= bank.questions.len(),
        "every experiment's output is a code block"
    );
    assert!(
        md.contains("235,146"),
        "question 7's measured parameter count is in the handout"
    );
}

#[test]
fn a_dash_skips_an_item_and_an_empty_progress_file_is_a_fresh_record() {
    let dir = tempfile::tempdir().unwrap();
    let progress = dir.path().join("p.json");
    fs::write(&progress, "").unwrap();
    let m = q1_figure();
    let answers = format!("{:.2},-,c", m);
    let (text, err) = {
        let out = gradtutor(&progress)
            .args(["quiz", "--question", "1", "--answers", &answers])
            .assert()
            .success()
            .get_output()
            .clone();
        (common::text(&out.stdout), common::text(&out.stderr))
    };
    assert!(text.contains("(skipped)"), "{text}");
    assert!(text.contains("Score: 2 of 2 (100%)"), "{text}");
    assert!(!err.contains("could not be used"), "{err}");
    let record: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(&progress).unwrap()).unwrap();
    let items = record["quizzes"][0]["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "the skipped item is not recorded");
}

/// Two small questions (depth 3, width 8) with one choice item each, so a tour is quick.
fn small_bank(dir: &Path) {
    for (id, slug) in [(1, "first"), (2, "second")] {
        let text = format!(
            "format_version = 1\nid = {id}\nslug = \"{slug}\"\ntitle = \"Small {id}\"\n\
             question = \"Q{id}?\"\nanswer = \"A.\"\nkey_points = [\"k\"]\n\n[experiment]\n\
             demo = \"vanishing\"\ndepth = 3\nwidth = 8\ntakeaway = \"look\"\n\n[[quiz]]\n\
             prompt = \"Pick one\"\nchoices = [\"yes\", \"no\"]\nanswer = \"a\"\n\
             explanations = [\"Right.\", \"No.\"]\n"
        );
        fs::write(dir.join(format!("{id}.toml")), text).unwrap();
    }
}

#[test]
fn the_tour_pauses_between_sections_at_a_terminal_and_s_skips_one() {
    let dir = tempfile::tempdir().unwrap();
    let progress = dir.path().join("p.json");
    small_bank(dir.path());
    let bank = dir.path().to_str().unwrap();
    // rexpect reads the terminal as Latin-1: expect ASCII text only.
    let experiment = "Experiment: vanishing";
    let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("gradtutor"));
    cmd.args(["--color", "never", "--questions-only", bank, "tour"])
        .env("GRADTUTOR_PROGRESS", &progress)
        .env("COLUMNS", "80");
    let mut s = rexpect::session::spawn_command(cmd, Some(20_000)).unwrap();
    // Question 1: Enter shows the experiment, then the quiz item.
    let before = s.exp_string("Enter: the experiment").unwrap();
    assert!(
        before.contains("Q1?") && !before.contains(experiment),
        "{before}"
    );
    s.exp_string("s: skip it").unwrap();
    s.send_line("").unwrap();
    let shown = s.exp_string("Enter: a quiz item").unwrap();
    assert!(shown.contains(experiment), "{shown}");
    s.send_line("").unwrap();
    s.exp_string("Pick one").unwrap();
    s.exp_string("> ").unwrap();
    s.send_line("a").unwrap();
    s.exp_string("Enter: next question").unwrap();
    s.send_line("").unwrap();
    // Question 2: s skips the experiment (it is never shown), then q stops at the item.
    s.exp_string("Enter: the experiment").unwrap();
    s.send_line("s").unwrap();
    let skipped = s.exp_string("Enter: a quiz item").unwrap();
    assert!(skipped.contains("(experiment skipped)"), "{skipped}");
    assert!(!skipped.contains(experiment), "{skipped}");
    s.send_line("q").unwrap();
    s.exp_eof().unwrap();
    let p: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(&progress).unwrap()).unwrap();
    assert_eq!(p["studied"]["first"]["times"], 1);
    assert_eq!(p["studied"]["second"]["times"], 1);
    assert_eq!(p["quizzes"].as_array().unwrap().len(), 1);
}
