//! Class mode: the quiz and the guided tour. Both read answers line by line from `input`
//! (a terminal, a pipe, or `--answers`), so they behave the same under test as in class.

use crate::bank::{Bank, Question};
use crate::experiments;
use crate::lesson;
use crate::progress::{Attempt, ItemResult, Progress};
use crate::quiz::{self, Kind, Outcome, QuizItem};
use crate::report::{Report, text};
use crate::style::Style;
use anyhow::{Result, bail};
use rand::SeedableRng;
use rand::seq::SliceRandom;
use std::io::{BufRead, Write};

/// Where answers come from.
pub enum Answers<'a> {
    /// Given up front (`--answers "b,a,3.5"`), one per item.
    Given(Vec<String>),
    /// Read a line at a time; `interactive` when a person is typing at a terminal.
    Lines {
        input: &'a mut dyn BufRead,
        interactive: bool,
    },
}

impl Answers<'_> {
    /// The next answer to `item`, or None when input ran out (or the student typed `q`).
    /// At a terminal an unusable answer is asked again; elsewhere it is an error.
    fn next(
        &mut self,
        item: &QuizItem,
        index: usize,
        out: &mut dyn Write,
    ) -> Result<Option<String>> {
        match self {
            Answers::Given(list) => Ok(list.get(index).cloned()),
            Answers::Lines { input, interactive } => loop {
                write!(out, "> ")?;
                out.flush()?;
                let mut line = String::new();
                if input.read_line(&mut line)? == 0 {
                    writeln!(out)?;
                    return Ok(None);
                }
                let line = line.trim().to_string();
                if line.eq_ignore_ascii_case("q") || line.eq_ignore_ascii_case("quit") {
                    return Ok(None);
                }
                match check_format(item, &line) {
                    Ok(()) => return Ok(Some(line)),
                    Err(e) if *interactive => writeln!(out, "{e}; try again (q quits)")?,
                    Err(e) => bail!("answer {}: {e}", index + 1),
                }
            },
        }
    }
}

/// Whether `answer` has the right form for `item` (a choice letter, or a number).
fn check_format(item: &QuizItem, answer: &str) -> Result<(), String> {
    match item.kind()? {
        Kind::Choice { choices, .. } => quiz::parse_choice(answer, choices.len()).map(|_| ()),
        Kind::Numeric { .. } => quiz::parse_number(answer).map(|_| ()),
    }
}

/// Which items a quiz asks.
pub struct Selection {
    pub question: Option<String>,
    pub count: Option<usize>,
    pub seed: u64,
}

/// The items to ask: one question's in file order, or the whole bank's shuffled by the seed;
/// then the first `count`.
pub fn select<'a>(bank: &'a Bank, sel: &Selection) -> Result<Vec<quiz::Asked<'a>>> {
    let mut items: Vec<quiz::Asked<'a>> = match &sel.question {
        Some(key) => {
            let q = bank.find(key)?;
            if q.quiz.is_empty() {
                bail!("question {} has no quiz items", q.id);
            }
            q.quiz
                .iter()
                .enumerate()
                .map(|(index, item)| quiz::Asked {
                    question: q,
                    index,
                    item,
                })
                .collect()
        }
        None => {
            let mut all: Vec<_> = bank
                .questions
                .iter()
                .flat_map(|q| {
                    q.quiz
                        .iter()
                        .enumerate()
                        .map(move |(index, item)| quiz::Asked {
                            question: q,
                            index,
                            item,
                        })
                })
                .collect();
            all.shuffle(&mut rand_chacha::ChaCha8Rng::seed_from_u64(sel.seed));
            all
        }
    };
    if items.is_empty() {
        bail!("this question bank has no quiz items");
    }
    if let Some(k) = sel.count {
        if k == 0 {
            bail!("--count must be at least 1");
        }
        items.truncate(k);
    }
    Ok(items)
}

