//! Experiments: the acceptance figures, depth sensitivity, and a fixed-seed snapshot.

use gradtutor::Settings;
use gradtutor::TheoryLine;
use gradtutor::find_experiment;

const GIB: u64 = 1 << 30;

fn settings(depth: usize) -> Settings {
    Settings {
        depth: Some(depth),
        ..Settings::default()
    }
}

#[test]
fn vanishing_at_defaults_matches_the_lesson_and_the_theory() {
    let r = find_experiment("vanishing")
        .unwrap()
        .run(&settings(20), GIB)
        .unwrap();
    let run = &r.runs[0];
    let orders = -run.grad_orders().unwrap();
    assert!(
        (11.0..=14.0).contains(&orders),
        "first layer {orders} orders below the last"
    );
    let TheoryLine::Compared {
        predicted_orders,
        measured_orders: Some(m),
        ..
    } = run.theory
    else {
        panic!("theory applies to sigmoid + Xavier");
    };
    assert!(
        (predicted_orders - m).abs() <= 1.0,
        "predicted {predicted_orders}, measured {m}"
    );
}

#[test]
fn the_theory_curve_starts_at_the_output_and_ends_at_the_predicted_orders() {
    let r = find_experiment("vanishing")
        .unwrap()
        .run(&settings(20), GIB)
        .unwrap();
    let run = &r.runs[0];
    let TheoryLine::Compared {
        predicted_factor,
        predicted_orders,
        ..
    } = run.theory
    else {
        panic!("theory applies to sigmoid + Xavier");
    };
    let curve = run
        .theory_signal_norms()
        .expect("a finite output norm to anchor to");
    assert_eq!(
        curve.len(),
        21,
        "one point per layer, the output layer included"
    );
    let (first, last) = (curve[0], curve[20]);
    assert_eq!((first.0, last.0), (1, 21));
    // Anchored at the measurement where the backprop signal starts...
    let output = run.layers()[20].figures.signal_norm;
    assert!(
        (last.1 / output - 1.0).abs() < 1e-12,
        "{} vs {output}",
        last.1
    );
    // ...the text's ×factor per layer, step by step...
    let step = curve[10].1 / curve[11].1;
    assert!((step / predicted_factor - 1.0).abs() < 1e-9, "{step}");
    // ...and the text's orders over the whole depth at layer 1.
    let orders = libm::log10(first.1 / last.1);
    assert!((orders - predicted_orders).abs() < 1e-9, "{orders}");
    // A run the theory does not cover has no curve.
    let bn = find_experiment("batchnorm")
        .unwrap()
        .run(&settings(20), GIB)
        .unwrap();
    assert!(bn.runs[1].theory_signal_norms().is_none(), "batch norm run");
}

#[test]
fn relu_with_he_stays_within_one_order() {
    let s = Settings {
        activation: Some("relu".parse().unwrap()),
        init: Some("he-normal".parse().unwrap()),
        ..settings(20)
    };
    let r = find_experiment("vanishing").unwrap().run(&s, GIB).unwrap();
    let o = r.runs[0].grad_orders().unwrap();
    assert!(o.abs() <= 1.0, "{o} orders");
    assert!(r.runs[0].signal_orders().unwrap().abs() <= 1.0);
}

#[test]
fn the_verdict_changes_with_depth() {
    let small = Settings {
        width: Some(32),
        batch: Some(16),
        ..settings(4)
    };
    let deep = Settings {
        depth: Some(12),
        ..small.clone()
    };
    let a = find_experiment("vanishing")
        .unwrap()
        .run(&small, GIB)
        .unwrap();
    let b = find_experiment("vanishing")
        .unwrap()
        .run(&deep, GIB)
        .unwrap();
    assert_ne!(a.verdicts[0], b.verdicts[0]);
    assert!(b.runs[0].grad_orders().unwrap() < a.runs[0].grad_orders().unwrap() - 3.0);
}

#[test]
fn f32_underflow_is_named() {
    let s = Settings {
        width: Some(32),
        batch: Some(16),
        ..settings(80)
    };
    let r = find_experiment("vanishing").unwrap().run(&s, GIB).unwrap();
    assert!(!r.runs[0].zero_layers().is_empty());
    assert!(
        r.verdicts[0].contains("exactly 0 (f32 underflow)"),
        "{}",
        r.verdicts[0]
    );
}

