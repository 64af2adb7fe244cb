//! `--hist`: each hidden layer's distributions of h, φ(h) and ∂L/∂h, as text rows, JSON bin
//! edges and counts, and an SVG of one line per layer; refused where a demo shows no layers.

use roxmltree::Document;
use serde_json::Value;

use super::common;

fn json(args: &[&str]) -> Value {
    let out = common::stdout(common::gradtutor("hist").args(args).arg("--json"));
    serde_json::from_str(&out).unwrap()
}

const QUANTITIES: [&str; 3] = ["pre_activation", "activation", "gradient"];

/// Every histogram counts each of the batch × width entries once (binned or not finite),
/// has 41 increasing edges from its smallest entry to its largest, and one per hidden layer.
#[test]
fn counts_sum_to_batch_times_width() {
    let report = json(&[
        "demo",
        "vanishing",
        "--depth",
        "4",
        "--width",
        "24",
        "--batch",
        "10",
        "--hist",
    ]);
    let runs = report["histograms"].as_array().unwrap();
    assert_eq!(runs.len(), 1);
    let layers = runs[0]["layers"].as_array().unwrap();
    assert_eq!(layers.len(), 4, "one per hidden layer, none for the output");
    for (i, l) in layers.iter().enumerate() {
        assert_eq!(l["layer"], i + 1);
        for q in QUANTITIES {
            let h = &l[q];
            let counts: u64 = h["counts"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c.as_u64().unwrap())
                .sum();
            assert_eq!(
                counts + h["nonfinite"].as_u64().unwrap(),
                240,
                "layer {i} {q}"
            );
            let edges: Vec<f64> = h["edges"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e.as_f64().unwrap())
                .collect();
            assert_eq!(edges.len(), 41);
            assert!(edges.windows(2).all(|w| w[0] < w[1]), "{q} {edges:?}");
            assert_eq!(edges[0], h["min"].as_f64().unwrap());
            assert_eq!(edges[40], h["max"].as_f64().unwrap());
        }
        // Sigmoid's units lie in (0, 1).
        assert!(l["activation"]["min"].as_f64().unwrap() > 0.0);
        assert!(l["activation"]["max"].as_f64().unwrap() < 1.0);
    }
    assert_eq!(
        runs[0]["saturated_rule"],
        "saturated: σ(h) outside [0.03, 0.97]"
    );
}

/// The histograms are the probe's own pass: the gradient entries' spread in layer 1 is the
/// one the probe's ‖∂L/∂h_1‖ measures (‖g‖ ≥ max |g|, and ‖g‖ ≤ √n · max |g|), and they
/// shrink layer by layer as in the table (sigmoid, Xavier: ×0.24 per layer).
#[test]
fn gradients_agree_with_the_probe() {
    let report = json(&["demo", "vanishing", "--depth", "6", "--hist"]);
    let layers = report["runs"][0]["layers"].as_array().unwrap();
    let hist = report["histograms"][0]["layers"].as_array().unwrap();
    let max_abs = |l: &Value| {
        let g = &l["gradient"];
        g["min"]
            .as_f64()
            .unwrap()
            .abs()
            .max(g["max"].as_f64().unwrap().abs())
    };
    for (row, h) in layers.iter().zip(hist) {
        let norm = row["signal_norm"].as_f64().unwrap();
        let m = max_abs(h);
        assert!(
            m <= norm && norm <= (64.0 * 128.0f64).sqrt() * m,
            "{norm} vs {m}"
        );
    }
    assert!(max_abs(&hist[0]) < 1e-2 * max_abs(&hist[5]));
}

/// tanh at gain 2 (an orthogonal kernel × 2 makes h ~ N(0, 4) exactly): the saturated
/// share, |tanh h| > 0.97, is erfc(atanh(0.97) / 2√2) = 29.5 % in theory; the run's 512 × 64
/// entries give 29.8 %, pinned, and the row says so.
#[test]
fn tanh_saturated_share_at_gain_two() {
    let args = [
        "demo",
        "vanishing",
        "--activation",
        "tanh",
        "--init",
        "orthogonal:2",
        "--depth",
        "1",
        "--width",
        "512",
        "--precision",
        "f64",
        "--hist",
    ];
    let report = json(&args);
    let sat = report["histograms"][0]["layers"][0]["saturated"]
        .as_f64()
        .unwrap();
    assert!((sat - 0.2955).abs() < 0.01, "{sat}");
    let text = common::stdout(common::gradtutor("hist").args(args));
    assert!(text.contains("saturated: |tanh(h)| > 0.97"), "{text}");
    assert!(text.contains("sat  29.8%"), "{text}");
}

