//! Instructor tooling: a question folder that extends or replaces the built-in bank, `bank
//! dump`, `progress --json` and `roster`.

use assert_cmd::Command;
use std::fs;
use std::path::Path;

use super::common;

fn gradtutor() -> Command {
    common::gradtutor("instructor")
}

use common::run;

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
        // A row starts with its id (right-aligned in three columns); a wrapped title's
        // continuation is indented past the slug.
        .filter(|l| l.len() - l.trim_start().len() < 3)
        .filter(|l| l.trim_start().starts_with(|c: char| c.is_ascii_digit()))
        .collect()
}

/// A folder with question 4 replaced (new title) and a new question 99.
fn extension(dir: &Path) {
    let q4 = builtin("04-exploding-gradients.toml").replacen("title = \"", "title = \"Ours: ", 1);
    fs::write(dir.join("04-ours.toml"), q4).unwrap();
    fs::write(dir.join("99-clipping-lab.toml"), q9_as(99, "clipping-lab")).unwrap();
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
    assert!(row("99").contains("clipping-lab"), "{text}");
    assert!(row("1").ends_with("built-in"), "{text}");
    let footer = format!("from {d}: 2 questions (1 overrides built-in 4)");
    assert!(text.contains(&footer), "{text}");
    // The new question is asked by id and slug; a question it did not replace is built-in.
    let q99 = ok(gradtutor().args(["--questions", d, "ask", "clipping-lab", "--no-demo"]));
    assert!(q99.contains("Question 99"), "{q99}");
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
    assert_eq!(ids, ["4", "99"], "{only}");
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
    fs::write(dir.path().join("mine.toml"), q9_as(99, "gradient-clipping")).unwrap();
    let err = fails(gradtutor().args(["--questions", d, "list"]));
    let mine = dir.path().join("mine.toml");
    assert!(
        err.contains(&format!(
            "{}:3:1: slug gradient-clipping is already built-in question 9's",
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

/// The right letter of each choice item of question `id`, and a wrong one; `-` (skip) for a
/// numeric item. Read from the library's bank, not typed.
fn answers(id: &str) -> Vec<(String, String)> {
    let bank = gradtutor::Bank::embedded(1 << 32).unwrap();
    bank.find(id)
        .unwrap()
        .quiz
        .iter()
        .map(|item| match &item.kind {
            gradtutor::ItemKind::Choice {
                choices, correct, ..
            } => {
                let letter = |i: usize| ((b'a' + i as u8) as char).to_string();
                (letter(*correct), letter((correct + 1) % choices.len()))
            }
            gradtutor::ItemKind::Numeric { .. } => ("-".into(), "-".into()),
        })
        .collect()
}

/// Takes question `id`'s quiz with `--answers`, right or wrong item by item.
fn quiz(progress: &Path, id: &str, right: &[bool]) {
    let list: Vec<String> = answers(id)
        .into_iter()
        .zip(right)
        .map(|((r, w), ok)| if *ok { r } else { w })
        .collect();
    let p = progress.to_str().unwrap();
    ok(gradtutor().args([
        "--progress",
        p,
        "quiz",
        "--question",
        id,
        "--answers",
        &list.join(","),
        "--seed",
        "1",
    ]));
}

/// RFC 4180 fields of each line: quoted fields may hold commas, quotes (doubled) and line
/// breaks. Panics on a stray quote.
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let (mut rows, mut row, mut field) = (Vec::new(), Vec::new(), String::new());
    let mut chars = text.chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') => {
                assert!(field.is_empty(), "a quote inside an unquoted field: {text}");
                quoted = true;
            }
            (false, ',') => row.push(std::mem::take(&mut field)),
            (false, '\n') => {
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
            }
            (false, c) => field.push(c),
        }
    }
    assert!(
        !quoted && field.is_empty() && row.is_empty(),
        "unterminated: {text}"
    );
    rows
}

/// Three students: alice gets questions 1 and 9 all right (and studies 9), bob misses item
/// 2 of both, "Carol, C." (named in her record) misses items 2 and 3 of question 1. Question
/// 1's numeric item is skipped by all, so nothing is run.
fn three_students(dir: &Path) -> [std::path::PathBuf; 3] {
    let files = ["alice", "bob", "carol"].map(|n| dir.join(format!("{n}.json")));
    let [alice, bob, carol] = &files;
    quiz(alice, "1", &[true, true, true]);
    quiz(alice, "9", &[true, true]);
    ok(gradtutor().args([
        "--progress",
        alice.to_str().unwrap(),
        "ask",
        "9",
        "--no-demo",
    ]));
    quiz(bob, "1", &[true, false, true]);
    quiz(bob, "9", &[true, false]);
    quiz(carol, "1", &[true, false, false]);
    ok(gradtutor().args([
        "--progress",
        carol.to_str().unwrap(),
        "progress",
        "--name",
        "Carol, C.",
    ]));
    files
}

