//! Reading question files: the text is parsed once into a table that keeps every key's
//! position, then each key is read into its final type, checking the file's rules as it
//! goes. Every problem is collected with `path:line[:column]`; nothing stops at the first.

use super::format::{
    Claim, Claimed, CodeBlock, FORMAT_VERSION, ItemKind, Preset, Question, QuizItem, TrainPreset,
    parse_choice, placeholders, placeholders_of,
};
use crate::experiments;
use crate::format::escape;
use crate::report::Figure;
use crate::settings::Settings;
use crate::train::TrainFigure;
use crate::train::settings::TrainSettings;
use clap::ValueEnum;
use serde::de::DeserializeOwned;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

/// Where problems go: the file's path and text, to turn byte offsets into lines.
pub struct Problems<'a> {
    path: &'a str,
    text: &'a str,
    pub list: &'a mut Vec<String>,
}

impl Problems<'_> {
    /// `path:line:column: msg`; a message quoting long input is cut to a few hundred
    /// characters, control characters escaped.
    fn at(&mut self, offset: usize, msg: impl std::fmt::Display) {
        let (line, col) = line_col(self.text, offset);
        let msg = escape(&msg.to_string(), 400);
        self.list.push(format!("{}:{line}:{col}: {msg}", self.path));
    }

    /// A deserialization error, at its own position when it has one, else at `fallback`.
    fn toml(&mut self, e: &toml::de::Error, fallback: usize, context: &str) {
        let at = e.span().map_or(fallback, |s| s.start);
        self.at(at, format_args!("{context}{}", e.message().trim()));
    }
}

/// `path:line:column` of byte `offset` of `text`.
fn place(path: &str, text: &str, offset: usize) -> String {
    let (line, col) = line_col(text, offset);
    format!("{path}:{line}:{col}")
}

/// 1-based line and column (in characters) of a byte offset.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

type Entry<'i> = (Spanned<std::borrow::Cow<'i, str>>, Spanned<DeValue<'i>>);

/// A table read key by key: each key taken is removed, so what is left is unknown.
struct Fields<'i> {
    entries: Vec<Entry<'i>>,
    /// Where the table starts, for a missing key.
    start: usize,
    /// How messages name the table: `""` for the top level, `"in [experiment]: "`.
    context: &'static str,
}

impl<'i> Fields<'i> {
    fn new(table: DeTable<'i>, start: usize, context: &'static str) -> Self {
        Fields {
            entries: table.into_iter().collect(),
            start,
            context,
        }
    }

    /// The key's entry, removed from the table.
    fn take(&mut self, key: &str) -> Option<Entry<'i>> {
        let i = self.entries.iter().position(|(k, _)| k.get_ref() == key)?;
        Some(self.entries.remove(i))
    }

    /// The key's value as `T` and the key's offset; a problem if it does not read as `T`.
    fn get<T: DeserializeOwned>(&mut self, key: &str, p: &mut Problems) -> Option<(T, usize)> {
        let (k, v) = self.take(key)?;
        let at = k.span().start;
        match T::deserialize(toml::de::ValueDeserializer::from(v)) {
            Ok(t) => Some((t, at)),
            Err(e) => {
                p.toml(&e, at, self.context);
                None
            }
        }
    }

    /// As [`Fields::get`], and a problem if the key is missing.
    fn need<T: DeserializeOwned>(&mut self, key: &str, p: &mut Problems) -> Option<(T, usize)> {
        if !self.entries.iter().any(|(k, _)| k.get_ref() == key) {
            p.at(
                self.start,
                format_args!("{}missing field `{key}`", self.context),
            );
            return None;
        }
        self.get(key, p)
    }

    /// Reports every key left: each table reader takes every key it knows first.
    fn finish(self, known: &[&str], p: &mut Problems) {
        self.unknown(&[], known, p);
    }

    /// Reports every key left that is not one of `known`, suggesting the nearest of `own`
    /// and `known` and listing them all.
    fn unknown(&self, own: &[&str], known: &[&str], p: &mut Problems) -> bool {
        let all: Vec<&str> = own.iter().chain(known).copied().collect();
        let mut found = false;
        for (k, _) in self
            .entries
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

    /// What is left, as a settings struct whose keys are `known` (after `own`, the table's
    /// other keys, already taken). Every unknown key and every bad value is reported, each
    /// at its own position.
    fn into_settings<T: DeserializeOwned>(
        self,
        own: &[&str],
        known: &[&str],
        p: &mut Problems,
    ) -> Option<T> {
        let mut ok = !self.unknown(own, known, p);
        let read = |entries: Vec<Entry<'i>>| {
            let table: DeTable<'i> = entries.into_iter().collect();
            T::deserialize(toml::de::Deserializer::from(Spanned::new(
                self.start..self.start,
                table,
            )))
        };
        let mut good = Vec::new();
        for (k, v) in self.entries.iter().cloned() {
            if !known.contains(&k.get_ref().as_ref()) {
                continue;
            }
            match read(vec![(k.clone(), v.clone())]) {
                Ok(_) => good.push((k, v)),
                Err(e) => {
                    p.toml(&e, k.span().start, self.context);
                    ok = false;
                }
            }
        }
        match read(good) {
            Ok(t) if ok => Some(t),
            Ok(_) => None,
            Err(e) => {
                p.toml(&e, self.start, self.context);
                None
            }
        }
    }
}

