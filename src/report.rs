//! What an experiment found, as plain data: the runs, their per-layer figures, tables and
//! verdicts. Experiments fill a [`Report`]; `render` prints it. [`Figure`] is the one place a
//! summary figure of a run is computed, for tables, quiz items and claims alike.

use crate::nn::mup::Parameterization;
use crate::nn::stats::median;
use crate::probe::attention::AttentionFigures;
use crate::probe::hist::{self, LayerHist};
use crate::probe::recurrent::RecurrentFigures;
use crate::probe::{LayerFigures, NonFinite, ProbeConfig, ProbeKind, ProbeResult};
use crate::theory;
use clap::ValueEnum;
use serde::{Deserialize, Serialize};
use std::fmt;

mod premise;
pub use premise::{Line, MapFigure, Own, Premise, Rel, Term, Verdict};

/// A per-layer quantity that a side-by-side view can show as a layer × run matrix.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    /// ‖∂L/∂W_l‖_F.
    GradNorm,
    /// ‖∂L/∂h_l‖_F.
    SignalNorm,
    /// std of a_l.
    ActStd,
    /// Saturated fraction.
    Saturated,
    /// Spread between the units' gradients.
    UnitSpread,
}

impl Metric {
    pub fn title(self) -> &'static str {
        match self {
            Metric::GradNorm => "‖∂L/∂W‖ per layer",
            Metric::SignalNorm => "‖∂L/∂h‖ per layer (the backprop signal)",
            Metric::ActStd => "std of the activations a_l (the logits for the output layer)",
            Metric::Saturated => "saturated fraction: units with |φ′(h)| < 0.1·max φ′",
            Metric::UnitSpread => "spread between units' gradients (0: all units identical)",
        }
    }

    pub fn value(self, f: &LayerFigures) -> Option<f64> {
        match self {
            Metric::GradNorm => Some(f.grad_norm),
            Metric::SignalNorm => Some(f.signal_norm),
            Metric::ActStd => Some(f.act_std),
            Metric::Saturated => f.saturated,
            Metric::UnitSpread => f.unit_spread,
        }
    }
}

/// Mean-field prediction beside the measurement, or why there is none.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum TheoryLine {
    Compared {
        /// Predicted per-layer factor of the backprop signal norm, geometric mean of √χ_l.
        predicted_factor: f64,
        /// Predicted log₁₀(‖∂L/∂h_1‖ / ‖∂L/∂h_(depth+1)‖).
        predicted_orders: f64,
        /// The same two, measured (null where a norm is 0 or not finite).
        measured_factor: Option<f64>,
        measured_orders: Option<f64>,
    },
    NotApplicable {
        not_applicable: String,
    },
}

/// One probe run (or the median over several seeds) with everything the renderers need.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Run {
    pub label: String,
    pub config: ProbeConfig,
    pub seeds: Vec<u64>,
    pub loss: f64,
    pub global_grad_norm: f64,
    /// The layer where a value first overflowed or became NaN (the forward pass counts
    /// first), or null.
    pub first_nonfinite_layer: Option<usize>,
    pub nonfinite: Option<NonFinite>,
    pub theory: TheoryLine,
    /// What the run measured, by kind: per layer, per layer with the Jacobian's spectrum, or
    /// per time step.
    #[serde(flatten)]
    pub body: Body,
    /// With loss scaling: the scale the measured pass used (dynamic: after its halvings;
    /// the smallest over seeds).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub loss_scale_used: Option<f64>,
}

/// A run's own figures, one variant per kind of run; every renderer matches it.
#[derive(Clone, Debug, PartialEq)]
pub enum Body {
    /// An MLP run's figures per layer, the output layer last.
    Layers(Vec<LayerRow>),
    /// An MLP run that also took the singular values of J = ∂a_L/∂a_0 (`demo isometry`).
    Spectra {
        layers: Vec<LayerRow>,
        spectrum: Spectrum,
    },
    /// A recurrent run's `steps`, `params` and `spectrum` (medians over the seeds).
    Steps(RecurrentFigures),
    /// An attention head's figures (medians over the seeds), beside their theory.
    Attention(AttentionRow),
    /// One width's learning-rate sweep under one parameterization (`demo width`).
    Sweep(Sweep),
}

/// An attention run's figures and the logits' variance theory predicts for its config
/// ([`theory::attention_logit_variance`]).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AttentionRow {
    #[serde(flatten)]
    pub figures: AttentionFigures,
    /// E[z²] of the logits the softmax sees; null for an initializer with no variance.
    pub logit_var_theory: Option<f64>,
    /// ln T: the entropy of a uniform softmax over the sequence.
    pub entropy_uniform: f64,
}

