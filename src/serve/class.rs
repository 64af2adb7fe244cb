//! The live class (`serve --class`): students join with a code and a name and get a token;
//! the instructor, holding a token printed only on the terminal, pushes a question, a quiz
//! item or an experiment to every student's screen, sees answers arrive, reveals keys and
//! locks answering. Every change is in the session file (`crate::session`) before it is
//! acknowledged: an answer's 200 means it is on disk.
//!
//! Writes are grouped: a request that changed the record waits for a write that holds its
//! change, and the writer writes whatever the record holds by then, so answers arriving
//! during one write share the next instead of queueing a write each (a write syncs the file
//! and its folder, milliseconds each).
//!
//! Events go to every open stream (`GET /api/class/events`) through a channel per stream;
//! a student is *connected* while one of their streams is open (a ping every 10 s finds a
//! stream whose reader has gone). Tokens and the join code come from the OS's randomness
//! (`rand`'s `SysRng`, getrandom).

use super::Lab;
use super::http::{self, Reply, Request};
use super::lessons::{AnswerText, IdOrSlug};
use crate::bank::format::{ItemKind, QuizItem, letter};
use crate::bank::{Bank, Question};
use crate::progress::{Held, Store};
use crate::session::{self, Answer, Reveal, Session, Student};
use anyhow::{Result, anyhow};
use serde_json::{Map, Value, json};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// The join code's alphabet: no 0/O, 1/I/L, to read off a projector.
const CODE_ALPHABET: &[u8] = b"ABCDEFGHJKMNPQRSTUVWXYZ23456789";
/// The join code's length.
const CODE_LEN: usize = 6;
/// The most students a session takes.
pub(crate) const MAX_STUDENTS: usize = 1000;
/// A student's requests: `RATE` a second, bursts of `BURST`.
const RATE: f64 = 10.0;
const BURST: f64 = 20.0;
/// How often an idle event stream is pinged (and found gone).
const PING: Duration = Duration::from_secs(10);
/// The instructor's `results` events come at most this often.
const RESULTS_EVERY: Duration = Duration::from_millis(250);
/// Names the session file in messages.
const WHAT: &str = "class session";

/// `n` bytes from the OS's randomness.
fn random_bytes(n: usize) -> Result<Vec<u8>> {
    use rand::TryRng;
    let mut bytes = vec![0u8; n];
    rand::rngs::SysRng
        .try_fill_bytes(&mut bytes)
        .map_err(|e| anyhow!("cannot read the system's randomness: {e}"))?;
    Ok(bytes)
}

/// A token: 128 bits of the OS's randomness as 32 hex digits.
pub(crate) fn token() -> Result<String> {
    Ok(random_bytes(16)?
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}

/// A join code: [`CODE_LEN`] characters of [`CODE_ALPHABET`], each uniform (bytes of 248
/// and above, which would favour the first letters, are drawn again).
pub(crate) fn join_code() -> Result<String> {
    let n = CODE_ALPHABET.len();
    let limit = (256 / n * n) as u8;
    let mut code = String::new();
    while code.len() < CODE_LEN {
        for b in random_bytes(16)? {
            if b < limit && code.len() < CODE_LEN {
                code.push(CODE_ALPHABET[b as usize % n] as char);
            }
        }
    }
    Ok(code)
}

/// Equality that takes as long whatever the first difference: a token is not found out a
/// byte at a time by timing.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |d, (x, y)| d | (x ^ y)) == 0
}

/// Who an event stream is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Who {
    Student(u32),
    Instructor,
}

