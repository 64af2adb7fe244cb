//! The lab in a real browser: headless Chromium driven over the DevTools protocol
//! (`browser/cdp.rs`). First the driver itself against a page this file serves; then the lab
//! (`gradtutor serve`) through the page hooks of LAB-API.md.
//!
//! Chromium is Debian's `chromium` (`.ci/run` installs it). Without it these tests fail
//! saying so; `GRADTUTOR_SKIP_BROWSER=1` turns that into a printed skip note.

pub(super) mod cdp;

use cdp::{Browser, png_size};
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// A one-page HTTP server on 127.0.0.1 (ephemeral port) that answers every GET with `html`,
/// until dropped.
struct FixtureServer {
    url: String,
    stop: Arc<AtomicBool>,
}

impl FixtureServer {
    fn start(html: &'static str) -> FixtureServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/", listener.local_addr().unwrap());
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = Arc::clone(&stop);
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if stopped.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(mut conn) = conn else { continue };
                let mut reader = BufReader::new(conn.try_clone().unwrap());
                let mut line = String::new();
                while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                    line.clear();
                }
                let _ = write!(
                    conn,
                    "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n\
                     Content-Length: {}\r\nConnection: close\r\n\r\n{html}",
                    html.len()
                );
            }
        });
        FixtureServer { url, stop }
    }
}

impl Drop for FixtureServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.url.trim_start_matches("http://").trim_end_matches('/'));
    }
}

/// A stand-in for the lab's demo view with the same hooks: a depth slider in
/// `form#controls`, a chart of `depth` bars in `#demo-chart`, `table#demo-table[data-depth]`,
/// and after each redraw `body.dataset.renders` + 1 and an `{input, drawn}` in `labTimings`.
const FIXTURE: &str = r##"<!doctype html><html><head><meta charset="utf-8"><title>fixture</title></head>
<body data-renders="0" style="margin:0;background:#fff">
<form id="controls"><label>depth <input type="range" name="depth" min="1" max="50" value="20"></label></form>
<div id="demo-chart"></div><table id="demo-table"></table>
<script>
window.labTimings = [];
function draw(t0) {
  const depth = +document.querySelector('[name=depth]').value;
  let bars = '';
  for (let i = 0; i < depth; i++) bars += `<rect x="${i * 20}" y="0" width="15" height="${10 + 5 * i}" fill="#0072b2"/>`;
  document.getElementById('demo-chart').innerHTML = `<svg width="1000" height="300">${bars}</svg>`;
  const table = document.getElementById('demo-table');
  table.dataset.depth = depth;
  table.innerHTML = Array.from({length: depth}, (_, i) => `<tr><td>${i + 1}</td></tr>`).join('');
  document.body.dataset.renders = +document.body.dataset.renders + 1;
  window.labTimings.push({input: t0, drawn: performance.now()});
}
document.querySelector('[name=depth]').addEventListener('input', e => {
  const t0 = performance.now();
  setTimeout(() => draw(t0), 5);
});
draw(performance.now());
</script></body></html>"##;

/// Sets the form control `selector` to `value` as a user's edit arrives: the value, then an
/// `input` and a `change` event that bubble.
pub(super) fn set_control(b: &mut Browser, selector: &str, value: &str) -> Result<(), String> {
    let expr = format!(
        "(() => {{ const el = document.querySelector({selector:?});
           if (!el) throw new Error('no element ' + {selector:?});
           el.focus(); el.value = {value:?};
           el.dispatchEvent(new Event('input', {{bubbles: true}}));
           el.dispatchEvent(new Event('change', {{bubbles: true}}));
           return el.value; }})()"
    );
    let v = b.eval(&expr)?;
    if v.as_str() != Some(value) {
        return Err(format!("{selector} took {v}, not {value}"));
    }
    Ok(())
}

/// How many redraws the page has counted (`document.body.dataset.renders`).
pub(super) fn renders(b: &mut Browser) -> u64 {
    let v = b.eval("+(document.body.dataset.renders || 0)").unwrap();
    v.as_u64().unwrap_or_else(|| panic!("renders is {v}"))
}

/// Waits until the page has counted more than `n` redraws.
pub(super) fn wait_renders_above(b: &mut Browser, n: u64) {
    let cond = format!("+(document.body.dataset.renders || 0) > {n}");
    b.wait_for(&cond, &format!("a redraw after render {n}"), 60)
        .unwrap();
}

