//! Histograms of what flows through each hidden layer in the canonical probe's pass (the
//! plots of Karpathy's makemore part 3): the pre-activations h_l (what φ receives), the
//! activations a_l and the entries of the backprop signal ∂L/∂h_l (the dense layer's output,
//! before batch norm, as [`LayerFigures::signal_norm`](crate::probe::LayerFigures) measures
//! it). The network, batch and seed are the probe's own ([`super::setup`]), so a histogram
//! shows the very numbers the per-layer table summarizes.
//!
//! Binning, the live lab's rule (`train::live::Histogram`): each layer and quantity gets
//! [`BINS`] equal bins from its smallest finite entry `lo` to its largest `hi` (when all
//! are equal, `lo = hi = v`: from v − |v| to v + |v|, or −1 to 1 for v = 0, so they sit in
//! the middle bin); entry x falls in bin ⌊(x − lo)·B / (hi − lo)⌋, clamped to B − 1 so
//! that x = hi is counted. ±∞ and NaN go in no bin but in `nonfinite`: counts + nonfinite
//! = batch × width. Counting is integer arithmetic on each layer alone, so every thread
//! count gives the same counts. Hand-written: a fixed, documented rule in 30 lines, where a
//! histogram crate would choose its own edges.

use super::{Mlp, Precision, ProbeConfig, ProbeKind};
use crate::nn::{self, Activation, Real, loss};
use serde::Serialize;

/// Bins per histogram, as the live lab's.
pub const BINS: usize = 40;

/// The share of a layer's units in φ's flat region, where the local gradient φ′ is small:
/// makemore's rule for tanh, carried to sigmoid and ReLU; the live lab's training
/// histograms count the same (`train::live::saturated`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Saturation {
    /// tanh: |φ(h)| > 0.97 (φ′ = 1 − φ² < 0.059), Karpathy's threshold.
    Tanh,
    /// sigmoid: φ(h) outside [0.03, 0.97] (φ′ = φ(1 − φ) < 0.029, 12 % of its peak ¼).
    Sigmoid,
    /// ReLU: φ(h) exactly 0, the unit off for this example (φ′ = 0: no gradient passes).
    ReluOff,
    /// Every other activation: φ′(h) < 0.1·sup φ′, the per-layer table's `saturated` rule
    /// (ELU and SELU far left, leaky ReLU left of 0 when its slope is under 0.1; never
    /// linear).
    Derivative,
}

/// tanh's saturation threshold on |φ(h)|.
pub const TANH_SATURATED: f64 = 0.97;
/// sigmoid's: φ(h) < 0.03 or φ(h) > 0.97.
pub const SIGMOID_SATURATED: (f64, f64) = (0.03, 0.97);

impl Saturation {
    pub fn of(a: Activation) -> Saturation {
        match a {
            Activation::Tanh => Saturation::Tanh,
            Activation::Sigmoid => Saturation::Sigmoid,
            Activation::Relu => Saturation::ReluOff,
            Activation::LeakyRelu(_)
            | Activation::Elu(_)
            | Activation::Gelu
            | Activation::Selu
            | Activation::Linear => Saturation::Derivative,
        }
    }

    /// Whether a unit of φ = `act` whose pre-activation is `h` counts as saturated.
    pub fn holds(self, act: Activation, h: f64) -> bool {
        let y = act.f(h);
        match self {
            Saturation::Tanh => y.abs() > TANH_SATURATED,
            Saturation::Sigmoid => !(SIGMOID_SATURATED.0..=SIGMOID_SATURATED.1).contains(&y),
            Saturation::ReluOff => y == 0.0,
            Saturation::Derivative => act.is_saturated(act.df(h)),
        }
    }

    /// The rule in words, for legends: `|tanh(h)| > 0.97`.
    pub fn rule(self) -> &'static str {
        match self {
            Saturation::Tanh => "saturated: |tanh(h)| > 0.97",
            Saturation::Sigmoid => "saturated: σ(h) outside [0.03, 0.97]",
            Saturation::ReluOff => "off: relu(h) = 0 (no gradient passes)",
            Saturation::Derivative => "saturated: φ′(h) < 0.1·max φ′",
        }
    }

    /// The rule's bounds on φ(h) for a chart's shading: the intervals that count.
    pub fn regions(self) -> &'static [(f64, f64)] {
        match self {
            Saturation::Tanh => &[(-1.0, -TANH_SATURATED), (TANH_SATURATED, 1.0)],
            Saturation::Sigmoid => &[(0.0, SIGMOID_SATURATED.0), (SIGMOID_SATURATED.1, 1.0)],
            Saturation::ReluOff | Saturation::Derivative => &[],
        }
    }
}

