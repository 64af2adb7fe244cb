//! Issue 28's chart defects, read back from the `--plot` SVG: a y-axis name no longer than
//! its plot, the isometry chart stopping at what f64 resolves, lines on top of each other
//! told apart and named, the phase map's colour bar and matched scale, and the training
//! chart's guide over the curves and its step-0 point off the frame.

use roxmltree::{Document, Node};

use super::charts::chart;
use super::common;

fn num(node: Node, attr: &str) -> f64 {
    node.attribute(attr)
        .unwrap_or_else(|| panic!("{attr} of {node:?}"))
        .parse()
        .unwrap()
}

fn has_class(node: &Node, class: &str) -> bool {
    node.attribute("class") == Some(class)
}

fn all<'a>(doc: &'a Document, class: &str) -> Vec<Node<'a, 'a>> {
    doc.descendants().filter(|n| has_class(n, class)).collect()
}

/// Each panel's plot area (top, bottom, left): the rectangle its data is clipped to.
fn plot_areas<'a>(doc: &'a Document) -> Vec<(Node<'a, 'a>, (f64, f64, f64))> {
    all(doc, "panel")
        .into_iter()
        .map(|p| {
            let rect = p
                .descendants()
                .find(|n| n.has_tag_name("clipPath"))
                .and_then(|c| c.first_element_child())
                .expect("a clip path per panel");
            let top = num(rect, "y");
            (p, (top, top + num(rect, "height"), num(rect, "x")))
        })
        .collect()
}

/// The renderer's own estimate of a text's width: 0.6 em a character.
fn width(node: Node) -> f64 {
    node.text().unwrap_or("").chars().count() as f64 * 0.6 * num(node, "font-size")
}

#[test]
fn the_y_axis_name_is_no_longer_than_the_plot_and_clears_the_subtitle() {
    // On main, the recurrent chart's name (52 characters at 22 px, about 690 px) stood
    // 125 px above a 440 px plot, over the subtitle.
    for args in [&["demo", "recurrent"][..], &["demo", "vanishing"]] {
        let (_, svg) = chart(args);
        let doc = Document::parse(&svg).unwrap();
        for (panel, (top, bottom, _)) in plot_areas(&doc) {
            let names: Vec<Node> = panel
                .descendants()
                .filter(|n| has_class(n, "y-name"))
                .collect();
            assert!(!names.is_empty(), "{args:?}");
            for name in names {
                let (mid, half) = (num(name, "y"), 0.5 * width(name));
                assert!(
                    mid - half >= top - 0.5 && mid + half <= bottom + 0.5,
                    "{args:?}: {:?} spans {:.0}–{:.0}, the plot {top:.0}–{bottom:.0}",
                    name.text(),
                    mid - half,
                    mid + half
                );
            }
        }
    }
}

#[test]
fn the_isometry_chart_stops_at_what_f64_resolves_and_marks_the_rest() {
    let (json, svg) = chart(&["demo", "isometry"]);
    let doc = Document::parse(&svg).unwrap();
    let runs = json["runs"].as_array().unwrap();
    let mut lowest_floor = f64::INFINITY;
    let mut unresolved = 0;
    for run in runs {
        let sv: Vec<f64> = run["spectrum"]["singular_values"][0]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap_or(f64::NAN))
            .collect();
        let largest = sv.iter().copied().fold(0.0, f64::max);
        let floor = 1e-12 * largest;
        lowest_floor = lowest_floor.min(floor);
        let below = sv.iter().filter(|&&v| v > 0.0 && v < floor).count();
        let label = run["label"].as_str().unwrap();
        let marks = all(&doc, "mark-unresolved")
            .into_iter()
            .filter(|m| m.attribute("data-label") == Some(label))
            .count();
        assert_eq!(marks, below, "{label}: one mark per unresolved value");
        unresolved += below;
    }
    // The defect needs values under the floor (on main they reached 10⁻¹²⁰).
    assert!(unresolved > 0, "no value below 1e-12 of the largest");
    // The axis goes no lower than the decade under the lowest floor.
    let lowest = all(&doc, "y-tick")
        .into_iter()
        .map(|t| {
            let text = t.text().unwrap();
            let exp: String = text
                .trim_start_matches(|c: char| c.is_ascii_digit() || c == '×')
                .trim_start_matches("10")
                .chars()
                .map(|c| match "⁰¹²³⁴⁵⁶⁷⁸⁹".chars().position(|d| d == c) {
                    Some(d) => char::from_digit(d as u32, 10).unwrap(),
                    None => '-',
                })
                .collect();
            exp.parse::<i32>().unwrap_or_else(|_| panic!("{text}"))
        })
        .min()
        .unwrap();
    assert!(
        f64::from(lowest) >= libm::floor(libm::log10(lowest_floor)) - 5.0,
        "the axis reaches 10^{lowest}, the floor is {lowest_floor:e}"
    );
}

