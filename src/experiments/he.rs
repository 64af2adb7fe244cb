//! The Keras model 784 → 256 → 128 → 10 (question 7) with Keras's He normal initializer.

use super::{Experiment, Planned};
use crate::format::{num, thousands};
use crate::nn::{Activation, Init, Spec};
use crate::probe::ProbeConfig;
use crate::report::{Figure, Metric, Report, Table};
use crate::settings::{Knob, Settings};
use anyhow::Result;

pub(super) const EXPERIMENT: Experiment = Experiment {
    name: "he",
    summary: "the 784 → 256 → 128 → 10 ReLU model with Keras's HeNormal, vs Xavier and PyTorch's default",
    describe,
    defaults: || Settings {
        depth: Some(2),
        ..Settings::default()
    },
    fixed: &[
        Knob::Depth,
        Knob::Width,
        Knob::Classes,
        Knob::Activation,
        Knob::Init,
        Knob::Std,
        Knob::Bn,
        Knob::Residual,
        Knob::Norm,
        Knob::BranchScale,
    ],
    fixed_why: "they define the Keras model it reproduces",
    metrics: &[Metric::GradNorm, Metric::ActStd],
    plan,
    conclude,
    extend: None,
    // The model summary's total, the same for every run (they share the architecture).
    prints: |_| &[Figure::Parameters],
};

/// The model's widths: input, the two ReLU layers, the softmax output.
const INPUT: usize = 784;
const HIDDEN: [usize; 2] = [256, 128];
const OUTPUTS: usize = 10;

/// The Keras model and its three initializations, as they run.
fn describe(cfg: &ProbeConfig) -> String {
    let [h1, h2] = HIDDEN;
    format!(
        "The Keras model {INPUT} → {h1} → {h2} → {OUTPUTS}, {} hidden layers: Dense({h1}, \
         relu) and Dense({h2}, relu) with {} (Keras's HeNormal: a normal truncated at two \
         standard deviations, rescaled so that its std is √(2/fan_in)), then Dense({OUTPUTS}) \
         with {} (Keras's default, Glorot uniform) and softmax; {}. Compared with {} and with \
         {} (PyTorch's nn.Linear default, U(±1/√fan_in)) on every layer.",
        HIDDEN.len(),
        Init::KerasHeNormal,
        Init::XavierUniform,
        cfg.precision,
        Init::XavierNormal,
        Init::TorchDefault,
    )
}

fn model(s: &Settings, init: Init, output_init: Init) -> Result<ProbeConfig> {
    let mut cfg = s.probe_config()?;
    cfg.spec = Spec {
        input: INPUT,
        hidden: HIDDEN.to_vec(),
        outputs: OUTPUTS,
        activation: Activation::Relu,
        init,
        output_init,
        batch_norm: false,
        residual: false,
        block: Default::default(),
    };
    Ok(cfg)
}

fn plan(s: &Settings) -> Result<Vec<Planned>> {
    Ok(vec![
        Planned::main(
            "he (keras)",
            model(s, Init::KerasHeNormal, Init::XavierUniform)?,
        ),
        Planned::main("xavier", model(s, Init::XavierNormal, Init::XavierNormal)?),
        Planned::main("torch", model(s, Init::TorchDefault, Init::TorchDefault)?),
    ])
}

fn conclude(_: &Settings, report: &mut Report) {
    let he = &report.runs[0];
    let names = ["dense (Dense)", "dense_1 (Dense)", "dense_2 (Dense)"];
    let mut rows = Vec::new();
    let mut total = 0;
    for (name, l) in names.iter().zip(he.layers()) {
        let f = &l.figures;
        let params = f.fan_in * f.fan_out + f.fan_out;
        total += params;
        rows.push(vec![
            name.to_string(),
            format!("(None, {})", f.fan_out),
            thousands(params),
        ]);
    }
    rows.push(vec!["Total params".into(), String::new(), thousands(total)]);
    report.tables.push(Table::new(
        "Model summary (as Keras prints it)",
        &["Layer (type)", "Output Shape", "Param #"],
        rows,
    ));
    let mut rows = Vec::new();
    for l in he.layers() {
        let f = &l.figures;
        let (rule, name) = if f.layer <= 2 {
            ((2.0 / f.fan_in as f64).sqrt(), "√(2/fan_in)")
        } else {
            (
                (2.0 / (f.fan_in + f.fan_out) as f64).sqrt(),
                "√(2/(fan_in+fan_out))",
            )
        };
        rows.push(vec![
            f.layer.to_string(),
            format!("{} × {}", f.fan_in, f.fan_out),
            format!("{:.5}", f.weight_std),
            format!("{rule:.5} = {name}"),
            format!("{:.3}", f.weight_std / rule),
        ]);
    }
    report.tables.push(
        Table::new(
            "Sampled weight std against the rule (he (keras) run)",
            &["layer", "kernel", "sampled std", "rule", "ratio"],
            rows,
        )
        .with_legend("kernel: fan_in × fan_out; ratio: sampled std ÷ the rule's std."),
    );
    for run in &report.runs {
        let stds: Vec<String> = run.layers()[..2]
            .iter()
            .map(|l| num(l.figures.act_std))
            .collect();
        report.verdicts.push(format!(
            "{}: std of the ReLU outputs {} (layer 1 → 2); ‖∂L/∂W‖ layer 1 vs 3: {}.",
            run.label,
            stds.join(" → "),
            run.grad_orders()
                .map_or("·".into(), |o| format!("{o:+.2} orders"))
        ));
    }
}