#[test]
fn roster_sums_up_three_students_in_text_csv_and_markdown() {
    let dir = tempfile::tempdir().unwrap();
    let files = three_students(dir.path());
    let paths: Vec<&str> = files.iter().map(|f| f.to_str().unwrap()).collect();
    let bank = gradtutor::Bank::embedded(1 << 32).unwrap();
    let n = bank.questions.len();

    let csv = ok(gradtutor()
        .arg("roster")
        .args(&paths)
        .args(["--format", "csv"]));
    let rows = parse_csv(&csv);
    // A header, three students, the class average, the most missed item and the answer
    // counts; per row 7 fixed columns, one per question, and first/latest for the 4 items
    // answered (1.2, 1.3, 9.1, 9.2).
    assert_eq!(rows.len(), 1 + 3 + 3, "{csv}");
    assert!(rows.iter().all(|r| r.len() == 7 + n + 2 * 4), "{csv}");
    let col = |head: &str| rows[0].iter().position(|h| h == head).unwrap();
    let (q1, q9) = (col("1:vanishing-gradients"), col("9:gradient-clipping"));
    let row = |name: &str| rows.iter().find(|r| r[0] == name).unwrap();
    // Question 1's two choice items (the numeric one skipped), question 9's two.
    assert_eq!(row("alice")[q1], "100");
    assert_eq!(row("alice")[q9], "100");
    // Alice studied question 1 and was quizzed on 1 and 9: a quiz counts as studying.
    assert_eq!(row("alice")[col("studied")], "2");
    assert_eq!(row("bob")[q1], "50");
    assert_eq!(row("bob")[q9], "50");
    assert_eq!(row("bob")[col("right")], "2");
    assert_eq!(row("bob")[col("asked")], "4");
    assert_eq!(row("Carol, C.")[q1], "0");
    assert_eq!(row("Carol, C.")[q9], "", "carol never quizzed on 9");
    assert_eq!(row("Carol, C.")[col("file")], paths[2]);
    // The average of 100, 50 and 0; of 100 and 50.
    let average = row("(class average)");
    assert_eq!((average[q1].as_str(), average[q9].as_str()), ("50", "75"));
    // Item 2 of question 1: missed by bob and carol, of the three who answered it.
    let most = row("(most missed item)");
    assert_eq!(most[q1], "item 2, 2 of 3");
    assert_eq!(most[q9], "item 2, 1 of 2");
    assert_eq!(most[col("2:xavier-initialization")], "");

    let text = ok(gradtutor().arg("roster").args(&paths));
    assert!(text.lines().all(|l| l.chars().count() <= 80), "{text}");
    let total = common::bank_size();
    assert!(
        text.contains(&format!("Roster: 3 students, {total} questions")),
        "{text}"
    );
    let line = |start: &str| text.lines().find(|l| l.starts_with(start)).unwrap();
    let bob: Vec<&str> = line("bob ").split_whitespace().collect();
    // Bob was quizzed on 1 and 9 (a quiz counts as studying), half right at the first
    // attempt and the latest; only quizzed questions have a column.
    assert_eq!(
        &bob[1..],
        [format!("2/{total}").as_str(), "50%", "50%", "50", "50"],
        "{text}"
    );
    let q1_line = line("  1  vanishing-gradients");
    assert!(
        q1_line.contains(" 3/3 ") && q1_line.contains("50%"),
        "{q1_line}"
    );
    assert!(q1_line.ends_with("item 2, 2 of 3"), "{q1_line}");
    // The missed item's prompt follows on a line of its own.
    let after = text.lines().skip_while(|l| *l != q1_line).nth(1).unwrap();
    let prompt = &bank.questions[0].quiz[1].prompt;
    let shown = after.trim_start().trim_end_matches('…');
    assert!(
        after.starts_with("     ") && prompt.starts_with(shown),
        "{after}"
    );

    // A bank too wide for one line of question columns continues in further blocks, every
    // line within 80 columns and every question's column shown once.
    let wide = dir.path().join("wide");
    fs::create_dir(&wide).unwrap();
    for id in 50..=77 {
        fs::write(
            wide.join(format!("{id}.toml")),
            q9_as(id, &format!("extra-{id}")),
        )
        .unwrap();
    }
    // Only quizzed questions have a column: a fourth student quizzed on item 1 of every
    // question gives the roster one column per question of the extended bank.
    let mut slugs: Vec<String> = bank.questions.iter().map(|q| q.slug.clone()).collect();
    slugs.extend((50..=77).map(|id| format!("extra-{id}")));
    let items: Vec<super::authoring::Item> =
        slugs.iter().map(|s| (s.as_str(), 0, true, None)).collect();
    let dora = dir.path().join("dora.json");
    fs::write(&dora, super::authoring::record(&[&items]).to_string()).unwrap();
    let text = ok(gradtutor()
        .args(["--questions", wide.to_str().unwrap(), "roster"])
        .args(&paths)
        .arg(&dora));
    assert!(text.lines().all(|l| l.chars().count() <= 80), "{text}");
    // The per-student blocks: the lines before the per-question table.
    let blocks: Vec<&str> = text
        .lines()
        .take_while(|l| !l.starts_with(" id  question"))
        .collect();
    let heads: Vec<&str> = blocks
        .iter()
        .copied()
        .filter(|l| l.starts_with("student"))
        .collect();
    assert!(heads.len() >= 2, "{text}");
    let ids: Vec<String> = heads
        .iter()
        .flat_map(|h| h.split_whitespace().filter(|t| t.parse::<u32>().is_ok()))
        .map(String::from)
        .collect();
    assert_eq!(
        ids,
        (1..=common::bank_size())
            .chain(50..=77)
            .map(|i| i.to_string())
            .collect::<Vec<_>>(),
        "{text}"
    );
    assert_eq!(
        blocks.iter().filter(|l| l.starts_with("bob ")).count(),
        heads.len()
    );

    let md = ok(gradtutor()
        .arg("roster")
        .args(&paths)
        .args(["--format", "markdown"]));
    let carol = format!(
        "| Carol, C. | 1/{} | 0% | 0% | 0% | — |",
        common::bank_size()
    );
    assert!(md.contains(&carol), "{md}");
    let table_rows = md.lines().filter(|l| l.starts_with('|')).count();
    // Students (head, rule, 3), questions (head, rule, n), the 4 answered items' option
    // tables (head, rule, 4 options each), the attempts (head, rule, 4 + 4 + 2 answers).
    assert_eq!(
        table_rows,
        (2 + 3) + (2 + n) + 4 * (2 + 4) + (2 + 10),
        "{md}"
    );
}

