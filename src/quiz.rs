//! Grading: an answer to a quiz item, right or wrong, and why. A numeric item's answer is
//! checked against its figure as measured by running the paired experiment.

use crate::bank::Question;
use crate::bank::format::{ItemKind, QuizItem, letter, parse_choice};
use crate::report::Report;

/// Parses a numeric answer; accepts `−` for the minus sign and `×10^`-free forms like 1e-3.
pub(crate) fn parse_number(text: &str) -> Result<f64, String> {
    let t = text.trim().replace('−', "-");
    if t.contains(',') && !thousands(&t) {
        return Err(format!(
            "'{}' is not a number: write decimals with a point (12.3); a comma may only group \
             thousands (1,024)",
            crate::format::escape(text.trim(), crate::format::ECHO)
        ));
    }
    let t = t.replace(',', "");
    t.parse::<f64>()
        .ok()
        .filter(|v| v.is_finite())
        .ok_or_else(|| {
            format!(
                "'{}' is not a number",
                crate::format::escape(text.trim(), crate::format::ECHO)
            )
        })
}

/// Whether the commas of `t` group its whole part's digits in threes (`1,024`, `-12,345.5`):
/// then they are thousands separators, where `12,3` would be a decimal comma.
fn thousands(t: &str) -> bool {
    let digits = t.strip_prefix('-').unwrap_or(t);
    let (whole, rest) = digits.split_at(digits.find(['.', 'e', 'E']).unwrap_or(digits.len()));
    let mut groups = whole.split(',');
    let first = groups.next().unwrap_or("");
    !rest.contains(',')
        && (1..=3).contains(&first.len())
        && first.bytes().all(|b| b.is_ascii_digit())
        && groups.all(|g| g.len() == 3 && g.bytes().all(|b| b.is_ascii_digit()))
}

/// How an answer went.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Outcome {
    pub correct: bool,
    /// What to tell the student: right or wrong, and why.
    pub feedback: String,
    /// A numeric item's figure as the run measured it; none for a choice.
    pub measured: Option<f64>,
}

/// Grades `answer` for `item`; `measured` is the item's figure for numeric items.
pub(crate) fn grade(
    item: &QuizItem,
    answer: &str,
    measured: Option<f64>,
) -> Result<Outcome, String> {
    match &item.kind {
        ItemKind::Choice {
            choices,
            correct,
            explanations,
        } => {
            let correct = *correct;
            let picked = parse_choice(answer, choices.len())?;
            let feedback = if picked == correct {
                format!("Right. {}", explanations[picked])
            } else {
                format!(
                    "Not quite. ({}) {}\nThe answer is ({}). {}",
                    letter(picked),
                    explanations[picked],
                    letter(correct),
                    explanations[correct]
                )
            };
            Ok(Outcome {
                correct: picked == correct,
                feedback,
                measured: None,
            })
        }
        ItemKind::Numeric {
            tolerance,
            explanation,
            ..
        } => {
            let value = parse_number(answer)?;
            let m = measured.ok_or("the figure was not measured")?;
            let ok = (value - m).abs() <= *tolerance;
            // -12.3 for 12.3: the size was read right and the direction not.
            let sign = !ok && value != 0.0 && (value + m).abs() <= *tolerance;
            let head = match (ok, sign) {
                (true, _) => "Right",
                (false, true) => "Not quite, the sign differs",
                (false, false) => "Not quite",
            };
            Ok(Outcome {
                correct: ok,
                measured: Some(m),
                feedback: format!(
                    "{head}: the run measured {} (answers within ±{} count). {explanation}",
                    crate::format::figure(m),
                    crate::format::echo(*tolerance)
                ),
            })
        }
    }
}

