//! The live class under load (issue 25, CLASS-API.md "Load"): N simulated students, each
//! changing one setting of `demo vanishing` at class size (depth 20, width 128, batch 64)
//! twice a second and answering every pushed quiz item, and one instructor pushing an item
//! (or, every third push, an experiment configuration for everyone) every few seconds.
//! It prints the p50/p95/p99 latency of the demo requests, the errors by status, the answers
//! sent against the count in `/api/class/results`, and the server's peak resident memory
//! (VmHWM in /proc/PID/status).
//!
//!     cargo run --release -p gradtutor-benches --example class_load -- \
//!         --students 60 --seconds 60 [--seed 1] [--push-every 5] \
//!         [--server target/release/gradtutor | --addr HOST:PORT [--code C --token T --pid P]] [--lab]
//!
//! Without `--addr` it starts `SERVER serve --class --bind 127.0.0.1:0 --session TMP` (a
//! session file in a fresh temporary folder, removed at the end); a server without the
//! class endpoints, or `--lab`, gets the demo load alone against `serve --port 0`, each
//! student a lab page (`page=`). Each student is a thread with its own connections, as a
//! browser is; a request that comes back late is followed at once by the next, never by a
//! backlog. Settings are drawn from a seeded generator (SplitMix64), so two runs with the
//! same `--seed` send the same requests in the same order per student.
//!
//! HTTP over `std::net` by hand (a request per connection, as the lab answers), as the
//! lab's own tests do: an HTTP client crate would add a dozen packages for this.

use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const USAGE: &str = "usage: class_load [--students N] [--seconds S] [--seed N] [--push-every S] \
    [--server PATH] [--addr HOST:PORT [--code CODE --token TOKEN] [--pid PID]] [--lab]";

/// The command line.
struct Options {
    students: usize,
    seconds: f64,
    seed: u64,
    push_every: f64,
    server: PathBuf,
    addr: Option<String>,
    code: Option<String>,
    token: Option<String>,
    pid: Option<u32>,
    lab: bool,
}

fn options() -> Result<Options, String> {
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"),
        PathBuf::from,
    );
    let release = target.join("release/gradtutor");
    let mut o = Options {
        students: 60,
        seconds: 60.0,
        seed: 1,
        push_every: 5.0,
        server: if release.exists() {
            release
        } else {
            target.join("debug/gradtutor")
        },
        addr: None,
        code: None,
        token: None,
        pid: None,
        lab: false,
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        if flag == "--lab" {
            o.lab = true;
            continue;
        }
        if flag == "-h" || flag == "--help" {
            return Err(USAGE.into());
        }
        let value = args
            .next()
            .ok_or_else(|| format!("{flag} needs a value\n{USAGE}"))?;
        let bad = |what: &str| format!("{flag} must be {what} (got '{value}')");
        match flag.as_str() {
            "--students" => o.students = value.parse().map_err(|_| bad("a count"))?,
            "--seconds" => o.seconds = value.parse().map_err(|_| bad("a number of seconds"))?,
            "--seed" => o.seed = value.parse().map_err(|_| bad("a whole number"))?,
            "--push-every" => {
                o.push_every = value.parse().map_err(|_| bad("a number of seconds"))?;
            }
            "--server" => o.server = PathBuf::from(value),
            "--addr" => o.addr = Some(value),
            "--code" => o.code = Some(value),
            "--token" => o.token = Some(value),
            "--pid" => o.pid = Some(value.parse().map_err(|_| bad("a process id"))?),
            _ => return Err(format!("unknown option {flag}\n{USAGE}")),
        }
    }
    let positive = |x: f64| x.is_finite() && x > 0.0;
    if o.students == 0 || !positive(o.seconds) || !positive(o.push_every) {
        return Err("--students, --seconds and --push-every must be above 0".into());
    }
    Ok(o)
}