#[test]
fn driver_navigates_types_evaluates_and_screenshots() {
    let Some(mut b) = Browser::launch("driver_navigates_types_evaluates_and_screenshots") else {
        return;
    };
    let server = FixtureServer::start(FIXTURE);
    b.navigate(&server.url).unwrap();
    assert_eq!(b.eval("document.title").unwrap(), "fixture");
    assert_eq!(b.eval("1 + 2").unwrap(), 3);
    assert_eq!(
        b.eval("Promise.resolve({a: [1, 'x']})").unwrap(),
        serde_json::json!({"a": [1, "x"]})
    );
    let err = b.eval("(() => { throw new Error('boom') })()").unwrap_err();
    assert!(err.contains("boom"), "{err}");
    let err = b.wait_for("false", "never", 1).unwrap_err();
    assert!(
        err.contains("timed out after 1 s waiting for: never"),
        "{err}"
    );

    b.wait_for("document.body.dataset.renders === '1'", "first draw", 30)
        .unwrap();
    let svg_before = b
        .eval("document.querySelector('#demo-chart svg').outerHTML")
        .unwrap();

    // The keyboard: focus the slider, one ArrowRight moves it a step (20 → 21).
    b.eval("document.querySelector('[name=depth]').focus()")
        .unwrap();
    b.press("ArrowRight", 39).unwrap();
    wait_renders_above(&mut b, 1);
    assert_eq!(
        b.eval("document.querySelector('table#demo-table').dataset.depth")
            .unwrap(),
        "21"
    );

    // A value set as an edit arrives.
    set_control(&mut b, "[name=depth]", "7").unwrap();
    wait_renders_above(&mut b, 2);
    assert_eq!(renders(&mut b), 3);
    assert_eq!(
        b.eval("document.querySelector('table#demo-table').dataset.depth")
            .unwrap(),
        "7"
    );
    assert_eq!(
        b.eval("document.querySelectorAll('#demo-chart svg rect').length")
            .unwrap(),
        7
    );
    let svg_after = b
        .eval("document.querySelector('#demo-chart svg').outerHTML")
        .unwrap();
    assert_ne!(svg_before, svg_after);
    let timings = b
        .eval("window.labTimings.map(t => t.drawn >= t.input)")
        .unwrap();
    assert_eq!(timings, serde_json::json!([true, true, true]));

    let png = b.screenshot().unwrap();
    assert_eq!(png_size(&png), Some((1280, 800)));
    b.set_viewport(375, 700).unwrap();
    let png = b.screenshot().unwrap();
    assert_eq!(png_size(&png), Some((375, 700)));
}

#[test]
fn base64_decodes_as_rfc_4648() {
    assert_eq!(cdp::base64_decode("").unwrap(), b"");
    assert_eq!(cdp::base64_decode("Zg==").unwrap(), b"f");
    assert_eq!(cdp::base64_decode("Zm8=").unwrap(), b"fo");
    assert_eq!(cdp::base64_decode("Zm9v").unwrap(), b"foo");
    assert_eq!(cdp::base64_decode("Zm9vYmFy").unwrap(), b"foobar");
    assert_eq!(cdp::base64_decode("/+8A").unwrap(), [0xff, 0xef, 0]);
    assert!(cdp::base64_decode("Zm9v!").is_err());
}

// ---------------------------------------------------------------- the lab

/// `gradtutor serve --port 0` on 127.0.0.1, its progress file in a folder of its own; the
/// server is killed when this is dropped. `GRADTUTOR_LAB_BIN` names another binary (the
/// latency measurement runs a release build), else the tests' own debug build.
pub(super) struct Lab {
    child: std::process::Child,
    url: String,
    dir: tempfile::TempDir,
}

