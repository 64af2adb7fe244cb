//! `gradtutor export`: every question's experiment run once, its texts filled from that run,
//! then laid out by a handout renderer (`render::markdown`, `render::html`), which only
//! formats what is measured here.

use crate::bank::{Bank, Question, blank, blank_training, fill, fill_training};
use crate::render::handout::{Answers, Handout, Paper, Section};
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
    let options = Options::whole(bank);
    // Each experiment runs once; the answer key reads its numeric figures from these runs.
    Ok(markdown::render(&measure(
        bank,
        &options,
        max_bytes,
        Training::Skip,
    )?))
}

/// What a handout holds and how (`export --only/--answers/--no-runs/--paper`).
pub(crate) struct Options<'a> {
    /// The questions, in the order shown.
    pub questions: Vec<&'a Question>,
    /// Where the quiz answers go; `None`: the format's own place (Markdown: a key at the
    /// end; HTML: folded under each item).
    pub answers: Option<Answers>,
    /// Whether experiments (and trainings) run; without, the handout is text, quiz and key.
    pub runs: bool,
    /// The paper the HTML page prints on; `None` leaves it to the browser.
    pub paper: Option<Paper>,
}

impl<'a> Options<'a> {
    /// The whole bank, answers in the format's place, every experiment run.
    pub(crate) fn whole(bank: &'a Bank) -> Self {
        Options {
            questions: bank.questions.iter().collect(),
            answers: None,
            runs: true,
            paper: None,
        }
    }
}

/// The handout in `format` (`true`: HTML) with `options`.
pub(crate) fn handout(
    bank: &Bank,
    options: &Options,
    html: bool,
    max_bytes: u64,
) -> Result<String> {
    match html {
        true => html::render(&measure(bank, options, max_bytes, Training::Run)?),
        false => Ok(markdown::render(&measure(
            bank,
            options,
            max_bytes,
            Training::Skip,
        )?)),
    }
}

/// `--only`'s list (`1,2,5,dying-relu`): each question by id or slug, in the order given.
pub(crate) fn select<'a>(bank: &'a Bank, only: &[String]) -> Result<Vec<&'a Question>> {
    let mut chosen: Vec<&Question> = Vec::new();
    for key in only {
        if key.trim().is_empty() {
            anyhow::bail!(
                "--only: an empty entry; give ids or slugs separated by commas (1,2,5,dying-relu)"
            );
        }
        let q = bank.find(key).map_err(|e| anyhow::anyhow!("--only: {e}"))?;
        if chosen.iter().any(|c| c.id == q.id) {
            anyhow::bail!(
                "--only names question {} ('{}') twice; each question is shown once",
                q.id,
                q.slug
            );
        }
        chosen.push(q);
    }
    Ok(chosen)
}

/// Runs every chosen question's experiment once (and a numeric item's own settings where it
/// has some), and each training comparison that is shown or quoted, all on every core, so
/// that every format shows the same figures. Without runs (`--no-runs`) nothing runs: the
/// texts' figures are blanks and the key names the command that measures each figure.
pub(crate) fn measure<'a>(
    bank: &'a Bank,
    options: &Options<'a>,
    max_bytes: u64,
    training: Training,
) -> Result<Handout<'a>> {
    let handout = |sections| Handout {
        bank,
        sections,
        answers: options.answers,
        runs: options.runs,
        paper: options.paper,
    };
    let qs = &options.questions;
    if !options.runs {
        return Ok(handout(qs.iter().map(|q| unrun(q)).collect()));
    }
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
        .map(|(section, trained): (Result<Section<'a>>, _)| {
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
    Ok(handout(sections))
}

/// A question without its runs: placeholders as blanks, no output, no figures.
fn unrun<'a>(q: &'a Question) -> Section<'a> {
    let w = q.written();
    Section {
        question: q,
        answer: blank(&w.answer),
        key_points: w.key_points.iter().map(|k| blank(k)).collect(),
        takeaway: blank(&w.experiment.takeaway),
        train_takeaway: w.train.as_ref().map(|t| blank_training(&t.takeaway)),
        output: None,
        figures: q.quiz.iter().map(|_| None).collect(),
        training: None,
        report: None,
    }
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
        figures,
        training: None,
        output: Some(output),
        report: Some(report),
    })
}
