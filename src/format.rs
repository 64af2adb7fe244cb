//! Numbers as gradtutor prints them: one place for every table, verdict and message, so that
//! a figure reads the same wherever it appears.
//!
//! Sizes stay hand-written (here [`human_bytes`], and `cli::parse_bytes` for
//! `--max-memory`) rather than `bytesize`: it counts in u64 where a refused network's need is
//! a u128 that can pass 16 EiB, and it reads `4GB` and `4G` as 4·10⁹ bytes where
//! `--max-memory` has always read them as 4 GiB, so the same flag would allow a different
//! network. Its output for sizes up to EiB would match; the code it saves is ten lines.

/// A value as given on the command line or in a file, echoed in a header or a message: as
/// Rust writes it (`0.01`, `-3`, `250`) from 10⁻⁴ to 10⁶, else in exponent form (`1e308`,
/// `-2.5e-320`), both the shortest form that reads back as the same f64: no echo runs to
/// 300 digits. The one formatter for echoed values.
pub(crate) fn echo(v: f64) -> String {
    let a = v.abs();
    if v == 0.0 || !v.is_finite() || (1e-4..1e6).contains(&a) {
        format!("{v}")
    } else {
        format!("{v:e}")
    }
}

/// `3.1e-14`, `0`, `inf`, `NaN`: one significant decimal, for tables.
pub(crate) fn sci(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v.is_infinite() {
        if v > 0.0 { "inf".into() } else { "-inf".into() }
    } else if v == 0.0 {
        "0".into()
    } else {
        format!("{v:.1e}")
    }
}

/// A figure in prose: as [`sci`], with an ASCII minus so that it pastes into Python or a
/// spreadsheet (formulas keep their U+2212).
pub(crate) fn pretty(v: f64) -> String {
    sci(v)
}

/// `10⁻¹⁴`: the power of ten 10^`exp`, with superscript digits and a real minus sign, for
/// the decade labels of a log axis.
pub(crate) fn power_of_ten(exp: i64) -> String {
    const DIGITS: [char; 10] = ['⁰', '¹', '²', '³', '⁴', '⁵', '⁶', '⁷', '⁸', '⁹'];
    let mut out = String::from("10");
    if exp < 0 {
        out.push('⁻');
    }
    for d in exp.unsigned_abs().to_string().bytes() {
        out.push(DIGITS[usize::from(d - b'0')]);
    }
    out
}

/// `2×10⁻³`: `m` times a power of ten, for the labels between two decades.
pub(crate) fn times_power_of_ten(m: u32, exp: i64) -> String {
    format!("{m}×{}", power_of_ten(exp))
}

/// A value of moderate size: `0.207`, `12.3`, or scientific when tiny or huge.
pub(crate) fn num(v: f64) -> String {
    let a = v.abs();
    if !v.is_finite() || (a != 0.0 && !(1e-3..1e4).contains(&a)) {
        sci(v)
    } else {
        format!("{v:.3}")
    }
}

/// A change in orders of magnitude with its sign, `+1.3`, or `·` where there is none.
pub(crate) fn orders(o: Option<f64>) -> String {
    o.map_or("·".into(), |o| format!("{o:+.1}"))
}

/// `lo–hi` in prose figures, or one figure when both print the same.
pub(crate) fn range(lo: f64, hi: f64) -> String {
    let (a, b) = (pretty(lo), pretty(hi));
    if a == b { a } else { format!("{a}–{b}") }
}

/// A fraction as a whole percentage: `0.125` → `13%`.
/// A learning rate on a grid of powers of two, exactly when that is short (`0.015625`, `2`),
/// else as [`figure`] shows it.
pub(crate) fn rate(v: f64) -> String {
    let exact = format!("{v}");
    match exact.len() <= 9 {
        true => exact,
        false => figure(v),
    }
}

pub(crate) fn percent(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else {
        format!("{:.0}%", 100.0 * v)
    }
}

/// A measured figure as shown to students: three significant digits, whole numbers plain.
pub fn figure(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{v:.0}")
    } else if v.abs() >= 0.01 && v.abs() < 1e5 {
        let digits = (2 - libm::log10(v.abs()).floor() as i32).max(0) as usize;
        format!("{v:.digits$}")
    } else {
        format!("{v:.2e}")
    }
}

/// A share as a percentage with at most one decimal, without the sign: `0.625` → `62.5`,
/// `2/3` → `66.7`, `1` → `100` (a whole-number rounding showed 5 of 8 as 62 %).
pub(crate) fn share(v: f64) -> String {
    let p = (1000.0 * v).round() / 10.0;
    if p.fract() == 0.0 {
        format!("{p:.0}")
    } else {
        format!("{p:.1}")
    }
}

