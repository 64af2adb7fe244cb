//! Probe throughput against bare ndarray matrix multiplication of the same shapes, and the
//! `demo vanishing` path end to end. Each probe size is measured twice: `probe` draws the
//! network too; `pass` is the forward and backward pass with its figures on a network drawn
//! once. The bare-matmul baseline comes twice: the same zero matrices reused and each result
//! dropped at once (the ideal), and distinct kernels with every result kept (what a network's
//! forward and backward products cost). Throughput is in FLOP: 6·batch·fan_in·fan_out per dense
//! layer (forward, ∂L/∂W and ∂L/∂x), so criterion's "elem/s" reads as FLOP/s.

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, Criterion, Throughput, criterion_group, criterion_main};
use gradtutor::Settings;
use gradtutor::Ui;
use gradtutor::nn::{Network, Real};
use gradtutor::render_text;
use gradtutor::{Precision, ProbeConfig, gaussian_batch, measure_pass, probe};
use ndarray::Array2;
use std::hint::black_box;
use std::time::Duration;

const LIMIT: u64 = 16 << 30;

fn flops(cfg: &ProbeConfig) -> u64 {
    cfg.spec
        .fans()
        .iter()
        .map(|&(i, o)| 6 * (cfg.batch * i * o) as u64)
        .sum()
}

/// The same products as a network makes them: a distinct non-zero kernel per layer, and
/// every result kept until the end (as the tape and the gradients are), so each one lands
/// in fresh memory. The kernels are made once, outside the timing.
fn kernels<F: ndarray::LinalgScalar + num_traits::FromPrimitive>(
    depth: usize,
    width: usize,
) -> Vec<Array2<F>> {
    (0..depth)
        .map(|l| {
            Array2::from_shape_fn((width, width), |(i, j)| {
                F::from_f64((((i * 31 + j * 17 + l * 7) % 97) as f64 - 48.0) * 1e-3).unwrap()
            })
        })
        .collect()
}

fn network_matmuls<F: ndarray::LinalgScalar>(ws: &[Array2<F>], a: &Array2<F>) -> usize {
    let forward: Vec<Array2<F>> = ws.iter().map(|w| a.dot(w)).collect();
    let backward: Vec<(Array2<F>, Array2<F>)> = ws
        .iter()
        .zip(&forward)
        .map(|(w, z)| (a.t().dot(z), z.dot(&w.t())))
        .collect();
    forward.len() + backward.len()
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
    let net = Network::<F>::build(&cfg.spec, cfg.seed).unwrap();
    let (x, labels) = gaussian_batch::<F>(cfg.batch, cfg.spec.input, cfg.spec.outputs, cfg.seed);
    group.bench_function(
        format!("pass {} (forward, backward, figures)", F::NAME),
        |b| b.iter(|| measure_pass(&net, black_box(x.clone()), &labels, None)),
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
                // The loop runs f32 and f64 only.
                Precision::F16 | Precision::Bf16 => {}
            }
            group.throughput(Throughput::Elements(hidden));
            match precision {
                Precision::F32 => {
                    group.bench_function("bare matmul f32", |b| {
                        b.iter(|| matmuls::<f32>(depth, width, batch))
                    });
                    let (ws, a) = (kernels::<f32>(depth, width), Array2::ones((batch, width)));
                    group.bench_function("bare matmul f32, distinct kernels, results kept", |b| {
                        b.iter(|| network_matmuls(black_box(&ws), &a))
                    });
                }
                Precision::F64 => {
                    group.bench_function("bare matmul f64", |b| {
                        b.iter(|| matmuls::<f64>(depth, width, batch))
                    });
                    let (ws, a) = (kernels::<f64>(depth, width), Array2::ones((batch, width)));
                    group.bench_function("bare matmul f64, distinct kernels, results kept", |b| {
                        b.iter(|| network_matmuls(black_box(&ws), &a))
                    });
                }
                Precision::F16 | Precision::Bf16 => {}
            };
        }
        group.finish();
    }
}

fn bench_demo(c: &mut Criterion) {
    let exp = gradtutor::find_experiment("vanishing").unwrap();
    let settings = Settings {
        depth: Some(20),
        ..Settings::default()
    };
    c.bench_function("demo vanishing --depth 20 (build, probe, render)", |b| {
        b.iter(|| {
            let report = exp.run(black_box(&settings), LIMIT).unwrap();
            render_text(&report, &Ui::plain(80))
        })
    });
}

criterion_group!(benches, bench_demo, bench_probe);
criterion_main!(benches);