/// JSON keeps the shape it always had: `layers` always (empty for a recurrent run), then a
/// recurrent run's figures or the Jacobian's `spectrum`.
impl Serialize for Body {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Flat<'a> {
            layers: &'a [LayerRow],
            #[serde(flatten)]
            steps: Option<&'a RecurrentFigures>,
            #[serde(skip_serializing_if = "Option::is_none")]
            spectrum: Option<&'a Spectrum>,
            #[serde(skip_serializing_if = "Option::is_none")]
            attention: Option<&'a AttentionRow>,
            #[serde(skip_serializing_if = "Option::is_none")]
            sweep: Option<&'a Sweep>,
        }
        let (layers, steps, spectrum, attention, sweep) = match self {
            Body::Layers(layers) => (layers.as_slice(), None, None, None, None),
            Body::Spectra { layers, spectrum } => {
                (layers.as_slice(), None, Some(spectrum), None, None)
            }
            Body::Steps(f) => (&[][..], Some(f), None, None, None),
            Body::Attention(a) => (&[][..], None, None, Some(a), None),
            Body::Sweep(w) => (&[][..], None, None, None, Some(w)),
        };
        Flat {
            layers,
            steps,
            spectrum,
            attention,
            sweep,
        }
        .serialize(s)
    }
}

/// One width's learning-rate sweep under one parameterization: every η trained for the same
/// steps on the same data, batches and seed (`demo width`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Sweep {
    pub param: Parameterization,
    pub width: usize,
    /// µP's base width n₀, where µP and SP are the same network and steps.
    pub base_width: usize,
    /// SGD steps of every run.
    pub steps: usize,
    /// The learning rates η tried, smallest first.
    pub lrs: Vec<f64>,
    /// Training-set loss after the last step, per η; null where the run diverged.
    pub final_losses: Vec<Option<f64>>,
    /// The step at which a value stopped being finite, per η; null where none did.
    pub diverged_at: Vec<Option<usize>>,
    /// Index into `lrs` of the lowest final loss (the smaller η on a tie); null when every
    /// run diverged.
    pub best: Option<usize>,
    /// The η of `update_ratios`: one η for every width of a parameterization.
    pub ratio_lr: f64,
    /// ‖ΔW_l‖/‖W_l‖ of the first step at `ratio_lr`, per dense layer (the output layer last).
    pub update_ratios: Vec<f64>,
}

impl Sweep {
    /// The best η, if any run finished.
    pub fn best_lr(&self) -> Option<f64> {
        self.best.map(|i| self.lrs[i])
    }

    /// The final loss at the best η.
    pub fn best_loss(&self) -> Option<f64> {
        self.best.and_then(|i| self.final_losses[i])
    }
}

/// The singular values of the input–output Jacobian J = ∂a_L/∂a_0 at a few inputs (over
/// every seed), and their summary.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Spectrum {
    /// Quantiles of all the singular values together (linear interpolation between ranks).
    pub min: f64,
    pub p5: f64,
    pub median: f64,
    pub p95: f64,
    pub max: f64,
    /// σ_max/σ_min of each J, median over the inputs; ∞ (null in JSON) when σ_min ≤
    /// 1e−12·σ_max, below what f64 resolves.
    pub condition_number: f64,
    /// Singular values at or below 1e−12·σ_max of their J, percent: directions J erases.
    pub null_percent: f64,
    /// Each J's singular values, largest first: seed by seed, input by input.
    pub singular_values: Vec<Vec<f64>>,
}

/// Singular values at or below this share of σ_max count as erased directions.
pub(crate) const NULL: f64 = 1e-12;

impl Spectrum {
    /// The summary of every J's singular values (each list largest first).
    pub fn of(per_input: Vec<Vec<f64>>) -> Option<Spectrum> {
        let mut all: Vec<f64> = per_input.concat();
        if all.is_empty() {
            return None;
        }
        all.sort_by(f64::total_cmp);
        let q = |p: f64| {
            let x = p * (all.len() - 1) as f64;
            let (i, t) = (x.floor() as usize, x - x.floor());
            let next = all[(i + 1).min(all.len() - 1)];
            all[i] + t * (next - all[i])
        };
        // Below 1e−12·σ_max a product of many layers is not resolved in f64: κ is then ∞.
        let kappas = per_input
            .iter()
            .map(|s| match s[s.len() - 1] {
                min if min > NULL * s[0] => s[0] / min,
                _ => f64::INFINITY,
            })
            .collect::<Vec<_>>();
        let null = per_input
            .iter()
            .flat_map(|s| s.iter().map(move |&v| v <= NULL * s[0]))
            .filter(|&z| z)
            .count();
        Some(Spectrum {
            min: all[0],
            p5: q(0.05),
            median: q(0.5),
            p95: q(0.95),
            max: all[all.len() - 1],
            condition_number: median(kappas),
            null_percent: 100.0 * null as f64 / all.len() as f64,
            singular_values: per_input,
        })
    }
}

/// One layer's figures; with several seeds, medians plus the range of the gradient norm.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LayerRow {
    #[serde(flatten)]
    pub figures: LayerFigures,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub grad_norm_min: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub grad_norm_max: Option<f64>,
}

/// A small table an experiment adds (a model summary, a sweep).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Table {
    pub title: String,
    pub headers: Vec<String>,
    pub rows: Vec<Vec<String>>,
    /// What the columns mean, where the headers alone do not say.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub legend: Option<String>,
}

impl Table {
    pub fn new(title: &str, headers: &[&str], rows: Vec<Vec<String>>) -> Table {
        Table {
            title: title.to_string(),
            headers: headers.iter().map(|h| h.to_string()).collect(),
            rows,
            legend: None,
        }
    }

    /// The table with a line explaining its columns.
    pub fn with_legend(mut self, legend: &str) -> Table {
        self.legend = Some(legend.to_string());
        self
    }
}

