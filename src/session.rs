//! The live class's record, the session file: its join code, its students (with their
//! tokens), every answer, what was pushed and revealed, and whether answering is locked.
//! JSON, marked `"gradtutor": "class-session"`, kept as progress files are kept
//! (`progress::Store`: a lock file, each write a temporary renamed over the old file), and
//! 0600 on Unix since it holds the students' tokens. `roster --session` reads it.

use crate::progress::Store;
use anyhow::{Result, anyhow};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::path::Path;

/// Marks a file as a session file.
pub(crate) const FORMAT: &str = "class-session";
pub(crate) const VERSION: u32 = 1;

/// Everything a class session records.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Session {
    pub gradtutor: String,
    pub version: u32,
    /// The join code students type.
    pub code: String,
    pub created: String,
    pub students: Vec<Student>,
    pub answers: Vec<Answer>,
    /// Every push, in order (the body of each `push` event).
    pub pushes: Vec<Value>,
    pub reveals: Vec<Reveal>,
    pub locked: bool,
}

/// A student who joined.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Student {
    /// From 1, in the order they joined.
    pub student: u32,
    pub name: String,
    /// 32 hex digits from the OS's randomness.
    pub token: String,
    pub joined: String,
}

/// One answer, as given: every attempt is kept.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Answer {
    pub student: u32,
    /// The question's slug.
    pub question: String,
    /// From 1, as `quiz` numbers items.
    pub item: usize,
    /// A choice's letter, or the number as parsed.
    pub answer: String,
    pub correct: bool,
    pub time: String,
}

/// An item whose key was shown to the class.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Reveal {
    pub question: String,
    pub item: usize,
    pub time: String,
}

impl Session {
    /// A new session with `code`.
    pub(crate) fn new(code: String) -> Session {
        Session {
            gradtutor: FORMAT.into(),
            version: VERSION,
            code,
            created: now(),
            students: Vec::new(),
            answers: Vec::new(),
            pushes: Vec::new(),
            reveals: Vec::new(),
            locked: false,
        }
    }

    /// Whether `question`'s `item` was revealed.
    pub(crate) fn revealed(&self, question: &str, item: usize) -> bool {
        self.reveals
            .iter()
            .any(|r| r.question == question && r.item == item)
    }

    /// The items of the session, (slug, item from 1), in the order they first came up:
    /// pushed, then answered.
    pub(crate) fn items(&self) -> Vec<(String, usize)> {
        let mut out: Vec<(String, usize)> = Vec::new();
        let pushed = self.pushes.iter().filter_map(|p| {
            (p.get("kind")? == "item").then_some((
                p.get("question")?.as_str()?.to_string(),
                usize::try_from(p.get("item")?.as_u64()?).ok()?,
            ))
        });
        let answered = self.answers.iter().map(|a| (a.question.clone(), a.item));
        for key in pushed.chain(answered) {
            if !out.contains(&key) {
                out.push(key);
            }
        }
        out
    }

    /// The student with `token`, if any.
    pub(crate) fn by_token(&self, token: &str) -> Option<&Student> {
        self.students.iter().find(|s| s.token == token)
    }
}

/// A session from a file's bytes, or what is wrong with them (`None` for a blank file,
/// made by `touch` to choose the place: a new session begins there).
pub(crate) fn parse(bytes: &[u8]) -> Result<Option<Session>, String> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    let value: Value = serde_json::from_slice(bytes)
        .map_err(|e| format!("it is not JSON, so not a gradtutor class session file ({e})"))?;
    match value.get("gradtutor").and_then(Value::as_str) {
        Some(FORMAT) => {}
        _ => return Err("it is not a gradtutor class session file".into()),
    }
    match value.get("version").and_then(Value::as_u64) {
        Some(v) if v == u64::from(VERSION) => {}
        v => {
            return Err(format!(
                "it is a class session file of version {}, not {VERSION}",
                v.map_or("?".into(), |v| v.to_string())
            ));
        }
    }
    serde_json::from_value(value)
        .map(Some)
        .map_err(|e| format!("it is a damaged class session file ({e})"))
}

/// The session in `path`, to read (`roster --session`): nothing is moved or written; a
/// file that is missing, not a session or damaged is an error naming it.
pub(crate) fn inspect(path: &Path) -> Result<Session> {
    let store = Store {
        path: path.to_path_buf(),
    };
    let shown = crate::format::escape_path(path);
    let Some(bytes) = store.read_bytes()? else {
        return Err(anyhow!("cannot read {shown}: there is no such file"));
    };
    match parse(&bytes) {
        Ok(Some(s)) => Ok(s),
        Ok(None) => Err(anyhow!("{shown} is empty: no class was recorded in it")),
        Err(problem) => Err(anyhow!("{shown} cannot be used: {problem}")),
    }
}

/// The current time as RFC 3339 (`2026-12-07T22:40:01Z`), as the contract's `time`.
pub(crate) fn now() -> String {
    let at = std::time::SystemTime::now();
    humantime::format_rfc3339_seconds(at).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_session_file_is_read_as_one() {
        let s = Session::new("K7Q2MX".into());
        let text = serde_json::to_string(&s).unwrap();
        assert_eq!(parse(text.as_bytes()).unwrap(), Some(s));
        assert_eq!(parse(b" \n").unwrap(), None);
        let progress = br#"{"format":"gradtutor-progress","version":1,"studied":{},"quizzes":[]}"#;
        assert_eq!(
            parse(progress).unwrap_err(),
            "it is not a gradtutor class session file"
        );
        assert!(parse(b"{").unwrap_err().contains("not JSON"));
        let v2 = text.replace("\"version\":1", "\"version\":2");
        assert!(parse(v2.as_bytes()).unwrap_err().contains("version 2"));
    }
}
