//! What each command does; `main` only parses and reports errors.

use crate::bank::Bank;
use crate::classroom;
use crate::cli::{
    AskArgs, BankCommand, Cli, Command, DemoArgs, ExportArgs, ExportFormat, ProgressArgs, QuizArgs,
    RosterArgs, RosterFormat, TourArgs, TrainArgs,
};
use crate::experiments::{self, ALL};
use crate::format::{Foreign, count, truncate};
use crate::progress::{Progress, Store};
use crate::render::{json, lesson, svg, text, training};
use crate::report::{Report, RunHist};
use crate::train::{self};
use crate::ui::Ui;
use anyhow::{Context, Result};
use clap::CommandFactory;
use std::io::{IsTerminal, Write};
use std::path::Path;

/// Runs a parsed command, writing its output to `out`.
pub fn run(cli: &Cli, out: &mut dyn Write) -> Result<()> {
    let ui = Ui::detect(cli.color);
    match &cli.command {
        Command::List => list(&load(cli)?, &ui, out),
        Command::Ask(args) => ask(cli, args, &ui, out),
        Command::Demo(args) => demo(cli, args, &ui, out),
        Command::Demos => demos(&ui, out),
        Command::Train(args) => train(cli, args, &ui, out),
        Command::Quiz(args) => quiz(cli, args, &ui, out),
        Command::Tour(args) => tour(cli, args, &ui, out),
        Command::Progress(args) => progress(cli, args, &ui, out),
        Command::Roster(args) => roster(cli, args, &ui, out),
        Command::Check { dir, no_cache } => check(cli, dir, *no_cache, out),
        Command::Export(args) => export(cli, args, out),
        Command::Serve(args) => crate::serve::run(cli, args, out),
        Command::Bank(BankCommand::Dump { dir, force }) => dump(dir, *force, &ui, out),
        Command::Completions { shell } => {
            // clap_complete panics when its writer fails: it writes to memory, we write out.
            let mut script = Vec::new();
            clap_complete::generate(*shell, &mut Cli::command(), "gradtutor", &mut script);
            Ok(out.write_all(&script)?)
        }
        Command::Man { command } => Ok(out.write_all(&man_page(command)?)?),
    }
}

/// The manual page of gradtutor (no `words`) or of one of its commands (`ask`, `bank dump`),
/// as roff. gradtutor(1) lists the commands' pages, so each exists; its EXAMPLES keep their
/// lines (clap_mangen would fill them into one paragraph).
fn man_page(words: &[String]) -> Result<Vec<u8>> {
    let mut cmd = Cli::command();
    cmd.build();
    let mut page = Vec::new();
    if words.is_empty() {
        let man = clap_mangen::Man::new(cmd);
        man.render_title(&mut page)?;
        man.render_name_section(&mut page)?;
        man.render_synopsis_section(&mut page)?;
        man.render_description_section(&mut page)?;
        man.render_options_section(&mut page)?;
        man.render_subcommands_section(&mut page)?;
        page.extend_from_slice(b".SH EXAMPLES\n.nf\n");
        let examples = crate::cli::AFTER_HELP.trim_start_matches("Examples:\n");
        // Two columns, as the help has them, narrowed to fit man's indent in 80 columns.
        let rows: Vec<(&str, &str)> = examples
            .lines()
            .map(|l| {
                let l = l.trim();
                l.split_once("  ")
                    .map_or((l, ""), |(c, d)| (c.trim(), d.trim()))
            })
            .collect();
        let col = rows
            .iter()
            .filter(|r| !r.1.is_empty())
            .map(|r| r.0.chars().count())
            .max()
            .unwrap_or(0)
            + 2;
        for (cmd, what) in rows {
            let line = format!("{cmd:<col$}{what}");
            let line = line.trim_end();
            let line = line.replace('\\', "\\e").replace('-', "\\-");
            let lead = if line.starts_with(['.', '\'']) {
                "\\&"
            } else {
                ""
            };
            page.extend_from_slice(format!("{lead}{line}\n").as_bytes());
        }
        page.extend_from_slice(b".fi\n");
        page.extend_from_slice(
            b".SH \"SEE ALSO\"\nEach command's page: \\fBgradtutor man ask\\fR prints gradtutor\\-ask(1), \\fBgradtutor man bank dump\\fR gradtutor\\-bank\\-dump(1).\n",
        );
        man.render_version_section(&mut page)?;
        return Ok(page);
    }
    let mut sub = &cmd;
    let mut name = "gradtutor".to_string();
    for word in words {
        let Some(next) = sub.find_subcommand(word) else {
            let names: Vec<&str> = sub.get_subcommands().map(|c| c.get_name()).collect();
            anyhow::bail!(
                "{} has no command '{}'; its commands: {}",
                name.replace('-', " "),
                crate::format::escape(word, 40),
                names.join(", ")
            );
        };
        name = format!("{name}-{}", next.get_name());
        sub = next;
    }
    let sub = sub.clone().display_name(name).bin_name(
        words
            .iter()
            .fold("gradtutor".to_string(), |n, w| format!("{n} {w}")),
    );
    clap_mangen::Man::new(sub).render(&mut page)?;
    Ok(page)
}

