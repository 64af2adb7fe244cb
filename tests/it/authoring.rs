//! Authoring and class records (issue 28): `check`'s placeholders, tolerances, every
//! problem in one run, did-you-mean for settings keys and its results cache; the quiz's
//! numeric answers; the roster's first and latest attempts and per-option counts.

use super::common::{gradtutor_at, run, stdout};
use serde_json::{Value, json};
use std::fs;
use std::path::{Path, PathBuf};

/// A built-in question file's text.
fn builtin(name: &str) -> String {
    fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("questions")
            .join(name),
    )
    .unwrap()
}

/// A folder holding `text` as `q.toml`.
fn folder(text: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("q.toml"), text).unwrap();
    dir
}

/// `gradtutor check DIR` with the cache in `cache` (none: `--no-cache`): exit code, stdout,
/// stderr.
fn check(dir: &Path, cache: Option<&Path>) -> (i32, String, String) {
    let mut c = gradtutor_at(&dir.join("progress.json"));
    c.arg("check").arg(dir.join("q.toml").parent().unwrap());
    match cache {
        Some(path) => c.env("GRADTUTOR_CACHE_DIR", path),
        None => c.arg("--no-cache"),
    };
    run(&mut c)
}

// Catches: brace pairs that do not look like a figure's name let through (on main
// `{grad_last}`, `{Grad-Last}`, `{ grad-last }` and `{loss@}` give "no problems" and reach
// students raw), and math's braces taken for placeholders.
#[test]
fn every_unknown_placeholder_is_an_error_with_the_nearest_figure() {
    let text = builtin("01-vanishing-gradients.toml").replace(
        "this run measures ×{measured-factor} per layer",
        "this run measures ×{measured-factor} per layer ({grad_last}, {Grad-Last}, \
         { grad-last }, {loss@}, $W_{l+1}$)",
    );
    let dir = folder(&text);
    let (code, out, _) = check(dir.path(), None);
    assert_eq!(code, 1, "{out}");
    for want in [
        "{grad_last} is not a figure; did you mean {grad-last}?",
        "{Grad-Last} is not a figure; did you mean {grad-last}?",
        "{ grad-last } is not a figure; did you mean {grad-last}?",
        "{loss@} names no run after `@`; write {loss} for the first run or {loss@RUN}",
    ] {
        assert!(out.contains(want), "{want}\n{out}");
    }
    assert_eq!(
        out.lines().count(),
        4,
        "math's braces are no placeholder: {out}"
    );
    assert!(out.lines().all(|l| l.contains("q.toml:30:1: {")), "{out}");
}

// Catches: an inline `settings = { … }` read whole by serde without the nearest key (main
// lists the keys, no did-you-mean).
#[test]
fn a_mistyped_settings_key_gets_a_did_you_mean() {
    let text = builtin("01-vanishing-gradients.toml").replacen(
        "tolerance = 0.5",
        "tolerance = 0.5\nsettings = { depht = 30 }",
        1,
    );
    let dir = folder(&text);
    let (code, out, _) = check(dir.path(), None);
    assert_eq!(code, 1);
    assert!(
        out.contains(
            "q.toml:40:14: in [[quiz]]: unknown field `depht`; did you mean `depth`? (expected \
             one of `depth`, `width`,"
        ),
        "{out}"
    );
}

// Catches: a tolerance finer than the figure's printed precision accepted when the measured
// value happens to lie within it of the printed one (12.279 printed 12.3, ±0.03: main
// passes it), and a message that does not say what precision the output has.
#[test]
fn a_tolerance_finer_than_the_printed_precision_is_refused() {
    let text =
        builtin("01-vanishing-gradients.toml").replacen("tolerance = 0.5", "tolerance = 0.03", 1);
    let dir = folder(&text);
    let (code, out, _) = check(dir.path(), None);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains(
            "q.toml:37:1: numeric quiz item: tolerance 0.03 is finer than the figure's printed \
             precision: the output prints it as 12.3, to 0.1,"
        ),
        "{out}"
    );
    assert!(out.contains("give a tolerance of at least 0.05"), "{out}");
    // Finer still, so that the printed value itself is marked wrong: said so.
    let dir = folder(&text.replacen("tolerance = 0.03", "tolerance = 0.01", 1));
    let (_, out, _) = check(dir.path(), None);
    assert!(
        out.contains("so a student who types 12.3 is off by 0.0214 and marked wrong"),
        "{out}"
    );
    // Half a step is enough.
    let dir = folder(&text.replacen("tolerance = 0.03", "tolerance = 0.05", 1));
    let (code, out, _) = check(dir.path(), None);
    assert_eq!(code, 0, "{out}");
}

