//! Phrases the experiments' opening paragraphs are built from. Each is written from the probe
//! config that actually runs, so a flag that changes the network changes the words too.

use crate::format::figure;
use crate::nn::{Activation, Init, Placement};
use crate::probe::ProbeConfig;

/// `xavier-normal`, or `normal:1 (weights ~ N(0, 1))` where the flag name alone does not say
/// what is drawn.
pub(super) fn init_phrase(init: Init) -> String {
    let square = |s: f64| {
        if s == 1.0 {
            "1".to_string()
        } else {
            format!("{}²", crate::format::echo(s))
        }
    };
    match init {
        Init::Normal(Some(s)) => format!("{init} (weights ~ N(0, {}))", square(s)),
        Init::Uniform(Some(a)) => format!("{init} (weights ~ U(±{}))", crate::format::echo(a)),
        Init::Constant(Some(c)) => format!("{init} (every weight {})", crate::format::echo(c)),
        Init::Zeros => format!("{init} (every weight 0)"),
        other => other.to_string(),
    }
}

/// `20 hidden layers of 128 units`.
pub(super) fn layers(cfg: &ProbeConfig) -> String {
    let depth = cfg.depth();
    let width = cfg.spec.hidden.first().copied().unwrap_or(0);
    let s = if depth == 1 { "" } else { "s" };
    format!("{depth} hidden layer{s} of {width} units")
}

/// Batch norm, skips and the precision: `, batch norm before each activation, f32`.
fn extras(cfg: &ProbeConfig) -> String {
    let mut s = String::new();
    let b = &cfg.spec.block;
    let norm = match (cfg.spec.batch_norm, b.layer_norm) {
        (true, _) => "batch norm",
        (_, true) => "layer norm",
        _ => "",
    };
    match b.placement {
        Placement::Inside if !norm.is_empty() => {
            s.push_str(&format!(", {norm} before each activation"))
        }
        _ => {}
    }
    if cfg.spec.residual {
        s.push_str(", a skip connection around every hidden layer");
        match b.placement {
            Placement::Post => s.push_str(&format!(" with {norm} after the sum (post-norm)")),
            Placement::Pre => s.push_str(&format!(" with {norm} on the branch's input (pre-norm)")),
            Placement::Inside => {}
        }
        match b.branch_scale {
            Some(0.0) => s.push_str(", each branch times a learned α that starts at 0"),
            Some(x) => s.push_str(&format!(", each branch times α = {}", figure(x))),
            None => {}
        }
    }
    s.push_str(&format!(", {}", cfg.precision));
    s
}

/// Everything but the activation and the initializer: `20 hidden layers of 128 units, f32`.
pub(super) fn shape(cfg: &ProbeConfig) -> String {
    format!("{}{}", layers(cfg), extras(cfg))
}

/// `A sigmoid network with xavier-normal init: 20 hidden layers of 128 units, f32.`
pub(super) fn network(cfg: &ProbeConfig) -> String {
    format!(
        "A {} network with {} init: {}.",
        cfg.spec.activation,
        init_phrase(cfg.spec.init),
        shape(cfg)
    )
}

/// σ_w² = n_in · Var(W) of the hidden layers, or `None` for a constant kernel.
pub(super) fn sigma_w2(cfg: &ProbeConfig) -> Option<f64> {
    let n = cfg.spec.input;
    let out = cfg.spec.hidden.first().copied().unwrap_or(n);
    cfg.spec.init.variance(n, out).map(|v| n as f64 * v)
}

/// How one layer scales the backprop signal for this network, with its σ_w² worked out.
pub(super) fn mechanism(cfg: &ProbeConfig) -> String {
    let general = "Backprop multiplies the signal by W_lᵀ and by φ′(h_l) at every layer, and \
                   over many layers these factors multiply.";
    if cfg.spec.batch_norm || cfg.spec.residual || cfg.spec.block.layer_norm {
        let what = if cfg.spec.block.layer_norm {
            "layer norm also rescales each example by its own standard deviation"
        } else if cfg.spec.batch_norm {
            "batch norm also rescales each layer's pre-activations by their batch standard \
             deviation"
        } else {
            "the skips also add an identity path around every layer"
        };
        return format!("{general} Here {what}, which changes that product.");
    }
    let Some(s2) = sigma_w2(cfg) else {
        return format!(
            "{general} With a constant kernel every unit of a layer computes the same thing."
        );
    };
    let s2t = figure(s2);
    let clause = match cfg.spec.activation {
        Activation::Sigmoid => format!(
            "σ′ is at most ¼, so χ = σ_w²·E[σ′(h)²] is at most σ_w²/16: with σ_w² = \
             n_in·Var(W) = {s2t} in the hidden layers here, χ ≤ {} and on average each hidden \
             layer keeps at most √χ ≤ {} of the signal's norm.",
            figure(s2 / 16.0),
            figure(s2.sqrt() / 4.0)
        ),
        Activation::Tanh => format!(
            "tanh′ is 1 at 0 and below 1 everywhere else, so χ = σ_w²·E[tanh′(h)²] stays under \
             σ_w² = n_in·Var(W) = {s2t}: with σ_w² near 1 a layer keeps most of the signal, \
             and large weights push units into the flat tails where tanh′ ≈ 0."
        ),
        Activation::Relu => format!(
            "ReLU′ is 1 on active units and 0 on the rest, about half of them, so χ = \
             σ_w²·E[φ′(h)²] = σ_w²/2 = {}, with σ_w² = n_in·Var(W) = {s2t} here.",
            figure(s2 / 2.0)
        ),
        Activation::LeakyRelu(a) => {
            let a_ = crate::format::echo(a);
            format!(
                "Leaky ReLU′ is 1 on active units and {a_} on the rest, about half of them, so \
                 χ = σ_w²·(1 + {a_}²)/2 = {}, with σ_w² = n_in·Var(W) = {s2t} here.",
                figure(s2 * (1.0 + a * a) / 2.0)
            )
        }
        _ => format!(
            "On average a layer scales the signal's norm by √χ, χ = σ_w²·E[φ′(h)²], with σ_w² = \
             n_in·Var(W) = {s2t} here; the theory line works it out."
        ),
    };
    format!("{general} {clause}")
}

/// `try --activation relu --init he-normal`, naming only the flags whose value differs from
/// what runs; `None` when none does.
pub(super) fn try_flags(
    cfg: &ProbeConfig,
    activation: Option<Activation>,
    init: Option<Init>,
) -> Option<String> {
    let mut flags = Vec::new();
    if let Some(a) = activation
        && a != cfg.spec.activation
    {
        flags.push(format!("--activation {a}"));
    }
    if let Some(i) = init
        && i != cfg.spec.init
    {
        flags.push(format!("--init {i}"));
    }
    (!flags.is_empty()).then(|| format!("try {}", flags.join(" ")))
}
