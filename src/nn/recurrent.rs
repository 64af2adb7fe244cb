//! Recurrent cells run over a sequence, with exact backpropagation through time (BPTT).
//!
//! Both cells keep their weights packed, gate blocks side by side along the columns:
//! `W_x` is `n_in × G·n`, `W_h` is `n × G·n`, `b` has `G·n` entries, with G = 1 for the
//! vanilla RNN and G = 4 for the LSTM (blocks in the order i, f, g, o, as PyTorch and Keras).

use super::activation::Activation;
use super::real::Real;
use super::stats::norm;
use ndarray::{Array1, Array2, Axis, Zip, s};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Which recurrent cell.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum CellKind {
    /// h_t = φ(x_t W_x + h_(t−1) W_h + b).
    Rnn,
    /// a_t = x_t W_x + h_(t−1) W_h + b split into i, f, g, o; i, f, o = σ(·), g = tanh(·);
    /// c_t = f ⊙ c_(t−1) + i ⊙ g; h_t = o ⊙ tanh(c_t).
    Lstm,
}

/// The gate blocks of the LSTM's packed weights, in order.
pub const LSTM_GATES: [&str; 4] = ["i", "f", "g", "o"];

impl CellKind {
    /// Gate blocks per unit: 1 or 4.
    pub fn gates(self) -> usize {
        match self {
            CellKind::Rnn => 1,
            CellKind::Lstm => 4,
        }
    }
}

impl fmt::Display for CellKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CellKind::Rnn => "rnn",
            CellKind::Lstm => "lstm",
        })
    }
}

impl FromStr for CellKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "rnn" => Ok(CellKind::Rnn),
            "lstm" => Ok(CellKind::Lstm),
            _ => Err(format!(
                "unknown cell {}: valid cells are rnn, lstm",
                super::activation::quote(s)
            )),
        }
    }
}

impl TryFrom<String> for CellKind {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        s.parse()
    }
}

impl From<CellKind> for String {
    fn from(c: CellKind) -> String {
        c.to_string()
    }
}

/// A recurrent cell's parameters.
#[derive(Clone, Debug)]
pub struct Cell<F> {
    pub kind: CellKind,
    /// φ of the RNN cell (the LSTM's nonlinearities are fixed: σ for gates, tanh otherwise).
    pub activation: Activation,
    pub wx: Array2<F>,
    pub wh: Array2<F>,
    pub b: Array1<F>,
}

/// Gradients of a cell's parameters, shaped as the parameters.
#[derive(Clone, Debug)]
pub struct CellGrad<F> {
    pub dwx: Array2<F>,
    pub dwh: Array2<F>,
    pub db: Array1<F>,
}

/// What the forward pass keeps for BPTT.
#[derive(Clone, Debug)]
pub struct SeqTape<F> {
    /// h_0 … h_T (h_0 = 0), each `batch × n`.
    pub h: Vec<Array2<F>>,
    /// RNN: φ′(z_t) for t = 1 … T. LSTM: the gate values [i f g o] (after σ / tanh),
    /// `batch × 4n`, for t = 1 … T.
    pub d: Vec<Array2<F>>,
    /// LSTM only: c_0 … c_T (c_0 = 0).
    pub c: Vec<Array2<F>>,
}

impl<F: Real> SeqTape<F> {
    /// The last state h_T.
    pub fn last(&self) -> &Array2<F> {
        self.h.last().expect("h_0 is always kept")
    }
}

/// Which state a nudge perturbs (for finite-difference tests of ∂L/∂h_t and ∂L/∂c_t).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    H,
    C,
}

/// What BPTT returns: the parameter gradients and the norms of the state gradients.
#[derive(Clone, Debug)]
pub struct SeqBackward<F> {
    pub grad: CellGrad<F>,
    /// ‖∂L/∂h_t‖_F over the batch for t = 1 … T (index t − 1), the total derivative through
    /// every later step.
    pub h_norms: Vec<f64>,
    /// LSTM only: ‖∂L/∂c_t‖_F for t = 1 … T.
    pub c_norms: Vec<f64>,
    /// ∂L/∂h_0 (the signal that would flow into an earlier segment).
    pub dh0: Array2<F>,
}

