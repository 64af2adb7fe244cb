//! Seeded random streams. ChaCha8 is specified bit for bit, so a seed gives the same numbers
//! on every machine; each consumer draws from its own stream of the seed.

use super::Real;
use ndarray::Array2;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;

const DATA: u64 = 0;
const LABELS: u64 = 1;
const DATASET: u64 = 2;
const BATCHES: u64 = 3;
const BIASES: u64 = 4;
const LAYERS: u64 = 1 << 32;

fn stream(seed: u64, stream: u64) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(stream);
    rng
}

/// The stream for input data.
pub fn data(seed: u64) -> ChaCha8Rng {
    stream(seed, DATA)
}

/// The stream for labels.
pub fn labels(seed: u64) -> ChaCha8Rng {
    stream(seed, LABELS)
}

/// The stream for generating a training dataset.
pub fn dataset(seed: u64) -> ChaCha8Rng {
    stream(seed, DATASET)
}

/// The stream that picks training minibatches.
pub fn batches(seed: u64) -> ChaCha8Rng {
    stream(seed, BATCHES)
}

/// The stream for random biases (all layers, first to last).
pub fn biases(seed: u64) -> ChaCha8Rng {
    stream(seed, BIASES)
}

/// The stream for the kernel of dense layer `l` (0-based, the output layer last).
pub fn layer(seed: u64, l: usize) -> ChaCha8Rng {
    stream(seed, LAYERS + l as u64)
}

/// `X` with i.i.d. N(0, 1) entries and labels uniform over `classes`, from `seed`.
pub fn gaussian_batch<F: Real>(
    batch: usize,
    input: usize,
    classes: usize,
    seed: u64,
) -> (Array2<F>, Vec<usize>) {
    let mut rng = data(seed);
    let x = Array2::from_shape_simple_fn((batch, input), || {
        F::of(rng.sample::<f64, _>(StandardNormal))
    });
    let mut rng = labels(seed);
    let labels = (0..batch).map(|_| rng.random_range(0..classes)).collect();
    (x, labels)
}
