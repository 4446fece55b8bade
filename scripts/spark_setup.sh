#!/usr/bin/env bash
# Installs what the Spark path needs (idempotent), and only that: a Java runtime (Debian's
# default-jre-headless), OpenBLAS, and PySpark 3.5.5 in a virtual environment at .tools/spark, pinned by
# sha256 in scripts/spark-requirements.txt. Used by scripts/spark_als.sh and the Spark parity test;
# the app's own set-up (scripts/setup.sh) does not need it.
set -euo pipefail
cd "$(dirname "$0")/.."
log() { printf '\033[1;34m[spark-setup]\033[0m %s\n' "$*"; }

need_apt=()
command -v java >/dev/null 2>&1 || need_apt+=(default-jre-headless)
# OpenBLAS provides libblas.so.3 / liblapack.so.3, which Spark's netlib loads through JNI for ALS's
# k x k solves (its pure-Java fallback is slower).
ldconfig -p | grep -q 'liblapack\.so\.3 ' || need_apt+=(libopenblas0-pthread)
if [ "${#need_apt[@]}" -gt 0 ]; then
  log "apt: ${need_apt[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

VENV=.tools/spark
STAMP="$VENV/.requirements.sha256"
want=$(sha256sum scripts/spark-requirements.txt | cut -d' ' -f1)
if [ ! -x "$VENV/bin/python" ] || [ "$(cat "$STAMP" 2>/dev/null)" != "$want" ]; then
  log "pyspark into $VENV (scripts/spark-requirements.txt)"
  rm -rf "$VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check --require-hashes -r scripts/spark-requirements.txt
  echo "$want" > "$STAMP"
fi
