//! The SVG text of a stack of charts: layout, axes, lines, bands, marks and legends.
//!
//! Sizes are for a projector: the SVG is 1200 px wide, titles 30 px, tick labels and legend
//! 20 px, lines 3 px. Values a log axis cannot show get lanes of their own outside the
//! plot, like a broken axis: `0` below it, `∞, NaN` above it. Elements carry classes
//! (`y-tick`, `x-tick`, `series`, `theory`, `band`, `mark-zero`, `mark-nonfinite`, `guide`)
//! so that tests and style sheets can find them.

use super::axis::{Ticks, linear_ticks, log_ticks};
use super::{Chart, Kind, Series};
use crate::render::escape as esc;
use std::fmt::Write;

pub(super) const WIDTH: f64 = 1200.0;
/// Room between a card's edge and its content, and between two cards.
const PAD: f64 = 24.0;
const TITLE: f64 = 30.0;
const SUBTITLE: f64 = 19.0;
const AXIS_NAME: f64 = 22.0;
const TICK: f64 = 20.0;
const LEGEND: f64 = 20.0;
const PLOT_HEIGHT: f64 = 440.0;
const LINE: f64 = 3.0;
/// Between the plot and a lane of marks.
const LANE_GAP: f64 = 12.0;
/// The `i`-th guide line's style: grey dots, then grey dashes, unlike any series.
fn guide_style(i: usize) -> String {
    let dashes = ["1 7", "9 7", "1 5 9 5"][i % 3];
    format!(
        r#"stroke="{MUTED}" stroke-width="3" stroke-dasharray="{dashes}" stroke-linecap="round""#
    )
}
/// The k-th (k ≥ 1) of `group` lines on top of each other: dashes that fill the k-th
/// of `group` slots of a period, so that every colour shows along the line in turn.
fn coincide_style(k: usize, group: usize) -> String {
    let dash = 14.0;
    format!(
        r#"stroke-width="{LINE}" stroke-dasharray="{} {}" stroke-dashoffset="{}""#,
        n(dash),
        n(dash * (group.max(2) - 1) as f64),
        n(-dash * k as f64)
    )
}

/// Points get a dot of their own when there are at most this many (a few layers).
const DOTS_UP_TO: usize = 30;
/// A prediction's line: wide, pale dashes in its run's colour.
const THEORY_STYLE: &str = r#"stroke-width="8" stroke-opacity="0.45" stroke-dasharray="16 9""#;

pub(super) const WHITE: &str = "#ffffff";
pub(super) const TEXT: &str = "#1a1a1a";
pub(super) const MUTED: &str = "#555555";
pub(super) const GRID: &str = "#c8c8c8";
const GRID_MINOR: &str = "#ececec";
const LANE: &str = "#f2f2f2";
pub(super) const FONT: &str = "DejaVu Sans, Verdana, Arial, Helvetica, sans-serif";

/// Okabe–Ito without its yellow, which vanishes on white: colour-blind safe and apart on a
/// projector.
const PALETTE: [&str; 7] = [
    "#0072B2", // blue
    "#D55E00", // vermillion
    "#009E73", // bluish green
    "#CC79A7", // reddish purple
    "#E69F00", // orange
    "#56B4E9", // sky blue
    "#000000", // black
];

fn color(i: usize) -> &'static str {
    PALETTE[i % PALETTE.len()]
}

/// A rough width of `text` in a sans-serif face of `size` px: enough to lay out labels.
fn text_width(text: &str, size: f64) -> f64 {
    text.chars().count() as f64 * 0.6 * size
}

/// `text` in lines no wider than `room` px at `size` px (by [`text_width`]).
fn wrap_to(text: &str, room: f64, size: f64) -> Vec<String> {
    let chars = (room / (0.6 * size)) as usize;
    textwrap::wrap(text, chars.max(8))
        .into_iter()
        .map(|l| l.into_owned())
        .collect()
}

/// A coordinate as SVG text: one decimal, and never NaN.
fn n(v: f64) -> String {
    if v.is_finite() {
        format!("{v:.1}")
    } else {
        "0".into()
    }
}

/// The whole document: each chart a white card, stacked top to bottom.
pub(super) fn document(charts: &[Chart]) -> String {
    let mut top = 0.0;
    let mut panels = Vec::new();
    for chart in charts {
        let panel = Panel::lay_out(chart, top, PLOT_HEIGHT, false);
        top = panel.bottom + PAD;
        panels.push(panel);
    }
    let height = (top - PAD).max(PAD);
    write_document(charts, &panels, (0.0, WIDTH, height), 1.0)
}

/// A slide's card is [`WIDTH`] × this: 16:9. Shown at 1920 × 1080 (× 1.6), tick labels
/// and legend (20) come out 32 px, axis names (22) 35 px, titles ([`SLIDE_TITLE`]) 54 px.
pub(super) const SLIDE_HEIGHT: f64 = 675.0;
/// A slide's title size: 34 × 1.6 ≈ 54 px at 1920 × 1080 (less for a long title).
pub(super) const SLIDE_TITLE: f64 = 34.0;
/// The least plot height on a slide: a panel whose text leaves less (a legend of many
/// rows) keeps this plot and its slide is widened to stay 16:9, so its type is smaller.
const SLIDE_MIN_PLOT: f64 = 200.0;

