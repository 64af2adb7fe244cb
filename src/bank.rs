//! The question bank: question files, embedded at build time or read from a folder, and
//! validated as a whole before anything is shown.

use crate::experiments;
use crate::quiz::{Kind, QuizItem};
use crate::settings::Settings;
use crate::train::settings::TrainSettings;
use anyhow::{Result, bail};
use serde::Deserialize;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

include!(concat!(env!("OUT_DIR"), "/embedded_questions.rs"));

/// The question-file format this build reads.
pub const FORMAT_VERSION: u32 = 1;

/// A code listing shown under the answer.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CodeBlock {
    /// What the listing is (`Keras`, `PyTorch`, `gradtutor (Rust)`).
    pub caption: String,
    pub language: String,
    pub source: String,
}

/// The experiment a question pairs with.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(try_from = "toml::Table")]
pub struct Preset {
    /// The experiment's name, as in `gradtutor demo NAME`.
    pub demo: String,
    /// One line: what to look for in the output.
    pub takeaway: String,
    /// Settings, named as the `demo` flags (`depth = 20`, `activation = "relu"`).
    pub settings: Settings,
}

// serde's `flatten` lets unknown keys through unnoticed, so a preset table is split by hand:
// its own keys first, then the rest must all be settings.
impl TryFrom<toml::Table> for Preset {
    type Error = String;
    fn try_from(mut t: toml::Table) -> Result<Self, String> {
        Ok(Preset {
            demo: take_string(&mut t, "demo", "[experiment]")?,
            takeaway: take_string(&mut t, "takeaway", "[experiment]")?,
            settings: settings_from(t, "[experiment]")?,
        })
    }
}

/// Removes `key` from a preset table; it must be a string.
fn take_string(t: &mut toml::Table, key: &str, table: &str) -> Result<String, String> {
    match t.remove(key) {
        Some(toml::Value::String(s)) => Ok(s),
        Some(other) => Err(format!(
            "`{key}` in {table} must be a string, not {}",
            other.type_str()
        )),
        None => Err(format!("{table} is missing `{key}`")),
    }
}

/// The rest of a preset table as settings, unknown keys refused.
fn settings_from<T: serde::de::DeserializeOwned>(t: toml::Table, table: &str) -> Result<T, String> {
    T::deserialize(toml::Value::Table(t)).map_err(|e| format!("in {table}: {}", e.message()))
}

impl Preset {
    /// `gradtutor demo NAME --flag value …`.
    pub fn command(&self) -> String {
        let mut parts = vec!["gradtutor".to_string(), "demo".into(), self.demo.clone()];
        parts.extend(self.settings.to_args());
        parts.join(" ")
    }
}

/// The training comparison a question pairs with, run by `ask` after the experiment.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(try_from = "toml::Table")]
pub struct TrainPreset {
    /// One line: what to look for in the output.
    pub takeaway: String,
    /// Settings, named as the `train` flags (`compare = "…"`, `steps = 600`).
    pub settings: TrainSettings,
}

impl TryFrom<toml::Table> for TrainPreset {
    type Error = String;
    fn try_from(mut t: toml::Table) -> Result<Self, String> {
        Ok(TrainPreset {
            takeaway: take_string(&mut t, "takeaway", "[train]")?,
            settings: settings_from(t, "[train]")?,
        })
    }
}

impl TrainPreset {
    /// `gradtutor train --flag value …`.
    pub fn command(&self) -> String {
        let mut parts = vec!["gradtutor".to_string(), "train".into()];
        parts.extend(self.settings.to_args().into_iter().map(|a| {
            if a.contains(char::is_whitespace) {
                format!("\"{a}\"")
            } else {
                a
            }
        }));
        parts.join(" ")
    }
}

/// One question of the bank.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Question {
    pub format_version: u32,
    pub id: u32,
    pub slug: String,
    pub title: String,
    pub question: String,
    pub answer: String,
    pub key_points: Vec<String>,
    #[serde(default)]
    pub code: Vec<CodeBlock>,
    pub experiment: Preset,
    #[serde(default)]
    pub train: Option<TrainPreset>,
    /// Self-test items (`[[quiz]]`), asked by `quiz` and `tour`.
    #[serde(default)]
    pub quiz: Vec<QuizItem>,
    /// Where the question came from (file path, or `embedded:NAME`).
    #[serde(skip)]
    pub source: String,
}

/// A validated bank, sorted by id.
#[derive(Clone, Debug)]
pub struct Bank {
    pub questions: Vec<Question>,
    pub origin: String,
}

impl Bank {
    /// The built-in bank.
    pub fn embedded(max_bytes: u64) -> Result<Bank> {
        let files = EMBEDDED
            .iter()
            .map(|(name, text)| (format!("embedded:{name}"), Ok(text.to_string())))
            .collect();
        Self::from_files(files, "built-in bank".into(), max_bytes)
    }

