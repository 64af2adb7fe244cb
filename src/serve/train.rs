//! Training over HTTP, every path under `/api/train` (LAB-API.md, "Training"): live runs
//! ([`crate::train::live::LiveRun`]) that a page starts, steers and watches.
//!
//! - `GET /api/train/controls`: `train`'s settings as clap describes them, and the ones that
//!   change while a run goes.
//! - `POST /api/train?page=TOKEN` with the settings as JSON: a new run, running; a newer run
//!   of the same page stops the older one.
//! - `GET /api/train/ID/events`: server-sent events, one `frame` each time the run publishes
//!   one: at least every [`FRAME_EVERY`] while it runs, and on every pause, step, set and
//!   finish. Every frame the run published since the stream's start (the last [`LOG`] of
//!   them) is sent, so a page that connects late still gets every loss.
//! - `POST /api/train/ID/control`: `{"action": …}` or `{"set": {…}}`.
//!
//! Each run has a worker thread that steps it at full speed while it runs; the request
//! threads change it under the same lock, so a change applies from the next step. Runs are
//! bounded: at most [`MAX_RUNS`] unfinished at once, each stops after its `steps`, and a run
//! that finished (or sat untouched) is freed after [`KEEP`].

use super::Lab;
use super::http::{Reply, Request};
use crate::train::live::{self, LiveRun, State};
use crate::train::settings::TrainSettings;
use clap::Args;
use serde_json::{Map, Value, json};
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// The longest a live run's step may be estimated to take, in seconds at
/// `experiments::WORK_PER_SECOND` (a conservative rate: release builds run faster).
const STEP_BUDGET: f64 = 0.1;

/// The longest a running run goes without publishing a frame.
pub(crate) const FRAME_EVERY: Duration = Duration::from_millis(100);
/// The longest a running run goes without a new evaluation (train and test loss, boundary).
const EVAL_EVERY: Duration = Duration::from_millis(300);
/// Unfinished runs at once, over every page.
pub(crate) const MAX_RUNS: usize = 8;
/// How long a finished, stopped or untouched run is kept.
const KEEP: Duration = Duration::from_secs(30 * 60);
/// Frames kept for streams that connect late or read slowly.
const LOG: usize = 64;
/// How long a stream goes without sending anything.
const PING: Duration = Duration::from_secs(10);

/// Every live run of the lab.
#[derive(Default)]
pub(crate) struct Runs {
    inner: Mutex<Index>,
    next: AtomicU64,
}

#[derive(Default)]
struct Index {
    runs: HashMap<u64, Arc<Slot>>,
    /// The run of each page.
    pages: HashMap<String, u64>,
}

/// One run, its worker's and its streams' meeting point.
struct Slot {
    shared: Mutex<Shared>,
    /// Notified on every published frame and every control.
    changed: Condvar,
    /// Requests waiting for the lock: the worker, which takes it again right after each
    /// step, lets them in first.
    wanted: AtomicUsize,
}

struct Shared {
    run: LiveRun,
    /// Published frames: (sequence number, JSON on one line); the newest last.
    log: VecDeque<(u64, String)>,
    seq: u64,
    last_frame: Instant,
    last_eval: Instant,
    /// Last request about the run, or its finish.
    touched: Instant,
}

impl Shared {
    /// Publishes a frame of the run as it is (with a new evaluation if `evaluate`).
    fn publish(&mut self, evaluate: bool) {
        let now = Instant::now();
        if evaluate {
            self.last_eval = now;
        }
        let frame = self.run.frame(evaluate);
        let text = serde_json::to_string(&frame).unwrap_or_else(|e| {
            json!({"id": frame.id, "error": format!("frame not encoded: {e}")}).to_string()
        });
        self.seq += 1;
        self.log.push_back((self.seq, text));
        while self.log.len() > LOG {
            self.log.pop_front();
        }
        self.last_frame = now;
    }

    fn done(&self) -> bool {
        matches!(
            self.run.state,
            State::Finished | State::Diverged | State::Stopped
        )
    }
}

fn lock(slot: &Slot) -> MutexGuard<'_, Shared> {
    slot.shared.lock().unwrap_or_else(|e| e.into_inner())
}

/// [`lock`] for a request: ahead of the worker.
fn lock_first(slot: &Slot) -> MutexGuard<'_, Shared> {
    slot.wanted.fetch_add(1, Ordering::SeqCst);
    let guard = lock(slot);
    slot.wanted.fetch_sub(1, Ordering::SeqCst);
    guard
}

