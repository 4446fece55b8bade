#!/usr/bin/env bash
# Serves Attune with the committed assets at http://127.0.0.1:8080 (installs what it needs first).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
source scripts/env.sh
exec trunk serve --release --address 127.0.0.1 --port "${PORT:-8080}"
