//! The input–output Jacobian and its singular values: central finite differences of the
//! forward map, and closed forms.

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

// Catches: lost orthogonality, a wrong product order: WᵀW = I makes every singular value 1.
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