#[test]
fn lines_on_top_of_each_other_are_dashed_ringed_and_named() {
    let (_, svg) = chart(&["demo", "precision"]);
    let doc = Document::parse(&svg).unwrap();
    let notes: Vec<String> = all(&doc, "coincide")
        .into_iter()
        .map(|n| n.text().unwrap().to_string())
        .collect();
    let note = notes.join(" ");
    assert!(note.starts_with("On top of each other"), "{note:?}");
    let dashed: Vec<&str> = all(&doc, "series")
        .into_iter()
        .filter(|n| n.attribute("stroke-dasharray").is_some())
        .map(|n| n.attribute("data-label").unwrap())
        .collect();
    assert!(!dashed.is_empty(), "a later line of a group is dashed");
    for label in &dashed {
        assert!(note.contains(label), "{label} is named in {note:?}");
    }
}

#[test]
fn the_phase_map_has_a_bold_title_a_colour_bar_and_each_half_in_full_colour() {
    let (json, svg) = chart(&["demo", "phase"]);
    let doc = Document::parse(&svg).unwrap();
    let title = all(&doc, "title");
    assert_eq!(title[0].attribute("font-weight"), Some("bold"));
    let bar = all(&doc, "colorbar");
    assert_eq!(bar.len(), 1, "one colour bar");
    let root_width = num(doc.root_element(), "width");
    assert!(
        num(bar[0], "x") + num(bar[0], "width") >= 0.85 * root_width,
        "the bar fills the right of the card"
    );
    let cells = &json["runs"][0]["phase"]["cells"];
    let values: Vec<f64> = cells
        .as_array()
        .or_else(|| json["phase"]["cells"].as_array())
        .or_else(|| json["map"]["cells"].as_array())
        .expect("the map's cells")
        .iter()
        .filter_map(|c| c["log10_per_layer"].as_f64())
        .collect();
    let max = values.iter().copied().fold(f64::MIN, f64::max);
    let min = values.iter().copied().fold(f64::MAX, f64::min);
    assert!(max > 0.0 && min < 0.0, "{min} {max}");
    let fill_of = |v: f64| {
        all(&doc, "cell")
            .into_iter()
            .find(|c| {
                c.first_element_child()
                    .and_then(|t| t.text())
                    .is_some_and(|t| t.ends_with(&format!(": {v:.3}")))
            })
            .and_then(|c| c.attribute("fill"))
            .unwrap_or_default()
            .to_string()
    };
    // On main the most exploding cell was half-washed (#eaae80 at +0.19 of ±0.38).
    assert_eq!(fill_of(max), "#d55e00", "the most exploding cell");
    assert_eq!(fill_of(min), "#0072b2", "the most vanishing cell");
}

#[test]
fn the_training_chart_draws_its_guides_over_the_curves_and_step_0_off_the_frame() {
    let (json, svg) = chart(&["train", "--steps", "40"]);
    let doc = Document::parse(&svg).unwrap();
    let (panel, (top, bottom, left)) = plot_areas(&doc).remove(0);
    let order: Vec<&str> = panel
        .descendants()
        .filter_map(|n| n.attribute("class"))
        .filter(|c| ["series", "guide"].contains(c))
        .collect();
    let last_series = order.iter().rposition(|c| *c == "series").unwrap();
    let first_guide = order.iter().position(|c| *c == "guide").unwrap();
    assert!(
        first_guide > last_series,
        "the constant-guess guide over the loss curves: {order:?}"
    );
    let starts: Vec<Node> = panel
        .descendants()
        .filter(|n| has_class(n, "series-start"))
        .collect();
    let runs = json["runs"].as_array().unwrap();
    assert_eq!(starts.len(), runs.len(), "a dot at each run's step 0");
    for s in starts {
        assert!(num(s, "cx") >= left + 10.0, "step 0 clear of the frame");
        assert!((top..=bottom).contains(&num(s, "cy")));
    }
}

#[test]
fn plot_panel_writes_one_panel_and_names_the_ones_there_are() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("p.svg");
    let run = |n: &str| {
        common::gradtutor("projector")
            .args(["demo", "vanishing", "--depth", "6", "--plot"])
            .arg(&path)
            .args(["--plot-panel", n])
            .output()
            .unwrap()
    };
    let out = run("2");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let svg = std::fs::read_to_string(&path).unwrap();
    let doc = Document::parse(&svg).unwrap();
    let panels = all(&doc, "panel");
    assert_eq!(panels.len(), 1);
    assert!(
        panels[0]
            .attribute("data-title")
            .unwrap()
            .contains("backprop signal"),
        "panel 2 is ‖∂L/∂h‖"
    );
    let out = run("3");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--plot-panel 3: this chart has 2 panels (1: demo vanishing: weight"),
        "{err}"
    );
    let out = common::gradtutor("projector")
        .args(["train", "--plot"])
        .arg(&path)
        .args(["--plot-panel", "4"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("train's chart has 3 panels"));
}