/// `3`, `1–17`, or `1–3, 7` for a sorted list of whole numbers.
pub(crate) fn span_of(values: &[usize]) -> String {
    let mut parts = Vec::new();
    let mut i = 0;
    while i < values.len() {
        let start = values[i];
        let mut end = start;
        while i + 1 < values.len() && values[i + 1] == end + 1 {
            i += 1;
            end = values[i];
        }
        parts.push(if start == end {
            start.to_string()
        } else {
            format!("{start}–{end}")
        });
        i += 1;
    }
    parts.join(", ")
}

/// `1.5 GiB`, `640.0 MiB`, `12 B`.
pub(crate) fn human_bytes(n: u128) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1024.0 && u + 1 < units.len() {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{n} B")
    } else if v >= 1e6 {
        format!("{v:.2e} {}", units[u])
    } else {
        format!("{v:.1} {}", units[u])
    }
}

/// `200960` → `200,960`.
pub(crate) fn thousands(n: usize) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// At most `n` characters of `text`, the last one `…` when it was cut.
pub(crate) fn truncate(text: &str, n: usize) -> String {
    if text.chars().count() > n {
        text.chars().take(n - 1).chain(['…']).collect()
    } else {
        text.to_string()
    }
}

/// `1 question`, `3 questions`: a count with its noun, plural unless the count is 1.
pub(crate) fn count(n: usize, singular: &str, plural: &str) -> String {
    format!("{n} {}", if n == 1 { singular } else { plural })
}

/// Text from input, safe to print: control characters (escape sequences, bells, newlines)
/// shown as `\u{1b}`, and at most `max` characters kept (then `…`). The one escaper for the
/// terminal and plain-text output; HTML and SVG have their own (`render::escape`), which
/// must also escape markup and may keep newlines and tabs.
pub(crate) fn escape(text: &str, max: usize) -> String {
    let mut out = String::new();
    for (i, c) in text.chars().enumerate() {
        if i == max {
            out.push('…');
            break;
        }
        if c.is_control() || is_bidi(c) {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// The bidirectional controls (U+202A–202E embeddings and overrides, U+2066–2069 isolates,
/// U+200E/200F marks, U+061C the Arabic letter mark): invisible characters that reorder the
/// text around them, so that a name can print as another, or text as its reverse.
pub(crate) fn is_bidi(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}')
}

/// How many characters of an argument or an answer a message quotes: longer ones are cut to
/// this, the last one `…`.
pub(crate) const ECHO: usize = 80;

/// `text` (a message that may quote the arguments `args`) with every argument longer than
/// [`ECHO`] characters shortened where it is quoted, then escaped as [`escape_lines`].
pub(crate) fn shorten_echoes<'a>(text: &str, args: impl IntoIterator<Item = &'a str>) -> String {
    let mut text = text.to_string();
    for a in args {
        if a.chars().count() > ECHO {
            text = text.replace(a, &truncate(a, ECHO));
        }
    }
    escape_lines(&text)
}

/// Text that came from outside the program (a file's contents, a path, a student's name, a
/// progress record) on its way to output. It prints only through its `Display`, which escapes
/// control and bidi characters as [`escape`] does and keeps at most `max` characters; there
/// is no other way to the text as read. A site that formats one cannot forget
/// to escape it: escaping is the boundary's, not each call site's.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Foreign {
    text: String,
    max: usize,
}

impl Foreign {
    /// `text` as read, printed whole (escaped).
    pub(crate) fn new(text: impl Into<String>) -> Self {
        Foreign {
            text: text.into(),
            max: usize::MAX,
        }
    }

    /// A path as given.
    pub(crate) fn path(p: &std::path::Path) -> Self {
        Foreign::new(p.display().to_string())
    }

    /// The same text, printed with at most `max` characters (then `…`).
    pub(crate) fn short(self, max: usize) -> Self {
        Foreign { max, ..self }
    }
}

impl std::fmt::Display for Foreign {
    /// Escaped, and padded or aligned as the format asks (`{:<12}`).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(&escape(&self.text, self.max))
    }
}

/// A message of several lines, safe to print: as [`escape`], keeping its newlines.
pub fn escape_lines(text: &str) -> String {
    let lines: Vec<String> = text.split('\n').map(|l| escape(l, usize::MAX)).collect();
    lines.join("\n")
}