impl<F: Real> Cell<F> {
    /// Hidden units n.
    pub fn width(&self) -> usize {
        self.wh.nrows()
    }

    /// Runs the cell over `xs` (each `batch × n_in`) from h_0 = 0 (and c_0 = 0).
    pub fn forward(&self, xs: &[Array2<F>]) -> SeqTape<F> {
        self.forward_nudged(xs, &mut |_, _, _| {})
    }

    /// [`forward`](Self::forward), calling `nudge(t, state, value)` on each new c_t (before
    /// h_t is formed from it) and h_t, so that a test can perturb one state entry.
    pub fn forward_nudged(
        &self,
        xs: &[Array2<F>],
        nudge: &mut dyn FnMut(usize, State, &mut Array2<F>),
    ) -> SeqTape<F> {
        let batch = xs.first().map_or(0, |x| x.nrows());
        let n = self.width();
        let mut tape = SeqTape {
            h: vec![Array2::zeros((batch, n))],
            d: Vec::with_capacity(xs.len()),
            c: match self.kind {
                CellKind::Rnn => Vec::new(),
                CellKind::Lstm => vec![Array2::zeros((batch, n))],
            },
        };
        for (k, x) in xs.iter().enumerate() {
            let t = k + 1;
            // z_t = x_t W_x + h_(t−1) W_h + b (all G blocks at once).
            let mut z = x.dot(&self.wx) + tape.h[k].dot(&self.wh);
            z += &self.b;
            match self.kind {
                CellKind::Rnn => {
                    // h_t = φ(z_t); backward: ∂L/∂z_t = ∂L/∂h_t ⊙ φ′(z_t).
                    let dphi = self.activation.forward(&mut z);
                    nudge(t, State::H, &mut z);
                    tape.d.push(dphi);
                    tape.h.push(z);
                }
                CellKind::Lstm => {
                    // i, f, o = σ(·), g = tanh(·); c_t = f ⊙ c_(t−1) + i ⊙ g; h_t = o ⊙ tanh c_t.
                    for (gate, phi) in [
                        Activation::Sigmoid,
                        Activation::Sigmoid,
                        Activation::Tanh,
                        Activation::Sigmoid,
                    ]
                    .into_iter()
                    .enumerate()
                    {
                        z.slice_mut(s![.., gate * n..(gate + 1) * n])
                            .mapv_inplace(|v| phi.f(v));
                    }
                    let (i, f, g, o) = gates(&z, n);
                    let mut c = &f * &tape.c[k] + &i * &g;
                    nudge(t, State::C, &mut c);
                    let mut h = c.mapv(|v| v.tanh_p()) * o;
                    nudge(t, State::H, &mut h);
                    tape.d.push(z);
                    tape.c.push(c);
                    tape.h.push(h);
                }
            }
        }
        tape
    }

