//! The live class (`serve --class`) against the real binary on `--bind 127.0.0.1:0`:
//! joining, pushing, answering, revealing, locking, results, the event stream, refusals
//! (forged tokens, students at instructor endpoints), a SIGKILL mid-session then a resume,
//! a short load, and `roster --session` pinned in every format. (`class.rs` is the older
//! class mode: quiz, tour and progress files.)
//!
//! The HTTP client is a few lines over `TcpStream`, as `serve.rs`'s, with headers.

use crate::common::{self, Answer, text};
use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

/// A running class, killed when dropped.
struct Class {
    child: Child,
    /// `127.0.0.1:PORT`.
    addr: String,
    code: String,
    /// The instructor's token.
    teach: String,
    /// Every line printed at start.
    lines: Vec<String>,
}

impl Class {
    /// `gradtutor serve --class --bind 127.0.0.1:0 --session SESSION`; waits for its lines.
    fn start(session: &Path, env: &[(&str, &str)]) -> Class {
        Class::start_full(session, env, &[])
    }

    /// [`Class::start`] with global flags `args` first.
    fn start_full(session: &Path, env: &[(&str, &str)], args: &[&str]) -> Class {
        let mut cmd = common::process_at(&session.with_extension("progress.json"));
        cmd.args(args)
            .args(["serve", "--class", "--bind", "127.0.0.1:0", "--session"])
            .arg(session)
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        let child = cmd.spawn().unwrap();
        let mut class = Class {
            child,
            addr: String::new(),
            code: String::new(),
            teach: String::new(),
            lines: Vec::new(),
        };
        let mut out = BufReader::new(class.child.stdout.take().unwrap());
        loop {
            let mut line = String::new();
            assert!(out.read_line(&mut line).unwrap() > 0, "{:?}", class.lines);
            let line = line.trim_end().to_string();
            class.lines.push(line.clone());
            if line.starts_with("session: ") {
                break;
            }
        }
        let first = &class.lines[0];
        let rest = first
            .strip_prefix("gradtutor class: students join at http://")
            .unwrap_or_else(|| panic!("{first:?}"));
        let (addr, code) = rest.split_once("/join  (code ").unwrap();
        class.addr = addr.to_string();
        class.code = code.strip_suffix(')').unwrap().to_string();
        let teach = class
            .lines
            .iter()
            .find_map(|l| l.strip_prefix("instructor (keep this private): http://"))
            .unwrap();
        class.teach = teach
            .strip_prefix(&format!("{}/teach#", class.addr))
            .unwrap()
            .to_string();
        class
    }

    /// One request on a connection of its own; `auth` as `Authorization: Bearer`.
    fn request(&self, method: &str, path: &str, body: &str, auth: Option<&str>) -> Answer {
        let mut s = TcpStream::connect(&self.addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(120))).unwrap();
        let auth = auth.map_or(String::new(), |t| format!("Authorization: Bearer {t}\r\n"));
        let head = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n{auth}\
             Content-Length: {}\r\n\r\n",
            self.addr,
            body.len()
        );
        s.write_all(head.as_bytes()).unwrap();
        let _ = s.write_all(body.as_bytes());
        let mut raw = Vec::new();
        let _ = s.read_to_end(&mut raw);
        Answer::parse(&raw)
    }

    fn post(&self, path: &str, body: &Value) -> Answer {
        self.request("POST", path, &body.to_string(), None)
    }

    fn teach_post(&self, path: &str, body: &Value) -> Answer {
        self.request("POST", path, &body.to_string(), Some(&self.teach))
    }

    fn results(&self) -> Value {
        let a = self.request("GET", "/api/class/results", "", Some(&self.teach));
        assert_eq!(a.status, 200, "{}", a.text());
        a.json()
    }

    /// Joins as `name`; returns the token.
    fn join(&self, name: &str) -> String {
        let a = self.post(
            "/api/class/join",
            &json!({ "code": self.code, "name": name }),
        );
        assert_eq!(a.status, 200, "{}", a.text());
        a.json()["token"].as_str().unwrap().to_string()
    }

    fn answer(&self, token: &str, question: Value, item: u32, answer: &str) -> Answer {
        self.post(
            "/api/class/answer",
            &json!({ "token": token, "question": question, "item": item, "answer": answer }),
        )
    }

    /// An open event stream for `token`, its first (`state`) event read.
    fn events(&self, token: &str) -> (Stream, Value) {
        let s = TcpStream::connect(&self.addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
        let head = format!(
            "GET /api/class/events?token={token} HTTP/1.1\r\nHost: {}\r\n\r\n",
            self.addr
        );
        (&s).write_all(head.as_bytes()).unwrap();
        let mut stream = Stream(BufReader::new(s));
        let mut line = String::new();
        stream.0.read_line(&mut line).unwrap();
        assert!(line.starts_with("HTTP/1.1 200"), "{line}");
        while line != "\r\n" {
            line.clear();
            stream.0.read_line(&mut line).unwrap();
        }
        let (name, state) = stream.next();
        assert_eq!(name, "state");
        (stream, state)
    }
}

impl Drop for Class {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A stream of server-sent events.
struct Stream(BufReader<TcpStream>);

impl Stream {
    /// The next event other than a ping: its name and data.
    fn next(&mut self) -> (String, Value) {
        loop {
            let (mut event, mut data) = (String::new(), String::new());
            loop {
                let mut line = String::new();
                assert!(self.0.read_line(&mut line).unwrap() > 0, "the stream ended");
                let line = line.trim_end();
                if line.is_empty() {
                    break;
                }
                if let Some(e) = line.strip_prefix("event: ") {
                    event = e.to_string();
                } else if let Some(d) = line.strip_prefix("data: ") {
                    data = d.to_string();
                }
            }
            if !event.is_empty() && event != "ping" {
                return (event, serde_json::from_str(&data).unwrap());
            }
        }
    }