/// `--slide`: each chart a 16:9 card of [`WIDTH`] × [`SLIDE_HEIGHT`], its plot as high as
/// the title, subtitle, axes and legend leave, stacked with no gap (one slide each). A
/// lone panel that cannot fit gets a wider viewBox, still 16:9, centred on a white slide.
pub(super) fn slide_document(charts: &[Chart]) -> String {
    let mut top = 0.0;
    let mut panels = Vec::new();
    for chart in charts {
        // The text's height depends a little on the plot's (a lower plot draws more lines
        // within 2 px of each other, and names them under the legend): three tries.
        let mut panel = Panel::lay_out(chart, top, PLOT_HEIGHT, true);
        for _ in 0..3 {
            let text = panel.bottom - panel.top - panel.plot_height;
            let plot = (SLIDE_HEIGHT - text).max(SLIDE_MIN_PLOT);
            if (plot - panel.plot_height).abs() < 0.5 {
                break;
            }
            panel = Panel::lay_out(chart, top, plot, true);
        }
        // Within half a pixel (rounding) the card is the slide.
        if panel.bottom <= top + SLIDE_HEIGHT + 0.5 {
            panel.bottom = top + SLIDE_HEIGHT;
        }
        top = panel.bottom;
        panels.push(panel);
    }
    let height = top.max(SLIDE_HEIGHT);
    let view = if charts.len() <= 1 && height > SLIDE_HEIGHT {
        let width = height * 16.0 / 9.0;
        (-0.5 * (width - WIDTH), width, height)
    } else {
        (0.0, WIDTH, height)
    };
    // Drawn 1920 px wide: 1.6 px a unit, less for a widened one.
    write_document(charts, &panels, view, 1920.0 / view.1)
}

/// The SVG of laid-out `panels` in a viewBox of (left x, width, height), drawn `scale` px
/// per unit; a viewBox wider than the cards gets a white ground.
fn write_document(
    charts: &[Chart],
    panels: &[Panel],
    (x0, width, height): (f64, f64, f64),
    scale: f64,
) -> String {
    let mut out = String::new();
    if scale != 1.0 {
        let _ = writeln!(
            out,
            r#"<svg xmlns="http://www.w3.org/2000/svg" width="{}" height="{}" viewBox="{} 0 {} {}" font-family="{FONT}">"#,
            n(scale * width),
            n(scale * height),
            n(x0),
            n(width),
            n(height)
        );
    } else if x0 == 0.0 {
        let _ = writeln!(
            out,
            r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" font-family="{FONT}">"#,
            w = n(width),
            h = n(height)
        );
    } else {
        let _ = writeln!(
            out,
            r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="{x} 0 {w} {h}" font-family="{FONT}">"#,
            x = n(x0),
            w = n(width),
            h = n(height)
        );
    }
    let titles: Vec<&str> = charts.iter().map(|c| c.title.as_str()).collect();
    let _ = writeln!(out, "<title>{}</title>", esc(&titles.join(" · ")));
    if x0 != 0.0 {
        let _ = writeln!(
            out,
            r#"<rect x="{}" y="0" width="{}" height="{}" fill="{WHITE}"/>"#,
            n(x0),
            n(width),
            n(height)
        );
    }
    for (i, (chart, panel)) in charts.iter().zip(panels).enumerate() {
        panel.draw(&mut out, chart, i);
    }
    out.push_str("</svg>\n");
    out
}

/// A lane's height: a row of marks `2·mark + 4` px high per series, and room at its edges.
fn lane_height(mark: f64, rows: usize) -> f64 {
    rows as f64 * (2.0 * mark + 4.0) + 6.0
}

fn plottable(v: f64) -> bool {
    v > 0.0 && v.is_finite()
}

/// What a log axis cannot show.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Unplottable {
    /// ≤ 0: for a norm, exactly 0.
    Zero,
    /// ±∞ or NaN.
    NonFinite,
    /// Positive but under its series's floor: a value the computation does not resolve.
    Unresolved,
}

impl Unplottable {
    /// What `v` is on a log axis whose series resolves values from `floor` up.
    fn of(v: f64, floor: f64) -> Option<Unplottable> {
        if !v.is_finite() {
            Some(Unplottable::NonFinite)
        } else if v <= 0.0 {
            Some(Unplottable::Zero)
        } else if v < floor {
            Some(Unplottable::Unresolved)
        } else {
            None
        }
    }

    fn legend(self) -> &'static str {
        match self {
            Unplottable::Zero => "exactly 0 (underflow)",
            Unplottable::NonFinite => "inf or NaN",
            Unplottable::Unresolved => "below the resolved floor (not drawn)",
        }
    }

    fn lane_label(self) -> &'static str {
        match self {
            Unplottable::Zero => "0",
            Unplottable::NonFinite => "∞, NaN",
            Unplottable::Unresolved => "unresolved",
        }
    }
}

