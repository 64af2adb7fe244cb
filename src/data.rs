//! Datasets, split into a training and a test set: generated in-process from a seed (the 2-D
//! classics and a 784-dimensional task labelled by a random teacher network), the embedded
//! handwritten digits (`data/digits.rs`), or a user's own file (`data/file.rs`: CSV, MNIST's
//! IDX files).

pub(crate) mod digits;
pub(crate) mod file;

use crate::nn::{self, Activation, Init, Network, Real, Spec};
use anyhow::{Result, bail};
use clap::ValueEnum;
use ndarray::Array2;
use rand::RngExt;
use rand::seq::SliceRandom;
use rand_distr::StandardNormal;
use serde::{Deserialize, Serialize};
use std::f64::consts::TAU;
use std::fmt;
use std::sync::Arc;

/// Which task to generate.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ValueEnum, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Task {
    /// 3 interleaved spiral arms in 2-D, one class per arm (noise: angle jitter, default 0.2).
    #[default]
    Spiral,
    /// 2 concentric rings in 2-D (noise: radial jitter, default 0.1).
    Circles,
    /// 2-D points labelled by the sign of x·y: no linear boundary exists (noise: jitter, default
    /// 0.05).
    Xor,
    /// 4 Gaussian blobs in 2-D, linearly separable; an easy set (noise: blob std, default 0.5).
    Blobs,
    /// 784-dimensional N(0, 1) inputs, 10 classes: the argmax of a random tanh teacher network
    /// 784 → 64 → 10 (noise: fraction of labels replaced at random, default 0).
    Teacher,
    /// Real handwritten digits, embedded: 1,797 images of 8 × 8 pixels scaled to [0, 1], 10
    /// classes (UCI, via scikit-learn, CC BY 4.0); a fixed split, 1,348 train / 449 test; no
    /// noise or sample count to set. Network: the seed's 64 → 256 → 128 → 10.
    Digits,
}

impl fmt::Display for Task {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let v = self.to_possible_value().expect("no skipped variants");
        f.write_str(v.get_name())
    }
}

impl Task {
    pub fn inputs(self) -> usize {
        match self {
            Task::Teacher => 784,
            Task::Digits => digits::PIXELS,
            _ => 2,
        }
    }

    pub fn classes(self) -> usize {
        match self {
            Task::Spiral => 3,
            Task::Circles | Task::Xor => 2,
            Task::Blobs => 4,
            Task::Teacher | Task::Digits => 10,
        }
    }

    pub fn default_noise(self) -> f64 {
        match self {
            Task::Spiral => 0.2,
            Task::Circles => 0.1,
            Task::Xor => 0.05,
            Task::Blobs => 0.5,
            Task::Teacher | Task::Digits => 0.0,
        }
    }

    /// Whether the examples are fixed (read, not generated): no `--samples` or `--noise`.
    pub fn is_fixed(self) -> bool {
        matches!(self, Task::Digits)
    }
}

/// Examples read rather than generated: the embedded digits or a user's file.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Table {
    /// Where they came from, as given: `digits`, a CSV path, `mnist:DIR`.
    pub source: String,
    /// The CSV's label column, by its header name or number.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// The classes' names; class k is `classes[k]`.
    pub classes: Vec<String>,
    /// Features per example.
    pub inputs: usize,
    /// A fixed split: rows from this one on are the test set (digits, MNIST). `None`: a
    /// shuffle from the seed holds out a quarter (a CSV's rows may be sorted by class).
    pub test_from: Option<usize>,
    /// Each feature was shifted and scaled to mean 0, std 1 on the training set
    /// (`--standardize`; x ← (x − μ_train) / σ_train, σ = 0 leaves the feature centred).
    pub standardized: bool,
    #[serde(skip)]
    pub x: Array2<f64>,
    #[serde(skip)]
    pub y: Vec<usize>,
}

impl Table {
    pub fn rows(&self) -> usize {
        self.y.len()
    }
}

/// Everything that decides a dataset's contents.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DataSpec {
    pub kind: Task,
    /// Examples read from a file (`train --data`), in place of the task's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<Arc<Table>>,
    /// Examples in all, before the split.
    pub samples: usize,
    pub noise: f64,
    /// Fraction of the examples held out for testing.
    pub test_fraction: f64,
    pub seed: u64,
}

impl DataSpec {
    /// A generated (or embedded) task's spec.
    pub fn task(kind: Task, samples: usize, noise: f64, test_fraction: f64, seed: u64) -> Self {
        DataSpec {
            kind,
            file: None,
            samples,
            noise,
            test_fraction,
            seed,
        }
    }

    /// Features per example.
    pub fn inputs(&self) -> usize {
        self.file.as_ref().map_or(self.kind.inputs(), |t| t.inputs)
    }

    /// Classes to tell apart.
    pub fn classes(&self) -> usize {
        self.file
            .as_ref()
            .map_or(self.kind.classes(), |t| t.classes.len())
    }

    /// The data's name for a header: the task, or the file as given.
    pub fn name(&self) -> String {
        self.file
            .as_ref()
            .map_or(self.kind.to_string(), |t| t.source.clone())
    }

