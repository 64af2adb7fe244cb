//! Probe throughput against bare ndarray matrix multiplication of the same shapes, and the
//! `demo vanishing` path end to end. Throughput is in FLOP: 6·batch·fan_in·fan_out per dense
//! layer (forward, ∂L/∂W and ∂L/∂x), so criterion's "elem/s" reads as FLOP/s.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use gradtutor::probe::{Precision, ProbeConfig, probe};
use gradtutor::report::text;
use gradtutor::settings::Settings;
use gradtutor::style::Style;
use ndarray::Array2;
use std::hint::black_box;
use std::time::Duration;

const LIMIT: u64 = 16 << 30;

fn flops(cfg: &ProbeConfig) -> u64 {
    cfg.spec()
        .fans()
        .iter()
        .map(|&(i, o)| 6 * (cfg.batch * i * o) as u64)
        .sum()
}

fn matmuls<F: ndarray::LinalgScalar>(depth: usize, width: usize, batch: usize) -> F {
    let a = Array2::<F>::zeros((batch, width));
    let w = Array2::<F>::zeros((width, width));
    let mut acc = F::zero();
    for _ in 0..depth {
        let z = a.dot(&w); // forward
        let dw = a.t().dot(&z); // ∂L/∂W = aᵀ dz
        let dx = z.dot(&w.t()); // ∂L/∂x = dz Wᵀ
        acc = acc + z[[0, 0]] + dw[[0, 0]] + dx[[0, 0]];
    }
    acc
}

fn bench_probe(c: &mut Criterion) {
    for (depth, width, batch, samples, secs) in [(20, 128, 64, 50, 3), (50, 1024, 256, 10, 20)] {
        let mut group = c.benchmark_group(format!("probe {depth}x{width}x{batch}"));
        group
            .sample_size(samples)
            .measurement_time(Duration::from_secs(secs));
        for precision in [Precision::F32, Precision::F64] {
            let mut cfg = ProbeConfig::canonical(depth, width, batch, 10);
            cfg.precision = precision;
            // The output layer (width → 10) is left out of the bare-matmul count.
            let hidden = 6 * (depth * batch * width * width) as u64;
            group.throughput(Throughput::Elements(flops(&cfg)));
            group.bench_function(format!("probe {precision}"), |b| {
                b.iter(|| probe(black_box(&cfg), LIMIT).unwrap())
            });
            group.throughput(Throughput::Elements(hidden));
            match precision {
                Precision::F32 => group.bench_function("bare matmul f32", |b| {
                    b.iter(|| matmuls::<f32>(depth, width, batch))
                }),
                Precision::F64 => group.bench_function("bare matmul f64", |b| {
                    b.iter(|| matmuls::<f64>(depth, width, batch))
                }),
            };
        }
        group.finish();
    }
}

fn bench_demo(c: &mut Criterion) {
    let exp = gradtutor::experiments::find("vanishing").unwrap();
    let settings = Settings {
        depth: Some(20),
        ..Settings::default()
    };
    c.bench_function("demo vanishing --depth 20 (build, probe, render)", |b| {
        b.iter(|| {
            let report = exp.run(black_box(&settings), LIMIT).unwrap();
            text::render(&report, &Style::plain(), 80)
        })
    });
}

criterion_group!(benches, bench_demo, bench_probe);
criterion_main!(benches);
