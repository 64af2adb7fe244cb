//! Training runs: minibatch gradient descent on a generated dataset, recording the loss every
//! step and, at checkpoints, accuracy, per-layer gradient norms and how far each layer's
//! weights moved. Several configurations train on identical data, batches and seeds.

pub(crate) mod figure;
pub(crate) mod live;
pub(crate) mod settings;
pub(crate) mod variant;
mod verdict;

use crate::data::{DataSpec, Dataset};
use crate::nn::optim::Optimizer;
use crate::nn::storage::{LossScale, Storage};
use crate::nn::{Network, Real, loss};
use crate::probe::{NonFinite, Precision, ProbeConfig};
use anyhow::{Result, bail};
use clap::ValueEnum;
pub use figure::TrainFigure;
use live::{Measure, Outcome, Trainer};
use ndarray::Array2;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::fmt;
pub use variant::Variant;

/// Which update rule to train with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ValueEnum, Default)]
#[serde(rename_all = "lowercase")]
pub enum OptimizerName {
    /// Plain SGD: p ← p − η g.
    Sgd,
    /// SGD with momentum 0.9: v ← 0.9 v + g, p ← p − η v.
    #[default]
    Momentum,
    /// Adam (β₁ 0.9, β₂ 0.999, ε 1e−8).
    Adam,
}

impl fmt::Display for OptimizerName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let v = self.to_possible_value().expect("no skipped variants");
        f.write_str(v.get_name())
    }
}

impl OptimizerName {
    pub fn with_lr(self, lr: f64) -> Optimizer {
        match self {
            OptimizerName::Sgd => Optimizer::Sgd { lr },
            OptimizerName::Momentum => Optimizer::Momentum { lr, momentum: 0.9 },
            OptimizerName::Adam => Optimizer::adam(lr),
        }
    }
}

/// Everything a comparison shares, and the configurations it compares.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TrainConfig {
    pub data: DataSpec,
    pub depth: usize,
    pub width: usize,
    /// Units of each hidden layer, first to last, when they differ (the seed's 256, 128 on
    /// the digits; then `depth` is their number and `width` the first); empty: `depth`
    /// layers of `width` units.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub widths: Vec<usize>,
    pub batch: usize,
    pub steps: usize,
    /// η of every configuration, whatever its optimizer (one `--lr`, default 0.01 for all).
    pub lr: f64,
    /// The update rule of every configuration that names none (`Variant::optimizer`).
    pub optimizer: OptimizerName,
    pub clip_norm: Option<f64>,
    pub clip_value: Option<f64>,
    pub target_loss: f64,
    pub precision: Precision,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub loss_scale: Option<LossScale>,
    pub seed: u64,
    pub variants: Vec<Variant>,
}

/// Checkpoints per run besides step 1: one every ⌈steps / 40⌉ steps (the columns of the
/// layer × time view).
pub(crate) const CHECKPOINTS: usize = 40;
/// How much faster per multiply-add a checkpoint's evaluation runs than a training step: it
/// is one forward pass over the whole set as a single batch, a large product that
/// matrixmultiply runs near its peak. On the digits (1,797 examples, 64 → 256 → 128 → 10,
/// 40 steps: nearly all evaluation) the run took 0.43 s of CPU on one thread where the
/// estimate without this factor said 2.95 s (6.9×); 4 keeps the estimate on the safe side.
pub(crate) const EVAL_SPEEDUP: f64 = 4.0;
/// Longest run accepted.
pub(crate) const MAX_STEPS: usize = 1_000_000;

impl TrainConfig {
    /// Steps between checkpoints.
    pub fn every(&self) -> usize {
        self.steps.div_ceil(CHECKPOINTS).max(1)
    }

    /// The network's shape for a header: `depth 10 × width 32`, or each layer's width when
    /// they differ (`64 → 256 → 128 → 10`).
    pub fn shape_text(&self) -> String {
        if self.widths.is_empty() {
            return format!("depth {} × width {}", self.depth, self.width);
        }
        let mut layers = vec![self.data.inputs()];
        layers.extend(&self.widths);
        layers.push(self.data.classes());
        let layers: Vec<String> = layers.iter().map(|w| w.to_string()).collect();
        layers.join(" → ")
    }

