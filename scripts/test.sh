#!/usr/bin/env bash
# Runs every test of Attune on a fresh machine: installs the tools, then
# fmt + clippy + layering rules, native unit tests (engine, model-export on the real data; the Spark
# ALS parity test installs Java and PySpark on first use), the engine in wasm32 in
# headless Chromium (parity with native), the site build, and the end-to-end browser tests.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
source scripts/env.sh
step() { printf '\n\033[1;32m==> %s\033[0m\n' "$*"; }

step "format, lints and layering rules"
cargo fmt --all --check
bash scripts/check_deps.sh
cargo clippy --workspace --exclude attune-app --exclude attune-analyse --all-targets -- -D warnings
cargo clippy -p attune-app -p attune-analyse --target wasm32-unknown-unknown -- -D warnings

step "native unit tests (engine, model-export on ../shared/data)"
cargo test --workspace --exclude attune-app --exclude attune-analyse --exclude attune-e2e

step "engine in wasm32, headless Chromium: parity with native"
cargo test -p attune-engine --target wasm32-unknown-unknown --test parity --test audio_parity -- --nocapture

step "site build (trunk --release)"
trunk build --release

step "end-to-end tests in headless Chromium"
cargo test -p attune-e2e -- --test-threads=1
