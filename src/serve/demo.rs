//! Experiments over HTTP: `/api/demos` (each experiment's controls, from the settings
//! table) and `/api/demo/NAME[/chart.svg|/text|/hist.svg]?key=value…`.
//!
//! A query becomes the command line `gradtutor demo NAME --json --key=value …` would be and
//! is parsed by clap's own `Cli`, so every check and every message is the CLI's; the run is
//! the one `demo` makes (`Experiment::plan`, then `Plan::run`), refused first if it is over
//! the memory limit or the time budget. Runs are deterministic, so each report is kept,
//! by experiment and settings, in a small cache that forgets the least recently used.
//! Runs are admitted ([`Runner`]): one per core computes, a short queue waits, and past it a
//! request is answered 503 at once, so that a burst of requests slows no run past its
//! budget (four concurrent large runs each took 3.5× their time when all computed at once).

use super::http::{self, Reply};
use crate::cli::{Cli, Command};
use crate::experiments::{self, Experiment};
use crate::render::{json, svg, text};
use crate::report::Report;
use crate::settings::{Knob, Settings};
use crate::ui::Ui;
use clap::Parser;
use serde_json::{Value, json};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock};

/// How many reports the cache keeps.
pub(crate) const CACHE_SIZE: usize = 64;

/// The columns of the text view, as `export` lays out a run.
const TEXT_WIDTH: usize = 80;

/// What a demo request asks for: the report as JSON, its chart, its text view, or the
/// chart of each hidden layer's distributions (`demo NAME --hist --plot`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum View {
    Json,
    Chart,
    Text,
    Hist,
}

/// A finished run and its views, each rendered once when first asked for.
#[derive(Debug)]
pub(crate) struct Done {
    pub report: Report,
    json: OnceLock<String>,
    chart: OnceLock<String>,
    text: OnceLock<String>,
    /// The histograms' chart, or the CLI's message refusing `--hist` for this demo.
    hist: OnceLock<Result<String, String>>,
}

impl Done {
    fn new(report: Report) -> Done {
        Done {
            report,
            json: OnceLock::new(),
            chart: OnceLock::new(),
            text: OnceLock::new(),
            hist: OnceLock::new(),
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
            View::Hist => match self
                .hist
                .get_or_init(|| r.clone().with_histograms().map(|h| svg::demo_svg(&h)))
            {
                Ok(chart) => Reply::ok(http::SVG, chart.clone()),
                Err(e) => Reply::error(400, e),
            },
        }
    }
}

/// A cached outcome: the report, or the CLI's message for why the settings cannot run.
type Outcome = Result<Arc<Done>, String>;

/// How many runs may wait for a worker, per worker: a class-size run (`vanishing` at depth
/// 20, width 128, batch 64) takes 10–15 ms, so a request that finds the queue nearly full
/// waits about 100 ms, within the class's goal of 250 ms at p95 (issue 25); with 4, 60
/// students on a busy 2-core machine had 2% of their requests refused, and a longer queue
/// would answer later than a retry does.
pub(crate) const QUEUE_PER_WORKER: usize = 8;

/// Why a demo request got no report.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Refusal {
    /// The settings cannot run: the CLI's message (400).
    Invalid(String),
    /// Every worker busy and the queue full (503, `Retry-After: 1`).
    Busy,
    /// The same client asked for other settings while this request waited (409).
    Superseded,
    /// The run panicked: a bug (500).
    Failed,
}

impl Refusal {
    /// The answer to a request refused so.
    pub(crate) fn reply(&self) -> Reply {
        match self {
            Refusal::Invalid(e) => Reply::error(400, e),
            Refusal::Busy => Reply::busy(),
            Refusal::Superseded => Reply::error(409, "superseded by a newer request"),
            Refusal::Failed => {
                Reply::error(500, "the lab failed on this run (a bug: see its output)")
            }
        }
    }
}

/// A run asked for and not yet answered: waiting for a worker, or running.
struct Pending {
    key: String,
    /// Requests waiting for it, the one running it included; a queued run nobody waits for
    /// any more leaves the queue.
    waiters: usize,
    running: bool,
    /// Its estimated seconds.
    seconds: f64,
    /// Set when the run ends; the last waiter to take it removes the entry.
    outcome: Option<Result<Arc<Done>, Refusal>>,
}

impl Pending {
    fn queued(&self) -> bool {
        !self.running && self.outcome.is_none()
    }
}

/// A request of a known client (`?page=` or `?token=`) waiting for a run.
struct Waiter {
    ticket: u64,
    client: String,
    key: String,
}

