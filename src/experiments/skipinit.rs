//! A deep residual network without normalization: the residual branches scaled by 1, by
//! 1/√L, and by a learned α that starts at 0 (SkipInit, ReZero); then a short training run.

use super::describe::network;
use super::{Experiment, Planned, flow_verdict};
use crate::format::{figure, num, pretty, range};
use crate::nn::{Activation, Block, Init};
use crate::probe::{DEFAULT_MAX_MEMORY, ProbeConfig};
use crate::report::{Figure, Metric, Report, Run, Table, Term, Verdict};
use crate::settings::{Knob, Settings};
use crate::train::settings::TrainSettings;
use crate::train::{self, Variant};
use anyhow::Result;

pub(super) const EXPERIMENT: Experiment = Experiment {
    name: "skipinit",
    summary: "a 48-block residual ReLU network without norm: branches × 1, × 1/√L, × α from 0",
    describe,
    defaults: || Settings {
        depth: Some(48),
        activation: Some(Activation::Relu),
        init: Some(Init::HeNormal),
        ..Settings::default()
    },
    fixed: &[Knob::Bn, Knob::Residual, Knob::Norm, Knob::BranchScale],
    fixed_why: "it runs residual blocks without normalization at three branch scales",
    metrics: &[Metric::GradNorm, Metric::ActStd],
    plan,
    conclude,
    extend: Some(super::Extension {
        run: extend,
        work: training_work,
        figures: false,
    }),
    // The flow verdict's, for the runs without a learned α.
    prints: |run| match run.config.spec.block.learns_scale() {
        true => &[],
        false => super::flow_prints(run),
    },
};

/// Training steps of the short run.
const STEPS: usize = 300;

