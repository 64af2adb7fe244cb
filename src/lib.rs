//! gradtutor: a command-line tutor for gradient dynamics in deep networks.
//!
//! Dependencies run one way, from the engine ([`nn`]) and the leaves (`format`, `ui`,
//! `progress`) up to the command line (`cli`, `app`). Which module sits in which layer is
//! written in one place, the README's Layout table; `tests/it/layers.rs` reads it and fails on a
//! dependency that points up.
//!
//! The engine is public as a module; the rest is reached through the items below.

#![warn(unreachable_pub)]

pub mod nn;

mod app;
mod bank;
mod cache;
mod check;
mod classroom;
mod cli;
mod data;
mod experiments;
mod export;
mod format;
mod math;
mod probe;
mod progress;
mod quiz;
mod render;
mod report;
mod roster;
mod serve;
mod session;
mod settings;
mod theory;
mod train;
mod ui;

pub use app::run;
pub use bank::{Bank, CodeBlock, ItemKind, Question};
pub use check::check as check_bank;
pub use cli::{Cli, error_text as cli_error_text};
pub use data::{DataSpec, Dataset, Task};
pub use experiments::{ALL as EXPERIMENTS, Experiment, find as find_experiment};
pub use export::markdown as export_markdown;
pub use format::{escape_lines, figure as format_figure};
pub use probe::hist;
pub use probe::recurrent::{Recurrent, Step};
pub use probe::{
    Mlp, Pass, Precision, ProbeConfig, ProbeKind, ProbeResult, gaussian_batch,
    measure as measure_pass, probe,
};
pub use progress::{Progress, Store};

pub use render::json::render as render_json;
pub use render::svg::{demo_charts, hist_svg, phase_svg, svg_string, train_charts};
pub use render::text::render as render_text;
pub use render::training::render as render_training;
pub use report::{
    Figure, Line, MapFigure, Own, Premise, Rel, Report, ReportBody, Run, RunHist, Term, TheoryLine,
    Verdict,
};
pub use settings::{Knob, Settings};
pub use theory::{Prediction, gaussian_mean, predict};
pub use train::live::{Frame, LiveRun, State as LiveState};
pub use train::settings::TrainSettings;
pub use train::{History, OptimizerName, TrainConfig, TrainFigure, TrainReport, Variant, train};
pub use ui::{Ui, error_lines, wrap_lines};
