#!/usr/bin/env bash
# Runs every test of Attune on a fresh machine: installs the tools, then fmt + layering rules, the
# native test build with clippy, native unit tests (engine, model-export on the real data; the Spark
# ALS parity test installs Java and PySpark on first use), the engine in wasm32 in headless Chromium
# (parity with native), the site build with clippy, and the end-to-end browser tests.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
source scripts/env.sh
# Each step prints the minutes since the start, so a CI log shows where the time goes.
step() { printf '\n\033[1;32m==> [%dm%02ds] %s\033[0m\n' $((SECONDS / 60)) $((SECONDS % 60)) "$*"; }

step "format and layering rules"
cargo fmt --all --check
bash scripts/check_deps.sh

# Clippy runs inside the builds the tests need, not as builds of their own: cargo clippy is cargo
# with clippy-driver as the workspace crates' compiler (RUSTC_WORKSPACE_WRAPPER, lint flags in
# CLIPPY_ARGS), and clippy-driver also compiles. Dependencies are built once, not checked twice more
# (two clippy passes from scratch took about 20 minutes on two cores). The lints are those of
# `cargo clippy --all-targets -- -D warnings` natively and of the three wasm crates for wasm32.
CLIPPY_DRIVER=$(rustup which clippy-driver)
CLIPPY_ARGS="-D__CLIPPY_HACKERY__warnings__CLIPPY_HACKERY__"
export CLIPPY_ARGS
with_clippy() { RUSTC_WORKSPACE_WRAPPER="$CLIPPY_DRIVER" "$@"; }

# Every native test binary (engine, model-export, the e2e harness) comes from ONE cargo build, so
# dependencies are compiled once with one feature set: `cargo test -p attune-e2e` on its own unifies
# features differently and rebuilt the whole tree (about 14 minutes in CI). The binaries then run
# from their package folders, as `cargo test` runs them. (The workspace has no doctests; benches are
# built, so linted, but not run.)
step "build the native tests with clippy (one feature set for engine, model-export and the e2e harness)"
host=(--workspace --exclude attune-app --exclude attune-analyse --exclude attune-scan)
mkdir -p target
with_clippy cargo test "${host[@]}" --all-targets --no-run --message-format=json-render-diagnostics >target/test-build.json
python3 - target/test-build.json >target/test-bins.tsv <<'PY'
import json, os, sys, tomllib
for line in open(sys.argv[1]):
    m = json.loads(line)
    t = m.get("target", {})
    if m.get("reason") == "compiler-artifact" and m.get("executable") and m["profile"]["test"] \
            and "bench" not in t["kind"]:
        pkg = tomllib.load(open(m["manifest_path"], "rb"))["package"]["name"]
        print("\t".join([pkg, os.path.dirname(m["manifest_path"]), m["executable"], t["name"]]))
PY
# run_tests e2e|native [test-binary args...]: runs the listed binaries of that group in order.
run_tests() {
  local group=$1; shift
  local pkg dir exe name ran=0
  while IFS=$'\t' read -r -u 3 pkg dir exe name; do
    if { [ "$group" = e2e ] && [ "$pkg" = attune-e2e ]; } || { [ "$group" = native ] && [ "$pkg" != attune-e2e ]; }; then
      printf '\n     Running %s (%s)\n' "$name" "${exe#"$PWD"/}"
      (cd "$dir" && "$exe" "$@" </dev/null)
      ran=$((ran + 1))
    fi
  done 3<target/test-bins.tsv
  [ "$ran" -gt 0 ] || { echo "test.sh: no $group test binaries were built" >&2; exit 1; }
}

step "native unit tests (engine, model-export on ../shared/data)"
spark_test=sparks_factors_fold_in_as_well_as_the_in_process_ials
run_tests native --skip "$spark_test"

# Alone, not beside the builds: on two cores the JVM and the release builds slowed each other
# (1570 s for this test in CI, against about 300 s alone).
step "Spark ALS parity on HetRec (installs Java and PySpark on first use)"
run_tests native --exact "$spark_test"

step "engine in wasm32, headless Chromium: parity with native"
cargo test -p attune-engine --target wasm32-unknown-unknown --test parity --test audio_parity --test scale_parity -- --nocapture

step "site build with clippy on the wasm crates (trunk --release)"
with_clippy trunk build --release

# Two tests at a time: one Chromium renderer keeps about one core busy, so a second one uses the
# idle core (each test has its own server, browser profile and D-Bus bus). The durability tests run
# alone afterwards: the three-tab test keeps three pages busy, and beside another test one of them
# once took more than the harness's 60 s to start.
step "end-to-end tests in headless Chromium"
run_tests e2e --test-threads=2 --skip durability::
run_tests e2e --test-threads=1 durability::
step "all tests passed"