/// The bank the command line asks for.
fn load(cli: &Cli) -> Result<Bank> {
    cli.bank()
}

/// The bank, one line a question: id, slug, title (as much as the width allows), experiment,
/// and, when an instructor's folder extends the built-in bank, where each question is from.
fn list(bank: &Bank, ui: &Ui, out: &mut dyn Write) -> Result<()> {
    let mixed = bank.folder.as_ref().is_some_and(|f| !f.replaces);
    let from = |q: &crate::bank::Question| match bank.from_instructor(q.id) {
        true => file_name(&q.source),
        false => "built-in".to_string(),
    };
    let widest = |cells: &mut dyn Iterator<Item = usize>, head: &str| {
        cells.chain([head.chars().count()]).max().unwrap_or(0)
    };
    let qs = &bank.questions;
    // At least three wide, as ids 1–999 need.
    let id = widest(&mut qs.iter().map(|q| q.id.to_string().len()), "id").max(3);
    let slug = widest(&mut qs.iter().map(|q| q.slug.chars().count()), "slug");
    let mut title = widest(&mut qs.iter().map(|q| q.title.chars().count()), "title");
    let demo = widest(
        &mut qs.iter().map(|q| q.experiment.demo.chars().count()),
        "experiment",
    );
    let mut source = match mixed {
        true => widest(&mut qs.iter().map(|q| from(q).chars().count()), "from"),
        false => 0,
    };
    // A table, not prose: as wide as the terminal, past the 100 columns text keeps to.
    let width = match ui.width {
        w if w < crate::ui::MAX_WIDTH => w,
        _ => crate::ui::text_width(usize::MAX),
    };
    // Columns and the spaces between them. Slugs stay whole (`ask SLUG` takes them); what
    // does not fit is taken from the file name first (down to 12 characters), then the
    // title, which wraps within its column (at least 10 wide) instead of being cut.
    let total = |title: usize, source: usize| {
        id + 2 + slug + 2 + title + 1 + demo + if mixed { 2 + source } else { 0 }
    };
    let over = |t, f| total(t, f).saturating_sub(width);
    source -= over(title, source).min(source.saturating_sub(12));
    title -= over(title, source).min(title.saturating_sub(10));
    let row = |id_: &str, s: &str, t: &str, d: &str, f: &str| {
        let opts = crate::ui::opts(title);
        let lines = crate::ui::wrap_with(t, opts);
        let mut text = String::new();
        for (i, t) in lines.iter().enumerate() {
            let mut line = match i {
                0 => format!("{id_:>id$}  {s:<slug$}  {t:<title$} {d:<demo$}"),
                _ => format!("{:>id$}  {:<slug$}  {t}", "", ""),
            };
            if mixed && i == 0 {
                line.push_str(&format!("  {}", truncate(f, source)));
            }
            text.push_str(line.trim_end());
            text.push('\n');
        }
        text
    };
    write!(out, "{}", row("id", "slug", "title", "experiment", "from"))?;
    for q in qs {
        let id_ = q.id.to_string();
        write!(
            out,
            "{}",
            row(&id_, &q.slug, &q.title, &q.experiment.demo, &from(q))
        )?;
    }
    writeln!(out)?;
    if let Some(f) = &bank.folder {
        let n = count(f.ids.len(), "question", "questions");
        let how = match (f.replaces, f.overrides.as_slice()) {
            (true, _) => "in place of the built-in bank".to_string(),
            (false, []) => "added to the built-in bank".to_string(),
            (false, ids) => {
                let ids: Vec<usize> = ids.iter().map(|&i| i as usize).collect();
                let verb = if ids.len() == 1 {
                    "overrides"
                } else {
                    "override"
                };
                format!(
                    "{} {verb} built-in {}",
                    ids.len(),
                    crate::format::span_of(&ids)
                )
            }
        };
        for line in crate::ui::wrap(&format!("from {}: {n} ({how})", f.name), ui.width) {
            writeln!(out, "{line}")?;
        }
    }
    let hint = "`gradtutor ask ID` (or SLUG) shows a question and runs its experiment.";
    for line in crate::ui::wrap(hint, ui.width) {
        writeln!(out, "{line}")?;
    }
    Ok(())
}

