#!/usr/bin/env bash
# Fuzzes the heart-rate packet parser and signal chain (engine/fuzz, cargo-fuzz + libFuzzer + ASan)
# for a fixed number of executions each, then records the counts and the outcome in
# public/report/fuzz.md and refreshes the manifest. Not part of scripts/test.sh (it takes minutes);
# the property tests in engine/tests/heart.rs are.
#
#   scripts/fuzz.sh                          # 10,000,000 runs of `measurement`, 1,000,000 of `signal`
#   MEASUREMENT_RUNS=100000 SIGNAL_RUNS=20000 scripts/fuzz.sh   # a quick smoke run
#
# Works on the stable toolchain: cargo-fuzz's -Z flags (sanitizer, coverage) are enabled with
# RUSTC_BOOTSTRAP=1. Set FUZZ_TOOLCHAIN=nightly to use a nightly toolchain instead.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
MEASUREMENT_RUNS="${MEASUREMENT_RUNS:-10000000}"
SIGNAL_RUNS="${SIGNAL_RUNS:-1000000}"
SEED="${FUZZ_SEED:-1}"
TOOLCHAIN="${FUZZ_TOOLCHAIN:-stable}"
# The instrumented build gets its own target folder (FUZZ_TARGET_DIR), apart from normal builds.
FUZZ_TARGET_DIR="${FUZZ_TARGET_DIR:-$ROOT/target/fuzz}"
[ "$TOOLCHAIN" = "nightly" ] || export RUSTC_BOOTSTRAP=1
log() { printf '\033[1;34m[fuzz]\033[0m %s\n' "$*"; }

if ! cargo fuzz --version >/dev/null 2>&1; then
  log "cargo install cargo-fuzz --locked"
  cargo install cargo-fuzz --locked
fi

FUZZ="$ROOT/engine/fuzz"
LOGS="$(mktemp -d)"
trap 'rm -rf "$LOGS"' EXIT

# Seeds: a fresh corpus each time, so a run is reproducible from this script alone.
rm -rf "$FUZZ/corpus" "$FUZZ/artifacts"
mkdir -p "$FUZZ/corpus/measurement" "$FUZZ/corpus/signal"
printf '\x16\x48\x40\x03\x20\x03' >"$FUZZ/corpus/measurement/polar-u8-contact-2rr"
printf '\x1f\x2c\x01\x34\x12\x00\x04' >"$FUZZ/corpus/measurement/u16-energy-1rr"
printf '\x00\x00' >"$FUZZ/corpus/measurement/zero-bpm"
# signal records: [time-step code, packet length, packet bytes...]; code 125 = 1000 ms, then a
# packet with contact, 60 bpm and one RR of 1024/1024 s. 125 of them: past the 2-minute baseline.
for _ in $(seq 125); do printf '\x7d\x04\x16\x3c\x00\x04'; done >"$FUZZ/corpus/signal/steady-60"

run_target() {
  local target="$1" runs="$2"
  log "$target: $runs runs (seed $SEED)"
  local rc=0
  (cd "$FUZZ" && CARGO_TARGET_DIR="$FUZZ_TARGET_DIR" cargo "+$TOOLCHAIN" fuzz run -O -a "$target" "corpus/$target" -- \
    -runs="$runs" -seed="$SEED" -print_final_stats=1) >"$LOGS/$target.log" 2>&1 || rc=$?
  local done_line cov
  done_line="$(grep -E '^Done [0-9]+ runs' "$LOGS/$target.log" | tail -1 || true)"
  cov="$(grep -E '^#[0-9]+.*(DONE|cov:)' "$LOGS/$target.log" | tail -1 | grep -oE 'cov: [0-9]+ ft: [0-9]+ corp: [0-9]+/[0-9]+[A-Za-z]*' || true)"
  if [ "$rc" -eq 0 ] && [ -n "$done_line" ]; then
    echo "| \`$target\` | $runs | ${done_line#Done } | 0 | $cov |" >>"$LOGS/table"
  else
    tail -40 "$LOGS/$target.log" >&2
    echo "| \`$target\` | $runs | FAILED (exit $rc), see engine/fuzz/artifacts/$target | - | $cov |" >>"$LOGS/table"
    FAILED=1
  fi
}

FAILED=0
(cd "$FUZZ" && CARGO_TARGET_DIR="$FUZZ_TARGET_DIR" cargo "+$TOOLCHAIN" fuzz build -O -a) >"$LOGS/build.log" 2>&1 || { tail -30 "$LOGS/build.log"; exit 1; }
run_target measurement "$MEASUREMENT_RUNS"
run_target signal "$SIGNAL_RUNS"

LIBFUZZER_SYS="$(grep -A1 '^name = "libfuzzer-sys"' "$FUZZ/Cargo.lock" | sed -n 's/^version = "\(.*\)"/\1/p')"
mkdir -p public/report
{
  echo "# Fuzzing the heart-rate chain"
  echo
  echo "Written by \`scripts/fuzz.sh\` (reproduce with that script; a fresh seed corpus and \`-seed=$SEED\` each time)."
  echo
  echo "- \`measurement\`: any bytes into \`heart::parse_measurement\`; whatever parses must re-encode to bytes that parse to the same measurement."
  echo "- \`signal\`: any bytes read as (time step, packet) records through parse, \`HeartSignal::push\` and \`estimate\` (including NaN, infinite and backwards times); every estimate must be finite and in range, and the learned baseline must survive its JSON round trip."
  echo
  echo "| target | executions asked | libFuzzer says | crashes | final coverage |"
  echo "|---|---:|---|---:|---|"
  cat "$LOGS/table"
  echo
  echo "Toolchain: $(rustc "+$TOOLCHAIN" --version) $([ -n "${RUSTC_BOOTSTRAP:-}" ] && echo '(RUSTC_BOOTSTRAP=1)'), $(cargo fuzz --version), libfuzzer-sys $LIBFUZZER_SYS, AddressSanitizer, release build with debug assertions (\`-O -a\`: overflow checks on). Run on $(date -u +%Y-%m-%d), $(nproc) cores."
  echo
  echo "Found and fixed while setting this up: the \`signal\` target's first run crashed within seconds — a strap sending identical RR intervals gives an RMSSD of 0, which the engine learned as the resting RMSSD but then refused when reading the stored baseline back. The baseline now accepts 0 and the mapping floors RMSSD at 1 ms; a unit test and the property tests cover the case."
} >public/report/fuzz.md
cargo run -q -p attune-model-export -- manifest --out public
log "wrote public/report/fuzz.md"
cat public/report/fuzz.md
exit "$FAILED"
