//! Instructor tooling: a question folder that extends or replaces the built-in bank, `bank
//! dump`, `progress --json` and `roster`.

use assert_cmd::Command;
use std::fs;
use std::path::Path;

mod common;

fn gradtutor() -> Command {
    common::gradtutor("instructor")
}

/// Runs the binary and returns (exit code, stdout, stderr).
fn run(c: &mut Command) -> (i32, String, String) {
    let out = c.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Stdout of a run that must succeed.
fn ok(c: &mut Command) -> String {
    let (code, out, err) = run(c);
    assert_eq!(code, 0, "{err}\n{out}");
    out
}

/// Stderr of a run that must fail cleanly.
fn fails(c: &mut Command) -> String {
    let (code, out, err) = run(c);
    assert_ne!(code, 0, "{out}");
    assert!(!err.contains("panicked"), "{err}");
    err
}

fn builtin(name: &str) -> String {
    fs::read_to_string(Path::new("questions").join(name)).unwrap()
}

/// Built-in question 9 (two choice items, one cheap claim) as question `id` with `slug`.
fn q9_as(id: u32, slug: &str) -> String {
    builtin("09-gradient-clipping.toml")
        .replacen("id = 9", &format!("id = {id}"), 1)
        .replacen(
            "slug = \"gradient-clipping\"",
            &format!("slug = \"{slug}\""),
            1,
        )
}

/// The table rows of `list`: lines that start with an id.
fn rows(list: &str) -> Vec<&str> {
    list.lines()
        .filter(|l| l.trim_start().starts_with(|c: char| c.is_ascii_digit()))
        .collect()
}

/// A folder with question 4 replaced (new title) and a new question 13.
fn extension(dir: &Path) {
    let q4 = builtin("04-exploding-gradients.toml").replacen("title = \"", "title = \"Ours: ", 1);
    fs::write(dir.join("04-ours.toml"), q4).unwrap();
    fs::write(dir.join("13-clipping-lab.toml"), q9_as(13, "clipping-lab")).unwrap();
}

#[test]
fn questions_extends_the_built_in_bank_and_list_says_where_each_is_from() {
    let dir = tempfile::tempdir().unwrap();
    extension(dir.path());
    let d = dir.path().to_str().unwrap();
    let builtin_rows = rows(&ok(gradtutor().arg("list"))).len();
    let text = ok(gradtutor().args(["--questions", d, "list"]));
    let table = rows(&text);
    assert_eq!(table.len(), builtin_rows + 1, "{text}");
    assert!(text.lines().all(|l| l.chars().count() <= 80), "{text}");
    let row = |id: &str| {
        *table
            .iter()
            .find(|r| r.split_whitespace().next() == Some(id))
            .unwrap()
    };
    assert!(
        row("4").contains("Ours:") && row("4").ends_with("04-ours.toml"),
        "{text}"
    );
    assert!(row("13").contains("clipping-lab"), "{text}");
    assert!(row("1").ends_with("built-in"), "{text}");
    let footer = format!("from {d}: 2 questions (1 overrides built-in 4)");
    assert!(text.contains(&footer), "{text}");
    // The new question is asked by id and slug; a question it did not replace is built-in.
    let q13 = ok(gradtutor().args(["--questions", d, "ask", "clipping-lab", "--no-demo"]));
    assert!(q13.contains("Question 13"), "{q13}");
    let q4 = ok(gradtutor().args(["--questions", d, "ask", "4", "--no-demo"]));
    assert!(q4.contains("Ours:"), "{q4}");
    // GRADTUTOR_QUESTIONS extends too.
    let env = ok(gradtutor().env("GRADTUTOR_QUESTIONS", d).arg("list"));
    assert_eq!(rows(&env), table);
    // check says how --questions would use the folder.
    let checked = ok(gradtutor().args(["check", d]));
    assert!(checked.contains("2 questions, "), "{checked}");
    let checked = checked.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        checked.contains(
            "extends the built-in bank: 1 new question and 1 question that replaces built-in 4"
        ),
        "{checked}"
    );
}