    /// Every `*.toml` file in `dir`.
    pub fn from_dir(dir: &Path, max_bytes: u64) -> Result<Bank> {
        let files = read_dir(dir).map_err(|e| {
            anyhow::anyhow!("{e} (Or unset GRADTUTOR_QUESTIONS to use the built-in bank.)")
        })?;
        Self::from_files(files, dir.display().to_string(), max_bytes)
    }

    /// Parses and validates every file; any problem in any file fails the whole bank, with
    /// every problem listed.
    pub fn from_files(
        files: Vec<(String, Result<String, String>)>,
        origin: String,
        max_bytes: u64,
    ) -> Result<Bank> {
        let (questions, problems) = Self::parse(files, max_bytes);
        if !problems.is_empty() {
            let n = problems.len();
            bail!(
                "the question bank ({origin}) has {n} problem{}:\n  {}",
                if n == 1 { "" } else { "s" },
                problems.join("\n  ")
            );
        }
        Ok(Bank { questions, origin })
    }

    /// The questions that parsed and passed every check (sorted by id), and every problem
    /// found, each as `path[:line[:column]]: what is wrong`.
    pub fn parse(
        files: Vec<(String, Result<String, String>)>,
        max_bytes: u64,
    ) -> (Vec<Question>, Vec<String>) {
        let mut problems = Vec::new();
        let mut questions = Vec::new();
        for (path, text) in files {
            let text = match text {
                Ok(t) => t,
                Err(e) => {
                    problems.push(format!("{path}: {e}"));
                    continue;
                }
            };
            match toml::from_str::<Question>(&text) {
                Err(e) => problems.push(toml_error(&path, &text, &e)),
                Ok(mut q) => {
                    q.source = path.clone();
                    let before = problems.len();
                    check(&q, &text, &mut problems, max_bytes);
                    if problems.len() == before {
                        questions.push(q);
                    }
                }
            }
        }
        duplicates(&questions, |q| q.id.to_string(), "id", &mut problems);
        duplicates(&questions, |q| q.slug.clone(), "slug", &mut problems);
        questions.sort_by_key(|q| q.id);
        (questions, problems)
    }

    /// A question by id (`3`) or slug (`saturating-activations`).
    pub fn find(&self, key: &str) -> Result<&Question> {
        let key = key.trim();
        if let Ok(id) = key.parse::<u32>() {
            if let Some(q) = self.questions.iter().find(|q| q.id == id) {
                return Ok(q);
            }
            bail!(
                "there is no question {id}; this bank has {}. Run `gradtutor list` to see them.",
                self.id_ranges()
            );
        }
        if let Some(q) = self
            .questions
            .iter()
            .find(|q| q.slug.eq_ignore_ascii_case(key))
        {
            return Ok(q);
        }
        let best = self
            .questions
            .iter()
            .map(|q| (strsim::jaro_winkler(&q.slug, &key.to_ascii_lowercase()), q))
            .max_by(|a, b| a.0.total_cmp(&b.0));
        let hint = match best {
            Some((score, q)) if score > 0.7 => {
                format!(" Did you mean '{}' (question {})?", q.slug, q.id)
            }
            _ => String::new(),
        };
        bail!("there is no question '{key}'.{hint} Run `gradtutor list` to see every id and slug.")
    }

    /// `ids 1–12` or `ids 1–3, 7`.
    fn id_ranges(&self) -> String {
        let ids: Vec<usize> = self.questions.iter().map(|q| q.id as usize).collect();
        format!("ids {}", crate::experiments::span_of(&ids))
    }
}

/// Every `*.toml` file in `dir`, sorted by name, each with its text or why it cannot be read.
pub fn read_dir(dir: &Path) -> Result<Vec<(String, Result<String, String>)>> {
    let entries = std::fs::read_dir(dir).map_err(|e| {
        anyhow::anyhow!(
            "cannot read the question folder {}: {e}. Give a folder of .toml question files.",
            dir.display()
        )
    })?;
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml") && p.is_file())
        .collect();
    paths.sort();
    if paths.is_empty() {
        bail!(
            "the question folder {} has no .toml files. A bank is one file per question; see \
             the README's \"Question files\" section for the format.",
            dir.display()
        );
    }
    Ok(paths
        .iter()
        .map(|p| {
            let text = std::fs::read(p)
                .map_err(|e| format!("cannot read it: {e}"))
                .and_then(|b| {
                    String::from_utf8(b).map_err(|e| {
                        format!(
                            "it is not UTF-8 text (invalid byte at offset {})",
                            e.utf8_error().valid_up_to()
                        )
                    })
                });
            (p.display().to_string(), text)
        })
        .collect())
}

fn toml_error(path: &str, text: &str, e: &toml::de::Error) -> String {
    let msg = e.message().trim();
    match e.span() {
        Some(span) => {
            let (line, col) = line_col(text, unknown_key_offset(text, span.start, msg));
            format!("{path}:{line}:{col}: {msg}")
        }
        None => format!("{path}: {msg}"),
    }
}

