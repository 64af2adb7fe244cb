//! gradtutor: a command-line tutor for gradient dynamics in deep networks.
//!
//! `nn` computes, `probe` measures, `theory` predicts, `experiments` turn measurements into a
//! `report`, which `report::text` and `report::json` render. `bank` holds the questions;
//! `cli` and `app` are the command line.

pub mod app;
pub mod bank;
pub mod class;
pub mod cli;
pub mod data;
pub mod experiments;
pub mod export;
pub mod lesson;
pub mod nn;
pub mod plot;
pub mod probe;
pub mod progress;
pub mod quiz;
pub mod report;
pub mod settings;
pub mod style;
pub mod theory;
pub mod train;
