//! Students' records read against a bank: per question what a student studied and scored,
//! item by item; over a class, per question how many studied and quizzed it, the average
//! score and the item most missed. Plain data: `render` lays it out for `progress --json`
//! and `gradtutor roster`.
//!
//! Records are kept by question slug (see `progress`), so a question is matched by slug; a
//! slug the bank does not have is kept apart, never matched to a question by id.

use crate::bank::format::letter;
use crate::bank::{Bank, ItemKind, Question};
use crate::format::Foreign;
use crate::progress::{Attempt, ItemResult, Progress, Studied};
use crate::session::Session;
use std::collections::BTreeSet;

/// One question of one student's record.
#[derive(Clone, Debug)]
pub(crate) struct QuestionRecord<'a> {
    /// The bank's question; `None` for a slug that only the record knows.
    pub question: Option<&'a Question>,
    pub slug: &'a str,
    pub studied: Option<&'a Studied>,
    /// Answers right and answers given, over every quiz.
    pub right: usize,
    pub asked: usize,
    /// Items whose first answer was right, and items answered; the same for the latest.
    pub first: (usize, usize),
    pub latest: (usize, usize),
    /// Every item of the bank's question, then any index only the record knows, by index.
    pub items: Vec<ItemRecord>,
}

/// One quiz item of one student's record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ItemRecord {
    /// The item's index among the question's `[[quiz]]` tables, from 0, as recorded.
    pub index: usize,
    pub right: usize,
    pub asked: usize,
    /// Whether the first and the latest answer to it were right (none if never answered).
    pub first: Option<bool>,
    pub latest: Option<bool>,
}

impl QuestionRecord<'_> {
    /// The share of the items answered whose latest answer was right, if any was answered:
    /// a wrong first try retaken right counts as right (the sum over attempts would give it
    /// 50 %).
    pub(crate) fn score(&self) -> Option<f64> {
        share(self.latest)
    }

    /// Whether the student studied the question or answered one of its items: a quiz
    /// counts as studying its question.
    pub(crate) fn seen(&self) -> bool {
        self.studied.is_some() || self.asked > 0
    }
}

/// `right / answered` of a pair, if anything was answered.
pub(crate) fn share((right, answered): (usize, usize)) -> Option<f64> {
    (answered > 0).then(|| right as f64 / answered as f64)
}

/// A student's record against a bank: the bank's questions in its order, then the slugs the
/// record has and the bank does not, sorted.
#[derive(Clone, Debug)]
pub(crate) struct Record<'a> {
    pub questions: Vec<QuestionRecord<'a>>,
}

/// Reads `p` against `bank`.
pub(crate) fn record<'a>(p: &'a Progress, bank: &'a Bank) -> Record<'a> {
    let items = p.item_scores();
    // Each item's first and latest answer, the quizzes being kept in the order taken.
    let mut tries: std::collections::BTreeMap<(&str, usize), (bool, bool)> = Default::default();
    for r in p.quizzes.iter().flat_map(|a| &a.items) {
        tries
            .entry((r.question.as_str(), r.item))
            .and_modify(|t| t.1 = r.correct)
            .or_insert((r.correct, r.correct));
    }
    let question = |slug: &'a str, q: Option<&'a Question>| {
        let mut indices: BTreeSet<usize> = (0..q.map_or(0, |q| q.quiz.len())).collect();
        indices.extend(
            items
                .range((slug, 0)..=(slug, usize::MAX))
                .map(|((_, i), _)| *i),
        );
        let items: Vec<ItemRecord> = indices
            .into_iter()
            .map(|index| {
                let (right, asked) = items.get(&(slug, index)).copied().unwrap_or_default();
                let t = tries.get(&(slug, index));
                ItemRecord {
                    index,
                    right,
                    asked,
                    first: t.map(|t| t.0),
                    latest: t.map(|t| t.1),
                }
            })
            .collect();
        let count = |pick: fn(&ItemRecord) -> Option<bool>| {
            items
                .iter()
                .filter_map(pick)
                .fold((0, 0), |(r, n), ok| (r + usize::from(ok), n + 1))
        };
        QuestionRecord {
            question: q,
            slug,
            studied: p.studied.get(slug),
            right: items.iter().map(|i| i.right).sum(),
            asked: items.iter().map(|i| i.asked).sum(),
            first: count(|i| i.first),
            latest: count(|i| i.latest),
            items,
        }
    };
    let mut questions: Vec<QuestionRecord<'a>> = bank
        .questions
        .iter()
        .map(|q| question(q.slug.as_str(), Some(q)))
        .collect();
    let known: BTreeSet<&str> = bank.questions.iter().map(|q| q.slug.as_str()).collect();
    let others: BTreeSet<&'a str> = p
        .studied
        .keys()
        .map(String::as_str)
        .chain(
            p.quizzes
                .iter()
                .flat_map(|a| &a.items)
                .map(|r| r.question.as_str()),
        )
        .filter(|s| !known.contains(s))
        .collect();
    questions.extend(others.into_iter().map(|slug| question(slug, None)));
    Record { questions }
}

