//! The module graph runs one way: every `crate::` path in a module names a module of a lower
//! layer. A new dependency that points up (and so could close a cycle) fails here.

use std::collections::BTreeMap;
use std::path::Path;

/// Top-level modules by layer, lowest first (the order of lib.rs's doc).
const LAYERS: &[&[&str]] = &[
    &["format", "ui", "nn", "progress"],
    &["probe", "data"],
    &["theory"],
    &["report"],
    &["settings"],
    &["train"],
    &["experiments"],
    &["bank"],
    &["quiz", "roster"],
    &["render"],
    &["check", "classroom"],
    &["cli"],
    &["app"],
];

fn layer(module: &str) -> usize {
    LAYERS
        .iter()
        .position(|l| l.contains(&module))
        .unwrap_or_else(|| panic!("module `{module}` is in no layer of tests/it/layers.rs"))
}

/// Every `.rs` file under `dir` with its top-level module.
fn files(dir: &Path, module: Option<&str>, out: &mut Vec<(String, String)>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_stem().unwrap().to_str().unwrap().to_string();
        if path.is_dir() {
            files(&path, Some(module.unwrap_or(&name)), out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let module = module.unwrap_or(&name).to_string();
            out.push((module, std::fs::read_to_string(&path).unwrap()));
        }
    }
}

/// The top-level modules a source text names through `crate::`, comments left out.
fn uses(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    for line in text.lines() {
        let code = line.split("//").next().unwrap();
        for (i, _) in code.match_indices("crate::") {
            let rest = &code[i + "crate::".len()..];
            let name: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() {
                found.push(name);
            }
        }
        // `use crate::{a, b::c}` names several modules at once.
        if let Some(group) = code.split("use crate::{").nth(1) {
            for part in group.split(',') {
                let name: String = part
                    .trim()
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                if !name.is_empty() {
                    found.push(name);
                }
            }
        }
    }
    found
}

#[test]
fn every_dependency_points_to_a_lower_layer() {
    let mut sources = Vec::new();
    files(Path::new("src"), None, &mut sources);
    let mut upward: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut edges = 0;
    for (module, text) in &sources {
        if module == "main" || module == "lib" {
            continue;
        }
        for used in uses(text) {
            if &used == module {
                continue;
            }
            edges += 1;
            if layer(&used) >= layer(module) {
                upward.entry(module.clone()).or_default().push(used);
            }
        }
    }
    assert!(
        edges > 50,
        "found only {edges} crate:: paths: is the scan broken?"
    );
    assert!(upward.is_empty(), "dependencies that point up: {upward:?}");
}

#[test]
fn the_scan_sees_grouped_and_inline_paths() {
    let text =
        "use crate::{format::num, report::Run};\nlet x = crate::probe::run(); // crate::app\n";
    assert_eq!(uses(text), ["format", "report", "probe"]);
}
