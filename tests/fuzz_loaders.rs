//! A short, deterministic fuzz of the two loaders that read files a user can hand us: the
//! question-file loader (`Bank::from_files`) and the progress file (`Progress` through
//! serde_json, and `Store::load` on disk). It runs on stable in every `cargo test`; the long
//! coverage-guided runs live in `fuzz/` (cargo-fuzz, nightly).
//!
//! Inputs are the built-in bank (`questions/*.toml`) and the committed fuzz corpus
//! (`fuzz/corpus/*`), mutated by a small seeded mutator: byte flips, inserts and deletes,
//! lines spliced between files, duplicated keys, settings set to huge or degenerate numbers,
//! control characters, and arrays or tables nested a few thousand deep. Every call runs under
//! `catch_unwind`, and a counting allocator checks that no call holds more than
//! [`MEMORY_CAP`] at once: a loader may refuse anything, but never panic, and never allocate
//! for a run it has not yet checked. Failing inputs are written to the temp folder and named
//! in the failure message.

use gradtutor::{Bank, Progress, Store};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::{Cell, RefCell};
use std::fs;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::Once;
use std::time::Instant;

/// Mutated question files per run (each is one `Bank::from_files` call, plus the seeds and
/// the committed corpus as they are). Sized so the whole file runs in well under 30 s in a
/// debug `cargo test` on two cores (about 15 s when this was written; the progress test
/// runs alongside on the other core).
const QUESTION_ITERATIONS: usize = 12_000;
/// Mutated progress files parsed by serde_json per run.
const PROGRESS_ITERATIONS: usize = 20_000;
/// Of those, every this-many-th also goes through `Store::load` on disk.
const STORE_EVERY: usize = 10;
/// The memory limit handed to the loader, as `--max-memory` would: presets asking for more
/// are refused, never run.
const MAX_BYTES: u64 = 256 << 20;
/// The most one loader call may hold at once. Loading validates presets without running
/// them, and inputs here are at most a few hundred KiB, so anything near this is a run being
/// allocated before it was checked.
const MEMORY_CAP: usize = 64 << 20;
/// A single request above this is refused outright (the process aborts with "memory
/// allocation of N bytes failed") rather than let a bug take the machine's memory.
const HARD_LIMIT: usize = 1 << 30;

// ---- Allocation accounting --------------------------------------------------------------

/// The system allocator, counting per thread the bytes live and the peak since the last
/// [`reset_peak`], so each test thread measures its own calls.
struct Counting;

thread_local! {
    static LIVE: Cell<isize> = const { Cell::new(0) };
    static PEAK: Cell<isize> = const { Cell::new(0) };
    static LARGEST: Cell<usize> = const { Cell::new(0) };
}

fn note_alloc(size: usize) {
    // `try_with`: accounting is skipped while a thread's locals are being torn down.
    let _ = LIVE.try_with(|l| {
        let now = l.get() + size as isize;
        l.set(now);
        let _ = PEAK.try_with(|p| p.set(p.get().max(now)));
    });
    let _ = LARGEST.try_with(|m| m.set(m.get().max(size)));
}

fn note_free(size: usize) {
    let _ = LIVE.try_with(|l| l.set(l.get() - size as isize));
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if layout.size() > HARD_LIMIT {
            return std::ptr::null_mut();
        }
        note_alloc(layout.size());
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if layout.size() > HARD_LIMIT {
            return std::ptr::null_mut();
        }
        note_alloc(layout.size());
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        note_free(layout.size());
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if new_size > HARD_LIMIT {
            return std::ptr::null_mut();
        }
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            note_free(layout.size());
            note_alloc(new_size);
        }
        p
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

/// Starts measuring: the peak becomes what is live now.
fn reset_peak() -> isize {
    let live = LIVE.with(Cell::get);
    PEAK.with(|p| p.set(live));
    LARGEST.with(|m| m.set(0));
    live
}

