//! Class mode: the quiz and the guided tour. Both read answers line by line from `input`
//! (a terminal, a pipe, or `--answers`), so they behave the same under test as in class.

use crate::bank::{Bank, Question, QuizItem};
use crate::progress::{Attempt, ItemResult, Progress};
use crate::quiz::{self, Outcome};
use crate::render::{item, lesson, text};
use crate::report::Report;
use crate::ui::Ui;
use anyhow::{Result, bail};
use rand::SeedableRng;
use rand::seq::SliceRandom;
use std::io::{BufRead, Write};

/// One item of a quiz, with where it comes from.
#[derive(Clone, Debug)]
pub(crate) struct Asked<'a> {
    pub question: &'a Question,
    /// The item's index among the question's items (as progress records it).
    pub index: usize,
    pub item: &'a QuizItem,
}

impl Asked<'_> {
    /// Grades `answer` ([`quiz::grade_item`]).
    fn grade(&self, answer: &str, preset_run: Option<&Report>, max_bytes: u64) -> Result<Outcome> {
        quiz::grade_item(self.question, self.item, answer, preset_run, max_bytes)
    }

    /// A numeric item's figure, measured; none for a choice item.
    fn measured(&self, preset_run: Option<&Report>, max_bytes: u64) -> Result<Option<f64>> {
        quiz::measured(self.question, self.item, preset_run, max_bytes)
    }

    /// The record of `answer`, graded as `outcome`: the choice or the number kept with it.
    fn record(&self, answer: &str, outcome: &Outcome) -> ItemResult {
        ItemResult {
            question: self.question.slug.clone(),
            item: self.index,
            correct: outcome.correct,
            answer: quiz::recorded(self.item, answer).ok(),
        }
    }
}

/// The most bytes of a line of input kept: an answer or a keystroke is a few characters, and
/// a line of hundreds of megabytes on stdin is not held whole.
pub(crate) const MAX_LINE: usize = 4096;

/// Reads a line as `BufRead::read_line` does, keeping at most [`MAX_LINE`] bytes of it
/// (invalid UTF-8, and a character cut at the limit, become U+FFFD) and skipping the rest up
/// to its newline.
/// Returns the bytes read, kept or not: 0 at the end of input.
fn read_line(input: &mut dyn BufRead, line: &mut String) -> std::io::Result<usize> {
    let mut kept = Vec::new();
    let mut read = 0;
    loop {
        let buf = match input.fill_buf() {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if buf.is_empty() {
            break;
        }
        let (chunk, done) = match buf.iter().position(|&b| b == b'\n') {
            Some(i) => (&buf[..=i], true),
            None => (buf, false),
        };
        let room = MAX_LINE.saturating_sub(kept.len());
        kept.extend_from_slice(&chunk[..chunk.len().min(room)]);
        let n = chunk.len();
        input.consume(n);
        read += n;
        if done {
            break;
        }
    }
    line.push_str(&String::from_utf8_lossy(&kept));
    Ok(read)
}

/// Where answers come from.
pub(crate) enum Answers<'a> {
    /// Given up front (`--answers "b,a,3.5"`), one per item.
    Given(Vec<String>),
    /// Read a line at a time; `interactive` when a person is typing at a terminal.
    Lines {
        input: &'a mut dyn BufRead,
        interactive: bool,
    },
}

/// The answer that skips an item: `-` in `--answers`, `s` (or `-`) at the prompt.
const SKIP: &str = "-";

impl Answers<'_> {
    /// The next answer to `item` ([`SKIP`] to pass it over), or None when input ran out (or
    /// the student typed `q`).
    /// At a terminal an unusable answer is asked again; from a pipe it is said and the item
    /// skipped (the next line answers the next item), so that one bad line does not end the
    /// quiz and lose the answers before it.
    fn next(
        &mut self,
        item: &QuizItem,
        index: usize,
        width: usize,
        out: &mut dyn Write,
    ) -> Result<Option<String>> {
        match self {
            Answers::Given(list) => Ok(list.get(index).cloned()),
            Answers::Lines { input, interactive } => loop {
                write!(out, "> ")?;
                out.flush()?;
                let mut line = String::new();
                if read_line(&mut **input, &mut line)? == 0 {
                    writeln!(out)?;
                    return Ok(None);
                }
                let line = line.trim().to_string();
                if line.eq_ignore_ascii_case("q") || line.eq_ignore_ascii_case("quit") {
                    return Ok(None);
                }
                if ["s", "skip", SKIP]
                    .iter()
                    .any(|s| line.eq_ignore_ascii_case(s))
                {
                    return Ok(Some(SKIP.into()));
                }
                match quiz::check_format(item, &line) {
                    Ok(()) => return Ok(Some(line)),
                    Err(e) if *interactive => {
                        let text = format!("{e}; try again (q quits)");
                        writeln!(out, "{}", crate::ui::wrap(&text, width).join("\n"))?;
                    }
                    Err(e) => {
                        let text = format!("answer {}: {e}; this item is skipped", index + 1);
                        writeln!(out, "{}", crate::ui::wrap(&text, width).join("\n"))?;
                        return Ok(Some(SKIP.into()));
                    }
                }
            },
        }
    }

    /// Refuses a `--answers` list of the wrong length or with an answer of the wrong form.
    fn check(&self, items: &[Asked<'_>]) -> Result<()> {
        let Answers::Given(list) = self else {
            return Ok(());
        };
        if list.len() != items.len() {
            bail!(
                "--answers gives {} for {}; give one per item, comma-separated",
                crate::format::count(list.len(), "answer", "answers"),
                crate::format::count(items.len(), "quiz item", "quiz items"),
            );
        }
        for (i, (a, asked)) in list
            .iter()
            .zip(items)
            .enumerate()
            .filter(|(_, (a, _))| *a != SKIP)
        {
            quiz::check_format(asked.item, a)
                .map_err(|e| anyhow::anyhow!("answer {}: {e}", i + 1))?;
        }
        Ok(())
    }
}