    /// The update rule `v` trains with: its own `@OPTIMIZER`, else the comparison's.
    pub fn optimizer_of(&self, v: &Variant) -> OptimizerName {
        v.optimizer.unwrap_or(self.optimizer)
    }

    /// The update rules for a header: the shared one (`momentum`), or each distinct one in
    /// order with "per configuration" (`sgd, adam per configuration`).
    pub fn optimizers_text(&self) -> String {
        let mut names: Vec<OptimizerName> = Vec::new();
        for v in &self.variants {
            let o = self.optimizer_of(v);
            if !names.contains(&o) {
                names.push(o);
            }
        }
        match names.as_slice() {
            [] => self.optimizer.to_string(),
            [one] => one.to_string(),
            many => {
                let list: Vec<String> = many.iter().map(|o| o.to_string()).collect();
                format!("{} per configuration", list.join(", "))
            }
        }
    }

    /// The probe config of one variant, which checks shapes and memory; its `spec` and
    /// [`TrainConfig::seed`] build the network the variant starts from.
    pub fn probe_config(&self, v: &Variant) -> ProbeConfig {
        let mut cfg = ProbeConfig::canonical(self.depth, self.width, self.batch, 10);
        if !self.widths.is_empty() {
            cfg.spec.hidden.clone_from(&self.widths);
        }
        cfg.spec.input = self.data.inputs();
        cfg.spec.outputs = self.data.classes();
        cfg.spec.activation = v.activation;
        cfg.spec.init = v.init;
        cfg.spec.output_init = v.init;
        cfg.spec.batch_norm = v.batch_norm;
        cfg.spec.residual = v.residual;
        cfg.spec.block = v.block;
        cfg.precision = self.precision;
        cfg.seed = self.seed;
        cfg
    }

    /// Roughly how long training takes, in seconds, from its size alone: per configuration,
    /// `steps` passes on a minibatch (a probe pass's work, [`ProbeConfig::work`]) and a
    /// forward pass (a third of one) over the whole set at each checkpoint, at
    /// [`WORK_PER_SECOND`](crate::probe::WORK_PER_SECOND), the forward pass
    /// [`EVAL_SPEEDUP`] times faster.
    pub fn seconds(&self) -> f64 {
        let checkpoints = (self.steps / self.every() + 1) as f64;
        let work: f64 = self
            .variants
            .iter()
            .map(|v| {
                let cfg = self.probe_config(v);
                let per_example = cfg.work() / cfg.batch.max(1) as f64;
                per_example
                    * (self.steps as f64 * self.batch as f64
                        + checkpoints * self.data.samples as f64 / 3.0 / EVAL_SPEEDUP)
            })
            .sum();
        work / crate::probe::WORK_PER_SECOND
    }

    /// Refuses a comparison estimated to take more than `budget` seconds, with the estimate.
    pub fn check_time(&self, budget: f64) -> Result<()> {
        let need = self.seconds();
        if need <= budget {
            return Ok(());
        }
        bail!(
            "this training would take about {} s here (estimated from its size before running: \
             {} of {}), over the time budget of {} s (--max-time); make it smaller (fewer \
             steps, configurations, layers, units or samples)",
            crate::format::seconds(need),
            crate::format::count(self.steps, "step", "steps"),
            crate::format::count(self.variants.len(), "configuration", "configurations"),
            crate::format::seconds(budget)
        )
    }