/// Bytes held at the peak since [`reset_peak`] returned `base`, and the largest single request.
fn peak_since(base: isize) -> (usize, usize) {
    let peak = PEAK.with(Cell::get) - base;
    (peak.max(0) as usize, LARGEST.with(Cell::get))
}

// ---- Panics -----------------------------------------------------------------------------

thread_local! {
    /// Set while a loader call runs: its panic message goes here instead of to stderr.
    static CAPTURE: RefCell<Option<Option<String>>> = const { RefCell::new(None) };
}

/// Installs (once) a panic hook that captures panics of calls under [`guarded`] and leaves
/// every other panic (a failing assertion) to the default hook.
fn install_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let captured = CAPTURE.with(|c| {
                let mut c = c.borrow_mut();
                match c.as_mut() {
                    Some(slot) => {
                        let msg = info
                            .payload()
                            .downcast_ref::<&str>()
                            .map(|s| s.to_string())
                            .or_else(|| info.payload().downcast_ref::<String>().cloned())
                            .unwrap_or_else(|| "(non-string payload)".into());
                        let at = info
                            .location()
                            .map(|l| format!("{}:{}", l.file(), l.line()))
                            .unwrap_or_default();
                        *slot = Some(format!("{msg} (at {at})"));
                        true
                    }
                    None => false,
                }
            });
            if !captured {
                default(info);
            }
        }));
    });
}

/// What went wrong with one input.
enum Failure {
    Panic(String),
    Memory { peak: usize, largest: usize },
}

/// Runs `f` under `catch_unwind` with its panic captured and its memory measured.
fn guarded(f: impl FnOnce()) -> Result<(), Failure> {
    install_hook();
    CAPTURE.with(|c| *c.borrow_mut() = Some(None));
    let base = reset_peak();
    let result = catch_unwind(AssertUnwindSafe(f));
    let (peak, largest) = peak_since(base);
    let msg = CAPTURE.with(|c| c.borrow_mut().take()).flatten();
    match result {
        Err(_) => Err(Failure::Panic(msg.unwrap_or_else(|| "(no message)".into()))),
        Ok(()) if peak > MEMORY_CAP => Err(Failure::Memory { peak, largest }),
        Ok(()) => Ok(()),
    }
}

/// Collects failures, saving each input to the temp folder.
struct Failures {
    kind: &'static str,
    list: Vec<String>,
}

impl Failures {
    fn record(&mut self, input: &[u8], how: &str, failure: Failure) {
        let n = self.list.len();
        let file = std::env::temp_dir().join(format!(
            "gradtutor-fuzz-{}-{}-{n}.{}",
            self.kind,
            std::process::id(),
            if self.kind == "question" {
                "toml"
            } else {
                "json"
            }
        ));
        let _ = fs::write(&file, input);
        let what = match failure {
            Failure::Panic(m) => format!("panicked: {m}"),
            Failure::Memory { peak, largest } => format!(
                "held {peak} bytes at once (cap {MEMORY_CAP}); largest single request {largest}"
            ),
        };
        self.list.push(format!(
            "{how}\n    {what}\n    input saved to {}",
            file.display()
        ));
    }

    fn assert_none(&self, inputs: usize) {
        assert!(
            self.list.is_empty(),
            "{} of {inputs} {} inputs failed:\n  {}",
            self.list.len(),
            self.kind,
            self.list.join("\n  ")
        );
    }
}

// ---- Seeds ------------------------------------------------------------------------------

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every file in `dir`, sorted by name, as (name, bytes); none if the folder is missing.
fn files_in(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut out: Vec<(String, Vec<u8>)> = entries
        .flatten()
        .filter(|e| e.path().is_file())
        .map(|e| {
            (
                e.file_name().to_string_lossy().into_owned(),
                fs::read(e.path()).unwrap(),
            )
        })
        .collect();
    out.sort();
    out
}