/// ReLU's saturated share counts units that are off (relu(h) = 0), about half at init.
#[test]
fn relu_counts_units_that_are_off() {
    let report = json(&[
        "demo",
        "vanishing",
        "--activation",
        "relu",
        "--init",
        "he-normal",
        "--depth",
        "3",
        "--hist",
    ]);
    let run = &report["histograms"][0];
    assert_eq!(
        run["saturated_rule"],
        "off: relu(h) = 0 (no gradient passes)"
    );
    for l in run["layers"].as_array().unwrap() {
        let s = l["saturated"].as_f64().unwrap();
        assert!((0.4..0.6).contains(&s), "{s}");
        // Every unit that is off is an exact 0 in the activations' first bin.
        let first = l["activation"]["counts"][0].as_f64().unwrap();
        assert_eq!(l["activation"]["min"], 0.0);
        assert!(first >= s * 8192.0, "{first} {s}");
    }
}

/// The same bytes on one thread and on two.
#[test]
fn same_on_one_and_two_threads() {
    let run = |threads: &str| {
        common::stdout(common::gradtutor("hist").args([
            "--threads",
            threads,
            "demo",
            "activations",
            "--depth",
            "5",
            "--hist",
            "--json",
        ]))
    };
    assert_eq!(run("1"), run("2"));
}

/// Without --hist there is no histogram, in the JSON or the text.
#[test]
fn absent_without_the_flag() {
    let report = json(&["demo", "vanishing", "--depth", "3"]);
    assert!(report.get("histograms").is_none());
    let text =
        common::stdout(common::gradtutor("hist").args(["demo", "vanishing", "--depth", "3"]));
    assert!(!text.contains("Histograms"));
}

/// Every row fits 80 columns, for several activations at once.
#[test]
fn text_fits_80_columns() {
    let text = common::stdout(common::gradtutor("hist").env("COLUMNS", "80").args([
        "demo",
        "activations",
        "--depth",
        "4",
        "--hist",
    ]));
    let rows = text
        .lines()
        .skip_while(|l| !l.starts_with("Histograms"))
        .collect::<Vec<_>>();
    assert!(rows.len() > 7 * (1 + 1 + 3 * 5), "{text}");
    for line in rows {
        assert!(
            line.chars().count() <= 80,
            "{} columns: {line}",
            line.chars().count()
        );
    }
}

/// The demos that show no layers refuse --hist, naming what they show instead.
#[test]
fn refused_where_there_are_no_layers() {
    for (demo, says) in [("phase", "σ_w × σ_b map"), ("recurrent", "time steps")] {
        let err =
            common::stderr_of_failure(common::gradtutor("hist").args(["demo", demo, "--hist"]));
        assert!(
            err.contains("--hist") && err.contains(says),
            "{demo}: {err}"
        );
    }
}

/// The chart: per quantity a card, one line per layer coloured by depth (layer 1 orange,
/// the last dark violet), tanh's saturated region shaded, the shares listed as in the JSON.
#[test]
fn svg_has_a_line_per_layer() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hist.svg");
    let out = common::stdout(common::gradtutor("hist").args([
        "demo",
        "vanishing",
        "--activation",
        "tanh",
        "--depth",
        "5",
        "--hist",
        "--json",
        "--plot",
        path.to_str().unwrap(),
    ]));
    let report: Value = serde_json::from_str(&out).unwrap();
    let svg = std::fs::read_to_string(&path).unwrap();
    let doc = Document::parse(&svg).unwrap();
    let lines: Vec<_> = doc
        .descendants()
        .filter(|n| n.attribute("class") == Some("layer"))
        .collect();
    assert_eq!(lines.len(), 3 * 5);
    assert_eq!(lines[0].attribute("stroke"), Some("#e69f00"));
    assert_eq!(lines[4].attribute("stroke"), Some("#3b0f70"));
    let colours: std::collections::BTreeSet<_> =
        lines[..5].iter().map(|n| n.attribute("stroke")).collect();
    assert_eq!(colours.len(), 5);
    for line in &lines {
        assert_eq!(line.attribute("points").unwrap().split(' ').count(), 40);
    }
    let shaded = doc
        .descendants()
        .filter(|n| n.attribute("class") == Some("saturated"))
        .count();
    assert_eq!(shaded, 2, "|tanh| > 0.97 on both sides");
    let shares: String = doc
        .descendants()
        .filter(|n| n.attribute("class") == Some("saturated-share"))
        .filter_map(|n| n.text())
        .collect();
    for l in report["histograms"][0]["layers"].as_array().unwrap() {
        let want = format!(
            "{}: {:.1}%",
            l["layer"],
            100.0 * l["saturated"].as_f64().unwrap()
        );
        assert!(shares.contains(&want), "{want} in {shares}");
    }
}