/// The last part of a path as messages show it (`my-bank/04.toml` → `04.toml`).
fn file_name(path: &str) -> String {
    path.rsplit(std::path::MAIN_SEPARATOR)
        .next()
        .unwrap_or(path)
        .to_string()
}

fn ask(cli: &Cli, args: &AskArgs, ui: &Ui, out: &mut dyn Write) -> Result<()> {
    let bank = load(cli)?;
    let q = bank.find(&args.question)?;
    let exp = experiments::find(&q.experiment.demo)?;
    // Planned (and so checked) before anything is printed, so bad flags fail cleanly. Run
    // before the lesson is shown: its placeholders are filled from this run.
    let settings = q.experiment.settings.overlay(&args.settings);
    let report = match args.no_demo {
        false => within(exp.plan(&settings, cli.max_memory)?, cli.max_time)?.run(),
        // Only the figures the text quotes are needed: from the preset as the file has it.
        true if q.quotes_figures() => within(
            exp.plan(&q.experiment.settings, cli.max_memory)?,
            cli.max_time,
        )?
        .run(),
        true => Report::empty(exp.name),
    };
    write!(out, "{}", lesson::render(q, &report, ui))?;
    record(cli, |p| p.studied(&q.slug));
    let command = q.experiment.command_with(&settings);
    let title = format!("Experiment: {}", exp.name);
    let takeaway = crate::bank::fill(&q.experiment.takeaway, &report);
    look_for(out, ui, &title, &takeaway, &command)?;
    if args.no_demo {
        return Ok(());
    }
    writeln!(out)?;
    write!(out, "{}", text::render(&report, ui))?;
    if let Some(t) = q.train.as_ref().filter(|_| !args.no_train) {
        // Trained first: the takeaway may quote its figures.
        let report = run_training(&t.settings.config()?, cli, false)?;
        let takeaway = crate::bank::fill_training(&t.takeaway, &report);
        look_for(out, ui, "Training", &takeaway, &t.command())?;
        writeln!(out)?;
        write!(out, "{}", training::render(&report, ui))?;
    }
    Ok(())
}

/// A section's head: its title, what to look for, and the command that runs it.
fn look_for(out: &mut dyn Write, ui: &Ui, title: &str, takeaway: &str, cmd: &str) -> Result<()> {
    Ok(write!(
        out,
        "{}",
        lesson::look_for(ui, title, takeaway, cmd)
    )?)
}

fn demo(cli: &Cli, args: &DemoArgs, ui: &Ui, out: &mut dyn Write) -> Result<()> {
    let Some(name) = args.name.as_deref().filter(|_| !args.list) else {
        return demos(ui, out);
    };
    let exp = experiments::find(name)?;
    if let Some(path) = &args.plot {
        check_output(path, Some(SVG))?;
    }
    // Refused before the run, with the same words as after it.
    if args.slide && (args.hist || exp.name == "phase") {
        anyhow::bail!(svg::slide_refusal(args.hist));
    }
    let mut report = within(exp.plan(&args.settings, cli.max_memory)?, cli.max_time)?.run();
    if args.hist {
        report = report.with_histograms().map_err(anyhow::Error::msg)?;
    }
    let plot = match args.plot.as_deref() {
        Some(p) => Some((
            p,
            svg::demo_svg_panel(&report, args.plot_panel, args.slide)?,
        )),
        None => None,
    };
    emit(out, &report, args.json, plot, || text::render(&report, ui))
}

