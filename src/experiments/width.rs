//! Width scaling: the same short learning-rate sweep at several widths, under the standard
//! parameterization (SP: the initializer's variance ∝ 1/fan_in, one η for every tensor) and
//! under µP for SGD (Tensor Programs V's Table 8, [`crate::nn::mup`]). Under SP the best η
//! moves as the network widens; under µP it stays about where it was at the base width.
//! Each cell is a `train` run ([`crate::train`]'s one training step, its SGD): plain ReLU
//! MLPs on the spiral data, every width and η on the same data, batches and seed.

use super::{Experiment, Extension, Planned};
use crate::data::{Dataset, Task};
use crate::format::{figure, rate};
use crate::nn::mup::{Parameterization, Rules};
use crate::nn::{Activation, Init, Real};
use crate::probe::{DEFAULT_MAX_MEMORY, Precision, ProbeConfig};
use crate::report::{Body, Figure, Report, Run, Sweep, Term, TheoryLine, Verdict};
use crate::settings::{Knob, Settings, Widths};
use crate::train::live::{Measure, Outcome, Trainer};
use crate::train::settings::TrainSettings;
use crate::train::{OptimizerName, TrainConfig, Variant};
use anyhow::{Result, bail};
use rayon::prelude::*;

pub(super) const EXPERIMENT: Experiment = Experiment {
    name: "width",
    summary: "a learning-rate sweep at widths 32, 128 and 512: the best η moves under standard \
              parameterization and stays put under µP",
    describe,
    defaults: || Settings {
        depth: Some(2),
        batch: Some(16),
        activation: Some(Activation::Relu),
        init: Some(Init::HeNormal),
        widths: Some(default_widths()),
        ..Settings::default()
    },
    fixed: &[
        Knob::Width,
        Knob::Classes,
        Knob::Bn,
        Knob::Residual,
        Knob::Norm,
        Knob::BranchScale,
        Knob::ClipNorm,
        Knob::LossScale,
        Knob::BiasStd,
    ],
    fixed_why: "it trains plain networks at every width of --widths on the blob data",
    metrics: &[],
    plan,
    conclude: |_, _| {},
    extend: Some(Extension {
        run: sweep,
        work,
        figures: true,
    }),
    prints: |_| {
        &[
            Figure::BestLr,
            Figure::BestLoss,
            Figure::StepRatioInput,
            Figure::StepRatioOutput,
        ]
    },
};

/// µP's base width n₀: at this width µP is SP, network and steps alike.
pub(crate) const BASE_WIDTH: usize = 32;
/// SGD steps per run.
pub(crate) const STEPS: usize = 40;
/// Examples of the blob data in all (a quarter held out, as `train` does).
const SAMPLES: usize = 400;
/// The learning rates tried: η = 2^k for k in this range.
const LOG2_LRS: std::ops::RangeInclusive<i32> = -7..=1;
/// Widths above this are refused (a sweep trains every η at every width).
const MAX_WIDTH: usize = 2048;
/// Hidden layers above this are refused.
const MAX_DEPTH: usize = 8;

fn default_widths() -> Widths {
    "32,128,512".parse().expect("a valid list")
}

/// The learning rates of the sweep, smallest first.
pub(crate) fn lrs() -> Vec<f64> {
    LOG2_LRS.map(|k| libm::exp2(f64::from(k))).collect()
}

fn describe(cfg: &ProbeConfig) -> String {
    let lrs = lrs();
    format!(
        "{} MLPs ({} init, {} hidden layers, {}) learn `train`'s 4-blob data ({SAMPLES} \
         examples, a quarter held out) with plain SGD for {STEPS} steps of batch {}, once for \
         each learning rate η = {} … {} (factors of 2) at each width, every run on the same \
         data, batches and seed. Standard \
         parameterization (SP) keeps the initializer's variance ∝ 1/fan_in and one η for every \
         tensor. µP (Yang & Hu 2021; Tensor Programs V, Table 8, for SGD), with m = width/{}: \
         the output kernel starts √m times larger and the output layer reads a/m; the input \
         kernel, the hidden biases and the output kernel learn with m·η; hidden kernels and the \
         output bias with η. At width {BASE_WIDTH} the two are the same run. The loss is the \
         whole training set's after the last step; ‖ΔW‖/‖W‖ is each layer's first step, at \
         one η for every width.",
        cfg.spec.activation,
        cfg.spec.init.prose(),
        cfg.depth(),
        cfg.precision,
        cfg.batch,
        rate(lrs[0]),
        rate(lrs[lrs.len() - 1]),
        BASE_WIDTH,
    )
}

