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

/// Empty: the four bugs fuzzing found (samples = 0 in [train]; depth, width or classes large
/// enough to allocate or overflow before the memory check) are fixed, each refused with a
/// message at load time (tests/hardening.rs).
pub const KNOWN_PANICS: &[KnownPanic] = &[];

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