#[test]
fn exploding_overflows_in_f32_at_depth() {
    let s = Settings {
        width: Some(64),
        batch: Some(16),
        ..settings(150)
    };
    let r = find_experiment("exploding").unwrap().run(&s, GIB).unwrap();
    assert!(r.runs[0].first_nonfinite_layer.is_some());
    assert!(r.verdicts[0].contains("overflowed to inf") || r.verdicts[0].contains("became NaN"));
}

/// The overflow forecast only where the backprop signal grows: with Xavier weights tanh's
/// ‖∂L/∂h‖ shrinks (while ‖∂L/∂W‖ still rises toward layer 1), and the note says no overflow
/// is coming instead of forecasting one thousands of layers away.
#[test]
fn exploding_forecasts_overflow_only_for_a_growing_signal() {
    let exp = find_experiment("exploding").unwrap();
    let xavier = Settings {
        init: Some(gradtutor::nn::Init::XavierNormal),
        ..settings(20)
    };
    let r = exp.run(&xavier, GIB).unwrap();
    assert!(r.runs[0].grad_orders().unwrap() > 0.0);
    assert!(r.runs[0].signal_orders().unwrap() < 0.0);
    assert!(
        !r.notes.iter().any(|n| n.contains("more layers")),
        "{:?}",
        r.notes
    );
    assert!(r.notes.iter().any(|n| n.contains("no overflow is coming")));
    let r = exp.run(&settings(20), GIB).unwrap();
    assert!(r.notes.iter().any(|n| n.contains("more layers")));
}

/// Clipping scales every layer by the same factor: the forecast is the unclipped run's, and
/// the advice does not suggest the clipping already on.
#[test]
fn exploding_with_clipping_forecasts_from_the_raw_norms() {
    let exp = find_experiment("exploding").unwrap();
    let forecast = |r: &gradtutor::Report| {
        r.notes
            .iter()
            .find(|n| n.contains("more layers"))
            .cloned()
            .unwrap_or_default()
    };
    let raw = exp.run(&settings(20), GIB).unwrap();
    let clipped = Settings {
        clip_norm: Some(1.0),
        ..settings(20)
    };
    let clipped = exp.run(&clipped, GIB).unwrap();
    assert!(!forecast(&raw).is_empty());
    assert_eq!(forecast(&raw), forecast(&clipped));
    assert!(
        clipped
            .notes
            .iter()
            .all(|n| !n.contains("or demo clipping"))
    );
    assert!(clipped.description.contains("clipped to global norm 1"));
}

/// Batch 8, and width 16 and depth 5 where the experiment lets them be set (demo recurrent
/// sets its depth itself, its --seq-len; demo width sweeps widths 8 and 16).
fn small(exp: &gradtutor::Experiment) -> Settings {
    let mut s = Settings {
        batch: Some(8),
        ..Settings::default()
    };
    if !exp.fixed.contains(&gradtutor::Knob::Width) {
        s.width = Some(16);
    }
    if !exp.fixed.contains(&gradtutor::Knob::Depth) {
        s.depth = Some(5);
    }
    if (exp.defaults)().widths.is_some() {
        s.widths = Some("8,16".parse().unwrap());
    }
    s
}

#[test]
fn every_experiment_runs_at_small_size() {
    for exp in gradtutor::EXPERIMENTS {
        let r = exp.run(&small(exp), GIB).unwrap();
        assert!(!r.verdicts.is_empty(), "{}", exp.name);
        let json = gradtutor::render_json(&r);
        serde_json::from_str::<serde_json::Value>(&json).unwrap();
    }
}

/// `check` reads figures from `Experiment::figures`, which leaves out depth sweeps and
/// skipinit's training run: every main run must come out exactly as in the full report, and
/// only the sweep's and the training's tables may be missing.
#[test]
fn figures_only_reports_the_same_main_runs_as_the_full_report() {
    for exp in gradtutor::EXPERIMENTS {
        let s = small(exp);
        let full = exp.run(&s, GIB).unwrap();
        let figures = exp.figures(&s, GIB).unwrap();
        assert_eq!(figures.runs, full.runs, "{}", exp.name);
        let titles = |r: &gradtutor::Report| -> Vec<String> {
            r.tables.iter().map(|t| t.title.clone()).collect()
        };
        let left_out: Vec<String> = titles(&full)
            .into_iter()
            .filter(|t| !titles(&figures).contains(t))
            .collect();
        let expected: &[&str] = match exp.name {
            "isometry" => &["Depth sweep, tanh at σ_w on the χ = 1 line"],
            "skipinit" => &["Training: 300 steps of "],
            _ => &[],
        };
        assert_eq!(left_out.len(), expected.len(), "{}: {left_out:?}", exp.name);
        for (title, start) in left_out.iter().zip(expected) {
            assert!(title.starts_with(start), "{}: {title}", exp.name);
        }
    }
}

