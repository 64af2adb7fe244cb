//! The default `train` comparison (four configurations, default steps) end to end: data,
//! networks, training with its checkpoints, and the rendered report.

use criterion::{Criterion, criterion_group, criterion_main};
use gradtutor::Ui;
use gradtutor::render_training;
use gradtutor::{TrainSettings, train};
use std::time::Duration;

fn bench_default_comparison(c: &mut Criterion) {
    let cfg = TrainSettings::default().config().unwrap();
    let mut group = c.benchmark_group("train");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(20));
    group.bench_function("default comparison (4 × 1000 steps, render)", |b| {
        b.iter(|| {
            let report = train(&cfg, 16 << 30, &|_| {}).unwrap();
            render_training(&report, &Ui::plain(80))
        })
    });
    group.finish();
}

criterion_group!(benches, bench_default_comparison);
criterion_main!(benches);
