//! Class mode: the quiz and the guided tour. Both read answers line by line from `input`
//! (a terminal, a pipe, or `--answers`), so they behave the same under test as in class.

use crate::bank::{Bank, Question, QuizItem};
use crate::progress::{Attempt, ItemResult, Progress};
use crate::quiz::{self, Outcome};
use crate::render::{self, item, lesson};
use crate::report::Report;
use crate::train::{TrainReport, settings::TrainSettings};
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
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Step {
    Go,
    Skip,
    Quit,
}

/// How a pause of the tour reads the student's choice.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Keys {
    /// One key, no Enter: standard input is a terminal, put out of line mode for the read.
    Single,
    /// A line (a pipe, or a terminal whose mode cannot be changed): the prompt says "+ Enter".
    Lines,
}

impl Keys {
    /// Single keys at a terminal whose mode can be read, else lines.
    pub(crate) fn detect(interactive: bool) -> Keys {
        match interactive && key::available() {
            true => Keys::Single,
            false => Keys::Lines,
        }
    }
}

/// Reading one key from a terminal. Hand-written on rustix's termios calls (rustix is in the
/// build already, through terminal_size) rather than crossterm, which would add about a
/// dozen packages for the two calls the tour needs.
mod key {
    #[cfg(unix)]
    use rustix::termios::{self, LocalModes, OptionalActions, QueueSelector, SpecialCodeIndex};

    /// Whether standard input is a terminal whose mode can be read.
    pub(super) fn available() -> bool {
        #[cfg(unix)]
        return termios::tcgetattr(std::io::stdin()).is_ok();
        #[cfg(not(unix))]
        return false;
    }

    /// Standard input out of line mode and without echo (and without signal keys: Ctrl-C
    /// arrives as a byte, so the mode is always restored) until dropped.
    pub(super) struct Raw {
        #[cfg(unix)]
        saved: Option<termios::Termios>,
    }

    impl Raw {
        pub(super) fn new() -> Raw {
            #[cfg(unix)]
            {
                let stdin = std::io::stdin();
                let Ok(saved) = termios::tcgetattr(&stdin) else {
                    return Raw { saved: None };
                };
                let mut raw = saved.clone();
                raw.local_modes &= !(LocalModes::ICANON | LocalModes::ECHO | LocalModes::ISIG);
                raw.special_codes[SpecialCodeIndex::VMIN] = 1;
                raw.special_codes[SpecialCodeIndex::VTIME] = 0;
                let set = termios::tcsetattr(&stdin, OptionalActions::Now, &raw);
                Raw {
                    saved: set.ok().map(|()| saved),
                }
            }
            #[cfg(not(unix))]
            Raw {}
        }

        /// Drops what else was typed (the rest of an arrow key's sequence, a line's Enter).
        pub(super) fn discard_typeahead(&self) {
            #[cfg(unix)]
            let _ = termios::tcflush(std::io::stdin(), QueueSelector::IFlush);
        }
    }

    impl Drop for Raw {
        fn drop(&mut self) {
            #[cfg(unix)]
            if let Some(saved) = &self.saved {
                let _ = termios::tcsetattr(std::io::stdin(), OptionalActions::Now, saved);
            }
        }
    }
}

/// A guided tour in progress: where it reads from and what it records.
pub(crate) struct Tour<'a> {
    pub input: &'a mut dyn BufRead,
    /// A person at a terminal: ask and wait. Otherwise print straight through.
    pub interactive: bool,
    pub ui: Ui,
    pub max_bytes: u64,
    pub progress: &'a mut Progress,
    /// Runs a question's training comparison (`[train]`), as `ask` does.
    pub train: &'a dyn Fn(&TrainSettings) -> Result<TrainReport>,
    pub keys: Keys,
}

/// Where the tour is, for the line that says how to resume it.
struct At {
    /// 1-based position in the bank, and the bank's size.
    n: usize,
    total: usize,
    id: u32,
}

