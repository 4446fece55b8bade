#!/usr/bin/env bash
# Benchmarks (not tests): one recommendation request vs a plain dot-product scan, natively
# (criterion) and in wasm32 in headless Chromium, each pair timed in one run; the models; the
# first visit's bytes and time. Writes public/report/bench*.json and refreshes the manifest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
source scripts/env.sh
out=$(cargo test -p attune-engine --target wasm32-unknown-unknown --test bench_wasm -- --nocapture 2>&1 | tee /dev/stderr | grep -o 'BENCH {.*}' | sed 's/^BENCH //')
cargo bench -p attune-engine --bench recommend -- --noplot 2>&1 | tee /tmp/attune-native-bench.txt
native=$(python3 - <<'PY'
import json, re
t = open('/tmp/attune-native-bench.txt').read()
def est(name):
    m = re.search(name + r'\s+time:\s+\[\S+ \S+ (\S+) (\S+)', t)
    v, unit = float(m.group(1)), m.group(2)
    return v * {'ns': 1e-6, 'µs': 1e-3, 'us': 1e-3, 'ms': 1.0, 's': 1e3}[unit]
f, s = est('recommend/full_request'), est('recommend/dot_scan_baseline')
print(json.dumps({"target": "native (criterion, median estimate)", "full_request_ms": round(f, 4), "dot_scan_ms": round(s, 4), "ratio": round(f / s, 2)}))
PY
)
printf '{"wasm": %s,\n "native": %s}\n' "$out" "$native" > public/report/bench.json
cat public/report/bench.json

# Music emotion: decode + log-mel + CNN of 30 s of audio, wasm32 (Chromium) vs native, one run.
ewasm_all=$(cargo test -p attune-engine --features onnx-web --target wasm32-unknown-unknown --test bench_emotion_wasm -- --nocapture 2>&1 | tee /dev/stderr)
ewasm=$(printf '%s\n' "$ewasm_all" | grep -o 'BENCH {.*}' | sed 's/^BENCH //')
uwasm=$(printf '%s\n' "$ewasm_all" | grep -o 'BENCH_USER {.*}' | sed 's/^BENCH_USER //')
nwasm=$(printf '%s\n' "$ewasm_all" | grep -o 'BENCH_NCF {.*}' | sed 's/^BENCH_NCF //')
cargo bench -p attune-engine --features onnx --bench emotion -- --noplot 2>&1 | tee /tmp/attune-emotion-bench.txt
EWASM="$ewasm" python3 - <<'PY' > public/report/bench-emotion.json
import json, os, re
t = open('/tmp/attune-emotion-bench.txt').read()
def est(name):
    m = re.search(r'emotion_30s/' + name + r'\s+time:\s+\[\S+ \S+ (\S+) (\S+)', t)
    v, unit = float(m.group(1)), m.group(2)
    return round(v * {'ns': 1e-6, 'µs': 1e-3, 'us': 1e-3, 'ms': 1.0, 's': 1e3}[unit], 2)
native = {"target": "native (criterion, median estimate)", **{k + "_ms": est(k) for k in ["decode", "log_mel", "cnn", "full"]}}
wasm = json.loads(os.environ["EWASM"])
model = os.path.getsize("public/models/emotion.onnx")
print(json.dumps({"clip_seconds": 30, "wasm": wasm, "native": native,
                  "wasm_over_native": {k: round(wasm[k] / native[k], 2) for k in ["decode_ms", "log_mel_ms", "cnn_ms", "full_ms"]},
                  "model_bytes": model}, indent=1))
PY
cat public/report/bench-emotion.json
# User emotion: encode + self-attention on a 50-event history, wasm32 (Chromium) vs native.
UWASM="$uwasm" python3 - <<'PY' > public/report/bench-user-emotion.json
import json, os, re
t = open('/tmp/attune-emotion-bench.txt').read()
def est(name):
    m = re.search(r'user_emotion_50/' + name + r'\s+time:\s+\[\S+ \S+ (\S+) (\S+)', t)
    v, unit = float(m.group(1)), m.group(2)
    return round(v * {'ns': 1e-6, 'µs': 1e-3, 'us': 1e-3, 'ms': 1.0, 's': 1e3}[unit], 4)
