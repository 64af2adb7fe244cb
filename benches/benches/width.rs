//! `demo width` at its class-size defaults (widths 32, 128, 512; SP and µP; nine learning
//! rates; 40 SGD steps each) through the library: the whole report, every cell trained. The
//! issue's budget is 2 s on the project's 2-core build machine.

use criterion::{Criterion, criterion_group, criterion_main};
use gradtutor::{Settings, find_experiment};
use std::hint::black_box;
use std::time::Duration;

const LIMIT: u64 = 4 << 30;

fn bench_width(c: &mut Criterion) {
    let exp = find_experiment("width").unwrap();
    let mut group = c.benchmark_group("width");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(20));
    group.bench_function("demo width (defaults)", |b| {
        b.iter(|| exp.run(black_box(&Settings::default()), LIMIT).unwrap())
    });
    group.finish();
}

criterion_group!(benches, bench_width);
criterion_main!(benches);
