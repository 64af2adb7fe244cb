//! The question bank: question files, embedded at build time or read from a folder, and
//! validated as a whole before anything is shown. `format` is the file format, `load` reads
//! one file into it (`gradtutor check`, in `crate::check`, runs what loading cannot).

pub(crate) mod format;
pub(crate) mod load;
mod measure;

pub(crate) use format::QuizItem;
pub use format::{CodeBlock, ItemKind, Question};
pub(crate) use measure::{blank, blank_training, fill, fill_training, read_figure};

use crate::format::escape_path;
use anyhow::{Result, bail};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

include!(concat!(env!("OUT_DIR"), "/embedded_questions.rs"));

/// The file in a question folder that holds the folder's settings rather than a question.
pub(crate) const SETTINGS_FILE: &str = "bank.toml";

/// A validated bank, sorted by id.
#[derive(Clone, Debug)]
pub struct Bank {
    pub questions: Vec<Question>,
    /// Where the bank comes from, for messages and handouts: `built-in bank`, a folder, or
    /// `built-in bank extended by FOLDER`.
    pub origin: String,
    /// The instructor's folder the bank was read from, if any.
    pub folder: Option<FolderUse>,
}

/// How a question folder is used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Use {
    /// Added to the built-in bank, a question with a built-in id taking that question's
    /// place; unless the folder's [`SETTINGS_FILE`] says `replace = true`.
    Extend,
    /// Instead of the built-in bank, whatever the folder's settings say.
    Replace,
}