/// Everything an experiment reports.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Report {
    pub experiment: String,
    pub description: String,
    pub runs: Vec<Run>,
    /// Further runs summarized in a table (a sweep), not shown layer by layer.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub side_runs: Vec<Run>,
    /// Which per-layer quantities a side-by-side view shows.
    pub metrics: Vec<Metric>,
    pub tables: Vec<Table>,
    /// Verdict lines, each computed from the runs above.
    pub verdicts: Vec<String>,
    pub notes: Vec<String>,
    /// What each comparative verdict or note asserts of the figures, by line: kept for the
    /// tests that check them ([`Report::failed_premises`]), not written out.
    #[serde(skip)]
    pub premises: Vec<(Line, Premise)>,
    /// Runs a table summarized and the report no longer shows (a depth sweep), kept for the
    /// premises that read them; not written out.
    #[serde(skip)]
    pub set_aside: Vec<Run>,
    /// What the report shows between its description and its tables; JSON writes a phase
    /// map last, as `phase`, and nothing for runs.
    #[serde(flatten)]
    pub body: ReportBody,
}

/// A report's shape, one variant per view; every renderer matches it.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum ReportBody {
    /// The runs, each shown by its own [`Body`]: per layer, with the Jacobian's spectrum, or
    /// per step.
    Runs,
    /// `demo phase`: the σ_w × σ_b map its grid of runs was summarized into (`runs` keeps
    /// one cell, for `--json`).
    Phase {
        #[serde(rename = "phase")]
        map: PhaseMap,
    },
    /// `--hist`: the runs, and each run's histograms per hidden layer (JSON: `histograms`).
    Histograms {
        #[serde(rename = "histograms")]
        runs: Vec<RunHist>,
    },
}

/// One run's histograms per hidden layer (`--hist`), from the probe pass at its first seed.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RunHist {
    pub label: String,
    pub seed: u64,
    pub activation: crate::nn::Activation,
    /// What the saturated share counts, in words.
    pub saturated_rule: &'static str,
    pub layers: Vec<LayerHist>,
}

impl RunHist {
    /// The histograms of the probe pass of `cfg` (checked) at its seed, with loss scale
    /// `scale` (1: none); `None` for a recurrent probe.
    pub fn of(label: &str, cfg: &ProbeConfig, scale: f64) -> Option<RunHist> {
        let layers = hist::histograms(cfg, scale)?;
        let activation = cfg.spec.activation;
        Some(RunHist {
            label: label.to_string(),
            seed: cfg.seed,
            activation,
            saturated_rule: hist::Saturation::of(activation).rule(),
            layers,
        })
    }
}

impl Report {
    /// The report with each run's histograms ([`crate::probe::hist`]); refused for a report
    /// that shows no layers (the phase map, a recurrent run's time steps, an attention head).
    pub fn with_histograms(mut self) -> Result<Report, String> {
        if let ReportBody::Phase { .. } = self.body {
            return Err(format!(
                "--hist draws each layer's distributions, and demo {} shows no layers: its \
                 runs are summarized into one σ_w × σ_b map. For a tanh network's layers try \
                 `gradtutor demo exploding --activation tanh --hist`",
                self.experiment
            ));
        }
        let mut runs = Vec::with_capacity(self.runs.len());
        for run in &self.runs {
            let seed = run.seeds.first().copied().unwrap_or(run.config.seed);
            let cfg = ProbeConfig {
                seed,
                ..run.config.clone()
            };
            let scale = run.loss_scale_used.unwrap_or(1.0);
            let Some(h) = RunHist::of(&run.label, &cfg, scale) else {
                let what = match cfg.kind {
                    ProbeKind::Attention(_) => "one attention head",
                    _ => "time steps",
                };
                return Err(format!(
                    "--hist draws each layer's distributions, and demo {} measures {what}, \
                     not layers; try `gradtutor demo vanishing --hist`",
                    self.experiment
                ));
            };
            runs.push(h);
        }
        self.body = ReportBody::Histograms { runs };
        Ok(self)
    }
}

/// A tanh network's order-to-chaos map over weight and bias scales.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PhaseMap {
    /// What every cell shares: `tanh · depth 20 × width 128 → 10 · batch 32 · f32 · seed 42`.
    pub network: String,
    /// The columns' σ_w (weights ~ N(0, σ_w²/n_in)).
    pub sigma_w: Vec<f64>,
    /// The rows' σ_b (hidden biases ~ N(0, σ_b²)).
    pub sigma_b: Vec<f64>,
    /// Mean-field theory's σ_w with χ = 1 for each row's σ_b (null if none in range).
    pub critical_sigma_w: Vec<Option<f64>>,
    /// Row by row (σ_b), then σ_w.
    pub cells: Vec<PhaseCell>,
}

/// One cell of a [`PhaseMap`].
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PhaseCell {
    pub sigma_w: f64,
    pub sigma_b: f64,
    /// Measured log₁₀ of the signal's per-layer factor (null where a norm is 0 or not finite).
    pub log10_per_layer: Option<f64>,
    /// χ at the forward pass's fixed point q*, from mean-field theory.
    pub chi: f64,
    /// ξ = 1/|ln χ|, layers over which the squared signal changes by a factor e (null at χ = 1).
    pub depth_scale: Option<f64>,
}

