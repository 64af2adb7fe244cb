//! A progress file's bytes, parsed as `Store::load` parses them (serde_json into `Progress`):
//! the high-volume target. `progress_store` covers the on-disk path at a lower rate.

#![no_main]

use gradtutor::Progress;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(p) = serde_json::from_slice::<Progress>(data) {
        // What parses writes back and parses to the same record.
        let text = serde_json::to_string(&p).expect("progress always serializes");
        let again: Progress = serde_json::from_str(&text).expect("written progress parses");
        assert_eq!(again, p);
    }
});