// Catches: a file's problems found by loading hiding the ones only a run or the whole bank
// shows (on main a bad answer letter hid the slug clash and the unprintable figure until it
// was fixed).
#[test]
fn every_problem_of_a_file_is_reported_in_one_run_with_its_place() {
    let text = builtin("02-xavier-initialization.toml")
        .replacen("id = 2", "id = 50", 1)
        .replacen(
            "slug = \"xavier-initialization\"",
            "slug = \"vanishing-gradients\"",
            1,
        )
        .replacen("answer = \"b\"", "answer = \"z\"", 1)
        .replacen(
            "figure = \"measured-factor\"",
            "figure = \"grad-orders-hidden\"",
            1,
        );
    let dir = folder(&text);
    let (code, out, err) = check(dir.path(), None);
    assert_eq!(code, 1);
    assert!(err.contains("3 problems"), "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines[0].contains("q.toml:38:1: quiz item") && lines[0].contains("'z'"));
    assert!(lines[1].contains("q.toml:3:1: slug vanishing-gradients is already built-in"));
    assert!(
        lines[2].contains("q.toml:70:1: numeric quiz item: its figure grad-orders-hidden"),
        "{out}"
    );
}

/// The cache files of `dir`.
fn entries(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = fs::read_dir(dir)
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    v.retain(|p| p.extension().is_some_and(|x| x == "json"));
    v.sort();
    v
}

/// FNV-1a, 64 bits, as the cache's checksum.
fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Rewrites a cache file with `edit` applied to its value, checksummed (`sign`) or not.
fn tamper(path: &Path, sign: bool, edit: impl Fn(&mut Value)) {
    let text = fs::read_to_string(path).unwrap();
    let mut lines = text.splitn(3, '\n');
    let (magic, sum, body) = (
        lines.next().unwrap(),
        lines.next().unwrap(),
        lines.next().unwrap(),
    );
    let mut v: Value = serde_json::from_str(body).unwrap();
    edit(&mut v["value"]);
    let body = v.to_string();
    let sum = match sign {
        true => format!("{:016x}", fnv(body.as_bytes())),
        false => sum.to_string(),
    };
    fs::write(path, format!("{magic}\n{sum}\n{body}")).unwrap();
}

/// Marks every figure of a cached run as not printed.
fn unprinted(v: &mut Value) {
    for a in v["run"]["Ok"].as_array_mut().unwrap() {
        a["printed"] = json!(false);
    }
}

// Catches: a cache that is not read (every run made again), read under the wrong key, or
// trusted when damaged: an entry whose checksum does not match its body, or a truncated
// one, must be ignored and rewritten, and the output must be the uncached one.
#[test]
fn check_reads_runs_from_the_cache_and_never_trusts_a_damaged_entry() {
    let text =
        builtin("01-vanishing-gradients.toml").replacen("tolerance = 0.5", "tolerance = 0.03", 1);
    let dir = folder(&text);
    let cache = tempfile::tempdir().unwrap();
    let plain = check(dir.path(), None);
    assert!(entries(cache.path()).is_empty());
    let first = check(dir.path(), Some(cache.path()));
    assert_eq!(first, plain, "the cache changes nothing");
    let files = entries(cache.path());
    assert!(!files.is_empty(), "runs were kept");
    // A forged entry, checksummed: read as it stands, so the cache is what was read.
    let runs: Vec<&PathBuf> = files
        .iter()
        .filter(|p| fs::read_to_string(p).unwrap().contains("\"printed\""))
        .collect();
    for p in &runs {
        tamper(p, true, unprinted);
    }
    let forged = check(dir.path(), Some(cache.path()));
    assert!(
        forged.1.contains("does not appear in the output"),
        "{}",
        forged.1
    );
    // The same change without its checksum, or a truncated file: ignored and rewritten.
    for p in &runs {
        tamper(p, false, |v| {
            for a in v["run"]["Ok"].as_array_mut().unwrap() {
                a["printed"] = json!(true);
            }
        });
    }
    assert_eq!(check(dir.path(), Some(cache.path())), plain);
    for p in &files {
        let t = fs::read(p).unwrap();
        fs::write(p, &t[..t.len() / 2]).unwrap();
    }
    assert_eq!(check(dir.path(), Some(cache.path())), plain);
    for p in &files {
        let t = fs::read_to_string(p).unwrap();
        let (_, rest) = t.split_once('\n').unwrap();
        let (sum, body) = rest.split_once('\n').unwrap();
        assert_eq!(
            sum,
            format!("{:016x}", fnv(body.as_bytes())),
            "rewritten whole"
        );
    }
    // Bounded: with a bound of one byte nothing stays.
    let mut c = gradtutor_at(&dir.path().join("progress.json"));
    c.arg("check")
        .arg(dir.path())
        .env("GRADTUTOR_CACHE_DIR", cache.path())
        .env("GRADTUTOR_CACHE_MAX_BYTES", "1");
    assert_eq!(run(&mut c), plain);
    assert!(entries(cache.path()).is_empty());
}

/// Runs `quiz --question 1` on question 1 with `input` piped, keeping progress in `p`.
fn quiz(p: &Path, input: &str) -> String {
    stdout(
        gradtutor_at(p)
            .args(["quiz", "--question", "1"])
            .write_stdin(input.to_string()),
    )
}

// Catches: a piped answer that is not a number ending the quiz (main: "error: answer 1:
// 'abc' is not a number", the later answers lost), a sign error graded as a bare "Not
// quite", and the answer itself not recorded.
#[test]
fn numeric_answers_say_the_sign_and_a_bad_line_skips_the_item() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("p.json");
    let out = quiz(&p, "abc\nb\nc\n");
    assert!(
        out.contains("answer 1: 'abc' is not a number; this item is skipped"),
        "{out}"
    );
    assert!(out.contains("Score: 2 of 2 (100%)"), "{out}");
    let out = quiz(&p, "-12.3\na\nc\n");
    assert!(
        out.contains("Not quite, the sign differs: the run measured 12.3"),
        "{out}"
    );
    let out = quiz(&p, "12,3\nb\nc\n");
    assert!(
        out.contains("'12,3' is not a number: write decimals with a point (12.3)"),
        "{out}"
    );
    let v: Value = serde_json::from_str(&fs::read_to_string(&p).unwrap()).unwrap();
    let answers: Vec<&str> = v["quizzes"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|q| q["items"].as_array().unwrap())
        .map(|i| i["answer"].as_str().unwrap())
        .collect();
    assert_eq!(answers, ["b", "c", "-12.3", "a", "c", "b", "c"]);
}

