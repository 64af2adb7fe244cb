//! `gradtutor export --format html`: the page parsed as a browser parses it. One export of the
//! whole bank serves every structural check, since it runs every experiment and training run.

use gradtutor::Bank;
use scraper::{ElementRef, Html, Selector};
use std::fs;
use std::path::Path;

use super::common;

const GIB: u64 = 1 << 30;

fn sel(css: &str) -> Selector {
    Selector::parse(css).unwrap()
}

fn text(e: ElementRef) -> String {
    e.text().collect()
}

/// Runs `gradtutor [--questions-only DIR] export --format FORMAT -o FILE`; returns the file.
fn export(questions: Option<&Path>, format: &str, out: &Path) -> String {
    let mut c = common::gradtutor("export");
    if let Some(dir) = questions {
        c.arg("--questions-only").arg(dir);
    }
    c.args(["export", "--format", format, "-o"])
        .arg(out)
        .assert()
        .success();
    fs::read_to_string(out).unwrap()
}

/// A bank in a temporary folder: the built-in question file whose name starts with
/// `prefix`, passed through `edit`.
fn bank_of(prefix: &str, edit: impl Fn(&str) -> String) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let file = fs::read_dir("questions")
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.file_name().unwrap().to_str().unwrap().starts_with(prefix))
        .unwrap();
    let body = edit(&fs::read_to_string(&file).unwrap());
    fs::write(dir.path().join(file.file_name().unwrap()), body).unwrap();
    dir
}

/// The body of the fenced block that follows `## heading` in a Markdown handout.
fn markdown_output(md: &str, heading: &str) -> String {
    use pulldown_cmark::{Event, Parser, Tag, TagEnd};
    let section = &md[md.find(&format!("## {heading}\n")).unwrap()..];
    let after = &section[section.find("**Experiment**").unwrap()..];
    let mut body = String::new();
    let mut inside = false;
    for event in Parser::new(after) {
        match event {
            Event::Start(Tag::CodeBlock(_)) => inside = true,
            Event::Text(t) if inside => body.push_str(&t),
            Event::End(TagEnd::CodeBlock) => break,
            _ => {}
        }
    }
    body
}

#[test]
fn the_html_handout_is_one_self_contained_page_showing_what_the_markdown_measures() {
    let dir = tempfile::tempdir().unwrap();
    let raw = export(None, "html", &dir.path().join("handout.html"));
    let bank = Bank::embedded(4 * GIB).unwrap();
    assert!(raw.starts_with("<!DOCTYPE html>"), "{}", &raw[..40]);
    // The parser always makes one <html>; the text must not hold a second page.
    assert_eq!(raw.matches("<html").count(), 1);
    assert!(
        !raw.contains("<?xml"),
        "an SVG's XML declaration was left in"
    );
    let doc = Html::parse_document(&raw);
    assert!(doc.errors.is_empty(), "parse errors: {:?}", doc.errors);
    let title: Vec<_> = doc.select(&sel("head > title")).map(text).collect();
    assert!(title.len() == 1 && !title[0].trim().is_empty(), "{title:?}");

    // Nothing is fetched: no script, link, image or frame; links only to this page's ids.
    for tag in [
        "script", "link", "img", "iframe", "object", "embed", "image", "use",
    ] {
        assert_eq!(doc.select(&sel(tag)).count(), 0, "a <{tag}> element");
    }
    let style: String = doc.select(&sel("style")).map(text).collect();
    assert!(!style.contains("url(") && !style.contains("@import"));
    let mut ids = std::collections::HashSet::new();
    for e in doc.select(&sel("[id]")) {
        let id = e.value().attr("id").unwrap();
        assert!(ids.insert(id.to_string()), "id {id} is used twice");
    }
    for e in doc
        .root_element()
        .descendants()
        .filter_map(ElementRef::wrap)
    {
        for (name, value) in e.value().attrs() {
            assert!(!name.contains("src"), "<{}> has {name}", e.value().name());
            if name.ends_with("href") {
                let target = value.strip_prefix('#');
                assert!(
                    target.is_some_and(|t| ids.contains(t)),
                    "{name}={value} does not point into the page"
                );
            }
        }
    }

    // One section per question, in bank order, headed by its title.
    let sections: Vec<_> = doc.select(&sel("section.question")).collect();
    assert_eq!(sections.len(), bank.questions.len());
    let contents = doc.select(&sel("nav a")).count();
    assert_eq!(
        contents,
        bank.questions.len(),
        "one contents link a question"
    );
    let (h2, chart, lines) = (sel("h2"), sel("figure.chart > svg"), sel("path, polyline"));
    let (quiz, answer) = (sel("ol.quiz > li"), sel("details.answer"));
    for (s, q) in sections.iter().zip(&bank.questions) {
        let heading: Vec<_> = s.select(&h2).map(text).collect();
        assert_eq!(heading, [format!("{}. {}", q.id, q.title)]);
        // The experiment's chart, and the training run's too where the question has one.
        let charts: Vec<_> = s.select(&chart).collect();
        assert_eq!(
            charts.len(),
            1 + q.train.is_some() as usize,
            "question {}",
            q.id
        );
        for svg in &charts {
            assert!(svg.value().attr("viewBox").is_some(), "question {}", q.id);
            let style = svg.value().attr("style").unwrap_or_default();
            assert!(style.contains("max-width:100%"), "question {}", q.id);
            assert!(svg.select(&lines).next().is_some(), "question {}", q.id);
        }
        let items: Vec<_> = s.select(&quiz).collect();
        assert_eq!(items.len(), q.quiz.len(), "question {}", q.id);
        for it in &items {
            let key: Vec<_> = it.select(&answer).collect();
            assert_eq!(key.len(), 1, "question {}: one folded answer an item", q.id);
            let summary = key[0].select(&sel("summary")).map(text).collect::<String>();
            assert_eq!(summary, "Answer");
            assert!(
                text(key[0]).len() > "Answer".len() + 10,
                "question {}",
                q.id
            );
        }
    }

    // The same measured output and answer as the Markdown handout (of question 1 alone:
    // the experiment runs with the same preset and seed).
    let one = bank_of("01-", str::to_string);
    let md = export(Some(one.path()), "markdown", &dir.path().join("one.md"));
    let q1 = &bank.questions[0];
    let output: Vec<_> = sections[0].select(&sel("pre.output")).map(text).collect();
    let expected = markdown_output(&md, &format!("{}. {}", q1.id, q1.title));
    assert!(expected.contains("layer 1 vs last"), "{expected}");
    assert_eq!(output[0].trim_end(), expected.trim_end());
    let html_key = text(sections[0].select(&answer).next().unwrap());
    let md_key = md.split("## Answer key").nth(1).unwrap();
    let figure = md_key
        .split("\n1. ")
        .nth(1)
        .unwrap()
        .split(' ')
        .next()
        .unwrap();
    assert!(figure.parse::<f64>().is_ok(), "{figure}");
    assert!(
        html_key.contains(&format!("{figure} (measured when this handout was made)")),
        "markdown says {figure}; html says {html_key}"
    );
}

