//! Experiments over HTTP: `/api/demos` (each experiment's controls, from the settings
//! table) and `/api/demo/NAME[/chart.svg|/text]?key=value…`.
//!
//! A query becomes the command line `gradtutor demo NAME --json --key=value …` would be and
//! is parsed by clap's own `Cli`, so every check and every message is the CLI's; the run is
//! the one `demo` makes (`Experiment::plan`, then `Plan::run`), refused first if it is over
//! the memory limit or the time budget. Runs are deterministic, so each report is kept,
//! by experiment and settings, in a small cache that forgets the least recently used.

use super::http::{self, Reply};
use crate::cli::{Cli, Command};
use crate::experiments::{self, Experiment};
use crate::render::{json, svg, text};
use crate::report::Report;
use crate::settings::{Knob, Settings};
use crate::ui::Ui;
use clap::Parser;
use serde_json::{Value, json};
use std::sync::{Arc, Mutex, OnceLock};

/// How many reports the cache keeps.
pub(crate) const CACHE_SIZE: usize = 64;

/// The columns of the text view, as `export` lays out a run.
const TEXT_WIDTH: usize = 80;

/// What a demo request asks for: the report as JSON, its chart, or its text view.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum View {
    Json,
    Chart,
    Text,
}

/// A finished run and its views, each rendered once when first asked for.
#[derive(Debug)]
pub(crate) struct Done {
    pub report: Report,
    json: OnceLock<String>,
    chart: OnceLock<String>,
    text: OnceLock<String>,
}

impl Done {
    fn new(report: Report) -> Done {
        Done {
            report,
            json: OnceLock::new(),
            chart: OnceLock::new(),
            text: OnceLock::new(),
        }
    }

    /// The view as `demo` prints or writes it: `--json`'s stdout, `--plot`'s file, and the
    /// terminal's text without colour.
    pub(crate) fn reply(&self, view: View) -> Reply {
        let r = &self.report;
        match view {
            View::Json => Reply::ok(
                http::JSON,
                self.json
                    .get_or_init(|| format!("{}\n", json::render(r)))
                    .clone(),
            ),
            View::Chart => Reply::ok(
                http::SVG,
                self.chart.get_or_init(|| svg::demo_svg(r)).clone(),
            ),
            View::Text => Reply::ok(
                "text/plain",
                self.text
                    .get_or_init(|| text::render(r, &Ui::plain(TEXT_WIDTH)))
                    .clone(),
            ),
        }
    }
}

/// A run, finished or under way: every request for the same settings waits for one run and
/// gets its report, or its error message.
type Slot = Arc<OnceLock<Result<Arc<Done>, String>>>;

/// The runs of the lab: its limits and its cache.
pub(crate) struct Runner {
    pub max_memory: u64,
    /// The most a run may take, in estimated seconds.
    pub budget: f64,
    /// By experiment and settings; most recently used last.
    cache: Mutex<Vec<(String, Slot)>>,
}

impl Runner {
    pub(crate) fn new(max_memory: u64, budget: f64) -> Runner {
        Runner {
            max_memory,
            budget,
            cache: Mutex::new(Vec::new()),
        }
    }

    /// The report of `exp` with `settings` (as given, before the experiment's defaults),
    /// or the CLI's message for why it cannot run: from the cache, from a run under way for
    /// another request, or planned, checked against the limits and run.
    pub(crate) fn run(
        &self,
        exp: &'static Experiment,
        settings: &Settings,
    ) -> Result<Arc<Done>, String> {
        let key = format!("{}\0{}", exp.name, settings.to_args().join("\0"));
        let slot = {
            let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
            let entry = match cache.iter().position(|(k, _)| *k == key) {
                Some(at) => cache.remove(at),
                None => {
                    if cache.len() >= CACHE_SIZE {
                        cache.remove(0);
                    }
                    (key, Arc::default())
                }
            };
            let slot = Arc::clone(&entry.1);
            cache.push(entry);
            slot
        };
        // Outside the lock: other settings run meanwhile; these wait for this run.
        slot.get_or_init(|| {
            let plan = exp.plan(settings, self.max_memory);
            let plan = plan.and_then(|p| p.check_time(self.budget).map(|()| p));
            plan.map(|p| Arc::new(Done::new(p.run())))
                .map_err(|e| super::message(&e))
        })
        .clone()
    }

