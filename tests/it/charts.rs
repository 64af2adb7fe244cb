//! The `--plot` charts, read back as XML and checked against the `--json` of the same run:
//! labels over the whole range, every point where its value says, zeros and NaNs marked,
//! bands with seeds, theory where the run has it.

use roxmltree::{Document, Node};
use serde_json::Value;
use std::collections::BTreeSet;

use super::common;

/// Runs `gradtutor ARGS --json --plot FILE.svg`: the report and the chart of one run.
pub(super) fn chart(args: &[&str]) -> (Value, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("chart.svg");
    let out = common::gradtutor("charts")
        .args(args)
        .args(["--json", "--plot", path.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json = serde_json::from_slice(&out.stdout).unwrap();
    (json, std::fs::read_to_string(&path).unwrap())
}

/// The value of a tick label: `10⁻¹⁴`, `2×10⁻³`, `1,000`, `−2`.
fn label_value(text: &str) -> f64 {
    const SUPERSCRIPTS: &str = "⁰¹²³⁴⁵⁶⁷⁸⁹";
    let number = |s: &str| -> f64 {
        s.replace([',', '−'], "")
            .parse::<f64>()
            .map(|v| if s.starts_with('−') { -v } else { v })
            .unwrap_or_else(|_| panic!("label {text:?}"))
    };
    let Some(power) = text
        .strip_suffix(|c: char| SUPERSCRIPTS.contains(c))
        .map(|_| text)
    else {
        return number(text);
    };
    let (m, power) = power.split_once('×').unwrap_or(("1", power));
    let exp: String = power
        .strip_prefix("10")
        .unwrap_or_else(|| panic!("label {text:?}"))
        .chars()
        .map(|c| match SUPERSCRIPTS.chars().position(|d| d == c) {
            Some(d) => char::from_digit(d as u32, 10).unwrap(),
            None if c == '⁻' => '-',
            None => panic!("label {text:?}"),
        })
        .collect();
    number(m) * 10f64.powi(exp.parse().unwrap())
}

#[test]
fn labels_read_back() {
    assert_eq!(label_value("10⁻¹⁴"), 1e-14);
    assert_eq!(label_value("10⁰"), 1.0);
    assert_eq!(label_value("2×10⁻³"), 2e-3);
    assert_eq!(label_value("10⁵"), 1e5);
    assert_eq!(label_value("1,000"), 1000.0);
    assert_eq!(label_value("10"), 10.0);
    assert_eq!(label_value("−2"), -2.0);
}

/// The panels, top to bottom.
fn panels<'a>(doc: &'a Document) -> Vec<Node<'a, 'a>> {
    doc.descendants()
        .filter(|n| n.attribute("class") == Some("panel"))
        .collect()
}

/// The panel whose title contains `words`.
fn panel<'a>(doc: &'a Document, words: &str) -> Node<'a, 'a> {
    let titles: Vec<&str> = panels(doc)
        .iter()
        .filter_map(|p| p.attribute("data-title"))
        .collect();
    panels(doc)
        .into_iter()
        .find(|p| p.attribute("data-title").is_some_and(|t| t.contains(words)))
        .unwrap_or_else(|| panic!("no panel titled …{words}… among {titles:?}"))
}

fn class<'a>(panel: Node<'a, 'a>, class: &str) -> Vec<Node<'a, 'a>> {
    panel
        .descendants()
        .filter(|n| n.attribute("class") == Some(class))
        .collect()
}

fn num(node: Node, attr: &str) -> f64 {
    node.attribute(attr).unwrap().parse().unwrap()
}

/// Tick labels of a panel: (value, where) with where the label's x or y.
fn ticks(panel: Node, which: &str) -> Vec<(f64, f64)> {
    let at = if which == "y-tick" { "y" } else { "x" };
    class(panel, which)
        .into_iter()
        .map(|n| (label_value(n.text().unwrap()), num(n, at)))
        .collect()
}