/// An open event stream: where its events go.
struct Subscriber {
    id: u64,
    who: Who,
    tx: mpsc::Sender<(&'static str, String)>,
}

/// A student's allowance of requests (a token bucket).
struct Bucket {
    tokens: f64,
    at: Instant,
}

/// What the class holds besides its record.
struct State {
    session: Session,
    /// Changes made to `session` since the start; the writer records which is on disk.
    changes: u64,
    /// Open event streams per student.
    connected: HashMap<u32, usize>,
}

/// A live class.
pub(crate) struct Class {
    /// The instructor's token, new on every start.
    pub instructor: String,
    pub path: PathBuf,
    held: Held,
    state: Mutex<State>,
    /// Taken to write; holds the change count last on disk.
    written: Mutex<u64>,
    subscribers: Mutex<Vec<Subscriber>>,
    /// The next subscriber's id.
    next_id: AtomicU64,
    buckets: Mutex<HashMap<String, Bucket>>,
    /// Numeric items' figures, measured once: (slug, item from 1) → figure.
    measured: Mutex<HashMap<(String, usize), f64>>,
    /// Whether the instructor's results changed since they were last sent.
    results_due: AtomicBool,
}

/// Locks `m`, carrying on after a panic elsewhere (the data stays consistent: every change
/// is made whole under the lock).
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Class {
    /// Opens (resumes) or begins the session in `path`, holding its lock for as long as the
    /// class runs. A file that is not a session file is refused, never overwritten.
    pub(crate) fn open(path: &Path) -> Result<(Class, bool)> {
        let store = Store {
            path: path.to_path_buf(),
        };
        let held = store.hold()?;
        let shown = crate::format::escape_path(path);
        let (session, resumed) = match held.read()? {
            None => (Session::new(join_code()?), false),
            Some(bytes) => match session::parse(&bytes) {
                Ok(Some(s)) => (s, true),
                Ok(None) => (Session::new(join_code()?), false),
                Err(problem) => {
                    return Err(anyhow!(
                        "{shown} cannot be used: {problem}; give another --session FILE \
                         (it was left as it is)"
                    ));
                }
            },
        };
        let class = Class {
            instructor: token()?,
            path: path.to_path_buf(),
            held,
            state: Mutex::new(State {
                session,
                changes: 1,
                connected: HashMap::new(),
            }),
            written: Mutex::new(0),
            subscribers: Mutex::new(Vec::new()),
            next_id: AtomicU64::new(0),
            buckets: Mutex::new(HashMap::new()),
            measured: Mutex::new(HashMap::new()),
            results_due: AtomicBool::new(false),
        };
        // On disk before anyone joins: the code printed is the code kept.
        class.persist(1)?;
        Ok((class, resumed))
    }

    /// The join code, students and answers, for the start-up lines.
    pub(crate) fn summary(&self) -> (String, usize, usize) {
        let st = lock(&self.state);
        (
            st.session.code.clone(),
            st.session.students.len(),
            st.session.answers.len(),
        )
    }

    /// Makes sure change `mine` is on disk: writes the record unless a write that began
    /// after it already did.
    fn persist(&self, mine: u64) -> Result<()> {
        let mut written = lock(&self.written);
        if *written >= mine {
            return Ok(());
        }
        let (text, at) = {
            let st = lock(&self.state);
            let text = serde_json::to_string_pretty(&st.session)
                .map_err(|e| anyhow!("cannot write the session: {e}"))?;
            (text + "\n", st.changes)
        };
        self.held.write(&text, WHAT, Some(0o600))?;
        *written = at;
        Ok(())
    }

    /// Applies `f` to the record, then returns once the change is on disk (500 if it could
    /// not be written: nothing is acknowledged that is not kept, and a change no later one
    /// builds on is undone, so that a retry finds the record as it was).
    fn change<T>(&self, f: impl FnOnce(&mut Session) -> T) -> Result<T, Reply> {
        let (out, mine, before) = {
            let mut st = lock(&self.state);
            let before = st.session.clone();
            let out = f(&mut st.session);
            st.changes += 1;
            (out, st.changes, before)
        };
        self.persist(mine).map_err(|e| {
            let mut st = lock(&self.state);
            if st.changes == mine {
                st.session = before;
            }
            drop(st);
            super::warn(format!("{e:#}"));
            Reply::error(
                500,
                &format!("the session could not be saved: {}", super::message(&e)),
            )
        })?;
        Ok(out)
    }

    /// Sends an event to every stream (`to_all`) or to the instructor's only.
    fn broadcast(&self, event: &'static str, data: &Value, to_all: bool) {
        let text = data.to_string();
        lock(&self.subscribers).retain(|s| {
            if !to_all && s.who != Who::Instructor {
                return true;
            }
            s.tx.send((event, text.clone())).is_ok()
        });
    }

    /// Whether `token` (a student's) may make another request now.
    fn allow(&self, token: &str) -> bool {
        let mut buckets = lock(&self.buckets);
        let now = Instant::now();
        let b = buckets.entry(token.to_string()).or_insert(Bucket {
            tokens: BURST,
            at: now,
        });
        b.tokens = (b.tokens + RATE * now.duration_since(b.at).as_secs_f64()).min(BURST);
        b.at = now;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            true
        } else {
            false
        }
    }

    /// The student with `token`: 401 for a token the class did not give, 429 over the rate.
    fn student(&self, token: &str) -> Result<Student, Reply> {
        let found = lock(&self.state).session.by_token(token).cloned();
        let Some(s) = found else {
            return Err(Reply::error(
                401,
                "this token is not one of this class's; join again at /join",
            ));
        };
        if !self.allow(token) {
            return Err(Reply::too_many());
        }
        Ok(s)
    }

    /// Checks a demo request's `token` (student or instructor): 401 if unknown, 429 over
    /// the student's rate.
    pub(crate) fn demo_token(&self, token: &str) -> Result<(), Reply> {
        if same(token, &self.instructor) {
            return Ok(());
        }
        self.student(token).map(|_| ())
    }

    /// The instructor's request: 401 without a token, 403 with another.
    fn instructor(&self, req: &Request) -> Result<(), Reply> {
        let Some(auth) = req.header("authorization") else {
            return Err(Reply::error(
                401,
                "instructor only: send Authorization: Bearer TOKEN (the token printed at start)",
            ));
        };
        let given = auth
            .strip_prefix("Bearer ")
            .or_else(|| auth.strip_prefix("bearer "))
            .unwrap_or("")
            .trim();
        match same(given, &self.instructor) {
            true => Ok(()),
            false => Err(Reply::error(403, "instructor only")),
        }
    }

    /// Marks the instructor's results as changed (sent within [`RESULTS_EVERY`]).
    fn results_changed(&self) {
        self.results_due.store(true, Ordering::SeqCst);
    }