#[test]
fn roster_refuses_unusable_files_naming_each() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.json");
    quiz(&good, "9", &[true, true]);
    let broken = dir.path().join("broken.json");
    fs::write(&broken, "{\"format\": ").unwrap();
    let report = dir.path().join("report.json");
    let json = ok(gradtutor().args(["--progress", good.to_str().unwrap(), "progress", "--json"]));
    fs::write(&report, json).unwrap();
    let missing = dir.path().join("missing.json");
    let err = fails(
        gradtutor()
            .arg("roster")
            .args([&good, &broken, &report, &missing]),
    );
    assert!(
        err.contains("3 progress files of the 4 given cannot be used"),
        "{err}"
    );
    assert!(
        err.contains("broken.json cannot be used: it is damaged"),
        "{err}"
    );
    assert!(err.contains("line 1 column"), "{err}");
    assert!(
        err.contains("report.json cannot be used: it is the output of"),
        "{err}"
    );
    assert!(err.contains("missing.json: there is no such file"), "{err}");
    // Nothing was moved aside or changed.
    assert_eq!(fs::read_to_string(&broken).unwrap(), "{\"format\": ");
    let mut left: Vec<String> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    left.sort();
    assert_eq!(
        left,
        ["broken.json", "good.json", "good.json.lock", "report.json"]
    );
}