/// The training comparison of one cell: `width` units, learning rate `lr`.
fn config(s: &Settings, width: usize, lr: f64) -> Result<TrainConfig> {
    let activation = s.activation.unwrap_or(Activation::Relu);
    let init = s
        .init
        .unwrap_or(Init::HeNormal)
        .with_scale(s.std)
        .map_err(anyhow::Error::msg)?;
    let mut c = TrainSettings {
        samples: Some(SAMPLES),
        dataset: Some(Task::Blobs),
        depth: s.depth,
        width: Some(width),
        batch: s.batch,
        steps: Some(STEPS),
        lr: Some(lr),
        optimizer: Some(OptimizerName::Sgd),
        precision: s.precision,
        seed: s.seed,
        ..TrainSettings::default()
    }
    .config()?;
    c.variants = vec![Variant {
        activation,
        init,
        batch_norm: false,
        residual: false,
        block: Default::default(),
        optimizer: None,
    }];
    Ok(c)
}

fn widths(s: &Settings) -> Vec<usize> {
    s.widths.unwrap_or_else(default_widths).list().to_vec()
}

fn params(s: &Settings) -> Vec<Parameterization> {
    s.param.map_or_else(
        || vec![Parameterization::Standard, Parameterization::Mup],
        |p| p.list(),
    )
}

/// A run's label: `standard 128`, `mup 512`.
fn label(p: Parameterization, width: usize) -> String {
    format!("{p} {width}")
}

/// Names and checks the runs the sweep will train (the sweep is the extension).
fn plan(s: &Settings) -> Result<Vec<Planned>> {
    let depth = s.depth.unwrap_or(2);
    if depth == 0 || depth > MAX_DEPTH {
        bail!("--depth must be between 1 and {MAX_DEPTH} for demo width (got {depth})");
    }
    if let Some(k) = s.seeds.filter(|&k| k != 1) {
        bail!("demo width trains one seed (choose it with --seed); drop --seeds {k}");
    }
    let ws = widths(s);
    if let Some(&w) = ws.iter().find(|&&w| w > MAX_WIDTH) {
        bail!("--widths: each width must be at most {MAX_WIDTH} (got {w})");
    }
    let mut runs = Vec::new();
    for p in params(s) {
        for &w in &ws {
            let c = config(s, w, 1.0)?;
            c.check(DEFAULT_MAX_MEMORY)?;
            runs.push(Planned::trained(
                label(p, w),
                c.probe_config(&c.variants[0]),
            ));
        }
    }
    Ok(runs)
}

/// The sweep's multiply-adds, roughly: every cell's steps and its pass over the training
/// set at the end, as [`TrainConfig::seconds`] counts them.
fn work(s: &Settings) -> f64 {
    let cells = (params(s).len() * lrs().len()) as f64;
    widths(s)
        .iter()
        .filter_map(|&w| config(s, w, 1.0).ok())
        .map(|c| {
            let v = &c.variants[0];
            let pc = c.probe_config(v);
            let per_example = pc.work() / pc.batch.max(1) as f64;
            let train = (c.data.samples - c.data.test_count()) as f64;
            per_example * (c.steps as f64 * c.batch as f64 + train / 3.0)
        })
        .sum::<f64>()
        * cells
}

/// One trained cell.
struct Cell {
    /// ‖∂L/∂θ‖ of the first step, before it.
    global: f64,
    last: Option<f64>,
    diverged: Option<usize>,
    ratios: Vec<f64>,
}

