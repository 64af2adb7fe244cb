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

use crate::format::{count, truncate};
use crate::roster::{Class, Given, ItemTally, Missed, QuestionSummary, Student, TallyKind};
use crate::ui::Ui;
use std::fmt::Write;

/// A share as a whole percentage without the sign: `0.667` → `67`.
fn whole(v: f64) -> String {
    format!("{:.0}", 100.0 * v)
}

/// A share as a percentage with at most one decimal, for CSV: `66.7`, `100`.
fn precise(v: f64) -> String {
    let p = (1000.0 * v).round() / 10.0;
    if p.fract() == 0.0 {
        format!("{p:.0}")
    } else {
        format!("{p:.1}")
    }
}

/// A student's share of right answers over the bank, if they answered any.
fn overall(s: &Student) -> Option<f64> {
    let (right, asked) = s.record.totals();
    (asked > 0).then(|| right as f64 / asked as f64)
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
        "Per student: questions studied of {n}, share of quiz answers right, and % right on \
         each question by id (— not quizzed)."
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
            class.others.join(", ")
        );
        let _ = writeln!(out);
        for line in crate::ui::wrap(&note, width) {
            let _ = writeln!(out, "{line}");
        }
    }
    out
}

/// The student table: name, studied, overall score, then a column per question.
fn students(out: &mut String, class: &Class, width: usize) {
    let n = class.bank.questions.len();
    let studied_w = format!("{n}/{n}").len().max("studied".len());
    let quiz_w = "quiz".len().max("100%".len());
    let col = class
        .bank
        .questions
        .iter()
        .map(|q| q.id.to_string().len())
        .max()
        .unwrap_or(1)
        .max(3);
    let natural = class
        .students
        .iter()
        .map(|s| s.name.chars().count())
        .chain(["student".len()])
        .max()
        .unwrap_or(0);
    let fixed = |name: usize| name + 2 + studied_w + 2 + quiz_w;
    // A long name gives way (down to 12 characters) before a question column moves to a
    // further block; when the columns need further blocks anyway, it keeps up to 24.
    let wanted = width.saturating_sub(n * (col + 1) + 2 + studied_w + 2 + quiz_w);
    let room = if wanted >= 12 { wanted } else { 24 };
    let name_w = natural.min(room).max(7);
    let per_block = (width.saturating_sub(fixed(name_w)) / (col + 1)).max(1);
    let ids: Vec<u32> = class.bank.questions.iter().map(|q| q.id).collect();
    let (shown, notes) = shown_names(class, name_w);
    for (block, chunk) in (0..n).collect::<Vec<_>>().chunks(per_block).enumerate() {
        if block > 0 {
            let _ = writeln!(out);
        }
        // The totals are in the first block only.
        let (studied, quiz) = match block {
            0 => ("studied", "quiz"),
            _ => ("", ""),
        };
        let mut line = format!(
            "{:<name_w$}  {studied:>studied_w$}  {quiz:>quiz_w$}",
            "student"
        );
        for &q in chunk {
            let _ = write!(line, " {:>col$}", ids[q]);
        }
        let _ = writeln!(out, "{line}");
        for (s, shown) in class.students.iter().zip(&shown) {
            let (studied, quiz) = match block {
                0 => (
                    format!("{}/{n}", s.record.studied()),
                    overall(s).map_or("—".into(), |v| format!("{}%", whole(v))),
                ),
                _ => (String::new(), String::new()),
            };
            let mut line = format!("{shown:<name_w$}  {studied:>studied_w$}  {quiz:>quiz_w$}");
            for &q in chunk {
                let cell = s.record.questions[q].score().map_or("—".into(), whole);
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
        let average = average.map_or("—".into(), |v| format!("{}%", whole(v)));
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
    let mut head: Vec<String> = ["student", "file", "studied", "right", "asked", "percent"]
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
            overall(s).map_or(String::new(), precise),
        ];
        row.extend(
            s.record
                .in_bank()
                .map(|q| q.score().map_or(String::new(), precise)),
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
            false => precise(scores.iter().sum::<f64>() / scores.len() as f64),
        },
    ];
    average.extend(
        class
            .questions
            .iter()
            .map(|q| q.average.map_or(String::new(), precise)),
    );
    rows.push(average);
    let mut most = vec![String::from("(most missed item)")];
    most.extend(std::iter::repeat_n(String::new(), 5));
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
        "{}, {} ({}). Scores are the share of quiz answers right; — means not quizzed.\n",
        count(class.students.len(), "student", "students"),
        count(n, "question", "questions"),
        cell(&class.bank.origin)
    );
    let _ = writeln!(out, "## Students\n");
    let mut head = String::from("| student | studied | quiz |");
    let mut rule = String::from("|---|--:|--:|");
    for q in &class.bank.questions {
        let _ = write!(head, " {} |", q.id);
        rule.push_str("--:|");
    }
    let _ = writeln!(out, "{head}\n{rule}");
    for s in &class.students {
        let _ = write!(
            out,
            "| {} | {}/{n} | {} |",
            cell(&s.name),
            s.record.studied(),
            overall(s).map_or("—".into(), |v| format!("{}%", whole(v)))
        );
        for q in s.record.in_bank() {
            let _ = write!(
                out,
                " {} |",
                q.score().map_or("—".into(), |v| format!("{}%", whole(v)))
            );
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
            sum.average.map_or("—".into(), |v| format!("{}%", whole(v)))
        );
    }
    if !class.others.is_empty() {
        let _ = writeln!(
            out,
            "\nLeft out: records of questions this bank does not have ({}).",
            cell(&class.others.join(", "))
        );
    }
    out
}

/// A live class's roster (`roster --session`): the roster of its students, then per item
/// the answer counts and each student's first and latest answer.
pub(crate) struct Session<'a, 'b> {
    pub class: &'a Class<'b>,
    pub items: &'a [ItemTally],
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
    let legend = "Items of the session: per option, how many students chose it first / last \
                  (the key starred); for a number, how many were right first / last.";
    for line in crate::ui::wrap(legend, width) {
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