/// SplitMix64: a seeded stream, the same on every machine.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in 0..n.
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a>(&mut self, of: &[&'a str]) -> &'a str {
        of[self.below(of.len())]
    }
}

// ------------------------------------------------------------------ HTTP

/// An answer: status (0 when none came: refused, reset, timed out), headers, body.
struct Answer {
    status: u16,
    body: Vec<u8>,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }
}

/// One request on a connection of its own, read to the end (the lab closes each).
fn request(addr: &str, method: &str, path: &str, auth: Option<&str>, body: &[u8]) -> Answer {
    let none = Answer {
        status: 0,
        body: Vec::new(),
    };
    let Ok(mut s) = TcpStream::connect(addr) else {
        return none;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(60)));
    let _ = s.set_nodelay(true);
    let auth = auth.map_or(String::new(), |t| format!("Authorization: Bearer {t}\r\n"));
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n{auth}\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    if s.write_all(head.as_bytes())
        .and_then(|()| s.write_all(body))
        .is_err()
    {
        return none;
    }
    let mut raw = Vec::new();
    let _ = s.read_to_end(&mut raw);
    let Some(end) = raw.windows(4).position(|w| w == b"\r\n\r\n") else {
        return none;
    };
    let status = std::str::from_utf8(&raw[..end])
        .ok()
        .and_then(|h| h.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    Answer {
        status,
        body: raw[end + 4..].to_vec(),
    }
}

fn post(addr: &str, path: &str, auth: Option<&str>, body: &Value) -> Answer {
    request(addr, "POST", path, auth, body.to_string().as_bytes())
}

/// A stream of server-sent events, read as they come: `next` gives (event, data) or `None`
/// when `stop` is set or the stream ends.
struct Events {
    reader: BufReader<TcpStream>,
    line: Vec<u8>,
}

impl Events {
    fn open(addr: &str, path: &str) -> Option<Events> {
        let mut s = TcpStream::connect(addr).ok()?;
        write!(
            s,
            "GET {path} HTTP/1.1\r\nHost: {addr}\r\nAccept: text/event-stream\r\n\r\n"
        )
        .ok()?;
        // A short timeout, so that the reader looks at `stop` now and then.
        s.set_read_timeout(Some(Duration::from_millis(250))).ok()?;
        let mut events = Events {
            reader: BufReader::new(s),
            line: Vec::new(),
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut status = None;
        loop {
            match events.line(&AtomicBool::new(false), deadline)? {
                l if status.is_none() => {
                    status = l.split(' ').nth(1).map(str::to_string);
                    if status.as_deref() != Some("200") {
                        return None;
                    }
                }
                l if l.is_empty() => return Some(events),
                _ => {}
            }
        }
    }

    /// The next whole line without its end; `None` at the end of the stream, on `stop` or
    /// past `deadline`.
    fn line(&mut self, stop: &AtomicBool, deadline: Instant) -> Option<String> {
        loop {
            match self.reader.read_until(b'\n', &mut self.line) {
                Ok(0) => return None,
                Ok(_) if self.line.ends_with(b"\n") => {
                    let text = String::from_utf8_lossy(&self.line).trim_end().to_string();
                    self.line.clear();
                    return Some(text);
                }
                Ok(_) => {}
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) => {}
                Err(_) => return None,
            }
            if stop.load(Ordering::Relaxed) || Instant::now() > deadline {
                return None;
            }
        }
    }

    fn next(&mut self, stop: &AtomicBool) -> Option<(String, String)> {
        let far = Instant::now() + Duration::from_secs(24 * 3600);
        let (mut event, mut data) = (String::from("message"), String::new());
        loop {
            let line = self.line(stop, far)?;
            if line.is_empty() {
                if !data.is_empty() {
                    return Some((event, data));
                }
            } else if let Some(e) = line.strip_prefix("event:") {
                event = e.trim().to_string();
            } else if let Some(d) = line.strip_prefix("data:") {
                data.push_str(d.trim_start());
            }
        }
    }
}

// ------------------------------------------------------------------ the server

