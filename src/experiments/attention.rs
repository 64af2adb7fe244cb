//! Why attention divides its logits by √d_k (Vaswani et al. 2017): one head per d_k, the
//! logits' variance beside its theory, how peaked the softmax is, and the gradient that
//! reaches W_Q and W_K through the softmax's Jacobian.

use super::{Experiment, Planned};
use crate::format::{echo, figure, num, percent, pretty, sci};
use crate::nn::Init;
use crate::probe::ProbeConfig;
use crate::probe::ProbeKind;
use crate::probe::attention::{AttnScale, DEFAULT_D_V};
use crate::report::{Figure, Report, Run, Table, Term, Verdict};
use crate::settings::{Knob, Settings};
use anyhow::Result;

/// The key widths compared when no --d-k is given.
pub(super) const DEFAULT_D_KS: &str = "16,64,256,1024";
/// Tokens per sequence, sequences and d_model when none are given: d_model as wide as the
/// widest d_k, as in a one-head layer, so every d_k ≤ d_model.
pub(super) const DEFAULT_SEQ_LEN: usize = 64;
pub(super) const DEFAULT_BATCH: usize = 1;
pub(super) const DEFAULT_D_MODEL: usize = 1024;

pub(super) const EXPERIMENT: Experiment = Experiment {
    name: "attention",
    summary: "one self-attention head per d_k: the logits' variance, the softmax's peak and \
              entropy, and the gradient reaching W_Q and W_K, with and without ÷√d_k",
    describe,
    defaults: || Settings {
        d_k: DEFAULT_D_KS.parse().ok(),
        scale: Some(AttnScale::Sqrt),
        seq_len: Some(DEFAULT_SEQ_LEN),
        batch: Some(DEFAULT_BATCH),
        width: Some(DEFAULT_D_MODEL),
        ..Settings::default()
    },
    fixed: &[
        Knob::Depth,
        Knob::Classes,
        Knob::Activation,
        Knob::Init,
        Knob::Std,
        Knob::Bn,
        Knob::Residual,
        Knob::Norm,
        Knob::BranchScale,
        Knob::ClipNorm,
        Knob::Cell,
        Knob::ForgetBias,
        Knob::LossScale,
        Knob::BiasStd,
    ],
    fixed_why: "one attention head with Xavier-normal projections and a mean-squared-error \
                loss; --width is d_model, --seq-len the tokens, --batch the sequences",
    metrics: &[],
    plan,
    conclude,
    extend: None,
    // The table prints every figure of every run.
    prints: |_| {
        &[
            Figure::LogitVar,
            Figure::LogitVarTheory,
            Figure::MaxProb,
            Figure::Entropy,
            Figure::SaturatedQueries,
            Figure::QueryGradMedian,
            Figure::GradWq,
            Figure::GradWk,
        ]
    },
};

/// One run per d_k, labelled `d_k=16`.
fn plan(s: &Settings) -> Result<Vec<Planned>> {
    let d_ks = s.d_k.map_or_else(Vec::new, |d| d.list().to_vec());
    d_ks.into_iter()
        .map(|d| Ok(Planned::main(label(d), s.attention_config(d)?)))
        .collect()
}

/// The run label of width `d_k`, as claims name it.
pub(super) fn label(d_k: usize) -> String {
    format!("d_k={d_k}")
}

/// `c = √d_k`, `c = 1`, `c = 8`: the divisor as the description states it.
fn divisor_phrase(scale: AttnScale) -> String {
    match scale {
        AttnScale::Sqrt => "c = √d_k".into(),
        AttnScale::None => "c = 1 (no scaling)".into(),
        AttnScale::By(c) => format!("c = {} for every d_k", echo(c)),
    }
}

fn describe(cfg: &ProbeConfig) -> String {
    let ProbeKind::Attention(a) = &cfg.kind else {
        return String::new();
    };
    let n = cfg.spec.input;
    format!(
        "One self-attention head on {b} sequence{s} of T = {t} tokens x ~ N(0, I) of width \
         d_model = {n} ({p}, {init}). Queries q = x W_Q and keys k = x W_K (W_Q, W_K: d_model × \
         d_k, Var(W) = 2/(d_model + d_k)); values v = x W_V with d_v = {dv}, the same for every \
         d_k. Each token attends through A = softmax(z), z = q·k / c, here {c}; the output A V \
         is compared with a fixed random target Y ~ N(0, 1) by L = mean of (A V − Y)², so the \
         gradient reaching W_Q and W_K must pass the softmax's Jacobian, \
         ∂L/∂z = A ⊙ (∂L/∂A − Σ A·∂L/∂A), which is ≈ 0 once one probability is ≈ 1. Theory: \
         each component of q and k has variance σ² = d_model·Var(W), so E[z²] = d_k·σ⁴·(1 + \
         2/(d_model·T)) / c²: unscaled it grows with d_k, divided by √d_k it is σ⁴.",
        b = cfg.batch,
        s = if cfg.batch == 1 { "" } else { "s" },
        t = a.seq_len,
        p = cfg.precision,
        init = Init::XavierNormal,
        dv = DEFAULT_D_V,
        c = divisor_phrase(a.scale),
    )
}

