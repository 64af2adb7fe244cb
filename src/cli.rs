//! The command line: clap types only.

use crate::settings::Settings;
use crate::style::ColorChoice;
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

const AFTER_HELP: &str = "Examples:
  gradtutor list                          the question bank
  gradtutor ask 3                         question 3: explanation, then its experiment
  gradtutor ask vanishing-gradients --depth 50
  gradtutor demo vanishing --depth 20     an experiment directly
  gradtutor demos                         every experiment, one line each
  gradtutor train                         train four networks side by side";

/// A command-line tutor for gradient dynamics in deep neural networks: read why gradients
/// vanish or explode, then watch it happen, layer by layer, on a real network.
#[derive(Parser, Debug)]
#[command(name = "gradtutor", version, about, after_help = AFTER_HELP)]
pub struct Cli {
    /// When to use colour: auto (on a terminal, unless NO_COLOR is set), always, never.
    #[arg(long, global = true, value_name = "WHEN", default_value = "auto")]
    pub color: ColorChoice,

    /// Read the question bank from this folder of .toml files instead of the built-in one.
    #[arg(long, global = true, value_name = "DIR", env = "GRADTUTOR_QUESTIONS")]
    pub questions: Option<PathBuf>,

    /// Refuse runs that would need more memory than this (e.g. 512MiB, 4GiB).
    #[arg(
        long,
        global = true,
        value_name = "SIZE",
        env = "GRADTUTOR_MAX_MEMORY",
        default_value = "4GiB",
        value_parser = parse_bytes
    )]
    pub max_memory: u64,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// List the question bank: id, title and paired experiment.
    List,
    /// Show a question's explanation, then run its experiment.
    Ask(AskArgs),
    /// Run an experiment directly; every setting is a flag.
    Demo(DemoArgs),
    /// List the experiments (same as `demo --list`).
    Demos,
    /// Train networks on a generated dataset and watch gradient flow decide how they learn.
    Train(TrainArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions {
        #[arg(value_name = "SHELL")]
        shell: clap_complete::Shell,
    },
}

#[derive(Args, Debug)]
pub struct AskArgs {
    /// Question id (`3`) or slug (`saturating-activations`).
    #[arg(value_name = "ID|SLUG")]
    pub question: String,

    /// Show the explanation only, without running the experiment or the training run.
    #[arg(long)]
    pub no_demo: bool,

    /// Run the experiment but not the question's training comparison (if it has one).
    #[arg(long)]
    pub no_train: bool,

    /// Flags given here override the question's preset.
    #[command(flatten)]
    pub settings: Settings,
}

#[derive(Args, Debug)]
#[command(after_help = crate::settings::names_help())]
pub struct DemoArgs {
    /// The experiment to run (see `gradtutor demos`).
    #[arg(value_name = "NAME", required_unless_present = "list")]
    pub name: Option<String>,

    /// List the experiments instead of running one.
    #[arg(long, conflicts_with = "name")]
    pub list: bool,

    /// Print the full report as JSON (non-finite numbers as null).
    #[arg(long)]
    pub json: bool,

    /// Also write the per-layer gradient norms as an SVG chart to FILE.
    #[arg(long, value_name = "FILE.svg")]
    pub plot: Option<PathBuf>,

    #[command(flatten)]
    pub settings: Settings,
}

#[derive(Args, Debug)]
#[command(after_help = crate::train::settings::train_help())]
pub struct TrainArgs {
    /// Print the whole history as JSON (non-finite numbers as null); no progress bar.
    #[arg(long)]
    pub json: bool,

    /// Also write the loss curves and per-layer gradient norms as an SVG chart to FILE.
    #[arg(long, value_name = "FILE.svg")]
    pub plot: Option<PathBuf>,

    #[command(flatten)]
    pub settings: crate::train::settings::TrainSettings,
}

/// `4GiB`, `512MiB`, `100000` (bytes).
pub fn parse_bytes(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let split = t.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: f64 = num
        .trim()
        .parse()
        .map_err(|_| format!("'{s}' is not a size; write e.g. 512MiB or 4GiB"))?;
    let mult = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1u64,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        "t" | "tb" | "tib" => 1 << 40,
        other => {
            return Err(format!(
                "unknown size unit '{other}'; use KiB, MiB, GiB or TiB"
            ));
        }
    };
    let bytes = n * mult as f64;
    if !(bytes.is_finite() && bytes >= 1.0 && bytes < u64::MAX as f64) {
        return Err(format!("'{s}' is not a usable memory limit"));
    }
    Ok(bytes as u64)
}