fn points(node: Node) -> Vec<(f64, f64)> {
    node.attribute("points")
        .unwrap()
        .split_whitespace()
        .map(|p| {
            let (x, y) = p.split_once(',').unwrap();
            (x.parse().unwrap(), y.parse().unwrap())
        })
        .collect()
}

/// The panel's axes as read from its labels: pixel x of a layer or step, and pixel y of a
/// value up to a constant (the labels' baseline offset).
struct Axes {
    x: (f64, f64),
    y: (f64, f64),
}

impl Axes {
    fn of(panel: Node) -> Axes {
        let fit = |t: &[(f64, f64)], log: bool| {
            let v = |i: usize| if log { libm::log10(t[i].0) } else { t[i].0 };
            let (a, b) = (0, t.len() - 1);
            let slope = (t[b].1 - t[a].1) / (v(b) - v(a));
            (t[a].1 - slope * v(a), slope)
        };
        let x = ticks(panel, "x-tick");
        let mut y = ticks(panel, "y-tick");
        y.retain(|&(v, _)| is_decade(v));
        Axes {
            x: fit(&x, false),
            y: fit(&y, true),
        }
    }

    fn px(&self, x: f64) -> f64 {
        self.x.0 + self.x.1 * x
    }

    fn py(&self, v: f64) -> f64 {
        self.y.0 + self.y.1 * libm::log10(v)
    }
}

/// Asserts that every (pixel, value) pair lies on the axis: pixel − py(value) is the same
/// for all (the labels sit a fixed offset below their ticks) and small.
fn on_axis(axes: &Axes, pairs: &[(f64, f64)], what: &str) {
    assert!(!pairs.is_empty(), "{what}: nothing to check");
    let offsets: Vec<f64> = pairs.iter().map(|&(px, v)| px - axes.py(v)).collect();
    let (lo, hi) = offsets
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &o| {
            (a.min(o), b.max(o))
        });
    assert!(
        hi - lo < 0.5 && lo.abs() < 12.0,
        "{what}: offsets {lo}…{hi}"
    );
}

/// The layers' values of `key` in a run of the JSON (null, for NaN or inf, as NaN).
fn layer_values(run: &Value, key: &str) -> Vec<f64> {
    run["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l[key].as_f64().unwrap_or(f64::NAN))
        .collect()
}

/// The positive, finite range of `values`.
fn range(values: impl IntoIterator<Item = f64>) -> (f64, f64) {
    values
        .into_iter()
        .filter(|v| *v > 0.0 && v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
            (a.min(v), b.max(v))
        })
}

/// The y labels span `lo…hi`: the lowest label is at or below `lo`, the highest at or above
/// `hi`, and neither overshoots by more than a decade beyond one step between labels.
fn labels_span(panel: Node, (lo, hi): (f64, f64), what: &str) {
    let mut labels: Vec<f64> = ticks(panel, "y-tick").into_iter().map(|t| t.0).collect();
    labels.sort_by(f64::total_cmp);
    let n = labels.len();
    assert!(n >= 3, "{what}: {labels:?}");
    let decades: Vec<f64> = labels.iter().copied().filter(|v| is_decade(*v)).collect();
    let step = decades[1] / decades[0];
    assert!(
        labels[0] <= lo && labels[n - 1] >= hi,
        "{what}: {lo}…{hi} vs {labels:?}"
    );
    let slack = 10.0 * step;
    assert!(
        labels[0] > lo / slack && labels[n - 1] < hi * slack,
        "{what}: {lo}…{hi} vs {labels:?}"
    );
}

fn is_decade(v: f64) -> bool {
    (libm::log10(v) - libm::log10(v).round()).abs() < 1e-9
}

/// The layers of the marks of `kind` in a panel.
fn marked(panel: Node, kind: &str) -> BTreeSet<usize> {
    class(panel, kind)
        .iter()
        .map(|n| num(*n, "data-x") as usize)
        .collect()
}

