//! The report as JSON. serde_json writes non-finite numbers as `null`, so the output is
//! always valid JSON; `first_nonfinite_layer` says where the run overflowed.

use serde::Serialize;

/// Pretty-printed JSON of a whole report (an experiment's or a training comparison's).
pub fn render<R: Serialize>(report: &R) -> String {
    serde_json::to_string_pretty(report).expect("a report always serializes")
}
