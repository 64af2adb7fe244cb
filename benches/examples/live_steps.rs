//! Steady-state steps per second of the live lab's step at issue 24's size (ReLU, depth 20 ×
//! width 128, batch 64, f32, per-layer ‖∂L/∂W‖ and ‖ΔW‖/‖W‖ every step), printed as
//! `scripts/jax_reference.py` prints JAX's: after a warm-up, wall-clock steps/s and steps per
//! CPU-second of the process (all its threads; less moved by other work on the machine).
//!
//!     cargo run --release -p gradtutor-benches --example live_steps [STEPS] [REPEATS] [ACTIVATION]

use gradtutor::nn::Activation;
use gradtutor::{LiveRun, TrainSettings};
use std::time::Instant;

/// User + system CPU seconds of this process so far (Linux: /proc/self/stat, 100 ticks/s).
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after.split_whitespace().collect();
    let tick = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the command name.
    (tick(11) + tick(12)) / 100.0
}

fn main() {
    let mut args = std::env::args().skip(1);
    let steps: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(3000);
    let repeats: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(3);
    let activation: Activation = args
        .next()
        .and_then(|a| a.parse().ok())
        .unwrap_or(Activation::Relu);
    let settings = TrainSettings {
        activation: Some(activation),
        depth: Some(20),
        width: Some(128),
        batch: Some(64),
        steps: Some(1_000_000),
        ..Default::default()
    };
    println!("gradtutor LiveRun::step; depth 20 x width 128, batch 64 ({activation}, f32)");
    let mut rates = Vec::new();
    for r in 0..repeats {
        let mut run = LiveRun::new(&settings, 16 << 30).unwrap();
        for _ in 0..300 {
            run.step();
        }
        run.frame(false);
        let (t0, c0) = (Instant::now(), cpu_seconds());
        for _ in 0..steps {
            run.step();
        }
        let (wall, cpu) = (t0.elapsed().as_secs_f64(), cpu_seconds() - c0);
        let last = run.frame(false).losses.last().map_or(f64::NAN, |p| p.1);
        println!(
            "run {}: {:.0} steps/s, {:.0} steps per CPU-second (last loss {last:.4})",
            r + 1,
            steps as f64 / wall,
            steps as f64 / cpu
        );
        rates.push(steps as f64 / wall);
    }
    rates.sort_by(f64::total_cmp);
    println!(
        "median {:.0} steps/s, best {:.0}",
        rates[rates.len() / 2],
        rates[rates.len() - 1]
    );
}