impl Tour<'_> {
    /// Every question from `from` on, with its explanation, its experiment and one quiz
    /// item; at a terminal it waits between sections and between questions, and pages text
    /// longer than the terminal.
    pub(crate) fn run(&mut self, bank: &Bank, from: usize, out: &mut dyn Write) -> Result<()> {
        let total = bank.questions.len();
        let mut shown = 0;
        for (n, q) in bank.questions.iter().enumerate().skip(from) {
            let at = At {
                n: n + 1,
                total,
                id: q.id,
            };
            let head = format!("── tour: {} of {total} ──", n + 1);
            writeln!(out, "{}", self.ui.style.dim(&head))?;
            let go = self.stop(q, &mut shown, out)?
                && (!self.interactive || n + 1 == total || self.wait(out)?);
            if !go {
                let line = format!(
                    "stopped at {} of {}; `gradtutor tour --from {}` resumes",
                    at.n, at.total, at.id
                );
                writeln!(out, "{line}")?;
                return Ok(());
            }
            shown = 0;
            writeln!(out)?;
        }
        writeln!(out, "{}", self.ui.style.bold("End of the tour."))?;
        Ok(())
    }

    /// The terminal's height in lines when text should be paged: a person at a terminal
    /// whose height is known (or LINES says it), at least 6 lines.
    fn height(&self) -> Option<usize> {
        if !self.interactive {
            return None;
        }
        terminal_size::terminal_size()
            .map(|(_, h)| h.0 as usize)
            .or_else(|| std::env::var("LINES").ok()?.trim().parse().ok())
            .filter(|&h| h >= 6)
    }

    /// Prints `text`, at a terminal a screenful at a time: after a terminal's height less
    /// two lines it waits (Enter or space: more, q: stop). `shown` counts the lines on screen
    /// since the last pause. False when the student stopped.
    fn show(&mut self, text: &str, shown: &mut usize, out: &mut dyn Write) -> Result<bool> {
        let Some(height) = self.height() else {
            write!(out, "{text}")?;
            return Ok(true);
        };
        for line in text.split_inclusive('\n') {
            if *shown >= height - 2 {
                let prompt = match self.keys {
                    Keys::Single => "── more: Enter · q: stop the tour ──",
                    Keys::Lines => "── more: Enter · q + Enter: stop the tour ──",
                };
                let step = self.choose(out, &self.ui.style.dim(prompt))?;
                // The prompt's line is overwritten by the text that follows.
                write!(out, "\r{}\r", " ".repeat(prompt.chars().count()))?;
                if step == Step::Quit {
                    writeln!(out)?;
                    return Ok(false);
                }
                *shown = 0;
            }
            write!(out, "{line}")?;
            *shown += 1;
        }
        Ok(true)
    }

    /// One question: lesson, experiment (with what to look for, and the training comparison
    /// where the question has one), first quiz item; at a terminal it pauses before the
    /// experiment and before the item, either of which the student may skip. The question
    /// counts as studied once the student goes past its lesson. False when the student
    /// stopped.
    fn stop(&mut self, q: &Question, shown: &mut usize, out: &mut dyn Write) -> Result<bool> {
        let ui = self.ui;
        // Run first only when the lesson quotes the run's figures; else when it is shown.
        let mut report = match q.quotes_figures() {
            true => Some(q.experiment.run(&q.experiment.settings, self.max_bytes)?),
            false => None,
        };
        let empty = Report::empty(&q.experiment.demo);
        let text = lesson::render(q, report.as_ref().unwrap_or(&empty), &ui);
        if !self.show(&text, shown, out)? {
            return Ok(false);
        }
        match self.pause(out, "the experiment")? {
            Step::Quit => return Ok(false),
            Step::Skip => {
                self.progress.studied(&q.slug);
                writeln!(out, "(experiment skipped)")?;
            }
            Step::Go => {
                self.progress.studied(&q.slug);
                let report = match &mut report {
                    Some(r) => &*r,
                    None => {
                        report.insert(q.experiment.run(&q.experiment.settings, self.max_bytes)?)
                    }
                };
                *shown = 0;
                let title = format!("Experiment: {}", report.experiment);
                let takeaway = crate::bank::fill(&q.experiment.takeaway, report);
                let command = q.experiment.command_with(&q.experiment.settings);
                let mut text = lesson::look_for(&ui, &title, &takeaway, &command);
                text.push('\n');
                text.push_str(&render::text::render(report, &ui));
                if let Some(t) = &q.train {
                    let run = (self.train)(&t.settings)?;
                    let takeaway = crate::bank::fill_training(&t.takeaway, &run);
                    text.push_str(&lesson::look_for(&ui, "Training", &takeaway, &t.command()));
                    text.push('\n');
                    text.push_str(&render::training::render(&run, &ui));
                }
                if !self.show(&text, shown, out)? {
                    return Ok(false);
                }
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
        let prompt = match self.keys {
            Keys::Single => format!("Enter: {next} · s: skip it · q: stop the tour "),
            Keys::Lines => {
                format!("Enter: {next} · s + Enter: skip it · q + Enter: stop the tour ")
            }
        };
        let step = self.choose(out, &format!("\n{}", self.ui.style.dim(&prompt)))?;
        if self.keys == Keys::Single || step == Step::Quit {
            writeln!(out)?;
        }
        Ok(step)
    }

    /// Waits for Enter; false when the student typed q or input ended.
    fn wait(&mut self, out: &mut dyn Write) -> Result<bool> {
        let prompt = match self.keys {
            Keys::Single => "Enter: next question · q: stop the tour ",
            Keys::Lines => "Enter: next question · q + Enter: stop the tour ",
        };
        let step = self.choose(out, &format!("\n{}", self.ui.style.dim(prompt)))?;
        if self.keys == Keys::Single || step == Step::Quit {
            writeln!(out)?;
        }
        Ok(step != Step::Quit)
    }

    /// Prints `prompt` and reads the student's choice: one key at a terminal (Enter or
    /// space: go, s: skip, q, Ctrl-C or Ctrl-D: stop), else a line (`s`/`skip`, `q`/`quit`,
    /// anything else goes on); the end of input stops. The terminal leaves line mode before
    /// the prompt shows, so a key pressed at once is not held in a half-typed line.
    fn choose(&mut self, out: &mut dyn Write, prompt: &str) -> Result<Step> {
        let raw = (self.keys == Keys::Single).then(key::Raw::new);
        write!(out, "{prompt}")?;
        out.flush()?;
        if let Some(raw) = raw {
            let byte = loop {
                let buf = match self.input.fill_buf() {
                    Ok(b) => b,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                    Err(e) => return Err(e.into()),
                };
                let Some(&b) = buf.first() else {
                    return Ok(Step::Quit);
                };
                let n = buf.len();
                self.input.consume(n);
                break b;
            };
            raw.discard_typeahead();
            drop(raw);
            return Ok(match byte {
                b'q' | b'Q' | 3 | 4 => Step::Quit,
                b's' | b'S' => Step::Skip,
                _ => Step::Go,
            });
        }
        let mut line = String::new();
        if read_line(self.input, &mut line)? == 0 {
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
