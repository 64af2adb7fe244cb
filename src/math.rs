//! Math in a question's text: LaTeX between `$…$`, written once and rendered twice, as MathML
//! for the HTML handout and as the bank's plain Unicode for the terminal and Markdown
//! (`$σ_w^2 · E[φ'(h)^2]$` → `σ_w² · E[φ′(h)²]`).
//!
//! The subset: letters, digits and operators as typed (Unicode symbols such as `σ`, `∂`, `‖`,
//! `⊙` are welcome), `{…}` groups, `x_i`, `x^2`, `x_{l+1}^{2}`, primes (`φ'`), Unicode super-
//! and subscripts as written (`β₁`, `eˣ`), `\frac{a}{b}`, `\sqrt{x}`, `\text{…}`,
//! `\operatorname{…}`, `\hat`/`\bar`/`\tilde`, the Greek letters and the common operators by
//! name (`\sigma`, `\cdot`, `\approx`, `\odot`, `\partial`, …). A run of ASCII letters is one
//! name (`Var`, `tanh`: upright in MathML when longer than a letter). Spaces are kept as written
//! in the Unicode form and left to MathML's own spacing in the typeset one. `\$` is a dollar
//! sign, in math or out; a `$` inside a `` `code` `` span opens nothing.
//!
//! The Unicode form: `x_i` → `x_i`, a longer subscript in parentheses (`h_{l+1}` → `h_(l+1)`);
//! a superscript of digits and signs in superscript digits (`10^{-6}` → `10⁻⁶`), `^T` as `ᵀ`,
//! `^x`/`^n`/`^i` as `ˣ`/`ⁿ`/`ⁱ`, any other in parentheses (`e^{-x}` → `e^(−x)`); `-` as `−`.
//!
//! Hand-written rather than taken from `latex2mathml` or `pulldown-latex`: the Unicode form has
//! to come from the same parse (no crate writes the bank's Unicode), and `check` has to refuse
//! exactly what the renderers cannot render, at the file's line and column; one parser of a
//! few hundred lines does all three, where a crate would add a second grammar that a formula
//! could pass and fail the other (pulldown-latex: 4 packages and its own error type without
//! positions; latex2mathml: 1 package, which writes no Unicode and accepts unknown commands
//! as text). It uses no other module of the crate but `format`.

use std::fmt::Write;

/// A piece of prose: text as written, a `\$` dollar sign, or the LaTeX between a pair of `$`
/// (`at`: its byte offset in the prose).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Piece<'a> {
    Text(&'a str),
    Dollar,
    Math { src: &'a str, at: usize },
}

/// A formula that does not parse: where (a byte offset into the prose) and what is wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Problem {
    pub at: usize,
    pub message: String,
}

fn problem(at: usize, message: impl Into<String>) -> Problem {
    Problem {
        at,
        message: message.into(),
    }
}

/// `text` cut into prose and math: `$…$` outside code spans, `\$` a dollar sign.
pub(crate) fn pieces(text: &str) -> Result<Vec<Piece<'_>>, Problem> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'`' => {
                // A code span: a run of n backticks up to the next run of exactly n.
                let run = bytes[i..].iter().take_while(|&&b| b == b'`').count();
                i = closing_ticks(bytes, i + run, run).map_or(i + run, |j| j + run);
            }
            b'\\' if bytes.get(i + 1) == Some(&b'$') => {
                if start < i {
                    out.push(Piece::Text(&text[start..i]));
                }
                out.push(Piece::Dollar);
                i += 2;
                start = i;
            }
            b'$' => {
                if start < i {
                    out.push(Piece::Text(&text[start..i]));
                }
                let open = i;
                let mut j = i + 1;
                while j < bytes.len() && bytes[j] != b'$' {
                    j += if bytes[j] == b'\\' { 2 } else { 1 };
                }
                if j >= bytes.len() {
                    return Err(problem(
                        open,
                        "this `$` opens a formula that no `$` closes (write `\\$` for a dollar sign)",
                    ));
                }
                let src = &text[open + 1..j];
                if src.trim().is_empty() {
                    return Err(problem(
                        open,
                        "an empty formula `$$`; write `\\$` for a dollar sign",
                    ));
                }
                out.push(Piece::Math { src, at: open + 1 });
                i = j + 1;
                start = i;
            }
            _ => i += 1,
        }
    }
    if start < bytes.len() {
        out.push(Piece::Text(&text[start..]));
    }
    Ok(out)
}

/// Where a run of exactly `run` backticks starts at or after `from`.
fn closing_ticks(bytes: &[u8], from: usize, run: usize) -> Option<usize> {
    let mut j = from;
    while j < bytes.len() {
        if bytes[j] == b'`' {
            let len = bytes[j..].iter().take_while(|&&b| b == b'`').count();
            if len == run {
                return Some(j);
            }
            j += len;
        } else {
            j += 1;
        }
    }
    None
}

