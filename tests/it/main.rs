//! The integration tests, one binary: a module per area, and `common` for running the
//! binary. One binary links the library and its dependencies once, where a file per area
//! linked them 19 times. `tests/fuzz_loaders.rs` stays a binary of its own: it installs a
//! counting global allocator (and refuses any single allocation over 1 GiB), which would
//! otherwise apply to every test here.
//!
//! Tests run on threads of one process: none may change the environment, the current
//! folder or a process-wide setting, and files outside a `tempfile` folder are named after
//! the module that writes them (`common::gradtutor("cli")`).

mod common;

mod attention;
mod authoring;
mod bank;
mod browser;
mod charts;
mod claims;
mod class;
mod cli;
mod data;
mod engine;
mod experiments;
mod export;
mod handout;
mod hardening;
mod hist;
mod hostile;
mod instructor;
mod isometry;
mod layers;
mod limits;
mod live_class;
mod normalization;
mod pinned;
mod precision;
mod progress;
mod projector;
mod recurrent;
mod serve;
mod terminal;
mod train;
mod verdicts;
mod width;
