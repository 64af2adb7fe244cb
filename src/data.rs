//! Datasets generated in-process from a seed, split into a training and a test set: the 2-D
//! classics and a 784-dimensional task labelled by a random teacher network.

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
            _ => 2,
        }
    }

    pub fn classes(self) -> usize {
        match self {
            Task::Spiral => 3,
            Task::Circles | Task::Xor => 2,
            Task::Blobs => 4,
            Task::Teacher => 10,
        }
    }

    pub fn default_noise(self) -> f64 {
        match self {
            Task::Spiral => 0.2,
            Task::Circles => 0.1,
            Task::Xor => 0.05,
            Task::Blobs => 0.5,
            Task::Teacher => 0.0,
        }
    }
}

/// Everything that decides a dataset's contents.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct DataSpec {
    pub kind: Task,
    /// Examples in all, before the split.
    pub samples: usize,
    pub noise: f64,
    /// Fraction of the examples held out for testing.
    pub test_fraction: f64,
    pub seed: u64,
}

impl DataSpec {
    /// Rejects sizes and noise levels that cannot make a dataset.
    pub fn check(&self) -> Result<()> {
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

    /// Examples held out for testing: `test_fraction` of them, rounded, at least one.
    pub fn test_count(&self) -> usize {
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
        let (x, y) = match spec.kind {
            Task::Teacher => teacher(&spec, &mut rng),
            kind => {
                let points: Vec<([f64; 2], usize)> = (0..spec.samples)
                    .map(|i| point(kind, i, spec.samples, spec.noise, &mut rng))
                    .collect();
                let x = Array2::from_shape_fn((spec.samples, 2), |(i, j)| points[i].0[j]);
                (x, points.into_iter().map(|p| p.1).collect())
            }
        };
        let mut order: Vec<usize> = (0..spec.samples).collect();
        order.shuffle(&mut rng);
        let test = spec.test_count();
        let pick = |rows: &[usize]| {
            let xs =
                Array2::from_shape_fn((rows.len(), x.ncols()), |(i, j)| F::of(x[[rows[i], j]]));
            (xs, rows.iter().map(|&r| y[r]).collect::<Vec<_>>())
        };
        let (x_test, y_test) = pick(&order[..test]);
        let (x_train, y_train) = pick(&order[test..]);
        Ok(Dataset {
            spec,
            x_train,
            y_train,
            x_test,
            y_test,
        })
    }

    pub fn inputs(&self) -> usize {
        self.spec.kind.inputs()
    }

    pub fn classes(&self) -> usize {
        self.spec.kind.classes()
    }
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
        Task::Teacher => unreachable!("the teacher task is not 2-D"),
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