/// The first problem of `text`'s math, if any: an unclosed `$`, or a formula that does not
/// parse.
pub(crate) fn check(text: &str) -> Option<Problem> {
    let pieces = match pieces(text) {
        Ok(p) => p,
        Err(e) => return Some(e),
    };
    pieces.into_iter().find_map(|p| match p {
        Piece::Math { src, at } => parse(src, at).err(),
        _ => None,
    })
}

/// `text` with its math as Unicode; text whose math does not parse (which loading refuses)
/// is returned as written.
pub(crate) fn plain(text: &str) -> String {
    let Ok(pieces) = pieces(text) else {
        return text.to_string();
    };
    let mut out = String::with_capacity(text.len());
    for p in pieces {
        match p {
            Piece::Text(t) => out.push_str(t),
            Piece::Dollar => out.push('$'),
            Piece::Math { src, at } => match parse(src, at) {
                Ok(nodes) => unicode(&nodes, &mut out),
                Err(_) => out.push_str(src),
            },
        }
    }
    out
}

/// `text` with its math as Unicode ([`plain`]), each formula's spaces replaced by `glue`
/// when the formula is at most `max` characters, so that a line is not broken inside it.
pub(crate) fn plain_glued(text: &str, glue: char, max: usize) -> String {
    let Ok(pieces) = pieces(text) else {
        return text.to_string();
    };
    let mut out = String::with_capacity(text.len());
    for p in pieces {
        match p {
            Piece::Text(t) => out.push_str(t),
            Piece::Dollar => out.push('$'),
            Piece::Math { src, at } => {
                let mut formula = String::new();
                match parse(src, at) {
                    Ok(nodes) => unicode(&nodes, &mut formula),
                    Err(_) => formula.push_str(src),
                }
                if formula.chars().count() <= max {
                    formula = formula.replace(' ', &glue.to_string());
                }
                out.push_str(&formula);
            }
        }
    }
    out
}

/// One formula's LaTeX as an inline MathML element (`None` if it does not parse).
pub(crate) fn mathml(src: &str) -> Option<String> {
    let nodes = parse(src, 0).ok()?;
    let mut out = String::from("<math>");
    ml_row(&nodes, &mut out);
    out.push_str("</math>");
    Some(out)
}

/// What a token is, for MathML: a name, a number or an operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Ident,
    Number,
    Op,
}

/// A sub- or superscript: parsed (`_{l+1}`), or a Unicode script character as written (`²`,
/// `ᵢ`), kept for the Unicode form and read as its plain character for MathML.
#[derive(Clone, Debug, PartialEq)]
enum Script {
    Parsed(Vec<Node>),
    Written(String),
}