impl Runs {
    fn index(&self) -> MutexGuard<'_, Index> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn get(&self, id: u64) -> Option<Arc<Slot>> {
        self.index().runs.get(&id).cloned()
    }

    /// Frees runs finished or untouched for [`KEEP`] (stopping the untouched).
    fn sweep(&self, index: &mut Index) {
        let now = Instant::now();
        index.runs.retain(|_, slot| {
            let mut s = lock(slot);
            let stale = now.duration_since(s.touched) > KEEP;
            if stale && !s.done() {
                s.run.state = State::Stopped;
                slot.changed.notify_all();
            }
            !stale
        });
        let runs = &index.runs;
        index.pages.retain(|_, id| runs.contains_key(id));
    }
}

/// Answers `req`, whose `path` is `/api/train` or under it.
pub(crate) fn route(lab: &Lab, req: Request) {
    let parts: Vec<&str> = req.path.trim_end_matches('/').split('/').collect();
    let method = req.method.as_str();
    let reply = match (parts.as_slice(), method) {
        (["", "api", "train"], "POST") => start(lab, &req),
        (["", "api", "train"], _) => Reply::method_not_allowed(method, "POST"),
        (["", "api", "train", "controls"], "GET" | "HEAD") => Reply::json(&controls()),
        (["", "api", "train", "controls"], _) => Reply::method_not_allowed(method, "GET"),
        (["", "api", "train", id, "events"], "GET") => match find(lab, id) {
            Ok(slot) => return events(slot, req),
            Err(reply) => reply,
        },
        (["", "api", "train", _, "events"], _) => Reply::method_not_allowed(method, "GET"),
        (["", "api", "train", id, "control"], "POST") => match find(lab, id) {
            Ok(slot) => control(&slot, &req),
            Err(reply) => reply,
        },
        (["", "api", "train", _, "control"], _) => Reply::method_not_allowed(method, "POST"),
        _ => Reply::not_found(&req.path),
    };
    req.respond(reply);
}

/// The run `id` names, or 404.
fn find(lab: &Lab, id: &str) -> Result<Arc<Slot>, Reply> {
    let missing = || {
        Reply::error(
            404,
            &format!(
                "there is no training run {} (finished runs are kept {} minutes)",
                crate::format::escape(id, 20),
                KEEP.as_secs() / 60
            ),
        )
    };
    let n: u64 = id.parse().map_err(|_| missing())?;
    lab.train.get(n).ok_or_else(missing)
}

/// The body as a JSON object, or 400.
fn object(req: &Request, what: &str) -> Result<Map<String, Value>, Reply> {
    let text = req.text()?;
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) | Err(_) => Err(Reply::error(400, &format!("the body must be {what}"))),
    }
}

/// `POST /api/train?page=TOKEN`: checks the settings as `train` does, starts the run.
fn start(lab: &Lab, req: &Request) -> Reply {
    let page = match super::http::query(&req.query) {
        Ok(pairs) => pairs
            .into_iter()
            .rfind(|(k, _)| k == "page")
            .map(|(_, v)| v)
            .unwrap_or_default(),
        Err(reply) => return reply,
    };
    let body = match object(
        req,
        "a JSON object of train's settings, e.g. {\"depth\": 10}",
    ) {
        Ok(b) => b,
        Err(reply) => return reply,
    };
    // Every page names itself: runs without a name would all be one page's, each stopping
    // the one before.
    if page.is_empty() {
        return Reply::error(
            400,
            "give the page's token: POST /api/train?page=TOKEN (any text naming the page; a \
             newer run of the same page stops its older one)",
        );
    }
    let run = live::args_from_json(&body)
        .and_then(|args| live::settings_from_args(&args))
        .and_then(|settings| LiveRun::new(&settings, lab.runner.max_memory));
    let mut run = match run {
        Ok(run) => run,
        Err(e) => return Reply::error(400, &format!("{e:#}")),
    };
    // A step must leave time for the frames: estimated from the size before anything runs.
    let step = run.step_work() / crate::experiments::WORK_PER_SECOND;
    if step > STEP_BUDGET {
        return Reply::error(
            400,
            &format!(
                "a training step of this network would take about {} s here (estimated from \
                 its size before running), over the live lab's {} s per step, which keeps 10 \
                 frames a second coming; make it smaller (fewer layers, units or examples per \
                 batch)",
                crate::format::figure(step),
                crate::format::figure(STEP_BUDGET)
            ),
        );
    }
    let runs = &lab.train;
    let mut index = runs.index();
    runs.sweep(&mut index);
    // The page's older run stops (its streams end with a `stopped` frame).
    if let Some(old) = index.pages.remove(&page).and_then(|id| index.runs.get(&id)) {
        let mut s = lock_first(old);
        if !s.done() {
            s.run.state = State::Stopped;
            s.touched = Instant::now();
            s.publish(false);
        }
        old.changed.notify_all();
    }
    let busy = index
        .runs
        .values()
        .filter(|slot| !lock(slot).done())
        .count();
    if busy >= MAX_RUNS {
        return Reply::error(
            409,
            &format!(
                "{busy} training runs are going already, the most the lab runs at once; \
                 stop one or wait for one to finish"
            ),
        );
    }
    let id = runs.next.fetch_add(1, Ordering::SeqCst) + 1;
    run.id = id.to_string();
    run.state = State::Running;
    let now = Instant::now();
    let slot = Arc::new(Slot {
        shared: Mutex::new(Shared {
            run,
            log: VecDeque::new(),
            seq: 0,
            last_frame: now,
            last_eval: now,
            touched: now,
        }),
        changed: Condvar::new(),
        wanted: AtomicUsize::new(0),
    });
    // The first frame: step 0, the initial evaluation.
    lock(&slot).publish(true);
    let worker = Arc::clone(&slot);
    let spawned = std::thread::Builder::new()
        .name(format!("lab-train-{id}"))
        .spawn(move || work(&worker));
    if let Err(e) = spawned {
        return Reply::error(503, &format!("cannot start a training thread: {e}"));
    }
    index.runs.insert(id, slot);
    index.pages.insert(page, id);
    Reply::json(&json!({ "id": id.to_string() }))
}

