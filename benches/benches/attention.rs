//! `demo attention` at its class-size defaults (d_k 16, 64, 256, 1024; one sequence of
//! T = 64 tokens of d_model 1024; d_v 64; f32) end to end, scaled and unscaled: draw the tokens
//! and the projections, forward, the exact backward through the softmax, the figures and
//! the text view. The target is ≤ 100 ms per run on the README's machine.

use criterion::{Criterion, criterion_group, criterion_main};
use gradtutor::{Settings, Ui, render_text};
use std::hint::black_box;
use std::time::Duration;

const LIMIT: u64 = 16 << 30;

fn bench_demo(c: &mut Criterion) {
    let exp = gradtutor::find_experiment("attention").unwrap();
    let mut group = c.benchmark_group("demo attention (d_k 16, 64, 256, 1024)");
    group
        .sample_size(30)
        .measurement_time(Duration::from_secs(5));
    for scale in ["sqrt", "none"] {
        let settings = Settings {
            scale: Some(scale.parse().unwrap()),
            ..Settings::default()
        };
        group.bench_function(format!("--scale {scale} (probe, render)"), |b| {
            b.iter(|| {
                let report = exp.run(black_box(&settings), LIMIT).unwrap();
                render_text(&report, &Ui::plain(80))
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench_demo);
criterion_main!(benches);
