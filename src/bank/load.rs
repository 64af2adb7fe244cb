//! Reading question files in two passes. The text is parsed once into a table that keeps
//! every key's position (`toml::Spanned` keys and values); each table of the file is then
//! read by serde derive into a raw type (`RawHead`, `RawItem`, … below: every key optional,
//! as written), and a validation pass turns the raw types into `format`'s, checking the
//! file's rules. Every problem is collected with `path:line:column`; nothing stops at the
//! first. Serde stops at a struct's first bad value, so a table is read one key at a time
//! and then as a whole from the keys that read: every bad value is reported at its own
//! position, in the order the rules ask for each key (one exception: a quiz item's or a
//! claim's inline `settings = { … }` is read whole, so only its first bad value is
//! reported). Unknown keys are found against the raw
//! type's key list rather than by `deny_unknown_fields`, which stops at the first and cannot
//! suggest the nearest key. Spans are byte offsets; `Lines` turns them into lines and
//! columns.

use super::format::{
    Claim, Claimed, CodeBlock, FORMAT_VERSION, ItemKind, Preset, Question, QuizItem, TrainPreset,
    parse_choice, placeholders, placeholders_of,
};
use crate::experiments;
use crate::format::{did_you_mean, escape};
use crate::report::Figure;
use crate::settings::Settings;
use crate::train::TrainFigure;
use crate::train::settings::TrainSettings;
use clap::ValueEnum;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use std::borrow::Cow;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

/// Where problems go: the file's path, and its text's line index to turn byte offsets into
/// lines and columns.
struct Problems<'a> {
    path: &'a str,
    lines: Lines<'a>,
    list: &'a mut Vec<String>,
}

impl<'a> Problems<'a> {
    fn new(path: &'a str, text: &'a str, list: &'a mut Vec<String>) -> Self {
        Problems {
            path,
            lines: Lines::new(text),
            list,
        }
    }

    /// `path:line:column: msg`; a message quoting long input is cut to a few hundred
    /// characters, control characters escaped.
    fn at(&mut self, offset: usize, msg: impl std::fmt::Display) {
        let (line, col) = self.lines.line_col(offset);
        let msg = escape(&msg.to_string(), 400);
        self.list.push(format!("{}:{line}:{col}: {msg}", self.path));
    }

    /// A deserialization error, at its own position when it has one, else at `fallback`.
    fn toml(&mut self, e: &toml::de::Error, fallback: usize, context: &str) {
        let at = e.span().map_or(fallback, |s| s.start);
        self.at(at, format_args!("{context}{}", e.message().trim()));
    }

    /// `path:line:column` of byte `offset`.
    fn place(&self, offset: usize) -> String {
        let (line, col) = self.lines.line_col(offset);
        format!("{}:{line}:{col}", self.path)
    }
}

/// serde's "unknown field `depht`, expected one of `depth`, …" (an inline table read whole,
/// `settings = { … }`) with the nearest key suggested as the file's other tables do:
/// "unknown field `depht`; did you mean `depth`? (expected one of …)".
fn suggest(msg: &str) -> String {
    const HEAD: &str = "unknown field `";
    let Some(rest) = msg.strip_prefix(HEAD) else {
        return msg.to_string();
    };
    let Some((name, list)) = rest.split_once('`') else {
        return msg.to_string();
    };
    let known: Vec<&str> = list.split('`').skip(1).step_by(2).collect();
    let Some(near) = did_you_mean(name, known.iter().copied()) else {
        return msg.to_string();
    };
    let list = list.trim_start_matches(',').trim();
    format!("{HEAD}{name}`; did you mean `{near}`? ({list})")
}

/// A text's line index, built in one pass: marks at every line start and every
/// [`Lines::STRIDE`] bytes, each with the characters before it, so that a byte offset's line
/// and column take a binary search and at most a stride of counting. (Rescanning the text
/// for each position made a file of many problems load in quadratic time: 83 s for 60,000
/// unknown keys.)
struct Lines<'a> {
    text: &'a str,
    marks: Vec<Mark>,
}

/// A place in the text: its byte offset, the characters before it, its line (1-based) and the
/// characters before that line's start.
#[derive(Clone, Copy)]
struct Mark {
    byte: usize,
    chars: usize,
    line: usize,
    line_chars: usize,
}

impl<'a> Lines<'a> {
    /// The most bytes counted for one position.
    const STRIDE: usize = 256;

    fn new(text: &'a str) -> Self {
        let mut last = Mark {
            byte: 0,
            chars: 0,
            line: 1,
            line_chars: 0,
        };
        let mut marks = vec![last];
        for (chars, (byte, c)) in text.char_indices().enumerate() {
            if byte - last.byte >= Self::STRIDE {
                last = Mark {
                    byte,
                    chars,
                    ..last
                };
                marks.push(last);
            }
            if c == '\n' {
                let (byte, chars) = (byte + 1, chars + 1);
                last = Mark {
                    byte,
                    chars,
                    line: last.line + 1,
                    line_chars: chars,
                };
                marks.push(last);
            }
        }
        Lines { text, marks }
    }

    /// The last mark at or before `offset`.
    fn mark(&self, offset: usize) -> Mark {
        self.marks[self.marks.partition_point(|m| m.byte <= offset) - 1]
    }

    /// 1-based line and column (in characters) of a byte offset (the end past the text).
    fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let m = self.mark(offset);
        #[cfg(test)]
        tests::WORK.with(|w| {
            let (lookups, counted) = w.get();
            w.set((lookups + 1, counted + offset - m.byte));
        });
        let chars = m.chars + self.text[m.byte..offset].chars().count();
        (m.line, chars - m.line_chars + 1)
    }
}

type Entry<'i> = (Spanned<Cow<'i, str>>, Spanned<DeValue<'i>>);

/// The keys a derived struct reads, in declaration order. Serde hands them to
/// `deserialize_struct`, so a deserializer that only records them recovers the list: the
/// raw types are the one place a table's keys are listed.
fn keys_of<T: DeserializeOwned>() -> &'static [&'static str] {
    use serde::de::{Error, Visitor, value::Error as E};
    struct Names<'a>(&'a mut &'static [&'static str]);
    impl<'de> serde::Deserializer<'de> for Names<'_> {
        type Error = E;
        fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, E> {
            Err(E::custom("not a struct"))
        }
        fn deserialize_struct<V: Visitor<'de>>(
            self,
            _: &'static str,
            fields: &'static [&'static str],
            _: V,
        ) -> Result<V::Value, E> {
            *self.0 = fields;
            Err(E::custom("names only"))
        }
        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes
            byte_buf option unit unit_struct newtype_struct seq tuple tuple_struct map enum
            identifier ignored_any
        }
    }
    let mut names: &'static [&'static str] = &[];
    let _ = T::deserialize(Names(&mut names));
    names
}

