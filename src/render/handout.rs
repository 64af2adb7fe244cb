//! What a handout shows, measured once for every format (by `export::measure`): each
//! question's experiment run, its texts with their placeholders filled from that run, the
//! run's output as the terminal prints it, the figures its numeric quiz items measure and,
//! when asked for, its training comparison. `markdown` and `html` only lay this out.

use crate::bank::{Bank, Question};
use crate::report::Report;
use crate::train::TrainReport;

/// The bank, every question measured.
pub(crate) struct Handout<'a> {
    pub bank: &'a Bank,
    pub sections: Vec<Section<'a>>,
}

/// One question and what its runs measured.
pub(crate) struct Section<'a> {
    pub question: &'a Question,
    /// The question's experiment, run with its preset.
    pub report: Report,
    /// The answer, key points and takeaway with their placeholders filled from `report`, their
    /// math as written (`$…$`): Markdown shows it as Unicode (`crate::math::plain`), HTML
    /// typesets it.
    pub answer: String,
    pub key_points: Vec<String>,
    pub takeaway: String,
    /// `$ command`, a blank line, and the report as `gradtutor demo` prints it.
    pub output: String,
    /// For each quiz item: a numeric item's measured figure, `None` for a choice.
    pub figures: Vec<Option<f64>>,
    /// The `[train]` takeaway with its placeholders filled from the training comparison (math
    /// as written).
    pub train_takeaway: Option<String>,
    /// The training comparison, if the question has one and it was run.
    pub training: Option<TrainReport>,
}

impl Section<'_> {
    /// `3. Title`, as headings and the answer key show it.
    pub(crate) fn heading(&self) -> String {
        format!("{}. {}", self.question.id, self.question.title)
    }
}
