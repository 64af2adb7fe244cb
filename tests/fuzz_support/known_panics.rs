//! Bugs in `src/` that fuzzing found and that are not fixed yet, shared by the stable harness
//! (`tests/fuzz_loaders.rs`) and the cargo-fuzz target (`fuzz/fuzz_targets/question_file.rs`),
//! which both skip question files that would hit one: so the harness passes today, and a
//! long fuzzing run keeps looking for new bugs instead of stopping at a known one (or
//! aborting on its huge allocation). Delete an entry once its bug is fixed; the
//! `known_panics_still_reproduce` test (`cargo test --test fuzz_loaders -- --ignored`) shows
//! which entries still fail.

/// Where a setting is written in a question file.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Section {
    /// `[experiment]`.
    Experiment,
    /// `[train]`.
    Train,
    /// A `[[quiz]]` item's `settings = { … }`.
    QuizSettings,
    /// Any of the three.
    Any,
}

/// One known bug: a setting's value that makes loading panic or allocate without bound.
pub struct KnownPanic {
    pub section: Section,
    pub key: &'static str,
    /// The values that trigger it.
    pub hits: fn(i64) -> bool,
    /// A value that triggers it, for `known_panics_still_reproduce`.
    pub example: i64,
    pub what: &'static str,
}

pub const KNOWN_PANICS: &[KnownPanic] = &[
    KnownPanic {
        section: Section::Train,
        key: "samples",
        hits: |v| v == 0,
        example: 0,
        what: "DataSpec::test_count (src/data.rs:107) calls clamp(1, samples), which panics \
               `min > max` for `samples = 0` in [train]",
    },
    KnownPanic {
        section: Section::Any,
        key: "depth",
        hits: |v| v > 1 << 16,
        example: i64::MAX,
        what: "ProbeConfig::canonical (src/probe.rs:92) allocates vec![width; depth] (and each \
               planned run clones it) before ProbeConfig::check compares the run with the \
               memory limit: `capacity overflow` panic for depth ≳ 2^60, an aborting \
               allocation of 8·depth bytes for depth = 99999999999, gigabytes and tens of \
               seconds for depth = 200000000",
    },
    KnownPanic {
        section: Section::Any,
        key: "width",
        // With depth ≤ 2^16 and classes < 2^40 (the other entries), widths below 2^23 keep
        // the sum under 2^64.
        hits: |v| v >= 1 << 23,
        example: 1 << 32,
        what: "Spec::parameters (src/nn/network.rs:44) sums fan_in · fan_out + fan_out over \
               the layers in usize: `attempt to multiply with overflow` for width ≥ 2^32, \
               `attempt to add with overflow` for smaller widths times a large depth (width \
               2^24 − 1, depth 2^16), with overflow checks on, before the memory check \
               refuses the run",
    },
    KnownPanic {
        section: Section::Any,
        key: "classes",
        hits: |v| v >= 1 << 40,
        example: 1 << 62,
        what: "Spec::parameters (src/nn/network.rs:44) multiplies width · classes in usize: \
               `attempt to multiply with overflow` with overflow checks on, before the memory \
               check refuses the run",
    },
];

/// The known bug a question file would hit, if any: its `[experiment]`, `[train]` and quiz
/// items' `settings` read as TOML (a file that does not parse hits none).
pub fn known_panic(input: &[u8]) -> Option<&'static KnownPanic> {
    let text = std::str::from_utf8(input).ok()?;
    let doc: toml::Table = toml::from_str(text).ok()?;
    let mut tables: Vec<(Section, &toml::Table)> = Vec::new();
    for (section, key) in [
        (Section::Experiment, "experiment"),
        (Section::Train, "train"),
    ] {
        if let Some(t) = doc.get(key).and_then(toml::Value::as_table) {
            tables.push((section, t));
        }
    }
    for item in doc
        .get("quiz")
        .and_then(toml::Value::as_array)
        .into_iter()
        .flatten()
    {
        if let Some(t) = item.get("settings").and_then(toml::Value::as_table) {
            tables.push((Section::QuizSettings, t));
        }
    }
    tables.into_iter().find_map(|(section, t)| {
        t.iter().find_map(|(key, value)| {
            let v = value.as_integer()?;
            KNOWN_PANICS.iter().find(|k| {
                (k.section == Section::Any || k.section == section) && k.key == key && (k.hits)(v)
            })
        })
    })
}
