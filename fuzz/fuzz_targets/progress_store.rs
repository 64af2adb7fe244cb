//! A progress file on disk, through `Store::load`: a usable file loads as serde_json reads it
//! and is left alone; any other is moved aside with its bytes intact and an empty record is
//! begun. The file is rewritten in a private temporary folder for every input.

#![no_main]

use gradtutor::{Progress, Store};
use libfuzzer_sys::fuzz_target;
use std::fs;
use std::path::PathBuf;
use std::sync::OnceLock;

fn dir() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    // Kept for the whole run (a TempDir in a static is never dropped, so it is made by hand).
    DIR.get_or_init(|| tempfile::tempdir().expect("a temporary folder").keep())
}

fn clear(dir: &PathBuf) {
    for e in fs::read_dir(dir).expect("the folder").flatten() {
        fs::remove_file(e.path()).expect("removable");
    }
}

fuzz_target!(|data: &[u8]| {
    let dir = dir();
    let path = dir.join("progress.json");
    fs::write(&path, data).expect("writable");
    let store = Store::locate(Some(&path)).expect("an explicit path");
    let mut warnings = Vec::new();
    let loaded = store
        .load(&mut |w| warnings.push(w))
        .expect("a regular file loads");
    let usable = serde_json::from_slice::<Progress>(data)
        .ok()
        .filter(|p| p.format == "gradtutor-progress" && p.version == 1);
    match usable {
        // A blank file holds no record yet: an empty one, left where it is.
        None if data.iter().all(u8::is_ascii_whitespace) => {
            assert_eq!(loaded, Progress::default());
            assert!(warnings.is_empty(), "{warnings:?}");
            assert_eq!(fs::read(&path).expect("still there"), data);
        }
        Some(p) => {
            assert_eq!(loaded, p);
            assert!(warnings.is_empty(), "{warnings:?}");
            assert_eq!(fs::read(&path).expect("still there"), data);
        }
        None => {
            assert_eq!(loaded, Progress::default());
            assert_eq!(warnings.len(), 1, "{warnings:?}");
            assert!(!path.exists(), "a damaged file was left in place");
            let moved: Vec<_> = fs::read_dir(dir).expect("the folder").flatten().collect();
            assert_eq!(moved.len(), 1);
            assert_eq!(fs::read(moved[0].path()).expect("the backup"), data);
        }
    }
    clear(dir);
});