#[test]
fn a_deep_vanishing_chart_labels_its_whole_range_and_marks_the_zeros() {
    let (json, svg) = chart(&["demo", "vanishing", "--depth", "100"]);
    let doc = Document::parse(&svg).expect("well-formed XML");
    let run = &json["runs"][0];
    let grads = layer_values(run, "grad_norm");
    let zeros: BTreeSet<usize> = (1..=grads.len()).filter(|&l| grads[l - 1] == 0.0).collect();
    assert!(zeros.contains(&1), "f32 underflows at depth 100: {zeros:?}");

    let p = panel(&doc, "‖∂L/∂W‖");
    labels_span(p, range(grads.iter().copied()), "‖∂L/∂W‖");
    assert_eq!(
        marked(p, "mark-zero"),
        zeros,
        "each zero marked at its layer"
    );
    let x = ticks(p, "x-tick");
    assert_eq!(x[0].0, 1.0, "the x axis starts at layer 1");
    assert_eq!(x[x.len() - 1].0, 100.0);
    // Every plotted point sits where its value says, on both axes.
    let axes = Axes::of(p);
    let line = class(p, "series");
    assert_eq!(line.len(), 1, "one unbroken stretch after the zeros");
    let pts = points(line[0]);
    assert_eq!(pts.len(), grads.len() - zeros.len());
    let first = zeros.len() + 1;
    for (i, &(px, _)) in pts.iter().enumerate() {
        assert!(
            (px - axes.px((first + i) as f64)).abs() < 0.2,
            "layer {}",
            first + i
        );
    }
    let pairs: Vec<(f64, f64)> = pts
        .iter()
        .zip(&grads[first - 1..])
        .map(|(p, &v)| (p.1, v))
        .collect();
    on_axis(&axes, &pairs, "‖∂L/∂W‖ line");

    // ‖∂L/∂h‖ with the theory line: the labels span both.
    let p = panel(&doc, "‖∂L/∂h‖");
    let signal = layer_values(run, "signal_norm");
    let theory = class(p, "theory");
    assert_eq!(theory.len(), 1, "sigmoid + Xavier has a prediction");
    assert_eq!(theory[0].attribute("data-label"), Some("sigmoid (theory)"));
    let axes = Axes::of(p);
    // The prediction: the output layer's norm times the factor once per layer down.
    let factor = run["theory"]["predicted_factor"].as_f64().unwrap();
    let depth = signal.len();
    let predicted: Vec<f64> = (1..=depth)
        .map(|l| signal[depth - 1] * factor.powi((depth - l) as i32))
        .collect();
    let pts = points(theory[0]);
    assert_eq!(pts.len(), depth, "every layer predicted");
    let pairs: Vec<(f64, f64)> = pts.iter().zip(&predicted).map(|(p, &v)| (p.1, v)).collect();
    on_axis(&axes, &pairs, "theory line");
    let (lo, hi) = range(signal.iter().chain(&predicted).copied());
    labels_span(p, (lo, hi), "‖∂L/∂h‖ and theory");
    assert_eq!(
        marked(p, "mark-zero"),
        zeros,
        "the signal underflows at the same layers"
    );
    let text: String = doc.descendants().filter_map(|n| n.text()).collect();
    assert!(
        text.contains("exactly 0 (underflow)"),
        "the legend names the mark"
    );
}

#[test]
fn nan_layers_are_marked_above_the_plot() {
    let (json, svg) = chart(&["demo", "exploding", "--depth", "200", "--width", "32"]);
    let doc = Document::parse(&svg).unwrap();
    let grads = layer_values(&json["runs"][0], "grad_norm");
    let bad: BTreeSet<usize> = (1..=grads.len())
        .filter(|&l| !grads[l - 1].is_finite())
        .collect();
    assert!(!bad.is_empty(), "this run overflows");
    let p = panel(&doc, "‖∂L/∂W‖");
    assert_eq!(marked(p, "mark-nonfinite"), bad);
    assert!(marked(p, "mark-zero").is_empty());
    labels_span(p, range(grads.iter().copied()), "finite ‖∂L/∂W‖");
    let text: String = doc.descendants().filter_map(|n| n.text()).collect();
    assert!(text.contains("inf or NaN"));
}

