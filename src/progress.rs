//! A student's progress: questions studied, quiz attempts and scores, in one JSON file under
//! the user's data folder. Every write goes to a temporary file that is then renamed over the
//! old one, so a crash or a kill mid-write leaves the previous file whole; a lock file makes
//! runs at the same time take turns. A file that is not ours, or is damaged, is moved aside
//! with a backup name by a command that records, never overwritten; a read-only command moves
//! nothing, and a symbolic link to such a file is refused, never moved through. One that is
//! not a regular file, or is too large, is refused; what is written stays under the size that
//! is read.

use anyhow::{Context, Result, anyhow};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fs::{self, TryLockError};
use std::io::{ErrorKind, Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Marks a file as ours.
const FORMAT: &str = "gradtutor-progress";
const VERSION: u32 = 1;
/// Test hook: sleep this many milliseconds halfway through writing the temporary file, so
/// that a test can kill the process mid-write.
const SLOW_WRITE_ENV: &str = "GRADTUTOR_SLOW_WRITE_MS";
/// The most a progress file may hold. A quiz adds well under 1 KiB, so a real record stays
/// far below it; anything larger is refused rather than read into memory.
pub(crate) const MAX_BYTES: u64 = 16 << 20;
/// The longest name `progress --name` accepts, in characters.
pub(crate) const MAX_NAME: usize = 60;
/// What `progress --json` prints is marked with this `format`; it is a report, not a record.
pub(crate) const REPORT_FORMAT: &str = "gradtutor-progress-report";
/// How long a run waits for another to finish writing before it gives up on its record.
const LOCK_WAIT: Duration = Duration::from_secs(10);
/// Test hook: wait this many milliseconds for the lock instead of [`LOCK_WAIT`], so that a
/// test of giving up does not sit out the full wait.
const LOCK_WAIT_ENV: &str = "GRADTUTOR_LOCK_WAIT_MS";

/// [`LOCK_WAIT`], or the test hook's wait where it is set to a number of milliseconds.
fn lock_wait() -> Duration {
    std::env::var(LOCK_WAIT_ENV)
        .ok()
        .and_then(|v| v.parse().ok())
        .map_or(LOCK_WAIT, Duration::from_millis)
}
/// Without a lock (a file system that has none), a temporary this old was left by a killed
/// run: live writes take well under a second. With the lock held, every temporary is one.
const STALE_TMP: Duration = Duration::from_secs(15 * 60);

/// Everything recorded.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Progress {
    pub format: String,
    pub version: u32,
    /// Who the student is, as `progress --name` set it; `roster` shows it (else the file's
    /// name). Absent from files that never set one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
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
    /// The answer as given: the choice's letter, or the number as parsed
    /// ([`crate::quiz::recorded`]). Absent from records written before it was kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answer: Option<String>,
}

