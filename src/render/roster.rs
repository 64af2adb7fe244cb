//! A class roster (`gradtutor roster`) as terminal text, CSV or Markdown: a row per student
//! with their score on each question, then a row per question with the class's average and
//! the item most missed.
//!
//! Hand-written, not through crates, and why:
//! - CSV is one 12-line [`field`] function, not the `csv` crate: csv quotes a field only
//!   when it holds a comma, a quote or a line break, while this quotes one with a leading or
//!   trailing space too (a name file ` ann` stays ` ann` in a reader that trims), and csv
//!   has no per-field quoting to add that; it would also need the `'` formula guard here
//!   anyway. Output otherwise matches csv's (checked: same quoting, `""` inside quotes, `\n`
//!   line ends); the crate would add csv and csv-core and save about five lines.
//! - The text tables are laid out by hand, not with `comfy-table` or `tabled`: the student
//!   table splits its question columns into blocks that fit the terminal's width, cuts long
//!   names and marks cut names that collide, and dims and wraps notes, none of which a
//!   table crate does; its borders and padding would change the output. The same holds for
//!   the per-layer table with its log bars and for the training tables. comfy-table adds
//!   nine packages with its default terminal support (crossterm), about 7 s of unoptimized
//!   compile; tabled six (papergrid, a derive macro), about 17 s.

use crate::format::{count, share, truncate};
use crate::roster::{Class, Given, ItemTally, Missed, QuestionSummary, Student, TallyKind};
use crate::ui::Ui;
use std::fmt::Write;

/// A student's share of items answered right at their latest answer, over the bank, if
/// they answered any.
fn overall(s: &Student) -> Option<f64> {
    crate::roster::share(s.record.totals())
}

/// The same at each item's first answer.
fn first(s: &Student) -> Option<f64> {
    crate::roster::share(s.record.first_totals())
}

