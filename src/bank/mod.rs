//! The question bank: question files, embedded at build time or read from a folder, and
//! validated as a whole before anything is shown. `format` is the file format, `load` reads
//! one file into it (`gradtutor check`, in `crate::check`, runs what loading cannot).

pub mod format;
pub mod load;
mod measure;

pub use format::{Claim, CodeBlock, ItemKind, Preset, Question, QuizItem, TrainPreset};
pub use measure::{fill, read_figure};

use anyhow::{Result, bail};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

include!(concat!(env!("OUT_DIR"), "/embedded_questions.rs"));

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
        Self::from_files(read_dir(dir)?, escape_path(dir), max_bytes)
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
            match text {
                Ok(text) => {
                    questions.extend(load::question(&path, &text, max_bytes, &mut problems))
                }
                Err(e) => problems.push(format!("{path}: {e}")),
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
        bail!(
            "there is no question '{}'.{hint} Run `gradtutor list` to see every id and slug.",
            crate::format::escape(key, 40)
        )
    }

    /// `ids 1–12` or `ids 1–3, 7`.
    fn id_ranges(&self) -> String {
        let ids: Vec<usize> = self.questions.iter().map(|q| q.id as usize).collect();
        format!("ids {}", crate::format::span_of(&ids))
    }
}

/// The most a question file may hold: a long question is a few tens of KiB.
pub const MAX_FILE_BYTES: u64 = 1 << 20;

/// Every `*.toml` entry of `dir`, sorted by name, each with its text or why it cannot be
/// read (a link that dangles or loops, something that is not a regular file, a file over
/// [`MAX_FILE_BYTES`] or not UTF-8). Names are escaped for messages.
pub fn read_dir(dir: &Path) -> Result<Vec<(String, Result<String, String>)>> {
    let entries = std::fs::read_dir(dir).map_err(|e| {
        anyhow::anyhow!(
            "cannot read the question folder {}: {e}. Give a folder of .toml question files.",
            escape_path(dir)
        )
    })?;
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml") && !p.is_dir())
        .collect();
    paths.sort();
    if paths.is_empty() {
        bail!(
            "the question folder {} has no .toml files. A bank is one file per question; see \
             the README's \"Question files\" section for the format.",
            escape_path(dir)
        );
    }
    Ok(paths
        .iter()
        .map(|p| (escape_path(p), read_file(p)))
        .collect())
}

/// A path as messages show it: control characters escaped, so a name cannot forge a line.
fn escape_path(p: &Path) -> String {
    crate::format::escape(&p.display().to_string(), usize::MAX)
}

/// One question file's text, refusing what is not a regular file, too large, or not UTF-8.
fn read_file(p: &Path) -> Result<String, String> {
    use std::io::Read;
    // Follows links: a link that dangles or loops fails here, with the reason.
    let meta = std::fs::metadata(p).map_err(|e| format!("cannot read it: {e}"))?;
    if !meta.is_file() {
        return Err("it is not a regular file".into());
    }
    let too_big = || {
        format!(
            "it is larger than {}, the most a question file may hold",
            crate::format::human_bytes(MAX_FILE_BYTES.into())
        )
    };
    if meta.len() > MAX_FILE_BYTES {
        return Err(too_big());
    }
    let mut bytes = Vec::new();
    std::fs::File::open(p)
        .and_then(|f| f.take(MAX_FILE_BYTES + 1).read_to_end(&mut bytes))
        .map_err(|e| format!("cannot read it: {e}"))?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(too_big());
    }
    String::from_utf8(bytes).map_err(|e| {
        format!(
            "it is not UTF-8 text (invalid byte at offset {})",
            e.utf8_error().valid_up_to()
        )
    })
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