impl Default for Progress {
    fn default() -> Self {
        Progress {
            format: FORMAT.into(),
            version: VERSION,
            name: None,
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
        // A count at u32::MAX stays there rather than wrapping to 0.
        e.times = e.times.saturating_add(1);
        e.last = now();
    }

    /// Adds what `new` recorded (a session's own record, begun empty) to this one.
    pub fn merge(&mut self, new: Progress) {
        for (slug, s) in new.studied {
            let e = self.studied.entry(slug).or_insert(Studied {
                times: 0,
                last: String::new(),
            });
            e.times = e.times.saturating_add(s.times);
            e.last = s.last;
        }
        self.quizzes.extend(new.quizzes);
    }

    /// Sets the student's name (`None` clears it). A name is one line of at most
    /// [`MAX_NAME`] characters, without control characters; surrounding spaces are dropped and
    /// an empty name clears it.
    pub fn set_name(&mut self, name: &str) -> Result<()> {
        let name = name.trim();
        if let Some(c) = name.chars().find(|c| c.is_control()) {
            return Err(anyhow!(
                "a name may not hold control characters (it holds U+{:04X})",
                c as u32
            ));
        }
        if let Some(c) = name.chars().find(|&c| crate::format::is_bidi(c)) {
            return Err(anyhow!(
                "a name may not hold bidirectional-text controls (it holds U+{:04X})",
                c as u32
            ));
        }
        if name.chars().count() > MAX_NAME {
            return Err(anyhow!("a name may be at most {MAX_NAME} characters long"));
        }
        self.name = (!name.is_empty()).then(|| name.to_string());
        Ok(())
    }

    /// Per question slug and item index: (right, asked) over every quiz.
    pub fn item_scores(&self) -> BTreeMap<(&str, usize), (usize, usize)> {
        let mut out: BTreeMap<(&str, usize), (usize, usize)> = BTreeMap::new();
        for r in self.quizzes.iter().flat_map(|a| &a.items) {
            let e = out.entry((r.question.as_str(), r.item)).or_default();
            e.0 += usize::from(r.correct);
            e.1 += 1;
        }
        out
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

    /// Reads the progress, for a command that only shows it: none yet is an empty record,
    /// and so is a damaged or foreign file, with a warning; nothing is moved or written.
    pub fn load(&self, warn: &mut dyn FnMut(String)) -> Result<Progress> {
        let Some(text) = self.read(&self.target()?)? else {
            return Ok(Progress::default());
        };
        Ok(parse(&text).unwrap_or_else(|problem| {
            warn(format!(
                "{} cannot be used ({problem}); it is left as it is, and an empty record is shown",
                self.path.display()
            ));
            Progress::default()
        }))
    }

    /// Writes `p` atomically (temporary file, then rename), holding the lock so that it never
    /// lands in the middle of another run's [`Store::update`]. A file that is there and is not
    /// a progress file is refused, not replaced.
    pub fn save(&self, p: &Progress) -> Result<()> {
        let target = self.target()?;
        let lock = self.lock(&target)?;
        if let Some(text) = self.read(&target)?
            && let Err(problem) = parse(&text)
        {
            return Err(anyhow!(
                "{} cannot be replaced: {problem}",
                self.path.display()
            ));
        }
        self.write(&target, p, lock.is_some())
    }

    /// Loads, changes and saves the progress under one lock, so that runs at the same time
    /// each add their record instead of the last one's rename winning.
    pub fn update(
        &self,
        warn: &mut dyn FnMut(String),
        f: impl FnOnce(&mut Progress),
    ) -> Result<()> {
        let target = self.target()?;
        // A link to a file that is not ours is refused before a lock file is made beside it.
        if target != self.path
            && let Some(text) = self.read(&target)?
            && let Err(problem) = parse(&text)
        {
            return Err(self.foreign_link(&target, &problem));
        }
        let lock = self.lock(&target)?;
        let mut p = self.load_from(&target, warn)?;
        f(&mut p);
        self.write(&target, &p, lock.is_some())
    }

    /// The file to read and replace: `path` with symbolic links followed, so that a save
    /// writes through a link to where it points instead of replacing the link.
    fn target(&self) -> Result<PathBuf> {
        let mut p = self.path.clone();
        // As many hops as Linux follows before ELOOP.
        for _ in 0..40 {
            match fs::symlink_metadata(&p) {
                Ok(m) if m.file_type().is_symlink() => {
                    let to = fs::read_link(&p)
                        .with_context(|| format!("cannot follow the link {}", p.display()))?;
                    p = match p.parent() {
                        Some(dir) if to.is_relative() => dir.join(to),
                        _ => to,
                    };
                }
                _ => return Ok(p),
            }
        }
        Err(anyhow!(
            "{} is a loop of symbolic links",
            self.path.display()
        ))
    }

    /// Reads the progress to change it: a damaged or foreign file is moved aside (the message
    /// says where) and an empty record returned, unless `path` is a symbolic link to it:
    /// a file elsewhere that is not ours is refused, never moved or replaced.
    fn load_from(&self, target: &Path, warn: &mut dyn FnMut(String)) -> Result<Progress> {
        let Some(text) = self.read(target)? else {
            return Ok(Progress::default());
        };
        let problem = match parse(&text) {
            Ok(p) => return Ok(p),
            Err(problem) => problem,
        };
        if target != self.path {
            return Err(self.foreign_link(target, &problem));
        }
        let backup = backup_path(target);
        fs::rename(target, &backup).with_context(|| {
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

    /// The refusal of a link from `path` to `target`, a file that is not a progress file.
    fn foreign_link(&self, target: &Path, problem: &str) -> anyhow::Error {
        anyhow!(
            "{} is a symbolic link to {}, which cannot be used ({problem}); nothing was moved \
             or written. Point the link at a progress file, or remove it",
            self.path.display(),
            target.display()
        )
    }

    /// The record in the file, to read someone else's progress (`roster`): nothing is moved
    /// or written, and a file that is missing, damaged, not ours or too large is an error
    /// naming it.
    pub fn inspect(&self) -> Result<Progress> {
        let target = self.target()?;
        let Some(text) = self.read(&target)? else {
            return Err(anyhow!(
                "cannot read {}: there is no such file",
                self.path.display()
            ));
        };
        parse(&text).map_err(|problem| anyhow!("{} cannot be used: {problem}", self.path.display()))
    }

    /// The file's bytes, or `None` if there is none yet. Its type is checked before it is
    /// opened (a FIFO would block the open) and again on the open file; at most
    /// [`MAX_BYTES`] + 1 bytes are read, so `/dev/zero`-like inputs cannot fill memory.
    fn read(&self, target: &Path) -> Result<Option<Vec<u8>>> {
        let cannot = |e: std::io::Error| anyhow!("cannot read {}: {e}", self.path.display());
        match fs::metadata(target) {
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(cannot(e)),
            Ok(m) => self.regular(&m)?,
        }
        let file = match fs::File::open(target) {
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
            r => r.map_err(cannot)?,
        };
        self.regular(&file.metadata().map_err(cannot)?)?;
        let mut bytes = Vec::new();
        file.take(MAX_BYTES + 1)
            .read_to_end(&mut bytes)
            .map_err(cannot)?;
        if bytes.len() as u64 > MAX_BYTES {
            return Err(anyhow!(
                "{} is larger than {} MiB, the most a progress file may hold; move it aside \
                 to begin a new record",
                self.path.display(),
                MAX_BYTES >> 20
            ));
        }
        Ok(Some(bytes))
    }

    /// Refuses anything but a regular file: progress is replaced by rename, which would put a
    /// regular file in place of a FIFO or device, and reading those can block or never end.
    fn regular(&self, m: &fs::Metadata) -> Result<()> {
        if m.is_file() {
            return Ok(());
        }
        let ft = m.file_type();
        #[cfg(unix)]
        let kind = {
            use std::os::unix::fs::FileTypeExt;
            if ft.is_fifo() {
                "a FIFO"
            } else if ft.is_char_device() || ft.is_block_device() {
                "a device"
            } else if ft.is_socket() {
                "a socket"
            } else if ft.is_dir() {
                "a folder"
            } else {
                "something else"
            }
        };
        #[cfg(not(unix))]
        let kind = if ft.is_dir() {
            "a folder"
        } else {
            "something else"
        };
        Err(anyhow!(
            "{} is not a regular file (it is {kind}); a progress file must be one",
            self.path.display()
        ))
    }

    /// Takes the lock `<target>.lock`, a sibling that is never replaced (the data file is,
    /// by rename, so a lock on it would be lost). Waits at most [`lock_wait`]: a stuck run
    /// costs the others their record, never their lesson. Released when the file is dropped.
    fn lock(&self, target: &Path) -> Result<Option<fs::File>> {
        // Refuse a FIFO or device before making `/dev/zero.lock` and the like beside it.
        match fs::metadata(target) {
            Ok(m) => self.regular(&m)?,
            Err(e) if e.kind() == ErrorKind::NotFound => {}
            Err(e) => return Err(anyhow!("cannot read {}: {e}", self.path.display())),
        }
        let dir = folder(target);
        fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        let mut path = target.as_os_str().to_owned();
        path.push(".lock");
        let path = PathBuf::from(path);
        let file = fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .with_context(|| format!("cannot open the lock file {}", path.display()))?;
        let (start, wait) = (Instant::now(), lock_wait());
        loop {
            match file.try_lock() {
                Ok(()) => return Ok(Some(file)),
                Err(TryLockError::WouldBlock) if start.elapsed() < wait => {
                    std::thread::sleep(Duration::from_millis(10));
                }
                Err(TryLockError::WouldBlock) => {
                    return Err(anyhow!(
                        "another gradtutor has held {} for {} s; gave up waiting",
                        path.display(),
                        wait.as_secs_f64()
                    ));
                }
                // A file system without locks: carry on as before locking existed.
                Err(TryLockError::Error(e)) if e.kind() == ErrorKind::Unsupported => {
                    return Ok(None);
                }
                Err(TryLockError::Error(e)) => {
                    return Err(anyhow!("cannot lock {}: {e}", path.display()));
                }
            }
        }
    }

    /// Writes `p` to `target` atomically: a new temporary file in the same folder (random
    /// name, O_EXCL, so a planted symlink is never followed) with the old file's permissions,
    /// flushed to disk, then renamed over the old file. Call with the lock held.
    /// Indented while that fits in [`MAX_BYTES`], else on one line, so that what is written
    /// can always be read back; past that it is refused. `locked`: the lock is held, so
    /// every temporary left beside the file is a killed writer's.
    fn write(&self, target: &Path, p: &Progress, locked: bool) -> Result<()> {
        let mut text = serde_json::to_string_pretty(p).expect("progress always serializes") + "\n";
        if text.len() as u64 > MAX_BYTES {
            text = serde_json::to_string(p).expect("progress always serializes") + "\n";
        }
        self.write_text(target, &text, "progress", None, locked)
    }

    /// Writes `text` to `target` as [`Store::write`] describes; `what` names the record in
    /// messages, and `mode` (Unix) replaces the file's permissions when given.
    fn write_text(
        &self,
        target: &Path,
        text: &str,
        what: &str,
        mode: Option<u32>,
        locked: bool,
    ) -> Result<()> {
        if text.len() as u64 > MAX_BYTES {
            return Err(anyhow!(
                "the {what} in {} would be larger than {} MiB, the most a {what} file may \
                 hold; move the file aside to begin a new record",
                self.path.display(),
                MAX_BYTES >> 20
            ));
        }
        let old = match fs::metadata(target) {
            Ok(m) => {
                self.regular(&m)?;
                Some(m.permissions())
            }
            Err(e) if e.kind() == ErrorKind::NotFound => None,
            Err(e) => {
                return Err(anyhow!(
                    "cannot save {what} to {}: {e}",
                    self.path.display()
                ));
            }
        };
        #[cfg(unix)]
        let old = match mode {
            Some(mode) => {
                use std::os::unix::fs::PermissionsExt;
                Some(fs::Permissions::from_mode(mode))
            }
            None => old,
        };
        #[cfg(not(unix))]
        let _ = mode;
        let dir = folder(target);
        fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        let name = target
            .file_name()
            .ok_or_else(|| anyhow!("{} is not a file name", self.path.display()))?;
        let prefix = format!(".{}.tmp-", name.to_string_lossy());
        remove_stale(dir, &prefix, locked);
        let write = || -> std::io::Result<()> {
            let mut builder = tempfile::Builder::new();
            builder.prefix(&prefix);
            // Created no wider than the old file (or than the umask allows), then set exactly.
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                let mode = old.as_ref().map_or(0o666, |p| p.mode() & 0o777);
                builder.permissions(fs::Permissions::from_mode(mode));
            }
            let mut tmp = builder.tempfile_in(dir)?;
            #[cfg(unix)]
            if let Some(perm) = &old {
                tmp.as_file().set_permissions(perm.clone())?;
            }
            let (head, tail) = text.as_bytes().split_at(text.len() / 2);
            tmp.write_all(head)?;
            if let Some(ms) = std::env::var(SLOW_WRITE_ENV)
                .ok()
                .and_then(|v| v.parse().ok())
            {
                tmp.flush()?;
                std::thread::sleep(Duration::from_millis(ms));
            }
            tmp.write_all(tail)?;
            tmp.as_file().sync_all()?;
            // On failure the temporary is dropped, which deletes it.
            tmp.persist(target).map_err(|e| e.error)?;
            // Make the rename itself durable.
            if let Ok(d) = fs::File::open(dir) {
                let _ = d.sync_all();
            }
            Ok(())
        };
        write().map_err(|e| anyhow!("cannot save {what} to {}: {e}", self.path.display()))
    }

    /// Holds the lock of another JSON record kept as progress is (the live class's session
    /// file) until the returned [`Held`] is dropped: its reads and atomic writes then need
    /// no further locking, and a second process on the same file waits, then gives up.
    pub(crate) fn hold(&self) -> Result<Held> {
        let target = self.target()?;
        let lock = self.lock(&target)?;
        Ok(Held {
            store: self.clone(),
            target,
            lock,
        })
    }

    /// The file's bytes, read as [`Store::inspect`] reads (nothing moved or written); `None`
    /// if there is no such file.
    pub(crate) fn read_bytes(&self) -> Result<Option<Vec<u8>>> {
        self.read(&self.target()?)
    }
}

/// A record file whose lock is held (see [`Store::hold`]).
#[derive(Debug)]
pub(crate) struct Held {
    store: Store,
    target: PathBuf,
    lock: Option<fs::File>,
}

impl Held {
    /// The file's bytes, `None` if there is none yet (checks as [`Store::load`]'s).
    pub(crate) fn read(&self) -> Result<Option<Vec<u8>>> {
        self.store.read(&self.target)
    }

    /// Replaces the file with `text` atomically (temporary, flush to disk, rename), `what`
    /// naming it in messages; `mode` sets its permissions on Unix.
    pub(crate) fn write(&self, text: &str, what: &str, mode: Option<u32>) -> Result<()> {
        self.store
            .write_text(&self.target, text, what, mode, self.lock.is_some())
    }
}

/// A record from a file's bytes, or what is wrong with them. Blank (made by `touch` or
/// `mktemp` to choose the place) is an empty record.
fn parse(text: &[u8]) -> Result<Progress, String> {
    if text.iter().all(u8::is_ascii_whitespace) {
        return Ok(Progress::default());
    }
    Err(match serde_json::from_slice::<Progress>(text) {
        Ok(p) if p.format == FORMAT && p.version == VERSION => return Ok(p),
        Ok(p) if p.format == FORMAT => format!("it is version {}, not {VERSION}", p.version),
        Ok(_) => "it is not a gradtutor progress file".to_string(),
        Err(_) if is_report(text) => "it is the output of `gradtutor progress --json`, a report; \
             give the progress file itself (`gradtutor progress` shows where it is)"
            .to_string(),
        Err(e) => format!("it is damaged or not a gradtutor progress file ({e})"),
    })
}

/// Whether `text` is what `progress --json` prints.
fn is_report(text: &[u8]) -> bool {
    serde_json::from_slice::<serde_json::Value>(text)
        .is_ok_and(|v| v.get("format").and_then(|f| f.as_str()) == Some(REPORT_FORMAT))
}

/// The folder `path` is in (`.` for a bare file name).
fn folder(path: &Path) -> &Path {
    path.parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

/// Deletes temporaries named `prefix…` left by runs killed mid-write: every one when the lock
/// is held (`locked`: no other writer can be at work), else those older than [`STALE_TMP`]
/// (a young one may be another unlocked run's). Best effort.
fn remove_stale(dir: &Path, prefix: &str, locked: bool) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        if !e.file_name().to_string_lossy().starts_with(prefix) {
            continue;
        }
        let old = fs::symlink_metadata(e.path())
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age > STALE_TMP);
        if locked || old {
            let _ = fs::remove_file(e.path());
        }
    }
}

/// `progress.json.bak-20261129081500` (with a counter if that exists too).
fn backup_path(path: &Path) -> PathBuf {
    let stamp: String = now().chars().filter(char::is_ascii_digit).collect();
    let base = format!("{}.bak-{stamp}", path.display());
    let mut candidate = PathBuf::from(&base);
    let mut n = 1;
    while candidate.exists() {
        candidate = PathBuf::from(format!("{base}-{n}"));
        n += 1;
    }
    candidate
}

/// The current time as `2026-11-29 08:15:00 UTC`.
pub(crate) fn now() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    utc(secs)
}

/// Seconds since 1970 as a UTC date and time, from humantime's RFC 3339 form
/// (`2026-11-29T08:15:00Z`); it stops at the end of year 9999, and so does this. humantime
/// is one package with no dependencies (0.5 s to build); jiff would be two and 12 s.
pub(crate) fn utc(secs: u64) -> String {
    const LAST: u64 = 253_402_300_799; // 9999-12-31 23:59:59
    let at = UNIX_EPOCH + Duration::from_secs(secs.min(LAST));
    let rfc = humantime::format_rfc3339_seconds(at).to_string();
    format!("{} {} UTC", &rfc[..10], &rfc[11..19])
}

#[cfg(test)]
mod tests {
    use super::{Attempt, Progress, Studied, utc};

