//! The live lab over HTTP: the real binary runs `serve --port 0`, and a small client speaks
//! HTTP/1.1 to it over a `TcpStream` (a request, `Connection: close`, the answer read to
//! the end). Hand-written: 60 lines, where an HTTP client crate (ureq) would add a dozen
//! packages to the test build for what these tests need of it. Every answer is compared
//! with what the command line prints for the same settings.

use crate::common::{self, Answer};
use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::Duration;

/// A running lab, killed when dropped (the attention tests start one too).
pub(super) struct Lab {
    child: Child,
    /// `127.0.0.1:PORT`.
    addr: String,
}

impl Lab {
    /// `gradtutor ARGS… serve --port 0`, progress kept in `progress`; waits for its URL.
    pub(super) fn start(progress: &Path, args: &[&str]) -> Lab {
        Lab::start_with(progress, args, |_| {})
    }

    /// [`Lab::start`], the command changed by `change` first.
    fn start_with(
        progress: &Path,
        args: &[&str],
        change: impl FnOnce(&mut std::process::Command),
    ) -> Lab {
        let mut cmd = common::process_at(progress);
        cmd.args(args)
            .args(["serve", "--port", "0"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        change(&mut cmd);
        let child = cmd.spawn().unwrap();
        // Killed on drop from here on, even if the first line is not what it should be.
        let mut lab = Lab {
            child,
            addr: String::new(),
        };
        let mut line = String::new();
        let stdout = lab.child.stdout.take().unwrap();
        BufReader::new(stdout).read_line(&mut line).unwrap();
        let url = line
            .trim_end()
            .strip_prefix("gradtutor lab: http://")
            .unwrap_or_else(|| panic!("the lab printed {line:?}"));
        lab.addr = url.strip_suffix('/').unwrap().to_string();
        assert!(lab.addr.starts_with("127.0.0.1:"), "{}", lab.addr);
        lab
    }

    pub(super) fn get(&self, path: &str) -> Answer {
        self.request("GET", path, b"")
    }

    fn post(&self, path: &str, body: &Value) -> Answer {
        self.request("POST", path, body.to_string().as_bytes())
    }

    /// One request on a connection of its own.
    fn request(&self, method: &str, path: &str, body: &[u8]) -> Answer {
        let mut s = TcpStream::connect(&self.addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(300))).unwrap();
        let head = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nContent-Length: {}\r\n\
             Content-Type: application/json\r\n\r\n",
            self.addr,
            body.len()
        );
        s.write_all(head.as_bytes()).unwrap();
        // A body the lab refuses may be cut off by its answer: what it says is what counts.
        let _ = s.write_all(body);
        let mut raw = Vec::new();
        let _ = s.read_to_end(&mut raw);
        Answer::parse(&raw)
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
    img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; \
    frame-ancestors 'none'";

/// A progress file in a fresh temporary folder.
pub(super) fn progress_file() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("progress.json");
    (dir, path)
}

/// The CLI's message for a clap error, as the lab gives it: without `error: ` and the line
/// that points to `--help`.
fn clap_message(stderr: &str) -> String {
    stderr
        .strip_prefix("error: ")
        .unwrap()
        .strip_suffix("\n\nFor more information, try '--help'.\n")
        .unwrap_or_else(|| panic!("{stderr:?}"))
        .to_string()
}

/// The CLI's message for any other error: its stderr without `error: ` and the newline.
fn cli_message(stderr: &str) -> String {
    stderr
        .strip_prefix("error: ")
        .unwrap()
        .strip_suffix('\n')
        .unwrap()
        .to_string()
}

#[test]
fn the_page_and_every_answer_carry_the_policy() {
    let (_dir, progress) = progress_file();
    let lab = Lab::start(&progress, &[]);
    for (path, status, kind) in [
        ("/", 200, "text/html"),
        ("/lab.js", 200, "text/javascript"),
        ("/lab.css", 200, "text/css"),
        ("/api/questions", 200, "application/json"),
        ("/api/demos", 200, "application/json"),
        ("/nope", 404, "application/json"),
        ("/api/demo/vanishing/nope", 404, "application/json"),
        ("/../../etc/passwd", 404, "application/json"),
    ] {
        let a = lab.get(path);
        assert_eq!(a.status, status, "{path}: {}", a.text());
        assert!(
            a.header("content-type")
                .is_some_and(|t| t.starts_with(kind)),
            "{path}: {:?}",
            a.headers
        );
        assert_eq!(a.header("content-security-policy"), Some(CSP), "{path}");
        assert_eq!(
            a.header("x-content-type-options"),
            Some("nosniff"),
            "{path}"
        );
    }
    // HEAD: the headers of GET, no body.
    let head = lab.request("HEAD", "/api/demos", b"");
    assert_eq!(head.status, 200);
    assert!(head.body.is_empty());
    assert_eq!(
        head.header("content-length"),
        lab.get("/api/demos").body.len().to_string().as_str().into()
    );
    let page = lab.get("/").text();
    assert!(page.contains("<html") && page.contains("/lab.js"), "{page}");
    assert_eq!(
        lab.get("/nope").json(),
        json!({"error": "there is nothing at /nope"})
    );
    // A wrong method: 405, saying which one the path takes.
    let a = lab.post("/api/demos", &json!({}));
    assert!(a.error(405).contains("use GET"));
    assert_eq!(a.header("allow"), Some("GET"));
    assert_eq!(a.header("content-security-policy"), Some(CSP));
    let a = lab.get("/api/quiz/answer");
    assert!(a.error(405).contains("use POST"));
    assert_eq!(a.header("allow"), Some("POST"));
}

#[test]
fn a_demo_answers_as_the_command_line_prints() {
    let (dir, progress) = progress_file();
    let lab = Lab::start(&progress, &[]);
    let chart = dir.path().join("chart.svg");
    let cli = |args: &[&str]| common::stdout(common::gradtutor_at(&progress).args(args));
    // JSON: exactly `--json`'s stdout.
    let a = lab.get("/api/demo/vanishing?depth=7");
    assert_eq!(a.status, 200);
    assert!(
        a.header("content-type")
            .unwrap()
            .starts_with("application/json")
    );
    assert_eq!(
        a.text(),
        cli(&["demo", "vanishing", "--depth", "7", "--json"])
    );
    // The chart: exactly the file `--plot` writes.
    cli(&[
        "demo",
        "vanishing",
        "--depth",
        "7",
        "--plot",
        chart.to_str().unwrap(),
    ]);
    let a = lab.get("/api/demo/vanishing/chart.svg?depth=7");
    assert_eq!(a.status, 200);
    assert!(
        a.header("content-type")
            .unwrap()
            .starts_with("image/svg+xml")
    );
    assert_eq!(a.text(), std::fs::read_to_string(&chart).unwrap());
    // The text view: the terminal's, without colour, at 80 columns.
    let a = lab.get("/api/demo/vanishing/text?depth=7");
    assert_eq!(a.status, 200);
    assert_eq!(a.text(), cli(&["demo", "vanishing", "--depth", "7"]));
    // Several settings, percent-escapes, a bool and a value with a colon.
    let a = lab.get("/api/demo/vanishing?depth=4&width=16&activation=leaky-relu%3A0.2&bn=true");
    assert_eq!(
        a.text(),
        cli(&[
            "demo",
            "vanishing",
            "--depth",
            "4",
            "--width",
            "16",
            "--activation",
            "leaky-relu:0.2",
            "--bn",
            "--json"
        ])
    );
    // The recurrent probe, through the same door.
    let a = lab.get("/api/demo/recurrent?seq-len=5&width=8&cell=lstm");
    assert_eq!(
        a.text(),
        cli(&[
            "demo",
            "recurrent",
            "--seq-len",
            "5",
            "--width",
            "8",
            "--cell",
            "lstm",
            "--json"
        ])
    );
}

#[test]
fn bad_settings_get_the_command_lines_message() {
    let (_dir, progress) = progress_file();
    let lab = Lab::start(&progress, &[]);
    let fails =
        |args: &[&str]| common::stderr_of_failure(common::gradtutor_at(&progress).args(args));
    // clap's own messages.
    for (query, args) in [
        ("depth=-1", vec!["--depth", "-1"]),
        ("activation=nope", vec!["--activation", "nope"]),
        ("depth=3&depth=4", vec!["--depth", "3", "--depth", "4"]),
        ("precision=f8", vec!["--precision", "f8"]),
    ] {
        let mut cmd = vec!["demo", "vanishing"];
        cmd.extend(args);
        let want = clap_message(&fails(&cmd));
        let got = lab.get(&format!("/api/demo/vanishing?{query}")).error(400);
        assert_eq!(got, want, "{query}");
    }
    // The settings' and the experiments' own checks.
    for (name, query, args) in [
        ("vanishing", "residual=pre", vec!["--residual", "pre"]),
        (
            "activations",
            "activation=relu",
            vec!["--activation", "relu"],
        ),
        ("vanishing", "seq-len=4", vec!["--seq-len", "4"]),
        ("vanishing", "seeds=0", vec!["--seeds", "0"]),
        (
            "vanishing",
            "depth=2&width=100000&batch=100000",
            vec!["--depth", "2", "--width", "100000", "--batch", "100000"],
        ),
    ] {
        let mut cmd = vec!["demo", name];
        cmd.extend(args);
        let want = cli_message(&fails(&cmd));
        let got = lab.get(&format!("/api/demo/{name}?{query}")).error(400);
        assert_eq!(got, want, "{name}?{query}");
    }
    // An unknown experiment: 404, with `demo`'s message.
    let want = cli_message(&fails(&["demo", "vanishin"]));
    assert!(want.contains("Did you mean 'vanishing'?"), "{want}");
    assert_eq!(lab.get("/api/demo/vanishin").error(404), want);
    assert_eq!(lab.get("/api/demo/vanishin/chart.svg").error(404), want);
    // A key that is no setting, and a run over the time budget (its estimate in the message).
    let e = lab.get("/api/demo/vanishing?plot=x.svg").error(400);
    assert!(
        e.starts_with("unknown setting 'plot'; the settings are depth, width,"),
        "{e}"
    );
    let e = lab
        .get("/api/demo/vanishing?depth=200&width=1024&batch=512&seeds=20")
        .error(400);
    assert!(
        e.starts_with("demo vanishing with these settings would take about "),
        "{e}"
    );
    assert!(e.contains("over the time budget of 10 s"), "{e}");
    assert_eq!(
        lab.get("/api/demo/vanishing?depth=%zz").error(400),
        "'%zz' is not a well-formed URL part"
    );
}

#[test]
fn the_experiments_list_their_controls_from_the_settings_table() {
    let (_dir, progress) = progress_file();
    let lab = Lab::start(&progress, &[]);
    let v = lab.get("/api/demos").json();
    let exps = v["experiments"].as_array().unwrap();
    let names: Vec<&str> = exps.iter().map(|e| e["name"].as_str().unwrap()).collect();
    let listed = common::stdout(common::gradtutor_at(&progress).arg("demos"));
    for n in &names {
        assert!(listed.contains(&format!("{n:<12} ")), "{n}");
    }
    assert_eq!(
        names.len(),
        listed.lines().filter(|l| !l.starts_with(' ')).count() - 2
    );
    let controls = |name: &str| -> Vec<Value> {
        exps.iter().find(|e| e["name"] == name).unwrap()["controls"]
            .as_array()
            .unwrap()
            .clone()
    };
    let keys = |name: &str| -> Vec<String> {
        controls(name)
            .iter()
            .map(|c| c["key"].as_str().unwrap().to_string())
            .collect()
    };
    let vanishing = controls("vanishing");
    let depth = &vanishing[0];
    assert_eq!(depth["key"], "depth");
    assert_eq!(depth["flag"], "--depth");
    assert_eq!(depth["label"], "Number of hidden layers.");
    assert_eq!(depth["type"], "int");
    assert_eq!(depth["default"], "20");
    assert_eq!(
        (
            depth["min"].clone(),
            depth["max"].clone(),
            depth["step"].clone()
        ),
        (json!(1), json!(200), json!(1))
    );
    let act = vanishing.iter().find(|c| c["key"] == "activation").unwrap();
    assert_eq!(act["type"], "choice");
    assert_eq!(
        act["choices"],
        json!([
            "sigmoid",
            "tanh",
            "relu",
            "leaky-relu",
            "elu",
            "gelu",
            "selu",
            "linear"
        ])
    );
    let bn = vanishing.iter().find(|c| c["key"] == "bn").unwrap();
    assert_eq!(
        (bn["type"].clone(), bn["default"].clone()),
        (json!("bool"), json!("false"))
    );
    // What an experiment fixes is no control of it; recurrent-only settings only in `recurrent`.
    assert!(!keys("activations").contains(&"activation".to_string()));
    assert!(!keys("vanishing").contains(&"seq-len".to_string()));
    assert!(keys("recurrent").contains(&"seq-len".to_string()));
    // Every control is a flag `demo NAME --help` lists for that experiment.
    let help = common::stdout(common::gradtutor_at(&progress).args(["demo", "--help"]));
    for c in &vanishing {
        assert!(help.contains(c["flag"].as_str().unwrap()), "{c}");
    }
}

#[test]
fn questions_are_served_as_the_handout_shows_them() {
    let (_dir, progress) = progress_file();
    let lab = Lab::start(&progress, &[]);
    let list = lab.get("/api/questions").json();
    let qs = list["questions"].as_array().unwrap();
    assert_eq!(qs.len(), common::bank_size());
    assert_eq!(
        qs[0],
        json!({"id": 1, "slug": "vanishing-gradients", "experiment": "vanishing",
               "title": "The vanishing gradient problem and how it slows training"})
    );
    // By id and by slug, the same; the text exactly as the HTML handout has it.
    let q = lab.get("/api/questions/3").json();
    assert_eq!(lab.get("/api/questions/saturating-activations").json(), q);
    assert_eq!(q["slug"], "saturating-activations");
    assert_eq!(q["experiment"]["name"], "activations");
    let handout =
        common::stdout(common::gradtutor_at(&progress).args(["export", "--format", "html"]));
    let html = q["html"].as_str().unwrap();
    assert!(html.starts_with("<p class=\"asked\">"), "{html}");
    assert!(
        handout.contains(html),
        "the handout has no section with\n{html}"
    );
    let item = &q["quiz"][0];
    assert_eq!(item["item"], 1);
    assert_eq!(item["kind"], "choice");
    assert_eq!(item["options"][0]["key"], "a");
    // A question with a training comparison has its settings, flag names without `--`.
    let with_train = qs
        .iter()
        .map(|q| lab.get(&format!("/api/questions/{}", q["id"])).json())
        .find(|q| !q["train"].is_null())
        .expect("some question has a training comparison");
    assert!(with_train["train"]["settings"].is_object());
    // Unknown ids and slugs: 404 with `ask`'s message.
    for key in ["99", "vanish"] {
        let want = cli_message(&common::stderr_of_failure(
            common::gradtutor_at(&progress).args(["ask", key, "--no-demo"]),
        ));
        assert_eq!(
            lab.get(&format!("/api/questions/{key}")).error(404),
            want,
            "{key}"
        );
    }
}

#[test]
fn quiz_answers_are_graded_and_recorded_as_quiz_does() {
    let (_dir, progress) = progress_file();
    let lab = Lab::start(&progress, &[]);
    let q = lab.get("/api/questions/3").json();
    assert_eq!(q["quiz"][0]["kind"], "choice");
    let first = lab.post(
        "/api/quiz/answer",
        &json!({"question": 3, "item": 1, "answer": "a"}),
    );
    assert_eq!(first.status, 200, "{}", first.text());
    let first = first.json();
    let key = first["key"].as_str().unwrap().to_string();
    let wrong = ["a", "b", "c"].into_iter().find(|l| *l != key).unwrap();
    let right = lab
        .post(
            "/api/quiz/answer",
            &json!({"question": "saturating-activations", "item": 1, "answer": key}),
        )
        .json();
    assert_eq!(right["correct"], true);
    assert_eq!(right["recorded"], true);
    let missed = lab
        .post(
            "/api/quiz/answer",
            &json!({"question": 3, "item": 1, "answer": wrong}),
        )
        .json();
    assert_eq!(missed["correct"], false);
    // The feedback is quiz's: the same text `quiz --answers` prints for the same answer.
    let printed = common::stdout(common::gradtutor_at(&progress).args([
        "quiz",
        "--question",
        "3",
        "--count",
        "1",
        "--answers",
        wrong,
    ]));
    let feedback = missed["feedback"].as_str().unwrap();
    assert!(
        feedback.starts_with(&format!("Not quite. ({wrong})")),
        "{feedback}"
    );
    let words = |t: &str| t.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        words(&printed).contains(&words(feedback)),
        "{printed}\n---\n{feedback}"
    );
    // Recorded in the progress file: `progress --json` sees the three answers and the quiz.
    let report: Value = serde_json::from_str(&common::stdout(
        common::gradtutor_at(&progress).args(["progress", "--json"]),
    ))
    .unwrap();
    let q3 = report["questions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["slug"] == "saturating-activations")
        .unwrap();
    let right_answers = 1 + usize::from(first["correct"] == true);
    assert_eq!(q3["asked"], 4);
    assert_eq!(q3["right"], right_answers);
    assert_eq!(report["quizzes"].as_array().unwrap().len(), 4);
    // Bad answers: 400 or 404 with what is wrong, nothing recorded.
    let e = lab
        .post(
            "/api/quiz/answer",
            &json!({"question": 3, "item": 1, "answer": "z"}),
        )
        .error(400);
    assert!(e.contains('z'), "{e}");
    let e = lab
        .post(
            "/api/quiz/answer",
            &json!({"question": 3, "item": 99, "answer": "a"}),
        )
        .error(404);
    assert!(e.starts_with("question 3 has no item 99"), "{e}");
    let e = lab
        .post(
            "/api/quiz/answer",
            &json!({"question": 99, "item": 1, "answer": "a"}),
        )
        .error(404);
    assert!(e.starts_with("there is no question 99"), "{e}");
    lab.post("/api/quiz/answer", &json!({"item": 1})).error(400);
    let report: Value = serde_json::from_str(&common::stdout(
        common::gradtutor_at(&progress).args(["progress", "--json"]),
    ))
    .unwrap();
    assert_eq!(report["quizzes"].as_array().unwrap().len(), 4);
}

#[test]
fn a_numeric_item_is_graded_against_its_run() {
    let (_dir, progress) = progress_file();
    let lab = Lab::start(&progress, &[]);
    let qs = lab.get("/api/questions").json();
    let (id, item) = qs["questions"]
        .as_array()
        .unwrap()
        .iter()
        .find_map(|q| {
            let full = lab.get(&format!("/api/questions/{}", q["id"])).json();
            let item = full["quiz"]
                .as_array()?
                .iter()
                .find(|i| i["kind"] == "number" && full["train"].is_null())?
                .clone();
            Some((q["id"].clone(), item))
        })
        .expect("a numeric item measured by an experiment");
    assert!(
        item["command"]
            .as_str()
            .unwrap()
            .starts_with("gradtutor demo ")
    );
    let first = lab
        .post(
            "/api/quiz/answer",
            &json!({"question": id, "item": item["item"], "answer": -1e9}),
        )
        .json();
    assert_eq!(first["correct"], false);
    let measured = first["key"].as_str().unwrap().replace('−', "-");
    let right = lab
        .post(
            "/api/quiz/answer",
            &json!({"question": id, "item": item["item"], "answer": measured}),
        )
        .json();
    assert_eq!(right["correct"], true, "{right}");
    assert!(
        right["feedback"]
            .as_str()
            .unwrap()
            .starts_with("Right: the run measured")
    );
}

#[test]
fn bodies_over_64_kib_are_refused() {
    let (_dir, progress) = progress_file();
    let lab = Lab::start(&progress, &[]);
    let big = json!({"question": 3, "item": 1, "answer": "a".repeat(70 << 10)});
    let a = lab.post("/api/quiz/answer", &big);
    assert_eq!(a.error(413), "the request body is larger than 64 KiB");
    assert_eq!(a.header("content-security-policy"), Some(CSP));
    // Just under the cap is read (and refused for what it says).
    let near = json!({"question": 3, "item": 1, "answer": "a".repeat(60 << 10)});
    assert_eq!(lab.post("/api/quiz/answer", &near).status, 400);
}

#[test]
fn a_stalled_client_does_not_hold_up_the_others() {
    let (_dir, progress) = progress_file();
    let lab = Lab::start(&progress, &[]);
    // Half a request, never finished, on each of several connections.
    let stalled: Vec<TcpStream> = (0..8)
        .map(|_| {
            let mut s = TcpStream::connect(&lab.addr).unwrap();
            s.write_all(b"GET /api/demos HTTP/1.1\r\nHost: x\r\n")
                .unwrap();
            s
        })
        .collect();
    assert_eq!(lab.get("/api/questions").status, 200);
    drop(stalled);
}

#[test]
fn a_questions_only_bank_is_served() {
    let (dir, progress) = progress_file();
    let bank = dir.path().join("bank");
    std::fs::create_dir(&bank).unwrap();
    let source =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("questions/03-saturating-activations.toml");
    std::fs::copy(&source, bank.join("03.toml")).unwrap();
    let lab = Lab::start(&progress, &["--questions-only", bank.to_str().unwrap()]);
    let qs = lab.get("/api/questions").json();
    assert_eq!(qs["questions"].as_array().unwrap().len(), 1);
    assert_eq!(qs["questions"][0]["slug"], "saturating-activations");
    let e = lab.get("/api/questions/1").error(404);
    assert_eq!(
        e,
        "there is no question 1; this bank has ids 3. Run `gradtutor list` to see them."
    );
    assert_eq!(lab.get("/api/questions/3").status, 200);
}

/// Linux and the BSDs open a browser with xdg-open (macOS with open, Windows with start).
#[cfg(all(unix, not(target_os = "macos")))]
#[test]
fn a_browser_that_cannot_open_is_a_warning() {
    let (dir, progress) = progress_file();
    let empty = dir.path().join("no-programs");
    std::fs::create_dir(&empty).unwrap();
    let mut lab = Lab::start_with(&progress, &[], |cmd| {
        cmd.arg("--open").env("PATH", &empty).stderr(Stdio::piped());
    });
    // The lab serves on.
    assert_eq!(lab.get("/api/questions").status, 200);
    lab.child.kill().unwrap();
    let mut stderr = String::new();
    lab.child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert!(
        stderr.starts_with("warning: cannot open a browser with xdg-open; open http://127.0.0.1:"),
        "{stderr}"
    );
}

#[test]
fn an_answer_that_cannot_be_recorded_is_still_graded() {
    let (dir, _) = progress_file();
    // A folder where the progress file should be: nothing can be written there.
    let lab = Lab::start(dir.path(), &[]);
    let a = lab
        .post(
            "/api/quiz/answer",
            &json!({"question": 3, "item": 1, "answer": "a"}),
        )
        .json();
    assert_eq!(a["recorded"], false);
    assert!(a["correct"].is_boolean());
}

/// The frames of a training run's event stream (`GET /api/train/ID/events`), read until
/// `enough` says so or the lab closes the stream (the run ended).
fn frames(lab: &Lab, id: &str, enough: impl Fn(&[Value]) -> bool) -> Vec<Value> {
    let mut s = TcpStream::connect(&lab.addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(120))).unwrap();
    let head = format!(
        "GET /api/train/{id}/events HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
        lab.addr
    );
    s.write_all(head.as_bytes()).unwrap();
    let mut reader = BufReader::new(s);
    let mut line = String::new();
    reader.read_line(&mut line).unwrap();
    assert!(line.starts_with("HTTP/1.1 200"), "{line}");
    let mut headers = Vec::new();
    loop {
        line.clear();
        reader.read_line(&mut line).unwrap();
        if line.trim_end().is_empty() {
            break;
        }
        headers.push(line.trim_end().to_ascii_lowercase());
    }
    assert!(
        headers
            .iter()
            .any(|h| h.starts_with("content-type: text/event-stream")),
        "{headers:?}"
    );
    let mut out = Vec::new();
    let mut event = String::new();
    loop {
        line.clear();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return out;
        }
        let l = line.trim_end();
        if let Some(e) = l.strip_prefix("event: ") {
            event = e.to_string();
        } else if let Some(data) = l.strip_prefix("data: ")
            && event == "frame"
        {
            out.push(serde_json::from_str(data).unwrap());
            if enough(&out) {
                return out;
            }
        }
    }
}

