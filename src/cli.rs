//! The command line: clap types, and the question bank they ask for.

use crate::bank::{Bank, Use};
use crate::settings::Settings;
use crate::ui::ColorChoice;
use clap::{Args, Parser, Subcommand};
use std::path::{Path, PathBuf};

pub(crate) const AFTER_HELP: &str = "Examples:
  gradtutor list                          the question bank
  gradtutor ask 3                         question 3, then its experiment
  gradtutor ask vanishing-gradients --depth 50
  gradtutor demo vanishing --depth 20     an experiment directly
  gradtutor demos                         every experiment, one line each
  gradtutor train                         train four networks side by side
  gradtutor quiz --question 1             test yourself on question 1
  gradtutor tour                          the whole bank, one question at a time
  gradtutor progress --name \"Ada L.\"      your name, for the class roster
  gradtutor roster class/*.json           every student's progress in one table
  gradtutor bank dump my-bank/            the built-in question files, to edit
  gradtutor check my-bank/                validate an instructor's bank
  gradtutor --questions my-bank/ list     the bank with my-bank's questions";

/// A command-line tutor for gradient dynamics in deep neural networks: read why gradients
/// vanish or explode, then watch it happen, layer by layer, on a real network.
#[derive(Parser, Debug)]
#[command(name = "gradtutor", version, about, after_help = AFTER_HELP)]
pub struct Cli {
    /// When to use colour: auto (on a terminal, unless NO_COLOR is set), always, never.
    #[arg(long, global = true, value_name = "WHEN", default_value = "auto")]
    pub color: ColorChoice,

    /// Add the questions in this folder of .toml files to the built-in bank; one with a
    /// built-in id replaces that question. The folder's bank.toml may say `replace = true`.
    #[arg(long, global = true, value_name = "DIR", env = "GRADTUTOR_QUESTIONS", value_parser = any_path)]
    questions: Option<PathBuf>,

    /// Use only the questions in this folder, instead of the built-in bank.
    #[arg(long, global = true, value_name = "DIR", value_parser = any_path)]
    questions_only: Option<PathBuf>,

    /// Refuse runs that would need more memory than this (e.g. 512MiB, 4GiB).
    #[arg(
        long,
        global = true,
        value_name = "SIZE",
        env = "GRADTUTOR_MAX_MEMORY",
        default_value = "4GiB",
        allow_hyphen_values = true,
        value_parser = parse_bytes
    )]
    pub max_memory: u64,

    /// Refuse a run (a demo, a question's experiment or training, each of `check`'s) estimated
    /// from its size to take longer than this many seconds on one core of the machine
    /// gradtutor was measured on; the estimate is in the message. The live lab keeps its own
    /// budget (10 s a demo, 0.1 s a live step).
    #[arg(
        long,
        global = true,
        value_name = "SECONDS",
        env = "GRADTUTOR_MAX_TIME",
        default_value = DEFAULT_MAX_TIME,
        value_parser = parse_seconds,
        allow_negative_numbers = true
    )]
    pub max_time: f64,

    /// Use at most N threads [default: one per core]. Results are the same, bit for bit, for
    /// any N.
    #[arg(
        long,
        global = true,
        value_name = "N",
        env = "GRADTUTOR_THREADS",
        allow_hyphen_values = true,
        value_parser = parse_threads
    )]
    threads: Option<u16>,

    /// Keep study progress in this file [default: gradtutor/progress.json in your data folder].
    #[arg(long, global = true, value_name = "FILE", env = "GRADTUTOR_PROGRESS", value_parser = any_path)]
    progress: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Command,
}

/// The global options' ids.
const GLOBALS: [&str; 7] = [
    "color",
    "questions",
    "questions_only",
    "max_memory",
    "max_time",
    "threads",
    "progress",
];

/// The experiment whose help `args` ask for: `demo NAME --help` (or `-h`), NAME a known
/// experiment.
fn demo_help_for(args: &[std::ffi::OsString]) -> Option<&'static crate::experiments::Experiment> {
    let words: Vec<&str> = args.iter().skip(1).filter_map(|a| a.to_str()).collect();
    let demo = words.iter().position(|w| *w == "demo")?;
    let help = words[demo..].iter().any(|w| *w == "--help" || *w == "-h");
    let name = words[demo + 1..].iter().find(|w| !w.starts_with('-'))?;
    match help {
        true => crate::experiments::find(name).ok(),
        false => None,
    }
}

/// `demo`'s command as `demo NAME --help` shows it: the experiment's one-line summary, its
/// usage, its settings with its own defaults, and none of the settings it sets itself.
pub(crate) fn demo_command(
    d: clap::Command,
    exp: &crate::experiments::Experiment,
) -> clap::Command {
    use crate::settings::Knob;
    let defaults = (exp.defaults)();
    let mut d = d
        .about(format!("demo {}: {}", exp.name, exp.summary))
        .long_about(None)
        .override_usage(format!("gradtutor demo {} [OPTIONS]", exp.name))
        .mut_arg("name", |a| a.hide(true))
        .mut_arg("list", |a| a.hide(true));
    for knob in Knob::ALL {
        let fixed = exp.fixed.contains(&knob)
            || (Knob::RECURRENT.contains(&knob) && defaults.seq_len.is_none());
        let default = defaults.value(knob).or_else(|| knob.default_value());
        d = d.mut_arg(knob.field(), |a| match (fixed, default) {
            (true, _) => a.hide(true),
            (false, Some(v)) => a.help(format!("{} [default: {v}]", knob.help())),
            (false, None) => a,
        });
    }
    let fixed: Vec<&str> = exp.fixed.iter().map(|k| k.flag()).collect();
    let mut after = String::new();
    if !fixed.is_empty() {
        after = format!(
            "demo {} sets {} itself ({}).\n\n",
            exp.name,
            fixed.join(", "),
            exp.fixed_why
        );
    }
    after.push_str(
        "Global options (see gradtutor --help): --color, --questions, --questions-only, \
         --max-memory, --max-time, --threads, --progress.",
    );
    d.after_help(after)
}

impl Cli {
    /// Parses the process's arguments as [`clap::Parser::try_parse`] does, and refuses an
    /// empty value given on the command line to a flag whose empty value in the environment
    /// means "not set" (`--progress ""` would otherwise write to the default file).
    pub fn try_parse_args() -> Result<Cli, clap::Error> {
        use clap::{CommandFactory, FromArgMatches, parser::ValueSource};
        let mut cmd = Cli::command();
        let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
        if let Some(exp) = demo_help_for(&args) {
            // The experiment's own options first and alone; the global ones are named once.
            for id in GLOBALS {
                cmd = cmd.mut_arg(id, |a| a.hide(true));
            }
            cmd = cmd.mut_subcommand("demo", |d| demo_command(d, exp));
        }
        let matches = cmd.try_get_matches_from_mut(args)?;
        for (id, flag) in [
            ("questions", "--questions"),
            ("questions_only", "--questions-only"),
            ("max_memory", "--max-memory"),
            ("max_time", "--max-time"),
            ("threads", "--threads"),
            ("progress", "--progress"),
        ] {
            let empty = matches
                .get_raw(id)
                .is_some_and(|mut v| v.any(|v| v.to_string_lossy().trim().is_empty()));
            if empty && matches.value_source(id) == Some(ValueSource::CommandLine) {
                return Err(cmd.error(
                    clap::error::ErrorKind::InvalidValue,
                    format!(
                        "{flag} was given an empty value; give one, or leave {flag} out for \
                         the default"
                    ),
                ));
            }
        }
        Cli::from_arg_matches(&matches).map_err(|e| e.format(&mut cmd))
    }

    /// The question folder, if one was given (an empty GRADTUTOR_QUESTIONS counts as unset).
    pub fn questions(&self) -> Option<&Path> {
        self.questions
            .as_deref()
            .filter(|p| !p.as_os_str().is_empty())
    }

    /// The folder given with `--questions-only`, if any (an empty one counts as unset).
    pub fn questions_only(&self) -> Option<&Path> {
        self.questions_only
            .as_deref()
            .filter(|p| !p.as_os_str().is_empty())
    }

    /// The thread cap, if one was given (an empty GRADTUTOR_THREADS counts as unset).
    pub fn threads(&self) -> Option<u16> {
        self.threads.filter(|&n| n > 0)
    }

    /// The progress file, if one was given (an empty GRADTUTOR_PROGRESS counts as unset).
    pub fn progress(&self) -> Option<&Path> {
        self.progress
            .as_deref()
            .filter(|p| !p.as_os_str().is_empty())
    }

    /// The bank the command line asks for: the built-in one, extended by `--questions DIR`
    /// (or GRADTUTOR_QUESTIONS), or replaced by `--questions-only DIR`.
    pub(crate) fn bank(&self) -> anyhow::Result<Bank> {
        // A folder that came from the environment may surprise: say where it came from.
        let from_env =
            |dir: &Path| std::env::var_os("GRADTUTOR_QUESTIONS").is_some_and(|v| v == dir);
        match (self.questions_only(), self.questions()) {
            (Some(_), Some(dir)) if !from_env(dir) => anyhow::bail!(
                "give --questions (add a folder to the built-in bank) or --questions-only (use a \
                 folder alone), not both"
            ),
            // The command line wins over GRADTUTOR_QUESTIONS.
            (Some(dir), _) => Bank::from_folder(dir, Use::Replace, self.max_memory),
            (None, Some(dir)) if from_env(dir) => {
                Bank::from_folder(dir, Use::Extend, self.max_memory).map_err(|e| {
                    anyhow::anyhow!(
                        "{e:#}\n(The folder comes from GRADTUTOR_QUESTIONS: unset it to use the \
                         built-in bank.)"
                    )
                })
            }
            (None, Some(dir)) => Bank::from_folder(dir, Use::Extend, self.max_memory),
            (None, None) => Bank::embedded(self.max_memory),
        }
    }
}

/// A clap error as `main` prints it. clap's own text strips control characters (with its
/// styles) from the arguments it quotes, so the error is rendered again from `args` without
/// styles, where an argument reads as typed; then every argument longer than
/// [`crate::format::ECHO`] characters is shortened where it is quoted and control and bidi
/// characters are escaped: `invalid value 'a\u{1b}[2Jb' for '--depth <N>'`.
pub fn error_text(e: &clap::Error, args: &[std::ffi::OsString]) -> String {
    use clap::CommandFactory;
    let plain = Cli::command()
        .styles(clap::builder::Styles::plain())
        .try_get_matches_from(args)
        .err()
        .filter(|p| p.kind() == e.kind());
    let text = match plain {
        Some(p) => p.render().ansi().to_string(),
        None => e.render().to_string(),
    };
    crate::format::shorten_echoes(&text, args.iter().filter_map(|a| a.to_str()))
}

/// 1 … 256 threads; empty (an empty GRADTUTOR_THREADS) reads as 0, "not set".
fn parse_threads(s: &str) -> Result<u16, String> {
    match s.trim() {
        "" => Ok(0),
        t => t
            .parse::<u16>()
            .ok()
            .filter(|n| (1..=256).contains(n))
            .ok_or_else(|| format!("'{s}' is not a thread count; give a number from 1 to 256")),
    }
}

/// The time budget `--max-time` has by default, in seconds: above the estimate of every run of
/// the built-in bank (`ask`, `quiz`, `check`, `export`: 1.7 s at most) and of the README's
/// commands (`train`: 1.4 s), below `demo init --classes 100000` (3.2 s, 3.8 s measured).
pub(crate) const DEFAULT_MAX_TIME: &str = "3";

/// Seconds, more than 0 and finite; empty (an empty GRADTUTOR_MAX_TIME) is the default.
fn parse_seconds(s: &str) -> Result<f64, String> {
    let t = s.trim();
    if t.is_empty() {
        return Ok(DEFAULT_MAX_TIME.parse().unwrap_or(3.0));
    }
    t.parse::<f64>()
        .ok()
        .filter(|x| *x > 0.0 && x.is_finite())
        .ok_or_else(|| {
            format!(
                "'{}' is not a time budget; give a number of seconds above 0, e.g. 30",
                crate::format::escape(s, 40)
            )
        })
}

/// A path as given, the empty one included: an empty variable in the environment means
/// "not set", which [`Cli::questions`] and [`Cli::progress`] read it as.
fn any_path(s: &str) -> Result<PathBuf, String> {
    Ok(PathBuf::from(s))
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// List the question bank: id, slug, title and paired experiment.
    List,
    /// Show a question's explanation, then run its experiment.
    Ask(AskArgs),
    /// Run an experiment directly; every setting is a flag.
    Demo(DemoArgs),
    /// List the experiments (same as `demo --list`).
    Demos,
    /// Train networks on a generated dataset and watch gradient flow decide how they learn.
    Train(TrainArgs),
    /// Test yourself: multiple-choice items, and numeric items answered by running experiments.
    Quiz(QuizArgs),
    /// Walk through the bank in order: question, explanation, experiment, one quiz item.
    Tour(TourArgs),
    /// Show what you have studied and how your quizzes went.
    Progress(ProgressArgs),
    /// Combine students' progress files into one class table (for instructors).
    Roster(RosterArgs),
    /// Validate a folder of question files, listing every problem (for instructors).
    Check {
        /// The folder of .toml question files.
        #[arg(value_name = "DIR")]
        dir: PathBuf,
        /// Run every experiment again instead of reading earlier runs' results from the
        /// cache folder ($GRADTUTOR_CACHE_DIR, $XDG_CACHE_HOME/gradtutor or
        /// ~/.cache/gradtutor; safe to delete).
        #[arg(long)]
        no_cache: bool,
    },
    /// Write the bank as a handout: questions, answers, experiment outputs, quizzes.
    Export(ExportArgs),
    /// Start the live lab: lessons, experiments and training in a browser, on this machine.
    Serve(ServeArgs),
    /// Instructor tools for the question bank (`bank dump DIR`).
    #[command(subcommand)]
    Bank(BankCommand),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions {
        #[arg(value_name = "SHELL")]
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff): `gradtutor man | man -l -`, or save it as gradtutor.1;
    /// `gradtutor man ask` prints gradtutor-ask(1), one page per command.
    Man {
        /// The command whose page to print (`ask`, `bank dump`); none: gradtutor(1).
        #[arg(value_name = "COMMAND")]
        command: Vec<String>,
    },
}

/// `gradtutor bank …`.
#[derive(Subcommand, Debug)]
pub enum BankCommand {
    /// Write the built-in question files into DIR (made if missing), with a bank.toml saying
    /// `replace = true`, to start a bank of your own from: edit them, `gradtutor check DIR`,
    /// then `gradtutor --questions DIR …`.
    Dump {
        /// The folder to write into.
        #[arg(value_name = "DIR")]
        dir: PathBuf,
        /// Overwrite files of the same names already in DIR.
        #[arg(long)]
        force: bool,
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
    /// The experiment to run (see `gradtutor demos`); without one, the list.
    #[arg(value_name = "NAME")]
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

    /// Also show each hidden layer's distributions of h, φ(h) and ∂L/∂h (with --plot: as
    /// the chart; with --json: bin edges and counts).
    #[arg(long)]
    pub hist: bool,

    /// With --plot: only panel N of the chart (1 = the top one), for one panel per slide.
    #[arg(long, value_name = "N", requires = "plot", value_parser = clap::value_parser!(u16).range(1..))]
    pub plot_panel: Option<u16>,

    /// With --plot: lay each panel out as a 16:9 slide (a 1200×675 card; shown at
    /// 1920×1080, tick labels and legend are 32 px, titles 54 px). With --plot-panel, one
    /// slide; without, the slides stacked in one SVG.
    #[arg(long, requires = "plot")]
    pub slide: bool,

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

    /// Train on your own examples instead of --dataset: a CSV file (numeric features and
    /// one label column, integers or names; a quarter held out by --seed), or mnist:DIR, a
    /// folder with MNIST's four IDX files (.gz too; the t10k files are the test set). Its
    /// size is checked against --max-memory first; nothing is downloaded.
    #[arg(long, value_name = "FILE.csv|mnist:DIR")]
    pub data: Option<String>,

    /// The CSV's label column: a header name or a number from 1 [default: the last column].
    #[arg(long, value_name = "COLUMN", requires = "data")]
    pub label: Option<String>,

    /// Scale each feature of --data to mean 0, std 1 (the training set's).
    #[arg(long, requires = "data")]
    pub standardize: bool,

    /// Also show each configuration's hidden-layer distributions of h, φ(h) and ∂L/∂h at
    /// initialization, by the canonical probe (with --plot: as the chart; with --json: bin
    /// edges and counts).
    #[arg(long)]
    pub hist: bool,

    /// With --plot: only panel N of the chart (1: loss, 2: gradients, 3: update sizes).
    #[arg(long, value_name = "N", requires = "plot", value_parser = clap::value_parser!(u16).range(1..))]
    pub plot_panel: Option<u16>,

    /// With --plot: lay each panel out as a 16:9 slide (a 1200×675 card; shown at
    /// 1920×1080, tick labels and legend are 32 px, titles 54 px). With --plot-panel, one
    /// slide; without, the slides stacked in one SVG.
    #[arg(long, requires = "plot")]
    pub slide: bool,

    #[command(flatten)]
    pub settings: crate::train::settings::TrainSettings,
}

#[derive(Args, Debug)]
pub struct QuizArgs {
    /// Only this question's items, in order (id or slug); otherwise the whole bank, shuffled.
    #[arg(long, value_name = "ID|SLUG")]
    pub question: Option<String>,

    /// Ask at most K items.
    #[arg(long, value_name = "K", allow_hyphen_values = true)]
    pub count: Option<usize>,

    /// Seed for the shuffle [default: from the clock; the quiz prints it].
    #[arg(long, value_name = "N", allow_hyphen_values = true)]
    pub seed: Option<u64>,

    /// Answer without prompting, one answer per item, comma-separated: letters for multiple
    /// choice, numbers for numeric items, - to skip one (e.g. "b,-,12.3").
    // A list may begin with a skip or a negative number: `--answers -,b,c`.
    #[arg(long, value_name = "LIST", allow_hyphen_values = true)]
    pub answers: Option<String>,
}

#[derive(Args, Debug)]
pub struct ProgressArgs {
    /// Print the record as JSON (field names in the README) instead of the table.
    #[arg(long)]
    pub json: bool,

    /// Store your name in the record, for your instructor's roster ("" clears it).
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
}

/// Roster formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum RosterFormat {
    /// Tables for the terminal, within its width.
    Text,
    /// A row per student, then the class average and the most missed item per question.
    Csv,
    /// The text tables as Markdown.
    Markdown,
}

#[derive(Args, Debug)]
#[command(
    after_help = "Each student is named by the name in their record (`gradtutor progress \
    --name NAME`), else by the file's name without .json. A file that is missing, damaged or \
    not a progress file stops the roster with a message naming it; nothing is printed. \
    Questions are those of the bank in use: give the --questions the class used."
)]
pub struct RosterArgs {
    /// Students' progress files (`gradtutor progress` shows where a student's is).
    #[arg(
        value_name = "FILE",
        required_unless_present = "session",
        conflicts_with = "session"
    )]
    pub files: Vec<PathBuf>,

    /// The roster of a live class's session file (`serve --class`), with each item's
    /// answer counts and each student's first and latest attempt.
    #[arg(long, value_name = "FILE", value_parser = any_path)]
    pub session: Option<PathBuf>,

    /// Output format.
    #[arg(long, value_name = "FORMAT", default_value = "text")]
    pub format: RosterFormat,
}

#[derive(Args, Debug)]
pub struct TourArgs {
    /// Start at this question (id or slug).
    #[arg(long, value_name = "ID|SLUG")]
    pub from: Option<String>,
}

#[derive(Args, Debug)]
#[command(
    after_help = "The lab listens on 127.0.0.1 only and serves until stopped (Ctrl-C). The \
    global flags apply as for every command: the bank (--questions, --questions-only), the \
    progress file quiz answers are recorded in, --max-memory and --threads.\n\nWith --class \
    it listens on --bind (the room's network) and prints the join URL, its code and QR code, \
    and the instructor's URL; students' answers go to the session file, never to progress \
    files. After class: gradtutor roster --session FILE."
)]
pub struct ServeArgs {
    /// The port to listen on (0: any free port; the URL printed names it).
    #[arg(
        long,
        value_name = "PORT",
        default_value_t = 8080,
        allow_hyphen_values = true,
        conflicts_with = "class"
    )]
    pub port: u16,

    /// Open the lab in the default browser (with --class: the instructor's dashboard).
    #[arg(long)]
    pub open: bool,

    /// Run a live class: students join from their browsers on the room's network; the
    /// instructor's dashboard pushes questions, sees answers, reveals and locks.
    #[arg(long)]
    pub class: bool,

    /// With --class: the address and port to listen on [default: 0.0.0.0:8080, the room's
    /// network].
    #[arg(long, value_name = "ADDR:PORT")]
    pub bind: Option<std::net::SocketAddr>,

    /// With --class: the session file, resumed if it exists [default:
    /// class-YYYY-MM-DD.json in the data folder progress is kept in].
    #[arg(long, value_name = "FILE", value_parser = any_path)]
    pub session: Option<PathBuf>,
}

/// Handout formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ExportFormat {
    /// One Markdown file (GitHub, pandoc), with an answer key at the end.
    Markdown,
    /// One self-contained HTML page: charts inline, answers folded, one question a page in
    /// print.
    Html,
}

#[derive(Args, Debug)]
pub struct ExportArgs {
    /// The handout's format.
    #[arg(long, value_name = "FORMAT", default_value = "markdown")]
    pub format: ExportFormat,

    /// Write to FILE instead of standard output (`-` is standard output).
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Only these questions, in this order: ids or slugs separated by commas
    /// (`--only 1,2,5,dying-relu`).
    #[arg(long, value_name = "IDS", value_delimiter = ',')]
    pub only: Vec<String>,

    /// Where the quiz answers go: inline (under each item), end (an answer key after the
    /// last question) or none (a worksheet). Default: end in Markdown, inline in HTML.
    #[arg(long, value_name = "WHERE")]
    pub(crate) answers: Option<crate::render::handout::Answers>,

    /// Run no experiment: text, quiz and answer key only (figures the text quotes are left
    /// blank, and a numeric answer names the command that measures it).
    #[arg(long)]
    pub no_runs: bool,

    /// The paper the HTML handout prints on (its CSS @page size); default: the browser's.
    #[arg(long, value_name = "SIZE")]
    pub(crate) paper: Option<crate::render::handout::Paper>,
}

pub(crate) use crate::probe::DEFAULT_MAX_MEMORY;

/// `4GiB`, `512MiB`, `100000` (bytes); empty (an empty GRADTUTOR_MAX_MEMORY) is the default.
pub(crate) fn parse_bytes(s: &str) -> Result<u64, String> {
    let t = s.trim();
    if t.is_empty() {
        return Ok(DEFAULT_MAX_MEMORY);
    }
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
