//! Every comparative verdict is true of its own run, under any flags: each experiment runs
//! over a grid of flag combinations (activation × initializer × depth × norm × precision ×
//! residual, the knobs it does not set itself, at small sizes), and every premise a verdict
//! or note records is checked against the report's figures, read again through `Figure`.

use gradtutor::{EXPERIMENTS, Experiment, Knob, Line, Report, Settings};
use serde_json::{Map, Value, json};

const GIB: u64 = 1 << 30;

/// One axis of the grid: the knob, and the values it takes (null: left unset).
type Axis = (Knob, Vec<Value>);

/// The axes an experiment's grid spans: each knob it leaves free, and two seeds. A
/// recurrent experiment, which sets its depth itself, varies its sequence length instead;
/// the two about clipping also run with a threshold of 0.5 (and exploding without one).
fn axes(exp: &Experiment) -> Vec<Axis> {
    let recurrent = (exp.defaults)().seq_len.is_some();
    let clips = matches!(exp.name, "exploding" | "clipping");
    let all: Vec<Axis> = vec![
        (
            Knob::Activation,
            ["relu", "tanh", "sigmoid", "linear", "gelu"]
                .map(Value::from)
                .to_vec(),
        ),
        (
            Knob::Init,
            ["he-normal", "xavier-normal", "normal:1"]
                .map(Value::from)
                .to_vec(),
        ),
        (Knob::Depth, vec![json!(2), json!(6), json!(12)]),
        (
            Knob::SeqLen,
            match recurrent {
                true => vec![json!(2), json!(6), json!(12)],
                false => vec![],
            },
        ),
        (
            Knob::Norm,
            ["none", "batch", "layer"].map(Value::from).to_vec(),
        ),
        (Knob::Precision, ["f32", "f64"].map(Value::from).to_vec()),
        (Knob::Residual, vec![json!(false), json!(true)]),
        (
            Knob::ClipNorm,
            match clips {
                true => vec![Value::Null, json!(0.5)],
                false => vec![],
            },
        ),
        (Knob::Seed, vec![json!(42), json!(7)]),
    ];
    all.into_iter()
        .filter(|(k, v)| !v.is_empty() && !exp.fixed.contains(k))
        .collect()
}

/// The experiment's defaults (the class-sized run the lessons quote), then every
/// combination of the axes, each with a small width and batch (8 or 16, 4 or 8,
/// alternating; demo width's list 8,16 or 16,64) where the experiment leaves them free.
fn grid(exp: &Experiment) -> Vec<Settings> {
    let axes = axes(exp);
    let total: usize = axes.iter().map(|(_, v)| v.len()).product();
    let small = (0..total).map(|mut i| {
        let mut m = Map::new();
        let n = i;
        for (knob, values) in &axes {
            let key = knob.field().replace('_', "-");
            let v = &values[i % values.len()];
            if !v.is_null() {
                m.insert(key, v.clone());
            }
            i /= values.len();
        }
        if !exp.fixed.contains(&Knob::Width) {
            m.insert("width".into(), json!([8, 16][n % 2]));
        }
        if !exp.fixed.contains(&Knob::Batch) {
            m.insert("batch".into(), json!([4, 8][(n / 2) % 2]));
        }
        // demo width trains every η at every width of its list: two small widths.
        if (exp.defaults)().widths.is_some() {
            m.insert("widths".into(), json!(["8,16", "16,64"][n % 2]));
        }
        serde_json::from_value(Value::Object(m.clone()))
            .unwrap_or_else(|e| panic!("{}: settings {m:?}: {e}", exp.name))
    });
    std::iter::once(Settings::default()).chain(small).collect()
}

/// The report of `s`, as far as verdicts go: the full run, or without the short training
/// run an extension makes (it adds tables, no verdict).
fn report(exp: &'static Experiment, s: &Settings) -> anyhow::Result<Report> {
    match exp.extend {
        Some(_) => exp.figures(s, GIB),
        None => exp.run(s, GIB),
    }
}

#[test]
fn every_premise_holds_over_a_grid_of_flags() {
    let mut failures = Vec::new();
    let mut combinations = 0;
    println!(
        "{:<12} {:>6} {:>8} {:>9} {:>9} {:>9}",
        "experiment", "combos", "refused", "lines", "premised", "premises"
    );
    for &exp in EXPERIMENTS {
        let (mut checked, mut refused, mut lines, mut premised, mut premises) = (0, 0, 0, 0, 0);
        for s in grid(exp) {
            let r = match report(exp, &s) {
                Ok(r) => r,
                Err(_) => {
                    refused += 1;
                    continue;
                }
            };
            checked += 1;
            lines += r.verdicts.len() + r.notes.len();
            let mut with: Vec<Line> = r.premises.iter().map(|(l, _)| *l).collect();
            with.dedup();
            premised += with.len();
            premises += r.premises.len();
            for (line, _) in &r.premises {
                assert!(
                    r.line(*line).is_some(),
                    "{}: a premise names {line:?}, which the report does not have",
                    exp.name
                );
            }
            for f in r.failed_premises() {
                failures.push(format!("demo {} {}: {f}", exp.name, s.to_args().join(" ")));
            }
        }
        println!(
            "{:<12} {checked:>6} {refused:>8} {lines:>9} {premised:>9} {premises:>9}",
            exp.name
        );
        assert!(checked > 0, "{}: every combination was refused", exp.name);
        combinations += checked;
    }
    println!("{combinations} combinations checked in all");
    assert!(combinations >= 300, "only {combinations} combinations");
    assert!(
        failures.is_empty(),
        "{} premises failed:\n{}",
        failures.len(),
        failures[..failures.len().min(20)].join("\n")
    );
}
