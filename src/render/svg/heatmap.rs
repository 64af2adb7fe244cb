//! `demo phase --plot`: the σ_w × σ_b heat map as SVG, in the charts' card style: a cell per
//! grid point coloured by the measured log₁₀ per-layer factor (blue: vanishing, vermillion:
//! exploding, white: 0) and mean-field theory's χ = 1 line drawn over it. Each half of
//! the scale reaches full colour at its own extreme (the map's most negative and most
//! positive factor), shown by a colour bar at the right, so that a mild exploding half is
//! not washed out by a strong vanishing one.

use super::draw::{FONT, GRID, MUTED, TEXT, WHITE, WIDTH};
use crate::render::escape as esc;
use crate::report::PhaseMap;
use std::fmt::Write;

const LEFT: f64 = 110.0;
const TOP: f64 = 110.0;
const PLOT_W: f64 = 900.0;
const PLOT_H: f64 = 520.0;

const BLUE: (f64, f64, f64) = (0.0, 114.0, 178.0);
const VERMILLION: (f64, f64, f64) = (213.0, 94.0, 0.0);
/// The colour bar: its left edge, beside the plot, and its width.
const BAR_X: f64 = LEFT + PLOT_W + 40.0;
const BAR_W: f64 = 32.0;

/// `rgb` between white and `to`, `t` ∈ [0, 1].
fn mix(to: (f64, f64, f64), t: f64) -> String {
    let c = |v: f64| (255.0 + (v - 255.0) * t.clamp(0.0, 1.0)).round() as u8;
    format!("#{:02x}{:02x}{:02x}", c(to.0), c(to.1), c(to.2))
}

/// The heat map as one SVG document; the same map gives the same bytes.
pub fn phase_svg(map: &PhaseMap, subtitle: &str) -> String {
    let (nw, nb) = (map.sigma_w.len(), map.sigma_b.len());
    let (cw, ch) = (PLOT_W / nw as f64, PLOT_H / nb as f64);
    let values = || map.cells.iter().filter_map(|c| c.log10_per_layer);
    // The scale's ends: full blue at the lowest factor, full vermillion at the highest.
    let low = values().fold(0.0f64, f64::min).min(-1e-9);
    let high = values().fold(0.0f64, f64::max).max(1e-9);
    let height = TOP + PLOT_H + 120.0;
    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" font-family="{FONT}">"#
    );
    let title = "demo phase: log₁₀ per-layer factor of ‖∂L/∂h‖, tanh";
    let _ = writeln!(s, "<title>{}</title>", esc(title));
    let _ = writeln!(
        s,
        r##"<rect x="0" y="0" width="{WIDTH}" height="{height}" rx="12" fill="{WHITE}"/>"##
    );
    let _ = writeln!(
        s,
        r##"<text class="title" x="24" y="48" font-size="30" font-weight="bold" fill="{TEXT}">{}</text>"##,
        esc(title)
    );
    let _ = writeln!(
        s,
        r##"<text x="24" y="78" font-size="19" fill="{MUTED}">{}</text>"##,
        esc(subtitle)
    );
    // Rows from σ_b = 0 at the bottom up.
    let y_of = |r: usize| TOP + PLOT_H - (r + 1) as f64 * ch;
    for (i, c) in map.cells.iter().enumerate() {
        let (r, col) = (i / nw, i % nw);
        let fill = match c.log10_per_layer {
            Some(v) if v < 0.0 => mix(BLUE, v / low),
            Some(v) => mix(VERMILLION, v / high),
            None => GRID.into(),
        };
        let value = c
            .log10_per_layer
            .map_or("not finite".into(), |v| format!("{v:.3}"));
        let _ = writeln!(
            s,
            r#"<rect class="cell" x="{:.1}" y="{:.1}" width="{:.1}" height="{:.1}" fill="{fill}"><title>σ_w {} σ_b {}: {value}</title></rect>"#,
            LEFT + col as f64 * cw,
            y_of(r),
            cw,
            ch,
            c.sigma_w,
            c.sigma_b
        );
    }
    // σ_w ↦ x, with each column's σ_w at its centre.
    let (w0, dw) = (map.sigma_w[0], map.sigma_w[1.min(nw - 1)] - map.sigma_w[0]);
    let x_of = |w: f64| LEFT + ((w - w0) / dw.max(1e-9) + 0.5) * cw;
    let points: Vec<String> = map
        .critical_sigma_w
        .iter()
        .enumerate()
        .filter_map(|(r, w)| Some(format!("{:.1},{:.1}", x_of((*w)?), y_of(r) + ch / 2.0)))
        .collect();
    let _ = writeln!(
        s,
        r##"<polyline class="theory" points="{}" fill="none" stroke="{TEXT}" stroke-width="4" stroke-dasharray="12 7"/>"##,
        points.join(" ")
    );
    for (col, w) in map.sigma_w.iter().enumerate().step_by(2) {
        let _ = writeln!(
            s,
            r##"<text class="x-tick" x="{:.1}" y="{:.1}" font-size="20" text-anchor="middle" fill="{TEXT}">{w}</text>"##,
            LEFT + (col as f64 + 0.5) * cw,
            TOP + PLOT_H + 28.0
        );
    }
    for (r, b) in map.sigma_b.iter().enumerate().step_by(2) {
        let _ = writeln!(
            s,
            r##"<text class="y-tick" x="{:.1}" y="{:.1}" font-size="20" text-anchor="end" fill="{TEXT}">{b:.2}</text>"##,
            LEFT - 10.0,
            y_of(r) + ch / 2.0 + 7.0
        );
    }
    let _ = writeln!(
        s,
        r##"<text x="{:.1}" y="{:.1}" font-size="22" text-anchor="middle" fill="{TEXT}">σ_w (weights ~ N(0, σ_w²/n_in))</text>"##,
        LEFT + PLOT_W / 2.0,
        TOP + PLOT_H + 62.0
    );
    let _ = writeln!(
        s,
        r##"<text x="30" y="{:.1}" font-size="22" fill="{TEXT}" transform="rotate(-90 30 {:.1})" text-anchor="middle">σ_b</text>"##,
        TOP + PLOT_H / 2.0,
        TOP + PLOT_H / 2.0
    );
    let _ = writeln!(
        s,
        r##"<text x="24" y="{:.1}" font-size="20" fill="{MUTED}">{}</text>"##,
        TOP + PLOT_H + 100.0,
        esc(&format!(
            "blue: vanishing (full at {low:.2}), vermillion: exploding (full at +{high:.2}) orders per layer; dashed: mean-field χ = 1"
        ))
    );
    colour_bar(&mut s, low, high);
    s.push_str("</svg>\n");
    s
}