/// Every `[step, loss]` of `frames`, in order.
fn losses(frames: &[Value]) -> Vec<(u64, f64)> {
    frames
        .iter()
        .flat_map(|f| f["losses"].as_array().unwrap().clone())
        .map(|p| (p[0].as_u64().unwrap(), p[1].as_f64().unwrap()))
        .collect()
}

#[test]
fn a_live_run_streams_the_losses_train_prints() {
    let (_dir, progress) = progress_file();
    let lab = Lab::start(&progress, &[]);
    let settings = json!({
        "activation": "tanh", "depth": 3, "width": 16, "steps": 150, "dataset": "circles",
        "clip-norm": 1, "seed": 7
    });
    let a = lab.post("/api/train?page=one", &settings);
    assert_eq!(a.status, 200, "{}", a.text());
    let id = a.json()["id"].as_str().unwrap().to_string();
    let frames = frames(&lab, &id, |_| false);
    let cli = common::stdout(common::gradtutor_at(&progress).args([
        "train",
        "--activation",
        "tanh",
        "--depth",
        "3",
        "--width",
        "16",
        "--steps",
        "150",
        "--dataset",
        "circles",
        "--clip-norm",
        "1",
        "--seed",
        "7",
        "--json",
    ]));
    let report: Value = serde_json::from_str(&cli).unwrap();
    let want: Vec<f64> = report["runs"][0]["losses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    let got = losses(&frames);
    assert_eq!(
        got.iter().map(|p| p.0).collect::<Vec<_>>(),
        (1..=150).collect::<Vec<u64>>(),
        "every step once, in order"
    );
    assert_eq!(got.iter().map(|p| p.1).collect::<Vec<_>>(), want);
    // The first frame is the state before training; the last, the finish with its
    // evaluation, which is train's final checkpoint.
    let (first, last) = (&frames[0], frames.last().unwrap());
    assert_eq!(
        (first["step"].as_u64(), first["state"].as_str()),
        (Some(0), Some("running"))
    );
    let initial = &report["runs"][0]["initial"];
    assert_eq!(first["eval"]["train"], initial["train"]);
    assert_eq!(first["eval"]["test"], initial["test"]);
    assert_eq!(last["state"], "finished");
    assert_eq!(last["step"], 150);
    let checkpoint = report["runs"][0]["checkpoints"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(last["eval"]["train"], checkpoint["train"]);
    assert_eq!(last["eval"]["test"], checkpoint["test"]);
    assert_eq!(
        last["grad_norms"], checkpoint["grad_norms"],
        "pre-clip ‖∂L/∂W‖ of step 150"
    );
    assert_eq!(last["settings"]["clip-norm"], 1.0);
    let boundary = &last["boundary"];
    assert_eq!(boundary["n"], 40);
    assert_eq!(boundary["cells"].as_array().unwrap().len(), 1600);
    assert_eq!(boundary["points"].as_array().unwrap().len(), 750);
    assert_eq!(last["hist"]["pre"].as_array().unwrap().len(), 3);
    // A stream opened after the finish replays the kept frames and ends.
    assert_eq!(losses(&frames_of(&lab, &id)).len(), 150);
}

fn frames_of(lab: &Lab, id: &str) -> Vec<Value> {
    frames(lab, id, |_| false)
}

#[test]
fn a_live_run_pauses_steps_resumes_and_takes_new_settings() {
    let (_dir, progress) = progress_file();
    let lab = Lab::start(&progress, &[]);
    let start = json!({"activation": "relu", "depth": 2, "width": 8, "steps": 1000000});
    let id = lab.post("/api/train?page=p", &start).json()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let control = |body: Value| lab.post(&format!("/api/train/{id}/control"), &body);
    let a = control(json!({"action": "pause"}));
    assert_eq!(a.status, 200, "{}", a.text());
    assert_eq!(a.json()["state"], "paused");
    let k = a.json()["step"].as_u64().unwrap();
    // Paused, it stays put; each step is one step.
    std::thread::sleep(Duration::from_millis(200));
    let a = control(json!({"action": "step"}));
    assert_eq!(a.json(), json!({"state": "paused", "step": k + 1}));
    let a = control(json!({"action": "step"}));
    assert_eq!(a.json(), json!({"state": "paused", "step": k + 2}));
    let a = control(json!({"set": {"lr": 0.003, "optimizer": "adam"}}));
    assert_eq!(a.json(), json!({"state": "paused", "step": k + 2}));
    // The change shows in the frames, marked at the step that first uses it.
    let seen = frames(&lab, &id, |f| {
        f.last()
            .is_some_and(|f| f["changes"].as_array().is_some_and(|c| !c.is_empty()))
    });
    let last = seen.last().unwrap();
    assert_eq!(
        last["changes"],
        json!([{"step": k + 3, "set": {"lr": 0.003, "optimizer": "adam"}, "note": "optimizer state reset"}])
    );
    assert_eq!(last["settings"]["lr"], 0.003);
    assert_eq!(last["settings"]["optimizer"], "adam");
    assert_eq!(last["state"], "paused");
    // Bad settings: the CLI's message; the run is unchanged.
    assert_eq!(
        control(json!({"set": {"lr": 0}})).error(400),
        "--lr must be a positive number (got 0)"
    );
    assert!(
        control(json!({"action": "jump"}))
            .error(400)
            .starts_with("unknown action 'jump'")
    );
    let a = control(json!({"action": "resume"}));
    assert_eq!(a.json()["state"], "running");
    let later = frames(&lab, &id, |f| {
        f.last()
            .and_then(|f| f["step"].as_u64())
            .is_some_and(|s| s > k + 10)
    });
    assert_eq!(later.last().unwrap()["state"], "running");
    // A newer run of the same page stops this one.
    let other = lab.post(
        "/api/train?page=p",
        &json!({"activation": "relu", "depth": 2}),
    );
    assert_eq!(other.status, 200);
    assert_ne!(other.json()["id"].as_str().unwrap(), id);
    let ended = frames_of(&lab, &id);
    assert_eq!(ended.last().unwrap()["state"], "stopped");
    assert_eq!(
        control(json!({"action": "resume"})).error(409),
        format!("training run {id} has been stopped; start a new one")
    );
    assert!(
        lab.get("/api/train/999/events")
            .error(404)
            .contains("no training run 999")
    );
}

#[test]
fn bad_training_settings_get_the_command_lines_message() {
    let (_dir, progress) = progress_file();
    let lab = Lab::start(&progress, &[]);
    let fails =
        |args: &[&str]| common::stderr_of_failure(common::gradtutor_at(&progress).args(args));
    let post = |body: Value| lab.post("/api/train?page=x", &body).error(400);
    let want = clap_message(&fails(&["train", "--optimizer", "rmsprop"]));
    assert_eq!(
        post(json!({"activation": "relu", "optimizer": "rmsprop"})),
        want
    );
    let want = clap_message(&fails(&["train", "--depth", "-2"]));
    assert_eq!(post(json!({"activation": "relu", "depth": -2})), want);
    let want = cli_message(&fails(&["train", "--activation", "relu", "--lr", "-1"]));
    assert_eq!(post(json!({"activation": "relu", "lr": -1})), want);
    let want = cli_message(&fails(&[
        "train",
        "--activation",
        "relu",
        "--batch",
        "5000",
    ]));
    assert_eq!(post(json!({"activation": "relu", "batch": 5000})), want);
    // One configuration per live run.
    assert!(
        post(json!({"depth": 3}))
            .starts_with("a live run trains one configuration, and these settings compare 4"),
    );
    assert_eq!(
        lab.post("/api/train", &json!([1])).error(400),
        "the body must be a JSON object of train's settings, e.g. {\"depth\": 10}"
    );
}

#[test]
fn the_training_controls_come_from_trains_flags() {
    let (_dir, progress) = progress_file();
    let lab = Lab::start(&progress, &[]);
    let a = lab.get("/api/train/controls");
    assert_eq!(a.status, 200);
    let v = a.json();
    assert_eq!(
        v["live"],
        json!(["lr", "optimizer", "clip-norm", "precision"])
    );
    let controls = v["controls"].as_array().unwrap();
    let find = |k: &str| controls.iter().find(|c| c["key"] == k).unwrap().clone();
    let keys: Vec<&str> = controls
        .iter()
        .map(|c| c["key"].as_str().unwrap())
        .collect();
    let help = common::stdout(common::gradtutor_at(&progress).args(["train", "--help"]));
    for k in &keys {
        assert!(
            help.contains(&format!("--{k} ")),
            "--{k} is a flag of train"
        );
    }
    assert_eq!(keys.len(), 20);
    let precision = find("precision");
    assert_eq!(precision["type"], "choice");
    assert_eq!(precision["choices"], json!(["f32", "f64", "f16", "bf16"]));
    assert_eq!(precision["live"], true);
    let depth = find("depth");
    assert_eq!(
        (
            depth["type"].as_str(),
            depth["default"].as_str(),
            depth["flag"].as_str()
        ),
        (Some("int"), Some("10"), Some("--depth"))
    );
    assert_eq!(find("lr")["type"], "float");
    assert_eq!(find("bn")["type"], "bool");
    assert_eq!(
        find("optimizer")["choices"],
        json!(["sgd", "momentum", "adam"])
    );
}

/// A live run too large to keep frames coming is refused before it starts, with its estimate;
/// a bad setting is reported as train reports it, before the one-network rule.
#[test]
fn a_live_run_too_large_for_its_frames_is_refused() {
    let (_dir, progress) = progress_file();
    let lab = Lab::start(&progress, &[]);
    let big = json!({"activation": "relu", "depth": 50, "width": 512, "batch": 512});
    let e = lab.post("/api/train?page=big", &big).error(400);
    assert!(
        e.starts_with("a training step of this network would take about 4.94 s here"),
        "{e}"
    );
    assert_eq!(
        lab.post("/api/train?page=lr", &json!({"lr": -1}))
            .error(400),
        "--lr must be a positive number (got -1)"
    );
}

/// The lab's demo load (`GET /api/load`), waited on until `ready` holds of it: a wait that
/// returns as soon as the server is there, not a timing.
fn until_load(lab: &Lab, ready: impl Fn(&Value) -> bool) -> Value {
    let start = std::time::Instant::now();
    loop {
        let load = lab.get("/api/load").json();
        if ready(&load) {
            return load;
        }
        assert!(start.elapsed().as_secs() < 300, "never ready: {load}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// A run that keeps the lab's one worker (`--threads 1`) busy for a while (about 2 s here),
/// well under the time budget; `demo vanishing` with these flags is what it answers.
const HOLD: &str = "/api/demo/vanishing?depth=50&width=512&batch=256";

/// `demo vanishing --depth D --json`'s stdout, the run through the lab's queue should equal.
fn cli_json(progress: &Path, depth: usize) -> String {
    common::stdout(common::gradtutor_at(progress).args([
        "demo",
        "vanishing",
        "--depth",
        &depth.to_string(),
        "--json",
    ]))
}

#[test]
fn a_burst_past_the_workers_and_the_queue_is_shed_with_503() {
    let (_dir, progress) = progress_file();
    let lab = Lab::start(&progress, &["--threads", "1"]);
    let load = lab.get("/api/load").json();
    assert_eq!(
        load,
        json!({"workers": 1, "queue": 8, "running": 0, "queued": 0, "cached": 0})
    );
    std::thread::scope(|scope| {
        let held = scope.spawn(|| lab.get(HOLD));
        until_load(&lab, |l| l["running"] == 1);
        // 16 distinct settings at once, for one worker (busy) and 8 places in the queue.
        let burst: Vec<_> = (0..16)
            .map(|i| {
                let lab = &lab;
                scope.spawn(move || {
                    (
                        i + 2,
                        lab.get(&format!("/api/demo/vanishing?depth={}", i + 2)),
                    )
                })
            })
            .collect();
        let answers: Vec<(usize, Answer)> = burst.into_iter().map(|h| h.join().unwrap()).collect();
        let busy: Vec<&Answer> = answers
            .iter()
            .map(|(_, a)| a)
            .filter(|a| a.status == 503)
            .collect();
        assert!(!busy.is_empty(), "no request was refused");
        for a in busy {
            assert_eq!(a.error(503), "the lab is busy; try again in a moment");
            assert_eq!(a.header("retry-after"), Some("1"));
        }
        let ran: Vec<&(usize, Answer)> = answers.iter().filter(|(_, a)| a.status != 503).collect();
        assert!(!ran.is_empty(), "every request was refused");
        for (depth, a) in ran {
            assert_eq!(a.status, 200, "depth {depth}: {}", a.text());
            assert_eq!(a.text(), cli_json(&progress, *depth), "depth {depth}");
        }
        assert_eq!(held.join().unwrap().status, 200);
    });
}

#[test]
fn a_pages_newer_demo_request_drops_its_older_waiting_one() {
    let (_dir, progress) = progress_file();
    let lab = Lab::start(&progress, &["--threads", "1"]);
    std::thread::scope(|scope| {
        let held = scope.spawn(|| lab.get(HOLD));
        until_load(&lab, |l| l["running"] == 1);
        // A lab page (`page=`) and a class page (`token=`), each asking twice.
        let older = scope.spawn(|| lab.get("/api/demo/vanishing?depth=3&page=p1"));
        until_load(&lab, |l| l["queued"] == 1);
        let student = scope.spawn(|| lab.get("/api/demo/vanishing/chart.svg?token=t1&depth=5"));
        until_load(&lab, |l| l["queued"] == 2);
        let newer = scope.spawn(|| lab.get("/api/demo/vanishing?depth=4&page=p1"));
        let a = older.join().unwrap();
        assert_eq!(a.error(409), "superseded by a newer request");
        let newer_student = scope.spawn(|| lab.get("/api/demo/vanishing?token=t1&depth=6"));
        let a = student.join().unwrap();
        assert_eq!(a.error(409), "superseded by a newer request");
        // The newer ones run once the worker is free, and the token is no setting.
        assert_eq!(newer.join().unwrap().text(), cli_json(&progress, 4));
        assert_eq!(newer_student.join().unwrap().text(), cli_json(&progress, 6));
        assert_eq!(held.join().unwrap().status, 200);
    });
    // The dropped runs never ran: the cache holds the held run and the two newer ones.
    assert_eq!(lab.get("/api/load").json()["cached"], 3);
}

#[test]
fn a_query_key_alone_is_its_flag_alone_and_an_unknown_key_gets_claps_message() {
    let (_dir, progress) = progress_file();
    let lab = Lab::start(&progress, &[]);
    // `?bn` as `--bn` alone (issue 24's tester: it was refused).
    let a = lab.get("/api/demo/vanishing?depth=3&bn");
    assert_eq!(a.status, 200, "{}", a.text());
    let cli = common::stdout(common::gradtutor_at(&progress).args([
        "demo",
        "vanishing",
        "--depth",
        "3",
        "--bn",
        "--json",
    ]));
    assert_eq!(a.text(), cli);
    // A key alone that needs a value: clap's message for the flag alone.
    let fails =
        |args: &[&str]| common::stderr_of_failure(common::gradtutor_at(&progress).args(args));
    let want = clap_message(&fails(&["demo", "vanishing", "--json", "--depth"]));
    assert_eq!(lab.get("/api/demo/vanishing?depth").error(400), want);
    // An unknown key: clap's own message, as `--foo` gets it.
    let want = clap_message(&fails(&["demo", "vanishing", "--json", "--foo"]));
    assert!(want.contains("'--foo'"), "{want}");
    assert_eq!(lab.get("/api/demo/vanishing?foo=1").error(400), want);
}

#[test]
fn a_training_run_without_its_pages_token_is_refused() {
    let (_dir, progress) = progress_file();
    let lab = Lab::start(&progress, &[]);
    for path in ["/api/train", "/api/train?page=", "/api/train?other=1"] {
        let e = lab
            .post(path, &json!({"activation": "relu", "depth": 2}))
            .error(400);
        assert!(
            e.starts_with("give the page's token: POST /api/train?page=TOKEN"),
            "{path}: {e}"
        );
    }
    let a = lab.post(
        "/api/train?page=p",
        &json!({"activation": "relu", "depth": 2, "steps": 5}),
    );
    assert_eq!(a.status, 200, "{}", a.text());
}

/// Catches: a quiz answer's body error naming Rust's types (serde's "data did not match any
/// variant of untagged enum IdOrSlug") instead of what the field takes.
#[test]
fn a_bad_question_or_answer_in_a_body_is_named_by_what_it_takes() {
    let (_dir, progress) = progress_file();
    let lab = Lab::start(&progress, &[]);
    for (body, says) in [
        (
            json!({"question": true, "item": 1, "answer": "a"}),
            "invalid type: boolean `true`, expected a question's id (a whole number) or slug (text)",
        ),
        (
            json!({"question": 2.5, "item": 1, "answer": "a"}),
            "invalid value: floating point `2.5`, expected a question's id (a whole number) or slug (text)",
        ),
        (
            json!({"question": 3, "item": 1, "answer": ["a"]}),
            "invalid type: sequence, expected an option's letter (text) or a number",
        ),
    ] {
        let a = lab.post("/api/quiz/answer", &body);
        assert_eq!(a.status, 400, "{}", a.text());
        let e = a.json()["error"].as_str().unwrap().to_string();
        assert!(e.contains(says), "{body}: {e}");
    }
    // A number is still an id, and a numeric answer still a number.
    let a = lab.post(
        "/api/quiz/answer",
        &json!({"question": 3, "item": 1, "answer": "a"}),
    );
    assert_eq!(a.status, 200, "{}", a.text());
}