/// Asks `items`, grading each answer at once; returns how each answered item went.
pub fn run_quiz(
    items: &[quiz::Asked<'_>],
    answers: &mut Answers<'_>,
    style: &Style,
    width: usize,
    max_bytes: u64,
    out: &mut dyn Write,
) -> Result<Vec<ItemResult>> {
    if let Answers::Given(list) = answers {
        if list.len() != items.len() {
            bail!(
                "--answers gives {} answer{} for {} quiz item{}; give one per item, \
                 comma-separated",
                list.len(),
                if list.len() == 1 { "" } else { "s" },
                items.len(),
                if items.len() == 1 { "" } else { "s" }
            );
        }
        for (i, (a, asked)) in list.iter().zip(items).enumerate() {
            check_format(asked.item, a).map_err(|e| anyhow::anyhow!("answer {}: {e}", i + 1))?;
        }
    }
    let mut results = Vec::with_capacity(items.len());
    for (i, asked) in items.iter().enumerate() {
        let q = asked.question;
        writeln!(
            out,
            "\n{}",
            style.bold(&format!(
                "{}/{} · question {}: {}",
                i + 1,
                items.len(),
                q.id,
                q.title
            ))
        )?;
        show_item(asked, style, width, out)?;
        let Some(answer) = answers.next(asked.item, i, out)? else {
            writeln!(out, "(stopping here)")?;
            break;
        };
        let outcome = grade(asked, &answer, None, max_bytes)?;
        feedback(&outcome, style, width, out)?;
        results.push(ItemResult {
            question: q.slug.clone(),
            item: asked.index,
            correct: outcome.correct,
        });
    }
    Ok(results)
}

/// Prints an item's prompt and, for choices, the options; for numbers, the command to run.
fn show_item(
    asked: &quiz::Asked<'_>,
    style: &Style,
    width: usize,
    out: &mut dyn Write,
) -> Result<()> {
    let item = asked.item;
    for line in textwrap::wrap(item.prompt.trim(), width) {
        writeln!(out, "{line}")?;
    }
    match item.kind().map_err(anyhow::Error::msg)? {
        Kind::Choice { choices, .. } => {
            for (i, c) in choices.iter().enumerate() {
                let opts = textwrap::Options::new(width)
                    .initial_indent("")
                    .subsequent_indent("     ");
                let text = format!("  {}) {}", quiz::letter(i), c.trim());
                for line in textwrap::wrap(&text, opts) {
                    writeln!(out, "{line}")?;
                }
            }
        }
        Kind::Numeric { tolerance, .. } => {
            writeln!(out, "  $ {}", item.command(asked.question))?;
            writeln!(
                out,
                "{}",
                style.dim(&format!(
                    "Answer with a number (within ±{tolerance} counts)."
                ))
            )?;
        }
    }
    Ok(())
}

/// Grades an answer, measuring a numeric item's figure (from `preset`, the question's own
/// experiment report, when it was already run and serves the item).
fn grade(
    asked: &quiz::Asked<'_>,
    answer: &str,
    preset: Option<&Report>,
    max_bytes: u64,
) -> Result<Outcome> {
    let measured = match asked.item.kind().map_err(anyhow::Error::msg)? {
        Kind::Numeric { .. } => Some(asked.item.measure(asked.question, preset, max_bytes)?),
        Kind::Choice { .. } => None,
    };
    quiz::grade(asked.item, answer, measured).map_err(anyhow::Error::msg)
}

fn feedback(outcome: &Outcome, style: &Style, width: usize, out: &mut dyn Write) -> Result<()> {
    for (n, para) in outcome.feedback.lines().enumerate() {
        for line in textwrap::wrap(para, width) {
            let painted = if n == 0 && outcome.correct {
                style.cyan(&line)
            } else if n == 0 {
                style.yellow(&line)
            } else {
                line.to_string()
            };
            writeln!(out, "{painted}")?;
        }
    }
    Ok(())
}

/// Prints the closing score and what to review; returns the attempt to record.
pub fn summary(
    results: Vec<ItemResult>,
    bank: &Bank,
    style: &Style,
    out: &mut dyn Write,
) -> Result<Attempt> {
    let asked = results.len();
    let right = results.iter().filter(|r| r.correct).count();
    writeln!(out, "\n{}", "─".repeat(60))?;
    if asked == 0 {
        writeln!(out, "No answers given.")?;
    } else {
        writeln!(
            out,
            "{}",
            style.bold(&format!(
                "Score: {right} of {asked} ({:.0}%)",
                100.0 * right as f64 / asked as f64
            ))
        )?;
    }
    let mut review: Vec<&Question> = Vec::new();
    for r in &results {
        if !r.correct
            && let Some(q) = bank.questions.iter().find(|q| q.slug == r.question)
            && !review.iter().any(|r| r.slug == q.slug)
        {
            review.push(q);
        }
    }
    if !review.is_empty() {
        writeln!(out, "Worth reviewing:")?;
        for q in review {
            writeln!(out, "  gradtutor ask {:<3} {}", q.id, q.title)?;
        }
    } else if asked > 0 {
        writeln!(out, "Nothing to review: every answer was right.")?;
    }
    Ok(Attempt {
        at: crate::progress::now(),
        items: results,
    })
}

/// The guided tour: every question from `from` on, with its explanation, its experiment and
/// one quiz item; at a terminal it waits for Enter between questions.
#[allow(clippy::too_many_arguments)]
pub fn tour(
    bank: &Bank,
    from: usize,
    input: &mut dyn BufRead,
    interactive: bool,
    style: &Style,
    width: usize,
    max_bytes: u64,
    progress: &mut Progress,
    out: &mut dyn Write,
) -> Result<()> {
    let questions: Vec<&Question> = bank.questions.iter().skip(from).collect();
    let total = bank.questions.len();
    for (n, q) in questions.iter().enumerate() {
        writeln!(
            out,
            "{}",
            style.dim(&format!("── tour: {} of {total} ──", from + n + 1))
        )?;
        write!(out, "{}", lesson::render(q, style, width))?;
        let exp = experiments::find(&q.experiment.demo)?;
        writeln!(
            out,
            "\n{}",
            style.bold(&format!("Experiment: {}", exp.name))
        )?;
        let report = exp.run(&q.experiment.settings, max_bytes)?;
        write!(out, "{}", text::render(&report, style, width))?;
        progress.studied(&q.slug);
        if let Some(item) = q.quiz.first() {
            let asked = quiz::Asked {
                question: q,
                index: 0,
                item,
            };
            writeln!(out, "\n{}", style.bold("Check yourself"))?;
            show_item(&asked, style, width, out)?;
            if interactive {
                let mut answers = Answers::Lines {
                    input: &mut *input,
                    interactive: true,
                };
                match answers.next(item, 0, out)? {
                    Some(a) => {
                        let outcome = grade(&asked, &a, Some(&report), max_bytes)?;
                        feedback(&outcome, style, width, out)?;
                        progress.quizzes.push(Attempt {
                            at: crate::progress::now(),
                            items: vec![ItemResult {
                                question: q.slug.clone(),
                                item: 0,
                                correct: outcome.correct,
                            }],
                        });
                    }
                    None => return Ok(()),
                }
            } else {
                reveal(&asked, &report, style, width, max_bytes, out)?;
            }
        }
        let last = n + 1 == questions.len();
        if interactive && !last {
            write!(
                out,
                "\n{}",
                style.dim("Enter: next question · q: stop the tour ")
            )?;
            out.flush()?;
            let mut line = String::new();
            if input.read_line(&mut line)? == 0 || line.trim().eq_ignore_ascii_case("q") {
                writeln!(out)?;
                return Ok(());
            }
        }
        writeln!(out)?;
    }
    writeln!(out, "{}", style.bold("End of the tour."))?;
    Ok(())
}

/// Shows an item's answer without asking (a tour printed to a pipe or a file).
fn reveal(
    asked: &quiz::Asked<'_>,
    preset: &Report,
    style: &Style,
    width: usize,
    max_bytes: u64,
    out: &mut dyn Write,
) -> Result<()> {
    let text = match asked.item.kind().map_err(anyhow::Error::msg)? {
        Kind::Choice {
            correct,
            explanations,
            ..
        } => format!(
            "Answer: ({}) {}",
            quiz::letter(correct),
            explanations[correct]
        ),
        Kind::Numeric { explanation, .. } => {
            let m = asked
                .item
                .measure(asked.question, Some(preset), max_bytes)?;
            format!(
                "Answer: the run measures {}. {explanation}",
                quiz::format_figure(m)
            )
        }
    };
    for line in textwrap::wrap(&text, width) {
        writeln!(out, "{}", style.dim(&line))?;
    }
    Ok(())
}