    /// Sends the instructor's streams the results when they changed, every
    /// [`RESULTS_EVERY`], until the process ends. Runs on a thread of its own.
    pub(crate) fn results_loop(lab: &Lab, class: &Class) {
        loop {
            std::thread::sleep(RESULTS_EVERY);
            if !class.results_due.swap(false, Ordering::SeqCst) {
                continue;
            }
            let any = lock(&class.subscribers)
                .iter()
                .any(|s| s.who == Who::Instructor);
            if any {
                let results = results(lab, class);
                class.broadcast("results", &results, false);
            }
        }
    }

    /// A numeric item's figure, measured once (through the lab's cache for the question's
    /// preset run) and kept; none for a choice item.
    fn figure(&self, lab: &Lab, q: &Question, index: usize) -> Result<Option<f64>, String> {
        let item = &q.quiz[index];
        if item.is_choice() {
            return Ok(None);
        }
        let key = (q.slug.clone(), index + 1);
        if let Some(m) = lock(&self.measured).get(&key) {
            return Ok(Some(*m));
        }
        let preset = super::lessons::preset_run(lab, q).ok();
        let m = crate::quiz::measured(
            q,
            item,
            preset.as_ref().map(|d| &d.report),
            lab.runner.max_memory,
        )
        .map_err(|e| super::message(&e))?;
        if let Some(m) = m {
            lock(&self.measured).insert(key, m);
        }
        Ok(m)
    }
}

/// Routes a class request; `None` for a path that is not the class's. Event streams are
/// answered by [`events`], before this.
pub(crate) fn route(lab: &Lab, class: &Class, req: &Request) -> Option<Reply> {
    let path = req.path.trim_end_matches('/');
    let method = req.method.as_str();
    let post = |f: &dyn Fn(&str) -> Reply| match method {
        "POST" => match req.text() {
            Ok(body) => f(body),
            Err(r) => r,
        },
        m => Reply::method_not_allowed(m, "POST"),
    };
    let get = |f: &dyn Fn() -> Reply| match method {
        "GET" | "HEAD" => f(),
        m => Reply::method_not_allowed(m, "GET"),
    };
    let instructor = |f: &dyn Fn() -> Reply| match class.instructor(req) {
        Ok(()) => f(),
        Err(r) => r,
    };
    Some(match path {
        "/api/class/join" => post(&|b| join(class, b)),
        "/api/class/me" => get(&|| me(class, &req.query)),
        "/api/class/answer" => post(&|b| answer(lab, class, b)),
        "/api/class/push" => instructor(&|| post(&|b| push(lab, class, b))),
        "/api/class/reveal" => instructor(&|| post(&|b| reveal(lab, class, b))),
        "/api/class/lock" => instructor(&|| post(&|b| set_lock(class, b))),
        "/api/class/results" => instructor(&|| get(&|| Reply::json(&results(lab, class)))),
        "/api/class/roster" => instructor(&|| get(&|| roster(lab, class, &req.query))),
        p if p.starts_with("/api/class") => Reply::not_found(p),
        _ => return None,
    })
}

/// A JSON body as `T`, or 400 naming the shape expected.
fn body<T: serde::de::DeserializeOwned>(text: &str, shape: &str) -> Result<T, Reply> {
    serde_json::from_str(text)
        .map_err(|e| Reply::error(400, &format!("the body must be {shape}: {e}")))
}

/// The value of `key` in a query string.
fn query_value(query: &str, key: &str) -> Result<Option<String>, Reply> {
    Ok(http::query(query)?
        .into_iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v))
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Join {
    code: String,
    name: String,
}

/// `POST /api/class/join`.
fn join(class: &Class, text: &str) -> Reply {
    let j: Join = match body(text, "{\"code\": \"K7Q2MX\", \"name\": \"Ana\"}") {
        Ok(j) => j,
        Err(r) => return r,
    };
    let code = lock(&class.state).session.code.clone();
    if !same(&j.code.trim().to_ascii_uppercase(), &code) {
        return Reply::error(403, "wrong join code");
    }
    // `progress --name`'s rules (one line, no control or bidi characters, a length).
    let mut p = crate::progress::Progress::default();
    if let Err(e) = p.set_name(&j.name) {
        return Reply::error(400, &e.to_string());
    }
    let Some(name) = p.name else {
        return Reply::error(400, "give a name, as your instructor will see it");
    };
    let token = match token() {
        Ok(t) => t,
        Err(e) => return Reply::error(500, &super::message(&e)),
    };
    let joined = class.change(|s| {
        let key = name.to_lowercase();
        if s.students.iter().any(|st| st.name.to_lowercase() == key) {
            return Err(Reply::error(
                409,
                &format!(
                    "the name '{}' is taken in this class; add an initial",
                    crate::format::escape(&name, crate::progress::MAX_NAME)
                ),
            ));
        }
        if s.students.len() >= MAX_STUDENTS {
            return Err(Reply::error(
                403,
                &format!("the class is full ({MAX_STUDENTS} students)"),
            ));
        }
        let student = s.students.len() as u32 + 1;
        s.students.push(Student {
            student,
            name: name.clone(),
            token: token.clone(),
            joined: session::now(),
        });
        Ok(student)
    });
    match joined {
        Ok(Ok(student)) => {
            class.results_changed();
            Reply::json(&json!({ "token": token, "name": name, "student": student }))
        }
        Ok(Err(r)) | Err(r) => r,
    }
}