/// Writes a finished report: its chart if one was asked for, then JSON or the text view.
fn emit<R: serde::Serialize>(
    out: &mut dyn Write,
    report: &R,
    as_json: bool,
    plot: Option<(&Path, String)>,
    render: impl Fn() -> String,
) -> Result<()> {
    if let Some((path, svg)) = plot {
        write_file(path, &svg)?;
        eprintln!("wrote the chart to {}", Foreign::path(path));
    }
    if as_json {
        writeln!(out, "{}", json::render(report))?;
    } else {
        write!(out, "{}", render())?;
    }
    Ok(())
}

fn demos(ui: &Ui, out: &mut dyn Write) -> Result<()> {
    for e in ALL {
        let line = format!("{:<12} {}", e.name, e.summary);
        let opts = crate::ui::opts(ui.width).subsequent_indent("             ");
        for l in crate::ui::wrap_with(&line, opts) {
            writeln!(out, "{l}")?;
        }
    }
    writeln!(
        out,
        "\n`gradtutor demo NAME --help` lists the settings; every one is a flag."
    )?;
    Ok(())
}

/// Trains the comparison `settings` describes, with a progress bar on a terminal's stderr.
fn train(cli: &Cli, args: &TrainArgs, ui: &Ui, out: &mut dyn Write) -> Result<()> {
    if let Some(path) = &args.plot {
        check_output(path, Some(SVG))?;
    }
    if args.slide && args.hist {
        anyhow::bail!(svg::slide_refusal(true));
    }
    // Three panels, known before training: a wrong --plot-panel fails before the run.
    if let Some(n) = args.plot_panel.filter(|&n| n > 3 || args.hist) {
        if args.hist {
            anyhow::bail!(
                "--plot-panel {n}: with --hist the chart is the histograms, drawn whole; drop \
                 --plot-panel or --hist"
            );
        }
        anyhow::bail!(
            "--plot-panel {n}: train's chart has 3 panels (1: loss, 2: ‖∂L/∂W‖ per layer, 3: \
             update size per layer)"
        );
    }
    let file = match &args.data {
        Some(text) => Some(std::sync::Arc::new(crate::data::file::load(
            text,
            args.label.as_deref(),
            args.standardize,
            cli.max_memory,
        )?)),
        None => None,
    };
    let report = run_training(&args.settings.config_with(file)?, cli, args.json)?;
    if args.hist {
        return train_hist(&report, args, ui, out);
    }
    let plot = match args.plot.as_deref() {
        Some(p) => Some((
            p,
            svg::chart_string(
                &svg::pick_panel(svg::train_charts(&report), args.plot_panel)?,
                args.slide,
            ),
        )),
        None => None,
    };
    emit(out, &report, args.json, plot, || {
        training::render(&report, ui)
    })
}

/// `train --hist`: the report with each configuration's histograms at initialization, from
/// the canonical probe of the network it starts from ([`train::TrainConfig::probe_config`],
/// the comparison's seed); JSON adds them as `histograms`, `--plot` draws them.
fn train_hist(
    report: &train::TrainReport,
    args: &TrainArgs,
    ui: &Ui,
    out: &mut dyn Write,
) -> Result<()> {
    let cfg = &report.config;
    let hists: Vec<RunHist> = report
        .runs
        .iter()
        .filter_map(|h| {
            let label = format!("{} at initialization", h.label);
            RunHist::of(&label, &cfg.probe_config(&h.variant), 1.0)
        })
        .collect();
    #[derive(serde::Serialize)]
    struct WithHist<'a> {
        #[serde(flatten)]
        report: &'a train::TrainReport,
        histograms: &'a [RunHist],
    }
    let both = WithHist {
        report,
        histograms: &hists,
    };
    let plot = args.plot.as_deref().map(|p| (p, svg::hist_svg(&hists)));
    emit(out, &both, args.json, plot, || {
        let mut text = training::render(report, ui);
        crate::render::hist::text(&mut text, &hists, &ui.style);
        text
    })
}