/// `ARGS --plot FILE.svg`: the chart alone.
fn plot(args: &[&str]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("slide.svg");
    let out = common::gradtutor("projector")
        .args(args)
        .arg("--plot")
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::read_to_string(&path).unwrap()
}

/// (width, height) of the viewBox, and px per viewBox unit as drawn (width attribute).
fn view(doc: &Document) -> (f64, f64, f64) {
    let root = doc.root_element();
    let v: Vec<f64> = root
        .attribute("viewBox")
        .unwrap()
        .split_whitespace()
        .map(|x| x.parse().unwrap())
        .collect();
    (v[2], v[3], num(root, "width") / v[2])
}

#[test]
fn slide_is_one_16_9_panel_with_32_px_labels_at_1920_by_1080() {
    // Without --slide a panel is a 1200-px card as tall as its content (here 717 px), not
    // 16:9, drawn at 1 px a unit.
    let plain = plot(&["demo", "vanishing", "--depth", "6", "--plot-panel", "2"]);
    let (w, h, scale) = view(&Document::parse(&plain).unwrap());
    assert!(
        (w * 9.0 - h * 16.0).abs() > 100.0 && scale == 1.0,
        "plain panel {w}×{h}"
    );
    for args in [
        &[
            "demo",
            "vanishing",
            "--depth",
            "6",
            "--plot-panel",
            "2",
            "--slide",
        ][..],
        &["demo", "precision", "--plot-panel", "1", "--slide"],
        &["train", "--steps", "20", "--plot-panel", "1", "--slide"],
    ] {
        let svg = plot(args);
        let doc = Document::parse(&svg).unwrap();
        let (w, h, scale) = view(&doc);
        assert!(
            (w * 9.0 - h * 16.0).abs() < 1.0,
            "{args:?}: viewBox {w}×{h}"
        );
        assert_eq!(all(&doc, "panel").len(), 1, "{args:?}");
        // Drawn at 1920×1080.
        assert!(
            (scale * w - 1920.0).abs() < 0.5,
            "{args:?}: drawn {}",
            scale * w
        );
        let size = |class: &str| -> Vec<f64> {
            all(&doc, class)
                .into_iter()
                .map(|n| num(n, "font-size") * scale)
                .collect()
        };
        let ticks: Vec<f64> = size("y-tick").into_iter().chain(size("x-tick")).collect();
        assert!(ticks.len() >= 4, "{args:?}");
        for px in ticks {
            assert!(
                (px - 32.0).abs() < 0.01,
                "{args:?}: a tick label of {px} px"
            );
        }
        let title = size("title");
        assert!(title[0] >= 48.0, "{args:?}: a title of {} px", title[0]);
        for name in size("y-name").into_iter().chain(size("x-name")) {
            assert!(
                (name - 35.2).abs() < 0.01,
                "{args:?}: an axis name of {name} px"
            );
        }
    }
    // Without --plot-panel, the slides stacked: each a 1200×675 card.
    let svg = plot(&["demo", "vanishing", "--depth", "6", "--slide"]);
    let doc = Document::parse(&svg).unwrap();
    let (w, h, _) = view(&doc);
    assert_eq!((w, h), (1200.0, 1350.0));
    let cards: Vec<(f64, f64)> = all(&doc, "panel")
        .into_iter()
        .map(|p| {
            let card = p.first_element_child().unwrap();
            (num(card, "y"), num(card, "height"))
        })
        .collect();
    assert_eq!(cards, [(0.0, 675.0), (675.0, 675.0)]);
}

#[test]
fn slide_needs_plot_and_refuses_charts_not_laid_out_for_it() {
    let out = common::gradtutor("projector")
        .args(["demo", "vanishing", "--slide"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--plot"), "{err}");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("p.svg");
    for (args, says) in [
        (&["demo", "phase"][..], "--slide: demo phase's heat map"),
        (&["demo", "vanishing", "--hist"], "--slide: with --hist"),
        (&["train", "--hist"], "--slide: with --hist"),
    ] {
        let out = common::gradtutor("projector")
            .args(args)
            .arg("--plot")
            .arg(&path)
            .arg("--slide")
            .output()
            .unwrap();
        assert!(!out.status.success(), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(says), "{args:?}: {err}");
        assert!(!path.exists(), "{args:?}: nothing written");
    }
}