/// `GET /api/class/me?token=T`: the student's own answers, graded only where revealed.
fn me(class: &Class, query: &str) -> Reply {
    let token = match query_value(query, "token") {
        Ok(t) => t.unwrap_or_default(),
        Err(r) => return r,
    };
    let s = match class.student(&token) {
        Ok(s) => s,
        Err(r) => return r,
    };
    let st = lock(&class.state);
    let answers: Vec<Value> = st
        .session
        .answers
        .iter()
        .filter(|a| a.student == s.student)
        .map(|a| {
            let correct = match st.session.revealed(&a.question, a.item) {
                true => json!(a.correct),
                false => Value::Null,
            };
            json!({ "question": a.question, "item": a.item, "answer": a.answer, "correct": correct })
        })
        .collect();
    Reply::json(&json!({ "name": s.name, "student": s.student, "answers": answers }))
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct AnswerBody {
    token: String,
    question: IdOrSlug,
    item: usize,
    answer: AnswerText,
}

/// A question's item (from 1), with the lessons' messages when there is none.
fn find_item<'a>(
    bank: &'a Bank,
    question: &IdOrSlug,
    item: usize,
) -> Result<(&'a Question, usize, &'a QuizItem), Reply> {
    let q = bank
        .find(&question.key())
        .map_err(|e| Reply::error(404, &super::message(&e)))?;
    if q.quiz.is_empty() {
        return Err(Reply::error(
            404,
            &format!("question {} has no quiz items", q.id),
        ));
    }
    let Some(it) = item.checked_sub(1).and_then(|i| q.quiz.get(i)) else {
        return Err(Reply::error(
            404,
            &format!(
                "question {} has no item {item}; its items are 1 to {}",
                q.id,
                q.quiz.len()
            ),
        ));
    };
    Ok((q, item - 1, it))
}

/// The key as shown after a reveal: the letter, or the measured figure.
fn key_text(item: &QuizItem, measured: Option<f64>) -> String {
    match &item.kind {
        ItemKind::Choice { correct, .. } => letter(*correct).to_string(),
        ItemKind::Numeric { .. } => measured.map(crate::format::figure).unwrap_or_default(),
    }
}

/// `POST /api/class/answer`: graded as `quiz` grades, recorded, then acknowledged.
fn answer(lab: &Lab, class: &Class, text: &str) -> Reply {
    let a: AnswerBody = match body(
        text,
        "{\"token\": T, \"question\": ID or \"slug\", \"item\": K, \"answer\": \"b\" or a number}",
    ) {
        Ok(a) => a,
        Err(r) => return r,
    };
    let s = match class.student(&a.token) {
        Ok(s) => s,
        Err(r) => return r,
    };
    if lock(&class.state).session.locked {
        return Reply::error(409, "answering is locked");
    }
    let (q, index, item) = match find_item(&lab.bank, &a.question, a.item) {
        Ok(found) => found,
        Err(r) => return r,
    };
    let given = a.answer.0;
    if let Err(e) = crate::quiz::check_format(item, &given) {
        return Reply::error(400, &e);
    }
    // As recorded: the choice's letter, or the number as parsed (bounded, one form).
    let recorded = match crate::quiz::recorded(item, &given) {
        Ok(r) => r,
        Err(e) => return Reply::error(400, &e),
    };
    let measured = match class.figure(lab, q, index) {
        Ok(m) => m,
        Err(e) => return Reply::error(400, &e),
    };
    let outcome = match crate::quiz::grade(item, &recorded, measured) {
        Ok(o) => o,
        Err(e) => return Reply::error(400, &e),
    };
    let slug = q.slug.clone();
    let changed = class.change(|sess| {
        // Checked again under the lock: a lock that came meanwhile wins.
        if sess.locked {
            return Err(Reply::error(409, "answering is locked"));
        }
        sess.answers.push(Answer {
            student: s.student,
            question: slug.clone(),
            item: a.item,
            answer: recorded.clone(),
            correct: outcome.correct,
            time: session::now(),
        });
        let attempt = sess
            .answers
            .iter()
            .filter(|x| x.student == s.student && x.question == slug && x.item == a.item)
            .count();
        Ok((attempt, sess.revealed(&slug, a.item)))
    });
    let (attempt, revealed) = match changed {
        Ok(Ok(done)) => done,
        Ok(Err(r)) | Err(r) => return r,
    };
    class.results_changed();
    let mut reply = json!({ "recorded": true, "attempt": attempt });
    if revealed {
        reply["correct"] = json!(outcome.correct);
        reply["key"] = json!(key_text(item, measured));
    }
    Reply::json(&reply)
}

#[derive(serde::Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase", deny_unknown_fields)]
enum Push {
    Question {
        question: IdOrSlug,
    },
    Item {
        question: IdOrSlug,
        item: usize,
    },
    Experiment {
        name: String,
        #[serde(default)]
        settings: Map<String, Value>,
    },
    Clear,
}

/// `text` percent-encoded for a query string.
fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            b => format!("%{b:02X}"),
        })
        .collect()
}

