//! SVG charts for slides, written by hand: per-layer gradient norms of a `demo`, and the
//! loss, per-layer gradient norms and update sizes of a `train` comparison.
//!
//! Values go on log axes labelled at whole decades over everything drawn ([`axis`]). A value
//! a log axis cannot show is marked, not dropped: exactly 0 (underflow) by a ▼ on the
//! bottom edge, inf or NaN by a ✕ on the top edge, at its own x. Each chart is a white card
//! with dark text, so it reads on light and dark slides alike.
//!
//! Written by hand, not with `plotters`: one chart's gradients can span a dozen orders of
//! magnitude or more, and plotters' log axis labels a full range badly or not at all (too
//! many ticks, or none: plotters-rs/plotters#126, #654); it has no lanes for the 0 and ∞ a
//! log axis cannot place, and its default features bring font and bitmap crates. The SVG is
//! text: [`axis`] picks the ticks, `draw` lays each card out once (`Panel::lay_out`) and
//! draws it, and the phase heat map shares its size, font and colours.

mod axis;
mod charts;
mod draw;
mod heatmap;
mod hist;

pub use charts::{demo_charts, train_charts};
pub use heatmap::phase_svg;
pub use hist::hist_svg;

use crate::report::{Report, ReportBody};

/// `demo --plot`'s document: `demo phase`'s heat map, the runs' histograms (`--hist`), or
/// the runs' charts stacked.
pub(crate) fn demo_svg(report: &Report) -> String {
    match &report.body {
        ReportBody::Phase { map } => phase_svg(map, &map.network),
        ReportBody::Runs => svg_string(&demo_charts(report)),
        ReportBody::Histograms { runs } => hist_svg(runs),
    }
}

/// `charts`, or with `panel` (`--plot-panel N`, 1 = the top one) only that one: one panel
/// per slide. A panel the chart does not have is an error naming the ones it has.
pub(crate) fn pick_panel(charts: Vec<Chart>, panel: Option<u16>) -> anyhow::Result<Vec<Chart>> {
    let Some(n) = panel else { return Ok(charts) };
    let k = usize::from(n);
    if k == 0 || k > charts.len() {
        let names: Vec<String> = charts
            .iter()
            .enumerate()
            .map(|(i, c)| format!("{}: {}", i + 1, c.title))
            .collect();
        anyhow::bail!(
            "--plot-panel {n}: this chart has {} panel{} ({})",
            charts.len(),
            if charts.len() == 1 { "" } else { "s" },
            names.join("; ")
        );
    }
    Ok(charts.into_iter().skip(k - 1).take(1).collect())
}

/// Why `--slide` is refused: for the histograms (`hist`) or `demo phase`'s heat map, which
/// are not laid out for a slide.
pub(crate) fn slide_refusal(hist: bool) -> String {
    if hist {
        "--slide: with --hist the chart is the histograms, not laid out for a slide; drop \
         --slide or --hist"
            .into()
    } else {
        "--slide: demo phase's heat map is not laid out for a slide; drop --slide".into()
    }
}

/// `demo --plot`'s document with `--plot-panel` (the phase heat map is its only panel) and
/// `--slide` (the line charts only: the heat map and histograms are refused, as not laid
/// out for a slide).
pub(crate) fn demo_svg_panel(
    report: &Report,
    panel: Option<u16>,
    slide: bool,
) -> anyhow::Result<String> {
    match &report.body {
        ReportBody::Phase { .. } if slide => anyhow::bail!(slide_refusal(false)),
        ReportBody::Histograms { .. } if slide => anyhow::bail!(slide_refusal(true)),
        ReportBody::Phase { map } => match panel {
            Some(n) if n != 1 => {
                anyhow::bail!("--plot-panel {n}: this chart has 1 panel (the phase map)")
            }
            _ => Ok(phase_svg(map, &map.network)),
        },
        ReportBody::Runs => Ok(chart_string(
            &pick_panel(demo_charts(report), panel)?,
            slide,
        )),
        ReportBody::Histograms { runs } => match panel {
            Some(n) => anyhow::bail!(
                "--plot-panel {n}: with --hist the chart is the histograms, drawn whole; drop \
                 --plot-panel or --hist"
            ),
            None => Ok(hist_svg(runs)),
        },
    }
}

/// One panel: a linear x axis, a log y axis, lines, bands, guide lines and a legend.
#[derive(Clone, Debug, PartialEq)]
pub struct Chart {
    pub title: String,
    /// A line under the title: what the runs share, what a band or a dashed line means.
    pub subtitle: String,
    pub x: XAxis,
    /// The y axis's name with its unit.
    pub y_label: String,
    pub series: Vec<Series>,
    /// Horizontal reference lines.
    pub guides: Vec<Guide>,
    /// What the shaded bands mean, for the legend, when there are any.
    pub band_label: Option<String>,
}

/// The x axis: its name and the range it always spans, whatever the data.
#[derive(Clone, Debug, PartialEq)]
pub struct XAxis {
    pub label: String,
    pub from: f64,
    pub to: f64,
    /// Whole things (layers): half a unit of room at either end, so the first and last
    /// layer's marks stay clear of the frame.
    pub whole: bool,
}

/// One line of a chart.
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    pub label: String,
    /// Index into the palette: a run's measured and predicted lines share it.
    pub color: usize,
    pub kind: Kind,
    /// (x, y) in order of x.
    pub points: Vec<(f64, f64)>,
    /// (x, low, high) of a shaded band behind the line, in order of x; may be empty.
    pub band: Vec<(f64, f64, f64)>,
    /// The least value resolved: a positive value below it is marked in a lane under the
    /// plot ("unresolved"), not drawn; 0 for none.
    pub floor: f64,
}

/// What a series is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A measurement: solid; a value of 0 or inf/NaN gets a mark.
    Measured,
    /// A prediction: dashed, labelled "(theory)"; values outside the axis are left out.
    Theory,
}

/// A horizontal reference line with its label.
#[derive(Clone, Debug, PartialEq)]
pub struct Guide {
    pub y: f64,
    pub label: String,
}

/// `charts`, stacked top to bottom, as one SVG document. The same charts give the same
/// bytes.
pub fn svg_string(charts: &[Chart]) -> String {
    draw::document(charts)
}

/// `charts` as [`svg_string`] lays them out, or with `slide` (`--slide`) each on a 16:9
/// card of its own ([`draw::slide_document`]).
pub(crate) fn chart_string(charts: &[Chart], slide: bool) -> String {
    if slide {
        draw::slide_document(charts)
    } else {
        draw::document(charts)
    }
}