/// The three scales for a network of `depth` blocks: 1, 1/√L, 0 (learned).
fn scales(depth: usize) -> [(&'static str, f64); 3] {
    [
        ("α=1", 1.0),
        ("α=1/√L", 1.0 / (depth.max(1) as f64).sqrt()),
        ("α=0", 0.0),
    ]
}

fn describe(cfg: &ProbeConfig) -> String {
    let depth = cfg.depth();
    format!(
        "{} Every hidden layer is a residual block a_l = a_(l−1) + α·φ(a_(l−1) W_l + b_l) with \
         no normalization, run three times on identical weights: α = 1; α = 1/√L = {} for L \
         = {depth} blocks, so that L zero-mean branches together add about as much variance as one \
         branch (GPT-2-style scaling; branches whose outputs have a non-zero mean still add \
         that mean up, block after block); and α = 0 as a \
         learnable scalar per block (SkipInit, ReZero), so that every block starts as the \
         identity. Then the same three train for {STEPS} steps (`gradtutor train`, width 32, \
         its default data and optimizer).",
        network(cfg),
        figure(1.0 / (depth.max(1) as f64).sqrt()),
    )
}

fn plan(s: &Settings) -> Result<Vec<Planned>> {
    let mut base = s.probe_config()?;
    base.spec.residual = true;
    Ok(scales(base.depth())
        .into_iter()
        .map(|(label, x)| {
            let mut cfg = base.clone();
            cfg.spec.block = Block {
                branch_scale: Some(x),
                ..Block::default()
            };
            Planned::main(label, cfg)
        })
        .collect())
}

/// std of a_L, the last hidden layer's output.
fn last_std(run: &Run) -> f64 {
    let n = run.layers().len();
    run.layers()[n.saturating_sub(2)].figures.act_std
}

fn conclude(_: &Settings, report: &mut Report) {
    let lines: Vec<Verdict> = report
        .runs
        .iter()
        .map(|run| match run.config.spec.block.learns_scale() {
            true => alpha_zero_verdict(run),
            false => flow_verdict(run),
        })
        .collect();
    for v in lines {
        report.verdict(v);
    }
    let rows = report
        .runs
        .iter()
        .map(|r| {
            vec![
                r.label.clone(),
                figure(last_std(r)),
                num(r.loss),
                crate::format::orders(r.grad_orders()),
            ]
        })
        .collect();
    report.tables.push(Table::new(
        "At initialization",
        &["branch scale", "std(a_L)", "loss", "orders 1 vs last"],
        rows,
    ));
}

/// The three scales through `train`, after the probe's figures.
/// The short training run's multiply-adds, roughly: three networks of `depth` blocks at
/// `train`'s default width and batch, [`STEPS`] steps of a forward and backward pass each.
fn training_work(s: &Settings) -> f64 {
    let (width, batch) = (
        crate::train::settings::DEFAULT_WIDTH as f64,
        crate::train::settings::DEFAULT_BATCH as f64,
    );
    let depth = s.depth.unwrap_or(0) as f64;
    3.0 * STEPS as f64 * 3.0 * batch * depth * (width * width + width)
}

fn extend(s: &Settings, report: &mut Report) {
    if let Some(first) = report.runs.first() {
        training(s, first.config.clone(), report);
    }
}

/// At α = 0 the branch weights get no gradient; the α's do.
fn alpha_zero_verdict(run: &Run) -> Verdict {
    let hidden = &run.layers()[..run.layers().len() - 1];
    let zero = hidden.iter().all(|l| l.figures.grad_norm == 0.0);
    let g: Vec<f64> = hidden
        .iter()
        .filter_map(|l| l.figures.branch_grad.map(f64::abs))
        .collect();
    let lo = g.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = g.iter().copied().fold(0.0, f64::max);
    let (weights, premises) = match zero {
        true => (
            "every block is the identity, so ∂L/∂W_l is exactly 0 in every hidden layer",
            vec![Term::of(Figure::ZeroLayers, run).at_least(hidden.len() as f64)],
        ),
        false => ("every block starts as the identity", Vec::new()),
    };
    let text = format!(
        "{}: {weights}, while |∂L/∂α_l| ranges over {} across the blocks: the first update \
         moves only the α's and the output layer, and from then on the branch weights learn \
         too.",
        run.label,
        range(lo, hi)
    );
    Verdict::new(text, premises)
}

/// The three scales through `train`: loss, accuracy, and where the learned α's went.
fn training(s: &Settings, cfg: ProbeConfig, report: &mut Report) {
    let depth = cfg.depth();
    let variants: Vec<Variant> = scales(depth)
        .iter()
        .map(|&(_, x)| Variant {
            activation: cfg.spec.activation,
            init: cfg.spec.init,
            batch_norm: false,
            residual: true,
            block: Block {
                branch_scale: Some(x),
                ..Block::default()
            },
            optimizer: None,
        })
        .collect();
    let settings = TrainSettings {
        depth: Some(depth),
        steps: Some(STEPS),
        seed: s.seed,
        precision: s.precision,
        ..TrainSettings::default()
    };
    let result = settings
        .config()
        .map(|mut c| {
            c.variants = variants;
            c
        })
        .and_then(|c| train::train(&c, DEFAULT_MAX_MEMORY, &|_| {}));
    let report_ = match result {
        Ok(r) => r,
        Err(e) => {
            report
                .notes
                .push(format!("The training run was not made: {e}"));
            return;
        }
    };
    let labels = scales(depth);
    let rows = report_
        .runs
        .iter()
        .zip(labels)
        .map(|(h, (label, _))| {
            let (step, train, test) = h.last();
            let alpha = h
                .checkpoints
                .last()
                .filter(|c| !c.branch_scales.is_empty())
                .map(|c| {
                    let lo = c
                        .branch_scales
                        .iter()
                        .copied()
                        .fold(f64::INFINITY, f64::min);
                    let hi = c
                        .branch_scales
                        .iter()
                        .copied()
                        .fold(f64::NEG_INFINITY, f64::max);
                    format!("{}…{}", pretty(lo), pretty(hi))
                })
                .unwrap_or_else(|| "fixed".into());
            // A diverged run stops there: no loss or accuracy after it, and its step is the
            // step that diverged.
            let (end, acc, at) = match h.diverged {
                Some(d) => ("diverged".to_string(), "—".to_string(), d.step),
                None => (
                    num(train.loss),
                    format!("{}%", figure(100.0 * test.accuracy)),
                    step,
                ),
            };
            vec![
                label.to_string(),
                num(h.initial.train.loss),
                end,
                acc,
                at.to_string(),
                alpha,
            ]
        })
        .collect();
    let c = &report_.config;
    report.tables.push(
        Table::new(
            &format!(
                "Training: {} steps of {} (lr {}), width {}, batch {}, {} data",
                c.steps, c.optimizer, c.lr, c.width, c.batch, c.data.kind
            ),
            &[
                "branch scale",
                "loss at 0",
                "train loss",
                "test acc",
                "step",
                "α after",
            ],
            rows,
        )
        .with_legend(
            "loss at 0: training-set loss before the first step; train loss and test acc at \
             the last checkpoint (step), or the step at which a value overflowed (diverged: no \
             loss or accuracy after it); α after: smallest…largest learned α over the blocks.",
        ),
    );
}