    /// How many runs are cached (for tests).
    #[cfg(test)]
    fn len(&self) -> usize {
        self.cache.lock().map_or(0, |c| c.len())
    }
}

/// `GET /api/demo/NAME[/chart.svg|/text]?query`.
pub(crate) fn demo(runner: &Runner, name: &str, view: View, query: &str) -> Reply {
    let exp = match experiments::find(name) {
        Ok(e) => e,
        Err(e) => return Reply::error(404, &super::message(&e)),
    };
    let settings = match parse(exp, query) {
        Ok(s) => s,
        Err(reply) => return reply,
    };
    match runner.run(exp, &settings) {
        Ok(done) => done.reply(view),
        Err(e) => Reply::error(400, &e),
    }
}

/// The settings a query gives `exp`, parsed as the command line `demo NAME --json --k=v …`.
/// A key that is no setting is refused here; everything else is clap's to judge.
pub(crate) fn parse(exp: &Experiment, query: &str) -> Result<Settings, Reply> {
    let pairs = http::query(query)?;
    let mut argv = vec![
        "gradtutor".to_string(),
        "demo".into(),
        exp.name.into(),
        "--json".into(),
    ];
    for (key, value) in &pairs {
        let Some(knob) = Knob::ALL.into_iter().find(|k| k.flag()[2..] == **key) else {
            let keys: Vec<&str> = Knob::ALL.iter().map(|k| &k.flag()[2..]).collect();
            return Err(Reply::error(
                400,
                &format!(
                    "unknown setting '{}'; the settings are {}",
                    crate::format::escape(key, 40),
                    keys.join(", ")
                ),
            ));
        };
        // `--flag=value`: a value that starts with `-` stays a value.
        argv.push(format!("{}={value}", knob.flag()));
    }
    match Cli::try_parse_from(&argv) {
        Ok(Cli {
            command: Command::Demo(args),
            ..
        }) => Ok(args.settings),
        // The arguments name the demo command: nothing else can parse.
        Ok(_) => Err(Reply::error(
            500,
            "the demo's arguments parsed as another command",
        )),
        Err(e) => Err(Reply::error(400, &crate::format::clap_message(&e))),
    }
}

/// `GET /api/demos`: every experiment with a control per setting it takes.
pub(crate) fn demos() -> Reply {
    let list: Vec<Value> = experiments::ALL
        .iter()
        .map(|e| {
            json!({
                "name": e.name,
                "summary": e.summary,
                "controls": controls(e),
            })
        })
        .collect();
    Reply::json(&json!({ "experiments": list }))
}

/// The controls of `exp`: every knob but those it fixes, and the recurrent-only ones only
/// for the recurrent experiment.
pub(crate) fn controls(exp: &Experiment) -> Vec<Value> {
    let defaults = (exp.defaults)();
    let recurrent = defaults.seq_len.is_some();
    Knob::ALL
        .into_iter()
        .filter(|k| !exp.fixed.contains(k))
        .filter(|k| recurrent || !Knob::RECURRENT.contains(k))
        .map(|k| control(k, defaults.value(k).or_else(|| k.default_value())))
        .collect()
}