impl Lab {
    pub(super) fn start() -> Lab {
        let bin = std::env::var_os("GRADTUTOR_LAB_BIN")
            .map(std::path::PathBuf::from)
            .unwrap_or_else(|| env!("CARGO_BIN_EXE_gradtutor").into());
        let dir = tempfile::tempdir().unwrap();
        let mut child = std::process::Command::new(&bin)
            .args(["serve", "--port", "0"])
            .env_remove("GRADTUTOR_QUESTIONS")
            .env_remove("GRADTUTOR_MAX_MEMORY")
            .env_remove("GRADTUTOR_THREADS")
            .env_remove("MATMUL_NUM_THREADS")
            .env_remove("GRADTUTOR_SLOW_WRITE_MS")
            .env_remove("GRADTUTOR_LOCK_WAIT_MS")
            .env("GRADTUTOR_PROGRESS", dir.path().join("progress.json"))
            .env("COLUMNS", "80")
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("{}: {e}", bin.display()));
        let out = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(out).read_line(&mut line);
            let _ = tx.send(line);
        });
        let line = rx
            .recv_timeout(std::time::Duration::from_secs(60))
            .expect("gradtutor serve printed no URL in 60 s");
        let url = line
            .trim()
            .strip_prefix("gradtutor lab: ")
            .unwrap_or_else(|| panic!("gradtutor serve printed {line:?}"))
            .to_string();
        assert!(
            url.starts_with("http://127.0.0.1:") && url.ends_with('/'),
            "{url}"
        );
        Lab { child, url, dir }
    }

    /// The lab's page at hash route `route` (e.g. "#/demo/vanishing").
    fn page(&self, route: &str) -> String {
        format!("{}{route}", self.url)
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `document.querySelector(sel)[prop]` as JSON (`null` when there is no such element).
fn prop(b: &mut Browser, sel: &str, prop: &str) -> serde_json::Value {
    b.eval(&format!(
        "document.querySelector({sel:?})?.[{prop:?}] ?? null"
    ))
    .unwrap()
}

/// Loads the lab's page afresh at `route` (from `about:blank`, so that each view starts from
/// a page load, not from a hash change in a page still busy with its previous view).
pub(super) fn open(b: &mut Browser, lab: &Lab, route: &str) {
    b.navigate("about:blank").unwrap();
    b.navigate(&lab.page(route)).unwrap();
}

/// Opens the demo view of `vanishing` and waits for its first draw.
pub(super) fn open_demo(b: &mut Browser, lab: &Lab) {
    open(b, lab, "#/demo/vanishing");
    b.wait_for(
        "+(document.body.dataset.renders || 0) >= 1 && document.querySelector('table#demo-table')",
        "the first draw of #/demo/vanishing",
        120,
    )
    .unwrap();
}

const DEPTH: &str = "form#controls [name=depth]";
const TABLE_DEPTH: &str = "document.querySelector('table#demo-table').dataset.depth";
const SVG: &str = "document.querySelector('#demo-chart svg').outerHTML";

#[test]
fn lab_demo_redraws_at_the_depth_the_slider_sets() {
    let Some(mut b) = Browser::launch("lab_demo_redraws_at_the_depth_the_slider_sets") else {
        return;
    };
    let lab = Lab::start();
    open_demo(&mut b, &lab);
    assert_eq!(prop(&mut b, DEPTH, "type"), "range");
    // The slider shows the depth the experiment ran at.
    let start = b.eval(TABLE_DEPTH).unwrap();
    assert_eq!(prop(&mut b, DEPTH, "value"), start);
    let depth: u32 = start.as_str().unwrap().parse().unwrap();
    assert_eq!(prop(&mut b, "#demo-error", "textContent"), "");

    // From the keyboard: focus the slider, ArrowRight moves it one step.
    let svg0 = b.eval(SVG).unwrap();
    let n = renders(&mut b);
    b.eval(&format!("document.querySelector({DEPTH:?}).focus()"))
        .unwrap();
    b.press("ArrowRight", 39).unwrap();
    wait_renders_above(&mut b, n);
    let next = (depth + 1).to_string();
    assert_eq!(prop(&mut b, DEPTH, "value"), next.as_str());
    assert_eq!(b.eval(TABLE_DEPTH).unwrap(), next.as_str());
    let svg1 = b.eval(SVG).unwrap();
    assert_ne!(svg1, svg0, "the chart did not change with the depth");

    // A value typed in as an edit arrives (input, then change).
    let n = renders(&mut b);
    set_control(&mut b, DEPTH, "5").unwrap();
    wait_renders_above(&mut b, n);
    assert_eq!(b.eval(TABLE_DEPTH).unwrap(), "5");
    assert_ne!(b.eval(SVG).unwrap(), svg1);
    assert_eq!(prop(&mut b, "#demo-error", "textContent"), "");
}

/// Question 1's slug, and its first choice item: (item number from 1, right key, a wrong key).
fn question_one_choice_item() -> (String, usize, String, String) {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/questions");
    let file = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.file_name().unwrap().to_str().unwrap().starts_with("01-"))
        .expect("questions/01-*.toml");
    let q: toml::Value = toml::from_str(&std::fs::read_to_string(file).unwrap()).unwrap();
    let items = q["quiz"].as_array().unwrap();
    let k = items
        .iter()
        .position(|i| i.get("choices").is_some())
        .unwrap();
    let right = items[k]["answer"].as_str().unwrap().to_string();
    let wrong = if right == "a" { "b" } else { "a" }.to_string();
    (q["slug"].as_str().unwrap().to_string(), k + 1, right, wrong)
}