/// `entries` as `T`, a table starting at `start`.
fn deserialize<T: DeserializeOwned>(
    entries: Vec<Entry<'_>>,
    start: usize,
) -> Result<T, toml::de::Error> {
    let table: DeTable<'_> = entries.into_iter().collect();
    T::deserialize(toml::de::Deserializer::from(Spanned::new(
        start..start,
        table,
    )))
}

/// A table of the file once serde has read the raw type's keys: what the validation pass
/// needs to report the rest in the file's rule order.
struct Table<'i> {
    /// Where the table starts, for a missing key.
    start: usize,
    /// How messages name the table: `""` for the top level, `"in [experiment]: "`.
    context: &'static str,
    /// The raw type's keys.
    own: &'static [&'static str],
    /// The raw type's keys the table has, each with where it stands.
    present: Vec<(Cow<'i, str>, usize)>,
    /// The values that did not read as their type, in file order: the key, and where and
    /// what the problem is. Each is reported once, when its key is asked for or at the end.
    bad: Vec<(String, usize, String)>,
    /// The keys that are not the raw type's, in file order: settings, or unknown.
    rest: Vec<Entry<'i>>,
}

/// Reads `table` (starting at `start`) into the raw type `T`: each of `T`'s keys alone
/// (keeping every bad value's problem), then those that read, together.
fn read<'i, T: DeserializeOwned + Default>(
    table: DeTable<'i>,
    start: usize,
    context: &'static str,
) -> (T, Table<'i>) {
    let own = keys_of::<T>();
    let (mine, rest): (Vec<Entry<'i>>, _) = table
        .into_iter()
        .partition(|(k, _)| own.contains(&k.get_ref().as_ref()));
    let mut t = Table {
        start,
        context,
        own,
        present: mine
            .iter()
            .map(|(k, _)| (k.get_ref().clone(), k.span().start))
            .collect(),
        bad: Vec::new(),
        rest,
    };
    let mut good = Vec::new();
    for (k, v) in mine {
        match deserialize::<T>(vec![(k.clone(), v.clone())], start) {
            Ok(_) => good.push((k, v)),
            Err(e) => {
                let at = e.span().map_or(k.span().start, |s| s.start);
                let msg = suggest(e.message().trim());
                t.bad.push((k.get_ref().to_string(), at, msg));
            }
        }
    }
    let raw = deserialize::<T>(good, start).unwrap_or_else(|e| {
        let msg = suggest(e.message().trim());
        t.bad
            .push((String::new(), e.span().map_or(start, |s| s.start), msg));
        T::default()
    });
    (raw, t)
}

impl Table<'_> {
    /// `value`, read from `key`, with where the key stands; reports the key's value if it did
    /// not read.
    fn get<V>(&mut self, value: Option<V>, key: &str, p: &mut Problems) -> Option<(V, usize)> {
        if let Some(i) = self.bad.iter().position(|b| b.0 == key) {
            let (_, at, msg) = self.bad.remove(i);
            p.at(at, format_args!("{}{msg}", self.context));
        }
        let at = self.present.iter().find(|(k, _)| k == key)?.1;
        Some((value?, at))
    }

    /// As [`Table::get`], and a problem if the key is missing.
    fn need<V>(&mut self, value: Option<V>, key: &str, p: &mut Problems) -> Option<(V, usize)> {
        if !self.present.iter().any(|(k, _)| k == key) {
            p.at(
                self.start,
                format_args!("{}missing field `{key}`", self.context),
            );
            return None;
        }
        self.get(value, key, p)
    }

    /// Reports what is left: values that did not read, then every key that is neither the
    /// raw type's nor one of `known` (the table's other keys, read elsewhere).
    fn finish(mut self, known: &[&str], p: &mut Problems) {
        let own = self.own;
        self.bad
            .sort_by_key(|(k, ..)| own.iter().position(|o| o == k));
        self.report_bad(p);
        self.unknown(known, p);
    }

    /// Reports every value that did not read and has not been reported.
    fn report_bad(&mut self, p: &mut Problems) {
        for (_, at, msg) in self.bad.drain(..) {
            p.at(at, format_args!("{}{msg}", self.context));
        }
    }

    /// Reports every key left that is not one of `known`, suggesting the nearest of the raw
    /// type's and `known` and listing them all; whether there was any.
    fn unknown(&self, known: &[&str], p: &mut Problems) -> bool {
        let all: Vec<&str> = self.own.iter().chain(known).copied().collect();
        let mut found = false;
        for (k, _) in self
            .rest
            .iter()
            .filter(|(k, _)| !known.contains(&k.get_ref().as_ref()))
        {
            found = true;
            let hint = did_you_mean(k.get_ref(), all.iter().copied())
                .map(|s| format!("; did you mean `{s}`?"))
                .unwrap_or_default();
            let list: Vec<String> = all.iter().map(|s| format!("`{s}`")).collect();
            p.at(
                k.span().start,
                format_args!(
                    "{}unknown field `{}`{hint} (expected one of {})",
                    self.context,
                    escape(k.get_ref(), 40),
                    list.join(", ")
                ),
            );
        }
        found
    }

    /// The keys that are not the raw type's, as a settings struct `S`, after reporting what
    /// is left: every unknown key, then every bad setting (in file order), each at its own
    /// position.
    fn settings<S: DeserializeOwned + Default>(mut self, p: &mut Problems) -> Option<S> {
        self.report_bad(p);
        let known = keys_of::<S>();
        let unknown = self.unknown(known, p);
        let (settings, mut t) =
            read::<S>(self.rest.into_iter().collect(), self.start, self.context);
        let ok = !unknown && t.bad.is_empty();
        t.report_bad(p);
        ok.then_some(settings)
    }
}

/// `text` as a TOML table, or `None` once its first syntax error is reported. A syntax error's
/// followers are mostly echoes of it, so the earliest in the file is the one reported (an
/// unterminated string at the line it starts on, not where parsing gave up).
fn parse<'i>(text: &'i str, p: &mut Problems) -> Option<Spanned<DeTable<'i>>> {
    let (doc, errors) = DeTable::parse_recoverable(text);
    match errors
        .iter()
        .min_by_key(|e| e.span().map_or(usize::MAX, |s| s.start))
    {
        Some(e) => {
            p.toml(e, 0, "");
            None
        }
        None => Some(doc),
    }
}