    /// The classes' names, for read data (digits, a file); `None` for a generated task.
    pub fn class_names(&self) -> Option<Vec<String>> {
        match (&self.file, self.kind) {
            (Some(t), _) => Some(t.classes.clone()),
            (None, Task::Digits) => Some((0..10).map(|d| d.to_string()).collect()),
            (None, _) => None,
        }
    }

    /// Rejects sizes and noise levels that cannot make a dataset.
    pub fn check(&self) -> Result<()> {
        if let Some(t) = &self.file {
            let test = self.test_count();
            if t.rows() != self.samples || test == 0 || test >= self.samples {
                bail!(
                    "{} has {} usable for training and {} for testing; it needs at \
                     least one of each (and 4 examples in all)",
                    crate::format::Foreign::new(&t.source),
                    crate::format::count(self.samples.saturating_sub(test), "example", "examples"),
                    test
                );
            }
            return Ok(());
        }
        if !self.noise.is_finite() || self.noise < 0.0 {
            bail!(
                "--noise must be a finite number ≥ 0 (got {})",
                crate::format::echo(self.noise)
            );
        }
        if self.kind == Task::Teacher && self.noise > 1.0 {
            bail!(
                "for the teacher dataset --noise is the fraction of labels replaced at random, \
                 so it must lie in [0, 1] (got {})",
                crate::format::echo(self.noise)
            );
        }
        let test = self.test_count();
        if self.samples < 4 || test == 0 || test == self.samples {
            bail!(
                "--samples {} leaves no examples for training or for testing; use at least \
                 4 samples",
                self.samples
            );
        }
        Ok(())
    }

    /// Examples held out for testing: a read set's fixed split, else `test_fraction` of them,
    /// rounded, at least one.
    pub fn test_count(&self) -> usize {
        let fixed = match (&self.file, self.kind) {
            (Some(t), _) => t.test_from,
            (None, Task::Digits) => Some(digits::TRAIN),
            (None, _) => None,
        };
        if let Some(from) = fixed {
            return self.samples.saturating_sub(from);
        }
        ((self.samples as f64 * self.test_fraction).round() as usize).clamp(1, self.samples.max(1))
    }
}

/// A generated dataset in the engine's precision.
#[derive(Clone, Debug)]
pub struct Dataset<F> {
    pub spec: DataSpec,
    pub x_train: Array2<F>,
    pub y_train: Vec<usize>,
    pub x_test: Array2<F>,
    pub y_test: Vec<usize>,
}

impl<F: Real> Dataset<F> {
    /// Generates the examples from the spec's seed, shuffles them and splits off the test set.
    pub fn generate(spec: DataSpec) -> Result<Self> {
        spec.check()?;
        let mut rng = nn::rng::dataset(spec.seed);
        if let Some(t) = spec.file.clone() {
            return Ok(Self::split(
                spec,
                &t.x,
                &t.y,
                t.test_from,
                t.standardized,
                &mut rng,
            ));
        }
        let (x, y) = match spec.kind {
            Task::Digits => {
                let t = digits::table()?;
                return Ok(Self::split(spec, &t.x, &t.y, t.test_from, false, &mut rng));
            }
            Task::Teacher => teacher(&spec, &mut rng),
            kind => {
                let points: Vec<([f64; 2], usize)> = (0..spec.samples)
                    .map(|i| point(kind, i, spec.samples, spec.noise, &mut rng))
                    .collect();
                let x = Array2::from_shape_fn((spec.samples, 2), |(i, j)| points[i].0[j]);
                (x, points.into_iter().map(|p| p.1).collect())
            }
        };
        Ok(Self::split(spec, &x, &y, None, false, &mut rng))
    }

    /// Splits the examples: rows from `test_from` on test (a fixed split), or shuffled by
    /// `rng` with the first [`DataSpec::test_count`] held out; `standardize` scales each
    /// feature by the training set's mean and std.
    fn split(
        spec: DataSpec,
        x: &Array2<f64>,
        y: &[usize],
        test_from: Option<usize>,
        standardize: bool,
        rng: &mut impl rand::Rng,
    ) -> Self {
        let test = spec.test_count();
        let (train_rows, test_rows): (Vec<usize>, Vec<usize>) = match test_from {
            Some(from) => ((0..from).collect(), (from..y.len()).collect()),
            None => {
                let mut order: Vec<usize> = (0..y.len()).collect();
                order.shuffle(rng);
                (order[test..].to_vec(), order[..test].to_vec())
            }
        };
        let (shift, scale) = match standardize {
            true => moments(x, &train_rows),
            false => (vec![0.0; x.ncols()], vec![1.0; x.ncols()]),
        };
        let pick = |rows: &[usize]| {
            let xs = Array2::from_shape_fn((rows.len(), x.ncols()), |(i, j)| {
                F::of((x[[rows[i], j]] - shift[j]) / scale[j])
            });
            (xs, rows.iter().map(|&r| y[r]).collect::<Vec<_>>())
        };
        let (x_test, y_test) = pick(&test_rows);
        let (x_train, y_train) = pick(&train_rows);
        Dataset {
            spec,
            x_train,
            y_train,
            x_test,
            y_test,
        }
    }