/// Trains with a progress bar on stderr, shown only on a terminal and never with `quiet`,
/// once the comparison is checked against `--max-memory` and `--max-time`.
fn run_training(config: &train::TrainConfig, cli: &Cli, quiet: bool) -> Result<train::TrainReport> {
    let checked = config.check(cli.max_memory)?;
    let cfg = checked.config();
    cfg.check_time(cli.max_time)?;
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
    let report = checked.run(&|n| bar.inc(n as u64))?;
    bar.finish_and_clear();
    Ok(report)
}

/// The plan, if it is estimated to run within `budget` seconds (`--max-time`).
fn within(plan: experiments::Plan, budget: f64) -> Result<experiments::Plan> {
    plan.check_time(budget)
        .map_err(|e| anyhow::anyhow!("{e}, or give a larger --max-time"))?;
    Ok(plan)
}

/// Refuses to run `questions` if any of their runs is estimated over `--max-time`, naming
/// each such run with its estimate.
fn bank_within<'a>(
    cli: &Cli,
    questions: impl IntoIterator<Item = &'a crate::bank::Question>,
) -> Result<()> {
    let over: Vec<String> = questions
        .into_iter()
        .flat_map(|q| q.over_budget(cli.max_time, cli.max_memory))
        .collect();
    if over.is_empty() {
        return Ok(());
    }
    anyhow::bail!(
        "{} over the time budget of {} s (--max-time), so nothing was run:\n  {}",
        count(over.len(), "run of the bank is", "runs of the bank are"),
        crate::format::seconds(cli.max_time),
        over.join("\n  ")
    )
}

/// Prints a warning on stderr; progress problems never stop a lesson.
/// Its text names files and quotes records, so it prints as [`Foreign`] text: one line,
/// escaped.
fn warn(msg: String) {
    eprintln!("warning: {}", Foreign::new(msg));
}

/// Applies `f` to the stored progress, warning (not failing) if it cannot be kept.
fn record(cli: &Cli, f: impl FnOnce(&mut Progress)) {
    let saved = Store::locate(cli.progress()).and_then(|s| s.update(&mut warn, f));
    if let Err(e) = saved {
        warn(format!("{e:#}; progress was not recorded"));
    }
}

fn quiz(cli: &Cli, args: &QuizArgs, ui: &Ui, out: &mut dyn Write) -> Result<()> {
    let bank = load(cli)?;
    let seed = args.seed.unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs())
    });
    let items = classroom::select(
        &bank,
        &classroom::Selection {
            question: args.question.clone(),
            count: args.count,
            seed,
        },
    )?;
    // The questions whose numeric items run an experiment, each once.
    let mut measured: Vec<&crate::bank::Question> = Vec::new();
    for a in items.iter().filter(|a| !a.item.is_choice()) {
        if !measured.iter().any(|q| q.id == a.question.id) {
            measured.push(a.question);
        }
    }
    bank_within(cli, measured)?;
    let how = match &args.question {
        Some(_) => "in order".to_string(),
        None => format!("shuffled with --seed {seed}"),
    };
    let head = format!("Quiz: {}, {how}", count(items.len(), "item", "items"));
    writeln!(out, "{}", ui.style.bold(&head))?;
    let stdin = std::io::stdin();
    let mut lock = stdin.lock();
    let mut answers = match &args.answers {
        Some(list) => {
            classroom::Answers::Given(list.split(',').map(|a| a.trim().to_string()).collect())
        }
        None => {
            let interactive = std::io::stdin().is_terminal();
            if interactive {
                let hint = "Type a letter or a number and press Enter; s skips an item, q stops.";
                writeln!(out, "{}", ui.style.dim(hint))?;
            }
            classroom::Answers::Lines {
                input: &mut lock,
                interactive,
            }
        }
    };
    let results = classroom::run_quiz(&items, &mut answers, ui, cli.max_memory, out)?;
    let attempt = classroom::summary(results, &bank, ui, out)?;
    if !attempt.items.is_empty() {
        record(cli, |p| p.quizzes.push(attempt));
    }
    Ok(())
}

