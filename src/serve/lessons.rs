//! Lessons over HTTP: `/api/questions`, `/api/questions/ID` (ID or slug, as `ask` finds
//! them) and `POST /api/quiz/answer`, graded by `quiz`'s own grading and recorded in the
//! same progress file, under the same lock, as `quiz` records.

use super::Lab;
use super::demo::Refusal;
use super::http::Reply;
use crate::bank::format::letter;
use crate::bank::{ItemKind, Question, fill};
use crate::progress::{Attempt, ItemResult, Store};
use crate::report::Report;
use crate::settings::{Knob, Settings};
use serde::Deserialize;
use serde_json::{Map, Value, json};

/// `GET /api/questions`: id, slug, title and experiment of every question.
pub(crate) fn list(lab: &Lab) -> Reply {
    let qs: Vec<Value> = lab
        .bank
        .questions
        .iter()
        .map(|q| {
            json!({
                "id": q.id,
                "slug": q.slug,
                "title": q.title,
                "experiment": q.experiment.demo,
            })
        })
        .collect();
    Reply::json(&json!({ "questions": qs }))
}

/// A question by id or slug; 404 with `ask`'s message when there is none.
fn find<'a>(lab: &'a Lab, key: &str) -> Result<&'a Question, Reply> {
    lab.bank
        .find(key)
        .map_err(|e| Reply::error(404, &super::message(&e)))
}

/// A settings map: the flag's name without `--`, the value as the flag takes it.
fn settings_map(s: &Settings) -> Map<String, Value> {
    Knob::ALL
        .into_iter()
        .filter_map(|k| Some((k.flag()[2..].to_string(), Value::String(s.value(k)?))))
        .collect()
}

/// `GET /api/questions/ID`: the question's text as the HTML handout shows it, its
/// experiment's and training's settings, and its quiz items.
pub(crate) fn question(lab: &Lab, key: &str) -> Reply {
    let q = match find(lab, key) {
        Ok(q) => q,
        Err(r) => return r,
    };
    // The text's figures come from its experiment at its preset, as in the handout.
    let run = match q.quotes_figures() {
        true => match preset_run(lab, q) {
            Ok(done) => Some(done),
            Err(refusal) => return refusal.reply(),
        },
        false => None,
    };
    let empty = Report::empty(&q.experiment.demo);
    let report = run.as_ref().map_or(&empty, |d| &d.report);
    let mut html = String::new();
    // As written, so that the page typesets its `$…$` math as MathML.
    let w = q.written();
    let key_points: Vec<String> = w.key_points.iter().map(|k| fill(k, report)).collect();
    crate::render::html::question_text(&mut html, w, &fill(&w.answer, report), &key_points);
    let train = q.train.as_ref().map(|t| {
        let args = t.settings.to_args();
        let settings: Map<String, Value> = args
            .chunks(2)
            .filter_map(|p| match p {
                [flag, value] => Some((flag[2..].to_string(), Value::String(value.clone()))),
                _ => None,
            })
            .collect();
        json!({ "settings": settings })
    });
    let quiz: Vec<Value> = q
        .quiz
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let mut v = json!({ "item": i + 1, "prompt": item.prompt.trim() });
            match &item.kind {
                ItemKind::Choice { choices, .. } => {
                    v["kind"] = json!("choice");
                    v["options"] = choices
                        .iter()
                        .enumerate()
                        .map(|(j, c)| json!({ "key": letter(j).to_string(), "text": c.trim() }))
                        .collect();
                }
                ItemKind::Numeric { tolerance, .. } => {
                    v["kind"] = json!("number");
                    v["tolerance"] = json!(tolerance);
                    v["command"] = json!(item.command(&q.experiment));
                    v["settings"] = Value::Object(settings_map(&item.settings(&q.experiment)));
                }
            }
            v
        })
        .collect();
    Reply::json(&json!({
        "id": q.id,
        "slug": q.slug,
        "title": q.title,
        "html": html,
        "experiment": {
            "name": q.experiment.demo,
            "settings": settings_map(&q.experiment.settings),
        },
        "train": train,
        "quiz": quiz,
    }))
}

/// The question's experiment at its preset, through the lab's cache.
pub(crate) fn preset_run(
    lab: &Lab,
    q: &Question,
) -> Result<std::sync::Arc<super::demo::Done>, Refusal> {
    let exp = crate::experiments::find(&q.experiment.demo)
        .map_err(|e| Refusal::Invalid(super::message(&e)))?;
    lab.runner.run(exp, &q.experiment.settings, None)
}