#[test]
fn an_instructors_markup_in_a_question_file_is_shown_as_text() {
    let title = r#"<script>alert("hi")</script> & <b>bold</b>"#;
    let dir = bank_of("02-", |body| {
        let line = body.lines().find(|l| l.starts_with("title = ")).unwrap();
        body.replacen(line, &format!("title = '{title}'"), 1)
            .replacen("key_points = [", "key_points = [\"a <i>x</i> `<y>`\", ", 1)
    });
    let raw = export(Some(dir.path()), "html", &dir.path().join("h.html"));
    let doc = Html::parse_document(&raw);
    assert!(doc.errors.is_empty(), "parse errors: {:?}", doc.errors);
    for tag in ["script", "b", "i"] {
        assert_eq!(
            doc.select(&sel(tag)).count(),
            0,
            "a <{tag}> element got through"
        );
    }
    let heading: String = doc.select(&sel("section h2")).map(text).collect();
    assert_eq!(heading, format!("2. {title}"));
    let link: String = doc.select(&sel("nav a")).map(text).collect();
    assert_eq!(link, title);
    // Inline code is an element; its text is escaped too.
    let point = doc.select(&sel("ul.key-points > li")).next().unwrap();
    assert_eq!(text(point), "a <i>x</i> <y>");
    let code: Vec<_> = point.select(&sel("code")).map(text).collect();
    assert_eq!(code, ["<y>"]);
}

#[test]
fn an_unwritable_output_fails_before_anything_runs() {
    let err = common::stderr_of_failure(
        common::gradtutor("export")
            .args([
                "export",
                "--format",
                "html",
                "-o",
                "/nonexistent-folder/h.html",
            ])
            .timeout(std::time::Duration::from_secs(20)),
    );
    assert!(
        err.contains("the folder /nonexistent-folder does not exist"),
        "{err}"
    );
}

#[test]
fn a_phase_question_shows_its_heat_map_in_the_html_handout() {
    // Catches: the handout drawing a phase report's one kept cell as per-layer charts (what
    // `demo_charts` makes of it) instead of the σ_w × σ_b map that `demo phase --plot` draws.
    let dir = tempfile::tempdir().unwrap();
    fs::write(
        dir.path().join("01-phase.toml"),
        "format_version = 1\nid = 1\nslug = \"phase-map\"\ntitle = \"The phase map\"\n\
         question = \"Where is the edge of chaos?\"\nanswer = \"Where χ = 1.\"\n\
         key_points = [\"χ = 1 separates order from chaos.\"]\n\n\
         [experiment]\ndemo = \"phase\"\ntakeaway = \"The map shows it.\"\n",
    )
    .unwrap();
    let raw = export(Some(dir.path()), "html", &dir.path().join("h.html"));
    let doc = Html::parse_document(&raw);
    let charts: Vec<_> = doc.select(&sel("figure.chart svg")).collect();
    assert_eq!(charts.len(), 1);
    let label = charts[0].value().attr("aria-label").unwrap();
    assert_eq!(label, "the measured per-layer factor over σ_w and σ_b");
    // One cell per (σ_w, σ_b) pair of the map, as in `demo phase --plot`.
    let plot = tempfile::NamedTempFile::with_suffix(".svg").unwrap();
    common::gradtutor("export")
        .args(["demo", "phase", "--plot"])
        .arg(plot.path())
        .assert()
        .success();
    let cells = |svg: &str| svg.matches("<rect").count();
    assert_eq!(
        cells(&charts[0].html()),
        cells(&fs::read_to_string(plot.path()).unwrap())
    );
}