/// One recorded answer: (slug, index, correct, answer).
pub(super) type Item<'a> = (&'a str, usize, bool, Option<&'a str>);

/// A progress record of quizzes, each a list of items.
pub(super) fn record(quizzes: &[&[Item]]) -> Value {
    let quizzes: Vec<Value> = quizzes
        .iter()
        .map(|items| {
            let items: Vec<Value> = items
                .iter()
                .map(|(q, i, ok, a)| {
                    let mut v = json!({"question": q, "item": i, "correct": ok});
                    if let Some(a) = a {
                        v["answer"] = json!(a);
                    }
                    v
                })
                .collect();
            json!({"at": "2026-12-08 00:00:00 UTC", "items": items})
        })
        .collect();
    json!({"format": "gradtutor-progress", "version": 1, "studied": {}, "quizzes": quizzes})
}

// Catches: scores summed over attempts (a perfect retake after a wrong first try shows as
// 50 %), percentages rounded to whole numbers (5 of 8 shown as 62 %), a column of "—" for
// every question nobody quizzed, a quiz not counted as studying, no per-option counts, and
// an old record (no answers kept) refused.
#[test]
fn the_roster_shows_first_and_latest_attempts_and_each_options_count() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, v: Value| {
        let p = dir.path().join(name);
        fs::write(&p, v.to_string()).unwrap();
        p
    };
    let retake = write(
        "retake.json",
        record(&[
            &[("vanishing-gradients", 1, false, Some("a"))],
            &[("vanishing-gradients", 1, true, Some("b"))],
        ]),
    );
    let five = write(
        "five.json",
        record(&[&[
            ("vanishing-gradients", 0, true, Some("12.3")),
            ("vanishing-gradients", 1, true, Some("b")),
            ("vanishing-gradients", 2, true, Some("c")),
            ("xavier-initialization", 0, true, None),
            ("xavier-initialization", 1, true, None),
            ("xavier-initialization", 2, false, None),
            ("saturating-activations", 0, false, None),
            ("saturating-activations", 1, false, None),
        ]]),
    );
    let out = stdout(
        gradtutor_at(&dir.path().join("p.json"))
            .arg("roster")
            .arg(&retake)
            .arg(&five),
    );
    let table: Vec<&str> = out
        .lines()
        .skip_while(|l| !l.starts_with("student"))
        .take(3)
        .collect();
    let words = |l: &str| l.split_whitespace().map(str::to_string).collect::<Vec<_>>();
    assert_eq!(
        words(table[0]),
        ["student", "studied", "first", "latest", "1", "2", "3"],
        "{out}"
    );
    assert_eq!(
        words(table[1]),
        ["retake", "1/22", "0%", "100%", "100", "—", "—"],
        "{out}"
    );
    assert_eq!(
        words(table[2]),
        ["five", "3/22", "62.5%", "62.5%", "100", "66.7", "0"],
        "{out}"
    );
    // Item 1.2: retake chose (a) first and (b) last, five chose (b).
    assert!(out.contains("1.2   a 1/0, b* 1/2, c 0/0, d 0/0"), "{out}");
    assert!(
        out.contains("retake   1.2   a (wrong)     b (right)            2"),
        "{out}"
    );
    // An answer recorded before answers were kept shows as `?` and counts for no option.
    assert!(out.contains("2.1   a 0/0, b* 0/0, c 0/0, d 0/0"), "{out}");
    assert!(
        out.contains("five     2.1   ? (right)     ? (right)            1"),
        "{out}"
    );
}
