//! What the tests of the binary share: the command with a clean environment, and its output
//! as text.

use assert_cmd::Command;
use std::path::Path;

/// `gradtutor` with the built-in bank, the default memory limit, 80 columns and progress kept
/// in a file of the temporary folder named after `suite` (one name per test module: they run
/// in one process).
pub fn gradtutor(suite: &str) -> Command {
    gradtutor_at(&std::env::temp_dir().join(format!("gradtutor-{suite}.json")))
}

/// `gradtutor` as [`gradtutor`] gives it, keeping progress in the file `progress`, and without
/// the test hooks that slow a write or shorten the lock wait.
pub fn gradtutor_at(progress: &Path) -> Command {
    Command::from_std(process_at(progress))
}

/// [`gradtutor_at`]'s command as a `std::process::Command`, for a process that runs beside the
/// test (the live lab) rather than to its end.
pub fn process_at(progress: &Path) -> std::process::Command {
    let mut c = std::process::Command::new(assert_cmd::cargo::cargo_bin("gradtutor"));
    c.env_remove("GRADTUTOR_QUESTIONS")
        .env_remove("GRADTUTOR_MAX_MEMORY")
        .env_remove("GRADTUTOR_THREADS")
        .env_remove("GRADTUTOR_MAX_TIME")
        .env_remove("MATMUL_NUM_THREADS")
        .env_remove("GRADTUTOR_SLOW_WRITE_MS")
        .env_remove("GRADTUTOR_LOCK_WAIT_MS")
        .env("GRADTUTOR_PROGRESS", progress)
        .env("COLUMNS", "80");
    c
}

/// Bytes the binary printed, as text (failing on bytes that are not UTF-8).
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).unwrap()
}

/// The stdout of a run that must succeed.
pub fn stdout(c: &mut Command) -> String {
    text(&c.assert().success().get_output().stdout)
}

/// The stderr of a run that must fail.
pub fn stderr_of_failure(c: &mut Command) -> String {
    text(&c.assert().failure().get_output().stderr)
}

/// Runs the binary and returns (exit code, stdout, stderr), whatever the outcome; bytes that
/// are not UTF-8 become U+FFFD.
pub fn run(c: &mut Command) -> (i32, String, String) {
    let out = c.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// How many questions the built-in bank has: the `.toml` files of `questions/`.
pub fn bank_size() -> usize {
    std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/questions"))
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .is_ok_and(|e| e.path().extension().is_some_and(|x| x == "toml"))
        })
        .count()
}