native = {"target": "native (criterion, median estimate)", "encode_ms": est("encode"), "estimate_ms": est("estimate")}
wasm = json.loads(os.environ["UWASM"])
print(json.dumps({"history_events": 50, "wasm": wasm, "native": native,
                  "wasm_over_native": {k: round(wasm[k] / native[k], 2) for k in ["encode_ms", "estimate_ms"]},
                  "model_bytes": os.path.getsize("public/models/user-emotion.onnx")}, indent=1))
PY
cat public/report/bench-user-emotion.json
# Neural CF: scores + blend + ranking vs SVD++ alone, wasm32 (Chromium) and native.
NWASM="$nwasm" python3 - <<'PY' > public/report/bench-ncf.json
import json, os, re
t = open('/tmp/attune-emotion-bench.txt').read()
def est(name):
    m = re.search(r'ncf/' + name + r'\s+time:\s+\[\S+ \S+ (\S+) (\S+)', t)
    v, unit = float(m.group(1)), m.group(2)
    return round(v * {'ns': 1e-6, 'µs': 1e-3, 'us': 1e-3, 'ms': 1.0, 's': 1e3}[unit], 4)
keys = ["svd_request_ms", "ncf_scores_ms", "ncf_request_ms"]
native = {"target": "native (criterion, median estimate)", **{k: est(k[:-3]) for k in keys}}
wasm = json.loads(os.environ["NWASM"])
print(json.dumps({"wasm": wasm, "native": native,
                  "wasm_over_native": {k: round(wasm[k] / native[k], 2) for k in keys},
                  "model_bytes": os.path.getsize("public/models/ncf.onnx")}, indent=1))
PY
cat public/report/bench-ncf.json
# First visit (issue 17): bytes before the first top 10 and in all, time to the first list, per
# file, with the test server acting as a static host (gzip, ETag, 304) and a fresh Chromium
# profile. Measures the built site: dist/ (trunk build --release) must be current.
[ -f dist/index.html ] || trunk build --release
ATTUNE_BENCH_FIRST_VISIT="$PWD/public/report/bench-first-visit.json" \
  cargo test -p attune-e2e --test e2e -- first_visit:: --test-threads=1
python3 - <<'PY'
import json
d = json.load(open("public/report/bench-first-visit.json"))
b, v = d["before_first_list"], d["first_visit"]
print(f"first list: {b['bytes']} B in {b['requests']} requests, {d['first_list_ms']:.0f} ms; "
      f"first visit: {v['bytes']} B in {v['requests']} requests")
PY
# A catalogue of a million items (issue 17): the first list from the first shard, per-request
# p50/p95 of the int8 scan beside the exact f32 scan in the same run, in Chromium (one scan
# worker) and natively, recall@10; the catalogue is synthetic (model-export scale, real artists
# embedded) and is written under target/scale-1000000, never shipped.
cargo run -q -p attune-model-export -- scale --items 1000000 --users 200 --dir target/scale-1000000
ATTUNE_BENCH_SCALE="$PWD/public/report/bench-scale.json" \
  cargo test -p attune-e2e --test e2e -- scale:: --test-threads=1
python3 - <<'PY'
import json
d = json.load(open("public/report/bench-scale.json"))
f, n = d["first_list"], d["native"]
print(f"scale: {d['items']} items, {d['bytes']} B; first list {f['bytes']} B, {f['ms']:.0f} ms")
for key in ["chromium_default_workers", "chromium_one_worker"]:
    c = d[key]
    print(f"  {key}: p50/p95 {c['fast_ms_page']['p50']:.2f}/{c['fast_ms_page']['p95']:.2f} ms on the page "
          f"(exact scan {c['exact_scan_ms']['p50']:.1f}/{c['exact_scan_ms']['p95']:.1f}), recall@10 {c['recall_at_10_vs_exact']:.4f}")
print(f"  native: {n['fast_ms']['p50']:.2f}/{n['fast_ms']['p95']:.2f} ms (exact {n['exact_ms']['p50']:.1f}/{n['exact_ms']['p95']:.1f})")
PY
cargo run -q -p attune-model-export -- manifest --out public