/// The measured series with a value of `kind` somewhere: one row of marks each.
fn marked(chart: &Chart, kind: Unplottable) -> Vec<&Series> {
    chart
        .series
        .iter()
        .filter(|s| s.kind == Kind::Measured)
        .filter(|s| {
            s.points
                .iter()
                .any(|p| p.0.is_finite() && Unplottable::of(p.1, s.floor) == Some(kind))
        })
        .collect()
}

/// A strip outside the plot holding the marks of one kind, one row per series.
struct Lane {
    kind: Unplottable,
    top: f64,
    rows: usize,
}

/// Where a chart's parts go, in the document's pixels.
struct Panel {
    top: f64,
    /// The plot's height: [`PLOT_HEIGHT`], or on a slide what the slide leaves.
    plot_height: f64,
    /// The title's font size: [`TITLE`], or [`SLIDE_TITLE`] on a slide.
    title: f64,
    /// On a slide: square corners (the card is the slide).
    slide: bool,
    /// The y axis's name in lines no longer than the plot is high.
    y_name: Vec<String>,
    bottom: f64,
    subtitle: Vec<String>,
    y: Ticks,
    x: Ticks,
    /// The x range drawn, padded for whole units.
    x_lo: f64,
    x_hi: f64,
    left: f64,
    right: f64,
    plot_top: f64,
    plot_bottom: f64,
    /// Half the width of a mark.
    mark: f64,
    lanes: Vec<Lane>,
    /// Where the x axis's ticks hang: below the plot and any lane.
    axis_bottom: f64,
    legend: Vec<Vec<Entry>>,
    legend_top: f64,
    /// Per series: 0, or its place k ≥ 1 in a group of measured lines drawn on top of
    /// each other (dashed so that the first's colour shows between its dashes).
    rank: Vec<(usize, usize)>,
    /// The note under the legend naming the lines on top of each other.
    coincide: Vec<String>,
}

/// Measured series closer than this many px at every point look like one line.
const COINCIDE_PX: f64 = 2.0;

/// For each series, (k, n): its place in its group of measured lines that lie within
/// [`COINCIDE_PX`] of each other at every point (same x, both plottable or the same mark),
/// and the group's size; (0, 1) alone. `px_per_decade` converts log₁₀ differences to px.
fn coinciding(chart: &Chart, px_per_decade: f64) -> Vec<(usize, usize)> {
    let same = |a: &Series, b: &Series| {
        a.kind == Kind::Measured
            && b.kind == Kind::Measured
            && a.points.len() == b.points.len()
            && a.points.iter().zip(&b.points).all(|(p, q)| {
                p.0 == q.0
                    && match (plottable(p.1), plottable(q.1)) {
                        (true, true) => {
                            (libm::log10(p.1) - libm::log10(q.1)).abs() * px_per_decade
                                <= COINCIDE_PX
                        }
                        (false, false) => Unplottable::of(p.1, 0.0) == Unplottable::of(q.1, 0.0),
                        _ => false,
                    }
            })
    };
    let mut leader: Vec<usize> = (0..chart.series.len()).collect();
    for j in 0..chart.series.len() {
        if let Some(i) =
            (0..j).find(|&i| leader[i] == i && same(&chart.series[i], &chart.series[j]))
        {
            leader[j] = i;
        }
    }
    (0..chart.series.len())
        .map(|j| {
            let group: Vec<usize> = (0..chart.series.len())
                .filter(|&i| leader[i] == leader[j])
                .collect();
            let k = group.iter().position(|&i| i == j).unwrap_or(0);
            (k, group.len())
        })
        .collect()
}

/// The note naming each group of lines on top of each other.
fn coincide_note(chart: &Chart, rank: &[(usize, usize)]) -> Vec<String> {
    let mut groups: Vec<Vec<&str>> = Vec::new();
    for (s, &(k, n)) in chart.series.iter().zip(rank) {
        if n < 2 {
            continue;
        }
        if k == 0 {
            groups.push(Vec::new());
        }
        if let Some(g) = groups.last_mut() {
            g.push(&s.label);
        }
    }
    if groups.is_empty() {
        return Vec::new();
    }
    let names: Vec<String> = groups.iter().map(|g| g.join(", ")).collect();
    let text = format!(
        "On top of each other (under {COINCIDE_PX} px apart at every point; drawn dashed, \
         with rings): {}.",
        names.join("; ")
    );
    let chars = ((WIDTH - 2.0 * PAD) / (0.6 * LEGEND)) as usize;
    textwrap::wrap(&text, chars.max(20))
        .into_iter()
        .map(|l| l.into_owned())
        .collect()
}