#[test]
fn fixed_seed_text_output_matches_the_snapshot() {
    let s = Settings {
        width: Some(32),
        batch: Some(16),
        ..settings(8)
    };
    let r = find_experiment("vanishing").unwrap().run(&s, GIB).unwrap();
    let text = gradtutor::render_text(&r, &gradtutor::Ui::plain(80));
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/snapshots/vanishing-depth8.txt"
    );
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(path, &text).unwrap();
    }
    let want =
        std::fs::read_to_string(path).expect("snapshot exists (UPDATE_SNAPSHOTS=1 writes it)");
    assert_eq!(text, want);
}

/// Words of a text as the checks below read them: lower case, without surrounding
/// punctuation, each with the word before it (to tell `--init NAME` from prose).
fn words(text: &str) -> Vec<(String, String)> {
    let strip = |w: &str| {
        w.trim_start_matches(['(', '['])
            .trim_end_matches([',', '.', ';', ':', ')', ']', '′', '\''])
            .to_lowercase()
    };
    let mut out = Vec::new();
    let mut prev = String::new();
    for w in text.split_whitespace() {
        let w = strip(w);
        out.push((prev.clone(), w.clone()));
        prev = w;
    }
    out
}

/// The activation names a description may mention, from the library's own list (without the
/// `[:slope]` parameter). `linear` is left out: it is also an ordinary word ("a linear map").
fn activation_words() -> Vec<&'static str> {
    gradtutor::nn::activation::ACTIVATION_NAMES
        .iter()
        .map(|n| n.split('[').next().unwrap_or(n))
        .filter(|n| *n != "linear")
        .collect()
}

/// The initializer names that take no parameter, from the library's own list; the ones that
/// do (`normal:0.01`) are matched by their prefix below.
fn init_words() -> Vec<&'static str> {
    gradtutor::nn::init::INIT_NAMES
        .iter()
        .copied()
        .filter(|n| !n.contains(':'))
        .collect()
}

/// The flag combinations the description test runs each experiment under.
fn combinations() -> Vec<Settings> {
    let parse = |a: &str, i: &str| Settings {
        activation: Some(a.parse().unwrap()),
        init: Some(i.parse().unwrap()),
        ..Settings::default()
    };
    vec![
        Settings::default(),
        parse("relu", "he-normal"),
        parse("tanh", "lecun-normal"),
        parse("sigmoid", "normal:1"),
        Settings {
            activation: Some("relu".parse().unwrap()),
            ..Settings::default()
        },
        Settings {
            precision: Some(gradtutor::Precision::F64),
            ..Settings::default()
        },
        Settings {
            depth: Some(5),
            ..Settings::default()
        },
    ]
}