/// Chooses `key` in quiz item `item` with a click and submits it with a click; returns the
/// result's `data-correct` once the server has graded it.
fn answer(b: &mut Browser, item: usize, key: &str) -> serde_json::Value {
    let form = format!("form.quiz-item[data-item='{item}']");
    let expr = format!(
        "(() => {{ const f = document.querySelector({form:?});
           f.querySelector('.quiz-result').removeAttribute('data-correct');
           f.querySelector('input[name=answer][value={key}]').click();
           f.querySelector('button[type=submit], input[type=submit]').click();
           return true; }})()"
    );
    b.eval(&expr).unwrap();
    b.wait_for(
        &format!("document.querySelector({form:?} + ' .quiz-result')?.dataset.correct"),
        &format!("the grading of item {item}, answer {key}"),
        60,
    )
    .unwrap()
}

#[test]
fn lab_lesson_grades_a_quiz_answer_and_records_it() {
    let Some(mut b) = Browser::launch("lab_lesson_grades_a_quiz_answer_and_records_it") else {
        return;
    };
    let lab = Lab::start();
    let (slug, item, right, wrong) = question_one_choice_item();
    open(&mut b, &lab, "#/lesson/1");
    b.wait_for(
        &format!("document.querySelector(\"form.quiz-item[data-item='{item}']\")"),
        "lesson 1's quiz",
        120,
    )
    .unwrap();
    assert_eq!(answer(&mut b, item, &wrong), "false");
    assert_eq!(answer(&mut b, item, &right), "true");
    // Recorded as `quiz` records: in the progress file, both answers, in order.
    let text = std::fs::read_to_string(lab.dir.path().join("progress.json")).unwrap();
    let progress: serde_json::Value = serde_json::from_str(&text).unwrap();
    let recorded: Vec<(String, bool)> = progress["quizzes"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|a| a["items"].as_array().unwrap().clone())
        .map(|i| {
            (
                i["question"].as_str().unwrap().to_string(),
                i["correct"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(recorded, [(slug.clone(), false), (slug, true)]);
}

/// `#loss-chart`'s `data-points` (loss points drawn).
fn loss_points(b: &mut Browser) -> u64 {
    let v = b
        .eval("+document.querySelector('#loss-chart').dataset.points")
        .unwrap();
    v.as_u64().unwrap_or_else(|| panic!("data-points is {v}"))
}

fn click(b: &mut Browser, sel: &str) {
    b.eval(&format!(
        "(() => {{ const el = document.querySelector({sel:?});
           if (!el) throw new Error('no ' + {sel:?});
           if (el.disabled) throw new Error({sel:?} + ' is disabled');
           el.click(); return true; }})()"
    ))
    .unwrap();
}

#[test]
fn lab_training_run_draws_its_loss_curve_pauses_and_steps() {
    let Some(mut b) = Browser::launch("lab_training_run_draws_its_loss_curve_pauses_and_steps")
    else {
        return;
    };
    let lab = Lab::start();
    open(&mut b, &lab, "#/train");
    b.wait_for(
        "document.querySelector('#train-start') && document.querySelector('#loss-chart')",
        "the training view",
        120,
    )
    .unwrap();
    assert_eq!(loss_points(&mut b), 0);
    // Long enough to be caught running: paused long before its end.
    set_control(&mut b, "#train-form [name=steps]", "100000").unwrap();
    click(&mut b, "#train-start");
    b.wait_for(
        "+document.querySelector('#loss-chart').dataset.points > 0",
        "the first loss points",
        120,
    )
    .unwrap();
    let first = loss_points(&mut b);
    b.wait_for(
        &format!("+document.querySelector('#loss-chart').dataset.points > {first}"),
        "the loss curve to grow",
        120,
    )
    .unwrap();
    // Paused, a single step adds exactly one point.
    click(&mut b, "#train-pause");
    b.wait_for(
        "document.querySelector('#train-state').textContent === 'paused'",
        "the paused state",
        60,
    )
    .unwrap();
    // The pause's own frame may still be on its way: the curve settles.
    let mut paused = loss_points(&mut b);
    for _ in 0..50 {
        std::thread::sleep(std::time::Duration::from_millis(100));
        let now = loss_points(&mut b);
        if now == paused {
            break;
        }
        paused = now;
    }
    click(&mut b, "#train-step");
    b.wait_for(
        &format!("+document.querySelector('#loss-chart').dataset.points > {paused}"),
        "the single step's point",
        60,
    )
    .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert_eq!(loss_points(&mut b), paused + 1);
    assert_eq!(prop(&mut b, "#train-state", "textContent"), "paused");
    click(&mut b, "#train-resume");
    b.wait_for(
        &format!(
            "+document.querySelector('#loss-chart').dataset.points > {}",
            paused + 1
        ),
        "the curve to grow after resume",
        60,
    )
    .unwrap();
    click(&mut b, "#train-reset");
    b.wait_for(
        "document.querySelector('#train-state').textContent === 'idle'",
        "the idle state after reset",
        60,
    )
    .unwrap();
}

// ---------------------------------------------------------------- the live class

/// `gradtutor serve --class --bind 127.0.0.1:0 --session DIR/class.json`: its join URL,
/// code and instructor URL as printed; killed when dropped.
struct Room {
    child: std::process::Child,
    /// `http://127.0.0.1:PORT`, no slash.
    base: String,
    code: String,
    teach: String,
    dir: tempfile::TempDir,
}

impl Room {
    fn start() -> Room {
        let dir = tempfile::tempdir().unwrap();
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_gradtutor"))
            .args(["serve", "--class", "--bind", "127.0.0.1:0", "--session"])
            .arg(dir.path().join("class.json"))
            .env_remove("GRADTUTOR_QUESTIONS")
            .env_remove("GRADTUTOR_MAX_MEMORY")
            .env_remove("GRADTUTOR_THREADS")
            .env_remove("MATMUL_NUM_THREADS")
            .env("GRADTUTOR_PROGRESS", dir.path().join("progress.json"))
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::inherit())
            .spawn()
            .unwrap();
        let out = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        // Every line to the channel (the receiver stops listening once it has the URLs).
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let (mut join, mut teach) = (None, None);
        while teach.is_none() {
            let line = rx
                .recv_timeout(std::time::Duration::from_secs(60))
                .expect("serve --class printed no instructor URL in 60 s");
            if let Some(rest) = line.strip_prefix("gradtutor class: students join at ") {
                join = Some(rest.to_string());
            }
            if let Some(rest) = line.strip_prefix("instructor (keep this private): ") {
                teach = Some(rest.to_string());
            }
        }
        // "http://127.0.0.1:PORT/join  (code K7Q2MX)"
        let join = join.expect("the join line comes first");
        let (url, code) = join.split_once("  (code ").unwrap();
        let base = url.strip_suffix("/join").unwrap().to_string();
        assert!(base.starts_with("http://127.0.0.1:"), "{base}");
        let code = code.strip_suffix(')').unwrap().to_string();
        Room {
            child,
            base,
            code,
            teach: teach.unwrap(),
            dir,
        }
    }
}

