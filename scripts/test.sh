#!/usr/bin/env bash
# Runs every test of Attune on a fresh machine: installs the tools, then
# fmt + clippy + layering rules, native unit tests (engine, model-export on the real data; the Spark
# ALS parity test installs Java and PySpark on first use and runs beside the wasm builds), the
# engine in wasm32 in headless Chromium (parity with native), the site build, and the end-to-end
# browser tests.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
source scripts/env.sh
step() { printf '\n\033[1;32m==> %s\033[0m\n' "$*"; }

step "format, lints and layering rules"
cargo fmt --all --check
bash scripts/check_deps.sh
cargo clippy --workspace --exclude attune-app --exclude attune-analyse --exclude attune-scan --all-targets -- -D warnings
cargo clippy -p attune-app -p attune-analyse -p attune-scan --target wasm32-unknown-unknown -- -D warnings

step "native unit tests (engine, model-export on ../shared/data)"
native=(--workspace --exclude attune-app --exclude attune-analyse --exclude attune-scan --exclude attune-e2e)
spark_test=sparks_factors_fold_in_as_well_as_the_in_process_ials
cargo test "${native[@]}" -- --skip "$spark_test"
# The Spark ALS parity test (about 5 minutes, mostly the JVM, plus installing Java and PySpark)
# runs beside the wasm builds below; its binary is the one just built.
spark_bin=$(cargo test "${native[@]}" --test spark_als --no-run --message-format=json 2>/dev/null | python3 -c '
import json, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] == "spark_als" and m.get("executable"):
        print(m["executable"])')
[ -x "$spark_bin" ] || { echo "test.sh: no spark_als test binary" >&2; exit 1; }
mkdir -p target
spark_log=target/spark-parity.log
( "$spark_bin" --exact "$spark_test" --nocapture >"$spark_log" 2>&1; echo $? >"$spark_log.rc" ) &
spark_pid=$!

step "engine in wasm32, headless Chromium: parity with native"
cargo test -p attune-engine --target wasm32-unknown-unknown --test parity --test audio_parity --test scale_parity -- --nocapture

step "site build (trunk --release)"
trunk build --release

step "Spark ALS parity on HetRec (started beside the builds above)"
wait "$spark_pid" || true
cat "$spark_log"
[ "$(cat "$spark_log.rc" 2>/dev/null)" = 0 ] || { echo "test.sh: the Spark parity test failed" >&2; exit 1; }

step "end-to-end tests in headless Chromium"
cargo test -p attune-e2e -- --test-threads=1