/// An item as pushed: prompt, type and options from the bank.
fn item_push(q: &Question, index: usize, item: &QuizItem) -> Value {
    let (kind, options) = match &item.kind {
        ItemKind::Choice { choices, .. } => (
            "choice",
            choices
                .iter()
                .enumerate()
                .map(|(j, c)| json!({ "key": letter(j).to_string(), "text": c.trim() }))
                .collect::<Vec<_>>(),
        ),
        ItemKind::Numeric { .. } => ("number", Vec::new()),
    };
    json!({
        "kind": "item",
        "question": q.slug,
        "item": index + 1,
        "prompt": item.prompt.trim(),
        "type": kind,
        "options": options,
    })
}

/// `POST /api/class/push`.
fn push(lab: &Lab, class: &Class, text: &str) -> Reply {
    let p: Push = match body(
        text,
        "{\"kind\": \"question\"|\"item\"|\"experiment\"|\"clear\", …} as the README's API \
         table gives",
    ) {
        Ok(p) => p,
        Err(r) => return r,
    };
    let pushed = match p {
        Push::Question { question } => match lab.bank.find(&question.key()) {
            Ok(q) => json!({ "kind": "question", "question": q.slug }),
            Err(e) => return Reply::error(404, &super::message(&e)),
        },
        Push::Item { question, item } => match find_item(&lab.bank, &question, item) {
            Ok((q, index, it)) => item_push(q, index, it),
            Err(r) => return r,
        },
        Push::Experiment { name, settings } => {
            let exp = match crate::experiments::find(&name) {
                Ok(e) => e,
                Err(e) => return Reply::error(404, &super::message(&e)),
            };
            let mut pairs = Map::new();
            for (k, v) in settings {
                let v = match v {
                    Value::String(s) => s,
                    Value::Number(n) => n.to_string(),
                    Value::Bool(b) => b.to_string(),
                    other => {
                        return Reply::error(
                            400,
                            &format!("the setting '{k}' must be text or a number, not {other}"),
                        );
                    }
                };
                pairs.insert(k, Value::String(v));
            }
            let query: Vec<String> = pairs
                .iter()
                .map(|(k, v)| format!("{}={}", encode(k), encode(v.as_str().unwrap_or(""))))
                .collect();
            let settings = match super::demo::parse(exp, &query.join("&")) {
                Ok(settings) => settings,
                Err(r) => return r,
            };
            // Checked as the lab checks a run (memory limit, time budget) before it takes
            // every student's screen.
            if let Err(e) = exp
                .plan(&settings, lab.runner.max_memory)
                .and_then(|p| p.check_time(lab.runner.budget))
            {
                return Reply::error(400, &super::message(&e));
            }
            json!({ "kind": "experiment", "name": exp.name, "settings": pairs })
        }
        Push::Clear => json!({ "kind": "clear" }),
    };
    if let Err(r) = class.change(|s| s.pushes.push(pushed.clone())) {
        return r;
    }
    class.broadcast("push", &pushed, true);
    Reply::json(&json!({ "pushed": pushed }))
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ItemRef {
    question: IdOrSlug,
    item: usize,
}

/// The reveal event of an item: its key and the explanation `quiz` prints for it.
fn reveal_event(q: &Question, index: usize, measured: Option<f64>) -> Value {
    let item = &q.quiz[index];
    let explanation = match &item.kind {
        ItemKind::Choice {
            correct,
            explanations,
            ..
        } => format!(
            "The answer is ({}). {}",
            letter(*correct),
            explanations[*correct]
        ),
        ItemKind::Numeric {
            tolerance,
            explanation,
            ..
        } => format!(
            "The run measured {} (answers within ±{tolerance} count). {explanation}",
            measured.map_or("?".into(), crate::format::figure)
        ),
    };
    json!({
        "question": q.slug,
        "item": index + 1,
        "key": key_text(item, measured),
        "explanation": explanation,
    })
}

/// `POST /api/class/reveal`.
fn reveal(lab: &Lab, class: &Class, text: &str) -> Reply {
    let r: ItemRef = match body(text, "{\"question\": ID or \"slug\", \"item\": K}") {
        Ok(r) => r,
        Err(r) => return r,
    };
    let (q, index, _) = match find_item(&lab.bank, &r.question, r.item) {
        Ok(found) => found,
        Err(r) => return r,
    };
    let measured = match class.figure(lab, q, index) {
        Ok(m) => m,
        Err(e) => return Reply::error(400, &e),
    };
    let event = reveal_event(q, index, measured);
    let slug = q.slug.clone();
    if let Err(r) = class.change(|s| {
        if !s.revealed(&slug, index + 1) {
            s.reveals.push(Reveal {
                question: slug.clone(),
                item: index + 1,
                time: session::now(),
            });
        }
    }) {
        return r;
    }
    class.broadcast("reveal", &event, true);
    class.results_changed();
    Reply::json(&event)
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Lock {
    locked: bool,
}

/// `POST /api/class/lock`.
fn set_lock(class: &Class, text: &str) -> Reply {
    let l: Lock = match body(text, "{\"locked\": true or false}") {
        Ok(l) => l,
        Err(r) => return r,
    };
    if let Err(r) = class.change(|s| s.locked = l.locked) {
        return r;
    }
    let event = json!({ "locked": l.locked });
    class.broadcast("lock", &event, true);
    Reply::json(&event)
}

/// `GET /api/class/results`: per student their figures, per item the counts of each
/// option over each student's latest answer, and every attempt.
pub(crate) fn results(lab: &Lab, class: &Class) -> Value {
    let (session, connected) = {
        let st = lock(&class.state);
        (st.session.clone(), st.connected.clone())
    };
    let latest = latest_answers(&session);
    let students: Vec<Value> = session
        .students
        .iter()
        .map(|s| {
            let mine: Vec<&&Answer> = latest.values().filter(|a| a.student == s.student).collect();
            json!({
                "student": s.student,
                "name": s.name,
                "connected": connected.get(&s.student).is_some_and(|&n| n > 0),
                "answered": mine.len(),
                "right": mine.iter().filter(|a| a.correct).count(),
            })
        })
        .collect();
    let names: HashMap<u32, &str> = session
        .students
        .iter()
        .map(|s| (s.student, s.name.as_str()))
        .collect();
    let items: Vec<Value> = session
        .items()
        .into_iter()
        .map(|(slug, item)| {
            let q = lab.bank.find(&slug).ok().filter(|q| q.slug == slug);
            let quiz = q.and_then(|q| item.checked_sub(1).and_then(|i| q.quiz.get(i)));
            let last: Vec<&Answer> = latest
                .iter()
                .filter(|((_, qs, i), _)| *qs == slug && *i == item)
                .map(|(_, a)| *a)
                .collect();
            let (kind, options, tolerance) = match quiz.map(|it| &it.kind) {
                Some(ItemKind::Choice {
                    choices, correct, ..
                }) => {
                    let options: Vec<Value> = choices
                        .iter()
                        .enumerate()
                        .map(|(j, c)| {
                            let key = letter(j).to_string();
                            json!({
                                "key": key,
                                "text": c.trim(),
                                "correct": j == *correct,
                                "count": last.iter().filter(|a| a.answer == key).count(),
                            })
                        })
                        .collect();
                    ("choice", options, Value::Null)
                }
                Some(ItemKind::Numeric { tolerance, .. }) => {
                    ("number", Vec::new(), json!(tolerance))
                }
                None => ("unknown", Vec::new(), Value::Null),
            };
            let measured = match (q, quiz) {
                (Some(q), Some(it)) if !it.is_choice() => class
                    .figure(lab, q, item - 1)
                    .ok()
                    .flatten()
                    .map_or(Value::Null, |m| json!(m)),
                _ => Value::Null,
            };
            let mut attempts: HashMap<u32, usize> = HashMap::new();
            let answers: Vec<Value> = session
                .answers
                .iter()
                .filter(|a| a.question == slug && a.item == item)
                .map(|a| {
                    let n = attempts.entry(a.student).or_default();
                    *n += 1;
                    json!({
                        "student": a.student,
                        "name": names.get(&a.student).copied().unwrap_or(""),
                        "answer": a.answer,
                        "correct": a.correct,
                        "attempt": *n,
                        "time": a.time,
                    })
                })
                .collect();
            json!({
                "question": slug,
                "id": q.map_or(Value::Null, |q| json!(q.id)),
                "item": item,
                "type": kind,
                "revealed": session.revealed(&slug, item),
                "options": options,
                "measured": measured,
                "tolerance": tolerance,
                "answers": answers,
            })
        })
        .collect();
    json!({ "students": students, "items": items })
}

/// Each student's latest answer per item: (student, slug, item) → answer.
fn latest_answers(session: &Session) -> std::collections::BTreeMap<(u32, String, usize), &Answer> {
    session
        .answers
        .iter()
        .map(|a| ((a.student, a.question.clone(), a.item), a))
        .collect()
}

/// `GET /api/class/roster?format=…`: what `roster --session FILE --format …` prints.
fn roster(lab: &Lab, class: &Class, query: &str) -> Reply {
    let format = match query_value(query, "format") {
        Ok(f) => f.unwrap_or_else(|| "text".into()),
        Err(r) => return r,
    };
    let session = lock(&class.state).session.clone();
    let shown = class.path.display().to_string();
    let (kind, ctype) = match format.as_str() {
        "text" => (crate::cli::RosterFormat::Text, "text/plain"),
        "csv" => (crate::cli::RosterFormat::Csv, "text/csv"),
        "markdown" => (crate::cli::RosterFormat::Markdown, "text/markdown"),
        other => {
            return Reply::error(
                400,
                &format!(
                    "unknown roster format '{}'; the formats are text, csv and markdown",
                    crate::format::escape(other, 20)
                ),
            );
        }
    };
    // As `roster --session` prints into a pipe (80 columns, no colour).
    let ui = crate::ui::Ui::plain(80);
    Reply::ok(
        ctype,
        session_roster(&lab.bank, &session, &shown, kind, &ui),
    )
}

/// The roster of `session` (kept in the file shown as `file`) as `roster --session`
/// prints it.
pub(crate) fn session_roster(
    bank: &Bank,
    session: &Session,
    file: &str,
    format: crate::cli::RosterFormat,
    ui: &crate::ui::Ui,
) -> String {
    let records = crate::roster::session_records(session, file);
    let class = crate::roster::class(&records, bank);
    let items = crate::roster::session_items(session, bank, &class);
    let r = crate::render::roster::Session {
        class: &class,
        items: &items,
        source: crate::render::roster::Source::Session,
    };
    match format {
        crate::cli::RosterFormat::Text => crate::render::roster::session_text(&r, ui),
        crate::cli::RosterFormat::Csv => crate::render::roster::session_csv(&r),
        crate::cli::RosterFormat::Markdown => crate::render::roster::session_markdown(&r),
    }
}

/// `GET /api/class/events?token=T`: the state, then every push, reveal and lock (and, for
/// the instructor, results) as they happen, until the client goes.
pub(crate) fn events(lab: &Lab, class: &Class, req: Request) {
    let token = match query_value(&req.query, "token") {
        Ok(t) => t.unwrap_or_default(),
        Err(r) => return req.respond(r),
    };
    let who = if same(&token, &class.instructor) {
        Who::Instructor
    } else {
        match class.student(&token) {
            Ok(s) => Who::Student(s.student),
            Err(r) => return req.respond(r),
        }
    };
    let (tx, rx) = mpsc::channel();
    let id = class.next_id.fetch_add(1, Ordering::SeqCst);
    let state = {
        let mut st = lock(&class.state);
        lock(&class.subscribers).push(Subscriber { id, who, tx });
        if let Who::Student(n) = who {
            *st.connected.entry(n).or_default() += 1;
        }
        state_event(&st.session)
    };
    class.results_changed();
    if let Ok(mut stream) = req.events() {
        let mut first = vec![("state", state.to_string())];
        if who == Who::Instructor {
            first.push(("results", results(lab, class).to_string()));
        }
        let mut ok = first.iter().all(|(e, d)| stream.send(e, d).is_ok());
        while ok {
            ok = match rx.recv_timeout(PING) {
                Ok((event, data)) => stream.send(event, &data).is_ok(),
                Err(mpsc::RecvTimeoutError::Timeout) => stream.send("ping", "{}").is_ok(),
                Err(mpsc::RecvTimeoutError::Disconnected) => false,
            };
        }
    }
    lock(&class.subscribers).retain(|s| s.id != id);
    if let Who::Student(n) = who {
        let mut st = lock(&class.state);
        if let Some(c) = st.connected.get_mut(&n) {
            *c = c.saturating_sub(1);
        }
    }
    class.results_changed();
}

/// The `state` event: what is pushed now, whether answering is locked, what was revealed.
fn state_event(s: &Session) -> Value {
    let push = s
        .pushes
        .last()
        .filter(|p| p.get("kind").and_then(Value::as_str) != Some("clear"))
        .cloned()
        .unwrap_or(Value::Null);
    let revealed: Vec<Value> = s
        .reveals
        .iter()
        .map(|r| json!({ "question": r.question, "item": r.item }))
        .collect();
    json!({ "push": push, "locked": s.locked, "revealed": revealed })
}

/// The address to listen on when `--bind` is not given: the room's network.
const DEFAULT_BIND: &str = "0.0.0.0:8080";

/// `<data folder>/gradtutor/class-YYYY-MM-DD.json`: beside where progress is kept.
fn default_session() -> Result<PathBuf> {
    let dir = dirs::data_dir().ok_or_else(|| {
        anyhow!("cannot find your data folder to keep the class in; give one with --session FILE")
    })?;
    let day = &session::now()[..10];
    Ok(dir.join("gradtutor").join(format!("class-{day}.json")))
}

/// The address students reach this machine at: the bound one, or for 0.0.0.0 the address
/// of the interface a packet to the outside would leave by (a UDP socket's connect sends
/// nothing), else 127.0.0.1.
fn reachable(bound: std::net::SocketAddr) -> std::net::IpAddr {
    use std::net::{IpAddr, Ipv4Addr, UdpSocket};
    if !bound.ip().is_unspecified() {
        return bound.ip();
    }
    UdpSocket::bind((Ipv4Addr::UNSPECIFIED, 0))
        .and_then(|s| {
            // 192.0.2.1: TEST-NET-1, never routed; only the route to it is looked up.
            s.connect((Ipv4Addr::new(192, 0, 2, 1), 80))?;
            s.local_addr()
        })
        .map(|a| a.ip())
        .ok()
        .filter(|ip| !ip.is_unspecified())
        .unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST))
}

