#!/usr/bin/env bash
# The layering rules of ARCHITECTURE.md's "must not" column, checked on the real dependency graph
# (`cargo tree`) and the engine's source; run by scripts/test.sh. Each rule that breaks is named.
#
#   engine        no web-sys, js-sys or leptos under any feature set; wasm-bindgen only through
#                 the `onnx-web` feature (tract's random source is Web Crypto there); no files,
#                 threads or clocks in its code (tests aside)
#   app           does not link tract (the models run in the worker, app/worker)
#   app/worker    no leptos (it never touches the DOM)
#   app/scan      no leptos and no tract (the large catalogue's first list waits for it: small)
#   model-export  no crate depends on it (nothing of the pipeline ships to the browser)
#   tests (e2e)   does not depend on the app or the worker (it sees only the DOM contract)
set -euo pipefail
cd "$(dirname "$0")/.."
fail=0
broken() { printf '\033[1;31m[check-deps]\033[0m %s\n' "$*"; fail=1; }
# Crate names in a package's normal-dependency tree for the wasm32 target.
crates() { cargo tree -q -e normal --prefix none --target wasm32-unknown-unknown "$@" | awk '{print $1}' | sort -u; }
has() { grep -qx "$1" <<<"$2"; }

for features in "" "--features onnx" "--features onnx-web"; do
  # shellcheck disable=SC2086
  tree=$(crates -p attune-engine $features)
  for c in web-sys js-sys leptos; do
    has "$c" "$tree" && broken "engine ${features:-(default features)} depends on $c"
  done
  if [ "$features" != "--features onnx-web" ] && has wasm-bindgen "$tree"; then
    broken "engine ${features:-(default features)} depends on wasm-bindgen (only onnx-web may)"
  fi
done

# Files, threads and clocks in the engine's code: every line before a file's first #[cfg(test)].
hits=$(find engine/src -name '*.rs' -print0 | xargs -0 awk '
  /^[[:space:]]*#\[cfg\(test\)\]/ { nextfile }
  /std::(fs|thread|time|net|process)|Instant::now|SystemTime/ { print FILENAME ":" FNR ": " $0 }')
[ -z "$hits" ] || broken "engine code uses files, threads, clocks or processes:
$hits"

app=$(crates -p attune-app)
grep -q '^tract' <<<"$app" && broken "the main app links tract: $(grep '^tract' <<<"$app" | tr '\n' ' ')"
has leptos "$(crates -p attune-analyse)" && broken "the worker (attune-analyse) depends on leptos"
scan=$(crates -p attune-scan)
has leptos "$scan" && broken "the scan worker (attune-scan) depends on leptos"
grep -q '^tract' <<<"$scan" && broken "the scan worker (attune-scan) links tract"

users=$(cargo tree -q -e normal --prefix none --workspace -i attune-model-export | awk '{print $1}' | sort -u)
[ "$users" = "attune-model-export" ] || broken "crates depend on model-export: $(grep -v '^attune-model-export$' <<<"$users" | tr '\n' ' ')"
e2e=$(cargo tree -q -e normal --prefix none -p attune-e2e | awk '{print $1}' | sort -u)
for c in attune-app attune-analyse attune-scan; do
  has "$c" "$e2e" && broken "the end-to-end tests depend on $c"
done

[ "$fail" -eq 0 ] && printf '\033[1;32m[check-deps]\033[0m layering rules hold\n'
exit "$fail"