#[derive(Clone, Debug, PartialEq)]
enum Node {
    /// Spaces as written (Unicode form only); `Wide` is an explicit `\quad`-like space.
    Space(String),
    Wide(&'static str),
    Token(Kind, String),
    Group(Vec<Node>),
    Scripted {
        base: Box<Node>,
        sub: Option<Script>,
        sup: Option<Script>,
    },
    Frac(Vec<Node>, Vec<Node>),
    Sqrt(Vec<Node>),
    /// `\text{…}`: words inside a formula.
    Text(String),
    /// `\operatorname{…}`, `\log`: an upright name.
    Name(String),
    /// `\hat{x}`: the base and the combining accent.
    Accent(Box<Node>, char),
}

/// Greek letters and symbols by name.
const SYMBOLS: &[(&str, Kind, &str)] = &[
    ("alpha", Kind::Ident, "α"),
    ("beta", Kind::Ident, "β"),
    ("gamma", Kind::Ident, "γ"),
    ("delta", Kind::Ident, "δ"),
    ("epsilon", Kind::Ident, "ϵ"),
    ("varepsilon", Kind::Ident, "ε"),
    ("zeta", Kind::Ident, "ζ"),
    ("eta", Kind::Ident, "η"),
    ("theta", Kind::Ident, "θ"),
    ("iota", Kind::Ident, "ι"),
    ("kappa", Kind::Ident, "κ"),
    ("lambda", Kind::Ident, "λ"),
    ("mu", Kind::Ident, "μ"),
    ("nu", Kind::Ident, "ν"),
    ("xi", Kind::Ident, "ξ"),
    ("pi", Kind::Ident, "π"),
    ("rho", Kind::Ident, "ρ"),
    ("sigma", Kind::Ident, "σ"),
    ("tau", Kind::Ident, "τ"),
    ("phi", Kind::Ident, "ϕ"),
    ("varphi", Kind::Ident, "φ"),
    ("chi", Kind::Ident, "χ"),
    ("psi", Kind::Ident, "ψ"),
    ("omega", Kind::Ident, "ω"),
    ("Gamma", Kind::Ident, "Γ"),
    ("Delta", Kind::Ident, "Δ"),
    ("Theta", Kind::Ident, "Θ"),
    ("Lambda", Kind::Ident, "Λ"),
    ("Xi", Kind::Ident, "Ξ"),
    ("Pi", Kind::Ident, "Π"),
    ("Sigma", Kind::Ident, "Σ"),
    ("Phi", Kind::Ident, "Φ"),
    ("Psi", Kind::Ident, "Ψ"),
    ("Omega", Kind::Ident, "Ω"),
    ("partial", Kind::Ident, "∂"),
    ("nabla", Kind::Ident, "∇"),
    ("infty", Kind::Ident, "∞"),
    ("ell", Kind::Ident, "ℓ"),
    ("cdot", Kind::Op, "·"),
    ("times", Kind::Op, "×"),
    ("odot", Kind::Op, "⊙"),
    ("otimes", Kind::Op, "⊗"),
    ("div", Kind::Op, "÷"),
    ("pm", Kind::Op, "±"),
    ("mp", Kind::Op, "∓"),
    ("approx", Kind::Op, "≈"),
    ("sim", Kind::Op, "∼"),
    ("simeq", Kind::Op, "≃"),
    ("propto", Kind::Op, "∝"),
    ("equiv", Kind::Op, "≡"),
    ("le", Kind::Op, "≤"),
    ("leq", Kind::Op, "≤"),
    ("ge", Kind::Op, "≥"),
    ("geq", Kind::Op, "≥"),
    ("ne", Kind::Op, "≠"),
    ("neq", Kind::Op, "≠"),
    ("ll", Kind::Op, "≪"),
    ("gg", Kind::Op, "≫"),
    ("in", Kind::Op, "∈"),
    ("to", Kind::Op, "→"),
    ("rightarrow", Kind::Op, "→"),
    ("leftarrow", Kind::Op, "←"),
    ("mapsto", Kind::Op, "↦"),
    ("sum", Kind::Op, "∑"),
    ("prod", Kind::Op, "∏"),
    ("int", Kind::Op, "∫"),
    ("mid", Kind::Op, "|"),
    ("vert", Kind::Op, "|"),
    ("lvert", Kind::Op, "|"),
    ("rvert", Kind::Op, "|"),
    ("Vert", Kind::Op, "‖"),
    ("lVert", Kind::Op, "‖"),
    ("rVert", Kind::Op, "‖"),
    ("langle", Kind::Op, "⟨"),
    ("rangle", Kind::Op, "⟩"),
    ("top", Kind::Op, "⊤"),
    ("prime", Kind::Op, "′"),
    ("ldots", Kind::Op, "…"),
    ("dots", Kind::Op, "…"),
    ("cdots", Kind::Op, "⋯"),
];

/// Upright function names (`\log x`).
const NAMES: &[&str] = &[
    "log", "ln", "exp", "sin", "cos", "tan", "tanh", "max", "min", "det", "sup", "inf", "arg",
];

/// Spaces by name, and the width MathML gives each.
const SPACES: &[(&str, &str, &str)] = &[
    (",", " ", "0.1667em"),
    (":", " ", "0.2222em"),
    (";", " ", "0.2778em"),
    (" ", " ", "0.3333em"),
    ("quad", "  ", "1em"),
    ("qquad", "    ", "2em"),
];

/// Characters a backslash makes literal.
const ESCAPED: &str = "{}$%&#_|\\";

/// Unicode superscripts and the characters they stand for.
const SUPERSCRIPTS: &[(char, char)] = &[
    ('⁰', '0'),
    ('¹', '1'),
    ('²', '2'),
    ('³', '3'),
    ('⁴', '4'),
    ('⁵', '5'),
    ('⁶', '6'),
    ('⁷', '7'),
    ('⁸', '8'),
    ('⁹', '9'),
    ('⁺', '+'),
    ('⁻', '−'),
    ('⁼', '='),
    ('⁽', '('),
    ('⁾', ')'),
    ('ⁿ', 'n'),
    ('ⁱ', 'i'),
    ('ˣ', 'x'),
    ('ᵀ', 'T'),
];

/// Unicode subscripts and the characters they stand for.
const SUBSCRIPTS: &[(char, char)] = &[
    ('₀', '0'),
    ('₁', '1'),
    ('₂', '2'),
    ('₃', '3'),
    ('₄', '4'),
    ('₅', '5'),
    ('₆', '6'),
    ('₇', '7'),
    ('₈', '8'),
    ('₉', '9'),
    ('₊', '+'),
    ('₋', '−'),
    ('ᵢ', 'i'),
    ('ⱼ', 'j'),
    ('ₖ', 'k'),
    ('ₗ', 'l'),
    ('ₙ', 'n'),
    ('ₜ', 't'),
];

fn superscript_of(c: char) -> Option<char> {
    SUPERSCRIPTS.iter().find(|(_, p)| *p == c).map(|(s, _)| *s)
}

fn is_combining(c: char) -> bool {
    ('\u{300}'..='\u{36f}').contains(&c)
}

/// A formula's nodes; `at` is its byte offset in the prose, for problems.
fn parse(src: &str, at: usize) -> Result<Vec<Node>, Problem> {
    let mut p = Parser { src, pos: 0, at };
    let nodes = p.row(None)?;
    Ok(nodes)
}

struct Parser<'a> {
    src: &'a str,
    pos: usize,
    at: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<char> {
        self.src[self.pos..].chars().next()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    fn fail<T>(&self, offset: usize, message: impl Into<String>) -> Result<T, Problem> {
        Err(problem(self.at + offset, message))
    }

    /// Nodes up to the end, or up to the `}` that closes a group opened at `open`.
    fn row(&mut self, open: Option<usize>) -> Result<Vec<Node>, Problem> {
        let mut nodes: Vec<Node> = Vec::new();
        while let Some(c) = self.peek() {
            let start = self.pos;
            match c {
                '}' => {
                    if open.is_some() {
                        self.bump();
                        return Ok(nodes);
                    }
                    return self.fail(start, "this `}` closes no `{`");
                }
                '_' | '^' => {
                    self.bump();
                    let base = match nodes.last() {
                        Some(Node::Space(_)) | None => Node::Group(Vec::new()),
                        Some(_) => nodes.pop().unwrap_or(Node::Group(Vec::new())),
                    };
                    let arg = self.argument(c)?;
                    nodes.push(
                        attach(base, c, Script::Parsed(arg))
                            .map_err(|m| problem(self.at + start, m))?,
                    );
                }
                c if SUPERSCRIPTS.iter().any(|(s, _)| *s == c)
                    || SUBSCRIPTS.iter().any(|(s, _)| *s == c) =>
                {
                    let sup = SUPERSCRIPTS.iter().any(|(s, _)| *s == c);
                    let table = if sup { SUPERSCRIPTS } else { SUBSCRIPTS };
                    let mut written = String::new();
                    while let Some(d) = self.peek().filter(|d| table.iter().any(|(s, _)| s == d)) {
                        written.push(d);
                        self.bump();
                    }
                    let base = match nodes.last() {
                        Some(Node::Space(_)) | None => Node::Group(Vec::new()),
                        Some(_) => nodes.pop().unwrap_or(Node::Group(Vec::new())),
                    };
                    let mark = if sup { '^' } else { '_' };
                    nodes.push(
                        attach(base, mark, Script::Written(written))
                            .map_err(|m| problem(self.at + start, m))?,
                    );
                }
                _ => {
                    if let Some(node) = self.atom()? {
                        nodes.push(node);
                    }
                }
            }
        }
        match open {
            Some(o) => self.fail(o, "this `{` is never closed"),
            None => Ok(nodes),
        }
    }

    /// One node that is not a script: spaces, a token, a group or a command.
    fn atom(&mut self) -> Result<Option<Node>, Problem> {
        let start = self.pos;
        let Some(c) = self.bump() else {
            return Ok(None);
        };
        let node = match c {
            c if c.is_whitespace() => {
                while self.peek().is_some_and(char::is_whitespace) {
                    self.bump();
                }
                Node::Space(self.src[start..self.pos].to_string())
            }
            '{' => Node::Group(self.row(Some(start))?),
            '\\' => return self.command(start).map(Some),
            '\'' => Node::Token(Kind::Op, "′".into()),
            '-' => Node::Token(Kind::Op, "−".into()),
            c if c.is_ascii_digit() => {
                while let Some(d) = self.peek() {
                    let decimal = d == '.'
                        && self.src[self.pos + 1..]
                            .chars()
                            .next()
                            .is_some_and(|e| e.is_ascii_digit());
                    if d.is_ascii_digit() || decimal {
                        self.bump();
                    } else {
                        break;
                    }
                }
                Node::Token(Kind::Number, self.src[start..self.pos].to_string())
            }
            c if c.is_ascii_alphabetic() => {
                while self
                    .peek()
                    .is_some_and(|d| d.is_ascii_alphabetic() || is_combining(d))
                {
                    self.bump();
                }
                Node::Token(Kind::Ident, self.src[start..self.pos].to_string())
            }
            c if c.is_alphabetic() || matches!(c, '∞' | '∂' | '∇') => {
                while self.peek().is_some_and(is_combining) {
                    self.bump();
                }
                Node::Token(Kind::Ident, self.src[start..self.pos].to_string())
            }
            '~' => Node::Token(Kind::Op, "~".into()),
            _ => {
                while self.peek().is_some_and(is_combining) {
                    self.bump();
                }
                Node::Token(Kind::Op, self.src[start..self.pos].to_string())
            }
        };
        Ok(Some(node))
    }

    /// The argument of `_` or `^`: one character, a command or a `{…}` group.
    fn argument(&mut self, mark: char) -> Result<Vec<Node>, Problem> {
        while self.peek().is_some_and(char::is_whitespace) {
            self.bump();
        }
        let start = self.pos;
        let what = if mark == '_' {
            "subscript"
        } else {
            "superscript"
        };
        match self.peek() {
            None | Some('}') | Some('_') | Some('^') => self.fail(
                start.saturating_sub(1),
                format!("`{mark}` needs a {what} after it: `x{mark}2` or `x{mark}{{l+1}}`"),
            ),
            Some('{') => {
                self.bump();
                self.row(Some(start))
            }
            Some('\\') => {
                self.bump();
                Ok(vec![self.command(start)?])
            }
            Some(c) => {
                self.bump();
                let mut end = self.pos;
                while self.src[end..].chars().next().is_some_and(is_combining) {
                    end += self.src[end..].chars().next().map_or(0, char::len_utf8);
                }
                self.pos = end;
                let text = &self.src[start..end];
                let kind = match c {
                    c if c.is_ascii_digit() => Kind::Number,
                    c if c.is_alphabetic() => Kind::Ident,
                    _ => Kind::Op,
                };
                let text = match c {
                    '-' => "−".to_string(),
                    '\'' => "′".to_string(),
                    _ => text.to_string(),
                };
                Ok(vec![Node::Token(kind, text)])
            }
        }
    }

    /// A command after its `\` (at `start`).
    fn command(&mut self, start: usize) -> Result<Node, Problem> {
        let Some(c) = self.bump() else {
            return self.fail(
                start,
                "a `\\` ends the formula; write `\\\\` for a backslash",
            );
        };
        if !c.is_ascii_alphabetic() {
            if let Some((_, plain, _)) = SPACES
                .iter()
                .find(|(n, _, _)| n.starts_with(c) && n.len() == 1)
            {
                return Ok(Node::Wide(plain));
            }
            if ESCAPED.contains(c) {
                let text = if c == '|' {
                    "‖"
                } else {
                    &self.src[start + 1..self.pos]
                };
                return Ok(Node::Token(Kind::Op, text.to_string()));
            }
            return self.fail(start, format!("`\\{c}` is not a command this bank knows"));
        }
        while self.peek().is_some_and(|d| d.is_ascii_alphabetic()) {
            self.bump();
        }
        let name = &self.src[start + 1..self.pos];
        if let Some((_, kind, text)) = SYMBOLS.iter().find(|(n, _, _)| *n == name) {
            return Ok(Node::Token(*kind, (*text).to_string()));
        }
        if NAMES.contains(&name) {
            return Ok(Node::Name(name.to_string()));
        }
        if let Some((_, plain, _)) = SPACES.iter().find(|(n, _, _)| *n == name) {
            return Ok(Node::Wide(plain));
        }
        match name {
            "frac" => {
                let num = self.braced(name, start)?;
                let den = self.braced(name, start)?;
                Ok(Node::Frac(num, den))
            }
            "sqrt" => Ok(Node::Sqrt(self.braced(name, start)?)),
            "text" | "operatorname" | "mathrm" => {
                let open = self.pos;
                let nodes = self.braced(name, start)?;
                let inner = &self.src[open..self.pos];
                let inner = inner.trim_start().trim_start_matches('{');
                let inner = inner.strip_suffix('}').unwrap_or(inner);
                if name == "text" {
                    Ok(Node::Text(inner.to_string()))
                } else if nodes
                    .iter()
                    .all(|n| matches!(n, Node::Token(Kind::Ident, _)))
                {
                    Ok(Node::Name(inner.to_string()))
                } else {
                    self.fail(start, format!("`\\{name}{{…}}` takes letters only"))
                }
            }
            "hat" | "bar" | "tilde" | "dot" => {
                let accent = match name {
                    "hat" => '\u{302}',
                    "bar" => '\u{304}',
                    "tilde" => '\u{303}',
                    _ => '\u{307}',
                };
                let arg = self.braced(name, start)?;
                Ok(Node::Accent(Box::new(Node::Group(arg)), accent))
            }
            "left" | "right" => {
                while self.peek().is_some_and(char::is_whitespace) {
                    self.bump();
                }
                match self.atom()? {
                    Some(Node::Token(Kind::Op, t)) => Ok(Node::Token(Kind::Op, t)),
                    _ => self.fail(
                        start,
                        format!("`\\{name}` needs a delimiter after it: `\\{name}(`"),
                    ),
                }
            }
            _ => {
                let known = SYMBOLS
                    .iter()
                    .map(|(n, _, _)| *n)
                    .chain(NAMES.iter().copied())
                    .chain([
                        "frac",
                        "sqrt",
                        "text",
                        "operatorname",
                        "mathrm",
                        "hat",
                        "bar",
                    ]);
                let hint = crate::format::did_you_mean(name, known)
                    .map(|n| format!("; did you mean `\\{n}`?"))
                    .unwrap_or_else(|| {
                        "; see the README's \"Math\" section for the commands".to_string()
                    });
                self.fail(
                    start,
                    format!("`\\{name}` is not a command this bank knows{hint}"),
                )
            }
        }
    }

    /// The `{…}` argument of the command `name` (at `command`).
    fn braced(&mut self, name: &str, command: usize) -> Result<Vec<Node>, Problem> {
        while self.peek().is_some_and(char::is_whitespace) {
            self.bump();
        }
        let start = self.pos;
        if self.peek() != Some('{') {
            return self.fail(
                command,
                format!("`\\{name}` needs an argument in braces: `\\{name}{{…}}`"),
            );
        }
        self.bump();
        self.row(Some(start))
    }
}

/// `base` with a script added (`mark` `_` or `^`); a second script of the same kind is a
/// problem.
fn attach(base: Node, mark: char, script: Script) -> Result<Node, String> {
    let (base, mut sub, mut sup) = match base {
        Node::Scripted { base, sub, sup } => (base, sub, sup),
        other => (Box::new(other), None, None),
    };
    let slot = if mark == '_' { &mut sub } else { &mut sup };
    if slot.is_some() {
        let what = if mark == '_' {
            "subscript"
        } else {
            "superscript"
        };
        return Err(format!(
            "a second {what} on the same symbol; group it: `x{mark}{{ab}}`, or `{{x{mark}a}}{mark}b`"
        ));
    }
    *slot = Some(script);
    Ok(Node::Scripted { base, sub, sup })
}

/// The nodes as the bank's Unicode.
fn unicode(nodes: &[Node], out: &mut String) {
    for n in nodes {
        unicode_node(n, out);
    }
}

fn unicode_node(n: &Node, out: &mut String) {
    match n {
        Node::Space(s) => out.push_str(s),
        Node::Wide(s) => out.push_str(s),
        Node::Token(_, t) | Node::Name(t) | Node::Text(t) => out.push_str(t),
        Node::Group(g) => unicode(g, out),
        Node::Scripted { base, sub, sup } => {
            unicode_node(base, out);
            if let Some(s) = sub {
                match s {
                    Script::Written(w) => out.push_str(w),
                    Script::Parsed(nodes) => {
                        let text = to_unicode(nodes);
                        let word = text.chars().all(|c| c.is_alphanumeric() || is_combining(c));
                        match word && !text.is_empty() {
                            true => write_str(out, &format!("_{text}")),
                            false => write_str(out, &format!("_({text})")),
                        }
                    }
                }
            }
            if let Some(s) = sup {
                match s {
                    Script::Written(w) => out.push_str(w),
                    Script::Parsed(nodes) => out.push_str(&superscript(&to_unicode(nodes))),
                }
            }
        }
        Node::Frac(a, b) => {
            out.push_str(&operand(a));
            out.push('/');
            out.push_str(&operand(b));
        }
        Node::Sqrt(a) => {
            out.push('√');
            out.push_str(&operand(a));
        }
        Node::Accent(base, accent) => {
            unicode_node(base, out);
            out.push(*accent);
        }
    }
}

fn write_str(out: &mut String, s: &str) {
    let _ = write!(out, "{s}");
}

fn to_unicode(nodes: &[Node]) -> String {
    let mut s = String::new();
    unicode(nodes, &mut s);
    s
}

/// A superscript's Unicode: superscript characters for digits and signs, `ᵀ`, `ˣ`, `ⁿ`, `ⁱ`
/// for those letters alone, else `^x` or `^(…)`.
fn superscript(text: &str) -> String {
    let digits = text
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, '+' | '−' | '=' | '(' | ')'));
    let single = text.chars().count() == 1;
    if digits && !text.is_empty() || single && matches!(text, "T" | "⊤" | "x" | "n" | "i") {
        let text = if text == "⊤" { "T" } else { text };
        return text.chars().filter_map(superscript_of).collect();
    }
    match single {
        true => format!("^{text}"),
        false => format!("^({text})"),
    }
}

