//! The numerical engine: layers, initializers, losses and a multilayer perceptron with an
//! exact backward pass, generic over f32 and f64. Knows nothing of the terminal.
//!
//! Transcendental functions go through [`Real`] (libm), so a seed gives the same bits on
//! every machine; clippy refuses std's platform versions throughout the crate (clippy.toml).

pub mod activation;
pub mod attention;
pub mod batchnorm;
pub mod dense;
#[cfg(test)]
mod gradcheck;
pub mod init;
pub mod layernorm;
pub mod loss;
pub mod mup;
pub mod network;
pub mod optim;
pub mod parallel;
pub mod real;
pub mod recurrent;
pub mod rng;
pub mod spectrum;
pub mod stats;
pub mod storage;

pub use activation::Activation;
pub use init::Init;
pub use network::{Block, Network, Placement, Spec};
pub use real::Real;
pub use stats::{mean_std, norm};