/// The body of `POST /api/quiz/answer`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Answer {
    /// An id or a slug.
    question: IdOrSlug,
    /// 1 for the question's first item.
    item: usize,
    answer: AnswerText,
}

/// A question given by its id (a JSON number) or its slug (text), as `ask` finds it: the
/// id as text, or the slug.
pub(crate) struct IdOrSlug(String);

impl IdOrSlug {
    pub(crate) fn key(&self) -> String {
        self.0.clone()
    }
}

impl<'de> Deserialize<'de> for IdOrSlug {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(Text(
            "a question's id (a whole number) or slug (text)",
            false,
        ))
        .map(IdOrSlug)
    }
}

/// An answer: a letter, or a number for a numeric item (given as a JSON number or as text),
/// as text.
pub(crate) struct AnswerText(pub String);

impl<'de> Deserialize<'de> for AnswerText {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(Text("an option's letter (text) or a number", true))
            .map(AnswerText)
    }
}

/// Reads a JSON string, or a number as its text; `fractions`: a number may be fractional.
/// Anything else is refused naming what was `expected` (not a Rust type, as serde's
/// untagged enums do).
struct Text(&'static str, bool);

impl serde::de::Visitor<'_> for Text {
    type Value = String;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str(self.0)
    }

    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<String, E> {
        Ok(v.to_string())
    }

    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<String, E> {
        Ok(v.to_string())
    }

    fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<String, E> {
        if self.1 {
            Ok(v.to_string())
        } else {
            Err(E::invalid_value(serde::de::Unexpected::Signed(v), &self))
        }
    }

    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<String, E> {
        if self.1 {
            Ok(v.to_string())
        } else {
            Err(E::invalid_value(serde::de::Unexpected::Float(v), &self))
        }
    }
}

/// `POST /api/quiz/answer`: grades the answer as `quiz` does and records it as `quiz` does.
pub(crate) fn answer(lab: &Lab, body: &str) -> Reply {
    let a: Answer = match serde_json::from_str(body) {
        Ok(a) => a,
        Err(e) => {
            return Reply::error(
                400,
                &format!(
                    "the answer must be {{\"question\": ID or \"slug\", \"item\": K, \"answer\": \
                     \"b\" or a number}}: {e}"
                ),
            );
        }
    };
    let key = a.question.key();
    let q = match find(lab, &key) {
        Ok(q) => q,
        Err(r) => return r,
    };
    if q.quiz.is_empty() {
        return Reply::error(404, &format!("question {} has no quiz items", q.id));
    }
    let Some(item) = a.item.checked_sub(1).and_then(|i| q.quiz.get(i)) else {
        return Reply::error(
            404,
            &format!(
                "question {} has no item {}; its items are 1 to {}",
                q.id,
                a.item,
                q.quiz.len()
            ),
        );
    };
    let index = a.item - 1;
    let text = a.answer.0;
    if let Err(e) = crate::quiz::check_format(item, &text) {
        return Reply::error(400, &e);
    }
    // A numeric item's figure comes from the question's preset run when it serves the item.
    // A busy lab says so rather than running it outside the admission's limit.
    let preset = match item.is_choice() {
        true => None,
        false => match preset_run(lab, q) {
            Ok(done) => Some(done),
            Err(Refusal::Busy) => return Refusal::Busy.reply(),
            Err(_) => None,
        },
    };
    let outcome = match crate::quiz::grade_item(
        q,
        item,
        &text,
        preset.as_ref().map(|d| &d.report),
        lab.runner.max_memory,
    ) {
        Ok(o) => o,
        Err(e) => return Reply::error(400, &super::message(&e)),
    };
    let key = match &item.kind {
        ItemKind::Choice { correct, .. } => letter(*correct).to_string(),
        ItemKind::Numeric { .. } => outcome
            .measured
            .map(crate::format::figure)
            .unwrap_or_default(),
    };
    let result = ItemResult {
        question: q.slug.clone(),
        item: index,
        correct: outcome.correct,
        answer: crate::quiz::recorded(item, &text).ok(),
    };
    let recorded = Store::locate(lab.progress.as_deref())
        .and_then(|s| {
            s.update(&mut super::warn, |p| {
                p.quizzes.push(Attempt {
                    at: crate::progress::now(),
                    items: vec![result],
                })
            })
        })
        .map_err(|e| super::warn(format!("{e:#}; progress was not recorded")))
        .is_ok();
    Reply::json(&json!({
        "correct": outcome.correct,
        "key": key,
        "feedback": outcome.feedback,
        "recorded": recorded,
    }))
}