    /// Seconds from Python's `calendar.timegm`, an independent implementation.
    #[test]
    fn merging_adds_study_counts_and_appends_quizzes() {
        let mut old = Progress::default();
        old.studied.insert(
            "a".into(),
            Studied {
                times: 2,
                last: "t1".into(),
            },
        );
        old.quizzes.push(Attempt {
            at: "t1".into(),
            items: vec![],
        });
        let mut new = Progress::default();
        new.studied.insert(
            "a".into(),
            Studied {
                times: 1,
                last: "t2".into(),
            },
        );
        new.studied.insert(
            "b".into(),
            Studied {
                times: 1,
                last: "t2".into(),
            },
        );
        new.quizzes.push(Attempt {
            at: "t2".into(),
            items: vec![],
        });
        old.merge(new);
        assert_eq!(
            old.studied["a"],
            Studied {
                times: 3,
                last: "t2".into()
            }
        );
        assert_eq!(old.studied["b"].times, 1);
        assert_eq!(old.quizzes.len(), 2);
    }

    #[test]
    fn utc_matches_the_calendar() {
        for (secs, text) in [
            (0, "1970-01-01 00:00:00 UTC"),
            // Leap day in an ordinary leap year, and the second before it.
            (1_709_164_799, "2024-02-28 23:59:59 UTC"),
            (1_709_210_096, "2024-02-29 12:34:56 UTC"),
            // 2000 is a leap year (divisible by 400): 29 February, then 1 March.
            (951_782_400, "2000-02-29 00:00:00 UTC"),
            (951_868_800, "2000-03-01 00:00:00 UTC"),
            // 2100 is not (divisible by 100): 28 February runs straight into 1 March.
            (4_107_542_399, "2100-02-28 23:59:59 UTC"),
            (4_107_542_400, "2100-03-01 00:00:00 UTC"),
            (13_574_563_200, "2400-02-29 00:00:00 UTC"),
            // The last second of a year and the first of the next.
            (946_684_799, "1999-12-31 23:59:59 UTC"),
            (946_684_800, "2000-01-01 00:00:00 UTC"),
            // The last second humantime writes, and a clock past it.
            (253_402_300_799, "9999-12-31 23:59:59 UTC"),
            (u64::MAX, "9999-12-31 23:59:59 UTC"),
        ] {
            assert_eq!(utc(secs), text, "{secs}");
        }
    }
}
