//! What a comparative verdict asserts, as data: the figures it compares, by name and run,
//! and the relation between them. An experiment words a verdict from the relation its
//! figures are in and records that relation beside the text; [`Premise::check`] reads the
//! figures again from the report, so a sentence that no longer follows from its run fails
//! a test instead of reaching a student.

use super::{Figure, Report, ReportBody, Run, TheoryLine};
use std::fmt;

/// A number a premise reads from a report.
#[derive(Clone, Debug, PartialEq)]
pub enum Term {
    /// A [`Figure`] of the run with this label (a main run, a side run or one set aside).
    Of(Figure, String),
    /// A figure only verdicts read, of the run with this label.
    Own(Own, String),
    /// A figure of the report's phase map.
    Map(MapFigure),
    Const(f64),
    Neg(Box<Term>),
    Abs(Box<Term>),
    Sub(Box<Term>, Box<Term>),
    Mul(Box<Term>, Box<Term>),
    Div(Box<Term>, Box<Term>),
}

/// Figures of one run that verdicts compare and no quiz item asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Own {
    /// Mean-field theory's log₁₀(‖∂L/∂h_1‖ / ‖∂L/∂h_L‖), the theory line's orders.
    PredictedOrders,
    /// The loss scale the measured pass used.
    LossScaleUsed,
    /// The hidden layers' largest unit spread (0: every unit gets the same gradient).
    UnitSpreadMax,
    /// The hidden layers' largest ‖∂L/∂W‖.
    HiddenGradMax,
}

/// Figures of a phase map (`demo phase`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MapFigure {
    /// The σ_w with χ = 1 at row `i`'s σ_b.
    CriticalSigmaW(usize),
    /// χ at the fixed point, cell `i`.
    CellChi(usize),
    /// Measured log₁₀ of the per-layer factor, cell `i`.
    CellLog10(usize),
}

/// How two numbers a and b stand.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Rel {
    /// a > b.
    Greater,
    /// a < b.
    Less,
    /// a ≥ b.
    AtLeast,
    /// a ≤ b.
    AtMost,
    /// |a − b| ≤ tolerance.
    Within(f64),
    /// |a − b| > tolerance.
    Outside(f64),
    /// max(a/b, b/a) ≤ factor, both positive.
    WithinFactor(f64),
}

/// What a verdict takes to be true of its run.
#[derive(Clone, Debug, PartialEq)]
pub enum Premise {
    /// Both terms exist and stand in the relation.
    Holds(Term, Rel, Term),
    /// The term does not exist for this run (a norm underflowed to 0 or overflowed).
    Undefined(Term),
}

/// A line of a report: a verdict or a note, by its index.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Line {
    Verdict(usize),
    Note(usize),
}

/// A line's text with the premises its wording was chosen from.
#[derive(Clone, Debug, PartialEq)]
pub struct Verdict {
    pub text: String,
    pub premises: Vec<Premise>,
}

impl Verdict {
    /// A line that states figures and compares none.
    pub fn plain(text: impl Into<String>) -> Verdict {
        Verdict {
            text: text.into(),
            premises: Vec::new(),
        }
    }

    /// `text`, true when `premises` hold.
    pub fn new(text: impl Into<String>, premises: Vec<Premise>) -> Verdict {
        Verdict {
            text: text.into(),
            premises,
        }
    }

    /// The same line with one more premise.
    pub fn and(mut self, p: Premise) -> Verdict {
        self.premises.push(p);
        self
    }
}

impl From<String> for Verdict {
    fn from(text: String) -> Verdict {
        Verdict::plain(text)
    }
}

impl Report {
    /// Adds a verdict line and records its premises.
    pub fn verdict(&mut self, v: impl Into<Verdict>) {
        let v = v.into();
        let line = Line::Verdict(self.verdicts.len());
        self.verdicts.push(v.text);
        self.premises
            .extend(v.premises.into_iter().map(|p| (line, p)));
    }

    /// Adds a note and records its premises.
    pub fn note(&mut self, v: impl Into<Verdict>) {
        let v = v.into();
        let line = Line::Note(self.notes.len());
        self.notes.push(v.text);
        self.premises
            .extend(v.premises.into_iter().map(|p| (line, p)));
    }

    /// The run labelled `label`: a main run, a side run, or one set aside.
    pub fn run_labelled(&self, label: &str) -> Option<&Run> {
        self.runs
            .iter()
            .chain(&self.side_runs)
            .chain(&self.set_aside)
            .find(|r| r.label == label)
    }

    /// The text of a line.
    pub fn line(&self, line: Line) -> Option<&str> {
        match line {
            Line::Verdict(i) => self.verdicts.get(i),
            Line::Note(i) => self.notes.get(i),
        }
        .map(String::as_str)
    }