/// Which items a quiz asks.
pub(crate) struct Selection {
    pub question: Option<String>,
    pub count: Option<usize>,
    pub seed: u64,
}

/// The items of `q`, in file order.
fn items_of(q: &Question) -> impl Iterator<Item = Asked<'_>> {
    q.quiz.iter().enumerate().map(move |(index, item)| Asked {
        question: q,
        index,
        item,
    })
}

/// The items to ask: one question's in file order, or the whole bank's shuffled by the seed;
/// then the first `count`.
pub(crate) fn select<'a>(bank: &'a Bank, sel: &Selection) -> Result<Vec<Asked<'a>>> {
    let mut items: Vec<Asked<'a>> = match &sel.question {
        Some(key) => {
            let q = bank.find(key)?;
            if q.quiz.is_empty() {
                bail!("question {} has no quiz items", q.id);
            }
            items_of(q).collect()
        }
        None => {
            let mut all: Vec<_> = bank.questions.iter().flat_map(items_of).collect();
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
pub(crate) fn run_quiz(
    items: &[Asked<'_>],
    answers: &mut Answers<'_>,
    ui: &Ui,
    max_bytes: u64,
    out: &mut dyn Write,
) -> Result<Vec<ItemResult>> {
    answers.check(items)?;
    let mut results = Vec::with_capacity(items.len());
    for (i, asked) in items.iter().enumerate() {
        let q = asked.question;
        let head = format!("{}/{} · question {}: {}", i + 1, items.len(), q.id, q.title);
        writeln!(out, "\n{}", ui.style.bold(&head))?;
        write!(out, "{}", item::prompt(asked.item, &q.experiment, ui))?;
        let Some(answer) = answers.next(asked.item, i, ui.width, out)? else {
            writeln!(out, "(stopping here)")?;
            break;
        };
        if answer == SKIP {
            writeln!(out, "(skipped)")?;
            continue;
        }
        let outcome = asked.grade(&answer, None, max_bytes)?;
        write!(out, "{}", item::feedback(&outcome, ui))?;
        results.push(asked.record(&answer, &outcome));
    }
    Ok(results)
}

/// Prints the closing score and what to review; returns the attempt to record.
pub(crate) fn summary(
    results: Vec<ItemResult>,
    bank: &Bank,
    ui: &Ui,
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
            ui.style.bold(&format!(
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

/// What the student chose at a pause of the tour.
enum Step {
    Go,
    Skip,
    Quit,
}

/// A guided tour in progress: where it reads from and what it records.
pub(crate) struct Tour<'a> {
    pub input: &'a mut dyn BufRead,
    /// A person at a terminal: ask and wait. Otherwise print straight through.
    pub interactive: bool,
    pub ui: Ui,
    pub max_bytes: u64,
    pub progress: &'a mut Progress,
}

impl Tour<'_> {
    /// Every question from `from` on, with its explanation, its experiment and one quiz
    /// item; at a terminal it waits for Enter between sections and between questions.
    pub(crate) fn run(&mut self, bank: &Bank, from: usize, out: &mut dyn Write) -> Result<()> {
        let total = bank.questions.len();
        for (n, q) in bank.questions.iter().enumerate().skip(from) {
            let head = format!("── tour: {} of {total} ──", n + 1);
            writeln!(out, "{}", self.ui.style.dim(&head))?;
            if !self.stop(q, out)? {
                return Ok(());
            }
            if self.interactive && n + 1 < total && !self.wait(out)? {
                return Ok(());
            }
            writeln!(out)?;
        }
        writeln!(out, "{}", self.ui.style.bold("End of the tour."))?;
        Ok(())
    }

    /// One question: lesson, experiment, first quiz item; at a terminal it pauses before
    /// the experiment and before the item, either of which the student may skip. False when
    /// the student stopped.
    fn stop(&mut self, q: &Question, out: &mut dyn Write) -> Result<bool> {
        let ui = self.ui;
        // Run first only when the lesson quotes the run's figures; else when it is shown.
        let mut report = match q.quotes_figures() {
            true => Some(q.experiment.run(&q.experiment.settings, self.max_bytes)?),
            false => None,
        };
        let empty = Report::empty(&q.experiment.demo);
        write!(
            out,
            "{}",
            lesson::render(q, report.as_ref().unwrap_or(&empty), &ui)
        )?;
        self.progress.studied(&q.slug);
        match self.pause(out, "the experiment")? {
            Step::Quit => return Ok(false),
            Step::Skip => writeln!(out, "(experiment skipped)")?,
            Step::Go => {
                let report = match &mut report {
                    Some(r) => &*r,
                    None => {
                        report.insert(q.experiment.run(&q.experiment.settings, self.max_bytes)?)
                    }
                };
                let head = format!("Experiment: {}", report.experiment);
                writeln!(out, "\n{}", ui.style.bold(&head))?;
                write!(out, "{}", text::render(report, &ui))?;
            }
        }
        let Some(asked) = items_of(q).next() else {
            return Ok(true);
        };
        match self.pause(out, "a quiz item")? {
            Step::Quit => return Ok(false),
            Step::Skip => {
                writeln!(out, "(quiz item skipped)")?;
                return Ok(true);
            }
            Step::Go => {}
        }
        writeln!(out, "\n{}", ui.style.bold("Check yourself"))?;
        write!(out, "{}", item::prompt(asked.item, &q.experiment, &ui))?;
        if !self.interactive {
            let measured = asked.measured(report.as_ref(), self.max_bytes)?;
            write!(out, "{}", item::reveal(asked.item, measured, &ui))?;
            return Ok(true);
        }
        let mut answers = Answers::Lines {
            input: &mut *self.input,
            interactive: true,
        };
        let Some(answer) = answers.next(asked.item, 0, ui.width, out)? else {
            return Ok(false);
        };
        if answer == SKIP {
            writeln!(out, "(skipped)")?;
            return Ok(true);
        }
        let outcome = asked.grade(&answer, report.as_ref(), self.max_bytes)?;
        write!(out, "{}", item::feedback(&outcome, &ui))?;
        self.progress.quizzes.push(Attempt {
            at: crate::progress::now(),
            items: vec![asked.record(&answer, &outcome)],
        });
        Ok(true)
    }

    /// At a terminal, waits before the next section: Enter shows it, s skips it, q stops
    /// the tour (as does the end of input). Elsewhere it goes straight on.
    fn pause(&mut self, out: &mut dyn Write, next: &str) -> Result<Step> {
        if !self.interactive {
            return Ok(Step::Go);
        }
        let prompt = format!("Enter: {next} · s: skip it · q: stop the tour ");
        write!(out, "\n{}", self.ui.style.dim(&prompt))?;
        out.flush()?;
        let mut line = String::new();
        if read_line(self.input, &mut line)? == 0 {
            writeln!(out)?;
            return Ok(Step::Quit);
        }
        let word = line.trim();
        Ok(
            if ["q", "quit"].iter().any(|w| word.eq_ignore_ascii_case(w)) {
                Step::Quit
            } else if ["s", "skip"].iter().any(|w| word.eq_ignore_ascii_case(w)) {
                Step::Skip
            } else {
                Step::Go
            },
        )
    }

    /// Waits for Enter; false when the student typed q or input ended.
    fn wait(&mut self, out: &mut dyn Write) -> Result<bool> {
        let prompt = "Enter: next question · q: stop the tour ";
        write!(out, "\n{}", self.ui.style.dim(prompt))?;
        out.flush()?;
        let mut line = String::new();
        if read_line(self.input, &mut line)? == 0 || line.trim().eq_ignore_ascii_case("q") {
            writeln!(out)?;
            return Ok(false);
        }
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Catches: a line of input held whole however long (a 300 MB line took 1.18 GB), or the
    /// rest of a long line read as the next answer.
    #[test]
    fn lines_are_read_with_a_cap() {
        let long = "b".repeat(3 * MAX_LINE) + "\nnext\n";
        let mut input = std::io::BufReader::with_capacity(100, long.as_bytes());
        let mut line = String::new();
        assert_eq!(read_line(&mut input, &mut line).unwrap(), 3 * MAX_LINE + 1);
        assert_eq!(line.len(), MAX_LINE);
        let mut next = String::new();
        assert_eq!(read_line(&mut input, &mut next).unwrap(), 5);
        assert_eq!(next, "next\n");
        let mut end = String::new();
        assert_eq!(read_line(&mut input, &mut end).unwrap(), 0);
        assert_eq!(end, "");
    }
}
