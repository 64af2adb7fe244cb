//! `gradtutor serve`: the live lab, a third front door beside the command line and the
//! question presets. It listens on 127.0.0.1 only, answers each request on a thread of its
//! own (a stream of training events lasts as long as the run, and must not hold up the
//! rest), and serves the page (embedded, no file is read) and a JSON API:
//! `lessons` (questions and quiz answers), `demo` (experiments), `train` (live training).
//! Every parameter goes through the CLI's own parsing and checks, and every error is the
//! CLI's message as JSON `{"error": …}` with a 4xx status.
//!
//! HTTP is `http.rs`'s, over `std::net` (its module doc says why not `tiny_http`).
//!
//! With `--class` it is a live class (`class.rs`): it listens on the room's network, and
//! students' answers go to the session file, never to a progress file.

mod class;
mod demo;
mod http;
mod lessons;
mod train;

use crate::bank::Bank;
use crate::cli::{Cli, ServeArgs};
use anyhow::{Result, anyhow};
pub(crate) use class::session_roster;
use http::Reply;
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The page, embedded: no request reaches the file system.
const INDEX: &str = include_str!("../../assets/lab/index.html");
const SCRIPT: &str = include_str!("../../assets/lab/lab.js");
const STYLE: &str = include_str!("../../assets/lab/lab.css");
/// The class pages (`serve --class`): the student's and the instructor's, over lab.js.
const CLASS_STUDENT: &str = include_str!("../../assets/class/student.html");
const CLASS_TEACH: &str = include_str!("../../assets/class/teach.html");
const CLASS_SCRIPT: &str = include_str!("../../assets/class/class.js");
const CLASS_TEACH_SCRIPT: &str = include_str!("../../assets/class/teach.js");
const CLASS_STYLE: &str = include_str!("../../assets/class/class.css");

/// The most a single experiment run may take, in seconds as estimated before it runs.
pub(crate) const TIME_BUDGET: f64 = 10.0;

/// Requests answered at once; past this the lab answers 503 at once.
const MAX_IN_FLIGHT: usize = 64;

/// The same for a live class, where each student holds an event stream open: room for
/// [`class::MAX_STUDENTS`] streams besides the lab's requests.
const MAX_IN_FLIGHT_CLASS: usize = MAX_IN_FLIGHT + class::MAX_STUDENTS;

/// What every request may read: the bank, where progress is kept, the runs and their cache.
pub(crate) struct Lab {
    pub bank: Bank,
    /// `--progress` (or GRADTUTOR_PROGRESS), if given: where quiz answers are recorded.
    pub progress: Option<PathBuf>,
    pub runner: demo::Runner,
    /// The live training runs.
    pub train: train::Runs,
    /// The live class, with `--class`.
    pub class: Option<class::Class>,
}