impl Report {
    /// A report of no runs, for text that quotes no figure and an experiment not run.
    pub fn empty(experiment: &str) -> Report {
        Report {
            experiment: experiment.to_string(),
            description: String::new(),
            runs: Vec::new(),
            side_runs: Vec::new(),
            metrics: Vec::new(),
            tables: Vec::new(),
            verdicts: Vec::new(),
            notes: Vec::new(),
            premises: Vec::new(),
            set_aside: Vec::new(),
            body: ReportBody::Runs,
        }
    }
}

impl Run {
    /// The config's pieces as a header shows them ([`ProbeConfig::parts`]), with the seeds
    /// of a median over several: `seeds 42–44` instead of `seed 42`.
    pub fn parts(&self) -> Vec<(&'static str, String)> {
        let mut parts = self.config.parts();
        if let [first, .., last] = self.seeds.as_slice()
            && let Some(p) = parts.iter_mut().find(|p| p.0 == "seed")
        {
            p.1 = format!("seeds {first}–{last}");
        }
        parts
    }

    /// [`Run::parts`] joined as one header line.
    pub fn describe(&self) -> String {
        let parts = self.parts();
        let filled: Vec<&str> = parts
            .iter()
            .map(|p| p.1.as_str())
            .filter(|v| !v.is_empty())
            .collect();
        filled.join(" · ")
    }

    /// Builds a run from the probe results of one config over one or more seeds.
    pub fn from_results(
        label: &str,
        config: &ProbeConfig,
        seeds: &[u64],
        results: &[ProbeResult],
    ) -> Run {
        let overall = |f: &dyn Fn(&ProbeResult) -> f64| median(results.iter().map(f).collect());
        let (body, theory) = match &config.kind {
            ProbeKind::Mlp(_) => {
                let layers = median_layers(results);
                let measured = log_ratio(
                    layers[0].figures.signal_norm,
                    layers[layers.len() - 1].figures.signal_norm,
                );
                let predicted = theory::predict(config).map(|p| (p.factor, p.orders));
                let theory = theory_line(predicted, measured, config.depth());
                let spectra = results.iter().flat_map(|r| r.singular_values()).cloned();
                let body = match Spectrum::of(spectra.collect()) {
                    Some(spectrum) => Body::Spectra { layers, spectrum },
                    None => Body::Layers(layers),
                };
                (body, theory)
            }
            ProbeKind::Recurrent(r) => {
                let f = RecurrentFigures::median(results.iter().filter_map(|r| r.steps()));
                let predicted = theory::predict_steps(r, &f).map(|p| (p.factor, p.orders));
                let theory = theory_line(
                    predicted,
                    f.signal_orders(),
                    f.steps.len().saturating_sub(1),
                );
                (Body::Steps(f), theory)
            }
            ProbeKind::Attention(a) => {
                let figures =
                    AttentionFigures::median(results.iter().filter_map(|r| r.attention()));
                let row = AttentionRow {
                    figures,
                    logit_var_theory: theory::attention_logit_variance(config),
                    entropy_uniform: libm::log(a.seq_len as f64),
                };
                let theory = theory_line(
                    theory::predict(config).map(|p| (p.factor, p.orders)),
                    None,
                    1,
                );
                (Body::Attention(row), theory)
            }
        };
        let nonfinite = results.iter().find_map(|r| r.nonfinite);
        Run {
            label: label.to_string(),
            config: config.clone(),
            seeds: seeds.to_vec(),
            loss: overall(&|r| r.loss),
            global_grad_norm: overall(&|r| r.global_grad_norm),
            first_nonfinite_layer: nonfinite.map(|n| n.layer),
            nonfinite,
            theory,
            body,
            loss_scale_used: results.iter().filter_map(|r| r.loss_scale).reduce(f64::min),
        }
    }

    /// The run's per-layer figures; a recurrent run has none (its figures are per step).
    pub fn layers(&self) -> &[LayerRow] {
        match &self.body {
            Body::Layers(layers) | Body::Spectra { layers, .. } => layers,
            Body::Steps(_) | Body::Attention(_) | Body::Sweep(_) => &[],
        }
    }

    /// A recurrent run's figures per step.
    pub fn steps(&self) -> Option<&RecurrentFigures> {
        match &self.body {
            Body::Steps(f) => Some(f),
            Body::Layers(_) | Body::Spectra { .. } | Body::Attention(_) | Body::Sweep(_) => None,
        }
    }

    /// A width sweep's figures (`demo width`).
    pub fn sweep(&self) -> Option<&Sweep> {
        match &self.body {
            Body::Sweep(w) => Some(w),
            Body::Layers(_) | Body::Spectra { .. } | Body::Steps(_) | Body::Attention(_) => None,
        }
    }

    /// The Jacobian's spectrum, for a run that took it.
    pub fn spectrum(&self) -> Option<&Spectrum> {
        match &self.body {
            Body::Spectra { spectrum, .. } => Some(spectrum),
            Body::Layers(_) | Body::Steps(_) | Body::Attention(_) | Body::Sweep(_) => None,
        }
    }

