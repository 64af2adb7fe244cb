//! A question file, as `gradtutor` reads one from a question folder: parsed, checked rule by
//! rule, and its presets planned against a memory limit (planned, never run). Any input may
//! be refused; none may panic, and none may allocate beyond the limits libFuzzer is given.
//!
//! Files that hit a bug already known and not yet fixed (`tests/fuzz_support/known_panics.rs`,
//! shared with the stable harness) are skipped, so a long run looks for new bugs instead of
//! stopping at the first known one. Set `FUZZ_KNOWN_PANICS=1` to run them too, or
//! `FUZZ_KNOWN_PANICS=depth,width` some of them (to check that a fix holds).

#![no_main]

#[allow(dead_code)]
#[path = "../../tests/fuzz_support/known_panics.rs"]
mod known_panics;

use gradtutor::Bank;
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

/// The loader's memory limit (`--max-memory`): presets asking for more are refused.
const MAX_BYTES: u64 = 256 << 20;

/// The keys of the known bugs to run anyway: `FUZZ_KNOWN_PANICS=1` (or `all`) runs every
/// one, `FUZZ_KNOWN_PANICS=depth,width` those; unset, none.
fn run_known(key: &str) -> bool {
    static KEYS: OnceLock<Vec<String>> = OnceLock::new();
    let keys = KEYS.get_or_init(|| {
        let v = std::env::var("FUZZ_KNOWN_PANICS").unwrap_or_default();
        v.split(',').map(|k| k.trim().to_string()).collect()
    });
    keys.iter().any(|k| k == key || k == "1" || k == "all")
}

fuzz_target!(|data: &[u8]| {
    // A folder's files reach the parser only as UTF-8; lossy keeps byte-level mutations useful.
    let text = String::from_utf8_lossy(data).into_owned();
    if known_panics::known_panic(text.as_bytes()).is_some_and(|k| !run_known(k.key)) {
        return;
    }
    let files = vec![("fuzz.toml".to_string(), Ok(text))];
    match Bank::from_files(files, "fuzz".into(), MAX_BYTES) {
        Ok(bank) => assert_eq!(bank.questions.len(), 1),
        // Every problem names the file it is in.
        Err(e) => assert!(e.to_string().contains("fuzz.toml:"), "{e}"),
    }
});
