//! `train --dataset digits` (the embedded real digits) and `train --data` (a user's CSV file or
//! MNIST folder): what they train on, what they refuse, and that runs do not depend on the
//! thread count.

use crate::common;

/// `train` with `args` and the given thread count: (exit code, stdout, stderr).
fn train(args: &[&str], threads: &str) -> (i32, String, String) {
    let mut c = common::gradtutor("data");
    c.env("RAYON_NUM_THREADS", threads).arg("train").args(args);
    common::run(&mut c)
}

#[test]
fn digits_train_the_seed_model_and_sigmoid_stays_at_chance() {
    // The default 300 steps: by then ReLU and batch norm pass 85% and sigmoid is at chance.
    let args = ["--dataset", "digits", "--json", "--max-time", "60"];
    let (code, out, err) = train(&args, "1");
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["config"]["widths"], serde_json::json!([256, 128]));
    assert_eq!(v["config"]["data"]["kind"], "digits");
    assert_eq!(
        (v["train_examples"].as_u64(), v["test_examples"].as_u64()),
        (Some(1348), Some(449))
    );
    let labels: Vec<&str> = v["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["label"].as_str().unwrap())
        .collect();
    assert_eq!(
        labels,
        [
            "sigmoid/xavier-normal",
            "relu/he-normal",
            "sigmoid/xavier-normal+bn"
        ]
    );
    let test = |i: usize| {
        let c = v["runs"][i]["checkpoints"].as_array().unwrap();
        c.last().unwrap()["test"]["accuracy"].as_f64().unwrap()
    };
    assert!(
        test(0) < 0.2,
        "sigmoid/Xavier should still be at chance: {}",
        test(0)
    );
    assert!(
        test(1) > 0.7,
        "ReLU/He should learn the digits: {}",
        test(1)
    );
    assert!(
        test(2) > 0.6,
        "batch norm should rescue sigmoid: {}",
        test(2)
    );
    // Byte-identical on two threads.
    let (_, two, _) = train(&args, "2");
    assert_eq!(out, two, "the result depends on the thread count");
    // The text names the network and the classes.
    let (_, text, _) = train(
        &["--dataset", "digits", "--steps", "20", "--compare", "relu"],
        "1",
    );
    // The header wraps at 80 columns: compare with its line breaks as spaces.
    let text = text.replace('\n', " ");
    assert!(
        text.contains("Network: 64 → 256 → 128 → 10 · f32 · seed 42"),
        "{text}"
    );
    assert!(
        text.contains(
            "Data: digits, 10 classes (0, 1, 2, 3, 4, 5, 6, 7, 8, 9), 64 inputs · 1348 train"
        ),
        "{text}"
    );
}

#[test]
fn digits_refuse_settings_that_would_change_the_fixed_set() {
    for flag in ["--samples", "--noise"] {
        let (code, _, err) = train(&["--dataset", "digits", flag, "100"], "1");
        assert_ne!(code, 0);
        assert!(
            err.contains(&format!(
                "{flag}: the digits' 1,797 examples are fixed (1,348 train, 449 test)"
            )),
            "{err}"
        );
    }
    // --depth and --width give a uniform network instead of the seed's.
    let (code, out, err) = train(
        &[
            "--dataset",
            "digits",
            "--depth",
            "3",
            "--width",
            "16",
            "--steps",
            "5",
            "--compare",
            "relu",
        ],
        "1",
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("Network: depth 3 × width 16"), "{out}");
}

#[test]
fn a_csv_file_trains_with_named_classes_and_bad_cells_are_listed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("points.csv");
    // Two well separated clusters, 40 rows, labels as names.
    let mut text = String::from("x,y,kind\n");
    for i in 0..40 {
        let (c, name) = if i % 2 == 0 {
            (-2.0, "left")
        } else {
            (2.0, "right")
        };
        text.push_str(&format!(
            "{},{},{name}\n",
            c + 0.01 * i as f64,
            0.5 * (i % 5) as f64
        ));
    }
    std::fs::write(&path, &text).unwrap();
    let p = path.to_str().unwrap();
    let args = [
        "--data",
        p,
        "--compare",
        "relu",
        "--depth",
        "2",
        "--width",
        "8",
        "--steps",
        "60",
        "--batch",
        "8",
        "--standardize",
    ];
    let (code, out, err) = train(&args, "1");
    assert_eq!(code, 0, "{err}");
    // The header wraps at the terminal's width.
    assert!(
        out.replace('\n', " ").contains(
            "2 classes (left, right), 2 inputs, standardized · 30 train / 10 test examples"
        ),
        "{out}"
    );
    let (_, two, _) = train(&args, "2");
    assert_eq!(out, two);
    let mut json = args.to_vec();
    json.push("--json");
    let (_, j, _) = train(&json, "1");
    let v: serde_json::Value = serde_json::from_str(&j).unwrap();
    assert_eq!(
        v["config"]["data"]["file"]["classes"],
        serde_json::json!(["left", "right"])
    );
    assert_eq!(v["config"]["data"]["file"]["label"], "kind");
    let last = v["runs"][0]["checkpoints"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(
        last["test"]["accuracy"].as_f64(),
        Some(1.0),
        "two separated clusters"
    );

    // Bad cells: each one at line:column, exit non-zero, nothing trained.
    std::fs::write(&path, "x,y,kind\n1,2,a\n1,oops,b\n3,,a\n").unwrap();
    let (code, out, err) = train(&["--data", p], "1");
    assert_ne!(code, 0);
    assert!(out.is_empty());
    assert!(
        err.contains(&format!("{p}:3:2: 'oops' is not a number")),
        "{err}"
    );
    assert!(
        err.contains(&format!("{p}:4:2: empty cell where a number belongs")),
        "{err}"
    );
    // The generated set's flags do not mix with --data; --label needs --data.
    std::fs::write(&path, &text).unwrap();
    let (code, _, err) = train(&["--data", p, "--dataset", "xor"], "1");
    assert_ne!(code, 0);
    assert!(
        err.contains("--data gives the examples, so --dataset has nothing to set"),
        "{err}"
    );
    let (code, _, err) = train(&["--label", "kind"], "1");
    assert_ne!(code, 0);
    assert!(err.contains("--data"), "{err}");
    // Over --max-memory: refused from the file's size, before reading.
    let (code, _, err) = train(&["--data", p, "--max-memory", "16"], "1");
    assert_ne!(code, 0);
    assert!(
        err.contains("more than 4 bytes (a quarter of --max-memory"),
        "{err}"
    );
}

#[test]
fn an_mnist_folder_that_is_missing_is_named_and_nothing_is_downloaded() {
    let dir = tempfile::tempdir().unwrap();
    let arg = format!("mnist:{}", dir.path().join("none").display());
    let (code, _, err) = train(&["--data", &arg], "1");
    assert_ne!(code, 0);
    assert!(
        err.contains("no such folder (nothing is downloaded)"),
        "{err}"
    );
}