#[test]
fn seeds_draw_the_range_around_the_median() {
    let (json, svg) = chart(&["demo", "he", "--seeds", "5"]);
    let doc = Document::parse(&svg).unwrap();
    let p = panel(&doc, "‖∂L/∂W‖");
    let axes = Axes::of(p);
    let runs = json["runs"].as_array().unwrap();
    let bands = class(p, "band");
    assert_eq!(bands.len(), runs.len(), "one band per run");
    for (run, band) in runs.iter().zip(&bands) {
        let label = run["label"].as_str().unwrap();
        assert_eq!(band.attribute("data-label"), Some(label));
        let (lo, hi) = (
            layer_values(run, "grad_norm_min"),
            layer_values(run, "grad_norm_max"),
        );
        // The polygon runs along the maxima, layer 1 up, then back along the minima.
        let pts = points(*band);
        let n = lo.len();
        assert_eq!(pts.len(), 2 * n);
        let mut pairs: Vec<(f64, f64)> = pts[..n].iter().zip(&hi).map(|(p, &v)| (p.1, v)).collect();
        pairs.extend(pts[n..].iter().rev().zip(&lo).map(|(p, &v)| (p.1, v)));
        on_axis(&axes, &pairs, &format!("{label} band"));
        assert!(
            lo.iter().zip(&hi).all(|(a, b)| a < b),
            "{label}: the seeds differ"
        );
        // The median line inside it.
        let line = class(p, "series")
            .into_iter()
            .find(|n| n.attribute("data-label") == Some(label))
            .unwrap();
        let med = layer_values(run, "grad_norm");
        let pairs: Vec<(f64, f64)> = points(line)
            .iter()
            .zip(&med)
            .map(|(p, &v)| (p.1, v))
            .collect();
        on_axis(&axes, &pairs, &format!("{label} median"));
    }
    let all = range(runs.iter().flat_map(|r| {
        let mut v = layer_values(r, "grad_norm_min");
        v.extend(layer_values(r, "grad_norm_max"));
        v
    }));
    labels_span(p, all, "the bands");
    let text: String = doc.descendants().filter_map(|n| n.text()).collect();
    assert!(text.contains("min–max over the 5 seeds"));
    assert!(text.contains("median of 5 seeds"));
    // Theory for all three ReLU runs, none of them a band.
    let p = panel(&doc, "‖∂L/∂h‖");
    assert_eq!(class(p, "theory").len(), 3);
    assert!(class(p, "band").is_empty());
}

#[test]
fn a_run_without_seeds_or_theory_draws_neither() {
    let (_, svg) = chart(&["demo", "residual", "--depth", "10"]);
    let doc = Document::parse(&svg).unwrap();
    assert!(class(panel(&doc, "‖∂L/∂W‖"), "band").is_empty());
    let theory = class(panel(&doc, "‖∂L/∂h‖"), "theory");
    let labels: Vec<&str> = theory
        .iter()
        .filter_map(|n| n.attribute("data-label"))
        .collect();
    assert_eq!(
        labels,
        ["plain (theory)"],
        "no prediction for the residual run"
    );
}