    /// An attention run's figures and their theory.
    pub fn attention(&self) -> Option<&AttentionRow> {
        match &self.body {
            Body::Attention(a) => Some(a),
            Body::Layers(_) | Body::Spectra { .. } | Body::Steps(_) | Body::Sweep(_) => None,
        }
    }

    /// log₁₀(‖∂L/∂W_1‖ / ‖∂L/∂W_last‖), when both are positive and finite.
    pub fn grad_orders(&self) -> Option<f64> {
        let first = self.layers().first()?.figures.grad_norm;
        let last = self.layers().last()?.figures.grad_norm;
        log_ratio(first, last)
    }

    /// log₁₀(‖∂L/∂h_1‖ / ‖∂L/∂h_last‖): how much the backprop signal itself shrank or grew.
    pub fn signal_orders(&self) -> Option<f64> {
        match &self.body {
            Body::Layers(layers) | Body::Spectra { layers, .. } => log_ratio(
                layers.first()?.figures.signal_norm,
                layers.last()?.figures.signal_norm,
            ),
            Body::Steps(f) => f.signal_orders(),
            Body::Attention(_) | Body::Sweep(_) => None,
        }
    }

    /// Mean-field theory's ‖∂L/∂h_l‖ for every layer, as the theory line states it: the
    /// measured norm at the output layer L = depth + 1, times the predicted per-layer factor
    /// f once for each layer below, ‖∂L/∂h_l‖ = ‖∂L/∂h_L‖ · f^(L−l); layer 1 then lies
    /// `predicted_orders` from the output. Computed through log₁₀, so a prediction beyond
    /// f64's range is left out rather than shown as 0 or ∞. `None` where the theory does not
    /// apply or the output layer's norm is 0 or not finite (nothing to anchor to).
    pub fn theory_signal_norms(&self) -> Option<Vec<(usize, f64)>> {
        let TheoryLine::Compared {
            predicted_factor, ..
        } = self.theory
        else {
            return None;
        };
        let output = &self.layers().last()?.figures;
        let anchor = output.signal_norm;
        if !(anchor > 0.0 && anchor.is_finite() && predicted_factor > 0.0) {
            return None;
        }
        let (log_anchor, log_factor) = (libm::log10(anchor), libm::log10(predicted_factor));
        let predicted = self
            .layers()
            .iter()
            .map(|row| {
                let below = output.layer.saturating_sub(row.figures.layer) as f64;
                (
                    row.figures.layer,
                    libm::pow(10.0, log_anchor + below * log_factor),
                )
            })
            .filter(|&(_, v)| v > 0.0 && v.is_finite())
            .collect();
        Some(predicted)
    }

    /// The hidden layers' mean of a per-layer fraction, over the layers that have it.
    pub fn hidden_mean(&self, pick: impl Fn(&LayerFigures) -> Option<f64>) -> Option<f64> {
        let layers = self.layers();
        let hidden = &layers[..layers.len().saturating_sub(1)];
        let v: Vec<f64> = hidden.iter().filter_map(|l| pick(&l.figures)).collect();
        (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
    }

    /// Layers whose gradient is exactly zero: underflow (or a dead network); for a recurrent
    /// run, the steps whose ‖∂L/∂h_t‖ is.
    pub fn zero_layers(&self) -> Vec<usize> {
        match &self.body {
            Body::Layers(layers) | Body::Spectra { layers, .. } => layers
                .iter()
                .filter(|l| l.figures.grad_norm == 0.0)
                .map(|l| l.figures.layer)
                .collect(),
            Body::Steps(f) => f.zero_steps(),
            Body::Attention(_) | Body::Sweep(_) => Vec::new(),
        }
    }
}

/// log₁₀(a / b) when both are positive and finite.
pub(crate) fn log_ratio(a: f64, b: f64) -> Option<f64> {
    (a > 0.0 && b > 0.0 && a.is_finite() && b.is_finite()).then(|| libm::log10(a / b))
}

/// A theory's predicted factor and orders beside the measured orders over `gaps` layers or
/// steps, whose per-layer (per-step) factor is 10^(orders / gaps).
fn theory_line(
    predicted: Result<(f64, f64), String>,
    measured: Option<f64>,
    gaps: usize,
) -> TheoryLine {
    match predicted {
        Err(reason) => TheoryLine::NotApplicable {
            not_applicable: reason,
        },
        Ok((factor, orders)) => TheoryLine::Compared {
            predicted_factor: factor,
            predicted_orders: orders,
            measured_factor: measured.map(|o| libm::pow(10.0, o / gaps as f64)),
            measured_orders: measured,
        },
    }
}

/// Each layer's figures, the median over the seeds' results, with the range of ‖∂L/∂W‖.
fn median_layers(results: &[ProbeResult]) -> Vec<LayerRow> {
    let first = results[0].layers();
    (0..first.len())
        .map(|l| {
            let pick = |g: &dyn Fn(&LayerFigures) -> f64| {
                median(results.iter().map(|r| g(&r.layers()[l])).collect())
            };
            let pick_opt = |g: &dyn Fn(&LayerFigures) -> Option<f64>| {
                g(&first[l]).map(|_| pick(&|f| g(f).unwrap_or(f64::NAN)))
            };
            let norms: Vec<f64> = results.iter().map(|r| r.layers()[l].grad_norm).collect();
            let many = results.len() > 1;
            LayerRow {
                figures: LayerFigures {
                    grad_norm: pick(&|f| f.grad_norm),
                    signal_norm: pick(&|f| f.signal_norm),
                    weight_norm: pick(&|f| f.weight_norm),
                    weight_std: pick(&|f| f.weight_std),
                    act_mean: pick(&|f| f.act_mean),
                    act_std: pick(&|f| f.act_std),
                    saturated: pick_opt(&|f| f.saturated),
                    dead: pick_opt(&|f| f.dead),
                    unit_spread: pick_opt(&|f| f.unit_spread),
                    ..first[l].clone()
                },
                grad_norm_min: many.then(|| norms.iter().copied().fold(f64::INFINITY, nan_min)),
                grad_norm_max: many.then(|| norms.iter().copied().fold(f64::NEG_INFINITY, nan_max)),
            }
        })
        .collect()
}

fn nan_min(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        f64::NAN
    } else {
        a.min(b)
    }
}