/// One quantity's histogram in one layer.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Histogram {
    /// [`BINS`] + 1 edges, lo … hi; bin i is [edges[i], edges[i + 1]), the last one closed.
    pub edges: Vec<f64>,
    pub counts: Vec<u64>,
    /// Entries that are ±∞ or NaN, in no bin.
    pub nonfinite: u64,
    /// The smallest and largest finite entry (both 0 when none is finite).
    pub min: f64,
    pub max: f64,
}

impl Histogram {
    /// The histogram of `values` in [`BINS`] bins, by the rule of the module's doc.
    pub fn of(values: &[f64]) -> Histogram {
        Histogram::with_bins(values, BINS)
    }

    /// [`Histogram::of`] with `bins` bins (at least 1).
    pub fn with_bins(values: &[f64], bins: usize) -> Histogram {
        let bins = bins.max(1);
        let (mut min, mut max) = (f64::INFINITY, f64::NEG_INFINITY);
        for &v in values.iter().filter(|v| v.is_finite()) {
            (min, max) = (min.min(v), max.max(v));
        }
        if min > max {
            (min, max) = (0.0, 0.0);
        }
        let (lo, hi) = match max - min {
            d if d > 0.0 && d.is_finite() => (min, max),
            _ if min != 0.0 => (min - min.abs(), min + min.abs()),
            _ => (-1.0, 1.0),
        };
        let b = bins as f64;
        let edges = (0..=bins)
            .map(|i| match i {
                0 => lo,
                i if i == bins => hi,
                i => lo + (hi - lo) * i as f64 / b,
            })
            .collect();
        let mut counts = vec![0u64; bins];
        let mut nonfinite = 0;
        for &x in values {
            if !x.is_finite() {
                nonfinite += 1;
                continue;
            }
            let i = (((x - lo) * b) / (hi - lo)).floor();
            counts[(i.max(0.0) as usize).min(bins - 1)] += 1;
        }
        Histogram {
            edges,
            counts,
            nonfinite,
            min,
            max,
        }
    }

    /// max |x| over the finite entries.
    pub fn max_abs(&self) -> f64 {
        self.min.abs().max(self.max.abs())
    }

    /// Entries counted, binned or not.
    pub fn total(&self) -> u64 {
        self.counts.iter().sum::<u64>() + self.nonfinite
    }
}

/// One hidden layer's three histograms and its saturated share.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LayerHist {
    /// 1-based, as the per-layer tables number layers.
    pub layer: usize,
    /// h_l, what φ receives (after batch norm where there is one).
    pub pre_activation: Histogram,
    /// φ(h_l), the units' outputs (with a skip connection, before a_(l−1) is added).
    pub activation: Histogram,
    /// The entries of ∂L/∂h_l at the dense layer's output, loss scaling undone.
    pub gradient: Histogram,
    /// The share of the layer's units (batch × width) that [`Saturation`] counts.
    pub saturated: f64,
}

/// Which of a layer's histograms.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Quantity {
    PreActivation,
    Activation,
    Gradient,
}

impl Quantity {
    pub const ALL: [Quantity; 3] = [
        Quantity::PreActivation,
        Quantity::Activation,
        Quantity::Gradient,
    ];

    pub fn of(self, l: &LayerHist) -> &Histogram {
        match self {
            Quantity::PreActivation => &l.pre_activation,
            Quantity::Activation => &l.activation,
            Quantity::Gradient => &l.gradient,
        }
    }

    /// What the histogram shows, for titles.
    pub fn title(self) -> &'static str {
        match self {
            Quantity::PreActivation => "pre-activations h_l (what φ receives)",
            Quantity::Activation => "activations φ(h_l)",
            Quantity::Gradient => "entries of ∂L/∂h_l (the backprop signal)",
        }
    }
}

/// The histograms of every hidden layer in the probe pass of `cfg` at its seed, with the
/// loss scale `scale` the measured pass used (1: none); `None` for a recurrent probe, whose
/// figures are per time step, and for an attention head. `cfg` has passed [`ProbeConfig::check`].
pub fn histograms(cfg: &ProbeConfig, scale: f64) -> Option<Vec<LayerHist>> {
    match (&cfg.kind, cfg.precision) {
        (ProbeKind::Mlp(m), Precision::F64) => Some(measure::<f64>(cfg, m, scale)),
        (ProbeKind::Mlp(m), _) => Some(measure::<f32>(cfg, m, scale)),
        (ProbeKind::Recurrent(_) | ProbeKind::Attention(_), _) => None,
    }
}