/// A question's prompt on one line.
fn prompt(class: &Class, q: usize, m: &Missed) -> String {
    class.bank.questions[q]
        .quiz
        .get(m.index)
        .map(|i| i.prompt.split_whitespace().collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

/// `item 2, 2 of 3`: the item (numbered from 1, as the question file orders them) and how
/// many of those who answered it missed it.
fn missed(m: &Missed) -> String {
    format!("item {}, {} of {}", m.index + 1, m.students, m.of)
}

/// The roster for the terminal, within `ui.width`: the student table is split into blocks
/// of question columns when the bank has more questions than fit on a line.
pub(crate) fn text(class: &Class, ui: &Ui) -> String {
    let mut out = String::new();
    let width = ui.width;
    let n = class.bank.questions.len();
    let head = format!(
        "Roster: {}, {} ({})",
        count(class.students.len(), "student", "students"),
        count(n, "question", "questions"),
        class.bank.origin
    );
    for line in crate::ui::wrap(&head, width) {
        let _ = writeln!(out, "{}", ui.style.bold(&line));
    }
    let legend = format!(
        "Per student: questions studied of {n} (a quiz counts), the share of quiz items \
         answered right at the first attempt and at the latest, and the latest % right on \
         each quizzed question by id (— not quizzed)."
    );
    let _ = writeln!(out);
    for line in crate::ui::wrap(&legend, width) {
        let _ = writeln!(out, "{line}");
    }
    let _ = writeln!(out);
    students(&mut out, class, width);
    let _ = writeln!(out);
    questions(&mut out, class, ui);
    if !class.others.is_empty() {
        let note = format!(
            "Left out: records of questions this bank does not have ({}). Give the --questions \
             the class used to count them.",
            others(class)
        );
        let _ = writeln!(out);
        for line in crate::ui::wrap(&note, width) {
            let _ = writeln!(out, "{line}");
        }
    }
    out
}

/// The student table: name, studied, first and latest score, then a column per question
/// some student quizzed (the others would be columns of "—").
fn students(out: &mut String, class: &Class, width: usize) {
    let n = class.bank.questions.len();
    let studied_w = format!("{n}/{n}").len().max("studied".len());
    let quiz_w = "latest".len().max("66.7%".len());
    let quizzed: Vec<usize> = (0..n)
        .filter(|&q| class.questions[q].quizzed_by > 0)
        .collect();
    let col = quizzed
        .iter()
        .map(|&q| class.bank.questions[q].id.to_string().len())
        .max()
        .unwrap_or(1)
        .max("66.7".len());
    let cols = quizzed.len();
    let natural = class
        .students
        .iter()
        .map(|s| s.name.chars().count())
        .chain(["student".len()])
        .max()
        .unwrap_or(0);
    let fixed = |name: usize| name + 2 + studied_w + 2 * (2 + quiz_w);
    // A long name gives way (down to 12 characters) before a question column moves to a
    // further block; when the columns need further blocks anyway, it keeps up to 24.
    let wanted = width.saturating_sub(cols * (col + 1) + fixed(0));
    let room = if wanted >= 12 { wanted } else { 24 };
    let name_w = natural.min(room).max(7);
    let per_block = (width.saturating_sub(fixed(name_w)) / (col + 1)).max(1);
    let (shown, notes) = shown_names(class, name_w);
    let blocks: Vec<&[usize]> = match quizzed.is_empty() {
        true => vec![&[]],
        false => quizzed.chunks(per_block).collect(),
    };
    for (block, chunk) in blocks.into_iter().enumerate() {
        if block > 0 {
            let _ = writeln!(out);
        }
        // The totals are in the first block only.
        let (studied, first_h, quiz) = match block {
            0 => ("studied", "first", "latest"),
            _ => ("", "", ""),
        };
        let mut line = format!(
            "{:<name_w$}  {studied:>studied_w$}  {first_h:>quiz_w$}  {quiz:>quiz_w$}",
            "student"
        );
        for &q in chunk {
            let _ = write!(line, " {:>col$}", class.bank.questions[q].id);
        }
        let _ = writeln!(out, "{}", line.trim_end());
        for (s, shown) in class.students.iter().zip(&shown) {
            let pct = |v: Option<f64>| v.map_or("—".into(), |v| format!("{}%", share(v)));
            let (studied, first_c, quiz) = match block {
                0 => (
                    format!("{}/{n}", s.record.studied()),
                    pct(first(s)),
                    pct(overall(s)),
                ),
                _ => (String::new(), String::new(), String::new()),
            };
            let mut line = format!(
                "{shown:<name_w$}  {studied:>studied_w$}  {first_c:>quiz_w$}  {quiz:>quiz_w$}"
            );
            for &q in chunk {
                let cell = s.record.questions[q].score().map_or("—".into(), share);
                let _ = write!(line, " {cell:>col$}");
            }
            let _ = writeln!(out, "{}", line.trim_end());
        }
    }
    if !notes.is_empty() {
        let _ = writeln!(out);
    }
    for (k, name) in notes.iter().enumerate() {
        let note = format!("[{}] {name}", k + 1);
        let _ = writeln!(out, "{}", crate::ui::wrap(&note, width).join("\n    "));
    }
}

/// Each student's name cut to `name_w`; where two cut names would read the same, each of
/// those ends in a mark `[k]` instead, and the notes give the whole names.
fn shown_names(class: &Class, name_w: usize) -> (Vec<String>, Vec<String>) {
    let cut: Vec<String> = class
        .students
        .iter()
        .map(|s| truncate(&s.name, name_w))
        .collect();
    let mut notes = Vec::new();
    let shown = cut
        .iter()
        .zip(&class.students)
        .map(|(c, s)| {
            let alike = cut.iter().filter(|o| *o == c).count();
            if alike == 1 || *c == s.name {
                return c.clone();
            }
            notes.push(s.name.clone());
            let mark = format!(" [{}]", notes.len());
            let room = name_w.saturating_sub(mark.chars().count()).max(1);
            format!("{}{mark}", truncate(&s.name, room))
        })
        .collect();
    (shown, notes)
}

/// The question table: id, slug, how many studied and quizzed it, the average, the item most
/// missed with as much of its prompt as fits.
fn questions(out: &mut String, class: &Class, ui: &Ui) {
    let width = ui.width;
    let students = class.students.len();
    let of = |k: usize| format!("{k}/{students}");
    let slug_w = class
        .bank
        .questions
        .iter()
        .map(|q| q.slug.chars().count())
        .chain(["question".len()])
        .max()
        .unwrap_or(0)
        .min(24);
    let num_w = "quizzed".len().max(of(students).len());
    // The slug gives way to the figures on a narrow terminal, down to 8 characters.
    let figures = 3 + 2 + 2 + num_w + 2 + num_w + 2 + 7 + 2 + "item 9, 9 of 9".len();
    let slug_w = slug_w.min(width.saturating_sub(figures).max(8));
    let _ = writeln!(
        out,
        "{:>3}  {:<slug_w$}  {:>num_w$}  {:>num_w$}  {:>7}  most missed",
        "id", "question", "studied", "quizzed", "average"
    );
    for (i, (q, sum)) in class
        .bank
        .questions
        .iter()
        .zip(&class.questions)
        .enumerate()
    {
        let QuestionSummary {
            studied_by,
            quizzed_by,
            average,
            most_missed,
        } = sum;
        let average = average.map_or("—".into(), |v| format!("{}%", share(v)));
        let mut line = format!(
            "{:>3}  {:<slug_w$}  {:>num_w$}  {:>num_w$}  {average:>7}  ",
            q.id,
            truncate(&q.slug, slug_w),
            of(*studied_by),
            of(*quizzed_by)
        );
        match most_missed {
            None => line.push('—'),
            Some(m) => line.push_str(&missed(m)),
        }
        let _ = writeln!(out, "{}", line.trim_end());
        // The missed item's prompt on a line of its own, as much as fits.
        if let Some(m) = most_missed {
            let text = prompt(class, i, m);
            if !text.is_empty() {
                let indent = 5;
                let room = width.saturating_sub(indent).max(10);
                let text = ui.style.dim(&truncate(&text, room));
                let _ = writeln!(out, "{:indent$}{text}", "");
            }
        }
    }
}

/// A CSV field: quoted when it holds a comma, a quote or a line break; text that a
/// spreadsheet would run as a formula (`=`, `+`, `-`, `@` first) is prefixed with `'`.
fn field(text: &str) -> String {
    let text = match text.starts_with(['=', '+', '-', '@']) {
        true => format!("'{text}"),
        false => text.to_string(),
    };
    if text.contains([',', '"', '\n', '\r']) || text.trim() != text {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text
    }
}

/// The roster as CSV: a header, a row per student, then `(class average)` and `(most missed
/// item)` rows. Every row has the same number of fields.
pub(crate) fn csv(class: &Class) -> String {
    csv_text(csv_rows(class))
}

/// The rows of [`csv`], before quoting.
fn csv_rows(class: &Class) -> Vec<Vec<String>> {
    let mut rows: Vec<Vec<String>> = Vec::new();
    let mut head: Vec<String> = [
        "student", "file", "studied", "right", "asked", "percent", "first",
    ]
    .map(String::from)
    .to_vec();
    head.extend(
        class
            .bank
            .questions
            .iter()
            .map(|q| format!("{}:{}", q.id, q.slug)),
    );
    rows.push(head);
    for s in &class.students {
        let (right, asked) = s.record.totals();
        let mut row = vec![
            s.name.clone(),
            s.file.clone(),
            s.record.studied().to_string(),
            right.to_string(),
            asked.to_string(),
            overall(s).map_or(String::new(), share),
            first(s).map_or(String::new(), share),
        ];
        row.extend(
            s.record
                .in_bank()
                .map(|q| q.score().map_or(String::new(), share)),
        );
        rows.push(row);
    }
    let scores: Vec<f64> = class.students.iter().filter_map(overall).collect();
    let mut average = vec![
        "(class average)".to_string(),
        String::new(),
        String::new(),
        String::new(),
        String::new(),
        match scores.is_empty() {
            true => String::new(),
            false => share(scores.iter().sum::<f64>() / scores.len() as f64),
        },
        String::new(),
    ];
    average.extend(
        class
            .questions
            .iter()
            .map(|q| q.average.map_or(String::new(), share)),
    );
    rows.push(average);
    let mut most = vec![String::from("(most missed item)")];
    most.extend(std::iter::repeat_n(String::new(), 6));
    most.extend(
        class
            .questions
            .iter()
            .map(|q| q.most_missed.as_ref().map_or(String::new(), missed)),
    );
    rows.push(most);
    rows
}

/// Rows as CSV, each field quoted as [`field`] says.
fn csv_text(rows: Vec<Vec<String>>) -> String {
    let mut out = String::new();
    for row in rows {
        let fields: Vec<String> = row.iter().map(|f| field(f)).collect();
        let _ = writeln!(out, "{}", fields.join(","));
    }
    out
}

/// The slugs only the records know, escaped, comma-separated.
fn others(class: &Class) -> String {
    let shown: Vec<String> = class.others.iter().map(ToString::to_string).collect();
    shown.join(", ")
}

/// A Markdown table cell: on one line, pipes escaped, and `&`, `<`, `>` as HTML entities
/// (Markdown passes HTML through: a name `<img onerror=…>` must stay text).
fn cell(text: &str) -> String {
    text.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .replace('\\', "\\\\")
        .replace('|', "\\|")
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The roster as Markdown: a heading, the student table and the question table, whole (a
/// Markdown viewer scrolls wide tables).
pub(crate) fn markdown(class: &Class) -> String {
    let mut out = String::new();
    let n = class.bank.questions.len();
    let _ = writeln!(out, "# Roster\n");
    let _ = writeln!(
        out,
        "{}, {} ({}). Scores are the share of quiz items answered right, at the first \
         attempt and at the latest (a question's column: the latest); a quiz counts as \
         studying; only quizzed questions have a column.\n",
        count(class.students.len(), "student", "students"),
        count(n, "question", "questions"),
        cell(&class.bank.origin)
    );
    let _ = writeln!(out, "## Students\n");
    let quizzed: Vec<usize> = (0..n)
        .filter(|&q| class.questions[q].quizzed_by > 0)
        .collect();
    let mut head = String::from("| student | studied | first | latest |");
    let mut rule = String::from("|---|--:|--:|--:|");
    for &q in &quizzed {
        let _ = write!(head, " {} |", class.bank.questions[q].id);
        rule.push_str("--:|");
    }
    let _ = writeln!(out, "{head}\n{rule}");
    let pct = |v: Option<f64>| v.map_or("—".into(), |v| format!("{}%", share(v)));
    for s in &class.students {
        let _ = write!(
            out,
            "| {} | {}/{n} | {} | {} |",
            cell(&s.name),
            s.record.studied(),
            pct(first(s)),
            pct(overall(s))
        );
        for &q in &quizzed {
            let _ = write!(out, " {} |", pct(s.record.questions[q].score()));
        }
        let _ = writeln!(out);
    }
    let students = class.students.len();
    let _ = writeln!(out, "\n## Questions\n");
    let _ = writeln!(
        out,
        "| id | question | studied | quizzed | average | most missed item |\n\
         |--:|---|--:|--:|--:|---|"
    );
    for (i, (q, sum)) in class
        .bank
        .questions
        .iter()
        .zip(&class.questions)
        .enumerate()
    {
        let miss = sum.most_missed.as_ref().map_or("—".into(), |m| {
            format!("{}: {}", missed(m), cell(&prompt(class, i, m)))
        });
        let _ = writeln!(
            out,
            "| {} | {} | {}/{students} | {}/{students} | {} | {miss} |",
            q.id,
            cell(&q.title),
            sum.studied_by,
            sum.quizzed_by,
            sum.average.map_or("—".into(), |v| format!("{}%", share(v)))
        );
    }
    if !class.others.is_empty() {
        let _ = writeln!(
            out,
            "\nLeft out: records of questions this bank does not have ({}).",
            cell(&others(class))
        );
    }
    out
}

/// A live class's roster (`roster --session`): the roster of its students, then per item
/// the answer counts and each student's first and latest answer.
pub(crate) struct Session<'a, 'b> {
    pub class: &'a Class<'b>,
    pub items: &'a [ItemTally],
    /// What the items are, for the legend: a live class's session, or the quizzes of
    /// progress files (`roster FILE…`, which shows the same counts).
    pub source: Source,
}

/// Where a roster's items come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Source {
    Session,
    Quizzes,
}

/// An answer as a cell: `b (right)`.
fn given(g: &Given) -> String {
    format!(
        "{} ({})",
        g.answer,
        if g.correct { "right" } else { "wrong" }
    )
}

/// A choice item's counts on one line: `a 2/1, b* 3/5`: first/latest per option, the key
/// starred; a numeric item's: `right 2/3 of 4`.
fn counts(item: &ItemTally) -> String {
    match &item.kind {
        TallyKind::Choice(options) => options
            .iter()
            .map(|o| {
                let star = if o.correct { "*" } else { "" };
                format!("{}{star} {}/{}", o.key, o.first, o.latest)
            })
            .collect::<Vec<_>>()
            .join(", "),
        TallyKind::Number { .. } | TallyKind::Unknown => {
            let (first, latest) = item.right();
            format!("right {first}/{latest} of {}", item.students.len())
        }
    }
}

/// `roster --session` for the terminal: the roster, then the items, then the attempts.
pub(crate) fn session_text(r: &Session, ui: &Ui) -> String {
    let width = ui.width;
    let mut out = text(r.class, ui);
    let _ = writeln!(out);
    let what = match r.source {
        Source::Session => "Items of the session",
        Source::Quizzes => "Quiz items answered",
    };
    let legend = format!(
        "{what}: per option, how many students chose it first / last (the key starred); for \
         a number, how many were right first / last."
    );
    for line in crate::ui::wrap(&legend, width) {
        let _ = writeln!(out, "{line}");
    }
    if r.items.is_empty() {
        let _ = writeln!(out, "\nNo item was pushed or answered.");
        return out;
    }
    let label_w = r
        .items
        .iter()
        .map(|i| i.label().chars().count())
        .max()
        .unwrap_or(0)
        .max(4);
    for item in r.items {
        let _ = writeln!(out);
        let head = format!("{:<label_w$}  {}", item.label(), counts(item));
        let _ = writeln!(out, "{}", head.trim_end());
        if !item.prompt.is_empty() {
            let room = width.saturating_sub(label_w + 2).max(10);
            let text = ui.style.dim(&truncate(&item.prompt, room));
            let _ = writeln!(out, "{:label_w$}  {text}", "");
        }
        if let TallyKind::Choice(options) = &item.kind {
            for o in options {
                let room = width.saturating_sub(label_w + 6).max(10);
                let line = format!("{:label_w$}  {}) {}", "", o.key, truncate(&o.text, room));
                let _ = writeln!(out, "{}", ui.style.dim(&line));
            }
        }
    }
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "Attempts: each student's first and latest answer per item."
    );
    let _ = writeln!(out);
    let name_w = r
        .items
        .iter()
        .flat_map(|i| &i.students)
        .map(|s| s.name.chars().count())
        .chain(["student".len()])
        .max()
        .unwrap_or(0)
        .min(24);
    let ans_w = r
        .items
        .iter()
        .flat_map(|i| &i.students)
        .flat_map(|s| [given(&s.first), given(&s.latest)])
        .map(|g| g.chars().count())
        .chain(["latest".len()])
        .max()
        .unwrap_or(0);
    let _ = writeln!(
        out,
        "{:<name_w$}  {:<label_w$}  {:<ans_w$}  {:<ans_w$}  attempts",
        "student", "item", "first", "latest"
    );
    for item in r.items {
        for s in &item.students {
            let _ = writeln!(
                out,
                "{:<name_w$}  {:<label_w$}  {:<ans_w$}  {:<ans_w$}  {:>8}",
                truncate(&s.name, name_w),
                item.label(),
                given(&s.first),
                given(&s.latest),
                s.attempts
            );
        }
    }
    out
}

/// `roster --session` as CSV: the roster's rows with two columns per item (each
/// student's first and latest answer), then a `(answer counts)` row with each item's
/// counts. Every row has the same number of fields.
pub(crate) fn session_csv(r: &Session) -> String {
    let mut rows = csv_rows(r.class);
    let students = r.class.students.len();
    for (k, row) in rows.iter_mut().enumerate() {
        for item in r.items {
            let (first, latest) = match k {
                0 => (
                    format!("{} first", item.label()),
                    format!("{} latest", item.label()),
                ),
                k if k <= students => {
                    let name = &r.class.students[k - 1].name;
                    match item.students.iter().find(|s| s.name == *name) {
                        Some(s) => (given(&s.first), given(&s.latest)),
                        None => (String::new(), String::new()),
                    }
                }
                _ => (String::new(), String::new()),
            };
            row.push(first);
            row.push(latest);
        }
    }
    let fields = rows.first().map_or(0, Vec::len);
    let mut last = vec![String::from("(answer counts)")];
    last.resize(fields - 2 * r.items.len(), String::new());
    for item in r.items {
        last.push(counts(item));
        last.push(String::new());
    }
    rows.push(last);
    csv_text(rows)
}

/// `roster --session` as Markdown: the roster, then a table per item and the attempts.
pub(crate) fn session_markdown(r: &Session) -> String {
    let mut out = markdown(r.class);
    let _ = writeln!(out, "\n## Items\n");
    if r.items.is_empty() {
        let _ = writeln!(out, "No item was pushed or answered.");
    }
    for item in r.items {
        let _ = writeln!(out, "### {}: {}\n", cell(&item.label()), cell(&item.prompt));
        match &item.kind {
            TallyKind::Choice(options) => {
                let _ = writeln!(out, "| option | text | first | latest |\n|---|---|--:|--:|");
                for o in options {
                    let key = match o.correct {
                        true => format!("**{}** (key)", o.key),
                        false => o.key.to_string(),
                    };
                    let _ = writeln!(
                        out,
                        "| {key} | {} | {} | {} |",
                        cell(&o.text),
                        o.first,
                        o.latest
                    );
                }
            }
            TallyKind::Number { .. } | TallyKind::Unknown => {
                let (first, latest) = item.right();
                let _ = writeln!(
                    out,
                    "| answered | right first | right latest |\n|--:|--:|--:|\n| {} | {first} | {latest} |",
                    item.students.len()
                );
            }
        }
        let _ = writeln!(out);
    }
    let _ = writeln!(out, "## Attempts\n");
    let _ = writeln!(
        out,
        "| student | item | first | latest | attempts |\n|---|---|---|---|--:|"
    );
    for item in r.items {
        for s in &item.students {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} |",
                cell(&s.name),
                cell(&item.label()),
                cell(&given(&s.first)),
                cell(&given(&s.latest)),
                s.attempts
            );
        }
    }
    out
}