/// What a bank took from an instructor's folder.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FolderUse {
    /// The folder, escaped for messages.
    pub name: String,
    /// True when the folder replaced the built-in bank, false when it extended it.
    pub replaces: bool,
    /// The ids of the folder's questions.
    pub ids: Vec<u32>,
    /// The ids of the built-in questions that a folder question of the same id replaced
    /// (when extending).
    pub overrides: Vec<u32>,
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

    /// The questions of the folder `dir`, used as `how` (and the folder's settings) say:
    /// instead of the built-in bank, or laid over it.
    pub fn from_folder(dir: &Path, how: Use, max_bytes: u64) -> Result<Bank> {
        let folder = read_folder(dir)?;
        let replaces = how == Use::Replace || folder.replace;
        let (mine, mut problems) = Self::parse(folder.files, max_bytes);
        problems.splice(0..0, folder.problems);
        let ids: Vec<u32> = mine.iter().map(|q| q.id).collect();
        let (questions, overrides, origin) = if replaces {
            (mine, Vec::new(), folder.name.clone())
        } else {
            let builtin = Self::embedded(max_bytes)?;
            let (questions, overrides, clashes) = merge(builtin.questions, mine);
            problems.extend(clashes);
            let origin = format!("built-in bank extended by {}", folder.name);
            (questions, overrides, origin)
        };
        fail_on(&problems, &origin)?;
        Ok(Bank {
            questions,
            origin,
            folder: Some(FolderUse {
                name: folder.name,
                replaces,
                ids,
                overrides,
            }),
        })
    }

    /// Whether question `id` came from an instructor's folder (not the built-in bank).
    pub fn from_instructor(&self, id: u32) -> bool {
        self.folder.as_ref().is_some_and(|f| f.ids.contains(&id))
    }

    /// Parses and validates every file; any problem in any file fails the whole bank, with
    /// every problem listed.
    pub fn from_files(
        files: Vec<(String, Result<String, String>)>,
        origin: String,
        max_bytes: u64,
    ) -> Result<Bank> {
        let (questions, problems) = Self::parse(files, max_bytes);
        fail_on(&problems, &origin)?;
        Ok(Bank {
            questions,
            origin,
            folder: None,
        })
    }

    /// The questions that parsed (sorted by id), and every problem found, each as
    /// `path[:line[:column]]: what is wrong`. A file with problems still gives its question
    /// where its own keys and `[experiment]` read, without the parts that failed: the bank is
    /// refused when there is any problem, and `check` runs what did read (and compares its
    /// id and slug), so that one run lists every problem.
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
        duplicates(
            &questions,
            |q| (q.id.to_string(), &q.id_at),
            "id",
            &mut problems,
        );
        duplicates(
            &questions,
            |q| (q.slug.clone(), &q.slug_at),
            "slug",
            &mut problems,
        );
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
        // The slugs in which the key starts a word (`precision`, `cell-path`, `init`);
        // where none has it, a near spelling.
        let lower = key.to_ascii_lowercase();
        let mut close: Vec<&Question> = self
            .questions
            .iter()
            .filter(|q| format!("-{}", q.slug).contains(&format!("-{lower}")))
            .collect();
        if close.is_empty() {
            let slugs = self.questions.iter().map(|q| q.slug.as_str());
            close.extend(
                crate::format::did_you_mean(&lower, slugs)
                    .and_then(|slug| self.questions.iter().find(|q| q.slug == slug)),
            );
        }
        let named: Vec<String> = close
            .iter()
            .map(|q| format!("'{}' (question {})", q.slug, q.id))
            .collect();
        let hint = match named.as_slice() {
            [] => String::new(),
            [one] => format!(" Did you mean {one}?"),
            [rest @ .., last] => format!(" Did you mean {} or {last}?", rest.join(", ")),
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
pub(crate) const MAX_FILE_BYTES: u64 = 1 << 20;

/// A question folder as read: its question files and what its settings file says.
pub(crate) struct Folder {
    /// The folder, escaped for messages.
    pub name: String,
    /// Every question file, sorted by name, with its text or why it cannot be read.
    pub files: Vec<(String, Result<String, String>)>,
    /// `replace = true` in the folder's [`SETTINGS_FILE`].
    pub replace: bool,
    /// The settings file's problems, each as `path[:line:column]: what is wrong`.
    pub problems: Vec<String>,
}

/// Every `*.toml` entry of `dir`, sorted by name, each with its text or why it cannot be
/// read (a link that dangles or loops, something that is not a regular file, a file over
/// [`MAX_FILE_BYTES`] or not UTF-8); [`SETTINGS_FILE`] is read as the folder's settings,
/// not as a question. Names are escaped for messages.
pub(crate) fn read_folder(dir: &Path) -> Result<Folder> {
    let entries = std::fs::read_dir(dir).map_err(|e| {
        anyhow::anyhow!(
            "cannot read the question folder {}: {e}. Give a folder of .toml question files.",
            escape_path(dir)
        )
    })?;
    let (mut folders, mut paths): (Vec<PathBuf>, Vec<PathBuf>) = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .partition(|p| p.is_dir());
    paths.sort();
    folders.sort();
    let settings = paths
        .iter()
        .position(|p| p.file_name().is_some_and(|n| n == SETTINGS_FILE))
        .map(|i| paths.remove(i));
    if paths.is_empty() {
        bail!(
            "the question folder {} has no question files (.toml files other than {}). A \
             bank is one file per question; see the README's \"Question files\" section for \
             the format, or start from the built-in ones with `gradtutor bank dump DIR`.",
            escape_path(dir),
            SETTINGS_FILE
        );
    }
    // A folder (or a link to one) named like a question file is named, not skipped: its
    // author meant a question there.
    let mut problems: Vec<String> = folders
        .iter()
        .map(|f| {
            format!(
                "{}: a folder (or a link to one), not a question file; rename it or move it \
                 out of the bank",
                escape_path(f)
            )
        })
        .collect();
    let replace = match settings {
        None => false,
        Some(p) => {
            let name = escape_path(&p);
            match read_file(&p) {
                Ok(text) => load::folder_settings(&name, &text, &mut problems),
                Err(e) => {
                    problems.push(format!("{name}: {e}"));
                    false
                }
            }
        }
    };
    Ok(Folder {
        name: escape_path(dir),
        files: paths
            .iter()
            .map(|p| (escape_path(p), read_file(p)))
            .collect(),
        replace,
        problems,
    })
}

/// Fails with every problem listed, if there is any.
fn fail_on(problems: &[String], origin: &str) -> Result<()> {
    if !problems.is_empty() {
        let n = problems.len();
        bail!(
            "the question bank ({origin}) has {n} problem{}:\n  {}",
            if n == 1 { "" } else { "s" },
            problems.join("\n  ")
        );
    }
    Ok(())
}

/// The built-in questions with a folder's laid over them: a folder question with a
/// built-in id takes that question's place, the others are added. Returns the bank sorted
/// by id, the built-in ids replaced, and a problem for each folder question whose slug is a
/// remaining built-in question's (`ask SLUG` and progress records would mix them up).
pub(crate) fn merge(
    builtin: Vec<Question>,
    folder: Vec<Question>,
) -> (Vec<Question>, Vec<u32>, Vec<String>) {
    let mut overrides = Vec::new();
    let mut kept = Vec::new();
    for b in builtin {
        if folder.iter().any(|q| q.id == b.id) {
            overrides.push(b.id);
        } else {
            kept.push(b);
        }
    }
    let mut problems = Vec::new();
    for q in &folder {
        if let Some(b) = kept.iter().find(|b| b.slug == q.slug) {
            problems.push(format!(
                "{}: slug {} is already built-in question {}'s ({}); give this question \
                 another slug, or id {} to replace that question",
                q.slug_at, q.slug, b.id, b.source, b.id
            ));
        }
    }
    kept.extend(folder);
    kept.sort_by_key(|q| q.id);
    (kept, overrides, problems)
}

/// What `bank dump` writes beside the question files: the folder's settings, saying that
/// the folder is a whole bank.
const DUMPED_SETTINGS: &str = "\
# The settings of this question folder; gradtutor never reads this file as a question.
# replace = true: `--questions DIR` uses this folder's questions instead of the built-in
# bank, so a question deleted here is gone. replace = false: the folder's questions are
# added to the built-in bank, each one with a built-in id replacing that question.
replace = true
";

/// Writes the built-in question files, and a [`SETTINGS_FILE`] saying `replace = true`, into
/// `dir` (made if missing). Unless `force`, nothing is written if any of them exists.
/// Returns the paths written.
pub(crate) fn dump(dir: &Path, force: bool) -> Result<Vec<PathBuf>> {
    let shown = escape_path(dir);
    if dir.exists() && !dir.is_dir() {
        bail!("cannot dump the bank into {shown}: it is not a folder");
    }
    std::fs::create_dir_all(dir)
        .map_err(|e| anyhow::anyhow!("cannot create the folder {shown}: {e}"))?;
    let files: Vec<(PathBuf, &str)> = EMBEDDED
        .iter()
        .map(|(name, text)| (dir.join(name), *text))
        .chain([(dir.join(SETTINGS_FILE), DUMPED_SETTINGS)])
        .collect();
    let taken: Vec<String> = files
        .iter()
        .filter(|(p, _)| std::fs::symlink_metadata(p).is_ok())
        .filter_map(|(p, _)| p.file_name().map(|n| escape_path(Path::new(n))))
        .collect();
    if !taken.is_empty() && !force {
        let more = match taken.len() {
            n if n > 3 => format!(" and {} more", n - 3),
            _ => String::new(),
        };
        bail!(
            "{shown} already has {}{more}; nothing was written. Give --force to overwrite \
             them, or dump into a new folder.",
            taken[..taken.len().min(3)].join(", ")
        );
    }
    // Checked before anything is written: a FIFO would block the write forever, and a link
    // out of the folder would have --force overwrite a file elsewhere.
    let home = std::fs::canonicalize(dir)
        .map_err(|e| anyhow::anyhow!("cannot read the folder {shown}: {e}"))?;
    for (path, _) in &files {
        let Ok(meta) = std::fs::symlink_metadata(path) else {
            continue;
        };
        let name = escape_path(path);
        if meta.file_type().is_symlink() {
            let inside = std::fs::canonicalize(path)
                .ok()
                .is_some_and(|to| to.parent() == Some(home.as_path()));
            if !inside {
                bail!(
                    "{name} is a symbolic link to a file outside {shown} (or to none); \
                     nothing was written. Remove the link to dump there."
                );
            }
        }
        if !std::fs::metadata(path).is_ok_and(|m| m.is_file()) {
            bail!("{name} is not a regular file; nothing was written");
        }
    }
    for (path, text) in &files {
        std::fs::write(path, text)
            .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", escape_path(path)))?;
    }
    Ok(files.into_iter().map(|(p, _)| p).collect())
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

/// Reports every question whose `key` an earlier one has, at the key's place in its file.
fn duplicates<'q>(
    qs: &'q [Question],
    key: impl Fn(&'q Question) -> (String, &'q String),
    what: &str,
    problems: &mut Vec<String>,
) {
    let mut seen: HashMap<String, &str> = HashMap::new();
    for q in qs {
        let (k, at) = key(q);
        if let Some(first) = seen.get(&k) {
            problems.push(format!("{at}: duplicate {what} {k} (also at {first})"));
        } else {
            seen.insert(k, at);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Bank;

    /// The hint `ask KEY` gives for a key that is no slug.
    fn hint(key: &str) -> String {
        let bank = Bank::embedded(1 << 32).unwrap();
        bank.find(key).unwrap_err().to_string()
    }

    #[test]
    fn slugs_with_a_word_starting_so_or_a_near_spelling_are_suggested() {
        // Catches: losing the word rule (Jaro–Winkler alone scores `precision` against
        // `mixed-precision`, and `init` against the initialization slugs, under the 0.8
        // threshold), or naming one of several slugs that share a word as if it were the
        // only one.
        assert!(hint("precision").contains("Did you mean 'mixed-precision' (question 16)?"));
        assert!(hint("Cell-Path").contains("'lstm-cell-path' (question 14)"));
        assert!(hint("he").contains("'he-initialization' (question 7)"));
        assert!(hint("init").contains(
            "Did you mean 'xavier-initialization' (question 2), 'weight-initialization' \
             (question 5) or 'he-initialization' (question 7)?"
        ));
        assert!(hint("vanish").contains("'vanishing-gradients' (question 1)"));
        assert!(hint("initialization").contains(
            "Did you mean 'xavier-initialization' (question 2), 'weight-initialization' \
             (question 5) or 'he-initialization' (question 7)?"
        ));
        assert!(hint("Cell-Path").starts_with("there is no question 'Cell-Path'."));
    }
}
