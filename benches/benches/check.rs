//! `gradtutor check questions/` through the library: reading and validating every question
//! file, checking the folder against the built-in bank it extends, then running every numeric
//! quiz item and every claim and rendering the outputs their figures must appear in.

use criterion::{Criterion, criterion_group, criterion_main};
use gradtutor::check_bank;
use std::hint::black_box;
use std::path::Path;
use std::time::Duration;

const LIMIT: u64 = 16 << 30;

fn bench_check(c: &mut Criterion) {
    let dir = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../questions"));
    let found = check_bank(dir, LIMIT, f64::INFINITY).unwrap();
    assert!(found.problems.is_empty(), "{:?}", found.problems);
    let mut group = c.benchmark_group("check");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(15));
    group.bench_function("check questions/ (load, items, claims)", |b| {
        b.iter(|| check_bank(black_box(dir), LIMIT, f64::INFINITY).unwrap())
    });
    group.finish();
}

criterion_group!(benches, bench_check);
criterion_main!(benches);
