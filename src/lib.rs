//! gradtutor: a command-line tutor for gradient dynamics in deep networks.
//!
//! Dependencies run one way, top to bottom:
//!
//! - `format`, `ui`: number formatting and terminal facts (leaves).
//! - [`nn`]: the numerical engine: layers, initializers, losses, optimizers, exact backprop.
//! - `probe`: the canonical gradient probe; `theory`: mean-field predictions;
//!   `data`: generated training sets.
//! - `report`: what an experiment found, as plain data (runs, figures, tables, verdicts).
//! - `settings`: an experiment's settings (the `demo` flags and a question's preset).
//! - `train`: training comparisons and their verdicts.
//! - `experiments`: the catalogue, each experiment's runs and conclusions in one file (one
//!   of them, `skipinit`, trains through `train`).
//! - `bank`: question files (format, loading, `check`); `quiz`: grading answers;
//!   `roster`: students' progress records read against a bank.
//! - `render`: text, JSON, SVG and Markdown views of reports, lessons and quiz items.
//! - `check`: `gradtutor check`, running every claim and numeric item of a bank;
//!   `classroom`: the quiz and the guided tour; `progress`: the student's record.
//! - `cli`, `app`: the command line.
//!
//! The engine is public as a module; the rest is reached through the items below.

pub mod nn;

mod app;
mod bank;
mod check;
mod classroom;
mod cli;
mod data;
mod experiments;
mod format;
mod probe;
mod progress;
mod quiz;
mod render;
mod report;
mod roster;
mod settings;
mod theory;
mod train;
mod ui;

pub use app::run;
pub use bank::{Bank, Claim, CodeBlock, ItemKind, Preset, Question, QuizItem, TrainPreset};
pub use check::{Findings, check as check_bank};
pub use cli::Cli;
pub use data::{DataSpec, Dataset, Task};
pub use experiments::{ALL as EXPERIMENTS, Experiment, Plan, find as find_experiment};
pub use format::figure as format_figure;
pub use probe::recurrent::{ParamNorm, Recurrent, RecurrentFigures, Spectrum, Step};
pub use probe::{
    CheckedProbe, LayerFigures, Mlp, NonFinite, Pass, Precision, ProbeBody, ProbeConfig, ProbeKind,
    ProbeResult, gaussian_batch, measure as measure_pass, probe,
};
pub use progress::{Attempt, ItemResult, Progress, Store};
pub use quiz::{Outcome, grade};
pub use render::json::render as render_json;
pub use render::markdown::markdown as export_markdown;
pub use render::svg::{Chart, demo_charts, phase_svg, train_charts, write_svg};
pub use render::text::render as render_text;
pub use render::training::render as render_training;
pub use report::{Figure, LayerRow, Metric, Report, ReportBody, Run, Table, TheoryLine};
pub use settings::{Knob, Settings};
pub use theory::{Prediction, gaussian_mean, predict};
pub use train::settings::TrainSettings;
pub use train::{
    Chance, CheckedTrain, Checkpoint, Divergence, Eval, History, OptimizerName, TrainConfig,
    TrainFigure, TrainReport, Variant, train, verdict as train_verdict,
};
pub use ui::{ColorChoice, Style, Ui};