/// Serves the lab until the process is stopped.
pub(crate) fn run(cli: &Cli, args: &ServeArgs, out: &mut dyn Write) -> Result<()> {
    few_malloc_arenas();
    if !args.class && (args.bind.is_some() || args.session.is_some()) {
        anyhow::bail!(
            "--bind and --session are for a live class: add --class (without it the lab \
             listens on 127.0.0.1 only; --port chooses its port)"
        );
    }
    let bank = cli.bank()?;
    let (listener, class, url) = match args.class {
        false => {
            let listener = std::net::TcpListener::bind(("127.0.0.1", args.port))
                .map_err(|e| anyhow!("cannot listen on 127.0.0.1:{}: {e}", args.port))?;
            let port = listener.local_addr().map_or(args.port, |a| a.port());
            let url = format!("http://127.0.0.1:{port}/");
            writeln!(out, "gradtutor lab: {url}")?;
            (listener, None, url)
        }
        true => {
            let (listener, class, url) = class::start(args, out)?;
            (listener, Some(class), url)
        }
    };
    out.flush()?;
    let lab = Arc::new(Lab {
        bank,
        progress: cli.progress().map(PathBuf::from),
        runner: demo::Runner::new(cli.max_memory, TIME_BUDGET, workers(cli.threads())),
        train: train::Runs::default(),
        class,
    });
    if lab.class.is_some() {
        let lab = Arc::clone(&lab);
        std::thread::Builder::new()
            .name("class-results".into())
            .spawn(move || {
                if let Some(class) = &lab.class {
                    class::Class::results_loop(&lab, class);
                }
            })
            .map_err(|e| anyhow!("cannot start the class's results thread: {e}"))?;
    }
    if args.open {
        open(&url);
    }
    let cap = match lab.class {
        Some(_) => MAX_IN_FLIGHT_CLASS,
        None => MAX_IN_FLIGHT,
    };
    let in_flight = Arc::new(AtomicUsize::new(0));
    for stream in listener.incoming() {
        // A connection that failed before it was accepted is the client's problem.
        let Ok(stream) = stream else { continue };
        if in_flight.fetch_add(1, Ordering::SeqCst) >= cap {
            in_flight.fetch_sub(1, Ordering::SeqCst);
            http::busy(stream);
            continue;
        }
        let (lab, in_flight) = (Arc::clone(&lab), Arc::clone(&in_flight));
        let spawned = std::thread::Builder::new()
            .name("lab-connection".into())
            .spawn(move || {
                if let Some(req) = http::Request::read(stream) {
                    handle(&lab, req);
                }
                in_flight.fetch_sub(1, Ordering::SeqCst);
            });
        if let Err(e) = spawned {
            warn(format!("cannot start a thread for a connection: {e}"));
        }
    }
    Ok(())
}

/// Demo runs computing at once: one per core, or `--threads` if fewer.
fn workers(threads: Option<u16>) -> usize {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    threads.map_or(cores, |t| cores.min(usize::from(t)))
}

/// Opens `url` in the default browser; a failure is a warning, the lab serves on.
fn open(url: &str) {
    let (program, args): (&str, Vec<&str>) = if cfg!(target_os = "macos") {
        ("open", vec![url])
    } else if cfg!(windows) {
        ("cmd", vec!["/C", "start", "", url])
    } else {
        ("xdg-open", vec![url])
    };
    let child = std::process::Command::new(program)
        .args(&args)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn();
    let what = format!("cannot open a browser with {program}; open {url} yourself");
    match child {
        Err(e) => warn(format!("{what} ({e})")),
        // Waited for on a thread of its own, so it leaves no zombie and says if it failed.
        Ok(mut child) => {
            std::thread::spawn(move || match child.wait() {
                Ok(status) if !status.success() => warn(format!("{what} ({status})")),
                Err(e) => warn(format!("{what} ({e})")),
                Ok(_) => {}
            });
        }
    }
}

/// A warning on the server's stderr.
pub(crate) fn warn(msg: String) {
    eprintln!("warning: {}", crate::format::escape_lines(&msg));
}

/// Answers one request: training paths are handed to `train`, the rest routed here. A
/// panic (a bug) becomes a 500 for that request alone.
fn handle(lab: &Lab, req: http::Request) {
    if req.path == "/api/train" || req.path.starts_with("/api/train/") {
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| train::route(lab, req)));
        return;
    }
    if let Some(class) = &lab.class
        && req.path == "/api/class/events"
    {
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            class::events(lab, class, req)
        }));
        return;
    }
    let reply = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| route(lab, &req)))
        .unwrap_or_else(|_| {
            Reply::error(
                500,
                "the lab failed on this request (a bug: see its output)",
            )
        });
    req.respond(reply);
}

