//! gradtutor: a command-line tutor for gradient dynamics in deep networks.

pub mod nn;
pub mod probe;
pub mod theory;
