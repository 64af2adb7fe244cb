//! What a handout shows, measured once for every format (by `export::measure`): each
//! question's experiment run, its texts with their placeholders filled from that run, the
//! run's output as the terminal prints it, the figures its numeric quiz items measure and,
//! when asked for, its training comparison. `markdown` and `html` only lay this out.

use crate::bank::{Bank, Question};
use crate::report::Report;
use crate::train::TrainReport;

/// The chosen questions of the bank, each measured (or not run, with `--no-runs`).
pub(crate) struct Handout<'a> {
    pub bank: &'a Bank,
    pub sections: Vec<Section<'a>>,
    /// Where the quiz answers go; `None`: the format's own place (Markdown: a key at the
    /// end; HTML: folded under each item).
    pub answers: Option<Answers>,
    /// Whether the experiments ran (`--no-runs`: text, quiz and key only).
    pub runs: bool,
    /// The paper the HTML page prints on; `None` leaves it to the browser.
    pub paper: Option<Paper>,
}

/// Where a handout puts its quiz answers (`export --answers`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Answers {
    /// Under each quiz item (folded in HTML, unfolded in print).
    Inline,
    /// In an answer key after the last question.
    End,
    /// Nowhere: a worksheet.
    None,
}

/// The paper an HTML handout prints on (`export --paper`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Paper {
    /// 210 × 297 mm.
    A4,
    /// 8.5 × 11 in.
    Letter,
}

impl Paper {
    /// The CSS `@page` size.
    pub(crate) fn css(self) -> &'static str {
        match self {
            Paper::A4 => "A4",
            Paper::Letter => "letter",
        }
    }
}

/// One question and what its runs measured.
pub(crate) struct Section<'a> {
    pub question: &'a Question,
    /// The question's experiment, run with its preset (`None`: not run, `--no-runs`).
    pub report: Option<Report>,
    /// The answer, key points and takeaway with their placeholders filled from `report`, their
    /// math as written (`$…$`): Markdown shows it as Unicode (`crate::math::plain`), HTML
    /// typesets it.
    pub answer: String,
    pub key_points: Vec<String>,
    pub takeaway: String,
    /// `$ command`, a blank line, and the report as `gradtutor demo` prints it (when run).
    pub output: Option<String>,
    /// For each quiz item: a numeric item's measured figure, `None` for a choice (and for
    /// every item when nothing ran).
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
