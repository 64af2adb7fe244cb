//! The UCI optical recognition of handwritten digits (Alpaydin & Kaynak 1998), the copy
//! scikit-learn ships as `load_digits` (CC BY 4.0; `data/digits.LICENSE.md`): 1,797 images of
//! 8 × 8 pixels, each pixel a count 0–16, 10 classes. `data/digits.bin` holds them as 65 bytes
//! an example (the 64 pixels row by row, then the digit), in scikit-learn's order; it is
//! embedded, so no file is read and nothing is downloaded. Its length and an FNV-1a checksum
//! are checked before use (FNV-1a is five lines; a hashing crate would guard nothing more).

use super::Table;
use anyhow::{Result, bail};
use ndarray::Array2;

/// The embedded file.
const BYTES: &[u8] = include_bytes!("../../data/digits.bin");
/// Examples in the file.
pub(crate) const EXAMPLES: usize = 1797;
/// Pixels of an example: 8 × 8.
pub(crate) const PIXELS: usize = 64;
/// The fixed split: examples 1–1,348 (in the file's order) train, 1,349–1,797 test (the last
/// quarter, 449; each digit has 41–48 of them).
pub(crate) const TRAIN: usize = 1348;
/// FNV-1a (64-bit) of [`BYTES`].
const CHECKSUM: u64 = 0x7768_69cc_e379_5967;
/// The brightest pixel count: pixels are scaled by 1/16 into [0, 1].
const MAX_PIXEL: u8 = 16;

/// FNV-1a, 64-bit: h ← (h ⊕ byte) · 0x100000001b3 from h = 0xcbf29ce484222325.
pub(crate) fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// The digits as a table, pixels scaled to [0, 1], with the fixed split.
pub(crate) fn table() -> Result<Table> {
    parse(BYTES)
}

/// Checks `bytes` (length, checksum, ranges) and reads them.
fn parse(bytes: &[u8]) -> Result<Table> {
    let row = PIXELS + 1;
    if bytes.len() != EXAMPLES * row || fnv1a(bytes) != CHECKSUM {
        bail!(
            "the embedded digits data is damaged ({} bytes, checksum {:016x}; expected {} \
             bytes, {CHECKSUM:016x}): rebuild gradtutor from an intact copy of data/digits.bin",
            bytes.len(),
            fnv1a(bytes),
            EXAMPLES * row
        );
    }
    let mut x = Array2::<f64>::zeros((EXAMPLES, PIXELS));
    let mut y = Vec::with_capacity(EXAMPLES);
    for (i, example) in bytes.chunks_exact(row).enumerate() {
        for (j, &p) in example[..PIXELS].iter().enumerate() {
            if p > MAX_PIXEL {
                bail!(
                    "the embedded digits data has pixel {p} > 16 in example {}",
                    i + 1
                );
            }
            x[[i, j]] = f64::from(p) / f64::from(MAX_PIXEL);
        }
        let label = example[PIXELS];
        if label > 9 {
            bail!(
                "the embedded digits data has label {label} in example {}",
                i + 1
            );
        }
        y.push(usize::from(label));
    }
    Ok(Table {
        source: "digits".into(),
        label: None,
        classes: (0..10).map(|d| d.to_string()).collect(),
        inputs: PIXELS,
        test_from: Some(TRAIN),
        standardized: false,
        x,
        y,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_digits_are_intact_and_scaled() {
        let t = table().unwrap();
        assert_eq!((t.x.nrows(), t.x.ncols(), t.y.len()), (1797, 64, 1797));
        // scikit-learn's first image is a 0; its first row of pixels 0 0 5 13 9 1 0 0.
        assert_eq!(t.y[..10], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
        let first: Vec<f64> = t.x.row(0).iter().take(8).copied().collect();
        assert_eq!(
            first,
            [
                0.0,
                0.0,
                5.0 / 16.0,
                13.0 / 16.0,
                9.0 / 16.0,
                1.0 / 16.0,
                0.0,
                0.0
            ]
        );
        assert!(t.x.iter().all(|&v| (0.0..=1.0).contains(&v)));
        assert_eq!(t.x.iter().copied().fold(0.0, f64::max), 1.0);
        let mut counts = [0usize; 10];
        for &c in &t.y {
            counts[c] += 1;
        }
        assert_eq!(counts, [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]);
        let mut test = [0usize; 10];
        for &c in &t.y[TRAIN..] {
            test[c] += 1;
        }
        assert_eq!(test.iter().sum::<usize>(), 449);
        assert!(test.iter().all(|&n| (41..=48).contains(&n)), "{test:?}");
    }

    #[test]
    fn damaged_bytes_are_refused() {
        let mut bytes = BYTES.to_vec();
        bytes[100] ^= 1;
        let e = parse(&bytes).unwrap_err().to_string();
        assert!(e.contains("damaged"), "{e}");
        let e = parse(&BYTES[..BYTES.len() - 65]).unwrap_err().to_string();
        assert!(e.contains("116740 bytes"), "{e}");
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        // The published FNV-1a 64 test vector for "a".
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
    }
}