impl Panel {
    fn lay_out(chart: &Chart, top: f64, plot_height: f64, slide: bool) -> Panel {
        // On a slide the title is one line: [`SLIDE_TITLE`], or less for a long one (bold
        // glyphs ≈ 0.72 em wide, whole px).
        let title = if slide {
            let chars = chart.title.chars().count().max(1) as f64;
            SLIDE_TITLE.min(libm::floor((WIDTH - 2.0 * PAD) / (0.72 * chars)))
        } else {
            TITLE
        };
        // The y range: every positive, finite value drawn, bands and guides included.
        let values = chart
            .series
            .iter()
            .flat_map(|s| {
                s.points
                    .iter()
                    .map(|p| p.1)
                    .chain(s.band.iter().flat_map(|b| [b.1, b.2]))
                    .filter(|&v| v >= s.floor)
            })
            .chain(chart.guides.iter().map(|g| g.y))
            .filter(|&v| plottable(v));
        let (min, max) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
        let y = log_ticks(min, max, (plot_height / (1.8 * TICK)) as usize);
        // The x range: the chart's, stretched to any point outside it.
        let xs = chart
            .series
            .iter()
            .flat_map(|s| {
                s.points
                    .iter()
                    .map(|p| p.0)
                    .chain(s.band.iter().map(|b| b.0))
            })
            .filter(|x| x.is_finite());
        let (from, to) = xs.fold((chart.x.from, chart.x.to), |(lo, hi), x| {
            (lo.min(x), hi.max(x))
        });
        let zero = marked(chart, Unplottable::Zero).len();
        let bad = marked(chart, Unplottable::NonFinite).len();
        let low = marked(chart, Unplottable::Unresolved).len();
        let labels = y.ticks.iter().filter_map(|t| t.label.as_deref());
        let lane_labels = [
            (zero, Unplottable::Zero),
            (bad, Unplottable::NonFinite),
            (low, Unplottable::Unresolved),
        ]
        .into_iter()
        .filter(|&(rows, _)| rows > 0)
        .map(|(_, kind)| kind.lane_label());
        let label_width = labels
            .chain(lane_labels)
            .map(|l| text_width(l, TICK))
            .fold(0.0, f64::max);
        let y_name = wrap_to(&chart.y_label, plot_height, AXIS_NAME);
        let left = PAD + (0.2 + 1.2 * y_name.len() as f64) * AXIS_NAME + label_width + 14.0;
        let right = WIDTH - PAD - 24.0;
        let widest = text_width(&format!("{}", to.abs().round()), TICK).max(TICK);
        let max_x_labels = ((right - left) / (widest + 3.0 * TICK)) as usize;
        let min_step = if chart.x.whole { 1.0 } else { 0.0 };
        let x = linear_ticks(from, to, max_x_labels.clamp(2, 12), min_step);
        // Whole units get half a unit either side; a continuous axis (training steps) 2 % of
        // its range on the left, so that its first point (step 0) is not on the frame.
        let (pad_lo, pad_hi) = if chart.x.whole {
            (0.5, 0.5)
        } else {
            (0.02 * (x.hi - x.lo), 0.0)
        };
        let (x_lo, x_hi) = (x.lo - pad_lo, x.hi + pad_hi);
        let chars = ((WIDTH - 2.0 * PAD) / (0.6 * SUBTITLE)) as usize;
        let subtitle: Vec<String> = textwrap::wrap(&chart.subtitle, chars.max(20))
            .into_iter()
            .map(|l| l.into_owned())
            .collect();
        // Marks as wide as a unit of x allows (a layer), within limits.
        let unit = (right - left) / (x_hi - x_lo).max(f64::MIN_POSITIVE);
        let mark = (0.45 * unit).clamp(4.0, 8.0);
        let mut lanes = Vec::new();
        let mut y_now = top + PAD + title + subtitle.len() as f64 * 1.45 * SUBTITLE + 24.0;
        if bad > 0 {
            lanes.push(Lane {
                kind: Unplottable::NonFinite,
                top: y_now,
                rows: bad,
            });
            y_now += lane_height(mark, bad) + LANE_GAP;
        }
        let plot_top = y_now;
        let plot_bottom = plot_top + plot_height;
        let mut axis_bottom = plot_bottom;
        if zero > 0 {
            lanes.push(Lane {
                kind: Unplottable::Zero,
                top: plot_bottom + LANE_GAP,
                rows: zero,
            });
            axis_bottom += LANE_GAP + lane_height(mark, zero);
        }
        if low > 0 {
            lanes.push(Lane {
                kind: Unplottable::Unresolved,
                top: axis_bottom + LANE_GAP,
                rows: low,
            });
            axis_bottom += LANE_GAP + lane_height(mark, low);
        }
        let legend_top = axis_bottom + 1.6 * TICK + 1.9 * AXIS_NAME + 12.0;
        let rank = coinciding(chart, plot_height / (y.hi - y.lo).max(f64::MIN_POSITIVE));
        let coincide = coincide_note(chart, &rank);
        let legend = flow(
            entries(chart, &rank, [zero > 0, bad > 0, low > 0]),
            WIDTH - 2.0 * PAD,
        );
        let bottom = legend_top + (legend.len() + coincide.len()) as f64 * 1.7 * LEGEND + PAD;
        Panel {
            top,
            plot_height,
            title,
            slide,
            y_name,
            bottom,
            subtitle,
            y,
            x,
            x_lo,
            x_hi,
            left,
            right,
            plot_top,
            plot_bottom,
            mark,
            lanes,
            axis_bottom,
            legend,
            legend_top,
            rank,
            coincide,
        }
    }