/// Grades `answer` to `item`, an item of `question`: the one grading `quiz`, `tour` and the
/// live lab share. A numeric item's figure is measured first, from `preset_run` (the
/// question's own experiment report, when it was already run and serves the item) or by
/// running the item's settings.
pub(crate) fn grade_item(
    question: &Question,
    item: &QuizItem,
    answer: &str,
    preset_run: Option<&Report>,
    max_bytes: u64,
) -> anyhow::Result<Outcome> {
    let measured = measured(question, item, preset_run, max_bytes)?;
    grade(item, answer, measured).map_err(anyhow::Error::msg)
}

/// A numeric item's figure, measured; none for a choice item.
pub(crate) fn measured(
    question: &Question,
    item: &QuizItem,
    preset_run: Option<&Report>,
    max_bytes: u64,
) -> anyhow::Result<Option<f64>> {
    if item.is_choice() {
        return Ok(None);
    }
    Ok(Some(item.measure(
        &question.experiment,
        preset_run,
        max_bytes,
    )?))
}

/// `answer` to `item` as a record keeps it: the choice's letter, or the number as parsed
/// (one form, bounded); what is wrong with its form otherwise. The live class's answers and
/// the progress file's share it, so that `roster` counts options the same way for both.
pub(crate) fn recorded(item: &QuizItem, answer: &str) -> Result<String, String> {
    match &item.kind {
        ItemKind::Choice { choices, .. } => {
            parse_choice(answer, choices.len()).map(|i| letter(i).to_string())
        }
        ItemKind::Numeric { .. } => parse_number(answer).map(|x| x.to_string()),
    }
}

/// Whether `answer` has the right form for `item` (a choice letter, or a number).
pub(crate) fn check_format(item: &QuizItem, answer: &str) -> Result<(), String> {
    match &item.kind {
        ItemKind::Choice { choices, .. } => parse_choice(answer, choices.len()).map(|_| ()),
        ItemKind::Numeric { .. } => parse_number(answer).map(|_| ()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_accept_a_real_minus_and_thousands_commas() {
        assert_eq!(parse_number(" −12.5 "), Ok(-12.5));
        assert_eq!(parse_number("1,024"), Ok(1024.0));
        assert_eq!(parse_number("-12,345.5"), Ok(-12345.5));
        // A decimal comma is refused, not read as thousands (12,3 was 123).
        for t in ["12,3", "0,42", "1,0245", ",123", "1.5,000", "1e3,000"] {
            let e = parse_number(t).unwrap_err();
            assert!(e.contains("write decimals with a point"), "{t}: {e}");
        }
        assert_eq!(parse_number("1e-3"), Ok(0.001));
        assert!(parse_number("inf").is_err());
        assert!(parse_number("twelve").is_err());
    }

    fn item(tolerance: f64) -> QuizItem {
        QuizItem {
            prompt: "How many orders?".into(),
            line: 1,
            column: 1,
            kind: ItemKind::Numeric {
                figure: crate::report::Figure::GradOrders,
                run: None,
                tolerance,
                explanation: String::new(),
                settings: None,
            },
        }
    }

    // Catches: a tolerance read as relative to the figure (or scaled by it): near 0 it would
    // refuse answers within the stated ±tolerance, and on a large figure accept answers far
    // outside it.
    #[test]
    fn numeric_tolerance_is_absolute_near_zero_and_on_a_large_figure() {
        let right = |tol: f64, answer: &str, measured: f64| {
            grade(&item(tol), answer, Some(measured))
                .expect("a number is an answer")
                .correct
        };
        // Measured 0.01, ±0.05: 0.055 is 450 % off yet within 0.05; 0.07 is not.
        assert!(right(0.05, "0.055", 0.01));
        assert!(right(0.05, "-0.04", 0.01));
        assert!(!right(0.05, "0.07", 0.01));
        // Measured 1000, ±0.05: 1000.04 counts; 1000.1 (one part in 10⁴ off) does not.
        assert!(right(0.05, "1000.04", 1000.0));
        assert!(!right(0.05, "1000.1", 1000.0));
        assert!(!right(0.05, "999.9", 1000.0));
    }
}