#[test]
fn progress_json_is_the_record_read_against_the_bank() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("alice.json");
    let f = file.to_str().unwrap();
    quiz(&file, "1", &[true, false, true]);
    quiz(&file, "9", &[true, true]);
    ok(gradtutor().args(["--progress", f, "ask", "9", "--no-demo"]));
    let json = |extra: &[&str]| -> serde_json::Value {
        let text = ok(gradtutor()
            .args(["--progress", f])
            .args(extra)
            .args(["progress", "--json"]));
        serde_json::from_str(&text).unwrap()
    };
    let v = json(&[]);
    assert_eq!(v["format"], "gradtutor-progress-report");
    assert_eq!(v["version"], 1);
    assert_eq!(v["student"], serde_json::Value::Null);
    assert_eq!(v["file"], f);
    let bank = gradtutor::Bank::embedded(1 << 32).unwrap();
    let qs = v["questions"].as_array().unwrap();
    assert_eq!(qs.len(), bank.questions.len());
    let q1 = &qs[0];
    assert_eq!(
        (q1["id"].as_u64(), q1["slug"].as_str()),
        (Some(1), Some("vanishing-gradients"))
    );
    assert_eq!(
        (q1["right"].as_u64(), q1["asked"].as_u64()),
        (Some(1), Some(2))
    );
    assert_eq!(q1["studied"], 0);
    assert_eq!(q1["last_studied"], serde_json::Value::Null);
    let items = q1["items"].as_array().unwrap();
    assert_eq!(items.len(), bank.questions[0].quiz.len());
    // Item 0 (numeric) was skipped, item 1 missed, item 2 right.
    let counts: Vec<(u64, u64)> = items
        .iter()
        .map(|i| (i["right"].as_u64().unwrap(), i["asked"].as_u64().unwrap()))
        .collect();
    assert_eq!(counts, [(0, 0), (0, 1), (1, 1)]);
    assert_eq!(items[1]["item"], 1);
    assert_eq!(
        items[1]["prompt"],
        bank.questions[0].quiz[1].prompt.as_str()
    );
    let q9 = &qs[8];
    assert_eq!(q9["studied"], 1);
    assert!(q9["last_studied"].as_str().unwrap().ends_with(" UTC"));
    let quizzes = v["quizzes"].as_array().unwrap();
    assert_eq!(quizzes.len(), 2);
    assert_eq!(quizzes[0]["items"][0]["question"], "vanishing-gradients");
    assert_eq!(quizzes[0]["items"][0]["correct"], false);
    // The name is stored in the record; a bank without question 9 still reports its record.
    ok(gradtutor().args(["--progress", f, "progress", "--name", "  Alice A.  "]));
    let only1 = dir.path().join("only1");
    fs::create_dir(&only1).unwrap();
    fs::write(
        only1.join("01.toml"),
        builtin("01-vanishing-gradients.toml"),
    )
    .unwrap();
    let v = json(&["--questions-only", only1.to_str().unwrap()]);
    assert_eq!(v["student"], "Alice A.");
    let qs = v["questions"].as_array().unwrap();
    assert_eq!(qs.len(), 2);
    assert_eq!(qs[1]["id"], serde_json::Value::Null);
    assert_eq!(qs[1]["slug"], "gradient-clipping");
    assert_eq!(
        (qs[1]["right"].as_u64(), qs[1]["asked"].as_u64()),
        (Some(2), Some(2))
    );
    let record: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(&file).unwrap()).unwrap();
    assert_eq!(record["name"], "Alice A.");
    // A bad name is refused and the record left as it was.
    for bad in ["a\u{1b}[31mb", &"x".repeat(61)] {
        let err = fails(gradtutor().args(["--progress", f, "progress", "--name", bad]));
        assert!(err.contains("a name may"), "{err}");
    }
    ok(gradtutor().args(["--progress", f, "progress", "--name", ""]));
    assert_eq!(json(&[])["student"], serde_json::Value::Null);
}

// Catches: two students with the same name whose rows read the same once the name column is
// cut to fit 80 columns (the paths that tell them apart were cut off).
#[test]
fn students_with_one_name_are_told_apart_at_80_columns() {
    let dir = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    for period in ["period-one", "period-two"] {
        let folder = dir.path().join("a-long-class-folder").join(period);
        fs::create_dir_all(&folder).unwrap();
        let file = folder.join("ada.json");
        ok(gradtutor()
            .arg("--progress")
            .arg(&file)
            .args(["progress", "--name", "Ada Lovelace"]));
        files.push(file);
    }
    let out = ok(gradtutor().arg("roster").args(&files));
    let none = format!("0/{}", common::bank_size());
    let rows: Vec<&str> = out.lines().filter(|l| l.contains(&none)).collect();
    assert_eq!(rows.len(), 2, "{out}");
    let name_of = |row: &str| row.split("  ").next().unwrap().to_string();
    assert_ne!(name_of(rows[0]), name_of(rows[1]), "{out}");
    for (k, file) in files.iter().enumerate() {
        let note = format!("[{}] Ada Lovelace ({})", k + 1, file.display());
        assert!(
            out.replace("\n    ", "").contains(&note),
            "no note {note} in\n{out}"
        );
    }
    assert!(out.lines().all(|l| l.chars().count() <= 80), "{out}");
}
