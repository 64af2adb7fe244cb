//! `gradtutor export` (Markdown, the default) through the library: the built-in bank loaded,
//! every experiment run and the handout rendered. Loading the bank alone is measured too.

use criterion::{Criterion, criterion_group, criterion_main};
use gradtutor::{Bank, export_markdown};
use std::hint::black_box;
use std::time::Duration;

const LIMIT: u64 = 16 << 30;

fn bench_export(c: &mut Criterion) {
    let mut group = c.benchmark_group("export");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(10));
    group.bench_function("load built-in bank", |b| {
        b.iter(|| Bank::embedded(black_box(LIMIT)).unwrap())
    });
    group.bench_function("export markdown (load bank, experiments, render)", |b| {
        b.iter(|| {
            let bank = Bank::embedded(LIMIT).unwrap();
            export_markdown(black_box(&bank), LIMIT).unwrap()
        })
    });
    group.finish();
}

criterion_group!(benches, bench_export);
criterion_main!(benches);