/// The answer to a request for anything but training.
fn route(lab: &Lab, req: &http::Request) -> Reply {
    let (method, path, query) = (req.method.as_str(), req.path.as_str(), req.query.as_str());
    // In class mode: the class's own paths, and a demo request's `token` checked (and
    // counted against the student's rate). The token stays in the query: it names the
    // student whose newer request drops an older one still waiting (`demo::client`), and
    // `demo::parse` leaves it out of the settings.
    if let Some(class) = &lab.class {
        if let Some(reply) = class::route(lab, class, req) {
            return reply;
        }
        if path.starts_with("/api/demo/")
            && let Err(r) = class::demo_query(class, query)
        {
            return r;
        }
    }
    let get = |reply: &dyn Fn() -> Reply| match method {
        "GET" | "HEAD" => reply(),
        m => Reply::method_not_allowed(m, "GET"),
    };
    let parts: Vec<&str> = path.split('/').skip(1).collect();
    match parts.as_slice() {
        [""] | ["index.html"] => get(&|| Reply::ok("text/html", INDEX)),
        ["lab.js"] => get(&|| Reply::ok("text/javascript", SCRIPT)),
        ["lab.css"] => get(&|| Reply::ok("text/css", STYLE)),
        ["join"] => get(&|| Reply::ok("text/html", CLASS_STUDENT)),
        ["teach"] => get(&|| Reply::ok("text/html", CLASS_TEACH)),
        ["class.js"] => get(&|| Reply::ok("text/javascript", CLASS_SCRIPT)),
        ["teach.js"] => get(&|| Reply::ok("text/javascript", CLASS_TEACH_SCRIPT)),
        ["class.css"] => get(&|| Reply::ok("text/css", CLASS_STYLE)),
        ["api", "questions"] => get(&|| lessons::list(lab)),
        ["api", "questions", id] => get(&|| match http::decode(id, false) {
            Ok(id) => lessons::question(lab, &id),
            Err(r) => r,
        }),
        ["api", "quiz", "answer"] if lab.class.is_some() => {
            Reply::error(403, "in class mode, answers go to /api/class/answer")
        }
        ["api", "quiz", "answer"] => match method {
            "POST" => match req.text() {
                Ok(body) => lessons::answer(lab, body),
                Err(r) => r,
            },
            m => Reply::method_not_allowed(m, "POST"),
        },
        ["api", "demos"] => get(&demo::demos),
        ["api", "load"] => get(&|| Reply::json(&lab.runner.load())),
        ["api", "demo", name, rest @ ..] => {
            let view = match rest {
                [] => demo::View::Json,
                ["chart.svg"] => demo::View::Chart,
                ["text"] => demo::View::Text,
                ["hist.svg"] => demo::View::Hist,
                _ => return Reply::not_found(path),
            };
            get(&|| match http::decode(name, false) {
                Ok(name) => demo::demo(&lab.runner, &name, view, query),
                Err(r) => r,
            })
        }
        _ => Reply::not_found(path),
    }
}

/// An error as the CLI prints it after `error: `: the message, then each cause on a line
/// of its own, control characters escaped.
pub(crate) fn message(e: &anyhow::Error) -> String {
    let mut text = crate::format::escape_lines(&e.to_string());
    for cause in e.chain().skip(1) {
        text.push_str("\n  caused by: ");
        text.push_str(&crate::format::escape_lines(&cause.to_string()));
    }
    text
}

/// Caps glibc's malloc at two arenas. The server answers each connection on a thread of its
/// own, and glibc gives busy threads arenas of their own (up to 8 per core) that keep what
/// they freed: with 200 simulated students (`class_load`) the peak RSS was 56–604 MiB from
/// one run to the next, and 50–85 MiB with two arenas (the `MALLOC_ARENA_MAX=2` setting,
/// which glibc reads only at start-up, hence the call). Other C libraries keep their own
/// rules, and a refusal changes nothing but memory.
fn few_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        /// glibc's `M_ARENA_MAX` parameter of `mallopt`.
        const M_ARENA_MAX: std::ffi::c_int = -8;
        unsafe extern "C" {
            fn mallopt(param: std::ffi::c_int, value: std::ffi::c_int) -> std::ffi::c_int;
        }
        // SAFETY: `mallopt` is glibc's, takes two ints by value and only sets a limit of the
        // allocator, which stays valid under any value; Rust's allocator is glibc's malloc.
        unsafe { mallopt(M_ARENA_MAX, 2) };
    }
}