#[test]
fn questions_only_or_replace_true_in_bank_toml_replaces_the_built_in_bank() {
    let dir = tempfile::tempdir().unwrap();
    extension(dir.path());
    let d = dir.path().to_str().unwrap();
    let only = ok(gradtutor().args(["--questions-only", d, "list"]));
    let ids: Vec<&str> = rows(&only)
        .iter()
        .map(|r| r.split_whitespace().next().unwrap())
        .collect();
    assert_eq!(ids, ["4", "13"], "{only}");
    assert!(!only.contains("built-in  ") && only.contains("(in place of the built-in bank)"));
    // The command line wins over GRADTUTOR_QUESTIONS; both flags at once is a mistake.
    let over_env =
        ok(gradtutor()
            .env("GRADTUTOR_QUESTIONS", d)
            .args(["--questions-only", d, "list"]));
    assert_eq!(over_env, only);
    let err = fails(gradtutor().args(["--questions", d, "--questions-only", d, "list"]));
    assert!(err.contains("not both"), "{err}");
    // The folder's bank.toml makes --questions replace too; it is not read as a question.
    fs::write(
        dir.path().join("bank.toml"),
        "# whole bank\nreplace = true\n",
    )
    .unwrap();
    let replaced = ok(gradtutor().args(["--questions", d, "list"]));
    assert_eq!(replaced, only);
    let checked = ok(gradtutor().args(["check", d]));
    assert!(checked.contains(": 2 questions, "), "{checked}");
    assert!(checked.contains("says replace = true"), "{checked}");
    // replace = false is the default: the folder extends again.
    fs::write(dir.path().join("bank.toml"), "replace = false\n").unwrap();
    assert!(ok(gradtutor().args(["--questions", d, "list"])).contains("built-in"));
}

#[test]
fn a_broken_bank_toml_is_reported_at_its_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    extension(dir.path());
    let d = dir.path().to_str().unwrap();
    fs::write(
        dir.path().join("bank.toml"),
        "replace = \"yes\"\nreplaec = 1\n",
    )
    .unwrap();
    let err = fails(gradtutor().args(["--questions", d, "list"]));
    assert!(err.contains("bank.toml:1:11:"), "{err}");
    assert!(
        err.contains("bank.toml:2:1: unknown field `replaec`; did you mean `replace`?"),
        "{err}"
    );
    let (code, out, err) = run(gradtutor().args(["check", d]));
    assert_eq!(code, 1, "{err}");
    assert!(
        out.contains("bank.toml:1:11:") && err.contains("2 problems"),
        "{out}{err}"
    );
    // A folder with nothing but its settings file holds no questions.
    let empty = tempfile::tempdir().unwrap();
    fs::write(empty.path().join("bank.toml"), "replace = true\n").unwrap();
    let err = fails(gradtutor().args(["--questions", empty.path().to_str().unwrap(), "list"]));
    assert!(err.contains("has no question files"), "{err}");
}

#[test]
fn a_new_question_may_not_take_a_built_in_slug() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    fs::write(dir.path().join("mine.toml"), q9_as(13, "gradient-clipping")).unwrap();
    let err = fails(gradtutor().args(["--questions", d, "list"]));
    let mine = dir.path().join("mine.toml");
    assert!(
        err.contains(&format!(
            "{}: slug gradient-clipping is already built-in question 9's",
            mine.display()
        )) && err.contains("09-gradient-clipping.toml"),
        "{err}"
    );
    let (code, out, _) = run(gradtutor().args(["check", d]));
    assert_eq!(code, 1);
    assert!(out.contains("is already built-in question 9's"), "{out}");
    // Alone, the folder is a bank of its own: no clash.
    assert!(rows(&ok(gradtutor().args(["--questions-only", d, "list"]))).len() == 1);
    // Replacing question 9 itself may keep its slug.
    fs::write(dir.path().join("mine.toml"), q9_as(9, "gradient-clipping")).unwrap();
    ok(gradtutor().args(["--questions", d, "list"]));
}