    /// BPTT from `dh_last` = ∂L/∂h_T (the loss depends on the sequence only through h_T).
    /// Each backward rule is the derivative of the forward rule of the same name above.
    pub fn backward(
        &self,
        xs: &[Array2<F>],
        tape: &SeqTape<F>,
        dh_last: Array2<F>,
    ) -> SeqBackward<F> {
        let n = self.width();
        let mut grad = CellGrad {
            dwx: Array2::zeros(self.wx.raw_dim()),
            dwh: Array2::zeros(self.wh.raw_dim()),
            db: Array1::zeros(self.b.raw_dim()),
        };
        let steps = xs.len();
        let mut h_norms = vec![0.0; steps];
        let mut c_norms = Vec::new();
        let mut dh = dh_last;
        let mut dc = Array2::<F>::zeros(dh.raw_dim());
        if self.kind == CellKind::Lstm {
            c_norms = vec![0.0; steps];
        }
        for k in (0..steps).rev() {
            h_norms[k] = norm(&dh);
            let dz = match self.kind {
                CellKind::Rnn => {
                    // ∂L/∂z_t = ∂L/∂h_t ⊙ φ′(z_t).
                    let mut dz = dh;
                    Activation::backward(&tape.d[k], &mut dz);
                    dz
                }
                CellKind::Lstm => {
                    let (i, f, g, o) = gates(&tape.d[k], n);
                    let tc = tape.c[k + 1].mapv(|v| v.tanh_p());
                    // h_t = o ⊙ tanh c_t: ∂L/∂o = ∂L/∂h ⊙ tanh c_t,
                    // ∂L/∂c_t += ∂L/∂h ⊙ o ⊙ (1 − tanh² c_t).
                    let d_o = &dh * &tc;
                    Zip::from(&mut dc)
                        .and(&dh)
                        .and(&o)
                        .and(&tc)
                        .for_each(|dc, &dh, &o, &tc| *dc += dh * o * (F::one() - tc * tc));
                    c_norms[k] = norm(&dc);
                    // c_t = f ⊙ c_(t−1) + i ⊙ g: ∂L/∂i = ∂L/∂c ⊙ g, ∂L/∂g = ∂L/∂c ⊙ i,
                    // ∂L/∂f = ∂L/∂c ⊙ c_(t−1), ∂L/∂c_(t−1) = ∂L/∂c ⊙ f.
                    let d_i = &dc * &g;
                    let d_g = &dc * &i;
                    let d_f = &dc * &tape.c[k];
                    // Through the gate nonlinearities: σ′ = s(1 − s), tanh′ = 1 − g².
                    let mut dz = Array2::zeros(tape.d[k].raw_dim());
                    let sig = |d: &Array2<F>, s: &Array2<F>| {
                        Zip::from(d)
                            .and(s)
                            .map_collect(|&d, &s| d * s * (F::one() - s))
                    };
                    dz.slice_mut(s![.., 0..n]).assign(&sig(&d_i, &i));
                    dz.slice_mut(s![.., n..2 * n]).assign(&sig(&d_f, &f));
                    dz.slice_mut(s![.., 2 * n..3 * n]).assign(
                        &Zip::from(&d_g)
                            .and(&g)
                            .map_collect(|&d, &g| d * (F::one() - g * g)),
                    );
                    dz.slice_mut(s![.., 3 * n..]).assign(&sig(&d_o, &o));
                    dc *= &f;
                    dz
                }
            };
            // z_t = x_t W_x + h_(t−1) W_h + b: ∂L/∂W_x += x_tᵀ ∂L/∂z_t, ∂L/∂W_h += h_(t−1)ᵀ ∂L/∂z_t,
            // ∂L/∂b += Σ_batch ∂L/∂z_t, ∂L/∂h_(t−1) = ∂L/∂z_t W_hᵀ.
            grad.dwx += &xs[k].t().dot(&dz);
            grad.dwh += &tape.h[k].t().dot(&dz);
            grad.db += &dz.sum_axis(Axis(0));
            dh = dz.dot(&self.wh.t());
        }
        SeqBackward {
            grad,
            h_norms,
            c_norms,
            dh0: dh,
        }
    }

    /// The parameters as one list, in the order W_x, W_h, b (for tests that nudge them).
    pub fn params_mut(&mut self) -> [ndarray::ArrayViewMutD<'_, F>; 3] {
        [
            self.wx.view_mut().into_dyn(),
            self.wh.view_mut().into_dyn(),
            self.b.view_mut().into_dyn(),
        ]
    }
}

impl<F: Real> CellGrad<F> {
    /// The gradients in the order of [`Cell::params_mut`].
    pub fn tensors(&self) -> [ndarray::ArrayViewD<'_, F>; 3] {
        [
            self.dwx.view().into_dyn(),
            self.dwh.view().into_dyn(),
            self.db.view().into_dyn(),
        ]
    }
}

