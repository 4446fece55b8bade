#!/usr/bin/env bash
# The whole Spark path on HetRec (issue 19): installs Spark (scripts/spark_setup.sh), writes the
# training users' listening log, trains ALS with the committed settings
# (model-export/config/spark-als.json, chosen by `model-export spark tune`), imports the factors
# into a copy of public/ (`import-factors`), and checks them against the in-process iALS on the
# validation users (`spark check`: fails when NDCG@10 differs by more than 0.005).
#
#   scripts/spark_als.sh [--report DIR] [--master URL] [--rank K] [--iterations N]
#
# --report: where spark-als.{md,json} go (default model-export/reports); --master: Spark's master
# (default local[2]); --rank, --iterations: override the committed settings (the parity test uses a
# smaller model; the check trains the in-process iALS with whatever Spark was given).
# ATTUNE_SPARK_WORK (default target/spark) holds the log, the factors and the site copy;
# MODEL_EXPORT names a built model-export binary (default: cargo run).
set -euo pipefail
cd "$(dirname "$0")/.."
REPORT=model-export/reports
MASTER="local[2]"
RANK_OVERRIDE=""
ITERATIONS_OVERRIDE=""
while [ $# -gt 0 ]; do
  case "$1" in
    --report) REPORT=$2; shift 2 ;;
    --master) MASTER=$2; shift 2 ;;
    --rank) RANK_OVERRIDE=$2; shift 2 ;;
    --iterations) ITERATIONS_OVERRIDE=$2; shift 2 ;;
    *) echo "usage: $0 [--report DIR] [--master URL] [--rank K] [--iterations N]" >&2; exit 2 ;;
  esac
done
WORK=${ATTUNE_SPARK_WORK:-target/spark}
DATA=${ATTUNE_DATA:-../shared/data}
step() { printf '\033[1;34m[spark-als]\033[0m %s\n' "$*"; }
if [ -n "${MODEL_EXPORT:-}" ]; then
  me() { "$MODEL_EXPORT" "$@"; }
else
  me() { cargo run -q -p attune-model-export -- "$@"; }
fi

bash scripts/spark_setup.sh
eval "$(python3 - <<'PY'
import json
s = json.load(open("model-export/config/spark-als.json"))["settings"]
print(" ".join(f"{k.upper()}={v}" for k, v in s.items()))
PY
)"
RANK=${RANK_OVERRIDE:-$RANK}
ITERATIONS=${ITERATIONS_OVERRIDE:-$ITERATIONS}
mkdir -p "$WORK"
step "log of the training users"
me spark log --data "$DATA" --users train --file "$WORK/train.csv"
step "Spark ALS: rank $RANK, regParam $REG, alpha $ALPHA, $ITERATIONS iterations ($MASTER)"
.tools/spark/bin/python scripts/spark_als.py --log "$WORK/train.csv" --out "$WORK/factors" \
  --rank "$RANK" --reg "$REG" --alpha "$ALPHA" --iterations "$ITERATIONS" --values "$VALUES" \
  --seed "$SEED" --master "$MASTER" --blocks 2 2>&1 | grep -v -E '^\s*$|WARN|Stage [0-9]+' || true
[ -f "$WORK/factors/attune-als.json" ] || { echo "Spark wrote no factors" >&2; exit 1; }
step "import-factors into a copy of public/"
rm -rf "$WORK/site"
cp -r public "$WORK/site"
# Artists only validation or test users played have no factors: zeros, as in process.
me import-factors --parquet "$WORK/factors" --out "$WORK/site" --missing zero
step "parity with the in-process iALS on the validation users"
other=()
[ -n "$RANK_OVERRIDE$ITERATIONS_OVERRIDE" ] && other=(--other-settings)
me spark check --data "$DATA" --parquet "$WORK/factors" --out "$WORK/site" --report "$REPORT" "${other[@]}"
