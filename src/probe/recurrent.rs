//! The canonical recurrent probe: one forward pass of a freshly initialized RNN or LSTM over
//! a Gaussian sequence, a linear classifier on the last state, and exact BPTT, measured step
//! by step (README, "The recurrent probe").

use super::{NonFinite, Pass, ProbeBody, ProbeConfig, ProbeKind, ProbeResult, gaussian_batch};
use crate::format::human_bytes;
use crate::nn::recurrent::{Cell, CellKind, LSTM_GATES, SeqBackward};
use crate::nn::stats::median;
use crate::nn::{self, Activation, Init, Real, dense::Dense, loss};
use anyhow::{Result, bail};
use ndarray::{Array1, Array2, s};
use serde::Serialize;

/// What makes a probe recurrent: the cell, the sequence length and the LSTM's forget bias.
/// The rest (width, batch, classes, φ, W_h's initializer, precision, seed) is the
/// [`ProbeConfig`]'s: `spec.input` is the width, `spec.init` initializes W_h.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Recurrent {
    pub cell: CellKind,
    pub seq_len: usize,
    pub forget_bias: f64,
}

/// The LSTM forget-gate bias when none is given (Jozefowicz et al. 2015; Keras's
/// `unit_forget_bias`).
pub(crate) const DEFAULT_FORGET_BIAS: f64 = 1.0;

/// One time step's figures.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Step {
    /// 1 … T.
    pub t: usize,
    /// ‖∂L/∂h_t‖_F over the batch.
    pub signal_norm: f64,
    /// LSTM only: ‖∂L/∂c_t‖_F over the batch.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cell_norm: Option<f64>,
}

/// One parameter tensor's gradient norm.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ParamNorm {
    /// `W_x`, `W_h`, `b` (LSTM: per gate, `W_x[f]`), `W_out`, `b_out`.
    pub name: String,
    pub grad_norm: f64,
}

/// The spectrum that the linearized RNN's per-step factor is predicted from.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Spectrum {
    /// Spectral radius and largest singular value of W_h.
    pub wh_spectral_radius: f64,
    pub wh_top_singular_value: f64,
    /// RMS of φ′(z_t) over the batch, the T steps and the units.
    pub dphi_rms: f64,
    /// Spectral radius and largest singular value of diag(m)·W_hᵀ, m_j the RMS of φ′ at
    /// unit j over the batch and the steps: the linearized per-step Jacobian of ∂L/∂h.
    pub spectral_radius: f64,
    pub top_singular_value: f64,
}

/// What a recurrent probe measured beyond a [`ProbeResult`]'s loss and global norm.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RecurrentFigures {
    pub steps: Vec<Step>,
    pub params: Vec<ParamNorm>,
    /// RNN only (and only when every value is finite).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub spectrum: Option<Spectrum>,
}

impl ProbeConfig {
    /// The canonical recurrent probe: `cell` over `seq_len` steps of width `width`, tanh,
    /// W_h orthogonal (gain 1), forget bias 1, f32, seed 42.
    pub fn recurrent(
        cell: CellKind,
        seq_len: usize,
        width: usize,
        batch: usize,
        classes: usize,
    ) -> Self {
        let mut cfg = ProbeConfig::canonical(1, width, batch, classes);
        cfg.spec.activation = Activation::Tanh;
        cfg.spec.init = Init::Orthogonal(None);
        cfg.kind = ProbeKind::Recurrent(Recurrent {
            cell,
            seq_len,
            forget_bias: DEFAULT_FORGET_BIAS,
        });
        cfg
    }
}

