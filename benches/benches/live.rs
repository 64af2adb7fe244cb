//! The live lab's training step (`LiveRun::step`: forward, backward, momentum update, with
//! per-layer ‖∂L/∂W‖ and ‖ΔW‖/‖W‖ every step) at issue 24's size: ReLU, depth 20 × width
//! 128, batch 64, f32. Criterion reports the time per step; steps/s = 1 / that. The JAX
//! reference for the same step is `scripts/jax_reference.py`.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use gradtutor::nn::Activation;
use gradtutor::{LiveRun, TrainSettings};
use std::time::Duration;

fn bench_live_step(c: &mut Criterion) {
    let settings = TrainSettings {
        activation: Some(Activation::Relu),
        depth: Some(20),
        width: Some(128),
        batch: Some(64),
        steps: Some(1_000_000),
        ..Default::default()
    };
    let mut run = LiveRun::new(&settings, 16 << 30).unwrap();
    // Past the first steps' allocations, as the JAX figure is past its warm-up.
    for _ in 0..200 {
        run.step();
    }
    let mut group = c.benchmark_group("live");
    group
        .throughput(Throughput::Elements(1))
        .sample_size(20)
        .measurement_time(Duration::from_secs(10));
    group.bench_function("step relu depth 20 x width 128 batch 64", |b| {
        b.iter(|| {
            run.step();
            // The losses since the last frame stay bounded, as the lab's frames drain them.
            if run.step_count().is_multiple_of(1000) {
                run.frame(false);
            }
        })
    });
    group.finish();
}

criterion_group!(benches, bench_live_step);
criterion_main!(benches);