/// The worker: steps the run while it runs, publishing a frame every [`FRAME_EVERY`] and at
/// the finish; waits while it is paused; ends when the run can step no more.
fn work(slot: &Slot) {
    loop {
        while slot.wanted.load(Ordering::SeqCst) > 0 {
            std::thread::yield_now();
        }
        let mut s = lock(slot);
        match s.run.state {
            State::Running if s.run.can_step() => {
                s.run.step();
                if !s.run.can_step() || s.done() {
                    if s.run.state == State::Running {
                        s.run.state = State::Finished;
                    }
                    s.touched = Instant::now();
                    s.publish(true);
                    slot.changed.notify_all();
                    return;
                }
                if s.last_frame.elapsed() >= FRAME_EVERY {
                    let evaluate = s.last_eval.elapsed() >= EVAL_EVERY;
                    s.publish(evaluate);
                    slot.changed.notify_all();
                }
            }
            State::Running => {
                s.run.state = State::Finished;
                s.publish(true);
                slot.changed.notify_all();
                return;
            }
            State::Paused => {
                // Woken by a control; the timeout only re-checks.
                let _unused = slot
                    .changed
                    .wait_timeout(s, Duration::from_secs(1))
                    .map(|(g, _)| drop(g));
            }
            State::Finished | State::Diverged | State::Stopped => return,
        }
    }
}

/// `GET /api/train/ID/events`: every frame from the stream's start until the run ends. A
/// `ping` event every [`PING`] without a frame finds a client that has gone.
fn events(slot: Arc<Slot>, req: Request) {
    let Ok(mut stream) = req.events() else {
        return;
    };
    let mut sent = 0u64;
    loop {
        let (batch, done) = {
            let mut s = lock_first(&slot);
            let waited = Instant::now();
            while s.seq == sent && !s.done() && waited.elapsed() < PING {
                s = match slot.changed.wait_timeout(s, PING) {
                    Ok((g, _)) => g,
                    Err(e) => e.into_inner().0,
                };
            }
            let batch: Vec<(u64, String)> = s
                .log
                .iter()
                .filter(|(seq, _)| *seq > sent)
                .cloned()
                .collect();
            (batch, s.done())
        };
        if batch.is_empty() && !done && stream.send("ping", "{}").is_err() {
            return;
        }
        for (seq, text) in &batch {
            if stream.send("frame", text).is_err() {
                return;
            }
            sent = *seq;
        }
        // Done and nothing new: every frame, the last included, has been sent.
        if done && batch.is_empty() {
            return;
        }
    }
}