impl<'a> Record<'a> {
    /// The bank's questions.
    pub(crate) fn in_bank(&self) -> impl Iterator<Item = &QuestionRecord<'a>> {
        self.questions.iter().filter(|q| q.question.is_some())
    }

    /// The slugs only the record knows.
    pub(crate) fn others(&self) -> impl Iterator<Item = &'a str> + '_ {
        self.questions
            .iter()
            .filter(|q| q.question.is_none())
            .map(|q| q.slug)
    }

    /// Questions of the bank studied or quizzed at least once.
    pub(crate) fn studied(&self) -> usize {
        self.in_bank().filter(|q| q.seen()).count()
    }

    /// Over the bank's questions: items whose latest answer was right, and items answered.
    pub(crate) fn totals(&self) -> (usize, usize) {
        self.in_bank()
            .fold((0, 0), |(r, a), q| (r + q.latest.0, a + q.latest.1))
    }

    /// The same for each item's first answer.
    pub(crate) fn first_totals(&self) -> (usize, usize) {
        self.in_bank()
            .fold((0, 0), |(r, a), q| (r + q.first.0, a + q.first.1))
    }
}

/// One student of a class.
#[derive(Clone, Debug)]
pub(crate) struct Student<'a> {
    /// As the roster shows it: the record's name, else the file's name without `.json`;
    /// the file's path as given when two students would read the same.
    pub name: String,
    /// The progress file, as given.
    pub file: String,
    pub record: Record<'a>,
}

/// How a class did on one question of the bank.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct QuestionSummary {
    /// Students who studied it (a quiz counts), and who answered at least one of its items.
    pub studied_by: usize,
    pub quizzed_by: usize,
    /// The mean over the students who answered of each one's share of items whose latest
    /// answer was right.
    pub average: Option<f64>,
    /// The item the most students got wrong at least once, if any was got wrong.
    pub most_missed: Option<Missed>,
}

/// The item of a question most students missed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Missed {
    /// The item's index, from 0.
    pub index: usize,
    /// Students who answered it wrong at least once, of those who answered it.
    pub students: usize,
    pub of: usize,
}

/// A class: its students, and a summary per question of the bank (in the bank's order).
#[derive(Clone, Debug)]
pub(crate) struct Class<'a> {
    pub bank: &'a Bank,
    pub students: Vec<Student<'a>>,
    pub questions: Vec<QuestionSummary>,
    /// Slugs some record has that the bank does not: left out of every figure. They come
    /// from students' files, so they print escaped.
    pub others: Vec<Foreign>,
}

/// Sums up the records `(name, file, progress)` against `bank`; a student without a name is
/// named after the file.
pub(crate) fn class<'a>(records: &'a [(String, Progress)], bank: &'a Bank) -> Class<'a> {
    let names = names(records);
    let students: Vec<Student<'a>> = records
        .iter()
        .zip(names)
        .map(|((file, p), name)| Student {
            name,
            file: crate::format::escape(file, usize::MAX),
            record: record(p, bank),
        })
        .collect();
    let questions = (0..bank.questions.len())
        .map(|i| {
            let of_each: Vec<&QuestionRecord> =
                students.iter().map(|s| &s.record.questions[i]).collect();
            summary(&of_each)
        })
        .collect();
    let others: BTreeSet<&'a str> = students.iter().flat_map(|s| s.record.others()).collect();
    Class {
        bank,
        students,
        questions,
        others: others.into_iter().map(Foreign::new).collect(),
    }
}