    /// Rejects settings that cannot train, and runs larger than `max_bytes`; what passes
    /// can train.
    pub fn check(&self, max_bytes: u64) -> Result<CheckedTrain> {
        self.data.check()?;
        if self.steps == 0 || self.steps > MAX_STEPS {
            bail!(
                "--steps must be between 1 and {MAX_STEPS} (got {})",
                self.steps
            );
        }
        if !(self.lr > 0.0 && self.lr.is_finite()) {
            bail!(
                "--lr must be a positive number (got {})",
                crate::format::echo(self.lr)
            );
        }
        for (flag, v) in [
            ("--clip-norm", self.clip_norm),
            ("--clip-value", self.clip_value),
        ] {
            if let Some(v) = v
                && !(v > 0.0 && v.is_finite())
            {
                bail!(
                    "{flag} must be a positive number (got {})",
                    crate::format::echo(v)
                );
            }
        }
        // Training computes in f32 (f16 and bf16 too) or f64: what is 0 or ∞ there is refused.
        self.precision.check_positive("--lr", self.lr)?;
        for (flag, v) in [
            ("--clip-norm", self.clip_norm),
            ("--clip-value", self.clip_value),
            (
                "--loss-scale",
                self.loss_scale.and_then(|l| match l {
                    LossScale::Static(s) => Some(s),
                    LossScale::Dynamic { .. } => None,
                }),
            ),
        ] {
            if let Some(v) = v {
                self.precision.check_positive(flag, v)?;
            }
        }
        let (_, most) = self.precision.normal_range();
        if self.data.noise > most {
            bail!(
                "--noise {} is ∞ in the run's arithmetic; give a value up to {}",
                crate::format::echo(self.data.noise),
                crate::format::pretty(most)
            );
        }
        if !self.target_loss.is_finite() || self.target_loss < 0.0 {
            bail!(
                "--target-loss must be a number ≥ 0 (got {})",
                crate::format::echo(self.target_loss)
            );
        }
        if self.width == 0 {
            bail!("--width must be at least 1 (got 0)");
        }
        if !self.widths.is_empty()
            && (self.widths.len() != self.depth
                || self.widths.first() != Some(&self.width)
                || self.widths.contains(&0))
        {
            bail!(
                "the hidden layers' widths ({:?}) do not match depth {} × width {}",
                self.widths,
                self.depth,
                self.width
            );
        }
        if self.batch == 0 {
            bail!("--batch must be at least 1 (got 0)");
        }
        if self.batch == 1 && self.variants.iter().any(|v| v.batch_norm) {
            bail!("batch norm needs at least 2 examples per batch; use --batch 2 or more");
        }
        let train = self.data.samples - self.data.test_count();
        if self.batch > train {
            bail!(
                "--batch {} is larger than the {train} training examples; lower --batch{}",
                self.batch,
                if self.data.file.is_some() || self.data.kind.is_fixed() {
                    ""
                } else {
                    " or raise --samples"
                }
            );
        }
        // From the numbers alone first, so that no depth-sized list is built for a run that
        // could never fit.
        let runs: Vec<(usize, usize)> = match self.widths.is_empty() {
            true => vec![(self.width, self.depth)],
            false => self.widths.iter().map(|&w| (w, 1)).collect(),
        };
        let shape = crate::probe::Shape {
            input: self.data.inputs(),
            hidden: &runs,
            classes: self.data.classes(),
            batch: self.batch.max(train),
            batch_norm: self.variants.iter().any(|v| v.batch_norm),
            keeps_dphi: self
                .variants
                .iter()
                .any(|v| v.residual || !v.activation.df_from_output()),
            branch_tape: self.variants.iter().any(|v| v.block.learns_scale()),
            keeps_grads: true,
        };
        let need = crate::probe::peak_bytes(&shape, self.precision).unwrap_or(u128::MAX);
        crate::probe::check_memory(need, max_bytes)
            .map_err(|e| anyhow::anyhow!("{e} (in training, --samples counts like --batch)"))?;
        for v in &self.variants {
            // Evaluation runs the whole training set as one batch, so that is what must fit.
            let mut cfg = self.probe_config(v);
            cfg.batch = self.batch.max(train);
            // Evaluation makes the whole training set one batch, so --samples counts too.
            cfg.check(max_bytes)
                .and_then(|_| crate::probe::check_memory(cfg.training_memory(), max_bytes))
                .map_err(|e| {
                    anyhow::anyhow!("{v}: {e} (in training, --samples counts like --batch)")
                })?;
        }
        Ok(CheckedTrain(self.clone()))
    }
}

/// A comparison that passed [`TrainConfig::check`].
#[derive(Clone, Debug, PartialEq)]
pub struct CheckedTrain(TrainConfig);

impl CheckedTrain {
    pub fn config(&self) -> &TrainConfig {
        &self.0
    }

