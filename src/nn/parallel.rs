//! The engine's inner work (a network's layers, its gradient tensors) split over the cores by
//! rayon, whose pool `main` caps at `--threads`. Each item is computed by the same code
//! whichever thread runs it, and rayon collects an indexed map in order, so results are
//! identical to a sequential run, bit for bit.

use rayon::prelude::*;

/// Below this many elements of work a thread costs more than it saves.
pub const WORTH_A_THREAD: usize = 1 << 16;

/// `[f(0), …, f(n − 1)]`, spread over the pool when `work` (elements touched in all) is at
/// least [`WORTH_A_THREAD`], in order either way.
pub fn map<T: Send>(n: usize, work: usize, f: impl Fn(usize) -> T + Sync + Send) -> Vec<T> {
    if work < WORTH_A_THREAD {
        return (0..n).map(f).collect();
    }
    (0..n).into_par_iter().with_max_len(1).map(f).collect()
}
