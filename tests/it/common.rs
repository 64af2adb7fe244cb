//! What the binary's tests share: the command with a clean environment.

use assert_cmd::Command;

/// `gradtutor` with the built-in bank, the default memory limit, 80 columns and progress kept
/// in a file of the temporary folder named after `suite`.
#[allow(dead_code)] // tests/class.rs keeps its own, with a progress file per test.
pub fn gradtutor(suite: &str) -> Command {
    let mut c = Command::cargo_bin("gradtutor").unwrap();
    c.env_remove("GRADTUTOR_QUESTIONS")
        .env_remove("GRADTUTOR_MAX_MEMORY")
        .env_remove("GRADTUTOR_THREADS")
        .env_remove("MATMUL_NUM_THREADS")
        .env(
            "GRADTUTOR_PROGRESS",
            std::env::temp_dir().join(format!("gradtutor-{suite}.json")),
        )
        .env("COLUMNS", "80");
    c
}

/// How many questions the built-in bank has: the `.toml` files of `questions/`.
#[allow(dead_code)] // Not every suite that shares this module counts questions.
pub fn bank_size() -> usize {
    std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/questions"))
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .is_ok_and(|e| e.path().extension().is_some_and(|x| x == "toml"))
        })
        .count()
}
