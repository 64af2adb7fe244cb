//! A user's own data for `train --data`: a CSV file, or MNIST's four IDX files in a folder
//! (`mnist:DIR`), plain or gzipped. Nothing is ever downloaded. Each file's size is checked
//! against `--max-memory` before it is read.
//!
//! CSV goes through the `csv` crate (quoting, CRLF, a final line without a newline are its
//! job); this module checks every cell and reports each bad one as `path:line:column`. The
//! IDX format (a magic number, big-endian sizes, then bytes) is four lines of parsing, so it
//! is read here; `.gz` files are inflated by `flate2` on its pure-Rust backend.

use super::Table;
use anyhow::{Result, bail};
use ndarray::Array2;
use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::io::Read;
use std::path::{Path, PathBuf};

use crate::format::{Foreign, count, thousands};

/// Most classes a label column may have.
pub(crate) const MAX_CLASSES: usize = 1000;
/// Most bad cells a message lists one by one; the rest are counted.
const LISTED: usize = 20;
/// Bytes a cell takes in memory (an f64) per byte it takes at least in a CSV file (a digit
/// and a comma): the file's size times this must fit in `--max-memory`.
const CSV_GROWTH: u64 = 4;

/// What `--data` names.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Source {
    /// A CSV file.
    Csv(PathBuf),
    /// A folder holding MNIST's four IDX files (`mnist:DIR`).
    Mnist(PathBuf),
}

impl Source {
    /// `mnist:DIR` or a CSV path.
    pub(crate) fn parse(text: &str) -> Source {
        match text.strip_prefix("mnist:") {
            Some(dir) => Source::Mnist(PathBuf::from(dir)),
            None => Source::Csv(PathBuf::from(text)),
        }
    }
}

/// Reads `--data TEXT` (with `--label`, `--standardize`) into a table, or says what is wrong.
pub(crate) fn load(
    text: &str,
    label: Option<&str>,
    standardize: bool,
    max_bytes: u64,
) -> Result<Table> {
    let mut table = match Source::parse(text) {
        Source::Csv(path) => csv_table(&path, label, max_bytes)?,
        Source::Mnist(dir) => {
            if label.is_some() {
                bail!("--label names a CSV column; MNIST's labels are their own files");
            }
            mnist(&dir, max_bytes)?
        }
    };
    table.source = text.to_string();
    table.standardized = standardize;
    Ok(table)
}

/// The file's size, after checking it is a regular file no larger than `limit` bytes.
fn size_of(path: &Path, limit: u64, why: &str) -> Result<u64> {
    let meta = std::fs::metadata(path)
        .map_err(|e| anyhow::anyhow!("--data: cannot read {}: {e}", Foreign::path(path)))?;
    if !meta.is_file() {
        bail!(
            "--data: {} is not a regular file (a folder, a pipe or a device); give a file",
            Foreign::path(path)
        );
    }
    if meta.len() > limit {
        bail!(
            "--data: {} is {} bytes, more than {} bytes ({why}); give a smaller file or a \
             larger --max-memory",
            Foreign::path(path),
            thousands(meta.len() as usize),
            thousands(limit as usize)
        );
    }
    Ok(meta.len())
}

/// One problem with one cell (or row) of a CSV file.
struct Problem {
    line: u64,
    column: Option<usize>,
    what: String,
}