fn tour(cli: &Cli, args: &TourArgs, ui: &Ui, out: &mut dyn Write) -> Result<()> {
    let bank = load(cli)?;
    let from = match &args.from {
        Some(key) => {
            let q = bank.find(key)?;
            bank.questions
                .iter()
                .position(|x| x.id == q.id)
                .expect("found in this bank")
        }
        None => 0,
    };
    bank_within(cli, &bank.questions[from..])?;
    // The tour records into a record of its own, added to the stored one under its lock at
    // the end, so a quiz taken elsewhere meanwhile is not overwritten.
    let mut progress = Progress::default();
    let stdin = std::io::stdin();
    let interactive = stdin.is_terminal();
    let train = |t: &crate::train::settings::TrainSettings| run_training(&t.config()?, cli, false);
    let result = classroom::Tour {
        input: &mut stdin.lock(),
        interactive,
        ui: *ui,
        max_bytes: cli.max_memory,
        progress: &mut progress,
        train: &train,
        keys: classroom::Keys::detect(interactive),
    }
    .run(&bank, from, out);
    // What was studied is kept even if the tour stopped early.
    record(cli, |p| p.merge(progress));
    result
}

fn progress(cli: &Cli, args: &ProgressArgs, ui: &Ui, out: &mut dyn Write) -> Result<()> {
    let store = Store::locate(cli.progress())?;
    if let Some(name) = &args.name {
        // Checked before the file is touched; stored under the lock.
        Progress::default().set_name(name)?;
        store.update(&mut warn, |p| {
            p.set_name(name).expect("the name was checked");
        })?;
    }
    let p = store.load(&mut warn)?;
    let bank = load(cli)?;
    let file = crate::format::escape_path(&store.path);
    if args.json {
        let record = crate::roster::record(&p, &bank);
        writeln!(
            out,
            "{}",
            crate::render::progress::json(&p, &record, &bank, &file)
        )?;
        return Ok(());
    }
    let title = match &p.name {
        Some(name) => format!(
            "Progress of {} ({file})",
            crate::format::escape(name, crate::progress::MAX_NAME)
        ),
        None => format!("Progress ({file})"),
    };
    write!(
        out,
        "{}",
        crate::render::progress::render(&p, &bank, &title, ui)
    )?;
    Ok(())
}

/// Reads every progress file (all of them, so that every unusable one is named at once),
/// then prints the class table.
fn roster(cli: &Cli, args: &RosterArgs, ui: &Ui, out: &mut dyn Write) -> Result<()> {
    let bank = load(cli)?;
    if let Some(file) = &args.session {
        let session = crate::session::inspect(file)?;
        let shown = file.display().to_string();
        let text = crate::serve::session_roster(&bank, &session, &shown, args.format, ui);
        return Ok(write!(out, "{text}")?);
    }
    let mut records = Vec::new();
    let mut problems = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for file in &args.files {
        let shown = crate::format::escape_path(file);
        if !seen.insert(file) {
            problems.push(format!("{shown} is given twice"));
            continue;
        }
        match (Store { path: file.clone() }).inspect() {
            Ok(p) => records.push((file.display().to_string(), p)),
            Err(e) => problems.push(crate::format::escape(&format!("{e:#}"), 400)),
        }
    }
    if !problems.is_empty() {
        anyhow::bail!(
            "{} of the {} given cannot be used, so no roster was made:\n  {}",
            count(problems.len(), "progress file", "progress files"),
            args.files.len(),
            problems.join("\n  ")
        );
    }
    let class = crate::roster::class(&records, &bank);
    // The quizzes' items with their per-option counts, laid out as a live class's are.
    let items = crate::roster::progress_items(&records, &bank, &class);
    let r = crate::render::roster::Session {
        class: &class,
        items: &items,
        source: crate::render::roster::Source::Quizzes,
    };
    let text = match (args.format, items.is_empty()) {
        (RosterFormat::Text, true) => crate::render::roster::text(&class, ui),
        (RosterFormat::Csv, true) => crate::render::roster::csv(&class),
        (RosterFormat::Markdown, true) => crate::render::roster::markdown(&class),
        (RosterFormat::Text, false) => crate::render::roster::session_text(&r, ui),
        (RosterFormat::Csv, false) => crate::render::roster::session_csv(&r),
        (RosterFormat::Markdown, false) => crate::render::roster::session_markdown(&r),
    };
    Ok(write!(out, "{text}")?)
}