/// `url` as a QR code in Unicode half blocks (two modules a character), with the
/// standard's quiet zone of four modules: light modules are drawn, dark ones left blank,
/// as a light-on-dark terminal shows them; scanners read it either way round.
pub(crate) fn qr(url: &str) -> Result<String> {
    use qrcode::render::unicode::Dense1x2;
    let code = qrcode::QrCode::new(url.as_bytes())
        .map_err(|e| anyhow!("cannot draw {url} as a QR code: {e}"))?;
    Ok(code
        .render::<Dense1x2>()
        .dark_color(Dense1x2::Light)
        .light_color(Dense1x2::Dark)
        .quiet_zone(true)
        .build())
}

/// Opens the session, listens, and prints the start-up lines (join URL and code, the QR
/// code, the instructor's URL, the session file); returns the instructor's URL.
pub(crate) fn start(
    args: &crate::cli::ServeArgs,
    out: &mut dyn std::io::Write,
) -> Result<(std::net::TcpListener, Class, String)> {
    let path = match &args.session {
        Some(p) => p.clone(),
        None => default_session()?,
    };
    let (class, resumed) = Class::open(&path)?;
    let bind = match args.bind {
        Some(b) => b,
        None => DEFAULT_BIND
            .parse()
            .map_err(|e| anyhow!("the default address {DEFAULT_BIND}: {e}"))?,
    };
    let listener =
        std::net::TcpListener::bind(bind).map_err(|e| anyhow!("cannot listen on {bind}: {e}"))?;
    let bound = listener.local_addr().unwrap_or(bind);
    let host = std::net::SocketAddr::new(reachable(bound), bound.port());
    let (code, students, answers) = class.summary();
    let join = format!("http://{host}/join");
    let teach = format!("http://{host}/teach#{}", class.instructor);
    writeln!(
        out,
        "gradtutor class: students join at {join}  (code {code})"
    )?;
    write!(out, "{}", qr(&join)?)?;
    writeln!(out)?;
    writeln!(out, "instructor (keep this private): {teach}")?;
    let state = match resumed {
        true => format!(
            "resumed: {}, {}",
            crate::format::count(students, "student", "students"),
            crate::format::count(answers, "answer", "answers")
        ),
        false => "new".to_string(),
    };
    writeln!(
        out,
        "session: {} ({state})",
        crate::format::escape_path(&class.path)
    )?;
    Ok((listener, class, teach))
}

