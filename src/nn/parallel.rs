//! Work split over the machine's cores. Each item is computed by the same code whichever
//! thread runs it, so results are identical to a sequential run, bit for bit.

use std::sync::atomic::{AtomicUsize, Ordering};

/// Below this many elements of work a thread costs more than it saves.
pub const WORTH_A_THREAD: usize = 1 << 16;

/// The most threads [`map`] uses; 0 means one per core.
static THREADS: AtomicUsize = AtomicUsize::new(0);

/// Uses at most `n` threads from now on (at least one).
pub fn set_threads(n: usize) {
    THREADS.store(n.max(1), Ordering::Relaxed);
}

/// The most threads [`map`] uses: the last [`set_threads`], or the machine's cores.
pub fn threads() -> usize {
    match THREADS.load(Ordering::Relaxed) {
        0 => std::thread::available_parallelism().map_or(1, |c| c.get()),
        n => n,
    }
}

/// `[f(0), …, f(n − 1)]`, spread over the cores when `work` (elements touched in all) is at
/// least [`WORTH_A_THREAD`], in order either way. Each thread takes the next item not yet
/// taken, so uneven items still share the cores; which thread runs an item never changes
/// its result.
pub fn map<T: Send>(n: usize, work: usize, f: impl Fn(usize) -> T + Sync) -> Vec<T> {
    let threads = if work < WORTH_A_THREAD {
        1
    } else {
        threads().min(n)
    };
    if threads <= 1 {
        return (0..n).map(f).collect();
    }
    let next = AtomicUsize::new(0);
    let mut done: Vec<(usize, T)> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                let (f, next) = (&f, &next);
                s.spawn(move || {
                    std::iter::from_fn(|| {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        (i < n).then(|| (i, f(i)))
                    })
                    .collect::<Vec<_>>()
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect()
    });
    done.sort_by_key(|&(i, _)| i);
    done.into_iter().map(|(_, v)| v).collect()
}

/// [`map`] for items each large enough to be worth a thread (whole experiment runs, training
/// runs): spread over the cores whatever their number.
pub fn map_each<T: Send>(n: usize, f: impl Fn(usize) -> T + Sync) -> Vec<T> {
    map(n, usize::MAX, f)
}

/// `([first(0), …, first(m − 1)], [then(0), …, then(n − 1)])`, all m + n items spread over the
/// cores as [`map_each`] spreads them, the first kind started first: give it the longest
/// items, so that no core is left idle at the end.
pub fn map_each_both<A: Send, B: Send>(
    m: usize,
    first: impl Fn(usize) -> A + Sync,
    n: usize,
    then: impl Fn(usize) -> B + Sync,
) -> (Vec<A>, Vec<B>) {
    enum Either<A, B> {
        First(A),
        Then(B),
    }
    let mut all = map_each(m + n, |k| match k.checked_sub(m) {
        None => Either::First(first(k)),
        Some(j) => Either::Then(then(j)),
    });
    let thens = all.split_off(m);
    let firsts = all.into_iter().filter_map(|e| match e {
        Either::First(a) => Some(a),
        Either::Then(_) => None,
    });
    let thens = thens.into_iter().filter_map(|e| match e {
        Either::Then(b) => Some(b),
        Either::First(_) => None,
    });
    (firsts.collect(), thens.collect())
}
