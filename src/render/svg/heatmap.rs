//! `demo phase --plot`: the σ_w × σ_b heat map as SVG, in the charts' card style: a cell per
//! grid point coloured by the measured log₁₀ per-layer factor (blue: vanishing, vermillion:
//! exploding, white: 0) and mean-field theory's χ = 1 line drawn over it.

use super::draw::{FONT, GRID, MUTED, TEXT, WHITE, WIDTH};
use crate::render::escape as esc;
use crate::report::PhaseMap;
use std::fmt::Write;

const LEFT: f64 = 110.0;
const TOP: f64 = 110.0;
const PLOT_W: f64 = 900.0;
const PLOT_H: f64 = 520.0;

/// `rgb` between white and `to`, `t` ∈ [0, 1].
fn mix(to: (f64, f64, f64), t: f64) -> String {
    let c = |v: f64| (255.0 + (v - 255.0) * t.clamp(0.0, 1.0)).round() as u8;
    format!("#{:02x}{:02x}{:02x}", c(to.0), c(to.1), c(to.2))
}

/// The heat map as one SVG document; the same map gives the same bytes.
pub fn phase_svg(map: &PhaseMap, subtitle: &str) -> String {
    let (nw, nb) = (map.sigma_w.len(), map.sigma_b.len());
    let (cw, ch) = (PLOT_W / nw as f64, PLOT_H / nb as f64);
    let top = map
        .cells
        .iter()
        .filter_map(|c| c.log10_per_layer)
        .fold(0.0f64, |m, v| m.max(v.abs()))
        .max(1e-9);
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
        r##"<text x="24" y="48" font-size="30" fill="{TEXT}">{}</text>"##,
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
            Some(v) if v < 0.0 => mix((0.0, 114.0, 178.0), -v / top),
            Some(v) => mix((213.0, 94.0, 0.0), v / top),
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
            "blue: vanishing, vermillion: exploding (full colour at ±{top:.2} orders per layer); dashed: mean-field χ = 1"
        ))
    );
    s.push_str("</svg>\n");
    s
}