/// Reports every key and string that holds a control character other than a newline or a
/// tab: escape sequences in a bank would otherwise reach the student's terminal raw.
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
        if let Some(c) = bad(k.get_ref()) {
            p.at(
                k.span().start,
                format_args!("a key holds the control character U+{:04X}", c as u32),
            );
        }
        value(v, p);
    }
}

/// The closest of `candidates` to `word`, if any is close.
pub fn did_you_mean<'a>(word: &str, candidates: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .map(|c| (strsim::jaro_winkler(c, word), c))
        .filter(|(s, _)| *s > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

/// The value of a key as a table, with where it starts; a problem if it is not one.
fn table<'i>(
    (key, value): Entry<'i>,
    context: &'static str,
    p: &mut Problems,
) -> Option<Fields<'i>> {
    let start = key.span().start;
    match value.into_inner() {
        DeValue::Table(t) => Some(Fields::new(t, start, context)),
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

const QUESTION_KEYS: &[&str] = &[
    "format_version",
    "id",
    "slug",
    "title",
    "question",
    "answer",
    "key_points",
    "code",
    "experiment",
    "train",
    "quiz",
    "claim",
];

/// Reads one question file; `None` if it has any problem (each one added to `problems`).
pub fn question(
    path: &str,
    text: &str,
    max_bytes: u64,
    problems: &mut Vec<String>,
) -> Option<Question> {
    let before = problems.len();
    let mut p = Problems {
        path,
        text,
        list: problems,
    };
    let doc = parse(text, &mut p)?;
    controls(doc.get_ref(), &mut p);
    let mut f = Fields::new(doc.into_inner(), 0, "");
    let head = head(&mut f, &mut p);
    let Sections {
        code,
        experiment,
        train,
        quiz,
        claims,
    } = sections(&mut f, max_bytes, &mut p);
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
    f.finish(QUESTION_KEYS, &mut p);
    if p.list.len() > before {
        return None;
    }
    let head = head?;
    Some(Question {
        id: head.id,
        slug: head.slug,
        title: head.title,
        question: head.question,
        answer: head.answer,
        key_points: head.key_points,
        code: code.into_iter().collect::<Option<_>>()?,
        experiment: experiment?.preset,
        train: train.map(|t| t.ok_or(())).transpose().ok()?,
        quiz: quiz.into_iter().collect::<Option<_>>()?,
        claims: claims.into_iter().collect::<Option<_>>()?,
        source: path.to_string(),
        id_at: place(path, text, head.id_at),
        slug_at: place(path, text, head.slug_at),
    })
}

/// The tables of a question file, each read as far as it goes (`None` where it failed).
struct Sections {
    code: Vec<Option<CodeBlock>>,
    experiment: Option<PresetRead>,
    train: Option<Option<TrainPreset>>,
    quiz: Vec<Option<QuizItem>>,
    claims: Vec<Option<Claim>>,
}

/// Reads `[[code]]`, `[experiment]`, `[train]`, `[[quiz]]` and `[[claim]]`.
fn sections(f: &mut Fields<'_>, max_bytes: u64, p: &mut Problems) -> Sections {
    let code = f
        .take("code")
        .map(|e| code_blocks(e, p))
        .unwrap_or_default();
    let experiment = match f.take("experiment") {
        Some(e) => table(e, "in [experiment]: ", p).and_then(|t| preset(t, max_bytes, p)),
        None => {
            p.at(0, "missing field `experiment`");
            None
        }
    };
    let train = f
        .take("train")
        .map(|e| table(e, "in [train]: ", p).and_then(|t| train_preset(t, max_bytes, p)));
    let quiz: Vec<Option<QuizItem>> = f
        .take("quiz")
        .map(|e| tables(e, p))
        .unwrap_or_default()
        .into_iter()
        .map(|(t, at)| {
            let fields = Fields::new(t, at, "in [[quiz]]: ");
            quiz_item(fields, experiment.as_ref(), max_bytes, p)
        })
        .collect();
    let claims: Vec<Option<Claim>> = f
        .take("claim")
        .map(|e| tables(e, p))
        .unwrap_or_default()
        .into_iter()
        .map(|(t, at)| {
            let fields = Fields::new(t, at, "in [[claim]]: ");
            let train = train.as_ref().and_then(|t| t.as_ref());
            claim(fields, experiment.as_ref(), train, max_bytes, p)
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

/// The question's own keys: format version, id, slug, and its texts.
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

/// Reads and checks the question's own keys; `None` if any is missing or wrong.
fn head(f: &mut Fields<'_>, p: &mut Problems) -> Option<Head> {
    let version = f.need::<u32>("format_version", p);
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
    let id = f.need::<u32>("id", p);
    if let Some((0, at)) = id {
        p.at(at, "id must be a positive whole number");
    }
    let slug = f.need::<String>("slug", p);
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
    }
    let text_field = |f: &mut Fields, key: &str, p: &mut Problems| {
        let v = f.need::<String>(key, p);
        if let Some((s, at)) = &v
            && s.trim().is_empty()
        {
            p.at(*at, format_args!("{key} is empty"));
        }
        v
    };
    let title = text_field(f, "title", p).map(|v| v.0);
    let question_text = text_field(f, "question", p).map(|v| v.0);
    let answer = text_field(f, "answer", p);
    let key_points = f.need::<Vec<String>>("key_points", p);
    if let Some((k, at)) = &key_points
        && (k.is_empty() || k.iter().any(|k| k.trim().is_empty()))
    {
        p.at(
            *at,
            "key_points needs at least one point, and no empty ones",
        );
    }
    let (id, id_at) = id?;
    let (slug, slug_at) = slug?;
    Some(Head {
        id,
        slug,
        id_at,
        slug_at,
        title: title?,
        question: question_text?,
        answer: answer.as_ref()?.0.clone(),
        answer_at: answer?.1,
        key_points_at: key_points.as_ref()?.1,
        key_points: key_points?.0,
    })
}

fn code_blocks(entry: Entry<'_>, p: &mut Problems) -> Vec<Option<CodeBlock>> {
    tables(entry, p)
        .into_iter()
        .map(|(t, at)| {
            let mut f = Fields::new(t, at, "in [[code]]: ");
            let caption = f.need::<String>("caption", p);
            let language = f.need::<String>("language", p);
            let source = f.need::<String>("source", p);
            f.finish(&["caption", "language", "source"], p);
            let (caption, language, source) = (caption?, language?, source?);
            if source.0.trim().is_empty() || caption.0.trim().is_empty() {
                p.at(
                    caption.1,
                    "every [[code]] block needs a caption and a non-empty source",
                );
                return None;
            }
            Some(CodeBlock {
                caption: caption.0,
                language: language.0,
                source: source.0,
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

/// `[experiment]`: the demo's name and takeaway, then its settings; the preset must run.
fn preset(mut f: Fields<'_>, max_bytes: u64, p: &mut Problems) -> Option<PresetRead> {
    let demo = f.need::<String>("demo", p);
    let takeaway = f.need::<String>("takeaway", p);
    let settings = f.into_settings::<Settings>(&["demo", "takeaway"], &Settings::keys(), p);
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

/// `{name}` names no figure of kind `F` (`what`: "a figure"): the problem, with the nearest
/// name and the list.
fn not_a_figure<F: ValueEnum + std::fmt::Display>(
    name: &str,
    what: &str,
    at: usize,
    p: &mut Problems,
) {
    let names: Vec<String> = F::value_variants().iter().map(|f| f.to_string()).collect();
    let hint = did_you_mean(name, names.iter().map(String::as_str))
        .map(|n| format!("; did you mean {{{n}}}?"))
        .unwrap_or_default();
    p.at(
        at,
        format_args!(
            "{{{}}} is not {what}{hint} (figures: {})",
            escape(name, 40),
            names.join(", ")
        ),
    );
}

const CLAIM_KEYS: &[&str] = &["figure", "run", "min", "max", "settings", "text"];

/// One `[[claim]]`: a figure of a run, the range it must fall in and the sentence it backs;
/// the run must exist and be able to have the figure.
fn claim(
    mut f: Fields<'_>,
    experiment: Option<&PresetRead>,
    train: Option<&TrainPreset>,
    max_bytes: u64,
    p: &mut Problems,
) -> Option<Claim> {
    let at = f.start;
    let figure = f.need::<Claimed>("figure", p);
    let run = f.get::<String>("run", p).map(|v| v.0);
    let min = f.need::<f64>("min", p);
    let max = f.need::<f64>("max", p);
    let settings = f.get::<Settings>("settings", p);
    let text = f.need::<String>("text", p);
    f.finish(CLAIM_KEYS, p);
    let (figure, (min, _), (max, _), (text, text_at)) = (figure?.0, min?, max?, text?);
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
    let claim = Claim {
        figure,
        run,
        min,
        max,
        settings: settings.as_ref().map(|s| s.0.clone()),
        text,
        at: line_col(p.text, at),
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
            if let Some((_, s_at)) = settings {
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
    Some(claim)
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

/// `[train]`: the takeaway, then `train` settings; the comparison must be able to run.
fn train_preset(mut f: Fields<'_>, max_bytes: u64, p: &mut Problems) -> Option<TrainPreset> {
    let start = f.start;
    let takeaway = f.need::<String>("takeaway", p);
    let keys = TrainSettings::keys();
    let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
    let settings = f.into_settings::<TrainSettings>(&["takeaway"], &keys, p)?;
    let (takeaway, takeaway_at) = takeaway?;
    if takeaway.trim().is_empty() {
        p.at(start, "the [train] takeaway is empty");
    }
    if let Err(e) = settings.config().and_then(|c| c.check(max_bytes)) {
        p.at(start, format_args!("the [train] preset cannot run: {e}"));
    }
    let preset = TrainPreset { takeaway, settings };
    train_fills(&preset, takeaway_at, p);
    Some(preset)
}

const ITEM_KEYS: &[&str] = &[
    "prompt",
    "choices",
    "answer",
    "explanations",
    "figure",
    "run",
    "tolerance",
    "explanation",
    "settings",
];

/// One `[[quiz]]` entry: multiple choice or numeric, complete, and (numeric) runnable.
fn quiz_item(
    mut f: Fields<'_>,
    experiment: Option<&PresetRead>,
    max_bytes: u64,
    p: &mut Problems,
) -> Option<QuizItem> {
    let (prompt, at) = f.need::<String>("prompt", p).unwrap_or_default();
    let line = line_col(p.text, at).0;
    let choices = f.get::<Vec<String>>("choices", p).map(|v| v.0);
    let answer = f.get::<String>("answer", p).map(|v| v.0);
    let explanations = f.get::<Vec<String>>("explanations", p).map(|v| v.0);
    let figure = f.get::<Figure>("figure", p).map(|v| v.0);
    let run = f.get::<String>("run", p).map(|v| v.0);
    let tolerance = f.get::<f64>("tolerance", p).map(|v| v.0);
    let explanation = f.get::<String>("explanation", p).map(|v| v.0);
    let settings = f.get::<Settings>("settings", p).map(|v| v.0);
    f.finish(ITEM_KEYS, p);
    let fields = RawItem {
        prompt: &prompt,
        choices,
        answer,
        explanations,
        figure,
        run,
        tolerance,
        explanation,
        settings,
    };
    let kind = match ItemKind::try_from(fields) {
        Ok(kind) => kind,
        Err(e) => {
            p.at(at, e);
            return None;
        }
    };
    let item = QuizItem { prompt, line, kind };
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
    Some(item)
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

/// A quiz entry's keys as written, before its kind is known.
struct RawItem<'a> {
    prompt: &'a str,
    choices: Option<Vec<String>>,
    answer: Option<String>,
    explanations: Option<Vec<String>>,
    figure: Option<Figure>,
    run: Option<String>,
    tolerance: Option<f64>,
    explanation: Option<String>,
    settings: Option<Settings>,
}

impl TryFrom<RawItem<'_>> for ItemKind {
    type Error = String;

    /// Either `choices` (with `answer` and one explanation per choice) or `figure` (with
    /// `tolerance` and `explanation`), complete and nothing of the other kind.
    fn try_from(r: RawItem<'_>) -> Result<Self, String> {
        let name = short(r.prompt);
        if r.prompt.trim().is_empty() {
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
}

/// A multiple-choice item: 2–6 choices, each explained, and an answer among them.
fn choice(r: RawItem<'_>, name: &str) -> Result<ItemKind, String> {
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
fn numeric(r: RawItem<'_>, figure: Figure, name: &str) -> Result<ItemKind, String> {
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

/// The keys of a question folder's settings file (`bank.toml`).
const SETTINGS_KEYS: &[&str] = &["replace"];

/// Reads a question folder's settings file: whether `--questions` should replace the
/// built-in bank (`replace = true`) instead of extending it. Problems go to `problems`, at
/// `path:line:column`; a file with any problem reads as `false`.
pub fn folder_settings(path: &str, text: &str, problems: &mut Vec<String>) -> bool {
    let before = problems.len();
    let mut p = Problems {
        path,
        text,
        list: problems,
    };
    let Some(doc) = parse(text, &mut p) else {
        return false;
    };
    let mut f = Fields::new(doc.into_inner(), 0, "");
    let replace = f.get::<bool>("replace", &mut p).map(|(r, _)| r);
    f.finish(SETTINGS_KEYS, &mut p);
    p.list.len() == before && replace.unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_and_column_count_characters() {
        let text = "a = 1\nβγ = 2\n";
        assert_eq!(line_col(text, 0), (1, 1));
        assert_eq!(line_col(text, 6), (2, 1));
        // Byte 10 is after "βγ " (two 2-byte characters and a space): column 4.
        assert_eq!(line_col(text, 11), (2, 4));
        assert_eq!(line_col(text, 999), (3, 1));
    }

    #[test]
    fn suggestions_only_when_close() {
        let known = ["depth", "width", "batch"];
        assert_eq!(did_you_mean("dpeth", known.iter().copied()), Some("depth"));
        assert_eq!(did_you_mean("zzz", known.iter().copied()), None);
    }
}