/// One question over every student's record of it.
fn summary(records: &[&QuestionRecord]) -> QuestionSummary {
    let scores: Vec<f64> = records.iter().filter_map(|r| r.score()).collect();
    // The bank's items only: an index only a record knows has no prompt to show.
    let items = records
        .first()
        .and_then(|r| r.question)
        .map_or(0, |q| q.quiz.len());
    let mut most_missed: Option<Missed> = None;
    for i in 0..items {
        let answered = records.iter().map(|r| r.items[i]).filter(|it| it.asked > 0);
        let (of, students) = answered.fold((0, 0), |(of, wrong), it| {
            (of + 1, wrong + usize::from(it.right < it.asked))
        });
        // Ties go to the earlier item.
        if students > 0 && most_missed.is_none_or(|m| students > m.students) {
            most_missed = Some(Missed {
                index: records[0].items[i].index,
                students,
                of,
            });
        }
    }
    QuestionSummary {
        studied_by: records.iter().filter(|r| r.seen()).count(),
        quizzed_by: scores.len(),
        average: (!scores.is_empty()).then(|| scores.iter().sum::<f64>() / scores.len() as f64),
        most_missed,
    }
}

/// Each record's display name: its own, else its file's name without `.json`; where two
/// would read the same, those show their file's path as given. Control characters are
/// escaped: a name in a file cannot drive the terminal.
fn names(records: &[(String, Progress)]) -> Vec<String> {
    let plain: Vec<String> = records
        .iter()
        .map(|(file, p)| {
            let name = p.name.clone().unwrap_or_else(|| {
                let base = std::path::Path::new(file)
                    .file_name()
                    .map_or(file.clone(), |n| n.to_string_lossy().into_owned());
                base.strip_suffix(".json").unwrap_or(&base).to_string()
            });
            Foreign::new(name)
                .short(crate::progress::MAX_NAME)
                .to_string()
        })
        .collect();
    plain
        .iter()
        .zip(records)
        .map(
            |(name, (file, _))| match plain.iter().filter(|n| *n == name).count() {
                1 => name.clone(),
                _ => format!("{name} ({})", crate::format::escape(file, usize::MAX)),
            },
        )
        .collect()
}

/// The records of a live class's session, as `class` takes them: one per student, named,
/// each answer a quiz of one item, in the order given (`class` scores each item's latest
/// answer, as `/api/class/results` counts, and its first beside it);
/// `file` (the session file) and the student's number stand for the progress file.
pub(crate) fn session_records(session: &Session, file: &str) -> Vec<(String, Progress)> {
    session
        .students
        .iter()
        .map(|s| {
            let quizzes = session
                .answers
                .iter()
                .filter(|a| a.student == s.student)
                .map(|a| Attempt {
                    at: a.time.clone(),
                    items: vec![ItemResult {
                        question: a.question.clone(),
                        item: a.item.saturating_sub(1),
                        correct: a.correct,
                        answer: Some(a.answer.clone()),
                    }],
                })
                .collect();
            let p = Progress {
                name: Some(s.name.clone()),
                quizzes,
                ..Progress::default()
            };
            (format!("{file}#{}", s.student), p)
        })
        .collect()
}

/// One answer as given: the choice's letter or the number, control characters escaped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Given {
    pub answer: String,
    pub correct: bool,
}

/// One student's answers to one item.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct StudentItem {
    /// As the roster shows the student.
    pub name: String,
    pub first: Given,
    pub latest: Given,
    pub attempts: usize,
}

/// One option of a choice item: how many students chose it first and last.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct OptionCount {
    pub key: char,
    /// On one line.
    pub text: String,
    pub correct: bool,
    pub first: usize,
    pub latest: usize,
}

/// What kind of item, as the bank has it.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum TallyKind {
    /// Each option's counts (distractors too).
    Choice(Vec<OptionCount>),
    /// A numeric item: answers within `tolerance` of the measured figure count.
    Number { tolerance: f64 },
    /// An item the bank does not have (another bank's session).
    Unknown,
}

/// A session's item: its counts per option, and each student's first and latest answer.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct ItemTally {
    pub slug: String,
    /// The bank's question id, if the bank has the question.
    pub id: Option<u32>,
    /// From 1.
    pub item: usize,
    /// On one line; empty for an item the bank does not have.
    pub prompt: String,
    pub kind: TallyKind,
    /// In the order the students joined.
    pub students: Vec<StudentItem>,
}

impl ItemTally {
    /// `3.1`: the question's id (or slug) and the item.
    pub(crate) fn label(&self) -> String {
        match self.id {
            Some(id) => format!("{id}.{}", self.item),
            None => format!("{}.{}", crate::format::escape(&self.slug, 40), self.item),
        }
    }

    /// Students whose first and whose latest answer was right.
    pub(crate) fn right(&self) -> (usize, usize) {
        self.students.iter().fold((0, 0), |(f, l), s| {
            (
                f + usize::from(s.first.correct),
                l + usize::from(s.latest.correct),
            )
        })
    }
}