/// A fraction's or root's operand: as it is if it is one symbol, else in parentheses.
fn operand(nodes: &[Node]) -> String {
    let solid: Vec<&Node> = nodes
        .iter()
        .filter(|n| !matches!(n, Node::Space(_)))
        .collect();
    let text = to_unicode(nodes);
    match solid.as_slice() {
        [
            Node::Token(..)
            | Node::Scripted { .. }
            | Node::Name(_)
            | Node::Sqrt(_)
            | Node::Accent(..),
        ] => text,
        [Node::Group(g)] => operand(g),
        _ => format!("({})", text.trim()),
    }
}

/// `text` safe in a MathML element.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The nodes as MathML, one `<mrow>` when there is more than one.
fn ml_row(nodes: &[Node], out: &mut String) {
    let solid: Vec<&Node> = nodes
        .iter()
        .filter(|n| !matches!(n, Node::Space(_)))
        .collect();
    match solid.as_slice() {
        [one] => ml(one, out),
        _ => {
            out.push_str("<mrow>");
            for n in solid {
                ml(n, out);
            }
            out.push_str("</mrow>");
        }
    }
}

fn ml_token(kind: Kind, text: &str, out: &mut String) {
    let t = escape(text);
    let _ = match kind {
        Kind::Number => write!(out, "<mn>{t}</mn>"),
        // As in LaTeX: brackets keep their size (MathML would stretch them around a
        // script), and `/` is an ordinary symbol, without an operator's spaces.
        Kind::Op if matches!(text, "(" | ")" | "[" | "]" | "|" | "‖") => {
            write!(out, "<mo stretchy=\"false\">{t}</mo>")
        }
        Kind::Op if text == "/" => write!(out, "<mo lspace=\"0\" rspace=\"0\">/</mo>"),
        Kind::Op => write!(out, "<mo>{t}</mo>"),
        Kind::Ident => {
            // A capital Greek letter is upright, as in print.
            let upright = text.chars().count() == 1
                && text.chars().all(|c| ('Α'..='Ω').contains(&c) || c == '∞');
            match upright {
                true => write!(out, "<mi mathvariant=\"normal\">{t}</mi>"),
                false => write!(out, "<mi>{t}</mi>"),
            }
        }
    };
}