#[test]
fn every_description_names_what_ran_and_suggests_only_something_else() {
    for exp in gradtutor::EXPERIMENTS {
        for flags in combinations() {
            if flags.given().iter().any(|k| exp.fixed.contains(k)) {
                continue;
            }
            let mut s = Settings {
                batch: Some(8),
                ..flags.clone()
            };
            if !exp.fixed.contains(&gradtutor::Knob::Width) {
                s.width = Some(16);
            }
            if (exp.defaults)().widths.is_some() {
                s.widths = Some("8,16".parse().unwrap());
            }
            let r = exp.run(&s, GIB).unwrap();
            let case = format!("demo {} {:?}", exp.name, flags.to_args());
            let text = r.description.to_lowercase();
            let runs: Vec<&gradtutor::Run> = r.runs.iter().chain(&r.side_runs).collect();
            let mut activations = Vec::new();
            let mut inits = Vec::new();
            for run in &runs {
                let spec = &run.config.spec;
                // An attention head has no activation or layers: its description names T,
                // d_model, the projections' initializer and the precision.
                if let gradtutor::ProbeKind::Attention(a) = &run.config.kind {
                    for part in [
                        format!("t = {}", a.seq_len),
                        format!("d_model = {}", spec.input),
                        spec.init.to_string(),
                        run.config.precision.to_string(),
                    ] {
                        assert!(text.contains(&part), "{case}: no '{part}' in: {text}");
                    }
                    inits.push(spec.init.to_string());
                    continue;
                }
                activations.push(spec.activation.to_string());
                inits.push(spec.init.to_string());
                inits.push(spec.output_init.to_string());
                let depth = format!("{} hidden layer", run.config.depth());
                let name = &activations[activations.len() - 1];
                assert!(
                    text.contains(name.as_str()),
                    "{case}: no '{name}' in: {text}"
                );
                // The (output) initializer, as written or as prose rounds its parameter
                // (`normal:0.0884` for `normal:0.08838834764831843`).
                let (full, prose) = (
                    spec.output_init.to_string(),
                    spec.output_init.prose().to_lowercase(),
                );
                assert!(
                    text.contains(&full) || text.contains(&prose),
                    "{case}: neither '{full}' nor '{prose}' in: {text}"
                );
                // A recurrent run has no hidden layers: its description names T instead.
                let t = match &run.config.kind {
                    gradtutor::ProbeKind::Recurrent(r) => Some(format!("t = {}", r.seq_len)),
                    gradtutor::ProbeKind::Mlp(_) | gradtutor::ProbeKind::Attention(_) => None,
                };
                let shape = t.unwrap_or(depth);
                assert!(text.contains(&shape), "{case}: no '{shape}' in: {text}");
                let precision = run.config.precision.to_string();
                assert!(
                    text.contains(&precision),
                    "{case}: no {precision} in: {text}"
                );
            }
            let ran_activation = |w: &str| {
                activations
                    .iter()
                    .any(|a| a == w || a.split(':').next() == Some(w))
            };
            let ran_init = |w: &str| inits.iter().any(|i| i == w);
            for (prev, w) in words(&r.description) {
                let base = w.split(':').next().unwrap_or("");
                if activation_words().contains(&base) && prev != "--activation" {
                    assert!(ran_activation(&w), "{case}: '{w}' did not run: {text}");
                }
                let is_init = init_words().contains(&w.as_str())
                    || ["normal:", "uniform:", "constant:"]
                        .iter()
                        .any(|p| w.starts_with(p));
                if is_init && prev != "--init" {
                    assert!(ran_init(&w), "{case}: '{w}' did not run: {text}");
                }
            }
            // A suggestion names a setting other than the one that ran, in the description
            // and in the notes alike.
            let notes = r.notes.join(" ");
            for (prev, w) in words(&r.description).into_iter().chain(words(&notes)) {
                match prev.as_str() {
                    "--activation" => assert!(!ran_activation(&w), "{case}: suggests {w}"),
                    "--init" => assert!(!ran_init(&w), "{case}: suggests --init {w}"),
                    "--depth" => assert!(
                        runs.iter().all(|r| r.config.depth().to_string() != w),
                        "{case}: suggests --depth {w}"
                    ),
                    "--precision" => assert!(
                        runs.iter().all(|r| r.config.precision.to_string() != w),
                        "{case}: suggests --precision {w}"
                    ),
                    _ => {}
                }
            }
        }
    }
}

/// A median over seeds says so in its header; a run without the compared feature says
/// "no residual" instead of nothing; the residual run's large initial loss is explained.
#[test]
fn residual_over_seeds_names_its_seeds_and_explains_its_loss() {
    let s = Settings {
        seeds: Some(3),
        width: Some(32),
        batch: Some(16),
        ..settings(30)
    };
    let r = find_experiment("residual").unwrap().run(&s, GIB).unwrap();
    let text = gradtutor::render_text(&r, &gradtutor::Ui::plain(100));
    assert!(text.contains("· seeds 42–44\n"), "{text}");
    assert!(!text.contains("· seed 42"), "{text}");
    assert!(text.contains("  [1] plain      no residual\n"), "{text}");
    let residual = &r.runs[1];
    // Over twice ln 10 ≈ 2.303: the verdict's threshold for 10 classes.
    assert!(residual.loss > 4.61, "loss {}", residual.loss);
    let loss = format!("the loss at initialization is {:.1}", residual.loss);
    assert!(
        r.verdicts.iter().any(|v| v.contains(&loss)),
        "{:?}",
        r.verdicts
    );
    assert!(!r.verdicts.iter().any(|v| v.starts_with("plain: the loss")));
}
