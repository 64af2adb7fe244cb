//! What each command does; `main` only parses and reports errors.

use crate::bank::Bank;
use crate::cli::{AskArgs, Cli, Command, DemoArgs, TrainArgs};
use crate::experiments::{self, ALL};
use crate::lesson;
use crate::plot;
use crate::report::{json, text, training};
use crate::style::{self, Style};
use crate::train::{self, settings::TrainSettings};
use anyhow::Result;
use clap::CommandFactory;
use std::io::{IsTerminal, Write};

/// The widest the text gets, even on a wide terminal.
const MAX_WIDTH: usize = 100;

/// Runs a parsed command, writing its output to `out`.
pub fn run(cli: &Cli, out: &mut dyn Write) -> Result<()> {
    let style = Style::detect(cli.color);
    match &cli.command {
        Command::List => list(&load(cli)?, out),
        Command::Ask(args) => ask(cli, args, &style, out),
        Command::Demo(args) => demo(cli, args, &style, out),
        Command::Demos => demos(out),
        Command::Train(args) => train(cli, args, &style, out),
        Command::Completions { shell } => {
            clap_complete::generate(*shell, &mut Cli::command(), "gradtutor", out);
            Ok(())
        }
    }
}

fn load(cli: &Cli) -> Result<Bank> {
    match &cli.questions {
        Some(dir) => Bank::from_dir(dir, cli.max_memory),
        None => Bank::embedded(cli.max_memory),
    }
}

fn list(bank: &Bank, out: &mut dyn Write) -> Result<()> {
    writeln!(out, "{:>3}  {:<58} experiment", "id", "title")?;
    for q in &bank.questions {
        let title: String = if q.title.chars().count() > 58 {
            q.title.chars().take(57).chain(['…']).collect()
        } else {
            q.title.clone()
        };
        writeln!(out, "{:>3}  {:<58} {}", q.id, title, q.experiment.demo)?;
    }
    writeln!(
        out,
        "\n`gradtutor ask ID` shows a question and runs its experiment."
    )?;
    Ok(())
}

fn ask(cli: &Cli, args: &AskArgs, style: &Style, out: &mut dyn Write) -> Result<()> {
    let bank = load(cli)?;
    let q = bank.find(&args.question)?;
    let width = style::text_width(MAX_WIDTH);
    // The experiment is checked before anything is printed, so bad flags fail cleanly.
    let settings = q.experiment.settings.overlay(&args.settings);
    let exp = experiments::find(&q.experiment.demo)?;
    if !args.no_demo {
        exp.validate(&settings, cli.max_memory)?;
    }
    write!(out, "{}", lesson::render(q, style, width))?;
    let preset = crate::bank::Preset {
        settings: settings.clone(),
        ..q.experiment.clone()
    };
    writeln!(
        out,
        "\n{}",
        style.bold(&format!("Experiment: {}", exp.name))
    )?;
    for line in textwrap::wrap(&format!("Look for: {}", q.experiment.takeaway), width) {
        writeln!(out, "{line}")?;
    }
    writeln!(out, "  $ {}", preset.command())?;
    if args.no_demo {
        return Ok(());
    }
    writeln!(out)?;
    let report = exp.run(&settings, cli.max_memory)?;
    write!(out, "{}", text::render(&report, style, width))?;
    if let Some(t) = q.train.as_ref().filter(|_| !args.no_train) {
        writeln!(out, "\n{}", style.bold("Training"))?;
        for line in textwrap::wrap(&format!("Look for: {}", t.takeaway), width) {
            writeln!(out, "{line}")?;
        }
        writeln!(out, "  $ {}\n", t.command())?;
        let report = run_training(&t.settings, cli.max_memory, false)?;
        write!(out, "{}", training::render(&report, style, width))?;
    }
    Ok(())
}

fn demo(cli: &Cli, args: &DemoArgs, style: &Style, out: &mut dyn Write) -> Result<()> {
    let Some(name) = args.name.as_deref().filter(|_| !args.list) else {
        return demos(out);
    };
    let exp = experiments::find(name)?;
    if let Some(path) = &args.plot {
        plot::check_writable(path)?;
    }
    let report = exp.run(&args.settings, cli.max_memory)?;
    let plot = args
        .plot
        .as_deref()
        .map(|p| (p, plot::demo_charts(&report)));
    emit(out, &report, args.json, plot, |w| {
        text::render(&report, style, w)
    })
}

/// Writes a finished report: its chart if one was asked for, then JSON or the text view.
fn emit<R: serde::Serialize>(
    out: &mut dyn Write,
    report: &R,
    as_json: bool,
    plot: Option<(&std::path::Path, Vec<plot::Chart>)>,
    render: impl Fn(usize) -> String,
) -> Result<()> {
    if let Some((path, charts)) = plot {
        plot::write_svg(path, &charts)?;
    }
    if as_json {
        writeln!(out, "{}", json::render(report))?;
    } else {
        write!(out, "{}", render(style::text_width(MAX_WIDTH)))?;
    }
    Ok(())
}

fn demos(out: &mut dyn Write) -> Result<()> {
    for e in ALL {
        writeln!(out, "{:<12} {}", e.name, e.summary)?;
    }
    writeln!(
        out,
        "\n`gradtutor demo NAME --help` lists the settings; every one is a flag."
    )?;
    Ok(())
}

/// Trains the comparison `settings` describes, with a progress bar on a terminal's stderr.
fn train(cli: &Cli, args: &TrainArgs, style: &Style, out: &mut dyn Write) -> Result<()> {
    if let Some(path) = &args.plot {
        plot::check_writable(path)?;
    }
    let report = run_training(&args.settings, cli.max_memory, args.json)?;
    let plot = args
        .plot
        .as_deref()
        .map(|p| (p, plot::train_charts(&report)));
    emit(out, &report, args.json, plot, |w| {
        training::render(&report, style, w)
    })
}

/// Trains with a progress bar on stderr, shown only on a terminal and never with `quiet`.
fn run_training(
    settings: &TrainSettings,
    max_bytes: u64,
    quiet: bool,
) -> Result<train::TrainReport> {
    let cfg = settings.config()?;
    cfg.check(max_bytes)?;
    let total = (cfg.steps * cfg.variants.len()) as u64;
    let bar = if quiet || !std::io::stderr().is_terminal() {
        indicatif::ProgressBar::hidden()
    } else {
        let bar = indicatif::ProgressBar::new(total);
        bar.set_style(
            indicatif::ProgressStyle::with_template("training {bar:40} {pos}/{len} steps {eta}")
                .expect("the template is valid"),
        );
        bar
    };
    let report = train::train(&cfg, max_bytes, &mut |n| bar.inc(n as u64))?;
    bar.finish_and_clear();
    Ok(report)
}