/// Refuses recurrent shapes that cannot run or that need more than `max_bytes`.
pub(super) fn check(cfg: &ProbeConfig, r: &Recurrent, max_bytes: u64) -> Result<()> {
    if r.seq_len == 0 {
        bail!("--seq-len must be at least 1 (got 0)");
    }
    if cfg.spec.input == 0 {
        bail!("width must be at least 1 (got 0)");
    }
    if cfg.spec.outputs < 2 {
        bail!("classes must be at least 2 (got {})", cfg.spec.outputs);
    }
    if cfg.batch == 0 {
        bail!("batch must be at least 1 (got 0)");
    }
    if matches!(
        cfg.precision,
        super::Precision::F16 | super::Precision::Bf16
    ) {
        bail!(
            "a recurrent run is measured in f32 or f64 (got --precision {}); 16-bit storage is \
             modelled for the MLP probe: see `gradtutor demo precision`",
            cfg.precision
        );
    }
    if !r.forget_bias.is_finite() {
        bail!(
            "--forget-bias must be a finite number (got {})",
            crate::format::echo(r.forget_bias)
        );
    }
    let need = bytes(cfg, r).unwrap_or(u128::MAX);
    if need > max_bytes as u128 {
        bail!(
            "this run needs about {} but the memory limit is {}; reduce --width (memory \
             grows with its square), --seq-len or --batch, or raise the limit with \
             --max-memory",
            human_bytes(need),
            human_bytes(max_bytes as u128)
        );
    }
    Ok(())
}

/// Bytes the recurrent probe holds at its peak, from the numbers alone (checked
/// arithmetic): the sequence, parameters and their gradients, the tape (h_t, the gate values
/// or φ′, c_t), a few step-sized temporaries, and for the RNN's spectrum a few n × n f64
/// matrices.
pub(super) fn bytes(cfg: &ProbeConfig, r: &Recurrent) -> Option<u128> {
    let size: u128 = match cfg.precision {
        super::Precision::F64 => 8,
        _ => 4,
    };
    let u = |v: usize| v as u128;
    let (n, b, t, k) = (
        u(cfg.spec.input),
        u(cfg.batch),
        u(r.seq_len),
        u(cfg.spec.outputs),
    );
    let g = u(r.cell.gates());
    let gn = g.checked_mul(n)?;
    let params = n
        .checked_mul(2)?
        .checked_add(1)?
        .checked_mul(gn)?
        .checked_add(n.checked_add(1)?.checked_mul(k)?)?;
    let lstm = u128::from(r.cell == CellKind::Lstm);
    // Per example: x_t, h_t and c_t per step, the G·n stored values per step.
    let per_step = n
        .checked_mul(2 + lstm)?
        .checked_add(gn)?
        .checked_mul(t.checked_add(1)?)?;
    let temps = gn.checked_mul(6)?.checked_add(k.checked_mul(2)?)?;
    let elements = params
        .checked_mul(2)?
        .checked_add(b.checked_mul(per_step.checked_add(temps)?)?)?;
    let spectrum = n.checked_mul(n)?.checked_mul(6 * 8)?;
    elements.checked_mul(size)?.checked_add(spectrum)
}

