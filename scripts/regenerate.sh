#!/usr/bin/env bash
# Rebuilds every shipped asset and report from the real data, in dependency order, with a
# progress line per step. Each step is one of the README's commands; the whole run takes hours on
# two cores (emotion train ~50 min, taste-search ~17 min), so it can start later or run one step:
#
#   scripts/regenerate.sh                 every step
#   scripts/regenerate.sh --list          the steps, in order
#   scripts/regenerate.sh --from NAME     NAME and every step after it
#   scripts/regenerate.sh --only NAME     one step
#
# ATTUNE_DATA overrides ../shared/data. The settings the searches chose are committed
# (model-export/config/); the searches themselves (`tune`, `taste-search`, `spark tune`) run only
# with --search, since they pick the settings the other steps use.
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${ATTUNE_DATA:-../shared/data}
ME="cargo run -q -p attune-model-export --"
S=$DATA/situnes

# name|what it writes|command
STEPS=(
  "svdpp-tune|model-export/config/svdpp.json (--search only)|$ME tune --data $DATA"
  "build|catalog.bin, cf.bin, report/build.md|$ME build --data $DATA --out public"
  "ncf|models/ncf.onnx, report/ncf-training.md|$ME ncf --data $DATA --out public"
  "taste-search|model-export/config/taste.json, report/taste-search.md (--search only)|$ME taste-search --data $DATA"
  "taste-build|taste.bin|$ME taste-build --data $DATA"
  "evaluate|report/evaluation.md, situnes-ranking.md, sequential.md|$ME evaluate --data $DATA --json public/report/evaluation.json"
  "heart|report/heart.md|$ME heart-rate evaluate --data $DATA"
  "user-emotion|models/user-emotion.onnx, report/user-emotion.md|$ME user-emotion train --data $DATA"
  "setting3|report/situnes-setting3-stage2.md|$ME situnes --train $S/Stage2 --test $S/Stage2 --items $S/music_metadata/music_info.csv --json public/report/situnes-setting3-stage2.json --md public/report/situnes-setting3-stage2.md"
  "setting3-stages|report/situnes-setting3-stage1-stage2.md|$ME situnes --train $S/Stage1 --test $S/Stage2 --items $S/music_metadata/music_info.csv --json public/report/situnes-setting3-stage1-stage2.json --md public/report/situnes-setting3-stage1-stage2.md"
  "emotion|models/emotion.onnx, report/emotion.md|$ME emotion train"
  "emotion-transfer|model-export/reports/emotion-transfer.md (real-audio dev set)|scripts/real_audio.sh && $ME emotion transfer"
  "free-shelf|free/ (excerpts + the CNN's reading)|scripts/free_tracks.sh"
  "spark-tune|model-export/config/spark-als.json (--search only)|$ME spark tune --data $DATA"
  "spark|model-export/reports/spark-als.md|scripts/spark_als.sh"
  "scale|model-export/reports/scale-training.md|$ME spark scale --data $DATA"
  "bench|report/bench*.json|scripts/bench.sh"
  "manifest|manifest.json|$ME manifest --out public"
)
SEARCH_STEPS=" svdpp-tune taste-search spark-tune "

list=0; from=""; only=""; search=0
while [ $# -gt 0 ]; do
  case "$1" in
    --list) list=1; shift ;;
    --from) from=$2; shift 2 ;;
    --only) only=$2; shift 2 ;;
    --search) search=1; shift ;;
    *) echo "usage: $0 [--list] [--from NAME | --only NAME] [--search]" >&2; exit 2 ;;
  esac
done
names=" $(for s in "${STEPS[@]}"; do printf '%s ' "${s%%|*}"; done)"
for n in "$from" "$only"; do
  if [ -n "$n" ] && [[ "$names" != *" $n "* ]]; then
    echo "no step '$n'; the steps:$names" >&2; exit 2
  fi
done

total=${#STEPS[@]}; i=0; started=0; [ -z "$from" ] && started=1
t0=$SECONDS
for s in "${STEPS[@]}"; do
  i=$((i + 1))
  name=${s%%|*}; rest=${s#*|}; what=${rest%%|*}; cmd=${rest#*|}
  if [ "$list" -eq 1 ]; then printf '%2d. %-16s %s\n' "$i" "$name" "$what"; continue; fi
  [ "$name" = "$from" ] && started=1
  if [ -n "$only" ] && [ "$name" != "$only" ]; then continue; fi
  if [ -z "$only" ] && [ "$started" -eq 0 ]; then continue; fi
  if [[ "$SEARCH_STEPS" == *" $name "* ]] && [ "$search" -eq 0 ] && [ -z "$only" ]; then
    printf '\033[1;34m[%d/%d]\033[0m %s: skipped (a search; --search runs it)\n' "$i" "$total" "$name"
    continue
  fi
  printf '\033[1;34m[%d/%d]\033[0m %s -> %s\n' "$i" "$total" "$name" "$what"
  s0=$SECONDS
  bash -c "$cmd"
  printf '\033[1;34m[%d/%d]\033[0m %s done in %ds (total %ds)\n' "$i" "$total" "$name" $((SECONDS - s0)) $((SECONDS - t0))
done
