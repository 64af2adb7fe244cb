//! A student's progress: questions studied, quiz attempts and scores, in one JSON file under
//! the user's data folder. Every write goes to a temporary file that is then renamed over the
//! old one, so a crash or a kill mid-write leaves the previous file whole. A file that is not
//! ours, or is damaged, is moved aside with a backup name, never overwritten.

use anyhow::{Context, Result, anyhow};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

/// Marks a file as ours.
const FORMAT: &str = "gradtutor-progress";
const VERSION: u32 = 1;
/// Test hook: sleep this many milliseconds halfway through writing the temporary file, so
/// that a test can kill the process mid-write.
const SLOW_WRITE_ENV: &str = "GRADTUTOR_SLOW_WRITE_MS";

/// Everything recorded.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Progress {
    pub format: String,
    pub version: u32,
    /// Per question slug: how often and when it was last studied (`ask` or `tour`).
    pub studied: BTreeMap<String, Studied>,
    pub quizzes: Vec<Attempt>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Studied {
    pub times: u32,
    pub last: String,
}

/// One quiz.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Attempt {
    pub at: String,
    pub items: Vec<ItemResult>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ItemResult {
    /// The question's slug.
    pub question: String,
    /// The item's index among the question's quiz items.
    pub item: usize,
    pub correct: bool,
}

impl Default for Progress {
    fn default() -> Self {
        Progress {
            format: FORMAT.into(),
            version: VERSION,
            studied: BTreeMap::new(),
            quizzes: Vec::new(),
        }
    }
}

impl Progress {
    /// Records that a question was studied now.
    pub fn studied(&mut self, slug: &str) {
        let e = self.studied.entry(slug.to_string()).or_insert(Studied {
            times: 0,
            last: String::new(),
        });
        e.times += 1;
        e.last = now();
    }

    /// Per question slug: (right, asked) over every quiz.
    pub fn scores(&self) -> BTreeMap<&str, (usize, usize)> {
        let mut out: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
        for r in self.quizzes.iter().flat_map(|a| &a.items) {
            let e = out.entry(r.question.as_str()).or_default();
            e.0 += usize::from(r.correct);
            e.1 += 1;
        }
        out
    }
}

/// Where progress is kept.
#[derive(Clone, Debug)]
pub struct Store {
    pub path: PathBuf,
}

impl Store {
    /// `path` if given (`--progress` or GRADTUTOR_PROGRESS), else `gradtutor/progress.json`
    /// in the user's data folder (`$XDG_DATA_HOME`, or `~/.local/share`, on Linux).
    pub fn locate(path: Option<&Path>) -> Result<Store> {
        let path = match path {
            Some(p) => p.to_path_buf(),
            None => dirs::data_dir()
                .ok_or_else(|| {
                    anyhow!(
                        "cannot find your data folder to keep progress in; give one with \
                         --progress FILE"
                    )
                })?
                .join("gradtutor")
                .join("progress.json"),
        };
        Ok(Store { path })
    }

    /// Reads the progress; none yet is an empty record. A damaged or foreign file is moved
    /// aside (the message says where) and an empty record returned.
    pub fn load(&self, warn: &mut dyn FnMut(String)) -> Result<Progress> {
        let text = match fs::read(&self.path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Progress::default()),
            Err(e) => return Err(anyhow!("cannot read {}: {e}", self.path.display())),
        };
        let problem = match serde_json::from_slice::<Progress>(&text) {
            Ok(p) if p.format == FORMAT && p.version == VERSION => return Ok(p),
            Ok(p) if p.format == FORMAT => format!("it is version {}, not {VERSION}", p.version),
            Ok(_) => "it is not a gradtutor progress file".to_string(),
            Err(e) => format!("it is damaged or not a gradtutor progress file ({e})"),
        };
        let backup = self.backup_path();
        fs::rename(&self.path, &backup).with_context(|| {
            format!(
                "{} cannot be used ({problem}) and cannot be moved aside",
                self.path.display()
            )
        })?;
        warn(format!(
            "{} could not be used: {problem}. It was moved to {} and a new record begun.",
            self.path.display(),
            backup.display()
        ));
        Ok(Progress::default())
    }

    /// Writes `p` atomically: a temporary file in the same folder, flushed to disk, then
    /// renamed over the old file.
    pub fn save(&self, p: &Progress) -> Result<()> {
        let dir = self
            .path
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        let name = self
            .path
            .file_name()
            .ok_or_else(|| anyhow!("{} is not a file name", self.path.display()))?;
        let tmp = dir.join(format!(
            ".{}.tmp-{}",
            name.to_string_lossy(),
            std::process::id()
        ));
        let text = serde_json::to_string_pretty(p).expect("progress always serializes") + "\n";
        let write = || -> std::io::Result<()> {
            let mut f = fs::File::create(&tmp)?;
            let (head, tail) = text.as_bytes().split_at(text.len() / 2);
            f.write_all(head)?;
            if let Some(ms) = std::env::var(SLOW_WRITE_ENV)
                .ok()
                .and_then(|v| v.parse().ok())
            {
                f.flush()?;
                std::thread::sleep(std::time::Duration::from_millis(ms));
            }
            f.write_all(tail)?;
            f.sync_all()?;
            fs::rename(&tmp, &self.path)?;
            // Make the rename itself durable.
            if let Ok(d) = fs::File::open(dir) {
                let _ = d.sync_all();
            }
            Ok(())
        };
        write().map_err(|e| {
            let _ = fs::remove_file(&tmp);
            anyhow!("cannot save progress to {}: {e}", self.path.display())
        })
    }

    /// Loads, changes and saves the progress.
    pub fn update(
        &self,
        warn: &mut dyn FnMut(String),
        f: impl FnOnce(&mut Progress),
    ) -> Result<()> {
        let mut p = self.load(warn)?;
        f(&mut p);
        self.save(&p)
    }

    /// `progress.json.bak-20261129081500` (with a counter if that exists too).
    fn backup_path(&self) -> PathBuf {
        let stamp: String = now().chars().filter(char::is_ascii_digit).collect();
        let base = format!("{}.bak-{stamp}", self.path.display());
        let mut candidate = PathBuf::from(&base);
        let mut n = 1;
        while candidate.exists() {
            candidate = PathBuf::from(format!("{base}-{n}"));
            n += 1;
        }
        candidate
    }
}

/// The current time as `2026-11-29 08:15:00 UTC`.
pub fn now() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    utc(secs)
}

/// Seconds since 1970 as a UTC date and time (Howard Hinnant's days-to-civil algorithm).
pub fn utc(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02} UTC",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}