/// Everything the runner's lock guards.
#[derive(Default)]
struct State {
    /// Finished runs by experiment and settings; most recently used last.
    cache: Vec<(String, Outcome)>,
    /// In the order asked for: the queue is the ones not running.
    pending: Vec<Pending>,
    /// Runs computing now.
    running: usize,
    waiting: Vec<Waiter>,
    /// Tickets of waiting requests superseded by their client's newer one, not yet told.
    dropped: Vec<u64>,
    next_ticket: u64,
}

impl State {
    /// A finished run's outcome, now the most recently used.
    fn cached(&mut self, key: &str) -> Option<Outcome> {
        let at = self.cache.iter().position(|(k, _)| k == key)?;
        let entry = self.cache.remove(at);
        let outcome = entry.1.clone();
        self.cache.push(entry);
        Some(outcome)
    }

    /// Keeps `outcome`, forgetting the least recently used beyond [`CACHE_SIZE`].
    fn remember(&mut self, key: &str, outcome: Outcome) {
        self.cache.retain(|(k, _)| k != key);
        if self.cache.len() >= CACHE_SIZE {
            drop(self.cache.remove(0));
        }
        self.cache.push((key.to_string(), outcome));
    }

    /// The runs waiting for a worker, oldest first.
    fn queued(&self) -> impl Iterator<Item = &Pending> {
        self.pending.iter().filter(|p| p.queued())
    }

    /// Request `ticket` stops waiting for the run of `key`: its outcome taken or refused.
    fn leave(&mut self, key: &str, ticket: u64) {
        self.waiting.retain(|w| w.ticket != ticket);
        if let Some(at) = self.pending.iter().position(|p| p.key == key) {
            let p = &mut self.pending[at];
            p.waiters -= 1;
            if p.waiters == 0 && !p.running {
                self.pending.remove(at);
            }
        }
    }
}

/// The runs of the lab: its limits, its admission and its cache.
///
/// At most `workers` runs compute at once (one per core); a run asked for when all are busy
/// waits in a queue of at most `queue` runs holding at most the time budget of estimated
/// seconds; past that the request is refused as [`Refusal::Busy`]. Requests for the same
/// settings share one run, queued or running, and take no more room. A client's request
/// still waiting is dropped ([`Refusal::Superseded`]) when the same client asks for other
/// settings; the run it waited for leaves the queue if nobody else waits for it.
pub(crate) struct Runner {
    pub max_memory: u64,
    /// The most a run may take, in estimated seconds.
    pub budget: f64,
    /// Runs computing at once, at most.
    pub workers: usize,
    /// Runs waiting for a worker, at most.
    pub queue: usize,
    state: Mutex<State>,
    /// Notified whenever a run starts, ends or leaves the queue, or a request is dropped.
    changed: Condvar,
}

