//! The same deep network with and without skip connections.

use super::{Experiment, Planned, flow_verdict};
use crate::nn::{Activation, Init};
use crate::report::{Metric, Report};
use crate::settings::{Knob, Settings};
use anyhow::Result;

pub const EXPERIMENT: Experiment = Experiment {
    name: "residual",
    summary: "a 50-layer sigmoid network with and without skip connections",
    description: "Identical weights, with and without residual connections a_l = a_(l−1) + \
                  φ(h_l). The skip adds an identity term to every layer's Jacobian, so the \
                  gradient reaching layer l is at least what arrived at layer l+1 plus what \
                  flows through φ.",
    defaults: || Settings {
        depth: Some(50),
        activation: Some(Activation::Sigmoid),
        init: Some(Init::XavierNormal),
        ..Settings::default()
    },
    fixed: &[Knob::Residual],
    metrics: &[Metric::GradNorm],
    plan,
    conclude,
};

fn plan(s: &Settings) -> Result<Vec<Planned>> {
    let plain = s.probe_config()?;
    let mut residual = plain.clone();
    residual.spec.residual = true;
    Ok(vec![
        Planned::main("plain", plain),
        Planned::main("residual", residual),
    ])
}

fn conclude(_: &Settings, report: &mut Report) {
    for run in &report.runs {
        report.verdicts.push(flow_verdict(run));
    }
}
