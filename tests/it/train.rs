//! Training runs: datasets, optimizers, clipping, divergence, reproducibility and the SVG.

use crate::common;
use gradtutor::TrainSettings;
use gradtutor::nn::{Activation, Init};
use gradtutor::{DataSpec, Dataset, Task};
use gradtutor::{OptimizerName, TrainConfig, TrainReport, Variant, train};

const GIB: u64 = 1 << 30;

fn settings(args: &[(&str, &str)]) -> TrainSettings {
    let mut text = String::new();
    for (k, v) in args {
        text.push_str(&format!("{k} = {v}\n"));
    }
    toml::from_str(&text).unwrap()
}

fn run(cfg: &TrainConfig) -> TrainReport {
    train(cfg, GIB, &|_| {}).unwrap()
}

/// A small, quick comparison; `extra` adds or replaces settings.
fn small(extra: &[(&str, &str)]) -> TrainConfig {
    let mut args = vec![
        ("depth", "3"),
        ("width", "16"),
        ("steps", "150"),
        ("samples", "400"),
    ];
    for &(k, v) in extra {
        args.retain(|(key, _)| *key != k);
        args.push((k, v));
    }
    settings(&args).config().unwrap()
}

#[test]
fn datasets_are_deterministic_balanced_and_split() {
    for kind in [
        Task::Spiral,
        Task::Circles,
        Task::Xor,
        Task::Blobs,
        Task::Teacher,
    ] {
        let spec = DataSpec {
            kind,
            file: None,
            samples: 400,
            noise: kind.default_noise(),
            test_fraction: 0.25,
            seed: 5,
        };
        let a = Dataset::<f64>::generate(spec.clone()).unwrap();
        let b = Dataset::<f64>::generate(spec.clone()).unwrap();
        assert_eq!(a.x_train, b.x_train, "{kind}");
        assert_eq!(a.y_test, b.y_test, "{kind}");
        assert_eq!((a.x_train.nrows(), a.x_test.nrows()), (300, 100), "{kind}");
        assert_eq!(a.x_train.ncols(), kind.inputs());
        let mut counts = vec![0usize; kind.classes()];
        for &y in a.y_train.iter().chain(&a.y_test) {
            counts[y] += 1;
        }
        // Every class is present; the 2-D sets are balanced by construction.
        assert!(counts.iter().all(|&c| c > 0), "{kind}: {counts:?}");
        if kind != Task::Teacher && kind != Task::Xor {
            assert!(
                counts
                    .iter()
                    .all(|&c| c.abs_diff(400 / kind.classes()) <= 1)
            );
        }
        let other = Dataset::<f64>::generate(DataSpec { seed: 6, ..spec }).unwrap();
        assert_ne!(a.x_train, other.x_train, "{kind}: the seed must matter");
    }
}

#[test]
fn every_optimizer_reduces_the_loss_on_an_easy_set() {
    for (opt, lr) in [("sgd", "0.1"), ("momentum", "0.01"), ("adam", "0.003")] {
        let cfg = small(&[
            ("dataset", "\"blobs\""),
            ("compare", "\"relu/he-normal\""),
            ("optimizer", &format!("\"{opt}\"")),
            ("lr", lr),
        ]);
        let h = &run(&cfg).runs[0];
        let (_, train, test) = h.last();
        assert!(h.diverged.is_none());
        assert!(
            train.loss < 0.3 * h.initial.train.loss,
            "{opt}: loss {} → {}",
            h.initial.train.loss,
            train.loss
        );
        assert!(
            test.accuracy > 0.9,
            "{opt}: test accuracy {}",
            test.accuracy
        );
    }
    assert_eq!(small(&[]).optimizer, OptimizerName::Momentum);
}

#[test]
fn clipping_bounds_the_global_norm_of_every_update() {
    let max = 0.5;
    let cfg = small(&[("clip-norm", "0.5"), ("compare", "\"relu/normal:1\"")]);
    let h = &run(&cfg).runs[0];
    assert_eq!(h.clipped_grad_norms.len(), h.global_grad_norms.len());
    let mut clipped = 0;
    for (&before, &after) in h.global_grad_norms.iter().zip(&h.clipped_grad_norms) {
        if before > max {
            // PyTorch's rule scales by max / (norm + 1e−6): the result sits just below max.
            assert!((after - max).abs() <= 1e-5 * max, "{before} → {after}");
            clipped += 1;
        } else {
            assert!((after - before).abs() <= 1e-6 * before.max(1e-30));
        }
    }
    assert!(clipped > 0, "the test needs steps that get clipped");
}

