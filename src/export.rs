//! `gradtutor export`: every question's experiment run once, its texts filled from that run,
//! then laid out by a handout renderer (`render::markdown`, `render::html`), which only
//! formats what is measured here.

use crate::bank::{Bank, Question, fill, fill_training};
use crate::render::handout::{Handout, Section};
use crate::render::{html, markdown, text};
use crate::train::TrainReport;
use crate::ui::Ui;
use anyhow::Result;
use rayon::prelude::*;

/// The columns the experiment's output is laid out in, as on a standard terminal.
const WIDTH: usize = 80;

/// Whether a question's training comparison (`[train]`) is run for the handout.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Training {
    /// Only named, with its command: the Markdown handout.
    Skip,
    /// Run, so its chart and output can be shown: the HTML handout.
    Run,
}

/// The whole bank as a Markdown handout.
pub fn markdown(bank: &Bank, max_bytes: u64) -> Result<String> {
    // Each experiment runs once; the answer key reads its numeric figures from these runs.
    Ok(markdown::render(&measure(bank, max_bytes, Training::Skip)?))
}

/// The whole bank as one HTML page.
pub(crate) fn html(bank: &Bank, max_bytes: u64) -> Result<String> {
    html::render(&measure(bank, max_bytes, Training::Run)?)
}

/// Runs every question's experiment once (and a numeric item's own settings where it has
/// some), and each training comparison that is shown or quoted, all on every core, so that
/// every format shows the same figures.
pub(crate) fn measure(bank: &Bank, max_bytes: u64, training: Training) -> Result<Handout<'_>> {
    let qs = &bank.questions;
    // Trained for the HTML handout's charts, or for the figures its takeaway quotes.
    let trained: Vec<_> = qs
        .iter()
        .enumerate()
        .filter_map(|(i, q)| Some((i, q.train.as_ref()?)))
        .filter(|(_, t)| training == Training::Run || t.quotes_figures())
        .collect();
    // Both lists on one pool; this thread starts on the trainings, the longest items.
    let (reports, sections): (Vec<_>, Vec<_>) = rayon::join(
        || {
            trained
                .par_iter()
                .with_max_len(1)
                .map(|(_, t)| t.run(max_bytes))
                .collect()
        },
        || {
            qs.par_iter()
                .with_max_len(1)
                .map(|q| section(q, max_bytes))
                .collect()
        },
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
                let takeaway = match &section.question.written().train {
                    Some(w) => &w.takeaway,
                    None => &t.takeaway,
                };
                section.train_takeaway = Some(match &trained {
                    Some(r) => fill_training(takeaway, r),
                    None => takeaway.clone(),
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
    // The texts keep their math as written (`$…$`): each renderer typesets it its own way.
    let w = q.written();
    Ok(Section {
        question: q,
        answer: fill(&w.answer, &report),
        key_points: w.key_points.iter().map(|k| fill(k, &report)).collect(),
        takeaway: fill(&w.experiment.takeaway, &report),
        train_takeaway: None,
        output,
        figures,
        training: None,
        report,
    })
}