/// For "unknown field `k`" inside a table that starts at `start`, the offset of the line
/// `k = …` itself; `start` otherwise.
fn unknown_key_offset(text: &str, start: usize, msg: &str) -> usize {
    let Some(key) = msg
        .split_once("unknown field `")
        .and_then(|(_, rest)| rest.split_once('`'))
        .map(|(k, _)| k)
    else {
        return start;
    };
    let mut offset = start.min(text.len());
    for line in text[offset..].split_inclusive('\n') {
        let rest = line.trim_start();
        if rest
            .strip_prefix(key)
            .is_some_and(|r| r.trim_start().starts_with('='))
        {
            return offset + (line.len() - rest.len());
        }
        offset += line.len();
    }
    start
}

/// 1-based line and column (in characters) of a byte offset.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

/// `path:line` of `key = …` in the file, or just `path`.
fn at(q: &Question, text: &str, key: &str) -> String {
    let line = text.lines().position(|l| {
        let l = l.trim_start();
        l.strip_prefix(key)
            .is_some_and(|rest| rest.trim_start().starts_with('='))
    });
    match line {
        Some(n) => format!("{}:{}", q.source, n + 1),
        None => q.source.clone(),
    }
}

fn check(q: &Question, text: &str, problems: &mut Vec<String>, max_bytes: u64) {
    let mut fail = |key: &str, msg: String| problems.push(format!("{}: {msg}", at(q, text, key)));
    if q.format_version != FORMAT_VERSION {
        fail(
            "format_version",
            format!(
                "format_version {} is not supported; this gradtutor reads format_version = {FORMAT_VERSION}",
                q.format_version
            ),
        );
    }
    if q.id == 0 {
        fail("id", "id must be a positive whole number".into());
    }
    if q.slug.is_empty()
        || !q
            .slug
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    {
        fail(
            "slug",
            format!(
                "slug '{}' must be lowercase letters, digits and hyphens",
                q.slug
            ),
        );
    }
    for (key, value) in [
        ("title", &q.title),
        ("question", &q.question),
        ("answer", &q.answer),
    ] {
        if value.trim().is_empty() {
            fail(key, format!("{key} is empty"));
        }
    }
    if q.key_points.is_empty() || q.key_points.iter().any(|k| k.trim().is_empty()) {
        fail(
            "key_points",
            "key_points needs at least one point, and no empty ones".into(),
        );
    }
    for c in &q.code {
        if c.source.trim().is_empty() || c.caption.trim().is_empty() {
            fail(
                "caption",
                "every [[code]] block needs a caption and a non-empty source".into(),
            );
        }
    }
    if q.experiment.takeaway.trim().is_empty() {
        fail("takeaway", "the experiment's takeaway is empty".into());
    }
    match experiments::find(&q.experiment.demo) {
        Err(e) => fail("demo", e.to_string()),
        Ok(exp) => {
            if let Err(e) = exp.validate(&q.experiment.settings, max_bytes) {
                fail("demo", format!("the [experiment] preset cannot run: {e}"));
            }
        }
    }
    for item in &q.quiz {
        let line = text.lines().position(|l| {
            l.trim_start().starts_with("prompt") && l.contains(first_words(&item.prompt))
        });
        let place = line.map_or(q.source.clone(), |n| format!("{}:{}", q.source, n + 1));
        match item.kind() {
            Err(e) => problems.push(format!("{place}: {e}")),
            Ok(Kind::Numeric { .. }) => {
                if let Ok(exp) = experiments::find(&q.experiment.demo)
                    && let Err(e) = exp.validate(&item.settings(q), max_bytes)
                {
                    problems.push(format!("{place}: this numeric quiz item cannot run: {e}"));
                }
            }
            Ok(Kind::Choice { .. }) => {}
        }
    }
    if let Some(t) = &q.train {
        let line = text.lines().position(|l| l.trim() == "[train]");
        let place = line.map_or(q.source.clone(), |n| format!("{}:{}", q.source, n + 1));
        if t.takeaway.trim().is_empty() {
            problems.push(format!("{place}: the [train] takeaway is empty"));
        }
        if let Err(e) = t.settings.config().and_then(|c| c.check(max_bytes)) {
            problems.push(format!("{place}: the [train] preset cannot run: {e}"));
        }
    }
}

/// The first few words of a prompt, to find its line in the file.
fn first_words(prompt: &str) -> &str {
    let end = prompt
        .char_indices()
        .filter(|(_, c)| c.is_whitespace())
        .nth(3)
        .map_or(prompt.len(), |(i, _)| i);
    &prompt[..end]
}

fn duplicates(
    qs: &[Question],
    key: impl Fn(&Question) -> String,
    what: &str,
    problems: &mut Vec<String>,
) {
    let mut seen: HashMap<String, &str> = HashMap::new();
    for q in qs {
        let k = key(q);
        if let Some(first) = seen.get(&k) {
            problems.push(format!(
                "{}: duplicate {what} {k} (also in {first})",
                q.source
            ));
        } else {
            seen.insert(k, &q.source);
        }
    }
}
