//! The engine's inner work (a network's layers, its gradient tensors) split over the cores by
//! rayon, whose pool `main` caps at `--threads`. Each item is computed by the same code
//! whichever thread runs it, and rayon collects an indexed map in order, so results are
//! identical to a sequential run, bit for bit.
//!
//! Small work is not kept on the calling thread: with rayon's pool, skipping it below 2^16
//! elements (what the hand-written threads needed) changed no timing measurably (`check
//! questions` 7.9/7.5 s, `train --width 16 --depth 10 --steps 5000` 2.2–2.5 s, with or
//! without, at --threads 2).

use rayon::prelude::*;

/// `[f(0), …, f(n − 1)]`, spread over the pool, in order.
pub fn map<T: Send>(n: usize, f: impl Fn(usize) -> T + Sync + Send) -> Vec<T> {
    (0..n).into_par_iter().with_max_len(1).map(f).collect()
}

/// Work (multiply-adds) above which [`join`] runs its two halves on two threads: a matrix
/// product of 64 × 128 × 128 (2²⁰) gains; products under 2¹⁷ lose more to the hand-over
/// than they gain.
pub const JOIN_WORK: usize = 1 << 17;

/// `(a(), b())`, on two threads of the pool when `work` ≥ [`JOIN_WORK`], else in turn.
/// Each closure runs the same code either way: the results have the same bits.
pub fn join<A: Send, B: Send>(
    work: usize,
    a: impl FnOnce() -> A + Send,
    b: impl FnOnce() -> B + Send,
) -> (A, B) {
    match work >= JOIN_WORK {
        true => rayon::join(a, b),
        false => (a(), b()),
    }
}