impl Runner {
    /// A runner of `workers` workers (at least 1) and [`QUEUE_PER_WORKER`] queued runs each.
    pub(crate) fn new(max_memory: u64, budget: f64, workers: usize) -> Runner {
        let workers = workers.max(1);
        Runner {
            max_memory,
            budget,
            workers,
            queue: QUEUE_PER_WORKER * workers,
            state: Mutex::default(),
            changed: Condvar::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The report of `exp` with `settings` (as given, before the experiment's defaults), or
    /// why there is none: from the cache, from a run queued or under way for another
    /// request, or planned, checked against the limits, admitted and run. `client` (a page's
    /// or a student's token) lets a newer request drop this one while it waits.
    pub(crate) fn run(
        &self,
        exp: &'static Experiment,
        settings: &Settings,
        client: Option<&str>,
    ) -> Result<Arc<Done>, Refusal> {
        let key = format!("{}\0{}", exp.name, settings.to_args().join("\0"));
        if let Some(outcome) = self.lock().cached(&key) {
            return outcome.map_err(Refusal::Invalid);
        }
        // Planning is cheap (sizes, no network): outside the lock.
        let plan = match exp
            .plan(settings, self.max_memory)
            .and_then(|p| p.check_time(self.budget).map(|()| p))
        {
            Ok(plan) => plan,
            Err(e) => {
                let e = super::message(&e);
                self.lock().remember(&key, Err(e.clone()));
                return Err(Refusal::Invalid(e));
            }
        };
        let mut st = self.lock();
        if let Some(outcome) = st.cached(&key) {
            return outcome.map_err(Refusal::Invalid);
        }
        let ticket = st.next_ticket;
        st.next_ticket += 1;
        if let Some(client) = client {
            let older: Vec<u64> = st
                .waiting
                .iter()
                .filter(|w| w.client == client && w.key != key)
                .map(|w| w.ticket)
                .collect();
            if !older.is_empty() {
                st.dropped.extend(older);
                self.changed.notify_all();
            }
        }
        match st.pending.iter_mut().find(|p| p.key == key) {
            Some(p) => p.waiters += 1,
            None => {
                let (queued, seconds) = st
                    .queued()
                    .fold((0, 0.0), |(n, s), p| (n + 1, s + p.seconds));
                let at_once = st.running < self.workers && queued == 0;
                let room =
                    queued < self.queue && (queued == 0 || seconds + plan.seconds() <= self.budget);
                if !at_once && !room {
                    return Err(Refusal::Busy);
                }
                st.pending.push(Pending {
                    key: key.clone(),
                    waiters: 1,
                    running: false,
                    seconds: plan.seconds(),
                    outcome: None,
                });
            }
        }
        if let Some(client) = client {
            st.waiting.push(Waiter {
                ticket,
                client: client.to_string(),
                key: key.clone(),
            });
        }
        loop {
            if let Some(at) = st.dropped.iter().position(|&t| t == ticket) {
                st.dropped.swap_remove(at);
                st.leave(&key, ticket);
                self.changed.notify_all();
                return Err(Refusal::Superseded);
            }
            let Some(at) = st.pending.iter().position(|p| p.key == key) else {
                // Cannot happen: an entry stays while it has waiters.
                return Err(Refusal::Failed);
            };
            if let Some(outcome) = st.pending[at].outcome.clone() {
                st.leave(&key, ticket);
                return outcome;
            }
            let first = st.pending.iter().position(Pending::queued);
            if first == Some(at) && st.running < self.workers {
                st.pending[at].running = true;
                st.running += 1;
                // Running, it is no longer dropped for a newer request.
                st.waiting.retain(|w| w.ticket != ticket);
                break;
            }
            st = self.changed.wait(st).unwrap_or_else(|e| e.into_inner());
        }
        drop(st);
        // Outside the lock: other runs start and end meanwhile. On a thread of rayon's pool,
        // not this connection's: a run's matrices are then allocated by a few long-lived
        // threads, where a thread per connection gave glibc an arena each (200 students: a
        // peak RSS of 48–604 MiB over runs, against a steady one so).
        let outcome = rayon::scope(|_| {
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| plan.run()))
                .map(|report| Arc::new(Done::new(report)))
                .map_err(|_| Refusal::Failed)
        });
        let mut st = self.lock();
        st.running -= 1;
        if let Ok(done) = &outcome {
            st.remember(&key, Ok(Arc::clone(done)));
        }
        if let Some(at) = st.pending.iter().position(|p| p.key == key) {
            let p = &mut st.pending[at];
            p.waiters -= 1;
            p.running = false;
            p.outcome = Some(outcome.clone());
            if p.waiters == 0 {
                st.pending.remove(at);
            }
        }
        self.changed.notify_all();
        outcome
    }

    /// The runner's load now: `GET /api/load`.
    pub(crate) fn load(&self) -> Value {
        let st = self.lock();
        json!({
            "workers": self.workers,
            "queue": self.queue,
            "running": st.running,
            "queued": st.queued().count(),
            "cached": st.cache.len(),
        })
    }

    /// How many runs are cached (for tests).
    #[cfg(test)]
    fn len(&self) -> usize {
        self.lock().cache.len()
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
    let client = match client(query) {
        Ok(c) => c,
        Err(reply) => return reply,
    };
    match runner.run(exp, &settings, client.as_deref()) {
        Ok(done) => done.reply(view),
        Err(refusal) => refusal.reply(),
    }
}

/// The query keys that name the client, not a setting: the lab page's `page=` and the class
/// page's `token=`.
pub(crate) const CLIENT_KEYS: [&str; 2] = ["page", "token"];

/// Who asks, from the query: `token:T` for a student's `token=T`, else `page:P` for a lab
/// page's `page=P` (the last of each if repeated); none if neither is given.
pub(crate) fn client(query: &str) -> Result<Option<String>, Reply> {
    let pairs = http::query(query)?;
    let last = |name: &str| pairs.iter().rev().find(|(k, _)| k == name);
    Ok(last("token")
        .or_else(|| last("page"))
        .map(|(k, v)| format!("{k}:{v}")))
}

/// The settings a query gives `exp`, parsed as the command line `demo NAME --json --k=v …`
/// (`k` alone, without `=`, as the flag alone: `?bn` is `--bn`). A key that names a flag
/// but no setting (`plot`, `json`, `progress`…) is refused here; everything else, an
/// unknown key included, is clap's to judge. The client keys ([`CLIENT_KEYS`]) are no
/// settings and are left out.
pub(crate) fn parse(exp: &Experiment, query: &str) -> Result<Settings, Reply> {
    let mut argv = vec![
        "gradtutor".to_string(),
        "demo".into(),
        exp.name.into(),
        "--json".into(),
    ];
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = match pair.split_once('=') {
            Some((k, v)) => (http::decode(k, true)?, Some(http::decode(v, true)?)),
            None => (http::decode(pair, true)?, None),
        };
        if CLIENT_KEYS.contains(&key.as_str()) {
            continue;
        }
        let Some(knob) = Knob::ALL.into_iter().find(|k| k.flag()[2..] == *key) else {
            return Err(unknown(exp, &key));
        };
        // `--flag=value`: a value that starts with `-` stays a value.
        argv.push(match value {
            Some(value) => format!("{}={value}", knob.flag()),
            None => knob.flag().to_string(),
        });
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

/// The refusal of a query key that is no setting: clap's own message for `--KEY`, as the
/// command line gives it, unless `--KEY` is a flag clap knows that is no setting (`plot`:
/// the lab writes no file), which the lab refuses in its own words.
fn unknown(exp: &Experiment, key: &str) -> Reply {
    let argv = ["gradtutor", "demo", exp.name, "--json", &format!("--{key}")];
    if let Err(e) = Cli::try_parse_from(argv)
        && e.kind() == clap::error::ErrorKind::UnknownArgument
    {
        return Reply::error(400, &crate::format::clap_message(&e));
    }
    let keys: Vec<&str> = Knob::ALL.iter().map(|k| &k.flag()[2..]).collect();
    Reply::error(
        400,
        &format!(
            "unknown setting '{}'; the settings are {}",
            crate::format::escape(key, 40),
            keys.join(", ")
        ),
    )
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

/// The controls of `exp`: every knob but those it fixes, the recurrent-only ones only for
/// the experiments that take a sequence length, the attention-only ones only for attention, the width sweep's only for `demo width`.
pub(crate) fn controls(exp: &Experiment) -> Vec<Value> {
    let defaults = (exp.defaults)();
    let recurrent = defaults.seq_len.is_some();
    let attention = defaults.d_k.is_some();
    let sweep = defaults.widths.is_some();
    Knob::ALL
        .into_iter()
        .filter(|k| !exp.fixed.contains(k))
        .filter(|k| recurrent || !Knob::RECURRENT.contains(k))
        .filter(|k| attention || !Knob::ATTENTION.contains(k))
        .filter(|k| sweep || !Knob::WIDTH.contains(k))
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
        let runner = Runner::new(1 << 30, 60.0, 4);
        let exp = experiments::find("vanishing").unwrap();
        let s = Settings {
            depth: Some(2),
            width: Some(4),
            ..Default::default()
        };
        let a = runner.run(exp, &s, None).unwrap();
        let b = runner.run(exp, &s, None).unwrap();
        assert!(Arc::ptr_eq(&a, &b));
        assert_eq!(runner.len(), 1);
        // Asked for at once from several threads, one run answers them all.
        let s = s_of(3);
        let all: Vec<Arc<Done>> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..4)
                .map(|_| scope.spawn(|| runner.run(exp, &s, None).unwrap()))
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
            runner.run(exp, &s, None).unwrap();
        }
        assert_eq!(runner.len(), CACHE_SIZE);
        assert!(!Arc::ptr_eq(&a, &runner.run(exp, &s_of(2), None).unwrap()));
    }

    /// Holds the runner's only worker with a run that is not there, until `free`.
    fn hold(runner: &Runner) {
        let mut st = runner.lock();
        st.running += 1;
        st.pending.push(Pending {
            key: "held".into(),
            waiters: 1,
            running: true,
            seconds: 0.0,
            outcome: None,
        });
    }

    fn free(runner: &Runner) {
        let mut st = runner.lock();
        st.running -= 1;
        st.pending.retain(|p| p.key != "held");
        runner.changed.notify_all();
    }

    /// Waits until `n` runs are queued (a wait, not a timing: it returns as soon as they are).
    fn until_queued(runner: &Runner, n: u64) {
        let start = std::time::Instant::now();
        while runner.load()["queued"] != n {
            assert!(start.elapsed().as_secs() < 120, "{}", runner.load());
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
    }

    #[test]
    fn runs_past_the_workers_queue_and_past_the_queue_are_refused() {
        let runner = Runner::new(1 << 30, 60.0, 1);
        assert_eq!((runner.workers, runner.queue), (1, QUEUE_PER_WORKER));
        let exp = experiments::find("vanishing").unwrap();
        hold(&runner);
        std::thread::scope(|scope| {
            let queued: Vec<_> = (0..runner.queue)
                .map(|i| {
                    let runner = &runner;
                    let h = scope.spawn(move || runner.run(exp, &s_of(2 + i), None));
                    until_queued(runner, i as u64 + 1);
                    h
                })
                .collect();
            // The queue is full: other settings are refused at once, the same settings wait
            // for the queued run and take no room.
            assert_eq!(runner.run(exp, &s_of(40), None).unwrap_err(), Refusal::Busy);
            let same = scope.spawn(|| runner.run(exp, &s_of(2), None));
            assert_eq!(runner.load()["queued"], runner.queue);
            free(&runner);
            let first = same.join().unwrap().unwrap();
            for (i, h) in queued.into_iter().enumerate() {
                let done = h.join().unwrap().unwrap();
                let alone = exp.plan(&s_of(2 + i), 1 << 30).unwrap().run();
                assert_eq!(json::render(&done.report), json::render(&alone));
                if i == 0 {
                    assert!(Arc::ptr_eq(&done, &first), "one run for both requests");
                }
            }
        });
        let load = runner.load();
        assert_eq!(
            (load["running"].as_u64(), load["queued"].as_u64()),
            (Some(0), Some(0))
        );
        assert_eq!(runner.len(), QUEUE_PER_WORKER);
    }

    #[test]
    fn the_queue_holds_at_most_the_budget_of_estimated_work() {
        let exp = experiments::find("vanishing").unwrap();
        let seconds = exp.plan(&s_of(30), 1 << 30).unwrap().seconds();
        let runner = Runner::new(1 << 30, 1.5 * seconds, 1);
        hold(&runner);
        std::thread::scope(|scope| {
            let queued = scope.spawn(|| runner.run(exp, &s_of(30), None));
            until_queued(&runner, 1);
            assert_eq!(runner.run(exp, &s_of(31), None).unwrap_err(), Refusal::Busy);
            // A small one still fits.
            let small = scope.spawn(|| runner.run(exp, &s_of(1), None));
            until_queued(&runner, 2);
            free(&runner);
            assert!(queued.join().unwrap().is_ok());
            assert!(small.join().unwrap().is_ok());
        });
    }

    #[test]
    fn a_clients_newer_request_drops_its_older_waiting_ones() {
        let runner = Runner::new(1 << 30, 60.0, 1);
        let exp = experiments::find("vanishing").unwrap();
        hold(&runner);
        std::thread::scope(|scope| {
            let older = scope.spawn(|| runner.run(exp, &s_of(3), Some("page:p")));
            until_queued(&runner, 1);
            // The same page's chart of the same settings, and another page's request for
            // them, wait for the same run.
            let chart = scope.spawn(|| runner.run(exp, &s_of(3), Some("page:p")));
            let other = scope.spawn(|| runner.run(exp, &s_of(3), Some("page:q")));
            let student = scope.spawn(|| runner.run(exp, &s_of(5), Some("token:p")));
            until_queued(&runner, 2);
            let newer = scope.spawn(|| runner.run(exp, &s_of(4), Some("page:p")));
            assert_eq!(older.join().unwrap().unwrap_err(), Refusal::Superseded);
            assert_eq!(chart.join().unwrap().unwrap_err(), Refusal::Superseded);
            until_queued(&runner, 3);
            free(&runner);
            assert!(other.join().unwrap().is_ok());
            assert!(student.join().unwrap().is_ok());
            assert!(newer.join().unwrap().is_ok());
        });
        // Nobody else waited for a dropped run: it leaves the queue and never runs.
        let runner = Runner::new(1 << 30, 60.0, 1);
        hold(&runner);
        std::thread::scope(|scope| {
            let older = scope.spawn(|| runner.run(exp, &s_of(3), Some("token:t")));
            until_queued(&runner, 1);
            let newer = scope.spawn(|| runner.run(exp, &s_of(4), Some("token:t")));
            assert_eq!(older.join().unwrap().unwrap_err(), Refusal::Superseded);
            until_queued(&runner, 1);
            free(&runner);
            assert!(newer.join().unwrap().is_ok());
        });
        assert_eq!(runner.len(), 1);
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
        let runner = Runner::new(1 << 34, 0.001, 1);
        let exp = experiments::find("vanishing").unwrap();
        let s = Settings {
            depth: Some(50),
            ..Default::default()
        };
        let Refusal::Invalid(e) = runner.run(exp, &s, None).unwrap_err() else {
            panic!("refused otherwise");
        };
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