#[test]
fn divergence_is_caught_at_the_step_it_appears() {
    let cfg = small(&[
        ("compare", "\"relu/normal:1\""),
        ("depth", "10"),
        ("width", "32"),
    ]);
    let h = &run(&cfg).runs[0];
    let d = h
        .diverged
        .expect("N(0, 1) weights in 10 ReLU layers diverge");
    // The run stopped at that step: its loss or gradient is the first non-finite one.
    assert_eq!(h.losses.len(), d.step);
    let bad = |i: usize| !h.losses[i].is_finite() || !h.global_grad_norms[i].is_finite();
    assert!(bad(d.step - 1));
    assert!((0..d.step - 1).all(|i| !bad(i)));
    assert!(d.first.is_some(), "the overflowing layer is named");
    // The same network with clipping trains.
    let clipped = small(&[
        ("compare", "\"relu/normal:1\""),
        ("depth", "10"),
        ("width", "32"),
        ("clip-norm", "1.0"),
    ]);
    let h = &run(&clipped).runs[0];
    assert!(h.diverged.is_none());
    assert!(h.last().1.accuracy > h.initial.train.accuracy + 0.2);
}

#[test]
fn the_same_seed_gives_the_same_history() {
    let cfg = small(&[("steps", "30")]);
    let a = serde_json::to_string(&run(&cfg)).unwrap();
    let b = serde_json::to_string(&run(&cfg)).unwrap();
    assert_eq!(a, b);
    let other = small(&[("steps", "30"), ("seed", "7")]);
    assert_ne!(a, serde_json::to_string(&run(&other)).unwrap());
}

#[test]
fn every_configuration_trains_on_the_same_batches() {
    // Two identical entries must produce identical runs: data, batch order and weights all
    // come from the shared seed, not from the run's position in the list.
    let cfg = small(&[("compare", "\"tanh/xavier-normal,tanh/xavier-normal\"")]);
    let r = run(&cfg);
    assert_eq!(r.runs[0].losses, r.runs[1].losses);
}

#[test]
fn layer_spread_is_each_layers_median_and_range_over_the_checkpoints() {
    let report = run(&small(&[("steps", "40")]));
    for h in &report.runs {
        let spread = h.layer_spread(|c| &c.grad_norms);
        assert_eq!(
            spread.len(),
            h.checkpoints[0].grad_norms.len(),
            "one per layer"
        );
        for (l, s) in spread.iter().enumerate() {
            let mut v: Vec<f64> = h.checkpoints.iter().map(|c| c.grad_norms[l]).collect();
            v.sort_by(f64::total_cmp);
            assert_eq!((s.min, s.max), (v[0], v[v.len() - 1]), "layer {}", l + 1);
            assert!(s.min <= s.median && s.median <= s.max, "layer {}", l + 1);
            assert!(v.len() > 2 && s.min < s.max, "the checkpoints differ");
        }
        let medians: Vec<f64> = h
            .layer_spread(|c| &c.update_ratios)
            .iter()
            .map(|s| s.median)
            .collect();
        assert_eq!(h.median_update_ratios(), medians);
    }
}

#[test]
fn the_svg_is_written_and_well_formed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("train.svg");
    let report = run(&small(&[("steps", "40")]));
    std::fs::write(
        &path,
        gradtutor::svg_string(&gradtutor::train_charts(&report)),
    )
    .unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    let doc = roxmltree::Document::parse(&text).expect("well-formed XML");
    assert_eq!(doc.root_element().tag_name().name(), "svg");
    let texts: String = doc
        .descendants()
        .filter(|n| n.is_text())
        .filter_map(|n| n.text())
        .collect();
    for h in &report.runs {
        assert!(texts.contains(&h.label), "legend names {}", h.label);
    }
    assert!(texts.contains("loss on the whole training set"));
    let lines = doc
        .descendants()
        .filter(|n| n.tag_name().name() == "polyline")
        .count();
    assert!(lines >= 2 * report.runs.len(), "{lines} polylines");
}