    fn px(&self, x: f64) -> f64 {
        let t = (x - self.x_lo) / (self.x_hi - self.x_lo);
        self.left + t * (self.right - self.left)
    }

    /// The y pixel of log₁₀ of a value, `at`, kept inside the plot.
    fn py(&self, at: f64) -> f64 {
        let t = (at - self.y.lo) / (self.y.hi - self.y.lo);
        self.plot_bottom - t.clamp(0.0, 1.0) * self.plot_height
    }

    fn draw(&self, out: &mut String, chart: &Chart, index: usize) {
        let _ = writeln!(
            out,
            r#"<g class="panel" data-title="{}">"#,
            esc(&chart.title)
        );
        let _ = writeln!(
            out,
            r#"<rect x="0" y="{}" width="{}" height="{}" rx="{}" fill="{WHITE}"/>"#,
            n(self.top),
            n(WIDTH),
            n(self.bottom - self.top),
            if self.slide { 0 } else { 14 }
        );
        let _ = writeln!(
            out,
            r#"<text class="title" x="{}" y="{}" font-size="{}" font-weight="bold" fill="{TEXT}">{}</text>"#,
            n(PAD),
            n(self.top + PAD + 0.8 * self.title),
            self.title,
            esc(&chart.title)
        );
        for (i, line) in self.subtitle.iter().enumerate() {
            let _ = writeln!(
                out,
                r#"<text class="subtitle" x="{}" y="{}" font-size="{SUBTITLE}" fill="{MUTED}">{}</text>"#,
                n(PAD),
                n(
                    self.top + PAD + self.title + (i as f64 + 1.25) * 1.45 * SUBTITLE
                        - 0.45 * SUBTITLE
                ),
                esc(line)
            );
        }
        self.axes(out, chart);
        // The data, clipped to the plot.
        let clip = format!("plot-{index}");
        let _ = writeln!(
            out,
            r#"<clipPath id="{clip}"><rect x="{}" y="{}" width="{}" height="{}"/></clipPath>"#,
            n(self.left),
            n(self.plot_top),
            n(self.right - self.left),
            n(self.plot_height)
        );
        let _ = writeln!(out, r#"<g clip-path="url(#{clip})">"#);
        for s in &chart.series {
            self.band(out, s);
        }
        // Predictions under the measurements: where the two agree, the measured line runs
        // through the middle of the wide dashes.
        for kind in [Kind::Theory, Kind::Measured] {
            // Lines on top of an earlier one last, dashed, so that no solid line hides them.
            let mut order: Vec<usize> = (0..chart.series.len()).collect();
            order.sort_by_key(|&i| self.rank.get(i).map_or(0, |r| r.0));
            for i in order {
                let (s, rank) = (&chart.series[i], self.rank[i]);
                if s.kind == kind {
                    self.line(out, s, chart.x.whole, rank);
                }
            }
        }
        // Guides over the lines: a run that sits on a guide (a sigmoid net at the constant
        // guess's loss) would hide it; grey dots over a coloured line leave both visible.
        for (i, g) in chart
            .guides
            .iter()
            .enumerate()
            .filter(|(_, g)| plottable(g.y))
        {
            let _ = writeln!(
                out,
                r#"<line class="guide" data-label="{}" x1="{}" y1="{y}" x2="{}" y2="{y}" {}/>"#,
                esc(&g.label),
                n(self.left),
                n(self.right),
                guide_style(i),
                y = n(self.py(libm::log10(g.y)))
            );
        }
        out.push_str("</g>\n");
        let _ = writeln!(
            out,
            r#"<rect x="{}" y="{}" width="{}" height="{}" fill="none" stroke="{MUTED}" stroke-width="1.5"/>"#,
            n(self.left),
            n(self.plot_top),
            n(self.right - self.left),
            n(self.plot_height)
        );
        for lane in &self.lanes {
            self.lane(out, chart, lane);
        }
        self.draw_legend(out);
        out.push_str("</g>\n");
    }

    /// Grid lines, ticks, tick labels and the axes' names.
    fn axes(&self, out: &mut String, chart: &Chart) {
        let (left, right) = (self.left, self.right);
        for t in &self.y.ticks {
            let y = self.py(t.at);
            let (grid, tick) = match t.label {
                Some(_) => (GRID, 10.0),
                None => (GRID_MINOR, 6.0),
            };
            let _ = writeln!(
                out,
                r#"<line x1="{l}" y1="{y}" x2="{r}" y2="{y}" stroke="{grid}" stroke-width="1"/><line x1="{t0}" y1="{y}" x2="{l}" y2="{y}" stroke="{MUTED}" stroke-width="1.5"/>"#,
                l = n(left),
                r = n(right),
                y = n(y),
                t0 = n(left - tick)
            );
            if let Some(label) = &t.label {
                let _ = writeln!(
                    out,
                    r#"<text class="y-tick" x="{}" y="{}" font-size="{TICK}" text-anchor="end" fill="{TEXT}">{}</text>"#,
                    n(left - 14.0),
                    n(y + 0.35 * TICK),
                    esc(label)
                );
            }
        }
        for t in &self.x.ticks {
            let x = n(self.px(t.at));
            let _ = writeln!(
                out,
                r#"<line x1="{x}" y1="{}" x2="{x}" y2="{}" stroke="{GRID_MINOR}" stroke-width="1"/><line x1="{x}" y1="{}" x2="{x}" y2="{}" stroke="{MUTED}" stroke-width="1.5"/>"#,
                n(self.plot_top),
                n(self.plot_bottom),
                n(self.axis_bottom),
                n(self.axis_bottom + 10.0),
            );
            if let Some(label) = &t.label {
                let _ = writeln!(
                    out,
                    r#"<text class="x-tick" x="{x}" y="{}" font-size="{TICK}" text-anchor="middle" fill="{TEXT}">{}</text>"#,
                    n(self.axis_bottom + 14.0 + TICK),
                    esc(label)
                );
            }
        }
        let y = 0.5 * (self.plot_top + self.plot_bottom);
        for (i, line) in self.y_name.iter().enumerate() {
            let x = PAD + (0.8 + 1.2 * i as f64) * AXIS_NAME;
            let _ = writeln!(
                out,
                r#"<text class="y-name" x="{x}" y="{y}" font-size="{AXIS_NAME}" text-anchor="middle" fill="{TEXT}" transform="rotate(-90 {x} {y})">{}</text>"#,
                esc(line),
                x = n(x),
                y = n(y)
            );
        }
        let _ = writeln!(
            out,
            r#"<text class="x-name" x="{}" y="{}" font-size="{AXIS_NAME}" text-anchor="middle" fill="{TEXT}">{}</text>"#,
            n(0.5 * (left + right)),
            n(self.axis_bottom + 1.6 * TICK + 1.5 * AXIS_NAME),
            esc(&chart.x.label)
        );
    }

    /// A series's band as one filled path per stretch of x where it is defined: a low of 0
    /// reaches down to the bottom of the plot, a high of +∞ up to its top, NaN breaks it.
    fn band(&self, out: &mut String, s: &Series) {
        let at = |v: f64| match Unplottable::of(v, s.floor) {
            None => Some(self.py(libm::log10(v))),
            Some(Unplottable::Zero | Unplottable::Unresolved) => Some(self.plot_bottom),
            Some(Unplottable::NonFinite) if v == f64::INFINITY => Some(self.plot_top),
            Some(Unplottable::NonFinite) => None,
        };
        let mut stretches: Vec<Vec<(f64, f64, f64)>> = vec![Vec::new()];
        for &(x, lo, hi) in &s.band {
            match (x.is_finite(), at(lo), at(hi)) {
                (true, Some(lo), Some(hi)) => {
                    stretches
                        .last_mut()
                        .expect("never empty")
                        .push((self.px(x), lo, hi))
                }
                _ => stretches.push(Vec::new()),
            }
        }
        for stretch in stretches.iter().filter(|s| !s.is_empty()) {
            // A lone point is widened to a sliver so that it shows.
            let half = if stretch.len() == 1 { 3.0 } else { 0.0 };
            let upper = stretch.iter().flat_map(|&(x, _, hi)| {
                let both = [(x - half, hi), (x + half, hi)];
                both.into_iter().take(if half > 0.0 { 2 } else { 1 })
            });
            let lower = stretch.iter().rev().flat_map(|&(x, lo, _)| {
                let both = [(x + half, lo), (x - half, lo)];
                both.into_iter().take(if half > 0.0 { 2 } else { 1 })
            });
            let d: Vec<String> = upper
                .chain(lower)
                .map(|(x, y)| format!("{},{}", n(x), n(y)))
                .collect();
            let _ = writeln!(
                out,
                r#"<polygon class="band" data-label="{}" points="{}" fill="{}" fill-opacity="0.22" stroke="none"/>"#,
                esc(&s.label),
                d.join(" "),
                color(s.color)
            );
        }
    }

    /// A series's line, broken wherever a value cannot be shown, with a dot per point when
    /// there are few.
    fn line(&self, out: &mut String, s: &Series, whole: bool, (k, group): (usize, usize)) {
        let c = color(s.color);
        let (class, style) = match s.kind {
            Kind::Measured if k > 0 => ("series", coincide_style(k, group)),
            Kind::Measured => (
                "series",
                format!(r#"stroke-width="{LINE}" stroke-linecap="round""#),
            ),
            Kind::Theory => ("theory", THEORY_STYLE.to_string()),
        };
        let mut segments: Vec<Vec<(f64, f64)>> = vec![Vec::new()];
        for &(x, y) in &s.points {
            if x.is_finite() && Unplottable::of(y, s.floor).is_none() {
                let p = (self.px(x), self.py(libm::log10(y)));
                segments.last_mut().expect("never empty").push(p);
            } else {
                segments.push(Vec::new());
            }
        }
        let label = esc(&s.label);
        for seg in segments.iter().filter(|s| s.len() > 1) {
            let pts: Vec<String> = seg
                .iter()
                .map(|&(x, y)| format!("{},{}", n(x), n(y)))
                .collect();
            let _ = writeln!(
                out,
                r#"<polyline class="{class}" data-label="{label}" points="{}" fill="none" stroke="{c}" {style} stroke-linejoin="round"/>"#,
                pts.join(" ")
            );
        }
        let few = s.kind == Kind::Measured && s.points.len() <= DOTS_UP_TO;
        // Over time (not whole units), a measured curve's first point gets a dot: the loss
        // before training is a point of its own, not only the top of a drop to step 1.
        if !whole
            && !few
            && s.kind == Kind::Measured
            && let Some(&(x, y)) = segments.first().and_then(|seg| seg.first())
        {
            let _ = writeln!(
                out,
                r#"<circle class="series-start" data-label="{label}" cx="{}" cy="{}" r="7" fill="{c}" stroke="{WHITE}" stroke-width="2"/>"#,
                n(x),
                n(y)
            );
        }
        for seg in segments.iter().filter(|seg| few || seg.len() == 1) {
            for &(x, y) in seg {
                let _ = match k {
                    0 => writeln!(
                        out,
                        r#"<circle class="{class}-point" cx="{}" cy="{}" r="5.5" fill="{c}"/>"#,
                        n(x),
                        n(y)
                    ),
                    // A ring per line on top of the first: each colour shows.
                    _ => writeln!(
                        out,
                        r#"<circle class="{class}-ring" cx="{}" cy="{}" r="{}" fill="none" stroke="{c}" stroke-width="2.5"/>"#,
                        n(x),
                        n(y),
                        n(5.5 + 4.0 * k as f64)
                    ),
                };
            }
        }
    }

    /// A lane of marks: ▼ for exactly 0 below the plot, ✕ for inf or NaN above it, one row
    /// per series in its colour, at the x of each such value.
    fn lane(&self, out: &mut String, chart: &Chart, lane: &Lane) {
        let height = lane_height(self.mark, lane.rows);
        let _ = writeln!(
            out,
            r#"<rect class="lane" x="{}" y="{}" width="{}" height="{}" fill="{LANE}" stroke="{GRID}" stroke-width="1"/>"#,
            n(self.left),
            n(lane.top),
            n(self.right - self.left),
            n(height)
        );
        let _ = writeln!(
            out,
            r#"<text class="lane-label" x="{}" y="{}" font-size="{TICK}" text-anchor="end" fill="{TEXT}">{}</text>"#,
            n(self.left - 14.0),
            n(lane.top + 0.5 * height + 0.35 * TICK),
            esc(lane.kind.lane_label())
        );
        let s = self.mark;
        for (row, series) in marked(chart, lane.kind).into_iter().enumerate() {
            let cy = lane.top + 5.0 + s + row as f64 * (2.0 * s + 4.0);
            let c = color(series.color);
            let label = esc(&series.label);
            for &(x, y) in &series.points {
                if !x.is_finite() || Unplottable::of(y, series.floor) != Some(lane.kind) {
                    continue;
                }
                let (px, data_x) = (self.px(x), esc(&format!("{x}")));
                let _ = match lane.kind {
                    Unplottable::Zero => writeln!(
                        out,
                        r#"<polygon class="mark-zero" data-x="{data_x}" data-label="{label}" points="{},{} {},{} {},{}" fill="{c}"/>"#,
                        n(px - s),
                        n(cy - s),
                        n(px + s),
                        n(cy - s),
                        n(px),
                        n(cy + s),
                    ),
                    Unplottable::Unresolved => writeln!(
                        out,
                        r#"<polygon class="mark-unresolved" data-x="{data_x}" data-label="{label}" points="{},{} {},{} {},{}" fill="none" stroke="{c}" stroke-width="2.5"/>"#,
                        n(px - s),
                        n(cy - s),
                        n(px + s),
                        n(cy - s),
                        n(px),
                        n(cy + s),
                    ),
                    Unplottable::NonFinite => writeln!(
                        out,
                        r#"<path class="mark-nonfinite" data-x="{data_x}" data-label="{label}" d="M{a} {b} L{c2} {d} M{a} {d} L{c2} {b}" stroke="{c}" stroke-width="3" stroke-linecap="round"/>"#,
                        a = n(px - 0.8 * s),
                        c2 = n(px + 0.8 * s),
                        b = n(cy - 0.8 * s),
                        d = n(cy + 0.8 * s),
                    ),
                };
            }
        }
    }

    fn draw_legend(&self, out: &mut String) {
        for (i, line) in self.coincide.iter().enumerate() {
            let y = self.legend_top + (self.legend.len() + i) as f64 * 1.7 * LEGEND + 0.85 * LEGEND;
            let _ = writeln!(
                out,
                r#"<text class="coincide" x="{}" y="{}" font-size="{LEGEND}" fill="{TEXT}">{}</text>"#,
                n(PAD),
                n(y),
                esc(line)
            );
        }
        for (row, entries) in self.legend.iter().enumerate() {
            let y = self.legend_top + (row as f64 + 0.5) * 1.7 * LEGEND;
            let mut x = PAD;
            for e in entries {
                let _ = writeln!(
                    out,
                    r#"<g class="legend">{}<text x="{}" y="{}" font-size="{LEGEND}" fill="{TEXT}">{}</text></g>"#,
                    e.swatch.svg(x, y),
                    n(x + SWATCH + 10.0),
                    n(y + 0.35 * LEGEND),
                    esc(&e.text)
                );
                x += e.width();
            }
        }
    }
}

/// What a legend entry's swatch shows.
enum Swatch {
    Line {
        color: usize,
        dashed: bool,
        /// (k, group) of lines on top of each other; (0, 1) alone.
        rank: (usize, usize),
    },
    Band,
    Guide(usize),
    Mark(Unplottable),
}

const SWATCH: f64 = 44.0;

impl Swatch {
    /// The swatch drawn from `x`, centred on `y`.
    fn svg(&self, x: f64, y: f64) -> String {
        let mid = x + 0.5 * SWATCH;
        match *self {
            Swatch::Line {
                color: c,
                dashed,
                rank: (k, group),
            } => format!(
                r#"<line x1="{}" y1="{y}" x2="{}" y2="{y}" stroke="{}" {}/>"#,
                n(x),
                n(x + SWATCH),
                color(c),
                match (dashed, k) {
                    (true, _) => THEORY_STYLE.to_string(),
                    (false, 0) => format!(r#"stroke-width="{LINE}""#),
                    (false, k) => coincide_style(k, group),
                },
                y = n(y)
            ),
            Swatch::Guide(i) => format!(
                r#"<line x1="{}" y1="{y}" x2="{}" y2="{y}" {}/>"#,
                n(x + 2.0),
                n(x + SWATCH),
                guide_style(i),
                y = n(y)
            ),
            Swatch::Band => format!(
                r#"<rect x="{}" y="{}" width="{}" height="18" fill="{MUTED}" fill-opacity="0.3"/>"#,
                n(x),
                n(y - 9.0),
                n(SWATCH)
            ),
            Swatch::Mark(Unplottable::Zero) => format!(
                r#"<polygon points="{},{} {},{} {},{}" fill="{MUTED}"/>"#,
                n(mid - 8.0),
                n(y - 8.0),
                n(mid + 8.0),
                n(y - 8.0),
                n(mid),
                n(y + 8.0)
            ),
            Swatch::Mark(Unplottable::Unresolved) => format!(
                r#"<polygon points="{},{} {},{} {},{}" fill="none" stroke="{MUTED}" stroke-width="2.5"/>"#,
                n(mid - 8.0),
                n(y - 8.0),
                n(mid + 8.0),
                n(y - 8.0),
                n(mid),
                n(y + 8.0)
            ),
            Swatch::Mark(Unplottable::NonFinite) => format!(
                r#"<path d="M{l} {t} L{r} {b} M{l} {b} L{r} {t}" stroke="{MUTED}" stroke-width="3" stroke-linecap="round"/>"#,
                l = n(mid - 7.0),
                r = n(mid + 7.0),
                t = n(y - 7.0),
                b = n(y + 7.0)
            ),
        }
    }
}

/// One legend entry.
struct Entry {
    swatch: Swatch,
    text: String,
}

impl Entry {
    fn width(&self) -> f64 {
        SWATCH + 10.0 + text_width(&self.text, LEGEND) + 30.0
    }
}

/// The legend's entries: each series, the band, the guides, then the marks that occur.
fn entries(chart: &Chart, rank: &[(usize, usize)], present: [bool; 3]) -> Vec<Entry> {
    let mut out: Vec<Entry> = chart
        .series
        .iter()
        .zip(rank)
        .map(|(s, &rank)| Entry {
            swatch: Swatch::Line {
                color: s.color,
                dashed: s.kind == Kind::Theory,
                rank,
            },
            text: s.label.clone(),
        })
        .collect();
    if let Some(text) = &chart.band_label
        && chart.series.iter().any(|s| !s.band.is_empty())
    {
        out.push(Entry {
            swatch: Swatch::Band,
            text: text.clone(),
        });
    }
    for (i, g) in chart
        .guides
        .iter()
        .enumerate()
        .filter(|(_, g)| plottable(g.y))
    {
        out.push(Entry {
            swatch: Swatch::Guide(i),
            text: g.label.clone(),
        });
    }
    let kinds = [
        Unplottable::Zero,
        Unplottable::NonFinite,
        Unplottable::Unresolved,
    ];
    for (present, kind) in present.into_iter().zip(kinds) {
        if present {
            out.push(Entry {
                swatch: Swatch::Mark(kind),
                text: kind.legend().into(),
            });
        }
    }
    out
}

/// Entries in rows no wider than `width`, in order.
fn flow(entries: Vec<Entry>, width: f64) -> Vec<Vec<Entry>> {
    let mut rows: Vec<Vec<Entry>> = Vec::new();
    let mut used = f64::INFINITY;
    for e in entries {
        let w = e.width();
        if used + w > width {
            rows.push(Vec::new());
            used = 0.0;
        }
        used += w;
        rows.last_mut().expect("a row was pushed").push(e);
    }
    rows
}