fn nan_max(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        f64::NAN
    } else {
        a.max(b)
    }
}

/// What sets run `i` apart in a list of runs' [`Run::parts`]: its own value of each piece
/// that differs, and `no batch norm` / `no residual` where only the others have one.
pub(crate) fn own_parts(all: &[Vec<(&'static str, String)>], i: usize) -> Vec<String> {
    let same = |k: usize| all.iter().all(|p| p.get(k) == all[0].get(k));
    (0..all[i].len())
        .filter(|&k| !same(k))
        .filter_map(|k| match all[i][k].1.as_str() {
            "" if matches!(all[i][k].0, "bn" | "residual") => all
                .iter()
                .map(|p| p[k].1.as_str())
                .find(|v| !v.is_empty())
                .map(|v| format!("no {v}")),
            "" => None,
            v => Some(v.to_string()),
        })
        .collect()
}

/// Figures a numeric quiz item can ask for, each read from one run of an experiment.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Figure {
    /// log₁₀(‖∂L/∂W_last‖ / ‖∂L/∂W_1‖): orders of magnitude the gradient loses from the output
    /// layer down to layer 1 (negative when it grows).
    GradOrdersDrop,
    /// log₁₀(‖∂L/∂W_1‖ / ‖∂L/∂W_last‖), as the demos print it ("+1.7 orders"): positive when
    /// layer 1 receives more than the output layer (the negative of `grad-orders-drop`).
    GradOrders,
    /// log₁₀(‖∂L/∂W_1‖ / ‖∂L/∂W_L‖) with L the last hidden layer: the slope among the hidden
    /// layers alone, without the output layer.
    GradOrdersHidden,
    /// The same for the backprop signal ‖∂L/∂h‖.
    SignalOrdersDrop,
    /// The measured per-layer factor of ‖∂L/∂h‖ (geometric mean).
    MeasuredFactor,
    /// Mean-field theory's predicted per-layer factor √χ.
    PredictedFactor,
    /// The layer where a value first overflowed or became NaN.
    FirstNonfiniteLayer,
    /// Trainable parameters of the network.
    Parameters,
    /// Saturated units, percent, averaged over the hidden layers.
    SaturatedPercent,
    /// Units with φ′ = 0 for every example, percent, averaged over the hidden layers.
    DeadPercent,
    /// The loss of the probe batch.
    Loss,
    /// ‖∂L/∂W_1‖, the first layer's gradient norm.
    GradFirst,
    /// ‖∂L/∂W‖ of the output layer.
    GradLast,
    /// Standard deviation of the first hidden layer's activations a_1.
    ActStdFirst,
    /// Standard deviation of the last hidden layer's activations.
    ActStdLast,
    /// √(Σ‖g‖²) over every parameter's gradient, before any clipping.
    GlobalGradNorm,
    /// How many layers receive a gradient of exactly 0 (underflow).
    ZeroLayers,
    /// Condition number σ_max/σ_min of the input–output Jacobian (median over its inputs).
    ConditionNumber,
    /// Median singular value of the input–output Jacobian.
    SpectrumMedian,
    /// σ95/σ5: the 95th over the 5th percentile of the Jacobian's singular values.
    SpectrumSpread,
    /// The Jacobian's singular values at or below 1e−12·σ_max, percent.
    NullPercent,
    /// ξ = 1/|ln χ̄| with χ̄ = (predicted factor)²: layers over which the squared backprop
    /// signal changes by a factor e.
    DepthScale,
    /// ‖∂L/∂h_(T−1)‖ / ‖∂L/∂h_T‖ of a recurrent run: the factor of the first step back alone.
    FirstStepFactor,
    /// An attention run's measured variance of the logits the softmax sees (mean of z²).
    LogitVar,
    /// Its theory, E[z²] = d_k·σ_q²·σ_k²·(1 + 2/(n·T)) / c².
    LogitVarTheory,
    /// The softmax's largest probability, mean over the queries.
    MaxProb,
    /// The softmax's entropy in nats, mean over the queries.
    Entropy,
    /// ‖∂L/∂W_Q‖ of an attention run.
    GradWq,
    /// ‖∂L/∂W_K‖ of an attention run.
    GradWk,
    /// Queries whose largest attention weight exceeds 0.99, percent.
    SaturatedQueries,
    /// ‖∂L/∂q_t‖ of the median query of an attention run.
    QueryGradMedian,
    /// A width sweep's best learning rate η: the lowest training loss after its steps.
    BestLr,
    /// A width sweep's training loss after its steps at the best η.
    BestLoss,
    /// A width sweep's ‖ΔW‖/‖W‖ of the first step in layer 1 (the input layer).
    StepRatioInput,
    /// A width sweep's ‖ΔW‖/‖W‖ of the first step in the output layer.
    StepRatioOutput,
}

impl Figure {
    /// The figure's value in `run`, if the run has one.
    pub fn of(self, run: &Run) -> Option<f64> {
        match self {
            Figure::GradOrdersDrop => run.grad_orders().map(|o| -o),
            Figure::GradOrders => run.grad_orders(),
            Figure::GradOrdersHidden => {
                let hidden = run.layers().len().checked_sub(2)?;
                log_ratio(
                    run.layers().first()?.figures.grad_norm,
                    run.layers()[hidden].figures.grad_norm,
                )
            }
            Figure::SignalOrdersDrop => run.signal_orders().map(|o| -o),
            Figure::MeasuredFactor => match run.theory {
                TheoryLine::Compared {
                    measured_factor, ..
                } => measured_factor,
                TheoryLine::NotApplicable { .. } => None,
            },
            Figure::PredictedFactor => match run.theory {
                TheoryLine::Compared {
                    predicted_factor, ..
                } => Some(predicted_factor),
                TheoryLine::NotApplicable { .. } => None,
            },
            Figure::FirstNonfiniteLayer => run.first_nonfinite_layer.map(|l| l as f64),
            Figure::Parameters => Some(run.config.parameters() as f64),
            Figure::SaturatedPercent => run.hidden_mean(|f| f.saturated).map(|v| 100.0 * v),
            Figure::DeadPercent => run.hidden_mean(|f| f.dead).map(|v| 100.0 * v),
            Figure::Loss => run.loss.is_finite().then_some(run.loss),
            Figure::GradFirst => run.layers().first().map(|l| l.figures.grad_norm),
            Figure::GradLast => run.layers().last().map(|l| l.figures.grad_norm),
            Figure::ActStdFirst => run.layers().first().map(|l| l.figures.act_std),
            Figure::ActStdLast => {
                let hidden = run.layers().len().checked_sub(2)?;
                Some(run.layers()[hidden].figures.act_std)
            }
            Figure::GlobalGradNorm => Some(run.global_grad_norm),
            Figure::ZeroLayers => Some(run.zero_layers().len() as f64),
            Figure::ConditionNumber => run.spectrum().map(|s| s.condition_number),
            Figure::SpectrumMedian => run.spectrum().map(|s| s.median),
            Figure::SpectrumSpread => {
                let s = run.spectrum()?;
                Some(s.p95 / s.p5).filter(|v| v.is_finite())
            }
            Figure::NullPercent => run.spectrum().map(|s| s.null_percent),
            Figure::DepthScale => {
                let f = Figure::PredictedFactor.of(run)?;
                theory::depth_scale(f * f)
            }
            Figure::FirstStepFactor => match &run.body {
                Body::Steps(f) => f.first_step_factor(),
                Body::Layers(_) | Body::Spectra { .. } | Body::Attention(_) | Body::Sweep(_) => {
                    None
                }
            },
            Figure::LogitVar => run.attention().map(|a| a.figures.logit_var),
            Figure::LogitVarTheory => run.attention().and_then(|a| a.logit_var_theory),
            Figure::MaxProb => run.attention().map(|a| a.figures.max_prob),
            Figure::Entropy => run.attention().map(|a| a.figures.entropy),
            Figure::GradWq => run.attention().map(|a| a.figures.grad_wq),
            Figure::GradWk => run.attention().map(|a| a.figures.grad_wk),
            Figure::SaturatedQueries => run.attention().map(|a| 100.0 * a.figures.saturated),
            Figure::QueryGradMedian => run.attention().map(|a| a.figures.query_grad_median),
            Figure::BestLr => run.sweep()?.best_lr(),
            Figure::BestLoss => run.sweep()?.best_loss(),
            Figure::StepRatioInput => run
                .sweep()?
                .update_ratios
                .first()
                .copied()
                .filter(|v| v.is_finite()),
            Figure::StepRatioOutput => run
                .sweep()?
                .update_ratios
                .last()
                .copied()
                .filter(|v| v.is_finite()),
        }
    }
}

impl Figure {
    /// The figure as a lesson's text quotes it: orders of magnitude below 0.01 in fixed
    /// point ("0.009": an exponent would read as a ratio), everything else as
    /// [`crate::format::figure`] shows it.
    pub fn show(self, v: f64) -> String {
        use Figure as F;
        match self {
            F::GradOrdersDrop | F::GradOrders | F::GradOrdersHidden | F::SignalOrdersDrop
                if v.abs() < 0.01 && v != 0.0 =>
            {
                format!("{v:.3}")
            }
            // A grid of powers of two, as the sweep's table prints it: 0.015625.
            F::BestLr => crate::format::rate(v),
            _ => crate::format::figure(v),
        }
    }

    /// Whether a run of `config` can have the figure at all (whether it does can depend on
    /// the values the run meets: a norm can underflow to 0).
    pub fn possible(self, config: &ProbeConfig) -> bool {
        use Figure as F;
        match (&config.kind, self) {
            (_, F::MeasuredFactor | F::PredictedFactor | F::DepthScale) => {
                theory::applies(config).is_ok()
            }
            (
                ProbeKind::Mlp(m),
                F::ConditionNumber | F::SpectrumMedian | F::SpectrumSpread | F::NullPercent,
            ) => m.jacobian_inputs > 0,
            (ProbeKind::Mlp(_), F::DeadPercent) => config.spec.activation.can_die(),
            (
                ProbeKind::Mlp(_),
                F::FirstStepFactor
                | F::LogitVar
                | F::LogitVarTheory
                | F::MaxProb
                | F::Entropy
                | F::GradWq
                | F::GradWk
                | F::SaturatedQueries
                | F::QueryGradMedian,
            ) => false,
            // Whether an MLP run is a width sweep's is the experiment's to say.
            (
                ProbeKind::Mlp(_),
                F::BestLr | F::BestLoss | F::StepRatioInput | F::StepRatioOutput,
            ) => true,
            (ProbeKind::Mlp(_), _) => true,
            // A recurrent run has the figures of its steps and of the whole run, none of layers.
            (
                ProbeKind::Recurrent(_),
                F::SignalOrdersDrop
                | F::FirstNonfiniteLayer
                | F::Parameters
                | F::Loss
                | F::GlobalGradNorm
                | F::ZeroLayers
                | F::FirstStepFactor,
            ) => true,
            (ProbeKind::Recurrent(_), _) => false,
            (
                ProbeKind::Attention(_),
                F::LogitVar
                | F::LogitVarTheory
                | F::MaxProb
                | F::Entropy
                | F::GradWq
                | F::GradWk
                | F::SaturatedQueries
                | F::QueryGradMedian
                | F::Parameters
                | F::Loss
                | F::GlobalGradNorm,
            ) => true,
            (ProbeKind::Attention(_), _) => false,
        }
    }

    /// What a run must be for the figure to exist, for a message when it does not.
    pub fn needs(self) -> &'static str {
        match self {
            Figure::GradOrdersDrop | Figure::GradOrders | Figure::SignalOrdersDrop => {
                "finite, non-zero norms at layer 1 and at the output layer"
            }
            Figure::GradOrdersHidden => {
                "finite, non-zero norms at layer 1 and at the last hidden layer"
            }
            Figure::MeasuredFactor | Figure::PredictedFactor => {
                "a run mean-field theory applies to (random weights, no batch norm, no skip \
                 connections) with finite, non-zero signal norms"
            }
            Figure::FirstNonfiniteLayer => "a run in which some value overflowed or became NaN",
            Figure::Parameters => "nothing: every run has it",
            Figure::SaturatedPercent => "hidden layers",
            Figure::DeadPercent => "a ReLU run (units with φ′ = 0 for every example)",
            Figure::Loss => "a finite loss",
            Figure::GradFirst
            | Figure::GradLast
            | Figure::ActStdFirst
            | Figure::ActStdLast
            | Figure::GlobalGradNorm
            | Figure::ZeroLayers => "nothing: every run has it",
            Figure::ConditionNumber
            | Figure::SpectrumMedian
            | Figure::SpectrumSpread
            | Figure::NullPercent => "a run that takes the input–output Jacobian (demo isometry)",
            Figure::DepthScale => {
                "a run mean-field theory applies to, with a predicted factor other than 1"
            }
            Figure::FirstStepFactor => {
                "a recurrent run (demo recurrent) of at least 2 steps with finite, non-zero \
                 norms at t = T and T − 1"
            }
            Figure::LogitVar
            | Figure::MaxProb
            | Figure::Entropy
            | Figure::GradWq
            | Figure::GradWk
            | Figure::SaturatedQueries
            | Figure::QueryGradMedian => "an attention run (demo attention)",
            Figure::LogitVarTheory => {
                "an attention run (demo attention) whose projections have a variance"
            }
            Figure::BestLr | Figure::BestLoss => {
                "a width sweep (demo width) in which some learning rate did not diverge"
            }
            Figure::StepRatioInput | Figure::StepRatioOutput => {
                "a width sweep (demo width) whose first step at the reference η is finite"
            }
        }
    }
}

impl fmt::Display for Figure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let v = self.to_possible_value().expect("no skipped variants");
        f.write_str(v.get_name())
    }
}

#[cfg(test)]
mod show_tests {
    use super::Figure;

    /// Orders below 0.01 print in fixed point, not as an exponent that reads as a ratio;
    /// other figures keep their scientific form.
    #[test]
    fn small_orders_print_in_fixed_point() {
        assert_eq!(Figure::GradOrdersDrop.show(8.76e-3), "0.009");
        assert_eq!(Figure::GradOrders.show(-8.76e-3), "-0.009");
        assert_eq!(Figure::GradOrdersDrop.show(12.34), "12.3");
        assert_eq!(Figure::GradOrdersDrop.show(0.0), "0");
        assert_eq!(Figure::Loss.show(8.76e-3), "8.76e-3");
    }
}