fn question_seeds() -> Vec<(String, Vec<u8>)> {
    let seeds = files_in(&root().join("questions"));
    assert!(seeds.len() >= 10, "the built-in bank is missing");
    seeds
}

fn progress_seeds() -> Vec<(String, Vec<u8>)> {
    let seeds = files_in(&root().join("fuzz/corpus/progress_file"));
    assert!(
        seeds.len() >= 2,
        "fuzz/corpus/progress_file holds the progress seeds"
    );
    seeds
}

// ---- The mutator ------------------------------------------------------------------------

/// Settings keys of `[experiment]`, a quiz item's `settings` and `[train]`.
const SETTING_KEYS: &[&str] = &[
    "depth",
    "width",
    "batch",
    "classes",
    "seeds",
    "seed",
    "std",
    "clip-norm",
    "samples",
    "steps",
    "lr",
    "noise",
    "clip-value",
    "target-loss",
];

/// Numbers that tend to break size arithmetic.
const NUMBERS: &[i64] = &[
    0,
    1,
    2,
    3,
    -1,
    255,
    4096,
    65_536,
    1 << 20,
    (1 << 20) + 1,
    2_147_483_647,
    4_294_967_295,
    4_294_967_296,
    99_999_999_999,
    1 << 48,
    1 << 62,
    i64::MAX,
    i64::MIN,
];

const FLOATS: &[&str] = &[
    "0.0", "-0.0", "1e308", "-1e308", "5e-324", "nan", "inf", "-inf", "1e-30", "0.5",
];

/// Text of other kinds, for a key that expects a number or a name.
const ODD_VALUES: &[&str] = &[
    "\"\"",
    "\"relu\"",
    "\"leaky-relu:1e308\"",
    "\"normal:nan\"",
    "\"elu:-inf\"",
    "\"f64\"",
    "true",
    "[]",
    "{}",
    "1979-05-27T07:32:00Z",
    "\"sigmoid,,relu\"",
    "\"relu/he-normal+bn+bn+residual\"",
];

const CONTROL: &[&str] = &[
    "\0", "\x1b[2J", "\r", "\r\n", "\t", "\u{7f}", "\u{feff}", "\u{202e}", "\u{2028}", "\u{85}",
    "\\", "\"", "'''", "\"\"\"", "\n[", "]]", "#", "=",
];

/// One step of the mutator, named so a failure can be read back.
#[derive(Debug)]
enum Mutation {
    FlipBits {
        at: usize,
        mask: u8,
    },
    InsertBytes {
        at: usize,
        bytes: Vec<u8>,
    },
    Delete {
        at: usize,
        len: usize,
    },
    Truncate {
        len: usize,
    },
    /// A line of another seed file put in before line `at`.
    SpliceLine {
        at: usize,
        line: String,
    },
    /// Line `at` written twice.
    DuplicateLine {
        at: usize,
    },
    /// `key = value` set in a section (see [`set_key`]).
    SetKey {
        section: Section,
        key: &'static str,
        value: String,
    },
    /// A number in the text replaced by another.
    ReplaceNumber {
        at: usize,
        with: String,
    },
    InsertControl {
        at: usize,
        text: &'static str,
    },
    /// `key = [[[…]]]` or `key = {a = {…}}`, `depth` levels, at line `at`.
    DeepNesting {
        at: usize,
        depth: usize,
        tables: bool,
    },
}

/// Where a setting is written in a question file.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Section {
    /// `[experiment]`.
    Experiment,
    /// `[train]`.
    Train,
    /// A `[[quiz]]` item's `settings = { … }`.
    QuizSettings,
}