/// Reports every key and string that holds a control character other than a newline or a
/// tab: escape sequences in a bank would otherwise reach the student's terminal raw.
fn controls(table: &DeTable<'_>, p: &mut Problems) {
    fn bad(text: &str) -> Option<char> {
        let mut chars = text.chars().peekable();
        while let Some(c) = chars.next() {
            let crlf = c == '\r' && chars.peek() == Some(&'\n');
            if c.is_control() && c != '\n' && c != '\t' && !crlf {
                return Some(c);
            }
        }
        None
    }
    fn value(v: &Spanned<DeValue<'_>>, p: &mut Problems) {
        match v.get_ref() {
            DeValue::String(text) => {
                bidi(text, v.span(), p);
                if let Some(c) = bad(text) {
                    p.at(
                        v.span().start,
                        format_args!(
                            "this text holds the control character U+{:04X}; only newlines and \
                             tabs may appear in text",
                            c as u32
                        ),
                    );
                }
            }
            DeValue::Array(items) => items.iter().for_each(|i| value(i, p)),
            DeValue::Table(t) => controls(t, p),
            _ => {}
        }
    }
    for (k, v) in table.iter() {
        bidi(k.get_ref(), k.span(), p);
        if let Some(c) = bad(k.get_ref()) {
            p.at(
                k.span().start,
                format_args!("a key holds the control character U+{:04X}", c as u32),
            );
        }
        value(v, p);
    }
}

/// Reports a bidirectional control in `text` (a key or a string at `span`), at the character
/// itself where the file has it as written, else at the string: it would reorder what a
/// student reads around it, so that a line shows other text than the file's.
fn bidi(text: &str, span: std::ops::Range<usize>, p: &mut Problems) {
    let Some(c) = text.chars().find(|&c| crate::format::is_bidi(c)) else {
        return;
    };
    let at = p
        .lines
        .text
        .get(span.clone())
        .and_then(|s| s.find(c))
        .map_or(span.start, |i| span.start + i);
    p.at(
        at,
        format_args!(
            "this text holds the bidirectional control U+{:04X}, which reorders the text \
             around it; remove it",
            c as u32
        ),
    );
}

/// The keys whose text a student reads, where `$…$` is math.
const PROSE: &[&str] = &[
    "title",
    "question",
    "answer",
    "key_points",
    "caption",
    "takeaway",
    "prompt",
    "choices",
    "explanations",
    "explanation",
    "text",
];

/// Reports the first formula of each text that does not parse (`crate::math::check`), at its
/// own line and column in the file.
fn math(table: &DeTable<'_>, p: &mut Problems) {
    fn value(v: &Spanned<DeValue<'_>>, p: &mut Problems) {
        match v.get_ref() {
            DeValue::String(text) => {
                if let Some(e) = crate::math::check(text) {
                    let at = source_offset(p.lines.text, v.span(), e.at);
                    p.at(at, format_args!("math: {}", e.message));
                }
            }
            DeValue::Array(items) => items.iter().for_each(|i| value(i, p)),
            _ => {}
        }
    }
    for (k, v) in table.iter() {
        match v.get_ref() {
            DeValue::Table(t) if k.get_ref() != "settings" => math(t, p),
            DeValue::Array(items) if !PROSE.contains(&k.get_ref().as_ref()) => {
                for item in items {
                    if let DeValue::Table(t) = item.get_ref() {
                        math(t, p);
                    }
                }
            }
            _ if PROSE.contains(&k.get_ref().as_ref()) => value(v, p),
            _ => {}
        }
    }
}

/// The byte offset in the file of byte `offset` of the string whose token spans `span`:
/// past the opening quotes (and the newline a triple-quoted string drops), counting a basic
/// string's escapes as written.
fn source_offset(file: &str, span: std::ops::Range<usize>, offset: usize) -> usize {
    let Some(raw) = file.get(span.clone()) else {
        return span.start;
    };
    let (quote, literal) = match raw {
        r if r.starts_with("'''") => (3, true),
        r if r.starts_with("\"\"\"") => (3, false),
        r if r.starts_with('\'') => (1, true),
        _ => (1, false),
    };
    let mut start = quote.min(raw.len());
    if quote == 3 {
        if raw[start..].starts_with("\r\n") {
            start += 2;
        } else if raw[start..].starts_with('\n') {
            start += 1;
        }
    }
    let body = &raw[start..];
    if literal {
        return span.start + start + offset.min(body.len());
    }
    let mut decoded = 0;
    let mut chars = body.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if decoded >= offset {
            return span.start + start + i;
        }
        if c != '\\' {
            decoded += c.len_utf8();
            continue;
        }
        match chars.next() {
            Some((_, 'u')) | Some((_, 'U')) => {
                let n = if body[i + 1..].starts_with('u') { 4 } else { 8 };
                let hex: String = (0..n)
                    .filter_map(|_| chars.next().map(|(_, h)| h))
                    .collect();
                decoded += u32::from_str_radix(&hex, 16)
                    .ok()
                    .and_then(char::from_u32)
                    .map_or(1, char::len_utf8);
            }
            // A line-ending backslash drops the line break and the spaces after it.
            Some((_, w)) if w.is_whitespace() => {
                while chars.peek().is_some_and(|(_, c)| c.is_whitespace()) {
                    chars.next();
                }
            }
            Some(_) => decoded += 1,
            None => {}
        }
    }
    span.end
}

/// Reports a line break in a field that is one line (a question's `title`, a quiz item's
/// `choices`), at the string: `list` and the quiz print them on one line, where a break
/// would forge lines of its own.
fn one_line(table: &DeTable<'_>, p: &mut Problems) {
    fn check(v: &Spanned<DeValue<'_>>, what: &str, p: &mut Problems) {
        if let DeValue::String(text) = v.get_ref()
            && text.contains(['\n', '\r'])
        {
            p.at(
                v.span().start,
                format_args!("{what} holds a line break; it must be one line"),
            );
        }
    }
    for (k, v) in table.iter() {
        match (k.get_ref().as_ref(), v.get_ref()) {
            ("title", _) => check(v, "the title", p),
            ("quiz", DeValue::Array(items)) => {
                for item in items {
                    let DeValue::Table(t) = item.get_ref() else {
                        continue;
                    };
                    for (k, v) in t.iter() {
                        if let ("choices", DeValue::Array(choices)) =
                            (k.get_ref().as_ref(), v.get_ref())
                        {
                            choices.iter().for_each(|c| check(c, "a choice", p));
                        }
                    }
                }
            }
            _ => {}
        }
    }
}