    /// Every premise checked against the report's own figures: the lines whose premise
    /// fails, each with the premise and the values read.
    pub fn failed_premises(&self) -> Vec<String> {
        self.premises
            .iter()
            .filter_map(|(line, p)| {
                p.check(self).err().map(|why| {
                    format!(
                        "{why}\n    in: {}",
                        self.line(*line).unwrap_or("(no such line)")
                    )
                })
            })
            .collect()
    }
}

impl Term {
    /// `figure` of `run`.
    pub fn of(figure: Figure, run: &Run) -> Term {
        Term::Of(figure, run.label.clone())
    }

    /// A verdict-only figure of `run`.
    pub fn own(own: Own, run: &Run) -> Term {
        Term::Own(own, run.label.clone())
    }

    pub fn abs(self) -> Term {
        Term::Abs(Box::new(self))
    }

    pub fn minus(self, t: impl Into<Term>) -> Term {
        Term::Sub(Box::new(self), Box::new(t.into()))
    }

    pub fn times(self, t: impl Into<Term>) -> Term {
        Term::Mul(Box::new(self), Box::new(t.into()))
    }

    pub fn over(self, t: impl Into<Term>) -> Term {
        Term::Div(Box::new(self), Box::new(t.into()))
    }

    pub fn gt(self, t: impl Into<Term>) -> Premise {
        Premise::Holds(self, Rel::Greater, t.into())
    }

    pub fn lt(self, t: impl Into<Term>) -> Premise {
        Premise::Holds(self, Rel::Less, t.into())
    }

    pub fn at_least(self, t: impl Into<Term>) -> Premise {
        Premise::Holds(self, Rel::AtLeast, t.into())
    }

    pub fn at_most(self, t: impl Into<Term>) -> Premise {
        Premise::Holds(self, Rel::AtMost, t.into())
    }

    pub fn within(self, t: impl Into<Term>, tolerance: f64) -> Premise {
        Premise::Holds(self, Rel::Within(tolerance), t.into())
    }

    pub fn outside(self, t: impl Into<Term>, tolerance: f64) -> Premise {
        Premise::Holds(self, Rel::Outside(tolerance), t.into())
    }

    pub fn within_factor(self, t: impl Into<Term>, factor: f64) -> Premise {
        Premise::Holds(self, Rel::WithinFactor(factor), t.into())
    }

    pub fn undefined(self) -> Premise {
        Premise::Undefined(self)
    }

    /// The term's value in `report`, read from its runs; `None` where a figure is not
    /// defined, a run is missing or the value is NaN.
    pub fn value(&self, report: &Report) -> Option<f64> {
        let v = match self {
            Term::Of(f, label) => f.of(report.run_labelled(label)?)?,
            Term::Own(o, label) => o.of(report.run_labelled(label)?)?,
            Term::Map(m) => m.of(report)?,
            Term::Const(c) => *c,
            Term::Neg(t) => -t.value(report)?,
            Term::Abs(t) => t.value(report)?.abs(),
            Term::Sub(a, b) => a.value(report)? - b.value(report)?,
            Term::Mul(a, b) => a.value(report)? * b.value(report)?,
            Term::Div(a, b) => a.value(report)? / b.value(report)?,
        };
        (!v.is_nan()).then_some(v)
    }
}

impl std::ops::Neg for Term {
    type Output = Term;
    fn neg(self) -> Term {
        Term::Neg(Box::new(self))
    }
}

impl From<f64> for Term {
    fn from(c: f64) -> Term {
        Term::Const(c)
    }
}

impl Own {
    /// The figure's value in `run`.
    pub fn of(self, run: &Run) -> Option<f64> {
        let layers = run.layers();
        let hidden = &layers[..layers.len().saturating_sub(1)];
        match self {
            Own::PredictedOrders => match run.theory {
                TheoryLine::Compared {
                    predicted_orders, ..
                } => Some(predicted_orders),
                TheoryLine::NotApplicable { .. } => None,
            },
            Own::LossScaleUsed => run.loss_scale_used,
            Own::UnitSpreadMax => {
                let v = hidden.iter().filter_map(|l| l.figures.unit_spread);
                Some(v.fold(0.0, f64::max))
            }
            Own::HiddenGradMax => (!hidden.is_empty()).then(|| {
                hidden
                    .iter()
                    .map(|l| l.figures.grad_norm)
                    .fold(0.0, f64::max)
            }),
        }
    }
}

