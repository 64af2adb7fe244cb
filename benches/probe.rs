//! Probe throughput against bare ndarray matrix multiplication of the same shapes, and the
//! `demo vanishing` path end to end. Each probe size is measured twice: `probe` draws the
//! network too; `pass` is the forward and backward pass with its figures on a network drawn
//! once. Throughput is in FLOP: 6·batch·fan_in·fan_out per dense
//! layer (forward, ∂L/∂W and ∂L/∂x), so criterion's "elem/s" reads as FLOP/s.

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, Criterion, Throughput, criterion_group, criterion_main};
use gradtutor::nn::{Network, Real};
use gradtutor::probe::{Precision, ProbeConfig, gaussian_batch, measure, probe};
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

/// The probe's forward and backward pass and its per-layer figures on a network drawn once.
fn bench_pass<F: Real>(group: &mut BenchmarkGroup<'_, WallTime>, cfg: &ProbeConfig) {
    let net = Network::<F>::build(&cfg.spec(), cfg.seed).unwrap();
    let (x, labels) = gaussian_batch::<F>(cfg.batch, cfg.input, cfg.classes, cfg.seed);
    group.bench_function(
        format!("pass {} (forward, backward, figures)", F::NAME),
        |b| b.iter(|| measure(&net, black_box(x.clone()), &labels, None)),
    );
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
            group.bench_function(
                format!("probe {precision} (draw network, pass, figures)"),
                |b| b.iter(|| probe(black_box(&cfg), LIMIT).unwrap()),
            );
            match precision {
                Precision::F32 => bench_pass::<f32>(&mut group, &cfg),
                Precision::F64 => bench_pass::<f64>(&mut group, &cfg),
            }
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