/// The table's row of one run.
fn row(run: &Run) -> Vec<String> {
    let Some(a) = run.attention() else {
        return vec![run.label.clone()];
    };
    let d_k = match &run.config.kind {
        ProbeKind::Attention(k) => k.d_k.to_string(),
        _ => run.label.clone(),
    };
    let f = &a.figures;
    vec![
        d_k,
        figure(f.logit_var),
        a.logit_var_theory.map_or("·".into(), figure),
        num(f.max_prob),
        num(f.entropy),
        percent(f.saturated),
        sci(f.query_grad_median),
        sci(f.grad_wq),
        sci(f.grad_wk),
    ]
}

fn conclude(_: &Settings, report: &mut Report) {
    let rows: Vec<Vec<String>> = report.runs.iter().map(row).collect();
    let uniform = report
        .runs
        .first()
        .and_then(|r| r.attention())
        .map_or(0.0, |a| a.entropy_uniform);
    report.tables.push(
        Table::new(
            "Per d_k: logits z = q·k / c, softmax, gradient",
            &[
                "d_k",
                "Var(z)",
                "theory",
                "max p",
                "entropy",
                "sat",
                "‖∂L/∂q‖ med",
                "‖∂L/∂W_Q‖",
                "‖∂L/∂W_K‖",
            ],
            rows,
        )
        .with_legend(&format!(
            "Var(z): mean of z² over every logit (E z = 0); theory: d_k·σ⁴·(1 + 2/(d_model·T)) \
             / c²; max p: the largest attention weight, mean over the queries (1/T = {} when \
             uniform); entropy: −Σ p ln p in nats, mean over the queries (ln T = {} when \
             uniform, 0 one-hot); sat: queries with max p > 0.99; ‖∂L/∂q‖ med: the gradient \
             reaching the median query q_t, which W_Q receives from that token; \
             ‖∂L/∂W_Q‖, ‖∂L/∂W_K‖: over the whole batch.",
            num(1.0 / libm::exp(uniform)),
            num(uniform),
        )),
    );
    let (Some(first), Some(last)) = (report.runs.first(), report.runs.last()) else {
        return;
    };
    if report.runs.len() < 2 {
        return;
    }
    let lines = [
        variance_verdict(first, last),
        saturation_verdict(last, uniform),
        gradient_verdict(first, last),
    ];
    for v in lines.into_iter().flatten() {
        report.verdict(v);
    }
}

/// d_k of a run.
fn d_k(run: &Run) -> usize {
    match &run.config.kind {
        ProbeKind::Attention(a) => a.d_k,
        _ => 0,
    }
}

/// How the logits' variance moved from the first d_k to the last, against theory.
fn variance_verdict(first: &Run, last: &Run) -> Option<Verdict> {
    let (a, b) = (first.attention()?, last.attention()?);
    let (ta, tb) = (a.logit_var_theory?, b.logit_var_theory?);
    let (va, vb) = (a.figures.logit_var, b.figures.logit_var);
    let ratio = vb / va;
    let scale = match &first.config.kind {
        ProbeKind::Attention(k) => k.scale,
        _ => AttnScale::Sqrt,
    };
    let why = match scale {
        AttnScale::Sqrt => {
            "dividing by √d_k cancels the d_k of d_k·σ⁴; what is left, σ⁴, is Xavier's \
             (2·d_model/(d_model + d_k))², which shrinks as d_k nears d_model"
        }
        AttnScale::None => "the sum q·k has d_k terms, so its variance grows with d_k",
        AttnScale::By(_) => "a fixed divisor leaves the d_k of d_k·σ⁴ in place",
    };
    let grow = Term::of(Figure::LogitVar, last).over(Term::of(Figure::LogitVar, first));
    let mut premises = vec![match ratio >= 1.0 {
        true => grow.at_least(1.0),
        false => grow.lt(1.0),
    }];
    // Few logits (short sequences, few of them) scatter around the expectation.
    let near = |v: f64, t: f64| v <= 1.5 * t && t <= 1.5 * v;
    let scatter = match near(va, ta) && near(vb, tb) {
        true => {
            let agrees = |r: &Run| {
                Term::of(Figure::LogitVar, r)
                    .within_factor(Term::of(Figure::LogitVarTheory, r), 1.5)
            };
            premises.extend([agrees(first), agrees(last)]);
            String::new()
        }
        false => format!(
            " With {} logits per d_k the measurement scatters around the expectation.",
            first.config.batch * seq_len(first).pow(2)
        ),
    };
    let text = format!(
        "Var(z) goes from {} at d_k = {} to {} at d_k = {} (×{} for ×{} the d_k; theory {} and \
         {}): {why}.{scatter}",
        figure(va),
        d_k(first),
        figure(vb),
        d_k(last),
        figure(ratio),
        figure(d_k(last) as f64 / d_k(first) as f64),
        figure(ta),
        figure(tb),
    );
    Some(Verdict::new(text, premises))
}

