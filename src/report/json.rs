//! The report as JSON. serde_json writes non-finite numbers as `null`, so the output is
//! always valid JSON; `first_nonfinite_layer` says where the run overflowed.

use super::Report;

/// Pretty-printed JSON of the whole report.
pub fn render(report: &Report) -> String {
    serde_json::to_string_pretty(report).expect("a report always serializes")
}