impl Drop for Room {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A student's page at 375 × 760 (a phone), joined as `name`: the join form filled and
/// submitted by clicks, then the lab with the class banner, connected.
fn join_class(room: &Room, name: &str, test: &str) -> Browser {
    let mut b = Browser::launch(test).unwrap();
    b.set_viewport(375, 760).unwrap();
    b.navigate(&format!("{}/join", room.base)).unwrap();
    b.wait_for("document.querySelector('form#join')", "the join form", 60)
        .unwrap();
    // The code as a phone keyboard may give it: lower case.
    let code = room.code.to_lowercase();
    b.eval(&format!(
        "(() => {{ const f = document.querySelector('form#join');
           f.querySelector('input[name=code]').value = {code:?};
           f.querySelector('input[name=name]').value = {name:?};
           f.querySelector('button[type=submit]').click(); return true; }})()"
    ))
    .unwrap();
    b.wait_for(
        "document.querySelector('#class-banner .conn')?.dataset.state === 'connected'",
        &format!("{name} joined and connected"),
        60,
    )
    .unwrap();
    let token = b
        .eval("localStorage.getItem('gradtutor-class-token')")
        .unwrap();
    let token = token.as_str().unwrap_or_default();
    assert!(
        token.len() == 32 && token.bytes().all(|c| c.is_ascii_hexdigit()),
        "{token:?}"
    );
    b
}

/// The dashboard in `b`, loaded and connected, its push form filled from the bank.
fn open_dashboard(room: &Room, b: &mut Browser) {
    b.navigate(&room.teach).unwrap();
    b.wait_for(
        "document.querySelector('#class-push-form')?.dataset.ready === 'true'
         && document.querySelector('#class-conn')?.dataset.state === 'connected'",
        "the dashboard ready",
        60,
    )
    .unwrap();
}

/// Pushes quiz item `item` of question `slug` from the dashboard's form, by its controls.
fn push_item(t: &mut Browser, slug: &str, item: usize) {
    click(t, "#class-push-form input[name=kind][value=item]");
    set_control(t, "#push-question", slug).unwrap();
    t.wait_for(
        &format!("document.querySelector(\"#push-item option[value='{item}']\")"),
        "the lesson's quiz items in the push form",
        60,
    )
    .unwrap();
    set_control(t, "#push-item", &item.to_string()).unwrap();
    click(t, "#class-push-submit");
}