fn measure<F: Real>(cfg: &ProbeConfig, m: &Mlp, scale: f64) -> Vec<LayerHist> {
    let (net, x, labels) = super::setup::<F>(cfg, m);
    let tape = net.forward(x);
    let (_, mut dlogits) = loss::softmax_cross_entropy(tape.logits.view(), &labels);
    if scale != 1.0 {
        dlogits.mapv_inplace(|v| v * F::of(scale));
    }
    let mut signals = Vec::new();
    net.backward_keeping(&tape, dlogits, false, Some(&mut signals));
    layers(&net, &tape, &signals, scale)
}

/// Every hidden layer's histograms from a pass's tape and its signals ∂L/∂h_l (layer 1
/// first, multiplied by `scale`), each layer on its own thread.
pub(crate) fn layers<F: Real>(
    net: &nn::Network<F>,
    tape: &nn::network::Tape<F>,
    signals: &[ndarray::Array2<F>],
    scale: f64,
) -> Vec<LayerHist> {
    let rule = Saturation::of(net.activation);
    nn::parallel::map(net.depth().min(signals.len()), |l| {
        let act = net.activation;
        let h = net.pre_activation(tape, l);
        let n = h.iter().filter(|&&v| rule.holds(act, v.as_f64())).count();
        let pre: Vec<f64> = h.iter().map(|v| v.as_f64()).collect();
        let a: Vec<f64> = h.iter().map(|&v| act.f(v).as_f64()).collect();
        let gradient: Vec<f64> = signals[l].iter().map(|v| v.as_f64() / scale).collect();
        LayerHist {
            layer: l + 1,
            saturated: n as f64 / h.len().max(1) as f64,
            pre_activation: Histogram::of(&pre),
            activation: Histogram::of(&a),
            gradient: Histogram::of(&gradient),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::Init;

    /// A hand-counted histogram: 5 bins over [−2, 2] (the smallest and largest entry),
    /// edges −2, −1.2, −0.4, 0.4, 1.2, 2; x = 2 lands in the last bin, ∞ and NaN in none.
    #[test]
    fn hand_counted() {
        let h = Histogram::with_bins(
            &[-2.0, -1.0, 0.0, 0.3, 0.5, 2.0, f64::INFINITY, f64::NAN],
            5,
        );
        let close = |got: &[f64], want: &[f64]| {
            got.len() == want.len() && got.iter().zip(want).all(|(g, w)| (g - w).abs() < 1e-12)
        };
        // lo + (hi − lo)·i/B in f64: −0.3999999999999999 for −0.4; the ends exact.
        assert!(
            close(&h.edges, &[-2.0, -1.2, -0.4, 0.4, 1.2, 2.0]),
            "{:?}",
            h.edges
        );
        assert_eq!((h.edges[0], h.edges[5]), (-2.0, 2.0));
        assert_eq!(h.counts, vec![1, 1, 2, 1, 1]);
        assert_eq!(h.nonfinite, 2);
        assert_eq!((h.min, h.max), (-2.0, 2.0));
        assert_eq!(h.total(), 8);
        // An asymmetric range: [0, 1] in 4 bins; 0.25 opens bin 1.
        let h = Histogram::with_bins(&[0.0, 0.25, 0.5, 0.99, 1.0], 4);
        assert_eq!(h.edges, vec![0.0, 0.25, 0.5, 0.75, 1.0]);
        assert_eq!(h.counts, vec![1, 1, 1, 2]);
    }

    /// All zeros (an underflowed gradient) fall in the middle bin of [−1, 1]; equal
    /// values v ≠ 0 in the middle of [0, 2v].
    #[test]
    fn equal_values_sit_in_the_middle_bin() {
        let h = Histogram::of(&[0.0; 10]);
        assert_eq!((h.min, h.max), (0.0, 0.0));
        assert_eq!(h.counts[BINS / 2], 10);
        assert_eq!((h.edges[0], h.edges[BINS]), (-1.0, 1.0));
        let h = Histogram::of(&[3e-13; 4]);
        assert_eq!((h.edges[0], h.edges[BINS]), (0.0, 6e-13));
        assert_eq!(h.counts[BINS / 2], 4);
        let h = Histogram::of(&[f64::NAN; 3]);
        assert_eq!((h.nonfinite, h.counts.iter().sum::<u64>()), (3, 0));
    }

    /// The saturation rules at their thresholds: strictly beyond counts.
    #[test]
    fn saturation_thresholds() {
        use Activation as A;
        // atanh(0.97) = 2.0923…: just inside and just beyond.
        assert!(!Saturation::Tanh.holds(A::Tanh, 2.092));
        assert!(Saturation::Tanh.holds(A::Tanh, -2.093));
        // logit(0.97) = 3.4761…
        assert!(!Saturation::Sigmoid.holds(A::Sigmoid, 3.476));
        assert!(Saturation::Sigmoid.holds(A::Sigmoid, 3.477));
        assert!(Saturation::Sigmoid.holds(A::Sigmoid, -3.477));
        assert!(Saturation::ReluOff.holds(A::Relu, 0.0));
        assert!(Saturation::ReluOff.holds(A::Relu, -1e-30));
        assert!(!Saturation::ReluOff.holds(A::Relu, 1e-30));
        assert!(!Saturation::Derivative.holds(A::Linear, 1e9));
        assert!(Saturation::Derivative.holds(A::Elu(1.0), -10.0));
        assert_eq!(Saturation::of(A::Gelu), Saturation::Derivative);
    }

    /// A tiny known network: one hidden tanh layer of 2 units on a batch of 4, every count
    /// summing to batch × width, and the pre-activations binned as counted by hand from
    /// the probe's own h (recomputed here from its weights and inputs).
    #[test]
    fn tiny_network_counts() {
        let mut cfg = ProbeConfig::canonical(1, 2, 4, 2);
        cfg.spec.activation = Activation::Tanh;
        let layers = histograms(&cfg.clone(), 1.0).unwrap();
        assert_eq!(layers.len(), 1);
        let l = &layers[0];
        for q in Quantity::ALL {
            assert_eq!(q.of(l).total(), 8, "{q:?}");
            assert_eq!(q.of(l).counts.len(), BINS);
        }
        // h = x W + b with the probe's own x and W (b = 0).
        let m = cfg.mlp().unwrap().clone();
        let (net, x, _) = super::super::setup::<f32>(&cfg, &m);
        let h = x.dot(&net.hidden[0].dense.w);
        let hs: Vec<f64> = h.iter().map(|&v| v as f64).collect();
        let lo = hs.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = hs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        assert_eq!((l.pre_activation.min, l.pre_activation.max), (lo, hi));
        let mut want = vec![0u64; BINS];
        for v in &hs {
            let i = ((v - lo) * BINS as f64 / (hi - lo)).floor() as usize;
            want[i.min(BINS - 1)] += 1;
        }
        assert_eq!(l.pre_activation.counts, want);
        // The smallest and the largest entry open the first bin and close the last.
        assert!(want[0] >= 1 && want[BINS - 1] >= 1);
        let sat = hs.iter().filter(|v| libm::tanh(**v).abs() > 0.97).count();
        assert!(sat > 0 || l.saturated == 0.0);
        assert_eq!(l.saturated, sat as f64 / 8.0);
    }

    /// tanh at gain g = 2: an orthogonal kernel × 2 maps x ~ N(0, I) to h ~ N(0, 4 I)
    /// exactly, so the saturated share is P(|h| > atanh 0.97) = erfc(atanh(0.97)/(2√2))
    /// = 0.2955; 64 × 512 entries pin it to ±0.01 (4 standard errors).
    #[test]
    fn tanh_saturation_at_gain_two() {
        let mut cfg = ProbeConfig::canonical(1, 512, 64, 10).with_init(Init::Orthogonal(Some(2.0)));
        cfg.spec.activation = Activation::Tanh;
        cfg.precision = Precision::F64;
        let l = &histograms(&cfg, 1.0).unwrap()[0];
        let want = libm::erfc(libm::atanh(0.97) / (2.0 * core::f64::consts::SQRT_2));
        assert!((want - 0.2955).abs() < 1e-4, "{want}");
        assert!(
            (l.saturated - want).abs() < 0.01,
            "{} vs {want}",
            l.saturated
        );
        // Some unit sits almost at tanh's bound: the activations' axis reaches ±0.99.
        assert!(l.activation.max_abs() > 0.99);
    }
}