/// The value of a key as a table, with where it starts; a problem if it is not one.
fn table<'i>((key, value): Entry<'i>, p: &mut Problems) -> Option<(DeTable<'i>, usize)> {
    let start = key.span().start;
    match value.into_inner() {
        DeValue::Table(t) => Some((t, start)),
        other => {
            p.at(
                start,
                format_args!(
                    "`{}` must be a table, not {}",
                    key.get_ref(),
                    other.type_str()
                ),
            );
            None
        }
    }
}

/// The entries of an array of tables (`[[quiz]]`), each with where it starts.
fn tables<'i>((key, value): Entry<'i>, p: &mut Problems) -> Vec<(DeTable<'i>, usize)> {
    let start = key.span().start;
    match value.into_inner() {
        DeValue::Array(items) => items
            .into_iter()
            .filter_map(|item| {
                let at = item.span().start;
                match item.into_inner() {
                    DeValue::Table(t) => Some((t, at)),
                    other => {
                        p.at(
                            at,
                            format_args!(
                                "every `{}` entry must be a table, not {}",
                                key.get_ref(),
                                other.type_str()
                            ),
                        );
                        None
                    }
                }
            })
            .collect(),
        other => {
            p.at(
                start,
                format_args!(
                    "`{}` must be an array of tables ([[{0}]]), not {}",
                    key.get_ref(),
                    other.type_str()
                ),
            );
            Vec::new()
        }
    }
}
/// The tables a question file may hold besides its own keys, in the order messages list them.
const SECTIONS: &[&str] = &["code", "experiment", "train", "quiz", "claim"];

