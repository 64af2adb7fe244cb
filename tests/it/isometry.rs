//! The input–output Jacobian and its singular values: central finite differences of the
//! forward map, and closed forms.

use super::common;

use gradtutor::gaussian_batch;
use gradtutor::nn::init::gaussian_biases;
use gradtutor::nn::spectrum::{input_jacobian, singular_values};
use gradtutor::nn::{Activation, Init, Network, Spec};
use ndarray::{Array1, Array2, array};

fn spec(input: usize, hidden: &[usize], activation: &str, init: Init, residual: bool) -> Spec {
    Spec {
        input,
        hidden: hidden.to_vec(),
        outputs: 3,
        activation: activation.parse::<Activation>().unwrap(),
        init,
        output_init: Init::XavierNormal,
        batch_norm: false,
        residual,
        block: Default::default(),
    }
}

/// a_L, the last hidden layer's output, for one input.
fn last_hidden(net: &Network<f64>, x: &Array1<f64>) -> Array1<f64> {
    let tape = net.forward(x.clone().insert_axis(ndarray::Axis(0)));
    tape.last.row(0).to_owned()
}

/// Worst |J − J_numeric| over the entries, J_numeric from the fourth-order central stencil
/// with h = 1e−4 on each input coordinate.
fn worst_error(spec: &Spec, seed: u64) -> f64 {
    let mut net = Network::<f64>::build(spec, seed).unwrap();
    gaussian_biases(&mut net, 0.3, seed);
    let (x, _) = gaussian_batch::<f64>(1, spec.input, 2, seed);
    let x = x.row(0).to_owned();
    let j = input_jacobian(&net, x.view()).unwrap();
    assert_eq!(j.dim(), (*spec.hidden.last().unwrap(), spec.input));
    let h = 1e-4;
    let mut worst = 0.0f64;
    for c in 0..spec.input {
        let at = |d: f64| {
            let mut x = x.clone();
            x[c] += d;
            last_hidden(&net, &x)
        };
        let numeric = (-&at(2.0 * h) + 8.0 * &at(h) - 8.0 * &at(-h) + at(-2.0 * h)) / (12.0 * h);
        for r in 0..j.nrows() {
            worst = worst.max((j[(r, c)] - numeric[r]).abs());
        }
    }
    worst
}

// Catches: a transposed kernel, φ′ taken at the wrong layer, a skip path left out of J.
#[test]
fn the_jacobian_matches_central_differences_of_the_forward_map() {
    let cases = [
        spec(4, &[5, 3, 6], "tanh", Init::XavierNormal, false),
        spec(4, &[5, 3, 6], "sigmoid", Init::HeNormal, false),
        spec(5, &[5, 5, 5], "gelu", Init::Orthogonal(Some(1.3)), false),
        spec(4, &[4, 4, 4], "tanh", Init::XavierNormal, true),
        spec(3, &[6, 4], "linear", Init::LecunNormal, false),
    ];
    for (i, s) in cases.iter().enumerate() {
        let err = worst_error(s, 7 + i as u64);
        assert!(err < 1e-9, "case {i}: worst error {err:e}");
    }
}

// Catches: ReLU's kink: the Jacobian's entries are exactly the product of kept paths.
#[test]
fn a_relu_jacobian_matches_central_differences_away_from_the_kink() {
    let s = spec(4, &[6, 5], "relu", Init::HeNormal, false);
    assert!(worst_error(&s, 3) < 1e-9);
}

// Catches: lost orthogonality (a kernel, or a factor of the Jacobian's product, that is not
// exactly orthogonal): WᵀW = I makes every singular value 1. Not a wrong product order or a
// transposed kernel, whose products are orthogonal too: the central-difference test does.
#[test]
fn a_linear_network_with_orthogonal_weights_is_an_exact_isometry() {
    let s = spec(16, &[16; 12], "linear", Init::Orthogonal(None), false);
    let net = Network::<f64>::build(&s, 5).unwrap();
    let x = Array1::from_elem(16, 0.5);
    let sv = singular_values(&input_jacobian(&net, x.view()).unwrap());
    assert_eq!(sv.len(), 16);
    for v in &sv {
        assert!((v - 1.0).abs() < 1e-10, "singular value {v}");
    }
}

// Catches: a gain applied once instead of per layer.
#[test]
fn orthogonal_gain_g_over_l_linear_layers_gives_every_singular_value_g_to_the_l() {
    let s = spec(8, &[8; 5], "linear", Init::Orthogonal(Some(1.5)), false);
    let net = Network::<f64>::build(&s, 9).unwrap();
    let x = Array1::zeros(8);
    let sv = singular_values(&input_jacobian(&net, x.view()).unwrap());
    for v in sv {
        assert!((v / 1.5f64.powi(5) - 1.0).abs() < 1e-10, "{v}");
    }
}

