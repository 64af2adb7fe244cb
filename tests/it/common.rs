//! What the tests of the binary share: the command with a clean environment, and its output
//! as text.

use assert_cmd::Command;
use serde_json::Value;
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
        .env("GRADTUTOR_CACHE_DIR", cache_dir())
        .env_remove("GRADTUTOR_CACHE_MAX_BYTES")
        .env("COLUMNS", "80");
    c
}

/// The results cache the tests' `gradtutor` keeps (`check`), apart from the user's.
pub fn cache_dir() -> std::path::PathBuf {
    std::env::temp_dir().join("gradtutor-it-cache")
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

/// An HTTP answer of the lab or class server, read off the socket: status, headers (names
/// lowercase), body (unchunked).
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Answer {
    pub fn parse(raw: &[u8]) -> Answer {
        let end = raw
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .unwrap_or_else(|| panic!("no header end in {:?}", String::from_utf8_lossy(raw)));
        let head = std::str::from_utf8(&raw[..end]).unwrap();
        let mut lines = head.split("\r\n");
        let status = lines
            .next()
            .unwrap()
            .split(' ')
            .nth(1)
            .unwrap()
            .parse()
            .unwrap();
        let headers: Vec<(String, String)> = lines
            .map(|l| {
                let (k, v) = l.split_once(':').unwrap();
                (k.trim().to_ascii_lowercase(), v.trim().to_string())
            })
            .collect();
        let mut body = raw[end + 4..].to_vec();
        if headers
            .iter()
            .any(|(k, v)| k == "transfer-encoding" && v.contains("chunked"))
        {
            body = unchunk(&body);
        }
        Answer {
            status,
            headers,
            body,
        }
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn text(&self) -> String {
        text(&self.body)
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&self.body)))
    }

    /// The message of a JSON error answer, whatever its status.
    pub fn error_text(&self) -> String {
        self.json()["error"].as_str().unwrap().to_string()
    }

    /// The error message of a JSON error with status `status`.
    pub fn error(&self, status: u16) -> String {
        assert_eq!(self.status, status, "{}", self.text());
        assert!(
            self.header("content-type")
                .is_some_and(|t| t.starts_with("application/json")),
            "{:?}",
            self.headers
        );
        self.json()["error"].as_str().unwrap().to_string()
    }
}

/// A chunked body's data.
pub fn unchunk(mut body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let line = body.windows(2).position(|w| w == b"\r\n").unwrap();
        let size =
            usize::from_str_radix(std::str::from_utf8(&body[..line]).unwrap().trim(), 16).unwrap();
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&body[line + 2..line + 2 + size]);
        body = &body[line + 2 + size + 2..];
    }
}