    /// Trains every configuration in turn. `progress` is told each finished step.
    pub fn run(&self, progress: &(dyn Fn(usize) + Sync)) -> Result<TrainReport> {
        match self.0.precision {
            Precision::F32 | Precision::F16 | Precision::Bf16 => run_all::<f32>(&self.0, progress),
            Precision::F64 => run_all::<f64>(&self.0, progress),
        }
    }
}

/// Loss and accuracy on a whole set.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Eval {
    pub loss: f64,
    pub accuracy: f64,
}

/// The state of a run after `step` updates.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Checkpoint {
    pub step: usize,
    pub train: Eval,
    pub test: Eval,
    /// ‖∂L/∂W_l‖ of this step's minibatch, per dense layer (the output layer last), before
    /// clipping.
    pub grad_norms: Vec<f64>,
    /// ‖ΔW_l‖ / ‖W_l‖ of this step's update, per dense layer.
    pub update_ratios: Vec<f64>,
    /// A learned branch scale: α of every block after this step's update...
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub branch_scales: Vec<f64>,
    /// ... and ∂L/∂α of this step's minibatch, before clipping.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub branch_grads: Vec<f64>,
}

/// Where a run stopped because a value stopped being finite.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Divergence {
    /// The update (1-based) whose forward or backward pass produced it.
    pub step: usize,
    /// The minibatch loss at that step (NaN or ±∞ unless the gradients overflowed first).
    pub loss: f64,
    /// Where the first non-finite value appeared.
    pub first: Option<NonFinite>,
}

/// One configuration's whole run.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct History {
    pub label: String,
    pub variant: Variant,
    /// Before the first update.
    pub initial: Initial,
    /// Minibatch loss of every step, in order.
    pub losses: Vec<f64>,
    /// Global gradient norm of every step, before clipping.
    pub global_grad_norms: Vec<f64>,
    /// Global gradient norm of every step after clipping (empty when nothing is clipped).
    pub clipped_grad_norms: Vec<f64>,
    pub checkpoints: Vec<Checkpoint>,
    pub diverged: Option<Divergence>,
    /// The first checkpoint at which the training loss was at most the target.
    pub steps_to_target: Option<usize>,
    /// With `--loss-scale`: the steps skipped and every scale the run used.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub loss_scale: Option<ScaleHistory>,
    /// What the run concluded, in one line computed from it (not in the JSON).
    #[serde(skip)]
    pub verdict: String,
}

/// What loss scaling did over a run.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ScaleHistory {
    /// Steps whose scaled gradients held inf or NaN, skipped (dynamic scaling only).
    pub skipped_steps: usize,
    /// The scale from the first step on, and each change: `{step, scale}`, `step` being the
    /// first step (1-based) that used `scale`.
    pub scales: Vec<ScaleChange>,
    /// The scale after the last step.
    pub final_scale: f64,
}

/// A loss scale and the first step that used it.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct ScaleChange {
    pub step: usize,
    pub scale: f64,
}

/// The state before training.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Initial {
    pub train: Eval,
    pub test: Eval,
}

impl History {
    /// The last evaluation: the final checkpoint, or the initial state if none was reached.
    pub fn last(&self) -> (usize, Eval, Eval) {
        match self.checkpoints.last() {
            Some(c) => (c.step, c.train, c.test),
            None => (0, self.initial.train, self.initial.test),
        }
    }

    /// Median over checkpoints of each layer's update ratio (finite values only).
    pub fn median_update_ratios(&self) -> Vec<f64> {
        self.layer_spread(|c| &c.update_ratios)
            .iter()
            .map(|s| s.median)
            .collect()
    }

    /// Each layer's figure `pick` (gradient norms, update ratios) over the checkpoints: the
    /// median, smallest and largest of its finite values, NaN where there are none.
    pub fn layer_spread(&self, pick: fn(&Checkpoint) -> &[f64]) -> Vec<Spread> {
        let layers = self.checkpoints.first().map_or(0, |c| pick(c).len());
        (0..layers)
            .map(|l| {
                let v: Vec<f64> = self
                    .checkpoints
                    .iter()
                    .filter_map(|c| pick(c).get(l).copied())
                    .filter(|r| r.is_finite())
                    .collect();
                let (min, max) = match v.is_empty() {
                    true => (f64::NAN, f64::NAN),
                    false => (
                        v.iter().copied().fold(f64::INFINITY, f64::min),
                        v.iter().copied().fold(f64::NEG_INFINITY, f64::max),
                    ),
                };
                Spread {
                    median: crate::nn::stats::median(v),
                    min,
                    max,
                }
            })
            .collect()
    }
}