    pub fn inputs(&self) -> usize {
        self.spec.inputs()
    }

    pub fn classes(&self) -> usize {
        self.spec.classes()
    }
}

/// Each column's mean and standard deviation over `rows` (population std; 1 where it is 0,
/// so a constant feature is only centred).
fn moments(x: &Array2<f64>, rows: &[usize]) -> (Vec<f64>, Vec<f64>) {
    let n = rows.len().max(1) as f64;
    (0..x.ncols())
        .map(|j| {
            let mean = rows.iter().map(|&r| x[[r, j]]).sum::<f64>() / n;
            let var = rows
                .iter()
                .map(|&r| (x[[r, j]] - mean) * (x[[r, j]] - mean))
                .sum::<f64>()
                / n;
            let std = libm::sqrt(var);
            (mean, if std > 0.0 { std } else { 1.0 })
        })
        .unzip()
}

/// Example `i` of `n` of a 2-D task: its point and its class.
fn point(
    kind: Task,
    i: usize,
    n: usize,
    noise: f64,
    rng: &mut impl rand::Rng,
) -> ([f64; 2], usize) {
    let mut gauss = || rng.sample::<f64, _>(StandardNormal);
    match kind {
        Task::Spiral => {
            // Arm k: radius r ∈ [0, 1] grows with the angle, which turns 1.25 times round.
            let class = i % 3;
            let r = (i / 3) as f64 / (n / 3).max(1) as f64;
            let angle = class as f64 * TAU / 3.0 + 1.25 * TAU * r + noise * gauss();
            ([r * libm::cos(angle), r * libm::sin(angle)], class)
        }
        Task::Circles => {
            let class = i % 2;
            let r = if class == 0 { 0.5 } else { 1.0 } + noise * gauss();
            let angle = TAU * rng.random::<f64>();
            ([r * libm::cos(angle), r * libm::sin(angle)], class)
        }
        Task::Xor => {
            let (a, b) = (
                2.0 * rng.random::<f64>() - 1.0,
                2.0 * rng.random::<f64>() - 1.0,
            );
            let class = usize::from(a * b > 0.0);
            let mut gauss = || rng.sample::<f64, _>(StandardNormal);
            ([a + noise * gauss(), b + noise * gauss()], class)
        }
        Task::Blobs => {
            // Centres on a circle of radius 2.
            let class = i % 4;
            let angle = class as f64 * TAU / 4.0;
            (
                [
                    2.0 * libm::cos(angle) + noise * gauss(),
                    2.0 * libm::sin(angle) + noise * gauss(),
                ],
                class,
            )
        }
        Task::Teacher | Task::Digits => unreachable!("the teacher and digits tasks are not 2-D"),
    }
}

/// Inputs x ~ N(0, I₇₈₄) and labels argmax teacher(x) for a random tanh network
/// 784 → 64 → 10 drawn from the seed, a fraction `noise` of them replaced at random.
fn teacher(spec: &DataSpec, rng: &mut impl rand::Rng) -> (Array2<f64>, Vec<usize>) {
    let (inputs, classes) = (Task::Teacher.inputs(), Task::Teacher.classes());
    let x = Array2::from_shape_simple_fn((spec.samples, inputs), || {
        rng.sample::<f64, _>(StandardNormal)
    });
    let net_spec = Spec {
        input: inputs,
        hidden: vec![64],
        outputs: classes,
        activation: Activation::Tanh,
        init: Init::XavierNormal,
        output_init: Init::XavierNormal,
        batch_norm: false,
        residual: false,
        block: Default::default(),
    };
    let teacher = Network::<f64>::build(&net_spec, spec.seed ^ TEACHER_SALT)
        .expect("the teacher's shape is valid");
    let logits = teacher.logits(x.clone());
    let labels = logits
        .rows()
        .into_iter()
        .map(|row| {
            if rng.random::<f64>() < spec.noise {
                return rng.random_range(0..classes);
            }
            argmax(row.iter().copied())
        })
        .collect();
    (x, labels)
}

/// Keeps the teacher's weights apart from the student's, which are drawn from the same seed.
const TEACHER_SALT: u64 = 0x7EAC_4E55;

/// Index of the largest value (the first, on ties; NaN never wins).
pub(crate) fn argmax(values: impl Iterator<Item = f64>) -> usize {
    let mut best = (0, f64::NEG_INFINITY);
    for (i, v) in values.enumerate() {
        if v > best.1 {
            best = (i, v);
        }
    }
    best.0
}

#[cfg(test)]
mod tests {
    use super::argmax;

    #[test]
    fn argmax_takes_the_first_of_ties_and_never_nan() {
        assert_eq!(argmax([0.1, 0.7, 0.2].into_iter()), 1);
        assert_eq!(argmax([0.5, 0.5].into_iter()), 0);
        assert_eq!(argmax([f64::NAN, 0.1].into_iter()), 1);
        assert_eq!(argmax([f64::NEG_INFINITY, -1.0].into_iter()), 1);
    }
}