impl MapFigure {
    /// The figure's value in `report`'s phase map.
    pub fn of(self, report: &Report) -> Option<f64> {
        let ReportBody::Phase { map } = &report.body else {
            return None;
        };
        match self {
            MapFigure::CriticalSigmaW(i) => *map.critical_sigma_w.get(i)?,
            MapFigure::CellChi(i) => Some(map.cells.get(i)?.chi),
            MapFigure::CellLog10(i) => map.cells.get(i)?.log10_per_layer,
        }
    }
}

impl Rel {
    /// Whether a stands in the relation to b.
    pub fn holds(self, a: f64, b: f64) -> bool {
        match self {
            Rel::Greater => a > b,
            Rel::Less => a < b,
            Rel::AtLeast => a >= b,
            Rel::AtMost => a <= b,
            Rel::Within(t) => (a - b).abs() <= t,
            Rel::Outside(t) => (a - b).abs() > t,
            Rel::WithinFactor(f) => a > 0.0 && b > 0.0 && (a / b).max(b / a) <= f,
        }
    }
}

impl Premise {
    /// Reads the premise's figures from `report` and checks the relation; the error says
    /// what was read.
    pub fn check(&self, report: &Report) -> Result<(), String> {
        match self {
            Premise::Holds(a, rel, b) => match (a.value(report), b.value(report)) {
                (Some(x), Some(y)) if rel.holds(x, y) => Ok(()),
                (x, y) => Err(format!("{self}: read {x:?} and {y:?}")),
            },
            Premise::Undefined(t) => match t.value(report) {
                None => Ok(()),
                Some(v) => Err(format!("{self}: read {v}")),
            },
        }
    }
}

impl fmt::Display for Term {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Term::Of(fig, run) => write!(f, "{fig}({run})"),
            Term::Own(o, run) => write!(f, "{o:?}({run})"),
            Term::Map(m) => write!(f, "{m:?}"),
            Term::Const(c) => write!(f, "{c}"),
            Term::Neg(t) => write!(f, "−{t}"),
            Term::Abs(t) => write!(f, "|{t}|"),
            Term::Sub(a, b) => write!(f, "({a} − {b})"),
            Term::Mul(a, b) => write!(f, "{a}·{b}"),
            Term::Div(a, b) => write!(f, "{a}/{b}"),
        }
    }
}

impl fmt::Display for Premise {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Premise::Holds(a, rel, b) => match rel {
                Rel::Greater => write!(f, "{a} > {b}"),
                Rel::Less => write!(f, "{a} < {b}"),
                Rel::AtLeast => write!(f, "{a} ≥ {b}"),
                Rel::AtMost => write!(f, "{a} ≤ {b}"),
                Rel::Within(t) => write!(f, "|{a} − {b}| ≤ {t}"),
                Rel::Outside(t) => write!(f, "|{a} − {b}| > {t}"),
                Rel::WithinFactor(x) => write!(f, "{a} within ×{x} of {b}"),
            },
            Premise::Undefined(t) => write!(f, "{t} undefined"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Premise, Rel, Term};
    use crate::report::{Figure, Report};

    /// Each relation against its definition, at and beside its edge.
    #[test]
    fn relations_hold_as_defined() {
        assert!(Rel::Greater.holds(2.0, 1.0) && !Rel::Greater.holds(1.0, 1.0));
        assert!(Rel::Less.holds(1.0, 2.0) && !Rel::Less.holds(1.0, 1.0));
        assert!(Rel::AtLeast.holds(1.0, 1.0) && !Rel::AtLeast.holds(0.5, 1.0));
        assert!(Rel::AtMost.holds(1.0, 1.0) && !Rel::AtMost.holds(1.5, 1.0));
        assert!(Rel::Within(1.0).holds(-1.0, 0.0) && !Rel::Within(1.0).holds(-1.01, 0.0));
        assert!(Rel::Outside(1.0).holds(1.01, 0.0) && !Rel::Outside(1.0).holds(1.0, 0.0));
        assert!(Rel::WithinFactor(2.0).holds(1.0, 2.0) && !Rel::WithinFactor(2.0).holds(1.0, 2.1));
        assert!(!Rel::WithinFactor(2.0).holds(-1.0, -1.0));
    }

    /// A premise on a run the report does not have fails: its figure cannot be read, so it
    /// is not defined; a constant premise reads its constants.
    #[test]
    fn a_missing_run_is_read_as_undefined() {
        let r = Report::empty("vanishing");
        let missing = Term::Of(Figure::GradOrders, "relu".into());
        assert!(missing.clone().gt(0.0).check(&r).is_err());
        assert!(missing.undefined().check(&r).is_ok());
        assert!(Term::Const(1.0).minus(3.0).abs().gt(1.5).check(&r).is_ok());
        let p: Premise = (-Term::Const(2.0)).within(-2.5, 0.5);
        assert!(p.check(&r).is_ok(), "{p}");
    }
}