/// Trains one cell: the network of `cfg` under `p`'s rules, [`STEPS`] SGD steps.
fn train_cell<F: Real>(cfg: &TrainConfig, data: &Dataset<F>, p: Parameterization) -> Cell {
    let v = &cfg.variants[0];
    let Ok(mut t) = Trainer::<F>::new(cfg, v, data.y_train.len()) else {
        // `plan` built this network already: it cannot fail here.
        return Cell {
            global: f64::NAN,
            last: None,
            diverged: Some(0),
            ratios: Vec::new(),
        };
    };
    Rules::of(p, cfg.depth, cfg.width, BASE_WIDTH).apply(&mut t.net, &mut t.opt);
    let mut ratios = Vec::new();
    let mut global = f64::NAN;
    let mut diverged = None;
    for step in 1..=cfg.steps {
        let m = Measure {
            checkpoint: step == 1,
            ..Measure::default()
        };
        let r = t.step(data, m);
        if step == 1 {
            ratios = r.update_ratios;
            global = r.global;
        }
        if let Outcome::Diverged(d) = r.outcome {
            diverged = Some(d.step);
            break;
        }
    }
    let last = match diverged {
        Some(_) => None,
        None => Some(t.evaluate(&data.x_train, &data.y_train).loss).filter(|l| l.is_finite()),
    };
    Cell {
        global,
        last,
        diverged: diverged.or(last.is_none().then_some(cfg.steps)),
        ratios,
    }
}

/// Every cell of the sweep, in order (parameterization, width, η), on rayon's pool: each
/// cell computes the same bits on any thread.
fn cells<F: Real>(s: &Settings, grid: &[(Parameterization, usize, f64)]) -> Result<Vec<Cell>> {
    let first = config(s, BASE_WIDTH, 1.0)?;
    let data = Dataset::<F>::generate(first.data)?;
    grid.par_iter()
        .with_max_len(1)
        .map(|&(p, w, lr)| Ok(train_cell(&config(s, w, lr)?, &data, p)))
        .collect()
}

/// The sweep: its runs (one per parameterization and width), verdicts and notes.
fn sweep(s: &Settings, report: &mut Report) {
    let (ps, ws, etas) = (params(s), widths(s), lrs());
    let grid: Vec<(Parameterization, usize, f64)> = ps
        .iter()
        .flat_map(|&p| {
            ws.iter()
                .flat_map(move |&w| lrs().into_iter().map(move |lr| (p, w, lr)))
        })
        .collect();
    let done = match s.precision.unwrap_or_default() {
        Precision::F64 => cells::<f64>(s, &grid),
        Precision::F32 | Precision::F16 | Precision::Bf16 => cells::<f32>(s, &grid),
    };
    let done = match done {
        Ok(d) => d,
        Err(e) => {
            report.notes.push(format!("The sweep was not made: {e}"));
            return;
        }
    };
    let mut chunks = done.chunks(etas.len());
    for &p in &ps {
        let rows: Vec<&[Cell]> = ws.iter().filter_map(|_| chunks.next()).collect();
        let best = |cells: &[Cell]| best_of(cells.iter().map(|c| c.last));
        // One η for every width's update ratios: the best at the smallest width.
        let reference = rows.first().and_then(|c| best(c)).unwrap_or(0);
        for (&w, cells) in ws.iter().zip(&rows) {
            let Ok(cfg) = config(s, w, etas[reference]) else {
                continue;
            };
            let sweep = Sweep {
                param: p,
                width: w,
                base_width: BASE_WIDTH,
                steps: cfg.steps,
                lrs: etas.clone(),
                final_losses: cells.iter().map(|c| c.last).collect(),
                diverged_at: cells.iter().map(|c| c.diverged).collect(),
                best: best(cells),
                ratio_lr: etas[reference],
                update_ratios: cells[reference].ratios.clone(),
            };
            report.runs.push(Run {
                label: label(p, w),
                config: cfg.probe_config(&cfg.variants[0]),
                seeds: vec![cfg.seed],
                loss: sweep.best_loss().unwrap_or(f64::NAN),
                global_grad_norm: cells[reference].global,
                first_nonfinite_layer: None,
                nonfinite: None,
                theory: TheoryLine::NotApplicable {
                    not_applicable: "a training sweep, not a probe at initialization".into(),
                },
                body: Body::Sweep(sweep),
                loss_scale_used: None,
            });
        }
    }
    conclude(report);
}

/// The index of the lowest finite loss (the first on a tie), if any.
fn best_of(losses: impl Iterator<Item = Option<f64>>) -> Option<usize> {
    let mut best: Option<(usize, f64)> = None;
    for (i, l) in losses.enumerate() {
        if let Some(l) = l
            && best.is_none_or(|(_, b)| l < b)
        {
            best = Some((i, l));
        }
    }
    best.map(|(i, _)| i)
}

