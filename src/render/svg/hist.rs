//! `--hist --plot`: each layer's distributions as lines, the way makemore part 3 plots them:
//! per run, one card per quantity (pre-activations, activations, ∂L/∂h), one line per hidden
//! layer, coloured by depth (orange for layer 1 to dark violet for the last). x is the
//! value, on an axis shared by the card's layers (±the largest |x| of any), so a layer
//! whose signal vanished is a spike at 0; y is the share of the layer's entries in each bin (each
//! line's bins add up to 100 %). The activations' card shades φ's saturated region (tanh:
//! |φ| > 0.97; sigmoid: φ outside [0.03, 0.97]) and lists each layer's saturated share.

use super::axis::linear_ticks;
use super::draw::{FONT, GRID, MUTED, TEXT, WHITE, WIDTH};
use crate::format::sci;
use crate::probe::hist::{Histogram, Quantity, Saturation};
use crate::render::escape as esc;
use crate::report::RunHist;
use std::fmt::Write;

const LEFT: f64 = 110.0;
const PLOT_W: f64 = 1040.0;
const PLOT_H: f64 = 360.0;
/// A card's height above and below its plot: title, subtitle; ticks, axis name, shares.
const HEAD: f64 = 100.0;
const FOOT: f64 = 80.0;
const SHARES_PER_LINE: usize = 8;
const GAP: f64 = 24.0;

/// Layer `i` of `n`'s colour: from Okabe–Ito's orange (#E69F00, layer 1) to a dark violet
/// (#3B0F70, the last layer), in even steps.
pub(crate) fn depth_color(i: usize, n: usize) -> String {
    let t = if n > 1 {
        i as f64 / (n - 1) as f64
    } else {
        0.0
    };
    let mix = |a: f64, b: f64| (a + (b - a) * t).round() as u8;
    format!(
        "#{:02x}{:02x}{:02x}",
        mix(230.0, 59.0),
        mix(159.0, 15.0),
        mix(0.0, 112.0)
    )
}

/// A line's points: (bin centre, share of the layer's entries in the bin).
fn points(h: &Histogram) -> Vec<(f64, f64)> {
    let total = h.total().max(1) as f64;
    h.counts
        .iter()
        .enumerate()
        .map(|(i, &c)| ((h.edges[i] + h.edges[i + 1]) / 2.0, c as f64 / total))
        .collect()
}

/// The whole document: per run, a card per quantity, stacked; the same runs give the same
/// bytes.
pub fn hist_svg(runs: &[RunHist]) -> String {
    let mut body = String::new();
    let mut top = 0.0;
    let mut titles = Vec::new();
    for run in runs {
        for q in Quantity::ALL {
            let title = format!("{} · {}", run.label, q.title());
            top = card(&mut body, run, q, &title, top) + GAP;
            titles.push(title);
        }
    }
    let height = (top - GAP).max(GAP);
    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" font-family="{FONT}">"#
    );
    let _ = writeln!(s, "<title>{}</title>", esc(&titles.join(" · ")));
    s.push_str(&body);
    s.push_str("</svg>\n");
    s
}

