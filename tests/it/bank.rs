//! The built-in bank and the validation rules.

use gradtutor::Bank;

const GIB: u64 = 1 << 30;

fn file(body: &str) -> (String, Result<String, String>) {
    ("q.toml".to_string(), Ok(body.to_string()))
}

const GOOD: &str = "format_version = 1\nid = 1\nslug = \"s\"\ntitle = \"T\"\nquestion = \"Q\"\n\
                    answer = \"A\"\nkey_points = [\"k\"]\n[experiment]\ndemo = \"vanishing\"\n\
                    takeaway = \"t\"\n";

#[test]
fn the_embedded_bank_is_valid_with_contiguous_unique_ids() {
    let bank = Bank::embedded(4 * GIB).unwrap();
    let ids: Vec<u32> = bank.questions.iter().map(|q| q.id).collect();
    assert!(ids.len() >= 12);
    assert_eq!(ids, (1..=ids.len() as u32).collect::<Vec<_>>());
    for q in &bank.questions {
        let words = q.answer.split_whitespace().count();
        assert!(
            (150..=500).contains(&words),
            "question {}: {words} words",
            q.id
        );
        assert!(!q.key_points.is_empty());
    }
}

#[test]
fn every_embedded_question_runs_its_experiment_at_small_size() {
    let bank = Bank::embedded(4 * GIB).unwrap();
    for q in &bank.questions {
        let exp = gradtutor::find_experiment(&q.experiment.demo).unwrap();
        let mut small = q.experiment.settings.clone();
        if !exp.fixed.contains(&gradtutor::Knob::Width) {
            small.width = Some(16);
        }
        // demo recurrent sets its depth itself (its --seq-len).
        if !exp.fixed.contains(&gradtutor::Knob::Depth) {
            small.depth = Some(small.depth.unwrap_or(20).min(6));
        }
        small.batch = Some(8);
        small.seeds = Some(1);
        let report = exp.run(&small, GIB).unwrap();
        assert!(!report.verdicts.is_empty(), "question {}: no verdict", q.id);
    }
}

#[test]
fn a_valid_file_loads() {
    let bank = Bank::from_files(vec![file(GOOD)], "test".into(), GIB).unwrap();
    assert_eq!(bank.questions[0].slug, "s");
}

#[test]
fn each_rule_is_enforced_and_every_problem_listed() {
    let cases = [
        (
            GOOD.replace("format_version = 1", "format_version = 2"),
            "format_version 2 is not supported",
        ),
        (
            GOOD.replace("answer = \"A\"", "answer = \"  \""),
            "q.toml:6:1: answer is empty",
        ),
        (
            GOOD.replace("key_points = [\"k\"]", "key_points = []"),
            "key_points needs",
        ),
        (
            GOOD.replace("demo = \"vanishing\"", "demo = \"vanish\""),
            "unknown experiment 'vanish'",
        ),
        (
            GOOD.replace("takeaway = \"t\"", "takeaway = \"t\"\ndepth = 0"),
            "depth must be at least 1",
        ),
        (
            GOOD.replace(
                "takeaway = \"t\"",
                "takeaway = \"t\"\nactivation = \"nope\"",
            ),
            "unknown activation",
        ),
        (
            GOOD.replace("slug = \"s\"", "slug = \"Has Spaces\""),
            "slug 'Has Spaces'",
        ),
        (GOOD.replace("title = \"T\"\n", ""), "missing field `title`"),
    ];
    for (text, want) in cases {
        let err = Bank::from_files(vec![file(&text)], "test".into(), GIB)
            .unwrap_err()
            .to_string();
        assert!(err.contains(want), "wanted {want:?} in {err}");
    }
    let two = vec![
        file(&GOOD.replace("answer = \"A\"", "answer = \"\"")),
        ("r.toml".to_string(), Ok("id = [".to_string())),
    ];
    let err = Bank::from_files(two, "test".into(), GIB)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("2 problems") && err.contains("r.toml:1:"),
        "{err}"
    );
}

#[test]
fn train_presets_are_validated_and_the_paired_questions_have_one() {
    let bank = Bank::embedded(4 * GIB).unwrap();
    for id in [1, 4, 6, 9] {
        let q = bank.find(&id.to_string()).unwrap();
        let t = q
            .train
            .as_ref()
            .expect("questions 1, 4, 6 and 9 pair with a training run");
        assert!(t.command().starts_with("gradtutor train"));
        t.settings.config().unwrap().check(GIB).unwrap();
        // And it trains, at a small size.
        let mut small = t.settings.clone();
        (small.steps, small.depth, small.width, small.samples) =
            (Some(10), Some(3), Some(8), Some(100));
        let report = gradtutor::train(&small.config().unwrap(), GIB, &|_| {}).unwrap();
        assert!(!report.runs.is_empty());
    }
    let with = |train: &str| format!("{GOOD}[train]\ntakeaway = \"t\"\n{train}");
    assert!(Bank::from_files(vec![file(&with("steps = 50\n"))], "t".into(), GIB).is_ok());
    for (bad, says) in [
        ("stepz = 50\n", "unknown field `stepz`"),
        (
            "compare = \"relu/nope\"\n",
            "q.toml:11:2: the [train] preset cannot run",
        ),
        ("steps = 0\n", "--steps must be"),
    ] {
        let err = Bank::from_files(vec![file(&with(bad))], "t".into(), GIB)
            .unwrap_err()
            .to_string();
        assert!(err.contains(says), "{bad}: {err}");
    }
}

#[test]
fn unknown_preset_keys_are_errors_at_their_own_line() {
    let text = format!("{GOOD}foo = 1\n");
    let err = Bank::from_files(vec![file(&text)], "t".into(), GIB)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("q.toml:11:1: in [experiment]: unknown field `foo`"),
        "{err}"
    );
}

#[test]
fn figure_names_read_the_same_in_files_and_messages() {
    use clap::ValueEnum;
    for f in gradtutor::Figure::value_variants() {
        assert_eq!(serde_json::to_value(f).unwrap(), f.to_string());
    }
}