/// The colour bar right of the plot: log₁₀ factor from `low` (bottom, full blue) through 0
/// (white) to `high` (top, full vermillion), linear in the factor, labelled at both ends and 0.
fn colour_bar(s: &mut String, low: f64, high: f64) {
    let y_of = |v: f64| TOP + PLOT_H * (high - v) / (high - low);
    let zero = (high / (high - low)).clamp(0.0, 1.0);
    let _ = writeln!(
        s,
        r##"<linearGradient id="phase-scale" x1="0" y1="0" x2="0" y2="1"><stop offset="0" stop-color="{}"/><stop offset="{zero:.4}" stop-color="{WHITE}"/><stop offset="1" stop-color="{}"/></linearGradient>"##,
        mix(VERMILLION, 1.0),
        mix(BLUE, 1.0)
    );
    let _ = writeln!(
        s,
        r##"<rect class="colorbar" x="{BAR_X}" y="{TOP}" width="{BAR_W}" height="{PLOT_H}" fill="url(#phase-scale)" stroke="{MUTED}" stroke-width="1.5"/>"##
    );
    for v in [high, 0.0, low] {
        let y = y_of(v);
        let label = match v {
            v if v > 0.0 => format!("+{v:.2}"),
            v if v < 0.0 => format!("−{:.2}", -v),
            _ => "0".into(),
        };
        let _ = writeln!(
            s,
            r##"<line x1="{BAR_X}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="{MUTED}" stroke-width="1.5"/><text class="colorbar-tick" x="{:.1}" y="{:.1}" font-size="20" fill="{TEXT}">{label}</text>"##,
            BAR_X + BAR_W + 8.0,
            BAR_X + BAR_W + 12.0,
            y + 7.0
        );
    }
    let _ = writeln!(
        s,
        r##"<text x="{:.1}" y="{:.1}" font-size="18" text-anchor="middle" fill="{MUTED}">orders/layer</text>"##,
        BAR_X + BAR_W / 2.0 + 30.0,
        TOP - 14.0
    );
}
