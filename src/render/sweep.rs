//! A width sweep's view (`demo width`): per parameterization, the final loss of every
//! learning rate at every width with the best marked, then each layer's first-step update
//! ratio ‖ΔW‖/‖W‖ per width at one η.

use crate::format::{num, rate, sci};
use crate::nn::mup::Parameterization;
use crate::report::{Report, Run, Sweep};
use crate::ui::Style;
use std::fmt::Write;

/// The sweep's tables, one pair per parameterization, in the order of the runs.
pub(crate) fn body(out: &mut String, report: &Report, style: &Style, width: usize) {
    for p in [Parameterization::Standard, Parameterization::Mup] {
        let runs: Vec<(&Run, &Sweep)> = report
            .runs
            .iter()
            .filter_map(|r| Some((r, r.sweep()?)))
            .filter(|(_, s)| s.param == p)
            .collect();
        let Some((first, s0)) = runs.first() else {
            continue;
        };
        let _ = writeln!(
            out,
            "\n{}",
            style.bold(&format!(
                "{} · {}",
                p.short(),
                shared(first, s0.base_width, p)
            ))
        );
        let _ = writeln!(
            out,
            "training loss after {} steps, per learning rate η and width (* best; \
             ✕ diverged)",
            s0.steps
        );
        let mut headers = vec!["η".to_string()];
        headers.extend(runs.iter().map(|(_, s)| s.width.to_string()));
        let mut rows: Vec<Vec<String>> = s0
            .lrs
            .iter()
            .enumerate()
            .map(|(i, &lr)| {
                let mut row = vec![rate(lr)];
                row.extend(runs.iter().map(|(_, s)| loss_cell(s, i)));
                row
            })
            .collect();
        let mut best = vec!["best η".to_string()];
        best.extend(
            runs.iter()
                .map(|(_, s)| s.best_lr().map_or("—".into(), rate)),
        );
        rows.push(best);
        super::text::render_table(out, &headers, &rows, width);
        let _ = writeln!(
            out,
            "‖ΔW‖/‖W‖ of the first step at η = {}, per layer and width",
            rate(s0.ratio_lr)
        );
        let layers = runs
            .iter()
            .map(|(_, s)| s.update_ratios.len())
            .max()
            .unwrap_or(0);
        let mut headers = vec!["layer".to_string()];
        headers.extend(runs.iter().map(|(_, s)| s.width.to_string()));
        let rows: Vec<Vec<String>> = (0..layers)
            .map(|l| {
                let name = match l {
                    0 => "1 input".to_string(),
                    _ if l + 1 == layers => format!("{} output", l + 1),
                    _ => format!("{} hidden", l + 1),
                };
                let mut row = vec![name];
                row.extend(runs.iter().map(|(_, s)| {
                    s.update_ratios
                        .get(l)
                        .map_or("·".into(), |&v| ratio_cell(v))
                }));
                row
            })
            .collect();
        super::text::render_table(out, &headers, &rows, width);
    }
}

/// What every run of a parameterization shares: activation, init, depth, precision, seed.
fn shared(run: &Run, base: usize, p: Parameterization) -> String {
    let c = &run.config;
    let base = match p {
        Parameterization::Mup => format!(" · base width {base}"),
        Parameterization::Standard => String::new(),
    };
    format!(
        "{} · {} · depth {} · batch {} · {} · seed {}{base}",
        c.spec.activation,
        c.spec.init,
        c.depth(),
        c.batch,
        c.precision,
        c.seed
    )
}

fn loss_cell(s: &Sweep, i: usize) -> String {
    match (s.final_losses.get(i).copied().flatten(), s.best == Some(i)) {
        (None, _) => "✕".into(),
        (Some(l), true) => format!("{}*", num(l)),
        (Some(l), false) => format!("{} ", num(l)),
    }
}

fn ratio_cell(v: f64) -> String {
    match v.is_finite() {
        true => sci(v),
        false => "✕".into(),
    }
}