#[test]
fn progress_is_kept_by_slug_so_a_replaced_question_does_not_inherit_scores() {
    let dir = tempfile::tempdir().unwrap();
    let progress = dir.path().join("p.json");
    let p = progress.to_str().unwrap();
    ok(gradtutor().args([
        "--progress",
        p,
        "quiz",
        "--question",
        "9",
        "--answers",
        "a,b",
    ]));
    let bank = dir.path().join("bank");
    fs::create_dir(&bank).unwrap();
    fs::write(bank.join("09.toml"), q9_as(9, "clipping-revised")).unwrap();
    let b = bank.to_str().unwrap();
    let row9 = |text: &str| {
        text.lines()
            .find(|l| l.trim_start().starts_with("9 "))
            .unwrap()
            .to_string()
    };
    let mine = ok(gradtutor().args(["--progress", p, "--questions", b, "progress"]));
    assert!(!row9(&mine).contains("right"), "{mine}");
    let theirs = ok(gradtutor().args(["--progress", p, "progress"]));
    assert!(row9(&theirs).contains("1/2 right"), "{theirs}");
}

#[test]
fn bank_dump_round_trips_through_check_and_list() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("new/bank");
    let d = dir.to_str().unwrap();
    let said = ok(gradtutor().args(["bank", "dump", d]));
    assert!(said.contains("Wrote "), "{said}");
    // check passes with the built-in bank's own counts, read from the library.
    let bank = gradtutor::Bank::embedded(1 << 32).unwrap();
    let items: usize = bank.questions.iter().map(|q| q.quiz.len()).sum();
    let claims: usize = bank.questions.iter().map(|q| q.claims.len()).sum();
    let checked = ok(gradtutor().args(["check", d]));
    let want = format!(
        "{d}: {} questions, {items} quiz items, {claims} claims, no problems.",
        bank.questions.len()
    );
    assert_eq!(checked.lines().next(), Some(want.as_str()), "{checked}");
    assert!(checked.contains("says replace = true"), "{checked}");
    // The folder alone lists exactly as the built-in bank does, but for the line saying where
    // it comes from.
    let builtin = ok(gradtutor().arg("list"));
    let dumped = ok(gradtutor().args(["--questions-only", d, "list"]));
    let from = format!("from {d}: ");
    let kept: Vec<&str> = dumped.lines().filter(|l| !l.starts_with(&from)).collect();
    assert_eq!(kept, builtin.lines().collect::<Vec<_>>(), "{dumped}");
    assert_eq!(dumped.lines().count(), builtin.lines().count() + 1);
}

#[test]
fn bank_dump_never_overwrites_without_force() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path().to_str().unwrap();
    ok(gradtutor().args(["bank", "dump", d]));
    let q1 = tmp.path().join("01-vanishing-gradients.toml");
    let original = fs::read_to_string(&q1).unwrap();
    fs::write(&q1, "edited").unwrap();
    fs::remove_file(tmp.path().join("02-xavier-initialization.toml")).unwrap();
    let err = fails(gradtutor().args(["bank", "dump", d]));
    assert!(
        err.contains("already has 01-vanishing-gradients.toml") && err.contains("--force"),
        "{err}"
    );
    assert_eq!(fs::read_to_string(&q1).unwrap(), "edited");
    assert!(
        !tmp.path().join("02-xavier-initialization.toml").exists(),
        "nothing is written when anything is refused"
    );
    ok(gradtutor().args(["bank", "dump", d, "--force"]));
    assert_eq!(fs::read_to_string(&q1).unwrap(), original);
    let err = fails(gradtutor().args(["bank", "dump", q1.to_str().unwrap()]));
    assert!(err.contains("is not a folder"), "{err}");
}