/// `train --hist`: each configuration's histograms at initialization, the canonical probe's
/// batch × width entries per layer; the training figures unchanged beside them.
#[test]
fn train_adds_histograms_at_initialization() {
    let args = [
        "train",
        "--compare",
        "sigmoid,relu",
        "--depth",
        "3",
        "--width",
        "16",
        "--batch",
        "8",
        "--steps",
        "5",
    ];
    let plain = json(&args);
    assert!(plain.get("histograms").is_none());
    let with: Value = json(&[&args[..], &["--hist"]].concat());
    let runs = with["histograms"].as_array().unwrap();
    let labels: Vec<&str> = runs.iter().map(|r| r["label"].as_str().unwrap()).collect();
    assert_eq!(
        labels,
        [
            "sigmoid/xavier-normal at initialization",
            "relu/he-normal at initialization"
        ]
    );
    for r in runs {
        assert_eq!(r["layers"].as_array().unwrap().len(), 3);
        for l in r["layers"].as_array().unwrap() {
            for q in QUANTITIES {
                let n: u64 = l[q]["counts"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|c| c.as_u64().unwrap())
                    .sum();
                assert_eq!(n + l[q]["nonfinite"].as_u64().unwrap(), 8 * 16);
            }
        }
    }
    assert_eq!(with["runs"], plain["runs"]);
}

/// The live lab: the demo's "Distributions per layer" panel draws the server's histogram
/// chart for the current run (one line per layer and quantity), follows the depth slider,
/// and says why where a demo has no layers.
#[test]
fn lab_draws_the_distributions_of_the_current_run() {
    use super::browser::{
        Lab, cdp::Browser, open, open_demo, renders, set_control, wait_renders_above,
    };
    let Some(mut b) = Browser::launch("lab_draws_the_distributions_of_the_current_run") else {
        return;
    };
    let lab = Lab::start();
    open_demo(&mut b, &lab);
    let lines = "document.querySelectorAll('#demo-hist svg polyline.layer').length";
    b.eval("document.querySelector('#demo-hist-box').open = true")
        .unwrap();
    b.wait_for(&format!("{lines} > 0"), "the histogram chart", 120)
        .unwrap();
    let depth: u64 = b
        .eval("document.querySelector('table#demo-table').dataset.depth")
        .unwrap()
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(b.eval(lines).unwrap(), 3 * depth);
    // The chart is the CLI's: the same saturated shares as `demo vanishing --hist --json`.
    let shares = b
        .eval("[...document.querySelectorAll('#demo-hist .saturated-share')].map(n => n.textContent).join(' ')")
        .unwrap();
    let report = json(&["demo", "vanishing", "--hist"]);
    for l in report["histograms"][0]["layers"].as_array().unwrap() {
        let want = format!(
            "{}: {:.1}%",
            l["layer"],
            100.0 * l["saturated"].as_f64().unwrap()
        );
        assert!(
            shares.as_str().unwrap().contains(&want),
            "{want} in {shares}"
        );
    }
    // A new depth redraws it while it is open.
    let n = renders(&mut b);
    set_control(&mut b, "form#controls [name=depth]", "4").unwrap();
    wait_renders_above(&mut b, n);
    b.wait_for(&format!("{lines} === 12"), "the histograms at depth 4", 60)
        .unwrap();
    // The phase map has no layers: the panel says so.
    open(&mut b, &lab, "#/demo/phase");
    b.wait_for(
        "+(document.body.dataset.renders || 0) >= 1",
        "the phase map",
        120,
    )
    .unwrap();
    b.eval("document.querySelector('#demo-hist-box').open = true")
        .unwrap();
    b.wait_for(
        "document.querySelector('#demo-hist').dataset.state === 'refused'",
        "the refusal",
        60,
    )
    .unwrap();
    let text = b
        .eval("document.querySelector('#demo-hist').textContent")
        .unwrap();
    assert!(text.as_str().unwrap().contains("σ_w × σ_b map"), "{text}");
}