/// A demo request's query in class mode: its `token` (if any) checked and counted against
/// the student's rate, then left out (the rest are the demo's settings).
pub(crate) fn demo_query(class: &Class, query: &str) -> Result<String, Reply> {
    if !query
        .split('&')
        .any(|p| p == "token" || p.starts_with("token="))
    {
        return Ok(query.to_string());
    }
    let token = query_value(query, "token")?.unwrap_or_default();
    class.demo_token(&token)?;
    Ok(query
        .split('&')
        .filter(|p| !(p.is_empty() || *p == "token" || p.starts_with("token=")))
        .collect::<Vec<_>>()
        .join("&"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_tokens_are_drawn_from_their_alphabets() {
        // 200 codes: every character from the alphabet, and no two codes alike (a repeat
        // among 200 of 31⁶ ≈ 8.9·10⁸ has odds of about 2·10⁻⁵).
        let codes: Vec<String> = (0..200).map(|_| join_code().unwrap()).collect();
        for c in &codes {
            assert_eq!(c.len(), CODE_LEN);
            assert!(c.bytes().all(|b| CODE_ALPHABET.contains(&b)), "{c}");
        }
        let distinct: std::collections::BTreeSet<&String> = codes.iter().collect();
        assert_eq!(distinct.len(), codes.len());
        // Every letter of the alphabet turns up over 1,200 characters (each is missed with
        // odds (30/31)^1200 ≈ 10⁻¹⁷): no letter is unreachable.
        let seen: std::collections::BTreeSet<u8> = codes.iter().flat_map(|c| c.bytes()).collect();
        assert_eq!(seen.len(), CODE_ALPHABET.len());
        let t = token().unwrap();
        assert_eq!(t.len(), 32);
        assert!(
            t.bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        );
        assert_ne!(t, token().unwrap());
    }

    #[test]
    fn tokens_compare_whole() {
        assert!(same("abc", "abc"));
        assert!(!same("abc", "abd"));
        assert!(!same("abc", "ab"));
        assert!(!same("", "a"));
    }

    #[test]
    fn the_qr_code_has_its_quiet_zone_and_two_modules_a_character() {
        // The code's modules plus 4 of quiet zone each side, two rows to a line.
        let url = "http://127.0.0.1:8080/join";
        let modules = qrcode::QrCode::new(url).unwrap().width();
        assert_eq!(modules, 29, "version 3 at level M");
        let q = qr(url).unwrap();
        let lines: Vec<&str> = q.lines().collect();
        assert_eq!(lines.len(), (modules + 8).div_ceil(2), "{q}");
        assert!(
            lines.iter().all(|l| l.chars().count() == modules + 8),
            "{q}"
        );
        // The quiet zone is light, drawn as full blocks: the first line is all blocks.
        assert!(lines[0].chars().all(|c| c == '█'), "{q}");
        // A finder pattern's dark ring shows as blanks in the fifth column's lines.
        assert!(
            lines[2..5].iter().all(|l| l.chars().nth(4) == Some(' ')),
            "{q}"
        );
    }

    #[test]
    fn percent_encoding_keeps_only_unreserved_bytes() {
        assert_eq!(encode("leaky-relu:0.1"), "leaky-relu%3A0.1");
        assert_eq!(encode("a b&c=d−"), "a%20b%26c%3Dd%E2%88%92");
        let round = http::query(&format!("k={}", encode("x&y=z %"))).unwrap();
        assert_eq!(round, [("k".to_string(), "x&y=z %".to_string())]);
    }
}
