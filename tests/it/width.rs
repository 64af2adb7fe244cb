//! `demo width`: the learning-rate sweep per width under SP and µP, through the command line,
//! its renderers and the live lab. The µP table itself, the output multiplier's backward rule
//! and the pinned first steps are tested beside the engine (src/nn/mup.rs,
//! src/nn/network.rs, src/experiments/width.rs). Each test states the wrong code it catches.

use super::common;
use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::Stdio;

fn gradtutor() -> assert_cmd::Command {
    common::gradtutor("width")
}

const SMALL: [&str; 4] = ["demo", "width", "--widths", "16,64"];

// Catches: a table or title that outgrows a classroom terminal, a parameterization left out
// of the view, or a best η that the table does not print.
#[test]
fn the_sweep_fits_80_columns_and_shows_both_parameterizations() {
    let out = common::stdout(gradtutor().args(SMALL));
    for line in out.lines() {
        assert!(line.chars().count() <= 80, "{} columns: {line}", line.len());
    }
    assert!(out.contains("SP · relu · he-normal · depth 2"), "{out}");
    assert!(out.contains("µP · relu · he-normal · depth 2"), "{out}");
    assert_eq!(out.lines().filter(|l| l.starts_with("  best η")).count(), 2);
    assert!(out.contains("1 input") && out.contains("2 hidden") && out.contains("3 output"));
    assert!(out.contains("µP promises that the best learning rate"));
    let mup = common::stdout(gradtutor().args(SMALL).args(["--param", "mup"]));
    assert!(!mup.contains("SP · ") && mup.contains("µP · "), "{mup}");
}

// Catches: a sweep whose cells depend on which thread ran them or on the order they finished
// in (results collected as they come), and a seed that is not passed down to the data and
// weights.
#[test]
fn the_sweep_is_the_same_bytes_on_one_thread_or_two_and_follows_the_seed() {
    let run = |extra: &[&str], threads: &str| {
        common::stdout(
            gradtutor()
                .env("RAYON_NUM_THREADS", threads)
                .args(["--threads", threads])
                .args(SMALL)
                .args(extra)
                .arg("--json"),
        )
    };
    let one = run(&[], "1");
    assert_eq!(one, run(&[], "2"));
    let seven = run(&["--seed", "7"], "2");
    assert_eq!(seven, run(&["--seed", "7"], "1"));
    assert_ne!(one, seven);
}

// Catches: a sweep missing from the JSON, or one whose best index does not point at the
// lowest final loss.
#[test]
fn json_carries_every_learning_rate_and_the_best() {
    let v: Value =
        serde_json::from_str(&common::stdout(gradtutor().args(SMALL).arg("--json"))).unwrap();
    let runs = v["runs"].as_array().unwrap();
    let labels: Vec<&str> = runs.iter().map(|r| r["label"].as_str().unwrap()).collect();
    assert_eq!(labels, ["standard 16", "standard 64", "mup 16", "mup 64"]);
    for r in runs {
        let s = &r["sweep"];
        let lrs = s["lrs"].as_array().unwrap();
        let losses = s["final_losses"].as_array().unwrap();
        assert_eq!(lrs.len(), losses.len());
        assert_eq!(lrs.len(), 9);
        assert_eq!(s["update_ratios"].as_array().unwrap().len(), 3);
        let best = s["best"].as_u64().unwrap() as usize;
        let lowest = losses
            .iter()
            .filter_map(Value::as_f64)
            .fold(f64::INFINITY, f64::min);
        assert_eq!(losses[best].as_f64(), Some(lowest));
        assert_eq!(r["loss"].as_f64(), Some(lowest));
    }
}

// Catches: a chart without a line per width, or one chart for both parameterizations.
#[test]
fn the_plot_has_a_loss_against_learning_rate_chart_per_parameterization() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("w.svg");
    gradtutor()
        .args(SMALL)
        .args(["--plot", path.to_str().unwrap()])
        .assert()
        .success();
    let svg = std::fs::read_to_string(&path).unwrap();
    assert!(svg.contains("demo width, SP: loss against learning rate η"));
    assert!(svg.contains("demo width, µP: loss against learning rate η"));
    assert_eq!(
        svg.matches("width 64</text>").count(),
        2,
        "a legend entry per chart"
    );
}