const PUSHED: &str = "#class-push form.class-item";

/// Waits for the pushed item on a student's page.
fn wait_pushed(b: &mut Browser, slug: &str, item: usize) {
    b.wait_for(
        &format!(
            "document.querySelector(\"#class-push[data-kind=item] form.class-item[data-question='{slug}'][data-item='{item}']\")
             && !document.querySelector('#class-push').hidden"
        ),
        &format!("item {item} of {slug} pushed"),
        60,
    )
    .unwrap();
}

/// Answers the pushed item: a choice `key` clicked, or a number typed; sent with a click;
/// waits for the `sent` state.
fn answer_pushed(b: &mut Browser, answer: &str, number: bool) {
    let pick = if number {
        format!("f.querySelector('input[name=answer]').value = {answer:?};")
    } else {
        format!("f.querySelector('input[name=answer][value={answer}]').click();")
    };
    b.eval(&format!(
        "(() => {{ const f = document.querySelector({PUSHED:?}); {pick}
           f.querySelector('button[type=submit]').click(); return true; }})()"
    ))
    .unwrap();
    b.wait_for(
        &format!(
            "document.querySelector({PUSHED:?} + ' .class-answer-state')?.dataset.state === 'sent'"
        ),
        &format!("answer {answer} sent"),
        60,
    )
    .unwrap();
}

/// The dashboard's count of `option` for item `item` of `slug` (`.class-count` text).
fn count_sel(slug: &str, item: usize, option: &str) -> String {
    format!(
        ".class-item-result[data-question='{slug}'][data-item='{item}'] .class-count[data-option='{option}']"
    )
}