/// The four gate blocks of a packed `batch × 4n` array, as owned arrays.
fn gates<F: Real>(z: &Array2<F>, n: usize) -> (Array2<F>, Array2<F>, Array2<F>, Array2<F>) {
    let block = |g: usize| z.slice(s![.., g * n..(g + 1) * n]).to_owned();
    (block(0), block(1), block(2), block(3))
}

/// BPTT against central finite differences (f64, small sizes, every parameter and every
/// state) and the LSTM's forget-gate closed form.
#[cfg(test)]
// Tests compare against std math; only the engine's own code must avoid it (clippy.toml).
#[allow(clippy::disallowed_methods)]
mod tests {
    use super::*;
    use crate::nn::dense::Dense;
    use crate::nn::{loss, rng};
    use rand::RngExt;
    use rand_distr::StandardNormal;

    const N_IN: usize = 3;
    const N: usize = 4;
    const T: usize = 5;
    const BATCH: usize = 3;
    const CLASSES: usize = 3;

    /// A small cell with every parameter non-trivial (biases too), its classifier, a sequence
    /// and labels, all from `seed`.
    fn setup(
        kind: CellKind,
        activation: Activation,
        seed: u64,
    ) -> (Cell<f64>, Dense<f64>, Vec<Array2<f64>>, Vec<usize>) {
        let g = kind.gates() * N;
        let mut r = rng::data(seed);
        let mut normal = |scale: f64| scale * r.sample::<f64, _>(StandardNormal);
        let wx = Array2::from_shape_simple_fn((N_IN, g), || normal(0.6));
        let wh = Array2::from_shape_simple_fn((N, g), || normal(0.6));
        let b = Array1::from_shape_simple_fn(g, || normal(0.3));
        let xs = (0..T)
            .map(|_| Array2::from_shape_simple_fn((BATCH, N_IN), || normal(1.0)))
            .collect();
        let mut out = Dense::new(Array2::from_shape_simple_fn((N, CLASSES), || normal(0.8)));
        out.b = Array1::from_shape_simple_fn(CLASSES, || normal(0.2));
        let labels = (0..BATCH).map(|i| (i + seed as usize) % CLASSES).collect();
        let cell = Cell {
            kind,
            activation,
            wx,
            wh,
            b,
        };
        (cell, out, xs, labels)
    }

    fn loss_of(tape: &SeqTape<f64>, out: &Dense<f64>, labels: &[usize]) -> f64 {
        let logits = out.forward(tape.last().view());
        loss::softmax_cross_entropy(logits.view(), labels).0
    }

    /// The fourth-order central stencil with h = 1e−4 (truncation O(h⁴), rounding ~1e−12).
    fn derivative(f: impl Fn(f64) -> f64) -> f64 {
        let h = 1e-4;
        (-f(2.0 * h) + 8.0 * f(h) - 8.0 * f(-h) + f(-2.0 * h)) / (12.0 * h)
    }

    fn rel(a: f64, n: f64) -> f64 {
        (a - n).abs() / a.abs().max(n.abs()).max(1e-4)
    }