// Catches: a bad list read as something else, a width-only flag silently ignored by another
// demo, or a refusal that does not name the flag.
#[test]
fn bad_lists_and_misplaced_flags_are_refused_by_name() {
    let cases: &[(&[&str], &str)] = &[
        (&["demo", "width", "--widths", "64,32"], "smallest first"),
        (&["demo", "width", "--widths", "0"], "at least 1"),
        (&["demo", "width", "--widths", "32,x"], "'x' is not a width"),
        (
            &["demo", "width", "--widths", "1,2,3,4,5,6,7"],
            "at most 6 widths",
        ),
        (
            &["demo", "width", "--widths", "4096"],
            "--widths: each width must be at most",
        ),
        (
            &["demo", "width", "--param", "ntk"],
            "'ntk' is not a parameterization",
        ),
        (&["demo", "width", "--param", "mup,mup"], "listed twice"),
        (
            &["demo", "width", "--depth", "9"],
            "--depth must be between 1 and 8",
        ),
        (
            &["demo", "width", "--width", "64"],
            "demo width sets --width",
        ),
        (
            &["demo", "vanishing", "--widths", "32"],
            "--widths only applies to `demo width`",
        ),
        (
            &["demo", "phase", "--param", "mup"],
            "--param only applies to `demo width`",
        ),
    ];
    for (args, msg) in cases {
        let err = common::stderr_of_failure(gradtutor().args(*args));
        assert!(err.contains(msg), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
    }
}

// Catches: a run estimated as free (the sweep's training left out of the time budget), so a
// huge sweep starts instead of being refused.
#[test]
fn a_sweep_over_the_time_budget_is_refused_before_it_runs() {
    let err = common::stderr_of_failure(gradtutor().args([
        "--max-time",
        "0.5",
        "demo",
        "width",
        "--widths",
        "512,2048",
    ]));
    assert!(err.contains("over the time budget of 0.5 s"), "{err}");
}

/// One GET to a running lab, read to the end.
fn get(addr: &str, path: &str) -> (u16, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    let head = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    s.write_all(head.as_bytes()).unwrap();
    let mut raw = Vec::new();
    let _ = s.read_to_end(&mut raw);
    let a = common::Answer::parse(&raw);
    (a.status, a.text())
}

// Catches: a demo the lab cannot run, controls missing for the sweep's own flags, or the
// sweep's flags offered as controls of every other demo.
#[test]
fn the_lab_runs_the_sweep_as_the_command_line_does() {
    let dir = tempfile::tempdir().unwrap();
    let progress = dir.path().join("progress.json");
    let mut child = common::process_at(&progress)
        .args(["serve", "--port", "0"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr = line
        .trim_end()
        .trim_start_matches("gradtutor lab: http://")
        .trim_end_matches('/')
        .to_string();
    let (status, body) = get(&addr, "/api/demo/width?widths=16,64&param=mup");
    let (_, demos) = get(&addr, "/api/demos");
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(status, 200, "{body}");
    let json = common::stdout(common::gradtutor_at(&progress).args([
        "demo", "width", "--widths", "16,64", "--param", "mup", "--json",
    ]));
    assert_eq!(body, json);
    let demos: Value = serde_json::from_str(&demos).unwrap();
    let keys = |name: &str| -> Vec<String> {
        demos["experiments"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["name"] == name)
            .unwrap()["controls"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["key"].as_str().unwrap().to_string())
            .collect()
    };
    let width = keys("width");
    assert!(width.contains(&"widths".into()) && width.contains(&"param".into()));
    assert!(!width.contains(&"width".into()));
    assert!(!keys("vanishing").contains(&"widths".into()));
}