/// Runs a checked recurrent probe in `F`.
pub(super) fn run<F: Real>(cfg: &ProbeConfig, r: &Recurrent) -> ProbeResult {
    let (n, batch, steps) = (cfg.spec.input, cfg.batch, r.seq_len);
    // Draw order: the T·batch × n inputs row by row from the data stream (x_1's rows first),
    // the labels from the label stream (the first `batch` draws), then W_x, W_h and the
    // classifier's kernel each from its own layer stream 0, 1, 2.
    let (x, mut labels) = gaussian_batch::<F>(steps * batch, n, cfg.spec.outputs, cfg.seed);
    labels.truncate(batch);
    let xs: Vec<Array2<F>> = (0..steps)
        .map(|k| x.slice(s![k * batch..(k + 1) * batch, ..]).to_owned())
        .collect();
    drop(x);
    let cell = build_cell::<F>(cfg, r);
    let out = Dense::new(cfg.spec.output_init.kernel::<F, _>(
        n,
        cfg.spec.outputs,
        &mut nn::rng::layer(cfg.seed, 2),
    ));
    let tape = cell.forward(&xs);
    let logits = out.forward(tape.last().view());
    let (loss, dlogits) = loss::softmax_cross_entropy(logits.view(), &labels);
    let (dout, dh) = out.backward(tape.last().view(), dlogits.view(), true);
    let back = cell.backward(&xs, &tape, dh.expect("asked for ∂L/∂h_T"));
    let params = param_norms(&cell, &back, &dout.dw, &dout.db);
    let global = nn::stats::norm_of(
        &params
            .iter()
            .map(|p| F::of(p.grad_norm))
            .collect::<Vec<F>>(),
    );
    // The forward pass runs from t = 1: the first step with a bad state is first; backward
    // runs from T down.
    let forward_bad = tape.h[1..]
        .iter()
        .enumerate()
        .find_map(|(k, h)| super::first_nonfinite(h.iter()).map(|nan| (k + 1, nan)))
        .or_else(|| super::first_nonfinite(logits.iter()).map(|nan| (steps + 1, nan)));
    let nonfinite = match forward_bad {
        Some((layer, nan)) => Some(NonFinite {
            layer,
            pass: Pass::Forward,
            nan,
        }),
        None => (0..steps).rev().find_map(|k| {
            let v = back.h_norms[k];
            (!v.is_finite()).then_some(NonFinite {
                layer: k + 1,
                pass: Pass::Backward,
                nan: v.is_nan(),
            })
        }),
    };
    let spectrum = (cell.kind == CellKind::Rnn && nonfinite.is_none())
        .then(|| spectrum(&cell, &tape.d))
        .flatten();
    let steps = (0..steps)
        .map(|k| Step {
            t: k + 1,
            signal_norm: back.h_norms[k],
            cell_norm: back.c_norms.get(k).copied(),
        })
        .collect();
    ProbeResult {
        loss: loss.as_f64(),
        global_grad_norm: global,
        nonfinite,
        loss_scale: None,
        body: ProbeBody::Steps(RecurrentFigures {
            steps,
            params,
            spectrum,
        }),
    }
}

/// The cell of the canonical probe: W_x Xavier-normal (`n × G·n`, stream 0), W_h from the
/// config's initializer (`n × G·n`, stream 1), biases 0 except the LSTM's forget block.
pub(crate) fn build_cell<F: Real>(cfg: &ProbeConfig, r: &Recurrent) -> Cell<F> {
    let n = cfg.spec.input;
    let gn = r.cell.gates() * n;
    let wx = Init::XavierNormal.kernel::<F, _>(n, gn, &mut nn::rng::layer(cfg.seed, 0));
    let wh = cfg
        .spec
        .init
        .kernel::<F, _>(n, gn, &mut nn::rng::layer(cfg.seed, 1));
    let mut b = Array1::zeros(gn);
    if r.cell == CellKind::Lstm {
        b.slice_mut(s![n..2 * n]).fill(F::of(r.forget_bias));
    }
    Cell {
        kind: r.cell,
        activation: cfg.spec.activation,
        wx,
        wh,
        b,
    }
}

/// Every parameter's gradient norm; the LSTM's per gate.
fn param_norms<F: Real>(
    cell: &Cell<F>,
    back: &SeqBackward<F>,
    dw_out: &Array2<F>,
    db_out: &Array1<F>,
) -> Vec<ParamNorm> {
    let n = cell.width();
    let g = &back.grad;
    let mut out = Vec::new();
    let mut push = |name: String, v: f64| out.push(ParamNorm { name, grad_norm: v });
    match cell.kind {
        CellKind::Rnn => {
            push("W_x".into(), nn::norm(&g.dwx));
            push("W_h".into(), nn::norm(&g.dwh));
            push("b".into(), nn::norm(&g.db));
        }
        CellKind::Lstm => {
            for (k, gate) in LSTM_GATES.iter().enumerate() {
                let cols = s![.., k * n..(k + 1) * n];
                push(format!("W_x[{gate}]"), nn::norm(&g.dwx.slice(cols)));
                push(format!("W_h[{gate}]"), nn::norm(&g.dwh.slice(cols)));
                push(
                    format!("b[{gate}]"),
                    nn::norm(&g.db.slice(s![k * n..(k + 1) * n])),
                );
            }
        }
    }
    push("W_out".into(), nn::norm(dw_out));
    push("b_out".into(), nn::norm(db_out));
    out
}

