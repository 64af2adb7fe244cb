//! The catalogue: each experiment plans one or more probe runs, and turns their figures
//! into a [`Report`] with verdicts computed from those same figures.

mod activations;
mod attention;
mod batchnorm;
mod clipping;
mod describe;
mod exploding;
mod he;
mod init;
mod isometry;
mod layernorm;
mod phase;
mod precision;
mod recurrent;
mod residual;
mod skipinit;
mod vanishing;
mod width;

use crate::format::{escape, pretty, seconds, span_of};
use crate::probe::{self, CheckedProbe, ProbeConfig};
use crate::report::{Figure, Metric, Report, ReportBody, Run, Term, Verdict};
use crate::settings::{Knob, Settings};
use anyhow::{Result, bail};

/// A run an experiment asks for.
pub struct Planned {
    pub label: String,
    pub config: ProbeConfig,
    pub role: Role,
}

/// What a planned run is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// Shown in the layer × run matrix; its figures are what claims and quiz items read.
    Main,
    /// Only in a summary table or a verdict.
    Side,
    /// A side run that only a table reads (a depth sweep): left out when only the figures
    /// of the main runs are wanted ([`Experiment::figures`]).
    Sweep,
    /// A run the experiment's extension trains and reports (`demo width`'s sweep): named
    /// and checked with the plan, as a main run's label is, but never probed.
    Trained,
}

impl Planned {
    pub fn main(label: impl Into<String>, config: ProbeConfig) -> Self {
        Planned::with(Role::Main, label, config)
    }
    pub fn side(label: impl Into<String>, config: ProbeConfig) -> Self {
        Planned::with(Role::Side, label, config)
    }
    pub fn sweep(label: impl Into<String>, config: ProbeConfig) -> Self {
        Planned::with(Role::Sweep, label, config)
    }
    pub fn trained(label: impl Into<String>, config: ProbeConfig) -> Self {
        Planned::with(Role::Trained, label, config)
    }
    fn with(role: Role, label: impl Into<String>, config: ProbeConfig) -> Self {
        Planned {
            label: label.into(),
            config,
            role,
        }
    }
}

/// The plan of a single-run experiment: the settings' network, labelled by its activation.
pub(crate) fn single_run(s: &Settings) -> Result<Vec<Planned>> {
    let cfg = s.probe_config()?;
    Ok(vec![Planned::main(cfg.spec.activation.to_string(), cfg)])
}

/// An entry of the catalogue.
pub struct Experiment {
    pub name: &'static str,
    /// One line for `gradtutor demos`: true of the experiment at its default settings.
    pub summary: &'static str,
    /// The opening paragraph, written for the network that actually runs: it is given the
    /// probe config of the resolved settings (the experiment's defaults under the flags).
    pub describe: fn(&ProbeConfig) -> String,
    pub defaults: fn() -> Settings,
    /// Settings the experiment sets itself, so they cannot be given.
    pub fixed: &'static [Knob],
    /// Why it sets them, for the message that refuses them ("it compares activations").
    pub fixed_why: &'static str,
    pub metrics: &'static [Metric],
    pub plan: fn(&Settings) -> Result<Vec<Planned>>,
    /// Adds verdicts and tables, computed from the runs.
    pub conclude: fn(&Settings, &mut Report),
    /// Work past the runs whose tables the full report shows and no figure reads (a short
    /// training run): left out when only figures are wanted ([`Experiment::figures`]).
    pub extend: Option<Extension>,
    /// The figures of a main run that its tables and verdicts print, beside what the
    /// terminal view prints of every report (`render::text::prints`): what `check` accepts
    /// as printed for a numeric quiz item.
    pub prints: fn(&Run) -> &'static [Figure],
}

/// Work past an experiment's probe runs ([`Experiment::extend`]).
#[derive(Clone, Copy)]
pub struct Extension {
    /// Adds its tables to the report.
    pub run: fn(&Settings, &mut Report),
    /// Its multiply-adds, roughly, for the time budget (as [`ProbeConfig::work`] counts).
    pub work: fn(&Settings) -> f64,
    /// Whether it makes runs whose figures claims and quiz items read (`demo width`'s
    /// sweep), so that [`Experiment::figures`] runs it too.
    pub figures: bool,
}

/// Every experiment, in the order `demos` lists them.
pub const ALL: &[&Experiment] = &[
    &vanishing::EXPERIMENT,
    &exploding::EXPERIMENT,
    &activations::EXPERIMENT,
    &init::EXPERIMENT,
    &batchnorm::EXPERIMENT,
    &he::EXPERIMENT,
    &residual::EXPERIMENT,
    &clipping::EXPERIMENT,
    &recurrent::EXPERIMENT,
    &precision::EXPERIMENT,
    &layernorm::EXPERIMENT,
    &skipinit::EXPERIMENT,
    &isometry::EXPERIMENT,
    &phase::EXPERIMENT,
    &attention::EXPERIMENT,
    &width::EXPERIMENT,
];

