#!/usr/bin/env bash
# The live lab's redraw latency in headless Chromium (issue 24, Performance): a release
# `gradtutor serve`, #/demo/vanishing at its defaults, 100 seed changes one after another,
# each awaited until redrawn; prints the median and p95 of input event → chart and table in
# the DOM (the page's window.labTimings), the machine and the date. Needs chromium.
#   scripts/lab-latency.sh                       # 100 changes
#   GRADTUTOR_LATENCY_CHANGES=300 scripts/lab-latency.sh
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --bin gradtutor
GRADTUTOR_LAB_BIN="$PWD/target/release/gradtutor" \
    cargo test --test it -- --ignored --exact browser::lab_latency --nocapture
