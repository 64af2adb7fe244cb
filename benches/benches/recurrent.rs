//! The recurrent probe at a class-sized run (T = 50, width 128, batch 64): RNN and LSTM in
//! f32 and f64 (draw the sequence and weights, forward, BPTT, figures and, for the RNN, the
//! spectrum of diag(φ′)·W_hᵀ), and `demo recurrent` end to end. Throughput is in FLOP of the
//! recurrent products: 6·B·G·n·(n_in + n) per step (forward, ∂L/∂W and ∂L/∂h, ∂L/∂x left
//! out), so criterion's "elem/s" reads as FLOP/s.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use gradtutor::nn::recurrent::CellKind;
use gradtutor::{Precision, ProbeConfig, Settings, Ui, probe, render_text};
use std::hint::black_box;
use std::time::Duration;

const LIMIT: u64 = 16 << 30;
const T: usize = 50;
const WIDTH: usize = 128;
const BATCH: usize = 64;

fn bench_probe(c: &mut Criterion) {
    let mut group = c.benchmark_group(format!("recurrent T{T}x{WIDTH}x{BATCH}"));
    group
        .sample_size(30)
        .measurement_time(Duration::from_secs(5));
    for cell in [CellKind::Rnn, CellKind::Lstm] {
        for precision in [Precision::F32, Precision::F64] {
            let mut cfg = ProbeConfig::recurrent(cell, T, WIDTH, BATCH, 10);
            cfg.precision = precision;
            let flops = 6 * T * BATCH * cell.gates() * WIDTH * (2 * WIDTH);
            group.throughput(Throughput::Elements(flops as u64));
            group.bench_function(format!("probe {cell} {precision}"), |b| {
                b.iter(|| probe(black_box(&cfg), LIMIT).unwrap())
            });
        }
    }
    group.finish();
}

fn bench_demo(c: &mut Criterion) {
    let exp = gradtutor::find_experiment("recurrent").unwrap();
    let settings = Settings::default();
    c.bench_function(
        "demo recurrent (4 runs: rnn at 3 gains and lstm; probe, render)",
        |b| {
            b.iter(|| {
                let report = exp.run(black_box(&settings), LIMIT).unwrap();
                render_text(&report, &Ui::plain(80))
            })
        },
    );
}

criterion_group!(benches, bench_probe, bench_demo);
criterion_main!(benches);
