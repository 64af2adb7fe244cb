//! What the binary's tests share: the command with a clean environment.

use assert_cmd::Command;

/// `gradtutor` with the built-in bank, the default memory limit, 80 columns and progress kept
/// in a file of the temporary folder named after `suite`.
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