/// T of a run.
fn seq_len(run: &Run) -> usize {
    match &run.config.kind {
        ProbeKind::Attention(a) => a.seq_len,
        _ => 0,
    }
}

/// How peaked the softmax is at the largest d_k.
fn saturation_verdict(last: &Run, uniform: f64) -> Option<Verdict> {
    let f = &last.attention()?.figures;
    let p = Term::of(Figure::MaxProb, last);
    let (what, premise) = match f.max_prob {
        x if x > 0.9 => (
            "nearly one-hot: each query copies one token's value, and a small change of a \
             logit barely moves A",
            p.gt(0.9),
        ),
        x if x > 0.5 => ("peaked on one key", p.clone().gt(0.5)),
        _ => ("spread over many keys", p.at_most(0.5)),
    };
    let text = format!(
        "At d_k = {} the softmax's largest weight averages {} and its entropy {} nats of a \
         uniform ln T = {}: {what}.",
        d_k(last),
        num(f.max_prob),
        num(f.entropy),
        num(uniform),
    );
    Some(Verdict::new(text, vec![premise]))
}

/// The gradient reaching the median query, and W_Q over the batch, from the first d_k to
/// the last.
fn gradient_verdict(first: &Run, last: &Run) -> Option<Verdict> {
    let (a, b) = (&first.attention()?.figures, &last.attention()?.figures);
    let (qa, qb) = (a.query_grad_median, b.query_grad_median);
    if !(qa > 0.0 && qa.is_finite() && qb.is_finite() && a.grad_wq > 0.0) {
        return None;
    }
    let ratio = qb / qa;
    let whole = b.grad_wq / a.grad_wq;
    let q = Term::of(Figure::QueryGradMedian, last).over(Term::of(Figure::QueryGradMedian, first));
    let w = Term::of(Figure::GradWq, last).over(Term::of(Figure::GradWq, first));
    let (how, premise) = match ratio {
        r if r < 0.1 => (
            format!(
                "{:.1} orders of magnitude less: a saturated row of A passes almost nothing \
                 back, since its Jacobian A ⊙ (∂L/∂A − Σ A·∂L/∂A) is ≈ 0",
                -libm::log10(r)
            ),
            q.lt(0.1),
        ),
        r if r <= 10.0 => (
            "within one order of magnitude: the typical query is not saturated".to_string(),
            q.within_factor(1.0, 10.0),
        ),
        _ => ("more than ten times more".to_string(), q.gt(10.0)),
    };
    let mut premises = vec![premise];
    let batch = match whole {
        r if ratio < 0.1 && r > 0.1 => {
            premises.push(w.gt(0.1));
            format!(
                " Over the whole batch ‖∂L/∂W_Q‖ changes only ×{}: it comes from the few \
                 queries whose top two logits nearly tie, while the rest learn almost nothing.",
                pretty(r)
            )
        }
        r => format!(" Over the whole batch ‖∂L/∂W_Q‖ changes ×{}.", pretty(r)),
    };
    let text = format!(
        "The median query's ‖∂L/∂q_t‖ goes from {} at d_k = {} to {} at d_k = {} (×{}): \
         {how}.{batch}",
        pretty(qa),
        d_k(first),
        pretty(qb),
        d_k(last),
        pretty(ratio),
    );
    Some(Verdict::new(text, premises))
}