/// One card at `top`; returns its bottom.
fn card(s: &mut String, run: &RunHist, q: Quantity, title: &str, top: f64) -> f64 {
    let n = run.layers.len();
    let reach = run
        .layers
        .iter()
        .map(|l| q.of(l).max_abs())
        .fold(0.0f64, f64::max);
    let reach = if reach > 0.0 { reach } else { 1.0 };
    let lines: Vec<Vec<(f64, f64)>> = run.layers.iter().map(|l| points(q.of(l))).collect();
    let ymax = lines
        .iter()
        .flatten()
        .map(|p| p.1)
        .fold(0.0f64, f64::max)
        .max(1e-3);
    let shares = match q {
        Quantity::Activation => n.div_ceil(SHARES_PER_LINE).max(1),
        Quantity::PreActivation | Quantity::Gradient => 0,
    };
    let bottom = top + HEAD + PLOT_H + FOOT + 26.0 * shares as f64;
    let plot_top = top + HEAD;
    let x_of = |x: f64| LEFT + (x + reach) / (2.0 * reach) * PLOT_W;
    let y_of = |y: f64| plot_top + PLOT_H - y / ymax * PLOT_H;
    let _ = writeln!(
        s,
        r##"<rect class="card" x="0" y="{top:.1}" width="{WIDTH}" height="{:.1}" rx="12" fill="{WHITE}"/>"##,
        bottom - top
    );
    let _ = writeln!(
        s,
        r##"<text x="24" y="{:.1}" font-size="30" fill="{TEXT}">{}</text>"##,
        top + 44.0,
        esc(title)
    );
    let subtitle = format!(
        "seed {} · {} hidden layers · {} bins per layer from its smallest to its largest value",
        run.seed,
        n,
        run.layers.first().map_or(0, |l| q.of(l).counts.len())
    );
    let _ = writeln!(
        s,
        r##"<text x="24" y="{:.1}" font-size="19" fill="{MUTED}">{}</text>"##,
        top + 74.0,
        esc(&subtitle)
    );
    // The saturated region, shaded behind the lines.
    if q == Quantity::Activation {
        for &(a, b) in Saturation::of(run.activation).regions() {
            let (a, b) = (a.max(-reach), b.min(reach));
            if b > a {
                let _ = writeln!(
                    s,
                    r##"<rect class="saturated" x="{:.1}" y="{plot_top:.1}" width="{:.1}" height="{PLOT_H:.1}" fill="{GRID}" fill-opacity="0.45"/>"##,
                    x_of(a),
                    x_of(b) - x_of(a)
                );
            }
        }
    }
    let y_ticks = linear_ticks(0.0, 100.0 * ymax, 6, 0.1);
    for t in &y_ticks.ticks {
        let y = y_of(t.at / 100.0);
        if !(plot_top - 0.5..=plot_top + PLOT_H + 0.5).contains(&y) {
            continue;
        }
        let _ = writeln!(
            s,
            r##"<line x1="{LEFT}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="{GRID}" stroke-width="1"/>"##,
            LEFT + PLOT_W
        );
        if let Some(label) = &t.label {
            let _ = writeln!(
                s,
                r##"<text class="y-tick" x="{:.1}" y="{:.1}" font-size="20" text-anchor="end" fill="{TEXT}">{}%</text>"##,
                LEFT - 10.0,
                y + 7.0,
                esc(label)
            );
        }
    }
    for k in [-1.0, -0.5, 0.0, 0.5, 1.0] {
        let x = x_of(k * reach);
        let label = match k {
            0.0 => "0".to_string(),
            _ => sci(k * reach).replace('-', "−"),
        };
        let _ = writeln!(
            s,
            r##"<line x1="{x:.1}" y1="{plot_top:.1}" x2="{x:.1}" y2="{:.1}" stroke="{GRID}" stroke-width="1"/>"##,
            plot_top + PLOT_H
        );
        let _ = writeln!(
            s,
            r##"<text class="x-tick" x="{x:.1}" y="{:.1}" font-size="20" text-anchor="middle" fill="{TEXT}">{label}</text>"##,
            plot_top + PLOT_H + 28.0
        );
    }
    for (i, (l, pts)) in run.layers.iter().zip(&lines).enumerate() {
        let path: Vec<String> = pts
            .iter()
            .map(|&(x, y)| format!("{:.1},{:.1}", x_of(x), y_of(y)))
            .collect();
        let _ = writeln!(
            s,
            r#"<polyline class="layer" data-layer="{}" points="{}" fill="none" stroke="{}" stroke-width="3" stroke-linejoin="round"><title>layer {}</title></polyline>"#,
            l.layer,
            path.join(" "),
            depth_color(i, n),
            l.layer
        );
    }
    let _ = writeln!(
        s,
        r##"<rect x="{LEFT}" y="{plot_top:.1}" width="{PLOT_W}" height="{PLOT_H}" fill="none" stroke="{TEXT}" stroke-width="1.5"/>"##
    );
    // The depth key: layer 1's colour to the last's.
    let key_y = plot_top + PLOT_H + 62.0;
    let _ = writeln!(
        s,
        r##"<text x="24" y="{key_y:.1}" font-size="20" fill="{TEXT}">share of the layer's entries per bin · colour by depth:</text>"##
    );
    let swatches = n.min(20);
    for k in 0..swatches {
        let i = if swatches > 1 {
            k * (n - 1) / (swatches - 1)
        } else {
            0
        };
        let _ = writeln!(
            s,
            r##"<rect x="{:.1}" y="{:.1}" width="14" height="14" fill="{}"/>"##,
            640.0 + 16.0 * k as f64,
            key_y - 14.0,
            depth_color(i, n)
        );
    }
    let _ = writeln!(
        s,
        r##"<text x="{:.1}" y="{key_y:.1}" font-size="20" fill="{MUTED}">layer 1 → {n}</text>"##,
        650.0 + 16.0 * swatches as f64
    );
    if q == Quantity::Activation {
        let all: Vec<String> = run
            .layers
            .iter()
            .map(|l| format!("{}: {:.1}%", l.layer, 100.0 * l.saturated))
            .collect();
        for (j, chunk) in all.chunks(SHARES_PER_LINE).enumerate() {
            let head = if j == 0 {
                format!("{} · by layer ", run.saturated_rule)
            } else {
                String::new()
            };
            let _ = writeln!(
                s,
                r##"<text class="saturated-share" x="24" y="{:.1}" font-size="19" fill="{MUTED}">{}{}</text>"##,
                key_y + 28.0 + 26.0 * j as f64,
                esc(&head),
                esc(&chunk.join(" · "))
            );
        }
    }
    bottom
}