    /// The next event named `name`, skipping others (the instructor's `results`).
    fn next_named(&mut self, name: &str) -> Value {
        loop {
            let (e, d) = self.next();
            if e == name {
                return d;
            }
        }
    }
}

#[test]
fn students_join_with_the_code_and_a_name_by_progress_names_rules() {
    // Catches: a wrong code admitted, a name check weaker than `progress --name`'s, two
    // students under one name, a token that is not 128 random bits in hex.
    let dir = tempfile::tempdir().unwrap();
    let class = Class::start(&dir.path().join("s.json"), &[]);
    assert_eq!(class.code.len(), 6);
    assert!(
        class
            .code
            .chars()
            .all(|c| "ABCDEFGHJKMNPQRSTUVWXYZ23456789".contains(c)),
        "{}",
        class.code
    );
    assert_eq!(class.teach.len(), 32);
    let join = |code: &str, name: &str| {
        class.post("/api/class/join", &json!({ "code": code, "name": name }))
    };
    let a = join(&class.code, "Ana");
    assert_eq!(a.status, 200, "{}", a.text());
    let v = a.json();
    assert_eq!(
        (v["name"].clone(), v["student"].clone()),
        (json!("Ana"), json!(1))
    );
    let token = v["token"].as_str().unwrap();
    assert!(
        token.len() == 32 && token.chars().all(|c| c.is_ascii_hexdigit()),
        "{token}"
    );
    assert_ne!(token, class.teach);
    // Typed on a phone: lower case and spaces around are the same code.
    let lower = format!(" {} ", class.code.to_lowercase());
    let b = join(&lower, "  Bo  ");
    assert_eq!(b.status, 200, "{}", b.text());
    assert_eq!(b.json()["name"], "Bo");
    assert_eq!(b.json()["student"], 2);
    let wrong = if class.code == "AAAAAA" {
        "BBBBBB"
    } else {
        "AAAAAA"
    };
    let w = join(wrong, "Cy");
    assert_eq!(
        (w.status, w.error_text()),
        (403, "wrong join code".to_string())
    );
    for (name, status, message) in [
        (
            "ana",
            409,
            "the name 'ana' is taken in this class; add an initial",
        ),
        (
            "Bo",
            409,
            "the name 'Bo' is taken in this class; add an initial",
        ),
        ("   ", 400, "give a name, as your instructor will see it"),
        (
            "A\u{7}na",
            400,
            "a name may not hold control characters (it holds U+0007)",
        ),
        (
            "Ana\u{202E}x",
            400,
            "a name may not hold bidirectional-text controls (it holds U+202E)",
        ),
        (
            &"x".repeat(61),
            400,
            "a name may be at most 60 characters long",
        ),
    ] {
        let r = join(&class.code, name);
        assert_eq!(
            (r.status, r.error_text()),
            (status, message.to_string()),
            "{name:?}"
        );
    }
    let bad = class.request("POST", "/api/class/join", "{\"code\": 1}", None);
    assert_eq!(bad.status, 400);
    // Two students, nobody else: the refusals added no one.
    let r = class.results();
    assert_eq!(r["students"].as_array().unwrap().len(), 2);
}

#[test]
fn each_kind_of_push_reaches_two_students_and_the_state_keeps_the_last() {
    // Catches: a broadcast that reaches one stream only, a push not filled from the bank,
    // experiment settings that skip the CLI's checks, and a new stream's state that forgets
    // what was pushed.
    let dir = tempfile::tempdir().unwrap();
    let class = Class::start(&dir.path().join("s.json"), &[]);
    let (ana, bo) = (class.join("Ana"), class.join("Bo"));
    let (mut sa, state) = class.events(&ana);
    assert_eq!(
        state,
        json!({ "push": null, "locked": false, "revealed": [] })
    );
    let (mut sb, _) = class.events(&bo);
    let item = json!({
        "kind": "item",
        "question": "saturating-activations",
        "item": 1,
        "prompt": "What is the largest value the sigmoid's derivative σ′(x) reaches?",
        "type": "choice",
        "options": [
            { "key": "a", "text": "1, at x = 0" },
            { "key": "b", "text": "¼, at x = 0" },
            { "key": "c", "text": "½, at x = 0" },
            { "key": "d", "text": "It has no maximum." },
        ],
    });
    for (body, pushed) in [
        (
            json!({ "kind": "question", "question": 3 }),
            json!({ "kind": "question", "question": "saturating-activations" }),
        ),
        (
            json!({ "kind": "item", "question": "3", "item": 1 }),
            item.clone(),
        ),
        (
            json!({ "kind": "experiment", "name": "vanishing",
                    "settings": { "depth": 50, "activation": "tanh" } }),
            json!({ "kind": "experiment", "name": "vanishing",
                    "settings": { "depth": "50", "activation": "tanh" } }),
        ),
        (json!({ "kind": "clear" }), json!({ "kind": "clear" })),
    ] {
        let a = class.teach_post("/api/class/push", &body);
        assert_eq!(a.status, 200, "{}", a.text());
        assert_eq!(a.json(), json!({ "pushed": pushed }));
        assert_eq!(sa.next(), ("push".to_string(), pushed.clone()));
        assert_eq!(sb.next(), ("push".to_string(), pushed.clone()));
    }
    // A numeric item says so, with no options.
    let a = class.teach_post(
        "/api/class/push",
        &json!({ "kind": "item", "question": 1, "item": 1 }),
    );
    assert_eq!(a.json()["pushed"]["type"], "number");
    assert_eq!(a.json()["pushed"]["options"], json!([]));
    // Refused with the CLI's and the bank's messages.
    let bad = class.teach_post(
        "/api/class/push",
        &json!({ "kind": "experiment", "name": "vanishing", "settings": { "depth": "x" } }),
    );
    assert_eq!(bad.status, 400);
    assert!(
        bad.error_text().contains("'--depth <N>'"),
        "{}",
        bad.error_text()
    );
    let bad = class.teach_post(
        "/api/class/push",
        &json!({ "kind": "item", "question": 3, "item": 9 }),
    );
    assert_eq!(bad.status, 404);
    assert!(
        bad.error_text().contains("has no item 9"),
        "{}",
        bad.error_text()
    );
    // A stream opened now starts from the last push.
    class.teach_post(
        "/api/class/push",
        &json!({ "kind": "item", "question": 3, "item": 1 }),
    );
    let (_, state) = class.events(&ana);
    assert_eq!(state["push"], item);
}

#[test]
fn answers_are_graded_quietly_until_the_reveal_and_refused_while_locked() {
    // Catches: a key or a verdict shown before the reveal, answers taken while locked, a
    // reveal that does not reach the streams or change later replies.
    let dir = tempfile::tempdir().unwrap();
    let class = Class::start(&dir.path().join("s.json"), &[]);
    let ana = class.join("Ana");
    let (mut stream, _) = class.events(&ana);
    let a = class.answer(&ana, json!(3), 1, "a");
    assert_eq!(a.status, 200, "{}", a.text());
    assert_eq!(a.json(), json!({ "recorded": true, "attempt": 1 }));
    let me = class.request("GET", &format!("/api/class/me?token={ana}"), "", None);
    assert_eq!(
        me.json()["answers"],
        json!([{ "question": "saturating-activations", "item": 1, "answer": "a", "correct": null }])
    );
    let l = class.teach_post("/api/class/lock", &json!({ "locked": true }));
    assert_eq!(l.json(), json!({ "locked": true }));
    assert_eq!(stream.next(), ("lock".into(), json!({ "locked": true })));
    let locked = class.answer(&ana, json!(3), 1, "b");
    assert_eq!(
        (locked.status, locked.error_text()),
        (409, "answering is locked".to_string())
    );
    class.teach_post("/api/class/lock", &json!({ "locked": false }));
    assert_eq!(stream.next(), ("lock".into(), json!({ "locked": false })));
    let r = class.teach_post(
        "/api/class/reveal",
        &json!({ "question": "saturating-activations", "item": 1 }),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let event = r.json();
    assert_eq!(event["key"], "b");
    assert_eq!(event["item"], 1);
    assert!(
        event["explanation"]
            .as_str()
            .unwrap()
            .starts_with("The answer is (b). The derivative σ′ = σ(1 − σ)"),
        "{event}"
    );
    assert_eq!(stream.next(), ("reveal".into(), event));
    let after = class.answer(&ana, json!("saturating-activations"), 1, "B");
    assert_eq!(
        after.json(),
        json!({ "recorded": true, "attempt": 2, "correct": true, "key": "b" })
    );
    let me = class.request("GET", &format!("/api/class/me?token={ana}"), "", None);
    let answers = me.json()["answers"].clone();
    assert_eq!(answers[0]["correct"], false);
    assert_eq!(answers[1]["correct"], true);
    // Quiz's own messages for what cannot be an answer.
    let e = class.answer(&ana, json!(3), 1, "z");
    assert_eq!(e.status, 400);
    let e = class.answer(&ana, json!(3), 7, "a");
    assert_eq!(e.status, 404);
    assert_eq!(
        e.error_text(),
        "question 3 has no item 7; its items are 1 to 3"
    );
    // The lab's own quiz endpoint writes no progress file in class mode.
    let lab = class.post(
        "/api/quiz/answer",
        &json!({ "question": 3, "item": 1, "answer": "b" }),
    );
    assert_eq!(
        (lab.status, lab.error_text()),
        (
            403,
            "in class mode, answers go to /api/class/answer".to_string()
        )
    );
    assert!(!dir.path().join("s.progress.json").exists());
}

#[test]
fn results_count_each_students_latest_answer_and_list_every_attempt() {
    // Catches: counts over every attempt instead of the latest, attempts misnumbered,
    // distractors left out.
    let dir = tempfile::tempdir().unwrap();
    let class = Class::start(&dir.path().join("s.json"), &[]);
    let (ana, bo, cy) = (class.join("Ana"), class.join("Bo"), class.join("Cy"));
    class.teach_post(
        "/api/class/push",
        &json!({ "kind": "item", "question": 3, "item": 1 }),
    );
    for (t, a) in [
        (&ana, "a"),
        (&bo, "b"),
        (&ana, "b"),
        (&cy, "c"),
        (&ana, "b"),
    ] {
        assert_eq!(class.answer(t, json!(3), 1, a).status, 200);
    }
    let r = class.results();
    let item = &r["items"][0];
    assert_eq!(item["question"], "saturating-activations");
    assert_eq!(item["id"], 3);
    assert_eq!(item["type"], "choice");
    assert_eq!(item["revealed"], false);
    let counts: Vec<(String, u64, bool)> = item["options"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            (
                o["key"].as_str().unwrap().to_string(),
                o["count"].as_u64().unwrap(),
                o["correct"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        counts,
        [
            ("a".into(), 0, false),
            ("b".into(), 2, true),
            ("c".into(), 1, false),
            ("d".into(), 0, false)
        ]
    );
    let attempts: Vec<(String, String, u64)> = item["answers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["name"].as_str().unwrap().to_string(),
                a["answer"].as_str().unwrap().to_string(),
                a["attempt"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        attempts,
        [
            ("Ana".into(), "a".into(), 1),
            ("Bo".into(), "b".into(), 1),
            ("Ana".into(), "b".into(), 2),
            ("Cy".into(), "c".into(), 1),
            ("Ana".into(), "b".into(), 3),
        ]
    );
    let students: Vec<(String, u64, u64, bool)> = r["students"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["name"].as_str().unwrap().to_string(),
                s["answered"].as_u64().unwrap(),
                s["right"].as_u64().unwrap(),
                s["connected"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        students,
        [
            ("Ana".into(), 1, 1, false),
            ("Bo".into(), 1, 1, false),
            ("Cy".into(), 1, 0, false)
        ]
    );
    // Connected while a stream is open.
    let (_stream, _) = class.events(&bo);
    assert_eq!(class.results()["students"][1]["connected"], true);
    assert_eq!(class.results()["students"][0]["connected"], false);
    // The instructor's stream gets the results as they change (students' streams never:
    // the push test reads theirs event by event).
    let (mut teach, _) = class.events(&class.teach);
    let first = teach.next_named("results");
    assert_eq!(first["items"][0]["answers"].as_array().unwrap().len(), 5);
    assert_eq!(class.answer(&cy, json!(3), 1, "b").status, 200);
    let mut latest = teach.next_named("results");
    while latest["items"][0]["answers"].as_array().unwrap().len() < 6 {
        latest = teach.next_named("results");
    }
    assert_eq!(latest["items"][0]["options"][1]["count"], 3);
    assert_eq!(latest["items"][0]["options"][2]["count"], 0);
}

#[test]
fn forged_tokens_and_students_are_refused_at_every_guarded_endpoint() {
    // Catches: an instructor endpoint open to a student's token or to none, a made-up
    // token accepted.
    let dir = tempfile::tempdir().unwrap();
    let class = Class::start(&dir.path().join("s.json"), &[]);
    let ana = class.join("Ana");
    let forged = "0123456789abcdef0123456789abcdef";
    let a = class.answer(forged, json!(3), 1, "a");
    assert_eq!(a.status, 401);
    let me = class.request("GET", &format!("/api/class/me?token={forged}"), "", None);
    assert_eq!(me.status, 401);
    let ev = class.request(
        "GET",
        &format!("/api/class/events?token={forged}"),
        "",
        None,
    );
    assert_eq!(ev.status, 401);
    // A demo request with a student's token runs as without one; a forged one does not.
    let plain = class.request("GET", "/api/demo/vanishing?depth=3&width=8", "", None);
    let with = class.request(
        "GET",
        &format!("/api/demo/vanishing?token={ana}&depth=3&width=8"),
        "",
        None,
    );
    assert_eq!((plain.status, with.status), (200, 200), "{}", with.text());
    assert_eq!(plain.body, with.body);
    let demo = class.request(
        "GET",
        &format!("/api/demo/vanishing?depth=3&token={forged}"),
        "",
        None,
    );
    assert_eq!(demo.status, 401);
    for (method, path, body) in [
        (
            "POST",
            "/api/class/push",
            json!({ "kind": "clear" }).to_string(),
        ),
        (
            "POST",
            "/api/class/reveal",
            json!({ "question": 3, "item": 1 }).to_string(),
        ),
        (
            "POST",
            "/api/class/lock",
            json!({ "locked": true }).to_string(),
        ),
        ("GET", "/api/class/results", String::new()),
        ("GET", "/api/class/roster?format=csv", String::new()),
    ] {
        for (token, status) in [(Some(ana.as_str()), 403), (Some(forged), 403), (None, 401)] {
            let a = class.request(method, path, &body, token);
            assert_eq!(a.status, status, "{path} with {token:?}: {}", a.text());
            if status == 403 {
                assert_eq!(a.error_text(), "instructor only");
            }
        }
    }
    // Nothing was pushed, revealed or locked by those.
    let (_, state) = class.events(&ana);
    assert_eq!(
        state,
        json!({ "push": null, "locked": false, "revealed": [] })
    );
}

#[test]
fn a_student_over_the_rate_gets_429_with_retry_after() {
    // Catches: no per-student limit (a student's script could flood the class).
    let dir = tempfile::tempdir().unwrap();
    let class = Class::start(&dir.path().join("s.json"), &[]);
    let ana = class.join("Ana");
    // A burst of 20 is allowed whatever the timing; then 10 a second, which 200 requests
    // in a row outrun on any machine that answers one in under 90 ms.
    let answers: Vec<Answer> = (0..200)
        .map(|_| class.request("GET", &format!("/api/class/me?token={ana}"), "", None))
        .collect();
    let statuses: Vec<u16> = answers.iter().map(|a| a.status).collect();
    assert!(statuses[..20].iter().all(|&s| s == 200), "{statuses:?}");
    let limited = answers.iter().find(|a| a.status == 429);
    let limited = limited.unwrap_or_else(|| panic!("no 429 in {statuses:?}"));
    assert_eq!(limited.header("retry-after"), Some("1"));
    assert_eq!(
        limited.error_text(),
        "too many requests; slow down a little"
    );
    // Another student is not held up by Ana's rate.
    let bo = class.join("Bo");
    let r = class.request("GET", &format!("/api/class/me?token={bo}"), "", None);
    assert_eq!(r.status, 200);
}

#[test]
fn a_class_killed_mid_session_resumes_with_every_acknowledged_answer() {
    // Catches: an answer acknowledged before it is on disk, a resume that loses students,
    // tokens or the code, a session file left damaged by a kill mid-write.
    let dir = tempfile::tempdir().unwrap();
    let session = dir.path().join("s.json");
    // Each write pauses halfway, so the kill most likely lands inside one.
    let class = Class::start(&session, &[("GRADTUTOR_SLOW_WRITE_MS", "5")]);
    let tokens: Vec<String> = (0..4).map(|i| class.join(&format!("S{i}"))).collect();
    let pushed = class.teach_post(
        "/api/class/push",
        &json!({ "kind": "item", "question": 3, "item": 1 }),
    );
    assert_eq!(pushed.status, 200);
    let acked = std::sync::Mutex::new(Vec::<(String, u64)>::new());
    std::thread::scope(|s| {
        for t in &tokens {
            let (class, acked) = (&class, &acked);
            s.spawn(move || {
                for k in 0..1000 {
                    let Ok(mut conn) = TcpStream::connect(&class.addr) else {
                        return;
                    };
                    let answer = ["a", "b", "c", "d"][k % 4];
                    let body =
                        json!({ "token": t, "question": 3, "item": 1, "answer": answer }).to_string();
                    let head = format!(
                        "POST /api/class/answer HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n{body}",
                        body.len()
                    );
                    if conn.write_all(head.as_bytes()).is_err() {
                        return;
                    }
                    let mut raw = Vec::new();
                    let _ = conn.read_to_end(&mut raw);
                    if !raw.starts_with(b"HTTP/1.1 200") {
                        return;
                    }
                    let a = Answer::parse(&raw).json();
                    acked
                        .lock()
                        .unwrap()
                        .push((t.clone(), a["attempt"].as_u64().unwrap()));
                    std::thread::sleep(Duration::from_millis(100));
                }
            });
        }
        std::thread::sleep(Duration::from_millis(1500));
        // SIGKILL: no chance to finish a write.
        kill9(&class);
    });
    let acked = acked.into_inner().unwrap();
    assert!(
        acked.len() >= 4,
        "only {} answers were acknowledged",
        acked.len()
    );
    let code = class.code.clone();
    drop(class);
    let again = Class::start(&session, &[]);
    assert_eq!(again.code, code);
    let resumed = again.lines.last().unwrap();
    assert!(resumed.contains("(resumed: 4 students, "), "{resumed}");
    let r = again.results();
    let answers = r["items"][0]["answers"].as_array().unwrap();
    let names: Vec<&str> = r["students"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["S0", "S1", "S2", "S3"]);
    for (token, attempt) in &acked {
        let student = tokens.iter().position(|t| t == token).unwrap() + 1;
        assert!(
            answers
                .iter()
                .any(|a| a["student"] == student && a["attempt"] == *attempt),
            "student {student}'s attempt {attempt} was acknowledged and is lost"
        );
    }
    // What was pushed is pushed again to a stream opened after the restart.
    let (_, state) = again.events(&tokens[1]);
    assert_eq!(state["push"], pushed.json()["pushed"]);
    // The students' tokens still work after the restart.
    assert_eq!(again.answer(&tokens[0], json!(3), 1, "b").status, 200);
}

/// SIGKILLs the class's process (the `Child` stays to be reaped by its drop).
fn kill9(class: &Class) {
    let status = std::process::Command::new("kill")
        .args(["-KILL", &class.child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

#[test]
fn twenty_students_answering_for_five_seconds_are_all_counted() {
    // Catches: answers lost or refused under concurrent writes (the grouped writes), a
    // server that errs under a class's load.
    let dir = tempfile::tempdir().unwrap();
    let class = Class::start(&dir.path().join("s.json"), &[]);
    class.teach_post(
        "/api/class/push",
        &json!({ "kind": "item", "question": 3, "item": 1 }),
    );
    let tokens: Vec<String> = (0..20)
        .map(|i| class.join(&format!("Student {i}")))
        .collect();
    let sent = std::sync::atomic::AtomicUsize::new(0);
    let errors = std::sync::Mutex::new(Vec::new());
    let (sent_ref, errors_ref) = (&sent, &errors);
    std::thread::scope(|s| {
        for (i, t) in tokens.iter().enumerate() {
            let class = &class;
            s.spawn(move || {
                let start = Instant::now();
                let mut k = i;
                // Within the rate of 10 a second.
                while start.elapsed() < Duration::from_secs(5) {
                    let a = class.answer(t, json!(3), 1, ["a", "b", "c", "d"][k % 4]);
                    k += 1;
                    match a.status {
                        200 => {
                            sent_ref.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                        }
                        s => errors_ref.lock().unwrap().push((s, a.text())),
                    }
                    std::thread::sleep(Duration::from_millis(150));
                }
            });
        }
    });
    let errors = errors.into_inner().unwrap();
    assert!(errors.is_empty(), "{errors:?}");
    let sent = sent.into_inner();
    assert!(sent >= 20, "{sent}");
    let r = class.results();
    assert_eq!(r["items"][0]["answers"].as_array().unwrap().len(), sent);
    let counted: u64 = r["items"][0]["options"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["count"].as_u64().unwrap())
        .sum();
    assert_eq!(counted, 20, "one latest answer per student");
}

#[test]
fn bind_and_session_need_class_and_a_foreign_file_is_never_overwritten() {
    // Catches: --bind silently ignored by the 127.0.0.1-only lab, a progress file (or any
    // file) taken over as a session.
    let dir = tempfile::tempdir().unwrap();
    let out = common::gradtutor("live_class")
        .args(["serve", "--bind", "127.0.0.1:0"])
        .assert()
        .failure()
        .get_output()
        .clone();
    assert!(
        text(&out.stderr).contains("--bind and --session are for a live class: add --class"),
        "{}",
        text(&out.stderr)
    );
    let file = dir.path().join("notes.json");
    std::fs::write(&file, "{\"format\": \"gradtutor-progress\"}\n").unwrap();
    let out = common::gradtutor("live_class")
        .args(["serve", "--class", "--bind", "127.0.0.1:0", "--session"])
        .arg(&file)
        .assert()
        .failure()
        .get_output()
        .clone();
    let err = text(&out.stderr);
    assert!(
        err.contains(&format!(
            "{} cannot be used: it is not a gradtutor class session file",
            file.display()
        )),
        "{err}"
    );
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        "{\"format\": \"gradtutor-progress\"}\n"
    );
    // The session file is the instructor's alone.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let session = dir.path().join("s.json");
        let class = Class::start(&session, &[]);
        class.join("Ana");
        let mode = std::fs::metadata(&session).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}

/// A one-question bank: question 1 (`q-one`) with a choice item, key b.
fn small_bank(dir: &Path) {
    std::fs::write(
        dir.join("1.toml"),
        "format_version = 1\nid = 1\nslug = \"q-one\"\ntitle = \"One & <only>\"\n\
         question = \"Q?\"\nanswer = \"A.\"\nkey_points = [\"k\"]\n\n[experiment]\n\
         demo = \"vanishing\"\ndepth = 3\nwidth = 8\ntakeaway = \"look\"\n\n[[quiz]]\n\
         prompt = \"Pick one\"\nchoices = [\"yes\", \"no | maybe\", \"<i>never</i>\"]\n\
         answer = \"b\"\nexplanations = [\"A.\", \"B.\", \"C.\"]\n",
    )
    .unwrap();
}

/// A session of three students (names with markup and control characters) on `q-one`.
fn small_session(path: &Path) {
    let s = json!({
        "gradtutor": "class-session", "version": 1, "code": "K7Q2MX",
        "created": "2026-12-07T22:00:00Z",
        "students": [
            { "student": 1, "name": "<b>Ana</b>", "token": "a".repeat(32), "joined": "2026-12-07T22:01:00Z" },
            { "student": 2, "name": "Bo\u{1b}[2J", "token": "b".repeat(32), "joined": "2026-12-07T22:01:00Z" },
            { "student": 3, "name": "=Cy, \"C\"", "token": "c".repeat(32), "joined": "2026-12-07T22:01:00Z" },
        ],
        "answers": [
            { "student": 1, "question": "q-one", "item": 1, "answer": "a", "correct": false, "time": "2026-12-07T22:02:00Z" },
            { "student": 2, "question": "q-one", "item": 1, "answer": "b", "correct": true, "time": "2026-12-07T22:02:01Z" },
            { "student": 1, "question": "q-one", "item": 1, "answer": "b", "correct": true, "time": "2026-12-07T22:02:02Z" },
            { "student": 3, "question": "q-one", "item": 1, "answer": "c", "correct": false, "time": "2026-12-07T22:02:03Z" },
        ],
        "pushes": [{ "kind": "item", "question": "q-one", "item": 1 }],
        "reveals": [], "locked": false,
    });
    std::fs::write(path, serde_json::to_string_pretty(&s).unwrap()).unwrap();
}

fn roster(bank: &Path, session: &Path, format: &str) -> String {
    common::stdout(
        common::gradtutor("live_class")
            .arg("--questions-only")
            .arg(bank)
            .args(["roster", "--format", format, "--session"])
            .arg(session),
    )
}

#[test]
fn roster_of_a_session_in_text() {
    // Ana changed a (wrong) to b (right): her score is her latest answer's, 100% (catches a
    // roster that counts every attempt, so that changing an answer costs a student).
    // Catches: counts of first or latest answers swapped or summed, a control character
    // reaching the terminal.
    let dir = tempfile::tempdir().unwrap();
    small_bank(dir.path());
    let session = dir.path().join("s.json");
    small_session(&session);
    let got = roster(dir.path(), &session, "text");
    let want = "\
Roster: 3 students, 1 question (FOLDER)

Per student: questions studied of 1 (a quiz counts), the share of quiz items
answered right at the first attempt and at the latest, and the latest % right on
each quizzed question by id (— not quizzed).

student      studied   first  latest    1
<b>Ana</b>       1/1      0%    100%  100
Bo\\u{1b}[2J      1/1    100%    100%  100
=Cy, \"C\"         1/1      0%      0%    0

 id  question  studied  quizzed  average  most missed
  1  q-one         3/3      3/3    66.7%  item 1, 2 of 3
     Pick one

Items of the session: per option, how many students chose it first / last (the
key starred); for a number, how many were right first / last.

1.1   a 1/0, b* 1/2, c 1/1
      Pick one
      a) yes
      b) no | maybe
      c) <i>never</i>

Attempts: each student's first and latest answer per item.

student      item  first      latest     attempts
<b>Ana</b>   1.1   a (wrong)  b (right)         2
Bo\\u{1b}[2J  1.1   b (right)  b (right)         1
=Cy, \"C\"     1.1   c (wrong)  c (wrong)         1
";
    let got = got.replace(&dir.path().display().to_string(), "FOLDER");
    assert_eq!(got, want, "{got}");
    assert!(!got.contains('\u{1b}'));
}

#[test]
fn roster_of_a_session_in_csv_and_markdown_escapes_every_name() {
    // Catches: a name that starts a spreadsheet formula or breaks a CSV row, markup or a
    // pipe passed into Markdown, the API's roster differing from the command's.
    let dir = tempfile::tempdir().unwrap();
    small_bank(dir.path());
    let session = dir.path().join("s.json");
    small_session(&session);
    let file = session.display().to_string();
    let csv = roster(dir.path(), &session, "csv");
    let want = format!(
        "student,file,studied,right,asked,percent,first,1:q-one,1.1 first,1.1 latest\n\
         <b>Ana</b>,{file}#1,1,1,1,100,0,100,a (wrong),b (right)\n\
         Bo\\u{{1b}}[2J,{file}#2,1,1,1,100,100,100,b (right),b (right)\n\
         \"'=Cy, \"\"C\"\"\",{file}#3,1,0,1,0,0,0,c (wrong),c (wrong)\n\
         (class average),,,,,66.7,,66.7,,\n\
         (most missed item),,,,,,,\"item 1, 2 of 3\",,\n\
         (answer counts),,,,,,,,\"a 1/0, b* 1/2, c 1/1\",\n"
    );
    assert_eq!(csv, want, "{csv}");
    let md = roster(dir.path(), &session, "markdown");
    let want = "\
# Roster

3 students, 1 question (FOLDER). Scores are the share of quiz items answered right, at the first attempt and at the latest (a question's column: the latest); a quiz counts as studying; only quizzed questions have a column.

## Students

| student | studied | first | latest | 1 |
|---|--:|--:|--:|--:|
| &lt;b&gt;Ana&lt;/b&gt; | 1/1 | 0% | 100% | 100% |
| Bo\\\\u{1b}[2J | 1/1 | 100% | 100% | 100% |
| =Cy, \"C\" | 1/1 | 0% | 0% | 0% |

## Questions

| id | question | studied | quizzed | average | most missed item |
|--:|---|--:|--:|--:|---|
| 1 | One &amp; &lt;only&gt; | 3/3 | 3/3 | 66.7% | item 1, 2 of 3: Pick one |

## Items

### 1.1: Pick one

| option | text | first | latest |
|---|---|--:|--:|
| a | yes | 1 | 0 |
| **b** (key) | no \\| maybe | 1 | 2 |
| c | &lt;i&gt;never&lt;/i&gt; | 1 | 1 |

## Attempts

| student | item | first | latest | attempts |
|---|---|---|---|--:|
| &lt;b&gt;Ana&lt;/b&gt; | 1.1 | a (wrong) | b (right) | 2 |
| Bo\\\\u{1b}[2J | 1.1 | b (right) | b (right) | 1 |
| =Cy, \"C\" | 1.1 | c (wrong) | c (wrong) | 1 |
";
    let md = md.replace(&dir.path().display().to_string(), "FOLDER");
    assert_eq!(md, want, "{md}");
    // The dashboard's export is the command's output, for the same session.
    let class = Class::start_with_bank(&session, dir.path());
    for (format, want) in [
        ("csv", csv.clone()),
        ("markdown", roster(dir.path(), &session, "markdown")),
    ] {
        let a = class.request(
            "GET",
            &format!("/api/class/roster?format={format}"),
            "",
            Some(&class.teach),
        );
        assert_eq!(a.status, 200);
        assert_eq!(a.text(), want, "{format}");
    }
    let a = class.request(
        "GET",
        "/api/class/roster?format=text",
        "",
        Some(&class.teach),
    );
    assert_eq!(a.text(), roster(dir.path(), &session, "text"));
}

impl Class {
    /// [`Class::start`] with `--questions-only BANK`.
    fn start_with_bank(session: &Path, bank: &Path) -> Class {
        let bank = bank.display().to_string();
        Class::start_full(session, &[], &["--questions-only", &bank])
    }
}

#[test]
fn a_numeric_item_is_graded_against_the_figure_its_run_measures() {
    // Catches: a numeric answer graded against anything but the run's figure, results or a
    // reveal without the measured figure.
    let bank = gradtutor::Bank::embedded(4 << 30).unwrap();
    let q = bank.find("1").unwrap();
    let m = q.quiz[0].measure(&q.experiment, None, 4 << 30).unwrap();
    let tolerance = match &q.quiz[0].kind {
        gradtutor::ItemKind::Numeric { tolerance, .. } => *tolerance,
        _ => panic!("question 1's first item is numeric"),
    };
    let dir = tempfile::tempdir().unwrap();
    let class = Class::start(&dir.path().join("s.json"), &[]);
    let (ana, bo) = (class.join("Ana"), class.join("Bo"));
    let near = format!("{}", m + tolerance / 2.0);
    let far = format!("{}", m + 3.0 * tolerance);
    assert_eq!(class.answer(&ana, json!(1), 1, &near).status, 200);
    assert_eq!(class.answer(&bo, json!(1), 1, &far).status, 200);
    let r = class.teach_post("/api/class/reveal", &json!({ "question": 1, "item": 1 }));
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["key"], gradtutor::format_figure(m));
    let results = class.results();
    let item = &results["items"][0];
    assert_eq!(item["type"], "number");
    assert_eq!(item["measured"].as_f64(), Some(m));
    assert_eq!(item["tolerance"].as_f64(), Some(tolerance));
    let graded: Vec<(String, bool)> = item["answers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["name"].as_str().unwrap().to_string(),
                a["correct"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(graded, [("Ana".into(), true), ("Bo".into(), false)]);
}

#[test]
fn a_change_that_could_not_be_saved_is_undone_so_a_retry_finds_the_record_as_it_was() {
    // Catches: a join or answer kept in memory after its write failed (answered 500), so
    // that the student's retry is refused as "name taken" or counted as a second attempt.
    let dir = tempfile::tempdir().unwrap();
    let session = dir.path().join("s.json");
    let class = Class::start(&session, &[]);
    let ana = class.join("Ana");
    // A directory where the record was: the next write fails.
    std::fs::remove_file(&session).unwrap();
    std::fs::create_dir(&session).unwrap();
    let join = class.post(
        "/api/class/join",
        &json!({ "code": class.code, "name": "Bo" }),
    );
    assert_eq!(join.status, 500, "{}", join.text());
    let answer = class.answer(&ana, json!(3), 1, "a");
    assert_eq!(answer.status, 500, "{}", answer.text());
    std::fs::remove_dir(&session).unwrap();
    let join = class.post(
        "/api/class/join",
        &json!({ "code": class.code, "name": "Bo" }),
    );
    assert_eq!(join.status, 200, "{}", join.text());
    assert_eq!(join.json()["student"], 2);
    let answer = class.answer(&ana, json!(3), 1, "a");
    assert_eq!(answer.status, 200, "{}", answer.text());
    assert_eq!(answer.json()["attempt"], 1);
    let saved: Value = serde_json::from_slice(&std::fs::read(&session).unwrap()).unwrap();
    let names: Vec<&str> = saved["students"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Ana", "Bo"]);
    assert_eq!(saved["answers"].as_array().unwrap().len(), 1);
}

/// A student's demo requests go through the lab's admission under their token: with the one
/// worker (`--threads 1`) held by a long run, a student's request waiting in the queue is
/// dropped (409) when the same student asks for other settings, and the newer one runs.
/// (The token must reach the runner: a class that took it out of the query would answer
/// both with 200.)
#[test]
fn a_students_newer_demo_request_drops_the_older_one_still_waiting() {
    let dir = tempfile::tempdir().unwrap();
    let class = Class::start_full(&dir.path().join("s.json"), &[], &["--threads", "1"]);
    let ana = class.join("Ana");
    let get = |path: &str| class.request("GET", path, "", None);
    let until = |ready: &dyn Fn(&Value) -> bool| {
        let start = Instant::now();
        loop {
            let load = get("/api/load").json();
            if ready(&load) {
                return;
            }
            assert!(start.elapsed().as_secs() < 300, "never ready: {load}");
            std::thread::sleep(Duration::from_millis(5));
        }
    };
    std::thread::scope(|scope| {
        let held = scope.spawn(|| get("/api/demo/vanishing?depth=50&width=512&batch=256"));
        until(&|l| l["running"] == 1);
        let older = scope.spawn(|| get(&format!("/api/demo/vanishing?depth=3&token={ana}")));
        until(&|l| l["queued"] == 1);
        let newer = scope.spawn(|| get(&format!("/api/demo/vanishing?token={ana}&depth=4")));
        let a = older.join().unwrap();
        assert_eq!(a.status, 409, "{}", a.text());
        assert_eq!(a.json()["error"], "superseded by a newer request");
        let plain = get("/api/demo/vanishing?depth=4");
        assert_eq!(newer.join().unwrap().text(), plain.text());
        assert_eq!(held.join().unwrap().status, 200);
    });
}

#[test]
fn an_experiment_push_over_the_memory_limit_or_time_budget_is_refused_with_the_clis_message() {
    // Catches: a push checked only by clap, which takes every student's screen for a run
    // that then fails for each of them.
    let dir = tempfile::tempdir().unwrap();
    let class = Class::start(&dir.path().join("s.json"), &[]);
    let push = |settings: Value| {
        class.teach_post(
            "/api/class/push",
            &json!({"kind": "experiment", "name": "vanishing", "settings": settings}),
        )
    };
    let cli = common::stderr_of_failure(common::gradtutor("live-class").args([
        "demo",
        "vanishing",
        "--depth",
        "99999999",
        "--activation",
        "tanh",
    ]));
    let big = push(json!({"depth": "99999999", "activation": "tanh"}));
    assert_eq!(big.status, 400, "{}", big.text());
    let memory = big.error_text();
    assert!(memory.contains("memory limit"), "{memory}");
    assert_eq!(cli.trim_end(), format!("error: {memory}"));
    let slow = push(json!({"width": "1024", "depth": "100", "batch": "1024"}));
    assert_eq!(slow.status, 400, "{}", slow.text());
    assert!(
        slow.error_text().contains("time budget"),
        "{}",
        slow.error_text()
    );
    let ok = push(json!({"depth": "50", "activation": "tanh"}));
    assert_eq!(ok.status, 200, "{}", ok.text());
}
