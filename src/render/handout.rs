//! What a handout shows, measured once for every format: each question's experiment run, its
//! texts with their placeholders filled from that run, the run's output as the terminal
//! prints it, the figures its numeric quiz items measure and, when asked for, its training
//! comparison. `markdown` and `html` only lay this out.

use super::text;
use crate::bank::{Bank, Question, fill, fill_training};
use crate::report::Report;
use crate::train::TrainReport;
use crate::ui::Ui;
use anyhow::Result;

/// The columns the experiment's output is laid out in, as on a standard terminal.
const WIDTH: usize = 80;

/// Whether a question's training comparison (`[train]`) is run for the handout.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Training {
    /// Only named, with its command: the Markdown handout.
    Skip,
    /// Run, so its chart and output can be shown: the HTML handout.
    Run,
}

/// The bank, every question measured.
pub struct Handout<'a> {
    pub bank: &'a Bank,
    pub sections: Vec<Section<'a>>,
}

/// One question and what its runs measured.
pub struct Section<'a> {
    pub question: &'a Question,
    /// The question's experiment, run with its preset.
    pub report: Report,
    /// The answer, key points and takeaway with their placeholders filled from `report`.
    pub answer: String,
    pub key_points: Vec<String>,
    pub takeaway: String,
    /// `$ command`, a blank line, and the report as `gradtutor demo` prints it.
    pub output: String,
    /// For each quiz item: a numeric item's measured figure, `None` for a choice.
    pub figures: Vec<Option<f64>>,
    /// The `[train]` takeaway with its placeholders filled from the training comparison.
    pub train_takeaway: Option<String>,
    /// The training comparison, if the question has one and it was run.
    pub training: Option<TrainReport>,
}

impl Section<'_> {
    /// `3. Title`, as headings and the answer key show it.
    pub fn heading(&self) -> String {
        format!("{}. {}", self.question.id, self.question.title)
    }
}

/// Runs every question's experiment once (and a numeric item's own settings where it has
/// some), and each training comparison that is shown or quoted, all on every core, so that
/// every format shows the same figures.
pub fn measure(bank: &Bank, max_bytes: u64, training: Training) -> Result<Handout<'_>> {
    let qs = &bank.questions;
    // Trained for the HTML handout's charts, or for the figures its takeaway quotes.
    let trained: Vec<_> = qs
        .iter()
        .enumerate()
        .filter_map(|(i, q)| Some((i, q.train.as_ref()?)))
        .filter(|(_, t)| training == Training::Run || t.quotes_figures())
        .collect();
    // Trainings first: they are the longest items.
    let (reports, sections) = crate::nn::parallel::map_each_both(
        trained.len(),
        |t| trained[t].1.run(max_bytes),
        qs.len(),
        |i| section(&qs[i], max_bytes),
    );
    let mut trainings: Vec<Option<Result<TrainReport>>> = qs.iter().map(|_| None).collect();
    for (&(i, _), report) in trained.iter().zip(reports) {
        trainings[i] = Some(report);
    }
    let sections = sections
        .into_iter()
        .zip(trainings)
        .map(|(section, trained)| {
            let mut section = section?;
            let trained = trained.transpose()?;
            if let Some(t) = &section.question.train {
                section.train_takeaway = Some(match &trained {
                    Some(r) => fill_training(&t.takeaway, r),
                    None => t.takeaway.clone(),
                });
            }
            section.training = trained.filter(|_| training == Training::Run);
            Ok(section)
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Handout { bank, sections })
}

/// A question's experiment run and what it fills; its training is added by [`measure`].
fn section(q: &Question, max_bytes: u64) -> Result<Section<'_>> {
    let report = q.experiment.run(&q.experiment.settings, max_bytes)?;
    let output = format!(
        "$ {}\n\n{}",
        q.experiment.command(),
        text::render(&report, &Ui::plain(WIDTH)).trim_end()
    );
    let figures = q
        .quiz
        .iter()
        .map(|it| match it.is_choice() {
            true => Ok(None),
            false => it
                .measure(&q.experiment, Some(&report), max_bytes)
                .map(Some),
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Section {
        question: q,
        answer: fill(&q.answer, &report),
        key_points: q.key_points.iter().map(|k| fill(k, &report)).collect(),
        takeaway: fill(&q.experiment.takeaway, &report),
        train_takeaway: None,
        output,
        figures,
        training: None,
        report,
    })
}
