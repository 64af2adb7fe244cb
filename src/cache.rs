//! The results cache: what a deterministic computation gave, kept in the user's cache folder
//! under a key that names everything it depends on (its settings, and this very binary), so
//! that `gradtutor check` does not rerun what an unchanged question already ran.
//!
//! One file per key in `$GRADTUTOR_CACHE_DIR`, else `$XDG_CACHE_HOME/gradtutor`, else
//! `~/.cache/gradtutor`. A file is `gradtutor-cache 1`, the FNV-1a hash of its body, and the
//! body (JSON: the whole key and the value), written to a temporary file renamed into place.
//! A file whose hash, key or JSON does not match is ignored and rewritten, never trusted;
//! deleting the folder loses nothing but time. The folder is held under a size bound
//! (oldest files go first). Hand-written rather than through `cacache` (which adds about 60
//! packages with its async runtime support) because the whole need is these ~150 lines; the
//! hash is FNV-1a, written out in five lines, since std's `DefaultHasher` is not promised to
//! be the same across Rust releases (a file name must not depend on the toolchain).

use serde::Serialize;
use serde::de::DeserializeOwned;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// The first line of every cache file.
const MAGIC: &str = "gradtutor-cache 1";
/// The folder's size bound, unless [`MAX_BYTES_ENV`] gives another (for tests).
const MAX_BYTES: u64 = 64 << 20;
/// Overrides the cache folder (for tests and for a machine that wants it elsewhere).
pub(crate) const DIR_ENV: &str = "GRADTUTOR_CACHE_DIR";
/// Overrides the size bound, in bytes.
pub(crate) const MAX_BYTES_ENV: &str = "GRADTUTOR_CACHE_MAX_BYTES";

/// A cache folder, and the identity of the binary that writes it.
pub(crate) struct Cache {
    dir: PathBuf,
    binary: &'static str,
}

/// FNV-1a, 64 bits: h ← (h ⊕ byte) · 0x100000001b3 from 0xcbf29ce484222325.
fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// This binary: its version, and its executable's size and modification time (a rebuild
/// without a version change is another binary, whose results may differ).
fn binary() -> &'static str {
    static ID: OnceLock<String> = OnceLock::new();
    ID.get_or_init(|| {
        let exe = std::env::current_exe().and_then(std::fs::metadata);
        let (len, modified) = exe.map_or((0, 0), |m| {
            let t = m
                .modified()
                .ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map_or(0, |d| d.as_nanos());
            (m.len(), t)
        });
        format!("gradtutor {} {len} {modified}", env!("CARGO_PKG_VERSION"))
    })
}