/// Looks an experiment up by name; an unknown name lists the valid ones.
pub fn find(name: &str) -> Result<&'static Experiment> {
    if let Some(e) = ALL.iter().find(|e| e.name.eq_ignore_ascii_case(name)) {
        return Ok(e);
    }
    let names: Vec<&str> = ALL.iter().map(|e| e.name).collect();
    let hint = crate::format::did_you_mean(&name.to_ascii_lowercase(), names.iter().copied())
        .map(|n| format!(" Did you mean '{n}'?"))
        .unwrap_or_default();
    bail!(
        "unknown experiment '{}'.{hint} Valid experiments: {}. See `gradtutor demos`.",
        escape(name, 40),
        names.join(", ")
    )
}

pub(crate) use crate::probe::WORK_PER_SECOND;

/// An experiment's runs, resolved and checked: running it cannot fail.
pub struct Plan {
    experiment: &'static Experiment,
    /// The experiment's defaults under the given settings.
    settings: Settings,
    /// Those settings' probe config, which the description is written for.
    base: ProbeConfig,
    seeds: Vec<u64>,
    runs: Vec<(Planned, CheckedProbe)>,
}

impl Experiment {
    /// The experiment's defaults under `settings`, refusing flags it sets itself.
    fn resolve(&self, settings: &Settings) -> Result<Settings> {
        let clash: Vec<Knob> = settings
            .given()
            .into_iter()
            .filter(|k| self.fixed.contains(k))
            .collect();
        let recurrent_only: Vec<&str> = settings
            .given()
            .into_iter()
            .filter(|k| Knob::RECURRENT.contains(k))
            .map(|k| k.flag())
            .collect();
        if (self.defaults)().seq_len.is_none() && !recurrent_only.is_empty() {
            bail!(
                "{} only appl{} to `demo recurrent`; drop {0} for demo {}",
                recurrent_only.join(", "),
                if recurrent_only.len() == 1 {
                    "ies"
                } else {
                    "y"
                },
                self.name
            );
        }
        let attention_only: Vec<&str> = settings
            .given()
            .into_iter()
            .filter(|k| Knob::ATTENTION.contains(k))
            .map(|k| k.flag())
            .collect();
        if (self.defaults)().d_k.is_none() && !attention_only.is_empty() {
            bail!(
                "{} only appl{} to `demo attention`; drop {0} for demo {}",
                attention_only.join(", "),
                if attention_only.len() == 1 {
                    "ies"
                } else {
                    "y"
                },
                self.name
            );
        }
        let width_only: Vec<&str> = settings
            .given()
            .into_iter()
            .filter(|k| Knob::WIDTH.contains(k))
            .map(|k| k.flag())
            .collect();
        if (self.defaults)().widths.is_none() && !width_only.is_empty() {
            bail!(
                "{} only appl{} to `demo width`; drop {0} for demo {}",
                width_only.join(", "),
                if width_only.len() == 1 { "ies" } else { "y" },
                self.name
            );
        }
        if !clash.is_empty() {
            let flags = |knobs: &[Knob]| {
                knobs
                    .iter()
                    .map(|k| k.flag())
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            bail!(
                "demo {} sets {} itself ({}); drop {} or use `demo vanishing` to choose every \
                 setting freely",
                self.name,
                flags(self.fixed),
                self.fixed_why,
                flags(&clash)
            );
        }
        Ok((self.defaults)().overlay(settings))
    }

    /// Resolves `settings` and checks every run they give against `max_bytes`.
    pub fn plan(&'static self, settings: &Settings, max_bytes: u64) -> Result<Plan> {
        let settings = self.resolve(settings)?;
        settings.check_size(max_bytes)?;
        let seeds = settings.seed_list()?;
        let base = settings.probe_config()?;
        let runs = (self.plan)(&settings)?
            .into_iter()
            .map(|p| {
                let checked = p.config.check(max_bytes)?;
                Ok((p, checked))
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Plan {
            experiment: self,
            settings,
            base,
            seeds,
            runs,
        })
    }

    /// Checks that `settings` give runs that can happen, without running them.
    pub fn validate(&'static self, settings: &Settings, max_bytes: u64) -> Result<()> {
        self.plan(settings, max_bytes).map(|_| ())
    }

    /// Plans and runs: the report of `settings`.
    pub fn run(&'static self, settings: &Settings, max_bytes: u64) -> Result<Report> {
        Ok(self.plan(settings, max_bytes)?.run())
    }

    /// The report of `settings` as far as the main runs' figures go: what `check` reads.
    /// Sweeps only a table reads and [`Experiment::extend`] (unless it makes the figures)
    /// are left out; every figure of every main run is the same as in [`Experiment::run`].
    pub fn figures(&'static self, settings: &Settings, max_bytes: u64) -> Result<Report> {
        Ok(self.plan(settings, max_bytes)?.run_scoped(false))
    }
}

impl Plan {
    pub fn experiment(&self) -> &'static Experiment {
        self.experiment
    }

    /// The runs shown layer by layer, or trained by the extension (those a quiz item can
    /// name), with their labels.
    pub fn main_runs(&self) -> impl Iterator<Item = (&str, &ProbeConfig)> {
        self.runs
            .iter()
            .filter(|(p, _)| matches!(p.role, Role::Main | Role::Trained))
            .map(|(p, _)| (p.label.as_str(), &p.config))
    }

    /// Roughly how long [`Plan::run`] takes, in seconds, from the runs' sizes alone: the
    /// work of every run ([`ProbeConfig::work`]) over every seed and of the extension, at
    /// [`WORK_PER_SECOND`].
    pub fn seconds(&self) -> f64 {
        self.seconds_scoped(true)
    }

    /// [`Plan::seconds`] of the whole run (`full`) or of [`Experiment::figures`]' part of it:
    /// the sweeps and the extension left out.
    fn seconds_scoped(&self, full: bool) -> f64 {
        let runs: f64 = self
            .runs
            .iter()
            .filter(|(p, _)| full || p.role != Role::Sweep)
            .filter(|(p, _)| p.role != Role::Trained)
            .map(|(p, _)| p.config.work())
            .sum();
        let extension = self
            .experiment
            .extend
            .filter(|e| full || e.figures)
            .map_or(0.0, |e| (e.work)(&self.settings));
        (runs * self.seeds.len() as f64 + extension) / WORK_PER_SECOND
    }

    /// Refuses a plan estimated to take more than `budget` seconds, with the estimate.
    pub fn check_time(&self, budget: f64) -> Result<()> {
        self.check_time_scoped(budget, true)
    }

    /// [`Plan::check_time`] for the figures alone ([`Experiment::figures`]), as `check` and
    /// a numeric quiz item run them.
    pub fn check_figures_time(&self, budget: f64) -> Result<()> {
        self.check_time_scoped(budget, false)
    }

    fn check_time_scoped(&self, budget: f64, full: bool) -> Result<()> {
        let need = self.seconds_scoped(full);
        if need <= budget {
            return Ok(());
        }
        bail!(
            "demo {} with these settings would take about {} s here (estimated from its size \
             before running: {} over {}), over the time budget of {} s; make it smaller \
             (fewer layers, units, examples or seeds)",
            self.experiment.name,
            seconds(need),
            crate::format::count(self.runs.len(), "network", "networks"),
            crate::format::count(self.seeds.len(), "seed", "seeds"),
            seconds(budget)
        )
    }

    /// Runs every planned probe over every seed and builds the report.
    pub fn run(&self) -> Report {
        self.run_scoped(true)
    }

    /// The report, in full or (`full` false) without the sweeps and the extension.
    fn run_scoped(&self, full: bool) -> Report {
        let exp = self.experiment;
        let seeds = &self.seeds;
        let mut runs = Vec::with_capacity(self.runs.len());
        let mut side = Vec::new();
        for (p, checked) in self
            .runs
            .iter()
            .filter(|(p, _)| full || p.role != Role::Sweep)
            .filter(|(p, _)| p.role != Role::Trained)
        {
            let results: Vec<_> = seeds.iter().map(|&s| checked.with_seed(s).run()).collect();
            let run = Run::from_results(&p.label, &p.config, seeds, &results);
            if p.role == Role::Main {
                runs.push(run)
            } else {
                side.push(run)
            }
        }
        let mut report = Report {
            experiment: exp.name.to_string(),
            description: (exp.describe)(&self.base),
            runs,
            side_runs: side,
            metrics: exp.metrics.to_vec(),
            tables: Vec::new(),
            verdicts: Vec::new(),
            notes: Vec::new(),
            premises: Vec::new(),
            set_aside: Vec::new(),
            body: ReportBody::Runs,
        };
        if seeds.len() > 1 {
            report.notes.push(format!(
                "Figures are medians over {} seeds ({}–{}); --json has each layer's min and max.",
                seeds.len(),
                seeds[0],
                seeds[seeds.len() - 1]
            ));
        }
        (exp.conclude)(&self.settings, &mut report);
        if let Some(extend) = exp.extend.filter(|e| full || e.figures) {
            (extend.run)(&self.settings, &mut report);
        }
        report
    }
}

/// The signal's change in orders that [`flow_verdict`] states beside the gradient's: where
/// the run is finite with no layer at 0 and the two differ by more than one order.
fn signal_stated(run: &Run) -> Option<f64> {
    if run.nonfinite.is_some() || !run.zero_layers().is_empty() {
        return None;
    }
    let (h, orders) = (run.signal_orders()?, run.grad_orders()?);
    ((h - orders).abs() > 1.0).then_some(h)
}

/// The figures [`flow_verdict`] prints of `run` beyond the terminal view's: the signal's
/// change, where it states it (an experiment's `prints`).
pub(crate) fn flow_prints(run: &Run) -> &'static [Figure] {
    match signal_stated(run) {
        Some(_) => &[Figure::SignalOrdersDrop],
        None => &[],
    }
}