/// One verdict per parameterization: where the best η went from the smallest width to the
/// largest; then what µP promises.
fn conclude(report: &mut Report) {
    let mut lines = Vec::new();
    for p in [Parameterization::Standard, Parameterization::Mup] {
        let runs: Vec<&Run> = report
            .runs
            .iter()
            .filter(|r| r.sweep().is_some_and(|w| w.param == p))
            .collect();
        let (Some(first), Some(last)) = (runs.first(), runs.last()) else {
            continue;
        };
        if runs.len() < 2 {
            continue;
        }
        let (Some(a), Some(b)) = (
            first.sweep().and_then(Sweep::best_lr),
            last.sweep().and_then(Sweep::best_lr),
        ) else {
            continue;
        };
        let (wa, wb) = (width_of(first), width_of(last));
        let (ta, tb) = (
            Term::of(Figure::BestLr, first),
            Term::of(Figure::BestLr, last),
        );
        let grew = wb / wa.max(1);
        let v = if a == b {
            Verdict::new(
                format!(
                    "{}: the best η is {} at width {wa} and at width {wb}: it stays put while \
                     the width grows {grew} times.",
                    p.short(),
                    rate(a),
                ),
                vec![ta.within(tb, 0.0)],
            )
        } else {
            let factor = b / a;
            let (moved, by) = match factor < 1.0 {
                true => ("falls", format!("{} times smaller", figure(1.0 / factor))),
                false => ("rises", format!("{} times larger", figure(factor))),
            };
            let within = factor.max(1.0 / factor) <= 2.0;
            Verdict::new(
                format!(
                    "{}: the best η {moved} from {} at width {wa} to {} at width {wb}, {by} \
                     while the width grows {grew} times{}",
                    p.short(),
                    rate(a),
                    rate(b),
                    if within {
                        ": one step of the grid, about where it was."
                    } else {
                        "."
                    }
                ),
                vec![match (factor < 1.0, within) {
                    (_, true) => tb.within_factor(ta, 2.0),
                    (true, false) => tb.lt(ta),
                    (false, false) => tb.gt(ta),
                }],
            )
        };
        lines.push(v);
    }
    for v in lines {
        report.verdict(v);
    }
    report.notes.push(
        "µP promises that the best learning rate (and the other hyperparameters it covers) \
         transfers across width: tune a narrow network, then widen it without tuning again. \
         It does not promise a lower loss at any one width, and it says nothing about depth."
            .into(),
    );
}

