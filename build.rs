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
        "/// The question files built into the binary: (file name, contents).\npub const EMBEDDED: &[(&str, &str)] = &[\n",
    );
    // Read at run time: `env!` would bake in the folder the build script was compiled in.
    let root = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    for n in &names {
        let path = Path::new(&root).join("questions").join(n);
        let _ = writeln!(
            code,
            "    ({n:?}, include_str!({:?})),",
            path.display().to_string()
        );
    }
    code.push_str("];\n");
    let out = Path::new(&std::env::var("OUT_DIR").unwrap()).join("embedded_questions.rs");
    std::fs::write(out, code).unwrap();
}