/// A sentence on how the gradient changes from the last layer to the first, worded from
/// where layer 1's gradient lies against the output layer's: more than one order below,
/// above, or within one.
pub(crate) fn flow_verdict(run: &Run) -> Verdict {
    if let Some(n) = run.nonfinite {
        return overflow_verdict(run, n).into();
    }
    let zeros = run.zero_layers();
    if !zeros.is_empty() && run.config.spec.block.learns_scale() {
        return Verdict::plain(format!(
            "{}: layers {} receive ∂L/∂W = 0 exactly, not by underflow: each residual branch \
             is multiplied by a learned α that starts at 0, so only the α's move at first.",
            run.label,
            span_of(&zeros)
        ));
    }
    if !zeros.is_empty() {
        return underflow_verdict(run, &zeros).into();
    }
    let last = run.layers().last().map_or(0, |l| l.figures.layer);
    let Some(orders) = run.grad_orders() else {
        return Verdict::new(
            format!("{}: the gradient norms are not finite.", run.label),
            vec![Term::of(Figure::GradOrders, run).undefined()],
        );
    };
    let ratio = libm::pow(10.0, orders);
    let grad = Term::of(Figure::GradOrders, run);
    let mut v = if orders < -1.0 {
        Verdict::new(
            format!(
                "{}: layer 1 receives {} of layer {last}'s gradient: {:.1} orders of magnitude \
                 smaller.",
                run.label,
                pretty(ratio),
                -orders
            ),
            vec![grad.lt(-1.0)],
        )
    } else if orders > 1.0 {
        Verdict::new(
            format!(
                "{}: layer 1's gradient is {}× layer {last}'s: {:.1} orders of magnitude larger.",
                run.label,
                pretty(ratio),
                orders
            ),
            vec![grad.gt(1.0)],
        )
    } else {
        Verdict::new(
            format!(
                "{}: layer 1's gradient is {:.2}× layer {last}'s: within one order of magnitude.",
                run.label, ratio
            ),
            vec![grad.within(0.0, 1.0)],
        )
    };
    if let Some(h) = signal_stated(run) {
        // The signal's change and the gradient's differ by more than one order.
        let signal = -Term::of(Figure::SignalOrdersDrop, run);
        v.text.push_str(&format!(
            " The backprop signal ‖∂L/∂h‖ itself changes by {h:+.1} orders; the layer inputs in \
             ∂L/∂W_l = a_(l−1)ᵀ ∂L/∂h_l make up the difference."
        ));
        v = v.and(signal.outside(Term::of(Figure::GradOrders, run), 1.0));
    }
    v
}

/// Where a value stopped being finite, and what that does to a step.
fn overflow_verdict(run: &Run, n: probe::NonFinite) -> String {
    let what = if n.nan {
        "became NaN"
    } else {
        "overflowed to inf"
    };
    format!(
        "{}: a value {what} at layer {} in the {} pass; every gradient computed from it is \
         garbage, and one SGD step would write inf or NaN into the weights.",
        run.label, n.layer, n.pass
    )
}

/// Which layers got exactly 0, and the lowest layer that still got something.
fn underflow_verdict(run: &Run, zeros: &[usize]) -> String {
    let live = run
        .layers()
        .iter()
        .find(|l| l.figures.grad_norm > 0.0)
        .map(|l| {
            format!(
                "; the first layer with a non-zero gradient is {}, at {}",
                l.figures.layer,
                pretty(l.figures.grad_norm)
            )
        })
        .unwrap_or_default();
    format!(
        "{}: layers {} receive a gradient of exactly 0 ({} underflow): no update at all{live}.",
        run.label,
        span_of(zeros),
        run.config.precision
    )
}