/// `POST /api/train/ID/control`.
fn control(slot: &Slot, req: &Request) -> Reply {
    let body = match object(
        req,
        "{\"action\": \"pause\"|\"resume\"|\"step\"|\"stop\"} or {\"set\": {\"lr\": 0.003}}",
    ) {
        Ok(b) => b,
        Err(reply) => return reply,
    };
    let mut s = lock_first(slot);
    s.touched = Instant::now();
    let ended = |s: &Shared| {
        Reply::error(
            409,
            &format!(
                "training run {} has {}; start a new one",
                s.run.id,
                match s.run.state {
                    State::Diverged => "diverged",
                    State::Stopped => "been stopped",
                    _ => "finished",
                }
            ),
        )
    };
    match (body.get("action"), body.get("set"), body.len()) {
        (Some(Value::String(action)), None, 1) => {
            if s.done() {
                return ended(&s);
            }
            match action.as_str() {
                "pause" => s.run.state = State::Paused,
                "resume" => s.run.state = State::Running,
                "stop" => s.run.state = State::Stopped,
                "step" => {
                    s.run.state = State::Paused;
                    s.run.step();
                    if s.run.state == State::Paused && !s.run.can_step() {
                        s.run.state = State::Finished;
                    }
                }
                other => {
                    return Reply::error(
                        400,
                        &format!(
                            "unknown action '{}'; the actions are pause, resume, step, stop",
                            crate::format::escape(other, 20)
                        ),
                    );
                }
            }
        }
        (None, Some(Value::Object(set)), 1) => {
            if s.done() {
                return ended(&s);
            }
            if let Err(e) = s.run.set(set) {
                return Reply::error(400, &format!("{e:#}"));
            }
        }
        _ => {
            return Reply::error(
                400,
                "the body must be {\"action\": \"pause\"|\"resume\"|\"step\"|\"stop\"} or \
                 {\"set\": {\"lr\": 0.003}}",
            );
        }
    }
    let evaluate = s.run.state != State::Running;
    s.publish(evaluate);
    slot.changed.notify_all();
    Reply::json(&json!({ "state": s.run.state, "step": s.run.step_count() }))
}

/// `GET /api/train/controls`: one CONTROL per flag of [`TrainSettings`], from clap's own
/// description of it, and the settings that change while a run goes.
pub(crate) fn controls() -> Value {
    let cmd = TrainSettings::augment_args(clap::Command::new("train"));
    let controls: Vec<Value> = cmd
        .get_arguments()
        .filter_map(|arg| {
            let key = arg.get_long()?;
            let help = arg.get_help().map(|h| h.to_string()).unwrap_or_default();
            let label = help.split(". ").next().unwrap_or_default().trim();
            let label = label.strip_suffix('.').unwrap_or(label);
            let value_name = arg
                .get_value_names()
                .and_then(|v| v.first())
                .map(|v| v.to_string());
            let mut choices: Vec<String> = arg
                .get_possible_values()
                .iter()
                .filter(|v| !v.is_hide_set())
                .map(|v| v.get_name().to_string())
                .collect();
            if choices.is_empty() {
                choices = match key {
                    "activation" => names(crate::nn::activation::ACTIVATION_NAMES),
                    "init" => names(crate::nn::init::INIT_NAMES),
                    "dataset" => Vec::new(),
                    _ => Vec::new(),
                };
            }
            let kind = match (value_name.as_deref(), choices.is_empty()) {
                (Some("BOOL"), _) => "bool",
                (_, false) => "choice",
                (Some("N"), _) => "int",
                (Some("X"), _) => "float",
                _ => "text",
            };
            let default = help
                .split_once("[default: ")
                .and_then(|(_, rest)| rest.split_once(']'))
                .map(|(d, _)| d.to_string());
            let mut c = json!({
                "key": key,
                "flag": format!("--{key}"),
                "label": label.replace('\n', " "),
                "value_name": value_name,
                "type": kind,
                "default": default,
                "live": live::LIVE.contains(&key),
            });
            if kind == "choice" {
                c["choices"] = json!(choices);
            }
            if kind == "int" {
                c["min"] = json!(if key == "seed" { 0 } else { 1 });
                c["step"] = json!(1);
            }
            Some(c)
        })
        .collect();
    json!({ "controls": controls, "live": live::LIVE })
}

/// Names as a choice offers them: `orthogonal[:GAIN]` as `orthogonal` (its default),
/// `normal:STD` not at all (it needs a number: the flag's own text takes it).
fn names(list: &[&str]) -> Vec<String> {
    list.iter()
        .filter(|n| !n.contains(':') || n.contains("[:"))
        .map(|n| n.split('[').next().unwrap_or(n).to_string())
        .collect()
}