/// A Unicode script as written, read as the characters it stands for.
fn ml_written(w: &str, table: &[(char, char)], out: &mut String) {
    let plain: String = w
        .chars()
        .map(|c| table.iter().find(|(s, _)| *s == c).map_or(c, |(_, p)| *p))
        .collect();
    let kind = match plain.chars().next() {
        Some(c) if c.is_alphabetic() => Kind::Ident,
        Some(c) if c.is_ascii_digit() => Kind::Number,
        _ => Kind::Op,
    };
    match (kind, plain.strip_prefix('−')) {
        (Kind::Op, Some(rest)) if !rest.is_empty() => {
            out.push_str("<mrow><mo>−</mo>");
            ml_token(Kind::Number, rest, out);
            out.push_str("</mrow>");
        }
        _ => ml_token(kind, &plain, out),
    }
}

fn ml(n: &Node, out: &mut String) {
    match n {
        Node::Space(_) => {}
        Node::Wide(s) => {
            let width = SPACES
                .iter()
                .find(|(_, p, _)| p == s)
                .map_or("0.3333em", |(_, _, w)| w);
            let _ = write!(out, "<mspace width=\"{width}\"/>");
        }
        Node::Token(kind, t) => {
            // Letters and digits typed together (`2x`, `6ξ`) are read one by one.
            ml_token(*kind, t, out);
        }
        Node::Name(t) => {
            let _ = match t.chars().count() {
                1 => write!(out, "<mi mathvariant=\"normal\">{}</mi>", escape(t)),
                _ => write!(out, "<mi>{}</mi>", escape(t)),
            };
        }
        Node::Text(t) => {
            let _ = write!(out, "<mtext>{}</mtext>", escape(t));
        }
        Node::Group(g) => ml_row(g, out),
        Node::Scripted { base, sub, sup } => {
            let tag = match (sub, sup) {
                (Some(_), Some(_)) => "msubsup",
                (Some(_), None) => "msub",
                _ => "msup",
            };
            let _ = write!(out, "<{tag}>");
            // An empty base (`{}_a`) is an empty `<mrow>`: it still takes its place.
            ml(base, out);
            for (s, table) in [(sub, SUBSCRIPTS), (sup, SUPERSCRIPTS)] {
                match s {
                    Some(Script::Parsed(nodes)) => ml_row(nodes, out),
                    Some(Script::Written(w)) => ml_written(w, table, out),
                    None => {}
                }
            }
            let _ = write!(out, "</{tag}>");
        }
        Node::Frac(a, b) => {
            out.push_str("<mfrac>");
            ml_row(a, out);
            ml_row(b, out);
            out.push_str("</mfrac>");
        }
        Node::Sqrt(a) => {
            out.push_str("<msqrt>");
            ml_row(a, out);
            out.push_str("</msqrt>");
        }
        Node::Accent(base, accent) => {
            let mark = match accent {
                '\u{302}' => "^",
                '\u{304}' => "¯",
                '\u{303}' => "~",
                _ => "˙",
            };
            out.push_str("<mover accent=\"true\">");
            ml(base, out);
            let _ = write!(out, "<mo>{mark}</mo></mover>");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Catches: a renderer that drops the parentheses of a long subscript, writes `^2` where
    /// the bank prints `²`, or loses the spacing as written.
    #[test]
    fn the_unicode_form_is_the_banks() {
        let cases = [
            (
                r"$∂L/∂h_l = (∂L/∂h_{l+1} · W_{l+1}^T) ⊙ φ'(h_l)$",
                "∂L/∂h_l = (∂L/∂h_(l+1) · W_(l+1)ᵀ) ⊙ φ′(h_l)",
            ),
            (r"$σ_w^2 · E[φ'(h)^2] ≈ 1$", "σ_w² · E[φ′(h)²] ≈ 1"),
            (
                r"$Var(W) = 2 / (n_{in} + n_{out})$",
                "Var(W) = 2 / (n_in + n_out)",
            ),
            (
                r"$\tanh(x) = (e^x - e^{-x}) / (e^x + e^{-x})$",
                "tanh(x) = (eˣ − e^(−x)) / (eˣ + e^(−x))",
            ),
            (r"$0.25^{20} ≈ 9 × 10^{-13}$", "0.25²⁰ ≈ 9 × 10⁻¹³"),
            (r"$\sqrt{2 / n_{in}}$ and $\sqrt{v̂}$", "√(2 / n_in) and √v̂"),
            (r"$\frac{a+b}{2}$", "(a+b)/2"),
            (r"$x̂ᵢ = γⱼ β₁$", "x̂ᵢ = γⱼ β₁"),
            (r"$\sigma\,\cdot\,\alpha$", "σ · α"),
            (r"costs \$5, `$x$` stays", "costs $5, `$x$` stays"),
            ("no math at all", "no math at all"),
        ];
        for (latex, unicode) in cases {
            assert_eq!(plain(latex), unicode, "{latex}");
        }
    }

    /// Catches: a formula's structure lost in MathML (a subscript as text, `^T` not a
    /// script, a fraction or root as characters).
    #[test]
    fn mathml_has_the_formulas_structure() {
        assert_eq!(
            mathml(r"σ_w^2 · E[φ'(h)^2]").unwrap(),
            "<math><mrow><msubsup><mi>σ</mi><mi>w</mi><mn>2</mn></msubsup><mo>·</mo><mi>E</mi>\
             <mo stretchy=\"false\">[</mo><mi>φ</mi><mo>′</mo><mo stretchy=\"false\">(</mo>\
             <mi>h</mi><msup><mo stretchy=\"false\">)</mo><mn>2</mn></msup>\
             <mo stretchy=\"false\">]</mo></mrow></math>"
        );
        assert_eq!(
            mathml(r"\frac{1}{\sqrt{n_{in}}}").unwrap(),
            "<math><mfrac><mn>1</mn><msqrt><msub><mi>n</mi><mi>in</mi></msub></msqrt></mfrac></math>"
        );
        // A Unicode script as written is a script in MathML too.
        assert_eq!(
            mathml("β₁ < 10⁻⁸").unwrap(),
            "<math><mrow><msub><mi>β</mi><mn>1</mn></msub><mo>&lt;</mo><msup><mn>10</mn>\
             <mrow><mo>−</mo><mn>8</mn></mrow></msup></mrow></math>"
        );
        assert_eq!(
            mathml(r"\text{a < b} \Sigma").unwrap(),
            "<math><mrow><mtext>a &lt; b</mtext><mi mathvariant=\"normal\">Σ</mi></mrow></math>"
        );
    }

    /// Catches: a bad formula that passes (and reaches a student as raw LaTeX), or a problem
    /// reported at the wrong place.
    #[test]
    fn bad_formulas_are_found_where_they_are() {
        let at = |text: &str| check(text).map(|p| (p.at, p.message));
        assert_eq!(at("fine $x_1$ and $y^{2}$"), None);
        let (i, m) = at("a $x_{l+1$ b").unwrap();
        assert_eq!((i, m.as_str()), (5, "this `{` is never closed"));
        let (i, m) = at("ok $x$ then $\\sigam$").unwrap();
        assert_eq!(i, 13);
        assert!(
            m.contains("`\\sigam`") && m.contains("did you mean `\\sigma`?"),
            "{m}"
        );
        let (i, m) = at("costs $5").unwrap();
        assert_eq!(i, 6);
        assert!(m.contains("no `$` closes"), "{m}");
        assert_eq!(at("$x_a_b$").unwrap().0, 4);
        assert!(at("$x_a_b$").unwrap().1.contains("second subscript"));
        assert_eq!(at("$x^$").unwrap().0, 2);
        assert_eq!(at("$a}$").unwrap().0, 2);
        assert_eq!(at("$\\frac{1}$").unwrap().0, 1);
        assert_eq!(at("$$").unwrap().0, 0);
        // A `$` in code is no formula.
        assert_eq!(at("run `echo $HOME` now"), None);
    }
}