    /// Worst relative error over every entry of W_x, W_h, b (each LSTM gate's block included),
    /// the classifier's W_out and b_out, and the norms ‖∂L/∂h_t‖ (and ‖∂L/∂c_t‖) for every t.
    fn worst_error(kind: CellKind, activation: Activation, seed: u64) -> f64 {
        let (cell, out, xs, labels) = setup(kind, activation, seed);
        let tape = cell.forward(&xs);
        let logits = out.forward(tape.last().view());
        let (_, dlogits) = loss::softmax_cross_entropy(logits.view(), &labels);
        let (dout, dh) = out.backward(tape.last().view(), dlogits.view(), true);
        let back = cell.backward(&xs, &tape, dh.unwrap());
        let mut worst: f64 = 0.0;
        // The cell's parameters.
        let grads: Vec<Vec<f64>> = back
            .grad
            .tensors()
            .iter()
            .map(|t| t.iter().copied().collect())
            .collect();
        for (k, g) in grads.iter().enumerate() {
            for (j, &a) in g.iter().enumerate() {
                let n = derivative(|d| {
                    let mut c = cell.clone();
                    *c.params_mut()[k].iter_mut().nth(j).unwrap() += d;
                    loss_of(&c.forward(&xs), &out, &labels)
                });
                worst = worst.max(rel(a, n));
            }
        }
        // The classifier's.
        for (j, &a) in dout.dw.iter().enumerate() {
            let n = derivative(|d| {
                let mut o = out.clone();
                *o.w.iter_mut().nth(j).unwrap() += d;
                loss_of(&tape, &o, &labels)
            });
            worst = worst.max(rel(a, n));
        }
        for (j, &a) in dout.db.iter().enumerate() {
            let n = derivative(|d| {
                let mut o = out.clone();
                o.b[j] += d;
                loss_of(&tape, &o, &labels)
            });
            worst = worst.max(rel(a, n));
        }
        // The states: ‖∂L/∂h_t‖ from a numeric derivative for every entry of h_t.
        let states: &[(State, &Vec<f64>)] = match kind {
            CellKind::Rnn => &[(State::H, &back.h_norms)],
            CellKind::Lstm => &[(State::H, &back.h_norms), (State::C, &back.c_norms)],
        };
        for &(state, norms) in states {
            assert_eq!(norms.len(), T);
            for t in 1..=T {
                let mut sq = 0.0;
                for i in 0..BATCH {
                    for j in 0..N {
                        let n = derivative(|d| {
                            let tape = cell.forward_nudged(&xs, &mut |at, s, v| {
                                if at == t && s == state {
                                    v[(i, j)] += d;
                                }
                            });
                            loss_of(&tape, &out, &labels)
                        });
                        sq += n * n;
                    }
                }
                worst = worst.max(rel(norms[t - 1], sq.sqrt()));
            }
        }
        worst
    }

    #[test]
    fn rnn_bptt_matches_finite_differences_for_every_parameter_and_state() {
        for act in [
            Activation::Tanh,
            Activation::Sigmoid,
            Activation::Linear,
            Activation::Gelu,
        ] {
            let err = worst_error(CellKind::Rnn, act, 3);
            assert!(err < 1e-6, "rnn {act}: worst relative error {err:e}");
        }
    }

    #[test]
    fn lstm_bptt_matches_finite_differences_for_every_gate_and_state() {
        for seed in [5, 6] {
            let err = worst_error(CellKind::Lstm, Activation::Tanh, seed);
            assert!(err < 1e-6, "lstm seed {seed}: worst relative error {err:e}");
        }
    }

    // Catches: a forget gate that does not scale the cell's gradient. With W_x = W_h = 0 every
    // gate is constant, f = σ(b_f), and h_t no longer feeds the next step, so ∂L/∂c_(t−1) =
    // f ⊙ ∂L/∂c_t exactly: the norm shrinks by σ(forget bias) per step.
    #[test]
    fn lstm_cell_gradient_shrinks_by_sigma_of_the_forget_bias_each_step() {
        for bias in [-1.0, 0.0, 1.0, 3.0] {
            let (mut cell, out, xs, labels) = setup(CellKind::Lstm, Activation::Tanh, 9);
            cell.wx.fill(0.0);
            cell.wh.fill(0.0);
            cell.b.fill(0.5);
            cell.b.slice_mut(ndarray::s![N..2 * N]).fill(bias);
            let tape = cell.forward(&xs);
            let logits = out.forward(tape.last().view());
            let (_, dlogits) = loss::softmax_cross_entropy(logits.view(), &labels);
            let (_, dh) = out.backward(tape.last().view(), dlogits.view(), true);
            let back = cell.backward(&xs, &tape, dh.unwrap());
            let sigma = 1.0 / (1.0 + f64::exp(-bias));
            for t in 1..T {
                let factor = back.c_norms[t - 1] / back.c_norms[t];
                assert!(
                    (factor - sigma).abs() < 1e-12,
                    "bias {bias}: {factor} vs σ = {sigma}"
                );
                assert_eq!(back.h_norms[t - 1], 0.0);
            }
        }
    }
}