/// The cache folder the environment names, if any.
fn folder() -> Option<PathBuf> {
    let var = |k: &str| {
        std::env::var_os(k)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    var(DIR_ENV)
        .or_else(|| var("XDG_CACHE_HOME").map(|d| d.join("gradtutor")))
        .or_else(|| var("HOME").map(|h| h.join(".cache").join("gradtutor")))
}

#[derive(Serialize, serde::Deserialize)]
struct Entry<T> {
    key: String,
    value: T,
}

impl Cache {
    /// The user's cache folder, made if missing; `None` if there is none to use (the
    /// caller then computes everything, as with `--no-cache`).
    pub(crate) fn open() -> Option<Cache> {
        let dir = folder()?;
        std::fs::create_dir_all(&dir).ok()?;
        Some(Cache {
            dir,
            binary: binary(),
        })
    }

    /// A cache in `dir` (tests).
    #[cfg(test)]
    fn at(dir: &Path) -> Cache {
        Cache {
            dir: dir.to_path_buf(),
            binary: binary(),
        }
    }

    /// The full key: this binary, then the caller's key.
    fn full(&self, key: &str) -> String {
        format!("{}\n{key}", self.binary)
    }

    fn path(&self, full: &str) -> PathBuf {
        self.dir.join(format!("{:016x}.json", fnv(full.as_bytes())))
    }

    /// The value stored under `key`, if a whole, matching entry is there.
    pub(crate) fn get<T: DeserializeOwned>(&self, key: &str) -> Option<T> {
        let full = self.full(key);
        let text = std::fs::read_to_string(self.path(&full)).ok()?;
        let rest = text.strip_prefix(MAGIC)?.strip_prefix('\n')?;
        let (sum, body) = rest.split_once('\n')?;
        if u64::from_str_radix(sum, 16).ok()? != fnv(body.as_bytes()) {
            return None;
        }
        let entry: Entry<T> = serde_json::from_str(body).ok()?;
        (entry.key == full).then_some(entry.value)
    }

    /// Stores `value` under `key`, replacing what was there; a failure to write is not an
    /// error (the result is only not kept).
    pub(crate) fn put<T: Serialize>(&self, key: &str, value: &T) {
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let full = self.full(key);
        let Ok(body) = serde_json::to_string(&Entry {
            key: full.clone(),
            value,
        }) else {
            return;
        };
        let text = format!("{MAGIC}\n{:016x}\n{body}", fnv(body.as_bytes()));
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let tmp = self.dir.join(format!(".tmp-{}-{n}", std::process::id()));
        if std::fs::write(&tmp, text).is_err() || std::fs::rename(&tmp, self.path(&full)).is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
    }

    /// Removes the oldest entries until the folder holds at most its bound (and temporary
    /// files a killed run left, after an hour).
    pub(crate) fn prune(&self) {
        let limit = std::env::var(MAX_BYTES_ENV)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(MAX_BYTES);
        prune(&self.dir, limit);
    }
}

/// Keeps `dir`'s cache files within `limit` bytes, the most recently written kept.
fn prune(dir: &Path, limit: u64) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut files: Vec<(std::time::SystemTime, u64, PathBuf)> = Vec::new();
    let hour_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
    for e in entries.flatten() {
        let Ok(meta) = e.metadata() else { continue };
        let name = e.file_name();
        let name = name.to_string_lossy();
        let modified = meta.modified().unwrap_or(std::time::UNIX_EPOCH);
        if name.starts_with(".tmp-") && modified < hour_ago {
            let _ = std::fs::remove_file(e.path());
        } else if meta.is_file() && name.ends_with(".json") {
            files.push((modified, meta.len(), e.path()));
        }
    }
    let mut total: u64 = files.iter().map(|f| f.1).sum();
    files.sort();
    for (_, len, path) in files {
        if total <= limit {
            break;
        }
        if std::fs::remove_file(&path).is_ok() {
            total -= len;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("gradtutor-cache-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    // Catches: an entry read back under another key (a hash collision or a file renamed),
    // and a damaged entry trusted: a flipped digit in the value, a truncated file.
    #[test]
    fn only_a_whole_matching_entry_is_read() {
        let dir = temp("whole");
        let cache = Cache::at(&dir);
        cache.put("a", &vec![1.5_f64, 2.0]);
        assert_eq!(cache.get::<Vec<f64>>("a"), Some(vec![1.5, 2.0]));
        assert_eq!(cache.get::<Vec<f64>>("b"), None);
        let path = cache.path(&cache.full("a"));
        let text = std::fs::read_to_string(&path).unwrap();
        std::fs::write(&path, text.replace("1.5", "1.6")).unwrap();
        assert_eq!(
            cache.get::<Vec<f64>>("a"),
            None,
            "a changed value is not trusted"
        );
        std::fs::write(&path, &text[..text.len() - 3]).unwrap();
        assert_eq!(
            cache.get::<Vec<f64>>("a"),
            None,
            "a truncated entry is not read"
        );
        // Another key's entry copied over this one's file.
        cache.put("b", &vec![9.0_f64]);
        std::fs::copy(cache.path(&cache.full("b")), &path).unwrap();
        assert_eq!(cache.get::<Vec<f64>>("a"), None);
        cache.put("a", &vec![3.0_f64]);
        assert_eq!(cache.get::<Vec<f64>>("a"), Some(vec![3.0]), "rewritten");
        let _ = std::fs::remove_dir_all(&dir);
    }

    // Catches: a bound that is not kept, or one that drops the newest entries first.
    #[test]
    fn pruning_keeps_the_newest_entries_within_the_bound() {
        let dir = temp("prune");
        let cache = Cache::at(&dir);
        for i in 0..20 {
            cache.put(&format!("k{i:02}"), &vec![0.0_f64; 50]);
            // Distinct modification times.
            let p = cache.path(&cache.full(&format!("k{i:02}")));
            let t = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_000_000 + i);
            std::fs::File::options()
                .write(true)
                .open(&p)
                .unwrap()
                .set_modified(t)
                .unwrap();
        }
        let size = std::fs::metadata(cache.path(&cache.full("k00")))
            .unwrap()
            .len();
        prune(&dir, 5 * size);
        let left = std::fs::read_dir(&dir).unwrap().count();
        assert_eq!(left, 5);
        assert!(cache.get::<Vec<f64>>("k19").is_some());
        assert!(cache.get::<Vec<f64>>("k14").is_none());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
