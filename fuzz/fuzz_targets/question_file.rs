//! A question file, as `gradtutor` reads one from a question folder: parsed, checked rule by
//! rule, and its presets planned against a memory limit (planned, never run). Any input may
//! be refused; none may panic, and none may allocate beyond the limits libFuzzer is given.

#![no_main]

use gradtutor::Bank;
use libfuzzer_sys::fuzz_target;

/// The loader's memory limit (`--max-memory`): presets asking for more are refused.
const MAX_BYTES: u64 = 256 << 20;

fuzz_target!(|data: &[u8]| {
    // A folder's files reach the parser only as UTF-8; lossy keeps byte-level mutations useful.
    let text = String::from_utf8_lossy(data).into_owned();
    let files = vec![("fuzz.toml".to_string(), Ok(text))];
    match Bank::from_files(files, "fuzz".into(), MAX_BYTES) {
        Ok(bank) => assert_eq!(bank.questions.len(), 1),
        // Every problem names the file it is in.
        Err(e) => assert!(e.to_string().contains("fuzz.toml:"), "{e}"),
    }
});