#[test]
fn a_flat_run_gets_labels_and_looks_flat() {
    let (json, svg) = chart(&[
        "demo",
        "vanishing",
        "--activation",
        "relu",
        "--init",
        "he-normal",
        "--depth",
        "20",
    ]);
    let doc = Document::parse(&svg).unwrap();
    let grads = layer_values(&json["runs"][0], "grad_norm");
    let (lo, hi) = range(grads.iter().copied());
    assert!(
        hi / lo < 10.0,
        "the test needs a run within one decade: {lo}…{hi}"
    );
    let p = panel(&doc, "‖∂L/∂W‖");
    labels_span(p, (lo, hi), "one decade");
    // At least one full decade around the data: the curve takes at most half the height.
    let y = ticks(p, "y-tick");
    let height = y.iter().map(|t| t.1).fold(f64::NEG_INFINITY, f64::max)
        - y.iter().map(|t| t.1).fold(f64::INFINITY, f64::min);
    let line: Vec<f64> = points(class(p, "series")[0]).iter().map(|p| p.1).collect();
    let span = line.iter().copied().fold(f64::NEG_INFINITY, f64::max)
        - line.iter().copied().fold(f64::INFINITY, f64::min);
    assert!(
        span <= 0.5 * height,
        "the curve spans {span} of {height} px"
    );
}

#[test]
fn the_train_chart_has_loss_gradients_and_update_sizes() {
    let (json, svg) = chart(&[
        "train",
        "--steps",
        "20",
        "--samples",
        "200",
        "--depth",
        "3",
        "--width",
        "8",
    ]);
    let doc = Document::parse(&svg).unwrap();
    assert_eq!(panels(&doc).len(), 3);
    let runs = json["runs"].as_array().unwrap();
    let checkpoints = |r: &Value| r["checkpoints"].as_array().unwrap().clone();

    let p = panel(&doc, "loss");
    let axes = Axes::of(p);
    let lines = class(p, "series");
    assert_eq!(lines.len(), runs.len(), "one loss curve per run");
    let mut all = Vec::new();
    for (run, line) in runs.iter().zip(&lines) {
        let mut loss = vec![run["initial"]["train"]["loss"].as_f64().unwrap()];
        let mut steps = vec![0.0];
        for c in checkpoints(run) {
            loss.push(c["train"]["loss"].as_f64().unwrap());
            steps.push(c["step"].as_f64().unwrap());
        }
        let pts = points(*line);
        for (p, s) in pts.iter().zip(&steps) {
            assert!((p.0 - axes.px(*s)).abs() < 0.2, "step {s}");
        }
        let pairs: Vec<(f64, f64)> = pts.iter().zip(&loss).map(|(p, &v)| (p.1, v)).collect();
        on_axis(&axes, &pairs, "loss");
        all.extend(loss);
    }
    let chance = json["chance"]["loss"].as_f64().unwrap();
    let target = json["config"]["target_loss"].as_f64().unwrap();
    labels_span(
        p,
        range(all.into_iter().chain([chance, target])),
        "loss and guides",
    );

    let p = panel(&doc, "‖∂L/∂W‖");
    assert_eq!(
        class(p, "band").len(),
        runs.len(),
        "range over training per run"
    );
    let grads = range(runs.iter().flat_map(|r| {
        checkpoints(r)
            .iter()
            .flat_map(|c| {
                c["grad_norms"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|v| v.as_f64().unwrap())
            })
            .collect::<Vec<_>>()
    }));
    labels_span(p, grads, "gradient norms over training");

    let p = panel(&doc, "update size");
    let axes = Axes::of(p);
    let guide = class(p, "guide");
    assert_eq!(guide.len(), 1);
    assert!(
        guide[0]
            .attribute("data-label")
            .unwrap()
            .contains("rule of thumb")
    );
    let y = num(guide[0], "y1");
    on_axis(&axes, &[(y, 1e-3)], "the 10⁻³ guide");
    let ratios = range(runs.iter().flat_map(|r| {
        checkpoints(r)
            .iter()
            .flat_map(|c| {
                c["update_ratios"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|v| v.as_f64().unwrap())
            })
            .collect::<Vec<_>>()
    }));
    labels_span(
        p,
        (ratios.0.min(1e-3), ratios.1.max(1e-3)),
        "update ratios and guide",
    );
}

#[test]
fn the_same_run_gives_the_same_bytes() {
    let args = ["demo", "he", "--seeds", "2"];
    assert_eq!(chart(&args).1, chart(&args).1);
}