/// The text of a question file with `key = value` set inside `section`: replacing the key's
/// line if the section has one (a second one would be a duplicate key, refused before any
/// check runs), else just after the section's header; a missing section is appended.
/// `QuizSettings` goes in the `settings` of the first numeric quiz item.
fn set_key(text: &str, section: Section, key: &str, value: &str) -> String {
    let mut lines: Vec<String> = text.split_inclusive('\n').map(str::to_string).collect();
    if lines.last().is_some_and(|l| !l.ends_with('\n')) {
        lines.last_mut().unwrap().push('\n');
    }
    let is_key = |l: &str, k: &str| {
        l.strip_prefix(k)
            .is_some_and(|rest| rest.trim_start().starts_with('='))
    };
    // The body of the first table whose header is `header` (and whose body passes `pick`).
    let body = |lines: &[String], header: &str, pick: &dyn Fn(&[String]) -> bool| {
        let mut i = 0;
        while i < lines.len() {
            if lines[i].trim_end() == header {
                let end = (i + 1..lines.len())
                    .find(|&j| lines[j].starts_with('['))
                    .unwrap_or(lines.len());
                if pick(&lines[i + 1..end]) {
                    return Some((i, end));
                }
                i = end;
            } else {
                i += 1;
            }
        }
        None
    };
    match section {
        Section::Experiment | Section::Train => {
            let header = if section == Section::Experiment {
                "[experiment]"
            } else {
                "[train]"
            };
            let line = format!("{key} = {value}\n");
            match body(&lines, header, &|_| true) {
                Some((h, end)) => match (h + 1..end).find(|&j| is_key(&lines[j], key)) {
                    Some(j) => lines[j] = line,
                    None => lines.insert(h + 1, line),
                },
                // A new [train] needs its takeaway, or the preset is never checked.
                None if section == Section::Train => {
                    lines.push(format!("\n{header}\ntakeaway = \"t\"\n{line}"))
                }
                None => lines.push(format!("\n{header}\n{line}")),
            }
        }
        Section::QuizSettings => {
            let line = format!("settings = {{ {key} = {value} }}\n");
            let numeric = |b: &[String]| b.iter().any(|l| is_key(l, "figure"));
            match body(&lines, "[[quiz]]", &numeric) {
                Some((h, end)) => match (h + 1..end).find(|&j| is_key(&lines[j], "settings")) {
                    Some(j) => lines[j] = line,
                    None => lines.insert(h + 1, line),
                },
                None => lines.push(format!(
                    "\n[[quiz]]\nprompt = \"p\"\nfigure = \"grad-orders-drop\"\n\
                     tolerance = 1.0\nexplanation = \"e\"\n{line}"
                )),
            }
        }
    }
    lines.concat()
}

fn line_starts(text: &[u8]) -> Vec<usize> {
    std::iter::once(0)
        .chain(
            text.iter()
                .enumerate()
                .filter(|(_, b)| **b == b'\n')
                .map(|(i, _)| i + 1),
        )
        .collect()
}

struct Mutator {
    rng: ChaCha8Rng,
}

impl Mutator {
    fn new(seed: u64) -> Self {
        Mutator {
            rng: ChaCha8Rng::seed_from_u64(seed),
        }
    }

    fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.rng.random_range(0..xs.len())]
    }

    fn below(&mut self, n: usize) -> usize {
        self.rng.random_range(0..n.max(1))
    }

    fn number(&mut self) -> String {
        if self.rng.random_range(0..4) == 0 {
            self.pick(FLOATS).to_string()
        } else {
            self.pick(NUMBERS).to_string()
        }
    }

    /// One mutation chosen for `input`; `others` are the seeds to splice lines from.
    /// `toml` chooses the question-file families (sections, settings).
    fn choose(&mut self, input: &[u8], others: &[(String, Vec<u8>)], toml: bool) -> Mutation {
        let len = input.len();
        loop {
            let family = self.below(if toml { 10 } else { 9 });
            return match family {
                0 => Mutation::FlipBits {
                    at: self.below(len),
                    mask: 1 << self.below(8),
                },
                1 => {
                    let n = 1 + self.below(8);
                    let bytes = (0..n).map(|_| self.rng.random::<u8>()).collect();
                    Mutation::InsertBytes {
                        at: self.below(len + 1),
                        bytes,
                    }
                }
                2 => Mutation::Delete {
                    at: self.below(len),
                    len: 1 + self.below(64),
                },
                3 => Mutation::Truncate {
                    len: self.below(len),
                },
                4 => {
                    let (_, other) = self.pick(others);
                    let text = String::from_utf8_lossy(other);
                    let lines: Vec<&str> = text.lines().collect();
                    let line = self.pick(&lines).to_string();
                    Mutation::SpliceLine {
                        at: self.below(line_starts(input).len()),
                        line,
                    }
                }
                5 => Mutation::DuplicateLine {
                    at: self.below(line_starts(input).len()),
                },
                6 => {
                    let digits: Vec<usize> = (0..len)
                        .filter(|&i| {
                            input[i].is_ascii_digit() && (i == 0 || !input[i - 1].is_ascii_digit())
                        })
                        .collect();
                    if digits.is_empty() {
                        continue;
                    }
                    let at = *self.pick(&digits);
                    Mutation::ReplaceNumber {
                        at,
                        with: self.number(),
                    }
                }
                7 => Mutation::InsertControl {
                    at: self.below(len + 1),
                    text: CONTROL[self.below(CONTROL.len())],
                },
                8 => Mutation::DeepNesting {
                    at: self.below(line_starts(input).len()),
                    depth: *self.pick(&[64, 200, 1000, 3000]),
                    tables: self.rng.random(),
                },
                _ => {
                    let section =
                        *self.pick(&[Section::Experiment, Section::Train, Section::QuizSettings]);
                    let key = *self.pick(SETTING_KEYS);
                    let value = match self.below(4) {
                        0 => self.pick(ODD_VALUES).to_string(),
                        _ => self.number(),
                    };
                    Mutation::SetKey {
                        section,
                        key,
                        value,
                    }
                }
            };
        }
    }
}

/// `input` with `m` applied.
fn apply(input: &[u8], m: &Mutation, toml: bool) -> Vec<u8> {
    let mut out = input.to_vec();
    let clamp = |at: usize| at.min(out.len());
    match m {
        Mutation::FlipBits { at, mask } => {
            if let Some(b) = out.get_mut(*at) {
                *b ^= mask;
            }
        }
        Mutation::InsertBytes { at, bytes } => {
            let at = clamp(*at);
            out.splice(at..at, bytes.iter().copied());
        }
        Mutation::Delete { at, len } => {
            let at = clamp(*at);
            let end = (at + len).min(out.len());
            out.drain(at..end);
        }
        Mutation::Truncate { len } => out.truncate(*len),
        Mutation::SpliceLine { at, line } => {
            let starts = line_starts(&out);
            let at = starts[(*at).min(starts.len() - 1)];
            out.splice(at..at, format!("{line}\n").into_bytes());
        }
        Mutation::DuplicateLine { at } => {
            let starts = line_starts(&out);
            let i = (*at).min(starts.len() - 1);
            let start = starts[i];
            let end = starts.get(i + 1).copied().unwrap_or(out.len());
            let mut line = out[start..end].to_vec();
            if !line.ends_with(b"\n") {
                line.push(b'\n');
            }
            out.splice(start..start, line);
        }
        Mutation::SetKey {
            section,
            key,
            value,
        } => {
            let text = String::from_utf8_lossy(&out).into_owned();
            out = set_key(&text, *section, key, value).into_bytes();
        }
        Mutation::ReplaceNumber { at, with } => {
            let at = clamp(*at);
            let end = at
                + out[at..]
                    .iter()
                    .take_while(|b| b.is_ascii_digit() || **b == b'.' || **b == b'_')
                    .count();
            out.splice(at..end, with.bytes());
        }
        Mutation::InsertControl { at, text } => {
            let at = clamp(*at);
            out.splice(at..at, text.bytes());
        }
        Mutation::DeepNesting { at, depth, tables } => {
            let value = if *tables {
                let open = if toml { "{a = " } else { "{\"a\": " };
                format!("{}1{}", open.repeat(*depth), "}".repeat(*depth))
            } else {
                format!("{}1{}", "[".repeat(*depth), "]".repeat(*depth))
            };
            if toml {
                let starts = line_starts(&out);
                let at = starts[(*at).min(starts.len() - 1)];
                out.splice(at..at, format!("deep = {value}\n").into_bytes());
            } else {
                // The whole input (the typed parse stops at the first wrong type, so nesting
                // inside a known field is never descended), or a field of the top-level object.
                match out.iter().position(|&b| b == b'{').filter(|_| at % 2 == 1) {
                    Some(i) => {
                        out.splice(i + 1..i + 1, format!("\"deep\": {value},").into_bytes());
                    }
                    None => out = value.into_bytes(),
                }
            }
        }
    }
    out
}