/// One knob as a form control (LAB-API.md, CONTROL).
fn control(k: Knob, default: Option<String>) -> Value {
    let choices = k.choices();
    let kind = match (k.kind(), &choices) {
        ("usize" | "u64", _) => "int",
        ("f64", _) => "float",
        ("bool", _) => "bool",
        (_, Some(_)) => "choice",
        _ => "text",
    };
    let mut c = json!({
        "key": &k.flag()[2..],
        "flag": k.flag(),
        "label": k.help().split_whitespace().collect::<Vec<_>>().join(" "),
        "value_name": k.value_name(),
        "type": kind,
        "default": default,
    });
    if let Some(choices) = choices {
        c["choices"] = json!(choices);
    }
    if let Some((min, max, step)) = k.range() {
        let number = |x: f64| match kind {
            "int" => json!(x as i64),
            _ => json!(x),
        };
        c["min"] = number(min);
        c["max"] = number(max);
        c["step"] = number(step);
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_query_parses_as_the_flags_would() {
        let exp = experiments::find("vanishing").unwrap();
        let s = parse(exp, "depth=7&activation=relu&bn=true").unwrap();
        assert_eq!(
            s.to_args(),
            ["--depth", "7", "--activation", "relu", "--bn", "true"]
        );
        let e = parse(exp, "depth=-1").unwrap_err();
        assert_eq!(e.status, 400);
        let e = parse(exp, "json=1").unwrap_err();
        assert!(String::from_utf8_lossy(&e.body).contains("unknown setting 'json'"));
        // A value that looks like a flag is a value.
        assert_eq!(parse(exp, "activation=--json").unwrap_err().status, 400);
    }

    #[test]
    fn a_repeated_run_comes_from_the_cache() {
        let runner = Runner::new(1 << 30, 60.0);
        let exp = experiments::find("vanishing").unwrap();
        let s = Settings {
            depth: Some(2),
            width: Some(4),
            ..Default::default()
        };
        let a = runner.run(exp, &s).unwrap();
        let b = runner.run(exp, &s).unwrap();
        assert!(Arc::ptr_eq(&a, &b));
        assert_eq!(runner.len(), 1);
        // Asked for at once from several threads, one run answers them all.
        let s = s_of(3);
        let all: Vec<Arc<Done>> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..4)
                .map(|_| scope.spawn(|| runner.run(exp, &s).unwrap()))
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert!(all.iter().all(|d| Arc::ptr_eq(d, &all[0])));
        assert_eq!(runner.len(), 2);
        for depth in 3..3 + CACHE_SIZE {
            let s = Settings {
                depth: Some(depth),
                width: Some(2),
                batch: Some(2),
                ..Default::default()
            };
            runner.run(exp, &s).unwrap();
        }
        assert_eq!(runner.len(), CACHE_SIZE);
        assert!(!Arc::ptr_eq(&a, &runner.run(exp, &s_of(2)).unwrap()));
    }

    fn s_of(depth: usize) -> Settings {
        Settings {
            depth: Some(depth),
            width: Some(4),
            ..Default::default()
        }
    }

    #[test]
    fn an_over_budget_run_is_refused_with_its_estimate() {
        let runner = Runner::new(1 << 34, 0.001);
        let exp = experiments::find("vanishing").unwrap();
        let s = Settings {
            depth: Some(50),
            ..Default::default()
        };
        let e = runner.run(exp, &s).unwrap_err();
        assert!(
            e.starts_with("demo vanishing with these settings would take about"),
            "{e}"
        );
        assert!(e.contains("over the time budget of 1.0e-3 s"), "{e}");
    }
}

/// The time budget's calibration, run by hand: each experiment's estimate beside the time its
/// run took, to set `experiments::WORK_PER_SECOND` by (`RAYON_NUM_THREADS=1
/// MATMUL_NUM_THREADS=1 cargo test --lib calibrate -- --ignored --nocapture`). It prints and
/// asserts nothing: a timing is no test.
#[cfg(test)]
mod calibrate {
    use super::*;
    #[test]
    #[ignore = "prints timings to calibrate by; run by hand"]
    fn calibrate() {
        let cases: &[(&str, &str)] = &[
            ("vanishing", ""),
            ("vanishing", "depth=20&width=512"),
            ("vanishing", "depth=50&width=256&batch=256"),
            ("vanishing", "depth=20&precision=bf16"),
            ("vanishing", "depth=20&precision=f64&seeds=5"),
            ("activations", ""),
            ("init", ""),
            ("batchnorm", ""),
            ("exploding", ""),
            ("he", ""),
            ("residual", ""),
            ("clipping", ""),
            ("recurrent", ""),
            ("recurrent", "seq-len=100&width=256"),
            ("precision", ""),
            ("layernorm", ""),
            ("skipinit", ""),
            ("isometry", ""),
            ("isometry", "width=256"),
            ("phase", ""),
        ];
        for (name, q) in cases {
            let exp = experiments::find(name).unwrap();
            let s = parse(exp, q).unwrap();
            let plan = exp.plan(&s, 1 << 33).unwrap();
            let est = plan.seconds();
            let t = std::time::Instant::now();
            let _ = plan.run();
            let took = t.elapsed().as_secs_f64();
            println!(
                "{name:12} {q:40} est {est:8.3} took {took:8.3} ratio {:6.2}",
                took / est
            );
        }
    }
}
