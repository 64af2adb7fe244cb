//! SVG charts for slides, drawn with plotters: per-layer gradient norms of a `demo`, and the
//! loss curves and per-layer gradient norms of a `train` comparison. Values are plotted on
//! log axes; zeros and non-finite values have no place there and are left out.

use crate::report::Report;
use crate::train::TrainReport;
use anyhow::{Context, Result};
use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::Path;

/// One line of a chart: its label and its (x, y) points.
pub struct Series {
    pub label: String,
    pub points: Vec<(f64, f64)>,
}

/// A chart with a linear x axis and a log y axis.
pub struct Chart {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    pub series: Vec<Series>,
    /// Where the legend goes: the corner the curves usually leave empty.
    pub legend: SeriesLabelPosition,
}

const WIDTH: u32 = 960;
const PANEL_HEIGHT: u32 = 420;

/// Writes `charts`, stacked top to bottom, to an SVG file at `path`.
pub fn write_svg(path: &Path, charts: &[Chart]) -> Result<()> {
    let svg = svg_string(charts)?;
    std::fs::write(path, svg).with_context(|| format!("cannot write {}", path.display()))
}

/// `charts`, stacked top to bottom, as one SVG document.
pub fn svg_string(charts: &[Chart]) -> Result<String> {
    let mut svg = String::new();
    {
        let height = PANEL_HEIGHT * charts.len().max(1) as u32;
        let root = SVGBackend::with_string(&mut svg, (WIDTH, height)).into_drawing_area();
        root.fill(&WHITE).map_err(plot_error)?;
        let panels = root.split_evenly((charts.len().max(1), 1));
        for (chart, area) in charts.iter().zip(&panels) {
            draw(chart, area)?;
        }
        root.present().map_err(plot_error)?;
    }
    Ok(svg)
}

/// Fails early, before a long run, if `path` cannot be written: it must name an `.svg` file
/// in a folder that exists.
pub fn check_writable(path: &Path) -> Result<()> {
    if !path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("svg"))
    {
        anyhow::bail!(
            "--plot writes an SVG chart: give a file name ending in .svg (got {})",
            crate::format::escape(&path.display().to_string(), 80)
        );
    }
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    if !dir.is_dir() {
        anyhow::bail!(
            "cannot write {}: the folder {} does not exist",
            path.display(),
            dir.display()
        );
    }
    if path.is_dir() {
        anyhow::bail!("cannot write {}: it is a folder", path.display());
    }
    Ok(())
}

fn plot_error<E: std::fmt::Display>(e: E) -> anyhow::Error {
    anyhow::anyhow!("drawing the chart failed: {e}")
}

/// Eight colours that stay apart on a projector.
const PALETTE: [RGBColor; 8] = [
    RGBColor(0, 114, 178),
    RGBColor(213, 94, 0),
    RGBColor(0, 158, 115),
    RGBColor(204, 121, 167),
    RGBColor(86, 180, 233),
    RGBColor(230, 159, 0),
    RGBColor(0, 0, 0),
    RGBColor(240, 228, 66),
];

fn draw(chart: &Chart, area: &DrawingArea<SVGBackend<'_>, Shift>) -> Result<()> {
    let points = || {
        chart
            .series
            .iter()
            .flat_map(|s| s.points.iter().copied())
            .filter(|&(x, y)| x.is_finite() && y.is_finite() && y > 0.0)
    };
    let (mut x_lo, mut x_hi, mut y_lo, mut y_hi) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
    for (x, y) in points() {
        x_lo = x_lo.min(x);
        x_hi = x_hi.max(x);
        y_lo = y_lo.min(y);
        y_hi = y_hi.max(y);
    }
    if x_lo > x_hi {
        // Nothing plottable: an empty frame with the title says so.
        (x_lo, x_hi, y_lo, y_hi) = (0.0, 1.0, 0.1, 1.0);
    }
    if x_hi == x_lo {
        x_hi = x_lo + 1.0;
    }
    // Pad the log range by a fraction of a decade each side.
    let (y_lo, y_hi) = (y_lo / 1.5, y_hi * 1.5);
    let mut ctx = ChartBuilder::on(area)
        .caption(&chart.title, ("sans-serif", 22))
        .margin(16)
        .x_label_area_size(44)
        .y_label_area_size(80)
        .build_cartesian_2d(x_lo..x_hi, (y_lo..y_hi).log_scale())
        .map_err(plot_error)?;
    ctx.configure_mesh()
        .x_desc(&chart.x_label)
        .y_desc(&chart.y_label)
        .x_label_formatter(&|v| format!("{v:.0}"))
        .y_label_formatter(&|v| format!("{v:.0e}"))
        .draw()
        .map_err(plot_error)?;
    for (i, s) in chart.series.iter().enumerate() {
        let color = PALETTE[i % PALETTE.len()];
        let pts: Vec<(f64, f64)> = s
            .points
            .iter()
            .copied()
            .filter(|&(x, y)| x.is_finite() && y.is_finite() && y > 0.0)
            .collect();
        ctx.draw_series(LineSeries::new(pts, color.stroke_width(2)))
            .map_err(plot_error)?
            .label(s.label.clone())
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], color.stroke_width(2)));
    }
    ctx.configure_series_labels()
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .position(chart.legend.clone())
        .draw()
        .map_err(plot_error)?;
    Ok(())
}

/// A demo's per-layer ‖∂L/∂W‖, one line per run.
pub fn demo_charts(report: &Report) -> Vec<Chart> {
    let series = report
        .runs
        .iter()
        .chain(&report.side_runs)
        .map(|run| Series {
            label: run.label.clone(),
            points: run
                .layers
                .iter()
                .map(|l| (l.figures.layer as f64, l.figures.grad_norm))
                .collect(),
        })
        .collect();
    vec![Chart {
        title: format!("demo {}: gradient norm per layer", report.experiment),
        x_label: "layer (1 = next to the input)".into(),
        y_label: "‖∂L/∂W‖".into(),
        series,
        legend: SeriesLabelPosition::LowerRight,
    }]
}

/// A comparison's training-loss curves and per-layer ‖∂L/∂W‖ (median over checkpoints).
pub fn train_charts(report: &TrainReport) -> Vec<Chart> {
    let losses = report
        .runs
        .iter()
        .map(|h| Series {
            label: h.label.clone(),
            points: std::iter::once((0.0, h.initial.train.loss))
                .chain(h.checkpoints.iter().map(|c| (c.step as f64, c.train.loss)))
                .collect(),
        })
        .collect();
    let grads = report
        .runs
        .iter()
        .map(|h| {
            let layers = h.checkpoints.first().map_or(0, |c| c.grad_norms.len());
            Series {
                label: h.label.clone(),
                points: (0..layers)
                    .map(|l| {
                        let v: Vec<f64> = h.checkpoints.iter().map(|c| c.grad_norms[l]).collect();
                        ((l + 1) as f64, crate::nn::stats::median(v))
                    })
                    .collect(),
            }
        })
        .collect();
    vec![
        Chart {
            title: format!("training loss on {}", report.config.data.kind),
            x_label: "step".into(),
            y_label: "loss (whole training set)".into(),
            series: losses,
            legend: SeriesLabelPosition::LowerLeft,
        },
        Chart {
            title: "gradient norm per layer, median over training".into(),
            x_label: "layer (1 = next to the input)".into(),
            y_label: "‖∂L/∂W‖".into(),
            series: grads,
            legend: SeriesLabelPosition::LowerRight,
        },
    ]
}
