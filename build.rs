//! Embeds every `questions/*.toml` in the binary, so an installed gradtutor needs no files.

use std::fmt::Write;
use std::path::Path;

fn main() {
    let dir = Path::new("questions");
    println!("cargo:rerun-if-changed=questions");
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("questions/ exists")
        .filter_map(|e| {
            let e = e.ok()?;
            println!("cargo:rerun-if-changed={}", e.path().display());
            let name = e.file_name().into_string().ok()?;
            name.ends_with(".toml").then_some(name)
        })
        .collect();
    names.sort();
    let mut code = String::from(
        "/// The question files built into the binary: (file name, contents).\npub(crate) const EMBEDDED: &[(&str, &str)] = &[\n",
    );
    // The path is spelled with the crate's own `env!("CARGO_MANIFEST_DIR")`, resolved when the
    // crate compiles: a path written out here would go stale when a target folder is shared
    // by two checkouts, since this script only reruns when `questions/` changes.
    for n in &names {
        let _ = writeln!(
            code,
            "    ({n:?}, include_str!(concat!(env!(\"CARGO_MANIFEST_DIR\"), \"/questions/{n}\"))),"
        );
    }
    code.push_str("];\n");
    let out = Path::new(&std::env::var("OUT_DIR").unwrap()).join("embedded_questions.rs");
    std::fs::write(out, code).unwrap();
}