#[test]
fn impossible_settings_are_refused_with_the_reason() {
    let err = |args: &[(&str, &str)]| {
        let s = settings(args);
        match s.config().and_then(|c| c.check(GIB)) {
            Ok(_) => panic!("{args:?} was accepted"),
            Err(e) => e.to_string(),
        }
    };
    assert!(err(&[("steps", "0")]).contains("--steps"));
    assert!(err(&[("lr", "-1.0")]).contains("--lr"));
    assert!(err(&[("batch", "5000")]).contains("training examples"));
    assert!(err(&[("compare", "\"swish\"")]).contains("unknown activation"));
    assert!(err(&[("compare", "\"relu+dropout\"")]).contains("+bn and +residual"));
    assert!(err(&[("compare", "\"relu\""), ("activation", "\"tanh\"")]).contains("drop"));
    assert!(err(&[("samples", "2")]).contains("--samples"));
    assert!(err(&[("width", "100000"), ("depth", "50")]).contains("memory limit"));
}

/// The verdict of every run of `report`, with the accuracies its summary table prints.
fn verdicts(report: &TrainReport) -> Vec<(String, String, String)> {
    let table = gradtutor::render_training(report, &gradtutor::Ui::plain(100));
    report
        .runs
        .iter()
        .map(|h| {
            let row = table
                .lines()
                .find(|l| l.trim_start().starts_with(&format!("{} ", h.label)))
                .expect("a table row per run");
            let cells: Vec<&str> = row
                .split_whitespace()
                .filter(|c| c.ends_with('%'))
                .collect();
            let v = h.verdict.clone();
            (v, cells[0].to_string(), cells[1].to_string())
        })
        .collect()
}

#[test]
fn verdicts_name_overfitting_and_chance_with_the_tables_figures() {
    // 784 inputs and 300 training examples: easy to memorize, hard to generalize.
    let teacher = run(&small(&[
        ("dataset", "\"teacher\""),
        ("compare", "\"relu\""),
    ]));
    let h = &teacher.runs[0];
    let (_, train, test) = h.last();
    assert!(
        train.accuracy - test.accuracy > 0.5,
        "the case must overfit"
    );
    let [(v, train_cell, test_cell)] = verdicts(&teacher).try_into().unwrap();
    assert!(v.contains("overfitting"), "{v}");
    assert!(v.contains(&train_cell) && v.contains(&test_cell), "{v}");

    // Three layers of sigmoid and a residual copy on the spiral: both stay at chance, the
    // residual one with every layer moving.
    let spiral = run(&small(&[(
        "compare",
        "\"sigmoid,sigmoid/xavier-normal+residual,relu\"",
    )]));
    let all = verdicts(&spiral);
    for (h, (v, train_cell, test_cell)) in spiral.runs.iter().zip(&all) {
        assert!(v.contains(train_cell) && v.contains(test_cell), "{v}");
        let (_, train, _) = h.last();
        // Within a tenth of the way from chance to 100%.
        let chance = spiral.chance.train_accuracy;
        let at_chance = train.accuracy < chance + 0.1 * (1.0 - chance);
        assert_eq!(v.contains("chance level"), at_chance, "{v}");
    }
    assert!(all[0].0.contains("ln 3"), "{}", all[0].0);
    assert!(
        all[1]
            .0
            .contains("updates that reach every layer are not the same as learning"),
        "{}",
        all[1].0
    );
    assert!(!all[2].0.contains("chance") && !all[2].0.contains("overfitting"));
}

// ---------------------------------------------------------------------------------------------
// A configuration's own optimizer: ACTIVATION[/INIT][+bn][+residual][@OPTIMIZER]
// ---------------------------------------------------------------------------------------------

fn parse_error(entry: &str) -> String {
    entry.parse::<Variant>().unwrap_err().to_string()
}

// Catches: a suffix that is dropped, parsed case-sensitively, or swallowed into the options;
// a second '@' silently ignored; an error that does not list the names.
#[test]
fn a_compare_entry_names_its_optimizer_after_at_once() {
    let v: Variant = "sigmoid/xavier-normal@adam".parse().unwrap();
    assert_eq!(
        v,
        Variant {
            activation: Activation::Sigmoid,
            init: Init::XavierNormal,
            batch_norm: false,
            residual: false,
            block: Default::default(),
            optimizer: Some(OptimizerName::Adam),
        }
    );
    let v: Variant = "relu+bn+residual@SGD".parse().unwrap();
    assert!(v.batch_norm && v.residual);
    assert_eq!(v.optimizer, Some(OptimizerName::Sgd));
    assert_eq!(v.to_string(), "relu/he-normal+bn+residual@sgd");
    assert_eq!("tanh".parse::<Variant>().unwrap().optimizer, None);
    assert_eq!(
        parse_error("relu@nope"),
        "unknown optimizer 'nope' in --compare entry 'relu@nope'; the optimizers are sgd, \
         momentum, adam (write it last: ACTIVATION[/INIT][+bn][+residual][@OPTIMIZER])"
    );
    assert_eq!(
        parse_error("relu@adam@sgd"),
        "'@' appears twice in --compare entry 'relu@adam@sgd'; a configuration names one \
         optimizer"
    );
    assert!(parse_error("relu@").contains("names no optimizer after '@'"));
    assert!(parse_error("@adam").contains("names no activation"));
    assert!(parse_error("relu@adam+bn").contains("unknown optimizer 'adam+bn'"));
}