// ---- The loaders ------------------------------------------------------------------------

/// Loads `bytes` as the only file of a bank, as `gradtutor` reads a question folder; whether
/// it loaded.
fn load_question(bytes: &[u8]) -> bool {
    let files = match String::from_utf8(bytes.to_vec()) {
        Ok(text) => vec![("fuzz.toml".to_string(), Ok(text))],
        Err(_) => vec![("fuzz.toml".to_string(), Err("not UTF-8".to_string()))],
    };
    match Bank::from_files(files, "fuzz".into(), MAX_BYTES) {
        Ok(bank) => {
            assert_eq!(bank.questions.len(), 1);
            true
        }
        Err(e) => {
            assert!(format!("{e}").contains("fuzz.toml:"), "{e}");
            false
        }
    }
}

/// Parses `bytes` as serde_json does for a progress file.
fn parse_progress(bytes: &[u8]) {
    if let Ok(p) = serde_json::from_slice::<Progress>(bytes) {
        // What parses writes back and parses to the same record.
        let again: Progress = serde_json::from_str(&serde_json::to_string(&p).unwrap()).unwrap();
        assert_eq!(again, p);
    }
}

/// Writes `bytes` as the progress file in `dir` and loads it through [`Store`]: a usable file
/// loads as serde_json reads it; a blank one is an empty record; any other is shown as an
/// empty record and left in place by the read-only load, then moved aside whole by the next
/// update, which begins an empty record.
fn load_store(dir: &Path, bytes: &[u8]) {
    let path = dir.join("progress.json");
    fs::write(&path, bytes).unwrap();
    let store = Store::locate(Some(&path)).unwrap();
    let mut warnings = Vec::new();
    let loaded = store.load(&mut |w| warnings.push(w)).unwrap();
    let direct = serde_json::from_slice::<Progress>(bytes)
        .ok()
        .filter(|p| p.format == "gradtutor-progress" && p.version == 1);
    match direct {
        // A blank file holds no record yet: an empty one, left where it is.
        None if bytes.iter().all(u8::is_ascii_whitespace) => {
            assert_eq!(loaded, Progress::default());
            assert!(warnings.is_empty(), "{warnings:?}");
            assert_eq!(fs::read(&path).unwrap(), bytes, "a blank file was changed");
        }
        Some(p) => {
            assert_eq!(loaded, p);
            assert!(warnings.is_empty(), "{warnings:?}");
            assert_eq!(fs::read(&path).unwrap(), bytes, "a usable file was changed");
        }
        None => {
            assert_eq!(loaded, Progress::default());
            assert_eq!(warnings.len(), 1, "{warnings:?}");
            assert_eq!(
                fs::read(&path).unwrap(),
                bytes,
                "a read-only load changed a damaged file"
            );
            let mut moved = Vec::new();
            store.update(&mut |w| moved.push(w), |_| {}).unwrap();
            assert_eq!(moved.len(), 1, "{moved:?}");
            let backups: Vec<_> = files_in(dir)
                .into_iter()
                .filter(|(name, _)| name.contains(".bak-"))
                .collect();
            assert_eq!(backups.len(), 1, "{backups:?}");
            assert_eq!(
                backups[0].1, bytes,
                "the moved-aside file lost its contents"
            );
        }
    }
    for (name, _) in files_in(dir) {
        fs::remove_file(dir.join(name)).unwrap();
    }
}

