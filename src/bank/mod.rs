//! The question bank: question files, embedded at build time or read from a folder, and
//! validated as a whole before anything is shown. `format` is the file format, `load` reads
//! one file into it, `check` is the instructor's `gradtutor check`.

pub mod check;
pub mod format;
pub mod load;
mod measure;

pub use format::{CodeBlock, ItemKind, Preset, Question, QuizItem, TrainPreset};

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
        bail!("there is no question '{key}'.{hint} Run `gradtutor list` to see every id and slug.")
    }

    /// `ids 1–12` or `ids 1–3, 7`.
    fn id_ranges(&self) -> String {
        let ids: Vec<usize> = self.questions.iter().map(|q| q.id as usize).collect();
        format!("ids {}", crate::format::span_of(&ids))
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