/// The RNN's W_h and its linearization diag(m)·W_hᵀ, m_j = RMS of φ′ at unit j over the
/// batch and steps; their spectral radius (Schur) and largest singular value (SVD).
fn spectrum<F: Real>(cell: &Cell<F>, dphi: &[Array2<F>]) -> Option<Spectrum> {
    let n = cell.width();
    let mut sq = vec![0.0f64; n];
    let mut count = 0usize;
    for d in dphi {
        for row in d.rows() {
            for (acc, v) in sq.iter_mut().zip(row) {
                *acc += v.as_f64() * v.as_f64();
            }
            count += 1;
        }
    }
    let m: Vec<f64> = sq
        .iter()
        .map(|s| (s / count.max(1) as f64).sqrt())
        .collect();
    let wh = nalgebra::DMatrix::<f64>::from_fn(n, n, |i, j| cell.wh[(i, j)].as_f64());
    let lin = nalgebra::DMatrix::<f64>::from_fn(n, n, |i, j| m[i] * wh[(j, i)]);
    let (wh_rho, wh_sigma) = (radius(&wh)?, top_singular(&wh));
    let (rho, sigma) = (radius(&lin)?, top_singular(&lin));
    Some(Spectrum {
        wh_spectral_radius: wh_rho,
        wh_top_singular_value: wh_sigma,
        dphi_rms: (m.iter().map(|v| v * v).sum::<f64>() / n as f64).sqrt(),
        spectral_radius: rho,
        top_singular_value: sigma,
    })
}

/// max |λ| over the (complex) eigenvalues, from the real Schur form; None if it does not
/// converge.
fn radius(m: &nalgebra::DMatrix<f64>) -> Option<f64> {
    let schur = m.clone().try_schur(1e-12, 100_000)?;
    Some(
        schur
            .complex_eigenvalues()
            .iter()
            .map(|z| z.norm())
            .fold(0.0, f64::max),
    )
}

fn top_singular(m: &nalgebra::DMatrix<f64>) -> f64 {
    m.singular_values().iter().copied().fold(0.0, f64::max)
}

/// How a recurrent probe's config reads in JSON: the fields that determine it.
#[derive(Serialize)]
pub(super) struct Flat {
    cell: CellKind,
    seq_len: usize,
    width: usize,
    classes: usize,
    batch: usize,
    /// The RNN's φ.
    #[serde(skip_serializing_if = "Option::is_none")]
    activation: Option<Activation>,
    /// W_h's initializer.
    init: Init,
    input_init: Init,
    output_init: Init,
    #[serde(skip_serializing_if = "Option::is_none")]
    forget_bias: Option<f64>,
    precision: super::Precision,
    seed: u64,
}

impl Flat {
    pub(super) fn of(cfg: &ProbeConfig, r: &Recurrent) -> Flat {
        let lstm = r.cell == CellKind::Lstm;
        Flat {
            cell: r.cell,
            seq_len: r.seq_len,
            width: cfg.spec.input,
            classes: cfg.spec.outputs,
            batch: cfg.batch,
            activation: (!lstm).then_some(cfg.spec.activation),
            init: cfg.spec.init,
            input_init: Init::XavierNormal,
            output_init: cfg.spec.output_init,
            forget_bias: lstm.then_some(r.forget_bias),
            precision: cfg.precision,
            seed: cfg.seed,
        }
    }
}