// ---- The runs ---------------------------------------------------------------------------

/// A mutated input: 1 to 4 mutations of a seed.
fn mutate(
    m: &mut Mutator,
    seeds: &[(String, Vec<u8>)],
    toml: bool,
) -> (Vec<u8>, String, Vec<Mutation>) {
    let (name, seed) = m.pick(seeds).clone();
    let mut input = seed;
    let mut steps = Vec::new();
    for _ in 0..1 + m.below(4) {
        let step = m.choose(&input, seeds, toml);
        input = apply(&input, &step, toml);
        steps.push(step);
    }
    (input, name, steps)
}

#[test]
fn question_loader_survives_mutated_files() {
    let start = Instant::now();
    let seeds = question_seeds();
    let mut failures = Failures {
        kind: "question",
        list: Vec::new(),
    };
    // The seeds and every committed corpus file as they are.
    let mut fixed = seeds.clone();
    fixed.extend(files_in(&root().join("fuzz/corpus/question_file")));
    for (name, bytes) in &fixed {
        if let Err(f) = guarded(|| {
            load_question(bytes);
        }) {
            failures.record(bytes, &format!("seed {name}"), f);
        }
    }
    let mut m = Mutator::new(0x9e37_79b9_7f4a_7c15);
    let mut loaded = 0;
    for i in 0..QUESTION_ITERATIONS {
        let (input, name, steps) = mutate(&mut m, &seeds, true);
        if let Err(f) = guarded(|| loaded += usize::from(load_question(&input))) {
            failures.record(&input, &format!("#{i}: {name} with {steps:?}"), f);
        }
    }
    eprintln!(
        "question loader: {} inputs in {:.1?}, {loaded} of the mutated ones valid",
        fixed.len() + QUESTION_ITERATIONS,
        start.elapsed(),
    );
    failures.assert_none(fixed.len() + QUESTION_ITERATIONS);
}

#[test]
fn progress_parsing_survives_mutated_files() {
    let start = Instant::now();
    let seeds = progress_seeds();
    let dir = tempfile::tempdir().unwrap();
    let mut failures = Failures {
        kind: "progress",
        list: Vec::new(),
    };
    for (name, bytes) in &seeds {
        if let Err(f) = guarded(|| {
            parse_progress(bytes);
            load_store(dir.path(), bytes);
        }) {
            failures.record(bytes, &format!("seed {name}"), f);
        }
    }
    let mut m = Mutator::new(0x5851_f42d_4c95_7f2d);
    for i in 0..PROGRESS_ITERATIONS {
        let (input, name, steps) = mutate(&mut m, &seeds, false);
        let store = i % STORE_EVERY == 0;
        if let Err(f) = guarded(|| {
            parse_progress(&input);
            if store {
                load_store(dir.path(), &input);
            }
        }) {
            failures.record(&input, &format!("#{i}: {name} with {steps:?}"), f);
            // Leave the folder clean for the next input.
            for (name, _) in files_in(dir.path()) {
                let _ = fs::remove_file(dir.path().join(name));
            }
        }
    }
    eprintln!(
        "progress: {} inputs parsed, {} loaded through Store, in {:.1?}",
        seeds.len() + PROGRESS_ITERATIONS,
        seeds.len() + PROGRESS_ITERATIONS.div_ceil(STORE_EVERY),
        start.elapsed()
    );
    failures.assert_none(seeds.len() + PROGRESS_ITERATIONS);
}