// Catches: a wrong derivative at a fixed point: tanh′(0) = 1, so at x = 0 with zero biases a
// tanh network's J is the linear network's.
#[test]
fn tanh_at_the_origin_has_the_linear_networks_jacobian() {
    let tanh = spec(6, &[6; 4], "tanh", Init::XavierNormal, false);
    let lin = spec(6, &[6; 4], "linear", Init::XavierNormal, false);
    let x = Array1::zeros(6);
    let a = input_jacobian(&Network::<f64>::build(&tanh, 2).unwrap(), x.view()).unwrap();
    let b = input_jacobian(&Network::<f64>::build(&lin, 2).unwrap(), x.view()).unwrap();
    assert_eq!(a, b);
}

#[test]
fn singular_values_of_small_matrices_take_their_closed_forms() {
    let d: Array2<f64> = array![[3.0, 0.0], [0.0, -4.0]];
    assert_eq!(singular_values(&d), vec![4.0, 3.0]);
    // [[1, 1], [0, 1]]: σ = (√5 ± 1)/2.
    let shear: Array2<f64> = array![[1.0, 1.0], [0.0, 1.0]];
    let sv = singular_values(&shear);
    let phi = (5f64.sqrt() + 1.0) / 2.0;
    assert!((sv[0] - phi).abs() < 1e-14 && (sv[1] - 1.0 / phi).abs() < 1e-14);
}

#[test]
fn batch_norm_has_no_per_example_jacobian() {
    let mut s = spec(4, &[4, 4], "tanh", Init::XavierNormal, false);
    s.batch_norm = true;
    let net = Network::<f64>::build(&s, 1).unwrap();
    assert!(input_jacobian(&net, Array1::zeros(4).view()).is_none());
}

// Catches: biases drawn from the kernels' stream, or a σ_b of 0 that still changes them.
#[test]
fn gaussian_biases_are_seeded_and_scaled() {
    let s = spec(4, &[3, 3], "tanh", Init::XavierNormal, false);
    let mut net = Network::<f64>::build(&s, 1).unwrap();
    let w = net.hidden[0].dense.w.clone();
    gaussian_biases(&mut net, 0.0, 1);
    assert!(
        net.hidden
            .iter()
            .all(|h| h.dense.b.iter().all(|&b| b == 0.0))
    );
    let mut again = net.clone();
    gaussian_biases(&mut net, 0.5, 1);
    gaussian_biases(&mut again, 1.0, 1);
    assert_eq!(net.hidden[0].dense.w, w);
    assert_eq!(&again.hidden[1].dense.b, &(2.0 * &net.hidden[1].dense.b));
    assert!(net.hidden[0].dense.b.iter().all(|&b| b != 0.0));
    assert!(net.output.b.iter().all(|&b| b == 0.0));
}

use gradtutor::{Settings, Ui, find_experiment, render_json, render_text};

const GIB: u64 = 1 << 30;

fn small(depth: usize) -> Settings {
    Settings {
        depth: Some(depth),
        width: Some(16),
        batch: Some(8),
        ..Settings::default()
    }
}

// Catches: a spectrum not carried into the report, κ of an orthogonal linear net off 1.
#[test]
fn demo_isometry_reports_each_networks_spectrum_and_the_depth_sweep() {
    let exp = find_experiment("isometry").unwrap();
    let report = exp.run(&small(8), GIB).unwrap();
    let labels: Vec<&str> = report.runs.iter().map(|r| r.label.as_str()).collect();
    assert_eq!(
        labels,
        [
            "gauss-tanh",
            "orth-tanh",
            "gauss-relu",
            "orth-relu",
            "gauss-lin",
            "orth-lin"
        ]
    );
    for run in &report.runs {
        let s = run.spectrum().unwrap();
        assert_eq!(s.singular_values.len(), 4);
        assert!(s.singular_values.iter().all(|v| v.len() == 16));
        assert!(s.min <= s.p5 && s.p5 <= s.median && s.median <= s.p95 && s.p95 <= s.max);
    }
    let orth = report.runs[5].spectrum().unwrap();
    assert!((orth.condition_number - 1.0).abs() < 1e-10);
    assert!((orth.min - 1.0).abs() < 1e-10 && (orth.max - 1.0).abs() < 1e-10);
    // Depth sweep: L/8 … 2L for L = 8 is 1, 2, 4, 8, 16.
    let sweep = &report.tables[1];
    let depths: Vec<&str> = sweep.rows.iter().map(|r| r[0].as_str()).collect();
    assert_eq!(depths, ["1", "2", "4", "8", "16"]);
    let text = render_text(&report, &Ui::plain(80));
    assert!(text.lines().all(|l| l.chars().count() <= 80), "{text}");
    assert!(text.contains("orth-lin") && text.contains("κ"));
    let json = render_json(&report);
    assert!(json.contains("\"singular_values\"") && json.contains("\"condition_number\""));
    assert!(json.contains("\"jacobian_inputs\": 4"));
}