fn labels(cfg: &TrainConfig) -> Vec<String> {
    cfg.variants.iter().map(|v| v.to_string()).collect()
}

// Catches: labels that show '@' when every run shares the optimizer (today's labels must not
// change), or hide it when they differ; an entry without '@' that ignores --optimizer.
#[test]
fn labels_show_the_optimizer_exactly_when_the_configurations_differ_in_it() {
    let mixed = small(&[("compare", "\"sigmoid@sgd,sigmoid@adam,relu\"")]);
    assert_eq!(
        labels(&mixed),
        [
            "sigmoid/xavier-normal@sgd",
            "sigmoid/xavier-normal@adam",
            "relu/he-normal@momentum"
        ]
    );
    assert_eq!(
        mixed.optimizers_text(),
        "sgd, adam, momentum per configuration"
    );
    let with_flag = small(&[
        ("compare", "\"sigmoid@sgd,relu\""),
        ("optimizer", "\"adam\""),
    ]);
    assert_eq!(
        labels(&with_flag),
        ["sigmoid/xavier-normal@sgd", "relu/he-normal@adam"]
    );
    // Everyone on Adam: the same comparison as --optimizer adam, byte for byte.
    let shared = small(&[("compare", "\"relu@adam,tanh@adam\"")]);
    let flag = small(&[("compare", "\"relu,tanh\""), ("optimizer", "\"adam\"")]);
    assert_eq!(shared, flag);
    assert_eq!(labels(&shared), ["relu/he-normal", "tanh/xavier-normal"]);
    assert_eq!(shared.optimizers_text(), "adam");
    // One entry naming what --optimizer (or its default) gives the rest changes nothing.
    let same = small(&[("compare", "\"relu@momentum,tanh\"")]);
    assert_eq!(same, small(&[("compare", "\"relu,tanh\"")]));
    // The trained runs carry the labels, and one --lr for all.
    let report = run(&small(&[
        ("compare", "\"sigmoid@sgd,sigmoid@adam\""),
        ("steps", "3"),
        ("lr", "0.05"),
    ]));
    let got: Vec<&str> = report.runs.iter().map(|h| h.label.as_str()).collect();
    assert_eq!(
        got,
        ["sigmoid/xavier-normal@sgd", "sigmoid/xavier-normal@adam"]
    );
    assert_eq!(report.config.lr, 0.05);
}

// Catches: a preset that drifts from the default comparison's deep sigmoid network, or loses
// an optimizer.
#[test]
fn the_optimizers_preset_is_the_default_first_configuration_with_each_optimizer() {
    let preset = small(&[("compare", "\"optimizers\"")]);
    let first = Variant::parse_list("gradient-flow").unwrap()[0];
    let want: Vec<Variant> = [
        OptimizerName::Sgd,
        OptimizerName::Momentum,
        OptimizerName::Adam,
    ]
    .into_iter()
    .map(|o| Variant {
        optimizer: Some(o),
        ..first
    })
    .collect();
    assert_eq!(preset.variants, want);
}

/// "Every layer moves" at chance accuracy mentions Adam's rescaling only in an Adam run: the
/// default comparison trains with momentum and its sigmoid run lands in that verdict.
#[test]
fn the_learned_nothing_verdict_names_adam_only_for_adam() {
    let momentum = common::stdout(common::gradtutor("train").arg("train"));
    assert!(
        momentum.contains("every layer moves, but the updates have not found"),
        "{momentum}"
    );
    assert!(!momentum.contains("Adam"), "{momentum}");
    let adam = common::stdout(common::gradtutor("train").args([
        "train",
        "--compare",
        "relu/he-normal+residual@adam",
        "--depth",
        "30",
        "--steps",
        "300",
    ]));
    assert!(
        adam.contains("every layer moves (Adam rescales every step to about η"),
        "{adam}"
    );
}