/// `rnn · tanh · W_h orthogonal:0.5 · T 50 × width 128 → 10 · batch 64 · f32 · seed 42`, in
/// keyed pieces as [`ProbeConfig::parts`].
pub(super) fn parts(cfg: &ProbeConfig, r: &Recurrent) -> Vec<(&'static str, String)> {
    let unit = match r.cell {
        CellKind::Rnn => cfg.spec.activation.to_string(),
        CellKind::Lstm => format!("forget bias {}", crate::format::echo(r.forget_bias)),
    };
    vec![
        ("cell", r.cell.to_string()),
        ("activation", unit),
        ("init", format!("W_h {}", cfg.spec.init)),
        (
            "shape",
            format!(
                "T {} × width {} → {}",
                r.seq_len, cfg.spec.input, cfg.spec.outputs
            ),
        ),
        ("batch", format!("batch {}", cfg.batch)),
        ("precision", cfg.precision.to_string()),
        ("seed", format!("seed {}", cfg.seed)),
    ]
}

/// (n_in + n + 1)·G·n for the cell plus (n + 1)·classes for the classifier.
pub(super) fn parameters(cfg: &ProbeConfig, r: &Recurrent) -> usize {
    let n = cfg.spec.input;
    (2 * n + 1) * r.cell.gates() * n + (n + 1) * cfg.spec.outputs
}

impl RecurrentFigures {
    /// log₁₀(‖∂L/∂h_1‖ / ‖∂L/∂h_T‖), when both are positive and finite.
    pub fn signal_orders(&self) -> Option<f64> {
        let (first, last) = (self.steps.first()?, self.steps.last()?);
        let (a, b) = (first.signal_norm, last.signal_norm);
        (a > 0.0 && b > 0.0 && a.is_finite() && b.is_finite()).then(|| libm::log10(a / b))
    }

    /// ‖∂L/∂h_(T−1)‖ / ‖∂L/∂h_T‖: the first step back alone, when both norms are positive and
    /// finite. For an LSTM it is the one step that does not also run along the cell path.
    pub fn first_step_factor(&self) -> Option<f64> {
        let n = self.steps.len();
        if n < 2 {
            return None;
        }
        let (a, b) = (self.steps[n - 2].signal_norm, self.steps[n - 1].signal_norm);
        (a > 0.0 && b > 0.0 && a.is_finite() && b.is_finite()).then(|| a / b)
    }

    /// The steps t whose ‖∂L/∂h_t‖ is exactly 0 (underflow).
    pub fn zero_steps(&self) -> Vec<usize> {
        self.steps
            .iter()
            .filter(|s| s.signal_norm == 0.0)
            .map(|s| s.t)
            .collect()
    }

    /// The median over several seeds' figures of one config, entry by entry.
    pub fn median<'a>(all: impl Iterator<Item = &'a RecurrentFigures>) -> RecurrentFigures {
        let all: Vec<&RecurrentFigures> = all.collect();
        let med = |f: &dyn Fn(&RecurrentFigures) -> f64| median(all.iter().map(|r| f(r)).collect());
        let first = all[0];
        let steps = (0..first.steps.len())
            .map(|k| Step {
                t: first.steps[k].t,
                signal_norm: med(&|r| r.steps[k].signal_norm),
                cell_norm: first.steps[k]
                    .cell_norm
                    .map(|_| med(&|r| r.steps[k].cell_norm.unwrap_or(f64::NAN))),
            })
            .collect();
        let params = (0..first.params.len())
            .map(|k| ParamNorm {
                name: first.params[k].name.clone(),
                grad_norm: med(&|r| r.params[k].grad_norm),
            })
            .collect();
        let spectrum = all.iter().all(|r| r.spectrum.is_some()).then(|| {
            let sp = |f: &dyn Fn(&Spectrum) -> f64| {
                median(
                    all.iter()
                        .filter_map(|r| r.spectrum.as_ref())
                        .map(f)
                        .collect(),
                )
            };
            Spectrum {
                wh_spectral_radius: sp(&|s| s.wh_spectral_radius),
                wh_top_singular_value: sp(&|s| s.wh_top_singular_value),
                dphi_rms: sp(&|s| s.dphi_rms),
                spectral_radius: sp(&|s| s.spectral_radius),
                top_singular_value: sp(&|s| s.top_singular_value),
            }
        });
        RecurrentFigures {
            steps,
            params,
            spectrum,
        }
    }
}