#[test]
fn class_push_reaches_two_students_and_their_answers_the_dashboard() {
    let test = "class_push_reaches_two_students_and_their_answers_the_dashboard";
    let Some(mut t) = Browser::launch(test) else {
        return;
    };
    let room = Room::start();
    open_dashboard(&room, &mut t);
    let mut ana = join_class(&room, "Ana", test);
    // A name with markup: shown as text everywhere, never parsed.
    let bo_name = "Bo <i>x</i>";
    let mut bo = join_class(&room, bo_name, test);
    t.wait_for(
        "document.querySelectorAll('table#class-students tr[data-student][data-connected=true]').length === 2",
        "both students listed, connected",
        60,
    )
    .unwrap();
    let names = t
        .eval("[...document.querySelectorAll('table#class-students tr[data-student] th')].map(th => [th.textContent, th.children.length])")
        .unwrap();
    assert_eq!(names, serde_json::json!([["Ana", 0], [bo_name, 0]]));

    let (slug, item, right, wrong) = question_one_choice_item();
    push_item(&mut t, &slug, item);
    for b in [&mut ana, &mut bo] {
        wait_pushed(b, &slug, item);
        assert_eq!(
            b.eval("document.querySelector('#lab-shell').hidden")
                .unwrap(),
            true,
            "the push takes the screen"
        );
    }
    answer_pushed(&mut ana, &right, false);
    answer_pushed(&mut bo, &wrong, false);

    // The dashboard counts each option: 1 and 1, every other option 0.
    let (rs, ws) = (
        count_sel(&slug, item, &right),
        count_sel(&slug, item, &wrong),
    );
    t.wait_for(
        &format!(
            "document.querySelector({rs:?})?.textContent === '1' && document.querySelector({ws:?})?.textContent === '1'"
        ),
        "counts 1 and 1 on the dashboard",
        60,
    )
    .unwrap();
    let counts = t
        .eval(&format!(
            "Object.fromEntries([...document.querySelectorAll(\".class-item-result[data-question='{slug}'][data-item='{item}'] .class-count\")].map(c => [c.dataset.option, c.textContent]))"
        ))
        .unwrap();
    let options = counts.as_object().unwrap();
    assert!(options.len() >= 3, "{counts}");
    for (k, v) in options {
        let want = if *k == right || *k == wrong { "1" } else { "0" };
        assert_eq!(v, want, "option {k}: {counts}");
    }
    // Nothing revealed yet: no student page shows a key or a verdict.
    for b in [&mut ana, &mut bo] {
        assert_eq!(
            b.eval("document.querySelectorAll('.class-reveal, label.choice.key').length")
                .unwrap(),
            0
        );
    }

    click(&mut t, "#class-reveal");
    let mut verdicts = Vec::new();
    for b in [&mut ana, &mut bo] {
        let v = b
            .wait_for(
                "document.querySelector('.class-reveal[data-correct]')?.dataset.correct",
                "the reveal with this student's verdict",
                60,
            )
            .unwrap();
        assert_eq!(
            b.eval(&format!(
                "document.querySelector({PUSHED:?} + ' .class-answer-state').dataset.state"
            ))
            .unwrap(),
            "revealed"
        );
        assert_eq!(
            b.eval("document.querySelector('label.choice.key input').value")
                .unwrap(),
            right.as_str(),
            "the key is marked"
        );
        verdicts.push(v);
    }
    assert_eq!(verdicts, ["true", "false"]);

    // Both answers are in the session file, by the page's requests.
    let text = std::fs::read_to_string(room.dir.path().join("class.json")).unwrap();
    let session: serde_json::Value = serde_json::from_str(&text).unwrap();
    let answers: Vec<(String, bool)> = session["answers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["answer"].as_str().unwrap().to_string(),
                a["correct"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(answers, [(right, true), (wrong, false)]);
}

// ---------------------------------------------------------------- on demand

/// Writes the README's pictures at 1280 × 800: `docs/lab-lesson.png` (lesson 1 with its
/// experiment drawn), `docs/lab-demo.png` (`#/demo/vanishing`) and `docs/lab-training.png`
/// (the default training run, finished), then the class's two ([`class_screenshots`]).
/// `cargo test --test it -- --ignored screenshots`.
#[test]
#[ignore = "writes docs/lab-*.png and docs/class-*.png; run on demand"]
fn screenshots() {
    let mut b = Browser::launch("screenshots").expect("screenshots need chromium");
    let lab = Lab::start();
    let docs = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs");
    std::fs::create_dir_all(&docs).unwrap();
    let shoot = |b: &mut Browser, name: &str| {
        // Let fonts, layout and canvases settle past the hooks.
        b.eval("new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
            .unwrap();
        let png = b.screenshot().unwrap();
        assert_eq!(png_size(&png), Some((1280, 800)));
        let path = docs.join(name);
        std::fs::write(&path, png).unwrap();
        eprintln!("wrote {}", path.display());
    };

    open(&mut b, &lab, "#/lesson/1");
    b.wait_for(
        "+(document.body.dataset.renders || 0) >= 1 && document.querySelector('form.quiz-item')",
        "lesson 1 drawn",
        120,
    )
    .unwrap();
    shoot(&mut b, "lab-lesson.png");

    open_demo(&mut b, &lab);
    shoot(&mut b, "lab-demo.png");

    open(&mut b, &lab, "#/train");
    b.wait_for(
        "document.querySelector('#train-start')",
        "the training view",
        120,
    )
    .unwrap();
    click(&mut b, "#train-start");
    // The whole default run (1000 steps, about a second): the same picture every time.
    b.wait_for(
        "['finished', 'diverged', 'stopped'].includes(document.querySelector('#train-state').textContent)",
        "the end of the run",
        300,
    )
    .unwrap();
    shoot(&mut b, "lab-training.png");
    drop(b);
    class_screenshots(&docs);
}

/// `docs/class-student.png` (a student's page at 375 × 760, a pushed item answered and
/// revealed) and `docs/class-teach.png` (the dashboard at 1280 × 800 after a numeric item
/// and a choice item, two students).
fn class_screenshots(docs: &std::path::Path) {
    let test = "screenshots";
    let mut t = Browser::launch(test).unwrap();
    let room = Room::start();
    open_dashboard(&room, &mut t);
    let mut ana = join_class(&room, "Ana", test);
    let mut bo = join_class(&room, "Bo", test);
    let (slug, item, right, wrong) = question_one_choice_item();
    // Question 1's numeric item (the first), answered 7 and 5; then the choice item.
    push_item(&mut t, &slug, 1);
    for (b, v) in [(&mut ana, "7"), (&mut bo, "5")] {
        wait_pushed(b, &slug, 1);
        answer_pushed(b, v, true);
    }
    push_item(&mut t, &slug, item);
    for (b, v) in [(&mut ana, &right), (&mut bo, &wrong)] {
        wait_pushed(b, &slug, item);
        answer_pushed(b, v, false);
    }
    t.wait_for(
        &format!(
            "document.querySelector({:?})?.textContent === '1'
             && document.querySelector(\".class-item-result[data-item='1'] .class-hist\")?.dataset.n === '2'",
            count_sel(&slug, item, &wrong)
        ),
        "both items' answers on the dashboard",
        60,
    )
    .unwrap();
    click(&mut t, "#class-reveal");
    ana.wait_for(
        "document.querySelector('.class-reveal[data-correct]')",
        "the reveal",
        60,
    )
    .unwrap();
    t.wait_for(
        &format!("document.querySelector(\".class-item-result[data-question='{slug}'][data-item='{item}']\")?.dataset.revealed === 'true'"),
        "the reveal on the dashboard",
        60,
    )
    .unwrap();
    for (b, name, size) in [
        (&mut ana, "class-student.png", (375, 760)),
        (&mut t, "class-teach.png", (1280, 800)),
    ] {
        b.eval("document.activeElement?.blur(); new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
            .unwrap();
        // No horizontal scroll on the phone.
        assert_eq!(
            b.eval("document.documentElement.scrollWidth <= window.innerWidth")
                .unwrap(),
            true,
            "{name} scrolls sideways"
        );
        let png = b.screenshot().unwrap();
        assert_eq!(png_size(&png), Some(size));
        let path = docs.join(name);
        std::fs::write(&path, png).unwrap();
        eprintln!("wrote {}", path.display());
    }
}

/// Percentile `p` (0–100) of sorted `v`, nearest rank.
fn percentile(v: &[f64], p: f64) -> f64 {
    let rank = ((p / 100.0) * v.len() as f64).ceil().max(1.0) as usize;
    v[rank.min(v.len()) - 1]
}

/// The lab's redraw latency, for the README (not a timed test: it prints, asserts nothing
/// about speed): `#/demo/vanishing` at its defaults, then `GRADTUTOR_LATENCY_CHANGES`
/// (default 100) changes of the seed one after another (each a new run of the same size, so
/// neither the server's cache nor the page's answers it), each awaited until redrawn; the
/// page's own `labTimings` (input event → chart and table in the DOM) give the median and
/// p95. `scripts/lab-latency.sh` runs it against a release build.
#[test]
#[ignore = "a measurement; scripts/lab-latency.sh"]
fn lab_latency() {
    let mut b = Browser::launch("lab_latency").expect("the measurement needs chromium");
    let lab = Lab::start();
    let changes: u64 = std::env::var("GRADTUTOR_LATENCY_CHANGES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100);
    open_demo(&mut b, &lab);
    let mut settings = Vec::new();
    for key in ["depth", "width", "batch", "seed"] {
        let v = prop(&mut b, &format!("form#controls [name={key}]"), "value");
        settings.push(format!("{key} {}", v.as_str().unwrap_or("?")));
    }
    let seed_sel = "form#controls [name=seed]";
    let seed0: u64 = prop(&mut b, seed_sel, "value")
        .as_str()
        .and_then(|s| s.parse().ok())
        .unwrap_or(42);
    let skip = b
        .eval("window.labTimings.length")
        .unwrap()
        .as_u64()
        .unwrap();
    let wall = std::time::Instant::now();
    for i in 1..=changes {
        let n = renders(&mut b);
        set_control(&mut b, seed_sel, &(seed0 + i).to_string()).unwrap();
        wait_renders_above(&mut b, n);
    }
    let wall = wall.elapsed();
    let timings = b
        .eval(&format!(
            "window.labTimings.slice({skip}).map(t => t.drawn - t.input)"
        ))
        .unwrap();
    let mut ms: Vec<f64> = timings
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    assert_eq!(ms.len() as u64, changes, "one timing per change");
    ms.sort_by(f64::total_cmp);
    let depth_shown = b.eval(TABLE_DEPTH).unwrap();
    let cpu = std::process::Command::new("sh")
        .args([
            "-c",
            "lscpu | sed -n 's/^Model name: *//p' | head -1; nproc",
        ])
        .output()
        .map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .trim()
                .replace('\n', ", cores: ")
        })
        .unwrap_or_default();
    let date = std::process::Command::new("date")
        .args(["-u", "+%Y-%m-%d %H:%M UTC"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    let version = b.browser_version().unwrap_or_default();
    println!(
        "lab latency, demo vanishing ({}; table depth {depth_shown})",
        settings.join(", ")
    );
    println!(
        "  {changes} seed changes, input event -> chart and table in the DOM (window.labTimings):"
    );
    println!(
        "  median {:.1} ms, p95 {:.1} ms, min {:.1} ms, max {:.1} ms",
        percentile(&ms, 50.0),
        percentile(&ms, 95.0),
        ms[0],
        ms[ms.len() - 1]
    );
    println!(
        "  driver's wall time per change (CDP round trips included): {:.1} ms",
        wall.as_secs_f64() * 1000.0 / changes as f64
    );
    println!("  machine: {cpu}; {date}; {version}");
    println!(
        "  server: {}",
        std::env::var("GRADTUTOR_LAB_BIN").unwrap_or_else(|_| "the debug build".into())
    );
}
