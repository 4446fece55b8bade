#!/usr/bin/env bash
# Serves Attune with the committed assets at http://127.0.0.1:8080 (installs what it needs first).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
source scripts/env.sh
# No auto-reload: its injected script and socket are not part of the shipped site (see scripts/post_build.sh).
exec trunk serve --release --no-autoreload --address 127.0.0.1 --port "${PORT:-8080}"