fn check(cli: &Cli, dir: &std::path::Path, no_cache: bool, out: &mut dyn Write) -> Result<()> {
    let cache = match no_cache {
        true => None,
        false => crate::cache::Cache::open(),
    };
    let found = crate::check::check_with(dir, cli.max_memory, cli.max_time, cache.as_ref())?;
    if found.problems.is_empty() {
        writeln!(
            out,
            "{}: {}, no problems.",
            Foreign::path(dir),
            found.summary()
        )?;
        let usage = found.usage(&crate::format::escape(&dir.display().to_string(), 200));
        for line in crate::ui::wrap(&usage, crate::ui::text_width(crate::ui::MAX_WIDTH)) {
            writeln!(out, "{line}")?;
        }
        return Ok(());
    }
    for p in &found.problems {
        writeln!(out, "{p}")?;
    }
    anyhow::bail!(
        "{} in {}",
        count(found.problems.len(), "problem", "problems"),
        Foreign::path(dir)
    )
}

fn dump(dir: &std::path::Path, force: bool, ui: &Ui, out: &mut dyn Write) -> Result<()> {
    let written = crate::bank::dump(dir, force)?;
    let shown = crate::format::escape(&dir.display().to_string(), 200);
    let text = format!(
        "Wrote {} and {} (replace = true) to {shown}. Edit them, check them with `gradtutor \
         check {shown}`, then use them with `gradtutor --questions {shown} …`.",
        count(written.len() - 1, "question file", "question files"),
        crate::bank::SETTINGS_FILE
    );
    for line in crate::ui::wrap(&text, ui.width) {
        writeln!(out, "{line}")?;
    }
    Ok(())
}

fn export(cli: &Cli, args: &ExportArgs, out: &mut dyn Write) -> Result<()> {
    let bank = load(cli)?;
    // `-o -` is standard output, as is conventional.
    let output = args.output.as_deref().filter(|p| *p != Path::new("-"));
    if let Some(path) = output {
        check_output(path, None)?;
    }
    let html = args.format == ExportFormat::Html;
    if args.paper.is_some() && !html {
        anyhow::bail!("--paper sets the printed page of the HTML handout: add --format html");
    }
    let questions = match args.only.is_empty() {
        true => bank.questions.iter().collect(),
        false => crate::export::select(&bank, &args.only)?,
    };
    if !args.no_runs {
        bank_within(cli, questions.iter().copied())?;
    }
    let options = crate::export::Options {
        questions,
        answers: args.answers,
        runs: !args.no_runs,
        paper: args.paper,
    };
    let doc = crate::export::handout(&bank, &options, html, cli.max_memory)?;
    match output {
        Some(path) => {
            write_file(path, &doc)?;
            eprintln!("wrote the handout to {}", Foreign::path(path));
            Ok(())
        }
        None => Ok(write!(out, "{doc}")?),
    }
}

/// What `--plot` writes: its file name's ending and the flag's purpose, for the message.
const SVG: (&str, &str) = ("svg", "--plot writes an SVG chart");

/// Fails before a long run if `path` plainly cannot be written: a name without the
/// `ending` asked for, a folder, or a file in a folder that does not exist.
fn check_output(path: &Path, ending: Option<(&str, &str)>) -> Result<()> {
    if let Some((ext, what)) = ending
        && !path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case(ext))
    {
        anyhow::bail!(
            "{what}: give a file name ending in .{ext} (got {})",
            crate::format::escape(&path.display().to_string(), 80)
        );
    }
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    if path.is_dir() {
        anyhow::bail!("cannot write {}: it is a folder", path.display());
    }
    // A FIFO would block the write (after every run) and a device is no file to keep.
    if let Ok(m) = std::fs::metadata(path)
        && !m.is_file()
    {
        anyhow::bail!(
            "cannot write {}: it is not a regular file (a FIFO, device or socket); give a file \
             name{}",
            crate::format::escape_path(path),
            if ending.is_none() {
                ", or - for standard output"
            } else {
                ""
            }
        );
    }
    if !dir.is_dir() {
        anyhow::bail!(
            "cannot write {}: the folder {} does not exist",
            path.display(),
            dir.display()
        );
    }
    Ok(())
}

/// Writes `contents` to the file at `path`.
fn write_file(path: &Path, contents: &str) -> Result<()> {
    std::fs::write(path, contents).with_context(|| format!("cannot write {}", path.display()))
}