/// A path as messages show it: control characters escaped, so a name cannot forge a line.
pub(crate) fn escape_path(p: &std::path::Path) -> String {
    Foreign::path(p).to_string()
}

/// The closest of `candidates` to `word`, if any is close enough to suggest: Jaro–Winkler
/// similarity above 0.8 (1 is equal; a swapped pair of letters in a short word scores about
/// 0.9, an unrelated word of the same length under 0.6).
pub(crate) fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(c, word), c))
        .filter(|(s, _)| *s > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

/// " (did you mean X?)" (or "X or Y") for a mistyped name among `names`: the names it begins
/// (`he` → he-normal, he-uniform), else the closest one ([`did_you_mean`]); empty when none
/// is close. Names are compared without a parameter (`normal:STD` as `normal`).
pub(crate) fn suggest(word: &str, names: &[&str]) -> String {
    let word = word.to_ascii_lowercase();
    let bare: Vec<&str> = names
        .iter()
        .map(|n| n.split([':', '[']).next().unwrap_or(n))
        .collect();
    let begun: Vec<&str> = bare
        .iter()
        .copied()
        .filter(|n| word.len() >= 2 && n.starts_with(&word) && *n != word)
        .collect();
    let picks = match begun.as_slice() {
        [] => did_you_mean(&word, bare.iter().copied())
            .into_iter()
            .collect(),
        [..] if begun.len() <= 3 => begun,
        _ => Vec::new(),
    };
    match picks.as_slice() {
        [] => String::new(),
        [one] => format!(" (did you mean {one}?)"),
        [init @ .., last] => format!(" (did you mean {} or {last}?)", init.join(", ")),
    }
}

/// A clap error as the CLI prints it, escaped, without its `error: ` and the closing line
/// that points to `--help`: how the live lab gives the CLI's own message.
pub(crate) fn clap_message(e: &clap::Error) -> String {
    let text = escape_lines(&e.render().to_string());
    let text = text.strip_prefix("error: ").unwrap_or(&text);
    let text = text.trim_end();
    text.strip_suffix("For more information, try '--help'.")
        .unwrap_or(text)
        .trim_end()
        .to_string()
}

/// Seconds as a message gives them: whole ones from 10 to a day's worth (`1600`), one
/// decimal from 0.1 (`2.5`), and a power of ten past either end (`3.2e9`, `1.0e−3`).
pub(crate) fn seconds(x: f64) -> String {
    match x {
        x if (10.0..1e5).contains(&x) => format!("{x:.0}"),
        x if (0.1..10.0).contains(&x) => format!("{x:.1}"),
        x => pretty(x),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sci_and_pretty() {
        assert_eq!(sci(3.14e-14), "3.1e-14");
        assert_eq!(sci(0.0), "0");
        assert_eq!(sci(f64::INFINITY), "inf");
        assert_eq!(sci(f64::NEG_INFINITY), "-inf");
        assert_eq!(sci(f64::NAN), "NaN");
        assert_eq!(pretty(5.3e-13), "5.3e-13");
        assert_eq!(orders(Some(-12.34)), "-12.3");
        assert_eq!(orders(Some(0.04)), "+0.0");
        assert_eq!(orders(None), "·");
        assert_eq!(range(6.41e-9, 6.44e-9), "6.4e-9");
        assert_eq!(range(5.1e-4, 2.0e-2), "5.1e-4–2.0e-2");
    }

    #[test]
    fn powers_of_ten_have_superscript_exponents() {
        assert_eq!(power_of_ten(-14), "10⁻¹⁴");
        assert_eq!(power_of_ten(0), "10⁰");
        assert_eq!(power_of_ten(308), "10³⁰⁸");
        assert_eq!(power_of_ten(i64::MIN), "10⁻⁹²²³³⁷²⁰³⁶⁸⁵⁴⁷⁷⁵⁸⁰⁸");
        assert_eq!(times_power_of_ten(2, -3), "2×10⁻³");
    }

    #[test]
    fn num_switches_to_scientific_outside_a_thousandth_to_ten_thousand() {
        assert_eq!(num(0.2068), "0.207");
        assert_eq!(num(0.0), "0.000");
        assert_eq!(num(9999.0), "9999.000");
        assert_eq!(num(1e4), "1.0e4");
        assert_eq!(num(9e-4), "9.0e-4");
    }

    #[test]
    fn figures_keep_three_significant_digits() {
        assert_eq!(figure(12.0), "12");
        assert_eq!(figure(12.345), "12.3");
        assert_eq!(figure(0.2384), "0.238");
        assert_eq!(figure(0.001234), "1.23e-3");
        assert_eq!(figure(-5.64), "-5.64");
    }

    #[test]
    fn escaping_neutralizes_control_characters_and_shortens() {
        assert_eq!(escape("a\x1b[31mb\nc", 100), "a\\u{1b}[31mb\\nc");
        assert_eq!(escape("abcdef", 3), "abc…");
        assert_eq!(escape("σ′ ≤ ¼", 100), "σ′ ≤ ¼");
        assert_eq!(escape_lines("a\x1b[2J\nb\tc\r"), "a\\u{1b}[2J\nb\\tc\\r");
    }

    /// Catches: an echoed value printed with 300 digits, or a value in the everyday range
    /// printed otherwise than before (headers keep their bytes).
    #[test]
    fn echoes_are_short_and_read_back_exactly() {
        assert_eq!(echo(1e308), "1e308");
        assert_eq!(echo(-1e308), "-1e308");
        assert_eq!(echo(5e-324), "5e-324");
        assert_eq!(echo(0.01), "0.01");
        assert_eq!(echo(0.25), "0.25");
        assert_eq!(echo(-3.0), "-3");
        assert_eq!(echo(65536.0), "65536");
        assert_eq!(echo(1e6), "1e6");
        assert_eq!(echo(0.0), "0");
        assert_eq!(echo(f64::NEG_INFINITY), "-inf");
        for v in [1e308, 1.234_567_890_123e-300, 0.1, 123_456.789, 7e-5] {
            assert_eq!(echo(v).parse::<f64>().unwrap().to_bits(), v.to_bits());
        }
    }

    /// Catches: text from input printed raw through its type, bidi controls kept, or
    /// padding lost.
    #[test]
    fn foreign_text_prints_escaped_and_padded() {
        let f = Foreign::new("a\x1b[2J\u{202e}b\n");
        assert_eq!(f.to_string(), "a\\u{1b}[2J\\u{202e}b\\n");
        assert_eq!(format!("{:<8}|", Foreign::new("ab")), "ab      |");
        assert_eq!(Foreign::new("abcdef").short(3).to_string(), "abc…");
        for c in [
            '\u{202a}', '\u{202e}', '\u{2066}', '\u{2069}', '\u{200e}', '\u{200f}', '\u{61c}',
        ] {
            assert!(is_bidi(c), "{c:?}");
        }
        assert!(!is_bidi('\u{2070}') && !is_bidi('a') && !is_bidi('\u{2029}'));
    }

    /// Catches: an argument echoed whole, or its control characters stripped.
    #[test]
    fn echoes_of_long_arguments_are_cut_and_escaped() {
        let long = "7".repeat(1000);
        let msg = format!("error: invalid value '{long}' for '--depth <N>'\nx\x1b");
        let out = shorten_echoes(&msg, [long.as_str()]);
        assert_eq!(
            out,
            format!(
                "error: invalid value '{}…' for '--depth <N>'\nx\\u{{1b}}",
                "7".repeat(79)
            )
        );
    }

    #[test]
    fn suggestions_only_when_close() {
        let known = ["depth", "width", "batch"];
        assert_eq!(did_you_mean("dpeth", known), Some("depth"));
        assert_eq!(did_you_mean("zzz", known), None);
        // A fragment of a long name scores below the threshold (0.765).
        assert_eq!(did_you_mean("he", ["he-initialization"]), None);
        assert_eq!(
            did_you_mean(
                "vanishing-gradient",
                ["vanishing-gradients", "gradient-health"]
            ),
            Some("vanishing-gradients")
        );
    }

    #[test]
    fn spans_join_runs() {
        assert_eq!(span_of(&[]), "");
        assert_eq!(span_of(&[3]), "3");
        assert_eq!(span_of(&[1, 2, 3, 7, 9, 10]), "1–3, 7, 9–10");
    }

    #[test]
    fn bytes_thousands_and_counts() {
        assert_eq!(human_bytes(12), "12 B");
        assert_eq!(human_bytes(1536), "1.5 KiB");
        assert_eq!(human_bytes(4 << 30), "4.0 GiB");
        assert_eq!(thousands(235_146), "235,146");
        assert_eq!(thousands(999), "999");
        assert_eq!(count(1, "question", "questions"), "1 question");
        assert_eq!(truncate("abcdef", 4), "abc…");
        assert_eq!(truncate("abcd", 4), "abcd");
        assert_eq!(count(0, "quiz", "quizzes"), "0 quizzes");
    }
}