// Catches: an isometry run that allocates before it checks, or a panic on bad sizes.
#[test]
fn demo_isometry_refuses_impossible_and_oversized_runs_before_running() {
    let exp = find_experiment("isometry").unwrap();
    let huge = Settings {
        width: Some(1 << 20),
        ..Settings::default()
    };
    let err = exp.run(&huge, GIB).unwrap_err().to_string();
    assert!(err.contains("memory limit"), "{err}");
    let bad = Settings {
        bias_std: Some(-1.0),
        ..small(4)
    };
    let err = exp.run(&bad, GIB).unwrap_err().to_string();
    assert!(err.contains("--bias-std"), "{err}");
    let zero = Settings {
        width: Some(0),
        ..small(4)
    };
    assert!(exp.run(&zero, GIB).is_err());
    let fixed = Settings {
        activation: Some(Activation::Relu),
        ..small(4)
    };
    let err = exp.run(&fixed, GIB).unwrap_err().to_string();
    assert!(err.contains("--activation"), "{err}");
}

// Catches: a heat map wider than 80 columns, a χ = 1 line off theory's, a lost cell.
#[test]
fn demo_phase_draws_the_map_in_80_columns_with_the_critical_line() {
    let exp = find_experiment("phase").unwrap();
    let s = Settings {
        depth: Some(6),
        ..small(6)
    };
    let report = exp.run(&s, GIB).unwrap();
    let gradtutor::ReportBody::Phase { map } = &report.body else {
        panic!("demo phase reports its map");
    };
    assert_eq!((map.sigma_w.len(), map.sigma_b.len()), (15, 11));
    assert_eq!(map.cells.len(), 165);
    assert!(report.side_runs.is_empty());
    assert_eq!(report.runs.len(), 1);
    assert_eq!(
        report.runs[0].config.spec.init,
        Init::Normal(Some(1.0 / 4.0))
    );
    // σ_b = 0: χ = 1 at σ_w = 1 exactly, so the line stands before the σ_w = 1 column.
    assert!((map.critical_sigma_w[0].unwrap() - 1.0).abs() < 1e-9);
    let cell = |w: f64, b: f64| {
        map.cells
            .iter()
            .find(|c| (c.sigma_w - w).abs() < 1e-12 && (c.sigma_b - b).abs() < 1e-12)
            .unwrap()
    };
    assert!(cell(0.5, 0.0).log10_per_layer.unwrap() < -0.2);
    assert!(cell(4.0, 0.0).log10_per_layer.unwrap() > 0.1);
    assert!((cell(0.5, 0.0).chi - 0.25).abs() < 1e-9);
    let text = render_text(&report, &Ui::plain(80));
    assert!(text.lines().all(|l| l.chars().count() <= 80), "{text}");
    let row0 = text.lines().find(|l| l.starts_with("0.00")).unwrap();
    assert_eq!(row0.matches('│').count(), 1, "{row0}");
    assert!(row0.contains("│ ") || row0.contains("│+") || row0.contains("│-"));
    let svg = gradtutor::phase_svg(map, &map.network);
    assert_eq!(svg.matches("class=\"cell\"").count(), 165);
    assert!(svg.contains("class=\"theory\""));
}

// Catches: --bias-std leaking into runs that did not ask for it (today's output must stay).
#[test]
fn bias_std_zero_leaves_the_probe_as_it_was() {
    let exp = find_experiment("vanishing").unwrap();
    let plain = exp.run(&small(5), GIB).unwrap();
    let zero = exp
        .run(
            &Settings {
                bias_std: Some(0.0),
                ..small(5)
            },
            GIB,
        )
        .unwrap();
    assert_eq!(render_json(&plain), render_json(&zero));
    let biased = exp
        .run(
            &Settings {
                bias_std: Some(0.3),
                ..small(5)
            },
            GIB,
        )
        .unwrap();
    assert_ne!(plain.runs[0].loss, biased.runs[0].loss);
    assert!(render_json(&biased).contains("\"bias_std\": 0.3"));
}

// Catches: flags the Jacobian's product leaves out being accepted silently.
#[test]
fn the_jacobian_demos_refuse_what_their_product_leaves_out() {
    for (args, says) in [
        (
            &["demo", "isometry", "--precision", "f16"][..],
            "the Jacobian is taken in f32 or f64 (got --precision f16)",
        ),
        (&["demo", "isometry", "--norm", "layer"][..], "drop --norm"),
        (
            &["demo", "phase", "--branch-scale", "0.5"][..],
            "drop --branch-scale",
        ),
        (
            &["demo", "recurrent", "--bias-std", "0.1"][..],
            "drop --bias-std",
        ),
    ] {
        common::gradtutor("isometry")
            .args(args)
            .assert()
            .failure()
            .stderr(predicates::str::contains(says));
    }
    let mut cfg = gradtutor::ProbeConfig::canonical(3, 8, 4, 3);
    cfg.kind = gradtutor::ProbeKind::Mlp(gradtutor::Mlp {
        jacobian_inputs: 1,
        ..Default::default()
    });
    cfg.spec.block.layer_norm = true;
    let err = cfg.check(1 << 30).unwrap_err().to_string();
    assert!(err.contains("drop --norm and --branch-scale"), "{err}");
}