/// Reads a CSV file: numeric features, one label column (integers or names).
fn csv_table(path: &Path, label: Option<&str>, max_bytes: u64) -> Result<Table> {
    size_of(
        path,
        max_bytes / CSV_GROWTH,
        "a quarter of --max-memory: each number can take four times its text in memory",
    )?;
    let file = std::fs::File::open(path)
        .map_err(|e| anyhow::anyhow!("--data: cannot open {}: {e}", Foreign::path(path)))?;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(std::io::BufReader::new(file));
    let mut records: Vec<(u64, Vec<String>)> = Vec::new();
    let mut problems: Vec<Problem> = Vec::new();
    for r in reader.byte_records() {
        let r = r.map_err(|e| anyhow::anyhow!("--data {}: {e}", Foreign::path(path)))?;
        let line = r.position().map_or(0, |p| p.line());
        let mut cells = Vec::with_capacity(r.len());
        for (j, cell) in r.iter().enumerate() {
            match std::str::from_utf8(cell) {
                Ok(s) => cells.push(s.trim().to_string()),
                Err(_) => {
                    problems.push(Problem {
                        line,
                        column: Some(j + 1),
                        what: "not UTF-8 text".into(),
                    });
                    cells.push(String::new());
                }
            }
        }
        // A blank line is no example.
        if cells.iter().all(|c| c.is_empty()) && cells.len() <= 1 {
            continue;
        }
        records.push((line, cells));
    }
    let Some((_, first)) = records.first() else {
        bail!("--data: {} holds no rows", Foreign::path(path));
    };
    let columns = first.len();
    if columns < 2 {
        bail!(
            "--data: {} has one column; it needs at least one feature and a label column",
            Foreign::path(path)
        );
    }
    let is_number = |s: &str| s.parse::<f64>().is_ok();
    // --label N (1-based) or a header name; the last column by default.
    let by_number = label.and_then(|l| l.parse::<usize>().ok());
    let named = label.filter(|l| first.iter().any(|c| c == l));
    let (label_col, header) = match (label, named, by_number) {
        (_, Some(name), _) => (first.iter().position(|c| c == name).unwrap_or(0), true),
        (Some(_), None, Some(n)) if (1..=columns).contains(&n) => (n - 1, false),
        (Some(l), None, Some(_)) => bail!(
            "--label {}: {} has {columns} columns; give a number from 1 to {columns} or a \
             header name",
            Foreign::new(l).short(40),
            Foreign::path(path)
        ),
        (Some(l), None, None) => {
            let header_row = first.iter().any(|c| !is_number(c));
            bail!(
                "--label {}: {} has no column of that name{}",
                Foreign::new(l).short(40),
                Foreign::path(path),
                if header_row {
                    format!(
                        "; its header's columns are {}",
                        first
                            .iter()
                            .map(|c| Foreign::new(c.as_str()).short(24).to_string())
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                } else {
                    " (its first row holds numbers, so it has no header; give the column's \
                     number, from 1)"
                        .to_string()
                }
            )
        }
        (None, _, _) => (columns - 1, false),
    };
    // Without a name to find, the first row is a header when a feature cell is no number.
    let header = header
        || first
            .iter()
            .enumerate()
            .any(|(j, c)| j != label_col && !is_number(c));
    let label_name = match header {
        true => first[label_col].clone(),
        false => format!("column {}", label_col + 1),
    };
    let body = &records[usize::from(header)..];
    let rows = body.len();
    let inputs = columns - 1;
    let mut x = Array2::<f64>::zeros((rows, inputs));
    let mut labels: Vec<&str> = Vec::with_capacity(rows);
    for (i, (line, cells)) in body.iter().enumerate() {
        if cells.len() != columns {
            problems.push(Problem {
                line: *line,
                column: None,
                what: format!(
                    "{} where the {} has {columns}",
                    count(cells.len(), "cell", "cells"),
                    if header { "header" } else { "first row" }
                ),
            });
            labels.push("");
            continue;
        }
        let mut f = 0;
        for (j, cell) in cells.iter().enumerate() {
            if j == label_col {
                if cell.is_empty() {
                    problems.push(Problem {
                        line: *line,
                        column: Some(j + 1),
                        what: "the label is empty".into(),
                    });
                }
                labels.push(cell);
                continue;
            }
            match cell.parse::<f64>() {
                Ok(v) if v.is_finite() => x[[i, f]] = v,
                Ok(_) => problems.push(Problem {
                    line: *line,
                    column: Some(j + 1),
                    what: format!(
                        "{} is not a finite number",
                        Foreign::new(cell.as_str()).short(24)
                    ),
                }),
                Err(_) if cell.is_empty() => problems.push(Problem {
                    line: *line,
                    column: Some(j + 1),
                    what: "empty cell where a number belongs".into(),
                }),
                Err(_) => problems.push(Problem {
                    line: *line,
                    column: Some(j + 1),
                    what: format!(
                        "'{}' is not a number",
                        Foreign::new(cell.as_str()).short(24)
                    ),
                }),
            }
            f += 1;
        }
    }
    if !problems.is_empty() {
        bail!("{}", report(path, &problems));
    }
    // Integers are classes in numeric order; anything else names classes in text order.
    let ints: Option<Vec<i64>> = labels.iter().map(|l| l.parse::<i64>().ok()).collect();
    let (classes, y): (Vec<String>, Vec<usize>) = match ints {
        Some(ints) => {
            let set: Vec<i64> = ints
                .iter()
                .copied()
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect();
            let y = ints
                .iter()
                .map(|v| set.partition_point(|s| s < v))
                .collect();
            (set.iter().map(|v| v.to_string()).collect(), y)
        }
        None => {
            let set: Vec<&str> = labels
                .iter()
                .copied()
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect();
            let y = labels
                .iter()
                .map(|v| set.partition_point(|s| s < v))
                .collect();
            (set.iter().map(|s| s.to_string()).collect(), y)
        }
    };
    if classes.len() < 2 || classes.len() > MAX_CLASSES {
        bail!(
            "--data {}: the label column ({}) holds {}; it needs 2 to {MAX_CLASSES}",
            Foreign::path(path),
            Foreign::new(label_name).short(24),
            count(classes.len(), "class", "classes")
        );
    }
    Ok(Table {
        source: String::new(),
        label: Some(label_name),
        classes,
        inputs,
        test_from: None,
        standardized: false,
        x,
        y,
    })
}

/// Every problem as `path:line:column: what`, the first [`LISTED`] of them.
fn report(path: &Path, problems: &[Problem]) -> String {
    let mut out = format!(
        "--data {}: {} (lines and columns count from 1):",
        Foreign::path(path),
        count(problems.len(), "bad cell", "bad cells")
    );
    for p in problems.iter().take(LISTED) {
        let at = match p.column {
            Some(c) => format!("{}:{c}", p.line),
            None => p.line.to_string(),
        };
        let _ = write!(out, "\n  {}:{at}: {}", Foreign::path(path), p.what);
    }
    if problems.len() > LISTED {
        let _ = write!(out, "\n  … and {} more", problems.len() - LISTED);
    }
    out
}

/// The four files of an MNIST folder, by their distributed names.
const MNIST_FILES: [&str; 4] = [
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
];

/// Reads MNIST from `dir`: the training files first, then the test files (a fixed split).
fn mnist(dir: &Path, max_bytes: u64) -> Result<Table> {
    if !dir.is_dir() {
        bail!(
            "--data mnist:{}: no such folder (nothing is downloaded)",
            Foreign::path(dir)
        );
    }
    let find = |name: &str| -> Result<PathBuf> {
        let plain = dir.join(name);
        let gz = dir.join(format!("{name}.gz"));
        match (plain.exists(), gz.exists()) {
            (true, _) => Ok(plain),
            (false, true) => Ok(gz),
            (false, false) => bail!(
                "--data mnist:{}: {name} (or {name}.gz) is missing; the folder should hold {} \
                 (nothing is downloaded)",
                Foreign::path(dir),
                MNIST_FILES.join(", ")
            ),
        }
    };
    let paths: Vec<PathBuf> = MNIST_FILES.iter().map(|n| find(n)).collect::<Result<_>>()?;
    let mut budget = max_bytes;
    let (train_x, shape) = idx(&paths[0], 3, &mut budget)?;
    let (train_y, _) = idx(&paths[1], 1, &mut budget)?;
    let (test_x, test_shape) = idx(&paths[2], 3, &mut budget)?;
    let (test_y, _) = idx(&paths[3], 1, &mut budget)?;
    if shape[1..] != test_shape[1..] {
        bail!(
            "--data mnist:{}: the training images are {} × {} pixels, the test images {} × {}",
            Foreign::path(dir),
            shape[1],
            shape[2],
            test_shape[1],
            test_shape[2]
        );
    }
    let pixels = shape[1] * shape[2];
    for (images, labels, (ip, lp)) in [
        (&train_x, &train_y, (&paths[0], &paths[1])),
        (&test_x, &test_y, (&paths[2], &paths[3])),
    ] {
        if images.len() / pixels.max(1) != labels.len() {
            bail!(
                "--data: {} holds {} images but {} holds {} labels",
                Foreign::path(ip),
                images.len() / pixels.max(1),
                Foreign::path(lp),
                labels.len()
            );
        }
        if let Some(i) = labels.iter().position(|&l| l > 9) {
            bail!(
                "--data: {}: label {} of item {} is not a digit 0–9",
                Foreign::path(lp),
                labels[i],
                i + 1
            );
        }
    }
    let rows = train_y.len() + test_y.len();
    let x = Array2::from_shape_fn((rows, pixels), |(i, j)| {
        let p = match i < train_y.len() {
            true => train_x[i * pixels + j],
            false => test_x[(i - train_y.len()) * pixels + j],
        };
        f64::from(p) / 255.0
    });
    let y = train_y
        .iter()
        .chain(&test_y)
        .map(|&l| usize::from(l))
        .collect();
    Ok(Table {
        source: String::new(),
        label: None,
        classes: (0..10).map(|d| d.to_string()).collect(),
        inputs: pixels,
        test_from: Some(train_y.len()),
        standardized: false,
        x,
        y,
    })
}

/// Reads an IDX file of unsigned bytes with `dims` dimensions (plain, or gzip if its name
/// ends in `.gz`): its sizes and its bytes. The file's bytes, then the values' (as f64:
/// 8 bytes each), are taken from `budget` before they are read.
fn idx(path: &Path, dims: usize, budget: &mut u64) -> Result<(Vec<u8>, Vec<usize>)> {
    let at = Foreign::path(path);
    let size = size_of(path, *budget, "what is left of --max-memory")?;
    let file =
        std::fs::File::open(path).map_err(|e| anyhow::anyhow!("--data: cannot open {at}: {e}"))?;
    let gz = path.extension().is_some_and(|e| e == "gz");
    let mut reader: Box<dyn Read> = match gz {
        true => Box::new(flate2::read::GzDecoder::new(std::io::BufReader::new(file))),
        false => Box::new(std::io::BufReader::new(file)),
    };
    let mut head = vec![0u8; 4 + 4 * dims];
    reader
        .read_exact(&mut head)
        .map_err(|e| anyhow::anyhow!("--data: {at} is too short for an IDX header ({e})"))?;
    let magic = [0, 0, 0x08, dims as u8];
    if head[..4] != magic {
        bail!(
            "--data: {at} is not an IDX file of bytes with {dims} {} (it starts {:02x?}, not \
             {magic:02x?}){}",
            if dims == 1 { "dimension" } else { "dimensions" },
            &head[..4],
            if !gz && head[..2] == [0x1f, 0x8b] {
                "; it is gzipped: name it .gz"
            } else {
                ""
            }
        );
    }
    let shape: Vec<usize> = head[4..]
        .chunks_exact(4)
        .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize)
        .collect();
    let values = shape.iter().try_fold(1u64, |a, &d| a.checked_mul(d as u64));
    let need = values.and_then(|v| v.checked_mul(9));
    let Some(values) = values.filter(|_| need.is_some_and(|n| n <= budget.saturating_sub(size)))
    else {
        bail!(
            "--data: {at} declares {} values, more than --max-memory holds (each takes 9 \
             bytes: read, then as a number); give a larger --max-memory",
            shape
                .iter()
                .map(|d| d.to_string())
                .collect::<Vec<_>>()
                .join(" × ")
        );
    };
    *budget -= size + values * 9;
    let mut data = Vec::with_capacity(values as usize);
    reader
        .by_ref()
        .take(values + 1)
        .read_to_end(&mut data)
        .map_err(|e| anyhow::anyhow!("--data: cannot read {at}: {e}"))?;
    if data.len() as u64 != values {
        bail!(
            "--data: {at}: its header declares {} values ({}), the file {} {}",
            thousands(values as usize),
            shape
                .iter()
                .map(|d| d.to_string())
                .collect::<Vec<_>>()
                .join(" × "),
            if (data.len() as u64) < values {
                "holds only"
            } else {
                "holds more than"
            },
            thousands(data.len().min(values as usize))
        );
    }
    Ok((data, shape))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, bytes).unwrap();
        p
    }

    #[test]
    fn a_csv_with_a_header_and_string_labels_names_its_classes() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(
            dir.path(),
            "iris.csv",
            b"a,b,kind\n1,2,setosa\n3,4.5,virginica\r\n5,-6e1,setosa\n\"7\",8,versicolor",
        );
        let t = load(p.to_str().unwrap(), None, false, u64::MAX).unwrap();
        assert_eq!(t.classes, ["setosa", "versicolor", "virginica"]);
        assert_eq!(t.y, [0, 2, 0, 1]);
        assert_eq!(t.inputs, 2);
        assert_eq!(t.x.row(2).to_vec(), [5.0, -60.0]);
        assert_eq!(t.label.as_deref(), Some("kind"));
        // By name, the label in the middle; integer labels in numeric order.
        let p = write(dir.path(), "mid.csv", b"x,y,z\n1,10,2\n3,-1,4\n5,2,6\n");
        let t = load(p.to_str().unwrap(), Some("y"), false, u64::MAX).unwrap();
        assert_eq!(t.classes, ["-1", "2", "10"]);
        assert_eq!(t.y, [2, 0, 1]);
        assert_eq!(t.x.row(1).to_vec(), [3.0, 4.0]);
        // By number, no header.
        let p = write(dir.path(), "plain.csv", b"0,1.5,2\n1,2.5,3\n");
        let t = load(p.to_str().unwrap(), Some("1"), false, u64::MAX).unwrap();
        assert_eq!(
            (t.classes.clone(), t.y.clone()),
            (vec!["0".into(), "1".into()], vec![0, 1])
        );
        assert_eq!(t.x.row(0).to_vec(), [1.5, 2.0]);
        assert_eq!(t.label.as_deref(), Some("column 1"));
    }

    #[test]
    fn every_bad_cell_is_reported_at_its_line_and_column() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(
            dir.path(),
            "bad.csv",
            b"a,b,label\n1,x,0\n2,,1\n3,4\ninf,5,1\n6,7,\n",
        );
        let e = load(p.to_str().unwrap(), None, false, u64::MAX)
            .unwrap_err()
            .to_string();
        let f = p.display().to_string();
        for want in [
            "5 bad cells".to_string(),
            format!("{f}:2:2: 'x' is not a number"),
            format!("{f}:3:2: empty cell where a number belongs"),
            format!("{f}:4: 2 cells where the header has 3"),
            format!("{f}:5:1: inf is not a finite number"),
            format!("{f}:6:3: the label is empty"),
        ] {
            assert!(e.contains(&want), "{want} not in:\n{e}");
        }
        let e = load(p.to_str().unwrap(), Some("nope"), false, u64::MAX)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("no column of that name; its header's columns are a, b, label"),
            "{e}"
        );
        let one = write(dir.path(), "one.csv", b"1,1\n");
        let e = load(one.to_str().unwrap(), None, false, u64::MAX)
            .unwrap_err()
            .to_string();
        assert!(e.contains("holds 1 class; it needs 2 to 1000"), "{e}");
    }

    #[test]
    fn a_file_over_the_memory_limit_is_refused_before_reading() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(dir.path(), "big.csv", &b"1,2\n".repeat(100));
        let e = load(p.to_str().unwrap(), None, false, 1000)
            .unwrap_err()
            .to_string();
        assert!(e.contains("is 400 bytes, more than 250 bytes"), "{e}");
        let e = load(dir.path().to_str().unwrap(), None, false, 1000)
            .unwrap_err()
            .to_string();
        assert!(e.contains("is not a regular file"), "{e}");
    }

    /// An IDX file of bytes: magic, sizes, values.
    fn idx_bytes(shape: &[u32], values: &[u8]) -> Vec<u8> {
        let mut b = vec![0, 0, 8, shape.len() as u8];
        for d in shape {
            b.extend(d.to_be_bytes());
        }
        b.extend(values);
        b
    }

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        use std::io::Write;
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(bytes).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn a_tiny_handmade_mnist_folder_reads_plain_and_gzipped() {
        let dir = tempfile::tempdir().unwrap();
        // Three 2 × 2 training images and two test images.
        let train: Vec<u8> = (0..12).map(|v| v * 20).collect();
        write(dir.path(), MNIST_FILES[0], &idx_bytes(&[3, 2, 2], &train));
        write(
            dir.path(),
            &format!("{}.gz", MNIST_FILES[1]),
            &gzip(&idx_bytes(&[3], &[7, 0, 9])),
        );
        write(
            dir.path(),
            MNIST_FILES[2],
            &idx_bytes(&[2, 2, 2], &[255; 8]),
        );
        write(dir.path(), MNIST_FILES[3], &idx_bytes(&[2], &[1, 2]));
        let source = format!("mnist:{}", dir.path().display());
        let t = load(&source, None, false, u64::MAX).unwrap();
        assert_eq!((t.inputs, t.rows(), t.test_from), (4, 5, Some(3)));
        assert_eq!(t.y, [7, 0, 9, 1, 2]);
        assert_eq!(
            t.x.row(1).to_vec(),
            [80.0 / 255.0, 100.0 / 255.0, 120.0 / 255.0, 140.0 / 255.0]
        );
        assert_eq!(t.x.row(4).to_vec(), [1.0; 4]);
        assert_eq!(t.source, source);
        // A label that is no digit; a file shorter than its header says; a missing file.
        write(dir.path(), MNIST_FILES[3], &idx_bytes(&[2], &[1, 12]));
        let e = load(&source, None, false, u64::MAX)
            .unwrap_err()
            .to_string();
        assert!(e.contains("label 12 of item 2 is not a digit"), "{e}");
        write(dir.path(), MNIST_FILES[3], &idx_bytes(&[3], &[1, 2]));
        let e = load(&source, None, false, u64::MAX)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("declares 3 values (3), the file holds only 2"),
            "{e}"
        );
        // Over the limit: refused from the header, before the values are read.
        write(dir.path(), MNIST_FILES[3], &idx_bytes(&[2], &[1, 2]));
        let e = load(&source, None, false, 120).unwrap_err().to_string();
        assert!(
            e.contains("declares 3 × 2 × 2 values, more than --max-memory holds"),
            "{e}"
        );
        std::fs::remove_file(dir.path().join(MNIST_FILES[2])).unwrap();
        let e = load(&source, None, false, u64::MAX)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("t10k-images-idx3-ubyte (or t10k-images-idx3-ubyte.gz) is missing"),
            "{e}"
        );
        // A gzipped file without .gz in its name is named as such.
        write(
            dir.path(),
            MNIST_FILES[2],
            &gzip(&idx_bytes(&[2, 2, 2], &[255; 8])),
        );
        let e = load(&source, None, false, u64::MAX)
            .unwrap_err()
            .to_string();
        assert!(e.contains("it is gzipped: name it .gz"), "{e}");
    }
}
