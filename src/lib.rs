//! gradtutor: a command-line tutor for gradient dynamics in deep networks.
//!
//! `nn` computes, `probe` measures, `theory` predicts, `experiments` turn measurements into a
//! `report`, which `render` prints. `bank` holds the questions;
//! `cli` and `app` are the command line.

pub mod app;
pub mod bank;
pub mod classroom;
pub mod cli;
pub mod data;
pub mod experiments;
pub mod format;
pub mod nn;
pub mod probe;
pub mod progress;
pub mod quiz;
pub mod render;
pub mod report;
pub mod settings;
pub mod theory;
pub mod train;
pub mod ui;