/// One layer's figure over a run's checkpoints.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Spread {
    pub median: f64,
    pub min: f64,
    pub max: f64,
}

/// The rule of thumb for a healthy step: each update moves a layer's weights by about a
/// thousandth of their size, ‖ΔW‖/‖W‖ ≈ 10⁻³ (much less: the layer barely learns; much
/// more: the step is too large for it).
pub(crate) const RULE_OF_THUMB_UPDATE_RATIO: f64 = 1e-3;

/// What a network scores without looking at its input: the bar learning has to clear.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Chance {
    /// Accuracy of always answering the training set's most common class, on the training
    /// set and on the test set.
    pub train_accuracy: f64,
    pub test_accuracy: f64,
    /// Cross-entropy on the training set of predicting its class frequencies for every
    /// example (ln K for K balanced classes): the lowest loss a constant guess reaches.
    pub loss: f64,
}

impl Chance {
    /// The constant-guess scores of a dataset with `classes` classes.
    pub fn of(y_train: &[usize], y_test: &[usize], classes: usize) -> Chance {
        let mut counts = vec![0usize; classes.max(1)];
        for &y in y_train {
            if let Some(c) = counts.get_mut(y) {
                *c += 1;
            }
        }
        let n = y_train.len().max(1) as f64;
        let majority = (0..counts.len()).max_by_key(|&c| counts[c]).unwrap_or(0);
        let share = |ys: &[usize]| {
            ys.iter().filter(|&&y| y == majority).count() as f64 / ys.len().max(1) as f64
        };
        let loss = counts
            .iter()
            .filter(|&&c| c > 0)
            .map(|&c| {
                let p = c as f64 / n;
                -p * libm::log(p)
            })
            .sum();
        Chance {
            train_accuracy: share(y_train),
            test_accuracy: share(y_test),
            loss,
        }
    }
}

/// What a comparison produced.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TrainReport {
    pub config: TrainConfig,
    pub train_examples: usize,
    pub test_examples: usize,
    /// What a constant guess scores on this data.
    pub chance: Chance,
    pub runs: Vec<History>,
    /// Lines comparing the configurations (none for a single run; not in the JSON).
    #[serde(skip)]
    pub comparison: Vec<String>,
}

/// Checks `cfg` against `max_bytes`, then trains it.
pub fn train(
    cfg: &TrainConfig,
    max_bytes: u64,
    progress: &(dyn Fn(usize) + Sync),
) -> Result<TrainReport> {
    cfg.check(max_bytes)?.run(progress)
}

fn run_all<F: Real>(cfg: &TrainConfig, progress: &(dyn Fn(usize) + Sync)) -> Result<TrainReport> {
    let data = Dataset::<F>::generate(cfg.data.clone())?;
    // The configurations train independently, on every core, from the same data and batches.
    let runs = cfg
        .variants
        .par_iter()
        .with_max_len(1)
        .map(|v| run_one(cfg, v, &data, progress))
        .collect::<Vec<_>>()
        .into_iter()
        .collect::<Result<Vec<_>>>()?;
    let mut report = TrainReport {
        config: cfg.clone(),
        train_examples: data.y_train.len(),
        test_examples: data.y_test.len(),
        chance: Chance::of(&data.y_train, &data.y_test, cfg.data.classes()),
        runs,
        comparison: Vec::new(),
    };
    // Concluded with the run, from the finished histories: renderers only lay them out.
    let verdicts: Vec<String> = report
        .runs
        .iter()
        .map(|h| verdict::verdict(&report, h))
        .collect();
    for (h, v) in report.runs.iter_mut().zip(verdicts) {
        h.verdict = v;
    }
    report.comparison = verdict::comparison(&report);
    Ok(report)
}