/// Reads one question file, adding each problem to `problems`: the question as far as it
/// read (a `[[code]]`, `[train]`, item or claim with a problem left out), or `None` if its
/// own keys or its `[experiment]` did not read. `check` runs what read of a file with
/// problems, so that its other problems show in the same run.
pub(crate) fn question(
    path: &str,
    text: &str,
    max_bytes: u64,
    problems: &mut Vec<String>,
) -> Option<Question> {
    let mut p = Problems::new(path, text, problems);
    let doc = parse(text, &mut p)?;
    controls(doc.get_ref(), &mut p);
    one_line(doc.get_ref(), &mut p);
    math(doc.get_ref(), &mut p);
    let (sections, top): (Vec<Entry<'_>>, _) = doc
        .into_inner()
        .into_iter()
        .partition(|(k, _)| SECTIONS.contains(&k.get_ref().as_ref()));
    let (raw, mut t) = read::<RawHead>(top.into_iter().collect(), 0, "");
    let head = head(raw, &mut t, &mut p);
    let Sections {
        code,
        experiment,
        train,
        quiz,
        claims,
    } = self::sections(sections, max_bytes, &mut p);
    if let Some(read) = &experiment {
        let plan = read.plan.as_ref();
        fills(&read.preset.takeaway, read.takeaway_at, plan, &mut p);
        if let Some(h) = &head {
            fills(&h.answer, h.answer_at, plan, &mut p);
            for k in &h.key_points {
                fills(k, h.key_points_at, plan, &mut p);
            }
        }
    }
    t.finish(SECTIONS, &mut p);
    let head = head?;
    Some(
        Question {
            id: head.id,
            slug: head.slug,
            title: head.title,
            question: head.question,
            answer: head.answer,
            key_points: head.key_points,
            code: code.into_iter().flatten().collect(),
            experiment: experiment?.preset,
            train: train.flatten(),
            quiz: quiz.into_iter().flatten().collect(),
            claims: claims.into_iter().flatten().collect(),
            source: path.to_string(),
            id_at: p.place(head.id_at),
            slug_at: p.place(head.slug_at),
            written: None,
        }
        .typeset(),
    )
}

/// The tables of a question file, each read as far as it goes (`None` where it failed).
struct Sections {
    code: Vec<Option<CodeBlock>>,
    experiment: Option<PresetRead>,
    train: Option<Option<TrainPreset>>,
    quiz: Vec<Option<QuizItem>>,
    claims: Vec<Option<Claim>>,
}

/// Reads `[[code]]`, `[experiment]`, `[train]`, `[[quiz]]` and `[[claim]]` from `entries`
/// (the file's keys of those names, each once: TOML refuses a key given twice).
fn sections(mut entries: Vec<Entry<'_>>, max_bytes: u64, p: &mut Problems) -> Sections {
    let mut take = |key: &str| {
        let i = entries.iter().position(|(k, _)| k.get_ref() == key)?;
        Some(entries.swap_remove(i))
    };
    let code = take("code").map(|e| code_blocks(e, p)).unwrap_or_default();
    let experiment = match take("experiment") {
        Some(e) => table(e, p).and_then(|(t, at)| preset(t, at, max_bytes, p)),
        None => {
            p.at(0, "missing field `experiment`");
            None
        }
    };
    let train =
        take("train").map(|e| table(e, p).and_then(|(t, at)| train_preset(t, at, max_bytes, p)));
    let quiz: Vec<Option<QuizItem>> = take("quiz")
        .map(|e| tables(e, p))
        .unwrap_or_default()
        .into_iter()
        .map(|(t, at)| quiz_item(t, at, experiment.as_ref(), max_bytes, p))
        .collect();
    let claims: Vec<Option<Claim>> = take("claim")
        .map(|e| tables(e, p))
        .unwrap_or_default()
        .into_iter()
        .map(|(t, at)| {
            let train = train.as_ref().and_then(|t| t.as_ref());
            claim(t, at, experiment.as_ref(), train, max_bytes, p)
        })
        .collect();
    Sections {
        code,
        experiment,
        train,
        quiz,
        claims,
    }
}

/// The question's own keys as written.
#[derive(Default, Deserialize)]
struct RawHead {
    format_version: Option<u32>,
    id: Option<u32>,
    slug: Option<String>,
    title: Option<String>,
    question: Option<String>,
    answer: Option<String>,
    key_points: Option<Vec<String>>,
}

/// The question's own keys, checked.
struct Head {
    id: u32,
    slug: String,
    /// Where the id and the slug stand.
    id_at: usize,
    slug_at: usize,
    title: String,
    question: String,
    answer: String,
    key_points: Vec<String>,
    /// Where the answer and the key points stand, for messages about their placeholders.
    answer_at: usize,
    key_points_at: usize,
}

/// The longest title: `list` gives it one line of a table.
const MAX_TITLE: usize = 200;

/// Checks the question's own keys; `None` if any is missing or wrong.
fn head(raw: RawHead, t: &mut Table<'_>, p: &mut Problems) -> Option<Head> {
    let version = t.need(raw.format_version, "format_version", p);
    if let Some((v, at)) = version
        && v != FORMAT_VERSION
    {
        p.at(
            at,
            format_args!(
                "format_version {v} is not supported; this gradtutor reads format_version = \
                 {FORMAT_VERSION}"
            ),
        );
    }
    let id = t.need(raw.id, "id", p);
    if let Some((0, at)) = id {
        p.at(at, "id must be a positive whole number");
    }
    let slug = t.need(raw.slug, "slug", p);
    if let Some((s, at)) = &slug
        && (s.is_empty()
            || !s
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'))
    {
        p.at(
            *at,
            format_args!("slug '{s}' must be lowercase letters, digits and hyphens"),
        );
    } else if let Some((s, at)) = &slug
        && (s.starts_with('-') || s.ends_with('-'))
    {
        // `ask -x` would read as a flag, and `-` names nothing.
        p.at(
            *at,
            format_args!("slug '{s}' must start and end with a letter or a digit"),
        );
    }
    let mut text_field = |v: Option<String>, key: &str, p: &mut Problems| {
        let v = t.need(v, key, p);
        if let Some((s, at)) = &v
            && s.trim().is_empty()
        {
            p.at(*at, format_args!("{key} is empty"));
        }
        v
    };
    let title = text_field(raw.title, "title", p);
    if let Some((s, at)) = &title
        && s.chars().count() > MAX_TITLE
    {
        p.at(
            *at,
            format_args!(
                "the title has {} characters; a title is one line of at most {MAX_TITLE}",
                s.chars().count()
            ),
        );
    }
    let question = text_field(raw.question, "question", p);
    let answer = text_field(raw.answer, "answer", p);
    let key_points = t.need(raw.key_points, "key_points", p);
    if let Some((k, at)) = &key_points
        && (k.is_empty() || k.iter().any(|k| k.trim().is_empty()))
    {
        p.at(
            *at,
            "key_points needs at least one point, and no empty ones",
        );
    }
    let ((id, id_at), (slug, slug_at)) = (id?, slug?);
    let ((answer, answer_at), (key_points, key_points_at)) = (answer?, key_points?);
    Some(Head {
        id,
        slug,
        id_at,
        slug_at,
        title: title?.0,
        question: question?.0,
        answer,
        key_points,
        answer_at,
        key_points_at,
    })
}

/// A `[[code]]` entry as written.
#[derive(Default, Deserialize)]
struct RawCode {
    caption: Option<String>,
    language: Option<String>,
    source: Option<String>,
}

fn code_blocks(entry: Entry<'_>, p: &mut Problems) -> Vec<Option<CodeBlock>> {
    tables(entry, p)
        .into_iter()
        .map(|(table, at)| {
            let (raw, mut t) = read::<RawCode>(table, at, "in [[code]]: ");
            let caption = t.need(raw.caption, "caption", p);
            let language = t.need(raw.language, "language", p);
            let source = t.need(raw.source, "source", p);
            t.finish(&[], p);
            let ((caption, caption_at), (language, _), (source, _)) =
                (caption?, language?, source?);
            if source.trim().is_empty() || caption.trim().is_empty() {
                p.at(
                    caption_at,
                    "every [[code]] block needs a caption and a non-empty source",
                );
                return None;
            }
            Some(CodeBlock {
                caption,
                language,
                source,
            })
        })
        .collect()
}

/// `[experiment]` as read: the preset, its plan (if it can run) and where its takeaway is.
struct PresetRead {
    preset: Preset,
    plan: Option<experiments::Plan>,
    takeaway_at: usize,
}

/// `[experiment]`'s own keys as written; the others are settings.
#[derive(Default, Deserialize)]
struct RawPreset {
    demo: Option<String>,
    takeaway: Option<String>,
}

/// `[experiment]`: the demo's name and takeaway, then its settings; the preset must run.
fn preset(
    table: DeTable<'_>,
    start: usize,
    max_bytes: u64,
    p: &mut Problems,
) -> Option<PresetRead> {
    let (raw, mut t) = read::<RawPreset>(table, start, "in [experiment]: ");
    let demo = t.need(raw.demo, "demo", p);
    let takeaway = t.need(raw.takeaway, "takeaway", p);
    let settings = t.settings::<Settings>(p);
    if let Some((t, at)) = &takeaway
        && t.trim().is_empty()
    {
        p.at(*at, "the experiment's takeaway is empty");
    }
    let (demo, at) = demo?;
    let settings = settings?;
    let plan = match experiments::find(&demo) {
        Err(e) => {
            p.at(at, e);
            None
        }
        Ok(exp) => match exp.plan(&settings, max_bytes) {
            Ok(plan) => Some(plan),
            Err(e) => {
                p.at(at, format_args!("the [experiment] preset cannot run: {e}"));
                None
            }
        },
    };
    let (takeaway, takeaway_at) = takeaway?;
    Some(PresetRead {
        preset: Preset {
            demo,
            takeaway,
            settings,
        },
        plan,
        takeaway_at,
    })
}

impl PresetRead {
    /// Whether `figure` of `run` can be measured with the preset's settings under `own`: the
    /// preset's own plan serves when there are none, so it is not planned again. `what`
    /// names the asker in the message when its settings cannot run. Sizes are held to the
    /// larger of `max_bytes` and the default limit: a smaller `--max-memory` applies when the
    /// item or claim runs (`quiz`, `check`), so that it does not stop `list` or `ask`.
    fn measurable(
        &self,
        what: &str,
        own: Option<&Settings>,
        figure: Figure,
        run: Option<&str>,
        max_bytes: u64,
    ) -> Result<(), String> {
        let planned;
        let plan = match (own, &self.plan) {
            (None, Some(plan)) => plan,
            _ => {
                // Unknown experiment: reported at `demo`, nothing to add here.
                let Ok(exp) = experiments::find(&self.preset.demo) else {
                    return Ok(());
                };
                let settings = own.map_or(self.preset.settings.clone(), |o| {
                    self.preset.settings.overlay(o)
                });
                let limit = max_bytes.max(crate::probe::DEFAULT_MAX_MEMORY);
                planned = exp
                    .plan(&settings, limit)
                    .map_err(|e| format!("{what} cannot run: {e}"))?;
                &planned
            }
        };
        can_measure(plan, figure, run)
    }
}

/// Checks every placeholder of `text` (at `at`) against the preset's runs.
fn fills(text: &str, at: usize, plan: Option<&experiments::Plan>, p: &mut Problems) {
    for (_, found) in placeholders(text) {
        match (found, plan) {
            (Err(name), _) => not_a_figure::<Figure>(&name, "a figure", at, p),
            (Ok(ph), Some(plan)) => {
                if let Err(e) = can_measure(plan, ph.figure, ph.run.as_deref()) {
                    p.at(at, format_args!("placeholder {{{}}}: {e}", ph.figure));
                }
            }
            (Ok(_), None) => {}
        }
    }
}

/// `{inner}` is no placeholder of a figure of kind `F` (`what`: "a figure"): the problem,
/// with the nearest placeholder (the name trimmed, lowercased, `_` read as `-`) and the list.
fn not_a_figure<F: ValueEnum + std::fmt::Display>(
    inner: &str,
    what: &str,
    at: usize,
    p: &mut Problems,
) {
    let names: Vec<String> = F::value_variants().iter().map(|f| f.to_string()).collect();
    let (name, run) = match inner.split_once('@') {
        Some((n, r)) => (n, Some(r.trim())),
        None => (inner, None),
    };
    let norm = name.trim().to_lowercase().replace('_', "-");
    let near = names
        .iter()
        .find(|n| **n == norm)
        .map(String::as_str)
        .or_else(|| did_you_mean(&norm, names.iter().map(String::as_str)));
    let shown = escape(inner, 40);
    let msg = match (near, run) {
        (Some(n), Some("")) if n == name => format!(
            "{{{shown}}} names no run after `@`; write {{{n}}} for the first run or \
             {{{n}@RUN}} for another"
        ),
        (Some(n), Some(r)) if !r.is_empty() => format!(
            "{{{shown}}} is not {what}; did you mean {{{n}@{}}}?",
            escape(r, 40)
        ),
        (Some(n), _) => format!("{{{shown}}} is not {what}; did you mean {{{n}}}?"),
        (None, _) => format!(
            "{{{shown}}} is not {what} (figures: {}); braces in this text hold placeholders \
             only",
            names.join(", ")
        ),
    };
    p.at(at, msg);
}

/// A `[[claim]]` as written.
#[derive(Default, Deserialize)]
struct RawClaim {
    figure: Option<Claimed>,
    run: Option<String>,
    min: Option<f64>,
    max: Option<f64>,
    settings: Option<Settings>,
    text: Option<String>,
}

/// One `[[claim]]` (its table starting at `at`): a figure of a run, the range it must fall in
/// and the sentence it backs; the run must exist and be able to have the figure.
fn claim(
    table: DeTable<'_>,
    at: usize,
    experiment: Option<&PresetRead>,
    train: Option<&TrainPreset>,
    max_bytes: u64,
    p: &mut Problems,
) -> Option<Claim> {
    let before = p.list.len();
    let (raw, mut t) = read::<RawClaim>(table, at, "in [[claim]]: ");
    let figure = t.need(raw.figure, "figure", p);
    let run = t.get(raw.run, "run", p).map(|v| v.0);
    let min = t.need(raw.min, "min", p);
    let max = t.need(raw.max, "max", p);
    let settings = t.get(raw.settings, "settings", p);
    let text = t.need(raw.text, "text", p);
    t.finish(&[], p);
    let ((figure, _), (min, _), (max, _), (text, text_at)) = (figure?, min?, max?, text?);
    if !(min.is_finite() && max.is_finite() && min <= max) {
        p.at(
            at,
            format_args!("a claim needs finite min ≤ max (got {min} and {max})"),
        );
    }
    if text.trim().is_empty() {
        p.at(
            text_at,
            "a claim's text is empty: quote the sentence it backs",
        );
    }
    let (settings, settings_at) = settings.unzip();
    let claim = Claim {
        figure,
        run,
        min,
        max,
        settings,
        text,
        at: p.lines.line_col(at),
    };
    match claim.figure {
        Claimed::Run(figure) => {
            if let Some(read) = experiment
                && let Err(e) = read.measurable(
                    "this claim",
                    claim.settings.as_ref(),
                    figure,
                    claim.run.as_deref(),
                    max_bytes,
                )
            {
                p.at(at, e);
            }
        }
        Claimed::Training(figure) => {
            if let Some(s_at) = settings_at {
                p.at(
                    s_at,
                    format_args!(
                        "the claim's figure {figure} is measured on the [train] comparison as \
                         the file sets it; `settings` applies to figures of the experiment"
                    ),
                );
            }
            match train {
                None => p.at(
                    at,
                    format_args!(
                        "the figure {figure} is one of a training comparison, and this file has \
                         no [train] table"
                    ),
                ),
                Some(t) => {
                    if let Err(e) = has_configuration(t, claim.run.as_deref()) {
                        p.at(at, e);
                    }
                }
            }
        }
    }
    // A claim with a problem is left out of what `check` runs: its problem is said once.
    (p.list.len() == before).then_some(claim)
}

/// Whether the `[train]` comparison trains a configuration labelled `run` (any when `None`).
fn has_configuration(t: &TrainPreset, run: Option<&str>) -> Result<(), String> {
    let Ok(cfg) = t.settings.config() else {
        return Ok(()); // Reported where the [train] table is read.
    };
    let labels: Vec<String> = cfg.variants.iter().map(|v| v.to_string()).collect();
    match run {
        Some(label) if !labels.iter().any(|l| l == label) => {
            let hint = did_you_mean(label, labels.iter().map(String::as_str))
                .map(|l| format!("; did you mean '{l}'?"))
                .unwrap_or_default();
            Err(format!(
                "the [train] comparison has no configuration '{}'{hint} (its configurations: {})",
                escape(label, 60),
                labels.join(", ")
            ))
        }
        _ => Ok(()),
    }
}

/// Checks every placeholder of a `[train]` takeaway (at `at`) against its configurations.
fn train_fills(t: &TrainPreset, at: usize, p: &mut Problems) {
    for (_, found) in placeholders_of::<TrainFigure>(&t.takeaway) {
        match found {
            Err(name) => not_a_figure::<TrainFigure>(&name, "a figure of a training run", at, p),
            Ok(ph) => {
                if let Err(e) = has_configuration(t, ph.run.as_deref()) {
                    p.at(at, format_args!("placeholder {{{}}}: {e}", ph.figure));
                }
            }
        }
    }
}

/// `[train]`'s own key as written; the others are `train` settings.
#[derive(Default, Deserialize)]
struct RawTrain {
    takeaway: Option<String>,
}

/// `[train]`: the takeaway, then `train` settings; the comparison must be able to run.
fn train_preset(
    table: DeTable<'_>,
    start: usize,
    max_bytes: u64,
    p: &mut Problems,
) -> Option<TrainPreset> {
    let (raw, mut t) = read::<RawTrain>(table, start, "in [train]: ");
    let takeaway = t.need(raw.takeaway, "takeaway", p);
    let settings = t.settings::<TrainSettings>(p)?;
    let (takeaway, takeaway_at) = takeaway?;
    if takeaway.trim().is_empty() {
        p.at(start, "the [train] takeaway is empty");
    }
    if let Err(e) = settings.config().and_then(|c| c.check(max_bytes)) {
        p.at(start, format_args!("the [train] preset cannot run: {e}"));
    }
    // The same configuration twice trains the same network twice: the same curves side by
    // side, twice the time, and a label placeholders cannot tell apart.
    if let Ok(cfg) = settings.config() {
        let mut seen = std::collections::HashSet::new();
        if let Some(twice) = cfg
            .variants
            .iter()
            .map(|v| v.to_string())
            .find(|l| !seen.insert(l.clone()))
        {
            p.at(
                start,
                format_args!(
                    "the [train] comparison lists {} more than once; each configuration trains \
                     once",
                    escape(&twice, 60)
                ),
            );
        }
    }
    let preset = TrainPreset { takeaway, settings };
    train_fills(&preset, takeaway_at, p);
    Some(preset)
}

/// A `[[quiz]]` entry as written, before its kind is known.
#[derive(Default, Deserialize)]
struct RawItem {
    prompt: Option<String>,
    choices: Option<Vec<String>>,
    answer: Option<String>,
    explanations: Option<Vec<String>>,
    figure: Option<Figure>,
    run: Option<String>,
    tolerance: Option<f64>,
    explanation: Option<String>,
    settings: Option<Settings>,
}

/// One `[[quiz]]` entry (its table starting at `start`): multiple choice or numeric,
/// complete, and (numeric) runnable.
fn quiz_item(
    table: DeTable<'_>,
    start: usize,
    experiment: Option<&PresetRead>,
    max_bytes: u64,
    p: &mut Problems,
) -> Option<QuizItem> {
    let before = p.list.len();
    let (mut raw, mut t) = read::<RawItem>(table, start, "in [[quiz]]: ");
    let (prompt, at) = t.need(raw.prompt.take(), "prompt", p).unwrap_or_default();
    let (line, column) = p.lines.line_col(at);
    t.finish(&[], p);
    let kind = match item_kind(&prompt, raw) {
        Ok(kind) => kind,
        Err(e) => {
            p.at(at, e);
            return None;
        }
    };
    let item = QuizItem {
        prompt,
        line,
        column,
        kind,
    };
    if let (
        ItemKind::Numeric {
            figure,
            run,
            settings,
            ..
        },
        Some(read),
    ) = (&item.kind, experiment)
        && let Err(e) = read.measurable(
            "this numeric quiz item",
            settings.as_deref(),
            *figure,
            run.as_deref(),
            max_bytes,
        )
    {
        p.at(at, e);
    }
    // An item with a problem is left out of what `check` runs: its problem is said once.
    (p.list.len() == before).then_some(item)
}

/// Whether `plan` has the run a numeric item names and that run can have its figure, as far
/// as can be told without running it.
fn can_measure(plan: &experiments::Plan, figure: Figure, run: Option<&str>) -> Result<(), String> {
    let mut runs = plan.main_runs();
    let name = plan.experiment().name;
    let (label, config) = match run {
        None => runs.next().ok_or("the experiment plans no run")?,
        Some(label) => match plan.main_runs().find(|(l, _)| *l == label) {
            Some(found) => found,
            None => {
                let labels: Vec<&str> = plan.main_runs().map(|(l, _)| l).collect();
                let hint = did_you_mean(label, labels.iter().copied())
                    .map(|l| format!("; did you mean '{l}'?"))
                    .unwrap_or_default();
                return Err(format!(
                    "the {name} experiment has no run '{}'{hint} (its runs: {})",
                    escape(label, 40),
                    labels.join(", ")
                ));
            }
        },
    };
    if figure.possible(config) {
        return Ok(());
    }
    Err(format!(
        "the figure {figure} needs {}; run '{label}' of the {name} experiment is {}",
        figure.needs(),
        config.describe()
    ))
}

/// Either `choices` (with `answer` and one explanation per choice) or `figure` (with
/// `tolerance` and `explanation`), complete and nothing of the other kind.
fn item_kind(prompt: &str, r: RawItem) -> Result<ItemKind, String> {
    let name = short(prompt);
    if prompt.trim().is_empty() {
        return Err("a quiz item has an empty prompt".into());
    }
    let has_choices = r.choices.as_ref().is_some_and(|c| !c.is_empty());
    match (r.figure, has_choices) {
        (None, false) => Err(format!(
            "quiz item \"{name}\" needs either choices (multiple choice) or a figure (numeric)"
        )),
        (Some(_), true) => Err(format!(
            "quiz item \"{name}\" has both choices and a figure; it must be one kind"
        )),
        (None, true) => choice(r, &name),
        (Some(figure), false) => numeric(r, figure, &name),
    }
}

/// A multiple-choice item: 2–6 choices, each explained, and an answer among them.
fn choice(r: RawItem, name: &str) -> Result<ItemKind, String> {
    let choices = r.choices.unwrap_or_default();
    let explanations = r.explanations.unwrap_or_default();
    let n = choices.len();
    if !(2..=6).contains(&n) {
        return Err(format!("quiz item \"{name}\" has {n} choices; give 2 to 6"));
    }
    if explanations.len() != n {
        return Err(format!(
            "quiz item \"{name}\" has {n} choices but {} explanations; explain every choice",
            explanations.len()
        ));
    }
    for (j, c) in choices.iter().enumerate() {
        if let Some(k) = choices[..j].iter().position(|o| o.trim() == c.trim()) {
            return Err(format!(
                "quiz item \"{name}\": choices ({}) and ({}) are the same; every choice must \
                 differ",
                super::format::letter(k),
                super::format::letter(j)
            ));
        }
    }
    let answer = r.answer.as_deref().unwrap_or("").trim();
    let correct =
        parse_choice(answer, n).map_err(|e| format!("quiz item \"{name}\": its answer {e}"))?;
    if r.tolerance.is_some() || r.explanation.is_some() || r.run.is_some() {
        return Err(format!(
            "quiz item \"{name}\" is multiple choice: tolerance, explanation and run belong to \
             numeric items (use explanations = [...])"
        ));
    }
    Ok(ItemKind::Choice {
        choices,
        correct,
        explanations,
    })
}

/// A numeric item: a figure, a tolerance ≥ 0 and an explanation; no answer of its own.
fn numeric(r: RawItem, figure: Figure, name: &str) -> Result<ItemKind, String> {
    let tolerance = r
        .tolerance
        .ok_or_else(|| format!("numeric quiz item \"{name}\" needs a tolerance"))?;
    if !(tolerance >= 0.0 && tolerance.is_finite()) {
        return Err(format!(
            "quiz item \"{name}\": tolerance must be a number ≥ 0"
        ));
    }
    let explanation = r.explanation.unwrap_or_default();
    if explanation.trim().is_empty() {
        return Err(format!("numeric quiz item \"{name}\" needs an explanation"));
    }
    if r.answer.is_some() || r.explanations.is_some_and(|e| !e.is_empty()) {
        return Err(format!(
            "quiz item \"{name}\" is numeric: its answer is measured, so it takes no answer or \
             explanations"
        ));
    }
    Ok(ItemKind::Numeric {
        figure,
        run: r.run,
        tolerance,
        explanation: explanation.trim().to_string(),
        settings: r.settings.map(Box::new),
    })
}

/// The first words of a prompt, for messages.
fn short(prompt: &str) -> String {
    let words: Vec<&str> = prompt.split_whitespace().take(8).collect();
    let mut s = words.join(" ");
    if prompt.split_whitespace().count() > 8 {
        s.push('…');
    }
    s
}

/// A question folder's settings file (`bank.toml`) as written.
#[derive(Default, Deserialize)]
struct RawFolder {
    replace: Option<bool>,
}

/// Reads a question folder's settings file: whether `--questions` should replace the
/// built-in bank (`replace = true`) instead of extending it. Problems go to `problems`, at
/// `path:line:column`; a file with any problem reads as `false`.
pub(crate) fn folder_settings(path: &str, text: &str, problems: &mut Vec<String>) -> bool {
    let before = problems.len();
    let mut p = Problems::new(path, text, problems);
    let Some(doc) = parse(text, &mut p) else {
        return false;
    };
    let (raw, mut t) = read::<RawFolder>(doc.into_inner(), 0, "");
    let replace = t.get(raw.replace, "replace", &mut p).map(|(r, _)| r);
    t.finish(&[], &mut p);
    p.list.len() == before && replace.unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    thread_local! {
        /// The line index's work on this thread: positions looked up, and bytes counted
        /// from a mark to reach them.
        pub(super) static WORK: std::cell::Cell<(usize, usize)> =
            const { std::cell::Cell::new((0, 0)) };
    }

    /// Loads `text` and returns the line index's work: (lookups, bytes counted), and the
    /// number of problems.
    fn work_of(text: &str) -> (usize, usize, usize) {
        WORK.with(|w| w.set((0, 0)));
        let mut problems = Vec::new();
        let _ = question("big.toml", text, 1 << 32, &mut problems);
        let (lookups, counted) = WORK.with(|w| w.get());
        (lookups, counted, problems.len())
    }

    /// A file of `n` unknown keys and `n` quiz items with an unknown key each: every one a
    /// problem with a position, near 1 MiB at the larger size.
    fn hostile(n: usize) -> String {
        let mut text = String::new();
        for i in 0..n {
            text.push_str(&format!("unknown_key_{i:06} = \"value\"\n"));
        }
        for i in 0..n {
            text.push_str(&format!("[[quiz]]\nprompt = \"p{i}\"\nbogus = 1\n"));
        }
        text
    }

    /// Catches: positions found by rescanning the text from byte 0 (or from any point that
    /// does not move with the position), which made a 878 KB file of 60,000 unknown keys
    /// load in 83 s. Work is counted, not timed: twice the file is at most about twice the
    /// lookups and twice the bytes counted, and no lookup counts more than a stride.
    #[test]
    fn positions_cost_work_linear_in_the_file() {
        let (small, large) = (hostile(7_000), hostile(14_000));
        assert!(
            large.len() > 900_000 && large.len() < 1 << 20,
            "{}",
            large.len()
        );
        let (l1, c1, p1) = work_of(&small);
        let (l2, c2, p2) = work_of(&large);
        assert!(p1 >= 12_000 && p2 >= 24_000, "{p1} {p2}");
        assert!(l2 <= 2 * l1 + 16, "lookups {l1} → {l2}");
        assert!(l2 >= 24_000, "{l2}");
        assert!(
            c2 <= 2 * c1 + 2 * Lines::STRIDE,
            "bytes counted {c1} → {c2}"
        );
        assert!(c2 <= l2 * Lines::STRIDE, "{c2} bytes for {l2} lookups");
    }

    #[test]
    fn line_and_column_count_characters() {
        let text = "a = 1\nβγ = 2\n";
        let lines = Lines::new(text);
        assert_eq!(lines.line_col(0), (1, 1));
        assert_eq!(lines.line_col(6), (2, 1));
        // Byte 11 is after "βγ " (two 2-byte characters and a space): column 4.
        assert_eq!(lines.line_col(11), (2, 4));
        assert_eq!(lines.line_col(999), (3, 1));
    }

    #[test]
    fn positions_past_a_stride_count_from_the_nearest_mark() {
        // A long line of 2-byte characters, and a second line: every position agrees with
        // counting from the start.
        let text = format!("{}\n{}", "é".repeat(700), "ab".repeat(300));
        let lines = Lines::new(&text);
        for (offset, _) in text.char_indices() {
            let before = &text[..offset];
            let line = before.matches('\n').count() + 1;
            let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
            assert_eq!(lines.line_col(offset), (line, col), "offset {offset}");
        }
    }

    #[test]
    fn a_position_counts_at_most_a_stride_of_text() {
        // A file of ~1 MiB: 40,000 short lines of keys, then one line of 100,000 2-byte
        // characters. Each position starts from a mark at most a stride back, so a file of n
        // problems costs n binary searches and n strides: linear, where counting from byte
        // 0 for each (83 s for 60,000 unknown keys) was quadratic.
        let keys: String = (0..40_000)
            .map(|i| format!("unknown_key_{i} = {i}\n"))
            .collect();
        let text = format!("{keys}x = \"{}\"", "é".repeat(100_000));
        assert!(text.len() > 1 << 20);
        let lines = Lines::new(&text);
        for (offset, _) in text.char_indices() {
            let m = lines.mark(offset);
            assert!(
                m.byte <= offset && offset - m.byte <= Lines::STRIDE,
                "{offset}"
            );
        }
        assert_eq!(lines.line_col(text.len()), (40_001, 100_007));
    }

    #[test]
    fn raw_types_list_their_keys() {
        let keys = keys_of::<RawHead>();
        assert_eq!(keys[0], "format_version");
        assert_eq!(keys.len(), 7);
        assert_eq!(keys_of::<Settings>()[0], "depth");
    }
}