/// The server under load: started here (killed at the end) or given by `--addr`.
struct Server {
    child: Option<Child>,
    addr: String,
    pid: Option<u32>,
    /// Join code and instructor token, in class mode.
    class: Option<(String, String)>,
    /// The temporary folder of the session file, removed at the end.
    dir: Option<PathBuf>,
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(child) = &mut self.child {
            let _ = child.kill();
            let _ = child.wait();
        }
        if let Some(dir) = &self.dir {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// Starts `server serve --class …` (or `serve --port 0` for the lab alone) and reads what it
/// prints; `Err` says why it did not start.
fn start(server: &PathBuf, class: bool) -> Result<Server, String> {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let dir = std::env::temp_dir().join(format!(
        "gradtutor-class-load-{}-{nanos}",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut cmd = Command::new(server);
    // Nothing of the user's: progress and the session live in the temporary folder.
    cmd.env("GRADTUTOR_PROGRESS", dir.join("progress.json"));
    if class {
        let session = dir.join("session.json");
        cmd.args(["serve", "--class", "--bind", "127.0.0.1:0", "--session"])
            .arg(&session);
    } else {
        cmd.args(["serve", "--port", "0"]);
    }
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", server.display()))?;
    let pid = child.id();
    let mut out = BufReader::new(child.stdout.take().ok_or("no stdout")?);
    let mut s = Server {
        child: Some(child),
        addr: String::new(),
        pid: Some(pid),
        class: None,
        dir: Some(dir),
    };
    let mut code = None;
    loop {
        let mut line = String::new();
        if out.read_line(&mut line).map_err(|e| e.to_string())? == 0 {
            return Err(format!(
                "{} serve{} printed no address and ended",
                server.display(),
                if class { " --class" } else { "" }
            ));
        }
        let line = line.trim_end();
        if let Some(rest) = line.strip_prefix("gradtutor lab: http://") {
            s.addr = rest.trim_end_matches('/').to_string();
            break;
        }
        if let Some(rest) = line.strip_prefix("gradtutor class: students join at http://") {
            // `HOST:PORT/join  (code K7Q2MX)`
            s.addr = rest.split('/').next().unwrap_or_default().to_string();
            code = rest
                .split("(code ")
                .nth(1)
                .map(|c| c.trim_end_matches(')').to_string());
        }
        if let Some(rest) = line.strip_prefix("instructor (keep this private): http://") {
            let token = rest.split('#').nth(1).unwrap_or_default().to_string();
            s.class = Some((code.clone().ok_or("no join code was printed")?, token));
            break;
        }
    }
    // The rest of its output is read and dropped, so that the pipe never fills.
    std::thread::spawn(move || std::io::copy(&mut out, &mut std::io::sink()));
    Ok(s)
}

/// The peak resident memory of process `pid` (VmHWM), in KiB.
fn peak_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

// ------------------------------------------------------------------ what is measured

/// Everything the threads record.
#[derive(Default)]
struct Tally {
    /// Latency of every demo request, with its status.
    demo: Vec<(Duration, u16)>,
    joins: BTreeMap<u16, u64>,
    answers: BTreeMap<u16, u64>,
    /// Answers the server acknowledged (200 `"recorded": true`).
    acknowledged: u64,
    pushes: BTreeMap<u16, u64>,
    experiment_pushes: u64,
    /// Events streams that could not be opened.
    streams_failed: u64,
}

type Shared = Arc<Mutex<Tally>>;

fn tally(t: &Shared) -> std::sync::MutexGuard<'_, Tally> {
    t.lock().unwrap_or_else(|e| e.into_inner())
}

/// A student's experiment settings, at class size to start with.
#[derive(Clone)]
struct Knobs(BTreeMap<String, String>);

const ACTIVATIONS: &[&str] = &[
    "sigmoid",
    "tanh",
    "relu",
    "leaky-relu",
    "elu",
    "gelu",
    "selu",
    "linear",
];
const INITS: &[&str] = &[
    "xavier-normal",
    "xavier-uniform",
    "he-normal",
    "he-uniform",
    "lecun-normal",
    "torch-default",
];

impl Knobs {
    fn class_size() -> Knobs {
        let mut m = BTreeMap::new();
        for (k, v) in [("depth", "20"), ("width", "128"), ("batch", "64")] {
            m.insert(k.to_string(), v.to_string());
        }
        Knobs(m)
    }

    /// One setting changed, as a student moves one control: the depth by a step or two,
    /// the activation, the initializer or the seed.
    fn change(&mut self, rng: &mut Rng) {
        let (key, value) = match rng.below(4) {
            0 => ("depth", (15 + rng.below(11)).to_string()),
            1 => ("activation", rng.pick(ACTIVATIONS).to_string()),
            2 => ("init", rng.pick(INITS).to_string()),
            _ => ("seed", (1 + rng.below(20)).to_string()),
        };
        self.0.insert(key.to_string(), value);
    }

    fn query(&self) -> String {
        self.0
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("&")
    }
}

/// A student: joins (in class mode), then asks for `demo vanishing` twice a second with one
/// setting changed each time, until `end`; a pushed configuration replaces its settings.
fn student(i: usize, o: &Options, s: &Server, t: &Shared, end: Instant, stop: Arc<AtomicBool>) {
    let mut rng = Rng(o.seed.wrapping_mul(1_000_003).wrapping_add(i as u64));
    let addr = s.addr.as_str();
    let who = match &s.class {
        Some((code, _)) => {
            let a = post(
                addr,
                "/api/class/join",
                None,
                &json!({"code": code, "name": format!("Student {i:03}")}),
            );
            *tally(t).joins.entry(a.status).or_default() += 1;
            match a.json()["token"].as_str() {
                Some(token) => format!("token={token}"),
                None => return,
            }
        }
        None => format!("page=load{i}"),
    };
    let pushed: Arc<Mutex<Option<Knobs>>> = Arc::default();
    let listener = s.class.as_ref().map(|_| {
        let (addr, who, t, stop, pushed) = (
            addr.to_string(),
            who.clone(),
            Arc::clone(t),
            Arc::clone(&stop),
            Arc::clone(&pushed),
        );
        let seed = rng.next();
        std::thread::spawn(move || listen(&addr, &who, &t, &stop, &pushed, Rng(seed)))
    });
    let mut knobs = Knobs::class_size();
    let period = Duration::from_millis(500);
    // Students start spread over the first half second, as a room does.
    let mut next = Instant::now() + period.mul_f64(rng.below(1000) as f64 / 1000.0);
    while next < end {
        std::thread::sleep(next.saturating_duration_since(Instant::now()));
        let given = pushed.lock().unwrap_or_else(|e| e.into_inner()).take();
        match given {
            Some(k) => knobs = k,
            None => knobs.change(&mut rng),
        }
        let path = format!("/api/demo/vanishing?{}&{who}", knobs.query());
        let t0 = Instant::now();
        let a = request(addr, "GET", &path, None, b"");
        tally(t).demo.push((t0.elapsed(), a.status));
        next = (next + period).max(Instant::now());
    }
    stop.store(true, Ordering::Relaxed);
    if let Some(l) = listener {
        let _ = l.join();
    }
}

/// A student's events stream: every pushed item is answered at once (a random option, or
/// a number); a pushed experiment becomes the student's next request.
fn listen(
    addr: &str,
    who: &str,
    t: &Shared,
    stop: &AtomicBool,
    pushed: &Mutex<Option<Knobs>>,
    mut rng: Rng,
) {
    let Some(mut events) = Events::open(addr, &format!("/api/class/events?{who}")) else {
        tally(t).streams_failed += 1;
        return;
    };
    let token = who.trim_start_matches("token=");
    while let Some((event, data)) = events.next(stop) {
        let data: Value = serde_json::from_str(&data).unwrap_or(Value::Null);
        let push = match event.as_str() {
            "push" => data,
            "state" => data["push"].clone(),
            _ => continue,
        };
        match push["kind"].as_str() {
            Some("item") => {
                let answer = match push["options"].as_array() {
                    Some(options) if !options.is_empty() => {
                        options[rng.below(options.len())]["key"].clone()
                    }
                    _ => json!(format!("{}", rng.below(100) as f64 / 100.0)),
                };
                let a = post(
                    addr,
                    "/api/class/answer",
                    None,
                    &json!({"token": token, "question": push["question"],
                            "item": push["item"], "answer": answer}),
                );
                let mut t = tally(t);
                *t.answers.entry(a.status).or_default() += 1;
                if a.status == 200 && a.json()["recorded"] == true {
                    t.acknowledged += 1;
                }
            }
            Some("experiment") => {
                let mut k = Knobs::class_size();
                if let Some(settings) = push["settings"].as_object() {
                    for (key, v) in settings {
                        let v = v.as_str().map_or_else(|| v.to_string(), str::to_string);
                        k.0.insert(key.clone(), v);
                    }
                }
                *pushed.lock().unwrap_or_else(|e| e.into_inner()) = Some(k);
            }
            _ => {}
        }
    }
}

/// The instructor: every `push_every` seconds pushes the next quiz item of the bank, and
/// every third push an experiment configuration instead, until `end`.
fn instructor(o: &Options, s: &Server, t: &Shared, end: Instant) {
    let Some((_, token)) = &s.class else { return };
    let addr = s.addr.as_str();
    let mut items: Vec<(Value, u64)> = Vec::new();
    let questions = request(addr, "GET", "/api/questions", None, b"").json();
    for q in questions["questions"]
        .as_array()
        .into_iter()
        .flatten()
        .take(12)
    {
        let id = q["id"].to_string();
        let q = request(addr, "GET", &format!("/api/questions/{id}"), None, b"").json();
        for item in q["quiz"].as_array().into_iter().flatten() {
            if let Some(k) = item["item"].as_u64() {
                items.push((q["slug"].clone(), k));
            }
        }
    }
    let mut rng = Rng(o.seed ^ 0x5EED);
    let mut n = 0usize;
    let period = Duration::from_secs_f64(o.push_every);
    let mut next = Instant::now() + period / 2;
    while next < end {
        std::thread::sleep(next.saturating_duration_since(Instant::now()));
        n += 1;
        let body = if n.is_multiple_of(3) || items.is_empty() {
            tally(t).experiment_pushes += 1;
            json!({"kind": "experiment", "name": "vanishing", "settings": {
                "depth": (15 + rng.below(11)).to_string(),
                "width": "128", "batch": "64",
                "activation": rng.pick(ACTIVATIONS),
            }})
        } else {
            let (question, item) = &items[(n - 1 - n / 3) % items.len()];
            json!({"kind": "item", "question": question, "item": item})
        };
        let a = post(addr, "/api/class/push", Some(token), &body);
        *tally(t).pushes.entry(a.status).or_default() += 1;
        next += period;
    }
}

// ------------------------------------------------------------------ the report

/// The `p`-th percentile by nearest rank of sorted `xs`, in ms.
fn percentile(xs: &[Duration], p: f64) -> f64 {
    if xs.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * xs.len() as f64).ceil().max(1.0) as usize;
    xs[rank.min(xs.len()) - 1].as_secs_f64() * 1e3
}

fn statuses(m: &BTreeMap<u16, u64>) -> String {
    if m.is_empty() {
        return "none".into();
    }
    m.iter()
        .map(|(s, n)| match s {
            0 => format!("no answer: {n}"),
            s => format!("{s}: {n}"),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn latencies(label: &str, mut xs: Vec<Duration>) {
    xs.sort();
    println!(
        "  {label}: {} requests, p50 {:.1} ms, p95 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        xs.len(),
        percentile(&xs, 50.0),
        percentile(&xs, 95.0),
        percentile(&xs, 99.0),
        xs.last().map_or(f64::NAN, |d| d.as_secs_f64() * 1e3),
    );
}

fn main() {
    let o = match options() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    let server = match (&o.addr, o.lab) {
        (Some(addr), _) => Ok(Server {
            child: None,
            addr: addr.clone(),
            pid: o.pid,
            class: match (&o.code, &o.token, o.lab) {
                (Some(c), Some(t), false) => Some((c.clone(), t.clone())),
                _ => None,
            },
            dir: None,
        }),
        (None, true) => start(&o.server, false),
        (None, false) => start(&o.server, true).or_else(|e| {
            eprintln!("class_load: {e}; the demo load alone, against plain `serve`");
            start(&o.server, false)
        }),
    }
    .unwrap_or_else(|e| {
        eprintln!("class_load: {e}");
        std::process::exit(1);
    });
    let mode = if server.class.is_some() {
        "serve --class"
    } else {
        "serve (the lab alone: demo load, no class endpoints)"
    };
    println!(
        "class_load: {} students for {} s against {} ({mode}{}), seed {}",
        o.students,
        o.seconds,
        server.addr,
        if server.child.is_some() {
            format!(", started here from {}", o.server.display())
        } else {
            String::new()
        },
        o.seed
    );
    let t: Shared = Arc::default();
    let start = Instant::now();
    let end = start + Duration::from_secs_f64(o.seconds);
    std::thread::scope(|scope| {
        scope.spawn(|| instructor(&o, &server, &t, end));
        for i in 0..o.students {
            let (o, server, t) = (&o, &server, &t);
            let stop = Arc::new(AtomicBool::new(false));
            std::thread::Builder::new()
                .stack_size(256 << 10)
                .spawn_scoped(scope, move || student(i, o, server, t, end, stop))
                .unwrap_or_else(|e| {
                    eprintln!("class_load: cannot start student {i}'s thread: {e}");
                    std::process::exit(1);
                });
        }
    });
    let took = start.elapsed().as_secs_f64();
    let t = tally(&t);
    let all: Vec<Duration> = t.demo.iter().map(|(d, _)| *d).collect();
    let ok: Vec<Duration> = t
        .demo
        .iter()
        .filter(|(_, s)| *s == 200)
        .map(|(d, _)| *d)
        .collect();
    let mut by_status = BTreeMap::new();
    for (_, s) in &t.demo {
        *by_status.entry(*s).or_default() += 1;
    }
    println!(
        "demo requests: {} in {took:.1} s ({:.1}/s), by status: {}",
        t.demo.len(),
        t.demo.len() as f64 / took,
        statuses(&by_status)
    );
    latencies("all answers", all);
    latencies("200 only", ok);
    if let Some((_, token)) = &server.class {
        println!("joins by status: {}", statuses(&t.joins));
        println!(
            "pushes: {} ({} of them experiment configurations), by status: {}",
            t.pushes.values().sum::<u64>(),
            t.experiment_pushes,
            statuses(&t.pushes)
        );
        if t.streams_failed > 0 {
            println!("events streams that did not open: {}", t.streams_failed);
        }
        let results = request(&server.addr, "GET", "/api/class/results", Some(token), b"");
        let counted: Option<usize> = (results.status == 200).then(|| {
            results.json()["items"].as_array().map_or(0, |items| {
                items
                    .iter()
                    .map(|i| i["answers"].as_array().map_or(0, Vec::len))
                    .sum()
            })
        });
        println!(
            "answers: sent {}, acknowledged {}, counted in /api/class/results {}{}; by status: {}",
            t.answers.values().sum::<u64>(),
            t.acknowledged,
            counted.map_or(format!("? (status {})", results.status), |c| c.to_string()),
            match counted {
                Some(c) if c as u64 == t.acknowledged => " (equal)",
                Some(_) => " (NOT EQUAL)",
                None => "",
            },
            statuses(&t.answers)
        );
    }
    match server.pid.and_then(peak_rss_kib) {
        Some(kib) => println!("server peak RSS (VmHWM): {:.1} MiB", kib as f64 / 1024.0),
        None => println!("server peak RSS: unknown (give --pid for a server started elsewhere)"),
    }
}