/// [`evaluate`] on `net`'s copy stored in `storage` (the input too), if there is one.
pub(crate) fn evaluate_in<F: Real>(
    net: &Network<F>,
    storage: Option<Storage>,
    x: &Array2<F>,
    y: &[usize],
) -> Eval {
    let Some(s) = storage else {
        return evaluate(net, x, y);
    };
    let mut x = x.clone();
    s.round_all(&mut x);
    evaluate(&net.clone().stored_in(Some(s)), &x, y)
}

/// Loss and accuracy of `net` on a whole set, as one batch.
pub(crate) fn evaluate<F: Real>(net: &Network<F>, x: &Array2<F>, y: &[usize]) -> Eval {
    let logits = net.logits(x.clone());
    let (l, _) = loss::softmax_cross_entropy(logits.view(), y);
    let correct = logits
        .rows()
        .into_iter()
        .zip(y)
        .filter(|(row, label)| crate::data::argmax(row.iter().map(|v| v.as_f64())) == **label)
        .count();
    Eval {
        loss: l.as_f64(),
        accuracy: correct as f64 / y.len().max(1) as f64,
    }
}

/// One configuration: `steps` updates, a checkpoint every [`TrainConfig::every`] steps.
fn run_one<F: Real>(
    cfg: &TrainConfig,
    v: &Variant,
    data: &Dataset<F>,
    progress: &(dyn Fn(usize) + Sync),
) -> Result<History> {
    let mut t = Trainer::<F>::new(cfg, v, data.y_train.len())?;
    let every = cfg.every();
    let mut h = History {
        label: v.to_string(),
        variant: *v,
        initial: Initial {
            train: t.evaluate(&data.x_train, &data.y_train),
            test: t.evaluate(&data.x_test, &data.y_test),
        },
        losses: Vec::with_capacity(cfg.steps),
        global_grad_norms: Vec::with_capacity(cfg.steps),
        clipped_grad_norms: Vec::new(),
        checkpoints: Vec::new(),
        diverged: None,
        steps_to_target: None,
        loss_scale: t.scaler.map(|s| ScaleHistory {
            skipped_steps: 0,
            scales: vec![ScaleChange {
                step: 1,
                scale: s.scale,
            }],
            final_scale: s.scale,
        }),
        verdict: String::new(),
    };
    for step in 1..=cfg.steps {
        let checkpoint = step % every == 0 || step == cfg.steps || step == 1;
        let m = Measure {
            checkpoint,
            ..Measure::default()
        };
        let r = t.step(data, m);
        h.losses.push(r.loss);
        h.global_grad_norms.push(r.global);
        if let (Some(s), Some(hist)) = (t.scaler.as_ref(), h.loss_scale.as_mut())
            && s.scale != hist.final_scale
        {
            hist.scales.push(ScaleChange {
                step: step + 1,
                scale: s.scale,
            });
            hist.final_scale = s.scale;
        }
        match r.outcome {
            Outcome::Skipped => {
                if let Some(hist) = h.loss_scale.as_mut() {
                    hist.skipped_steps += 1;
                }
                progress(1);
                continue;
            }
            Outcome::Diverged(d) => {
                h.diverged = Some(d);
                progress(cfg.steps - step + 1);
                break;
            }
            Outcome::Updated => {}
        }
        if let Some(c) = r.clipped {
            h.clipped_grad_norms.push(c);
        }
        if checkpoint {
            let c = Checkpoint {
                step,
                train: t.evaluate(&data.x_train, &data.y_train),
                test: t.evaluate(&data.x_test, &data.y_test),
                grad_norms: r.grad_norms,
                update_ratios: r.update_ratios,
                branch_scales: match t.net.learn_scale {
                    true => t
                        .net
                        .hidden
                        .iter()
                        .filter_map(|h| Some(h.scale.as_ref()?[0].as_f64()))
                        .collect(),
                    false => Vec::new(),
                },
                branch_grads: r.branch_grads,
            };
            if h.steps_to_target.is_none() && c.train.loss <= cfg.target_loss {
                h.steps_to_target = Some(step);
            }
            h.checkpoints.push(c);
        }
        progress(1);
    }
    Ok(h)
}