/// One answer of one student, as [`tally`] takes it: the question's slug, the item (from
/// 1) and the answer.
type Answered<'a> = (&'a str, usize, Given);

/// Per item of `session` (in the order they came up): each option's count over the
/// students' first and latest answers, and each student's first and latest answer, named
/// as `class` names them.
pub(crate) fn session_items(session: &Session, bank: &Bank, class: &Class) -> Vec<ItemTally> {
    let students: Vec<(String, Vec<Answered>)> = session
        .students
        .iter()
        .zip(&class.students)
        .map(|(s, shown)| {
            let mine = session.answers.iter().filter(|a| a.student == s.student);
            let given = mine.map(|a| {
                let g = Given {
                    answer: crate::format::escape(&a.answer, 40),
                    correct: a.correct,
                };
                (a.question.as_str(), a.item, g)
            });
            (shown.name.clone(), given.collect())
        })
        .collect();
    tally(bank, session.items(), &students)
}

/// Per quiz item of the bank some record answered (in the bank's order), the same counts
/// as [`session_items`] from the progress files' records: each option's count over the
/// students' first and latest answers. An answer recorded before answers were kept shows
/// as `?` and counts for no option.
pub(crate) fn progress_items(
    records: &[(String, Progress)],
    bank: &Bank,
    class: &Class,
) -> Vec<ItemTally> {
    let students: Vec<(String, Vec<Answered>)> = records
        .iter()
        .zip(&class.students)
        .map(|((_, p), shown)| {
            let given = p.quizzes.iter().flat_map(|a| &a.items).map(|r| {
                let g = Given {
                    answer: r
                        .answer
                        .as_deref()
                        .map_or("?".into(), |a| crate::format::escape(a, 40)),
                    correct: r.correct,
                };
                (r.question.as_str(), r.item.saturating_add(1), g)
            });
            (shown.name.clone(), given.collect())
        })
        .collect();
    let keys = bank
        .questions
        .iter()
        .flat_map(|q| (1..=q.quiz.len()).map(move |i| (q.slug.clone(), i)))
        .filter(|(slug, i)| {
            students
                .iter()
                .any(|(_, a)| a.iter().any(|(s, item, _)| s == slug && item == i))
        })
        .collect();
    tally(bank, keys, &students)
}

/// Per item of `keys` (slug, item from 1): each option's count over the students' first and
/// latest answers, and each student's (name, answers in order) first and latest answer.
fn tally(
    bank: &Bank,
    keys: Vec<(String, usize)>,
    answers: &[(String, Vec<Answered>)],
) -> Vec<ItemTally> {
    keys.into_iter()
        .map(|(slug, item)| {
            let question = bank.questions.iter().find(|q| q.slug == slug);
            let quiz = question.and_then(|q| item.checked_sub(1).and_then(|i| q.quiz.get(i)));
            let students: Vec<StudentItem> = answers
                .iter()
                .filter_map(|(name, given)| {
                    let mine: Vec<&Given> = given
                        .iter()
                        .filter(|(s, i, _)| *s == slug && *i == item)
                        .map(|(_, _, g)| g)
                        .collect();
                    Some(StudentItem {
                        name: name.clone(),
                        first: (*mine.first()?).clone(),
                        latest: (*mine.last()?).clone(),
                        attempts: mine.len(),
                    })
                })
                .collect();
            let kind = match quiz.map(|q| &q.kind) {
                Some(ItemKind::Choice {
                    choices, correct, ..
                }) => TallyKind::Choice(
                    choices
                        .iter()
                        .enumerate()
                        .map(|(j, c)| {
                            let key = letter(j);
                            let k = key.to_string();
                            OptionCount {
                                key,
                                text: c.split_whitespace().collect::<Vec<_>>().join(" "),
                                correct: j == *correct,
                                first: students.iter().filter(|s| s.first.answer == k).count(),
                                latest: students.iter().filter(|s| s.latest.answer == k).count(),
                            }
                        })
                        .collect(),
                ),
                Some(ItemKind::Numeric { tolerance, .. }) => TallyKind::Number {
                    tolerance: *tolerance,
                },
                None => TallyKind::Unknown,
            };
            ItemTally {
                id: question.map(|q| q.id),
                item,
                prompt: quiz.map_or(String::new(), |q| {
                    q.prompt.split_whitespace().collect::<Vec<_>>().join(" ")
                }),
                slug,
                kind,
                students,
            }
        })
        .collect()
}
