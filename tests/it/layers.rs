//! The module graph runs one way: every `crate::` path in a module names a module of a lower
//! layer, as the README's Layout table lays them out. A new dependency that points up (and
//! so could close a cycle) fails here, and so does a module the table leaves out.

use std::collections::BTreeMap;
use std::path::Path;

/// Top-level modules by layer, lowest first, read from the README's Layout table (one row a
/// layer, highest first): every `src/…` path a row names, as its top-level module. Every
/// path named must exist.
fn layers() -> Vec<Vec<String>> {
    let readme = std::fs::read_to_string("README.md").unwrap();
    let section = readme
        .split("\n## Layout\n")
        .nth(1)
        .expect("README.md has a Layout section");
    let section = section.split("\n## ").next().unwrap();
    let mut rows: Vec<Vec<String>> = Vec::new();
    for line in section.lines().filter(|l| l.starts_with('|')).skip(2) {
        let modules = line.split('|').nth(2).expect("a row has a modules cell");
        let mut row = Vec::new();
        for path in modules.split('`').skip(1).step_by(2) {
            let Some(rest) = path.strip_prefix("src/") else {
                continue;
            };
            assert!(
                Path::new(path).exists(),
                "README's Layout names {path}, which does not exist"
            );
            let name = rest.split(['/', '.']).next().unwrap().to_string();
            if !row.contains(&name) {
                row.push(name);
            }
        }
        rows.push(row);
    }
    assert!(
        rows.len() > 5,
        "found only {} layers in README's Layout",
        rows.len()
    );
    rows.reverse();
    rows
}

fn layer(layers: &[Vec<String>], module: &str) -> usize {
    layers
        .iter()
        .position(|l| l.iter().any(|m| m == module))
        .unwrap_or_else(|| panic!("module `{module}` is in no row of README's Layout"))
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
    let layers = layers();
    let layer = |module: &str| layer(&layers, module);
    let mut sources = Vec::new();
    files(Path::new("src"), None, &mut sources);
    let mut upward: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut edges = 0;
    for (module, text) in &sources {
        if module == "main" || module == "lib" {
            continue;
        }
        layer(module);
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