fn width_of(run: &Run) -> usize {
    run.sweep().map_or(0, |w| w.width)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f64_settings() -> Settings {
        (EXPERIMENT.defaults)().overlay(&Settings {
            precision: Some(Precision::F64),
            ..Settings::default()
        })
    }

    /// One cell in f64: `p` at `width`, learning rate `lr`.
    fn cell(p: Parameterization, width: usize, lr: f64) -> Cell {
        let s = f64_settings();
        let c = config(&s, width, lr).unwrap();
        let data = Dataset::<f64>::generate(c.data.clone()).unwrap();
        train_cell(&c, &data, p)
    }

    fn close(a: &[f64], b: &[f64], rel: f64) -> bool {
        a.len() == b.len() && a.iter().zip(b).all(|(x, y)| (x - y).abs() <= rel * y.abs())
    }

    /// The first step's ‖ΔW_l‖/‖W_l‖ (input, hidden, output) at η = 0.5, pinned at widths 32
    /// and 128 for both parameterizations (f64). At 32 the two are one network. From 32 to
    /// 128 (m = 4) SP's output ratio grows about √4 = 2 times and its input ratio falls about
    /// 2 times; µP holds the input and output ratios and its hidden kernel's Frobenius ratio
    /// falls about 2 times (its update is low-rank, its spectral ratio is what stays).
    /// A wrong entry of the table (a missing m on the input LR, the output multiplier, the
    /// √m on the output init) moves a pinned ratio by a factor 2 to 4.
    #[test]
    fn the_first_step_is_pinned_at_two_widths() {
        let sp32 = cell(Parameterization::Standard, 32, 0.5).ratios;
        let mup32 = cell(Parameterization::Mup, 32, 0.5).ratios;
        let sp128 = cell(Parameterization::Standard, 128, 0.5).ratios;
        let mup128 = cell(Parameterization::Mup, 128, 0.5).ratios;
        assert_eq!(sp32, mup32, "at the base width µP is SP");
        assert!(close(&sp32, &PINNED_32, 1e-9), "{sp32:?}");
        assert!(close(&sp128, &PINNED_SP_128, 1e-9), "{sp128:?}");
        assert!(close(&mup128, &PINNED_MUP_128, 1e-9), "{mup128:?}");
        let grew = |a: &[f64], b: &[f64], l: usize| b[l] / a[l];
        assert!(
            (1.5..3.0).contains(&grew(&sp32, &sp128, 2)),
            "SP output ×√m"
        );
        assert!(
            (0.3..0.7).contains(&grew(&sp32, &sp128, 0)),
            "SP input ×1/√m"
        );
        assert!(
            (0.7..1.4).contains(&grew(&mup32, &mup128, 2)),
            "µP output held"
        );
        assert!(
            (0.6..1.4).contains(&grew(&mup32, &mup128, 0)),
            "µP input held"
        );
        assert!(
            (0.3..0.7).contains(&grew(&mup32, &mup128, 1)),
            "µP hidden ×1/√m"
        );
    }

    const PINNED_32: [f64; 3] = [
        0.089_385_452_568_568,
        0.369_217_174_449_146,
        0.733_950_323_560_216,
    ];
    const PINNED_SP_128: [f64; 3] = [
        0.037_830_721_942_413,
        0.333_057_808_207_685,
        1.600_853_642_942_66,
    ];
    const PINNED_MUP_128: [f64; 3] = [
        0.069_066_051_272_389,
        0.152_477_504_750_078,
        0.714_812_315_484_710,
    ];

    /// Table 8 (output multiplier 1/m, output init ×√m, output LR ×m) and Table 3 (no
    /// multiplier: output init ×1/√m, output LR ×1/m) of Tensor Programs V are one
    /// parameterization for SGD: 40 steps of each at width 128 end at the same loss (f64,
    /// to 1e−9). Implemented here independently of [`Rules::apply`], so a wrong multiplier's
    /// backward rule or a wrong learning-rate factor shows as a different loss.
    #[test]
    fn tables_3_and_8_train_alike() {
        let s = f64_settings();
        let (width, lr) = (128, 0.25);
        let c = config(&s, width, lr).unwrap();
        let data = Dataset::<f64>::generate(c.data.clone()).unwrap();
        let run = |table8: bool| {
            let v = &c.variants[0];
            let mut t = Trainer::<f64>::new(&c, v, data.y_train.len()).unwrap();
            let m = width as f64 / BASE_WIDTH as f64;
            if table8 {
                Rules::of(Parameterization::Mup, c.depth, width, BASE_WIDTH)
                    .apply(&mut t.net, &mut t.opt);
            } else {
                t.net.output.w.mapv_inplace(|w| w / m.sqrt());
                t.opt.lr_scale = vec![m, m, 1.0, m, 1.0 / m, 1.0];
            }
            for _ in 0..c.steps {
                t.step(&data, Measure::default());
            }
            t.evaluate(&data.x_train, &data.y_train).loss
        };
        let (a, b) = (run(true), run(false));
        assert!((a - b).abs() < 1e-9, "Table 8 {a}, Table 3 {b}");
    }

    /// The best η is the lowest finite loss, the smaller η on a tie; none if all diverged.
    #[test]
    fn the_best_rate_is_the_lowest_loss() {
        assert_eq!(
            best_of([Some(0.3), None, Some(0.1), Some(0.1)].into_iter()),
            Some(2)
        );
        assert_eq!(best_of([None, None].into_iter()), None);
    }

    /// The sweep is the same bits on one thread and on two (each cell computes alone).
    #[test]
    fn one_thread_or_two_give_the_same_sweep() {
        let s = Settings {
            widths: Some("16,48".parse().unwrap()),
            ..Settings::default()
        };
        let run = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            pool.install(|| EXPERIMENT.run(&s, DEFAULT_MAX_MEMORY).unwrap())
        };
        let (one, two) = (run(1), run(2));
        assert_eq!(one, two);
        assert_eq!(one.runs.len(), 4);
        assert!(
            one.failed_premises().is_empty(),
            "{:?}",
            one.failed_premises()
        );
    }
}
