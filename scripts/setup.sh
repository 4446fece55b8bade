#!/usr/bin/env bash
# Installs everything Attune needs on a fresh Debian machine (idempotent).
# Used by `scripts/serve.sh` and `scripts/test.sh`; safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

TRUNK_VERSION=0.21.14
WASM_BINDGEN_VERSION=0.2.130   # must equal Cargo.lock's wasm-bindgen
BINARYEN_VERSION=132
AXE_VERSION=4.14.1

log() { printf '\033[1;34m[setup]\033[0m %s\n' "$*"; }

need_apt=()
command -v /usr/lib/chromium/chromium >/dev/null 2>&1 || need_apt+=(chromium)
command -v chromedriver >/dev/null 2>&1 || need_apt+=(chromium-driver)
# dbus-daemon: the e2e tests run a private system bus with a fake BlueZ on it.
command -v dbus-daemon >/dev/null 2>&1 || need_apt+=(dbus)
# fluidsynth + the GM soundfont render EMOPIA's MIDI (and users' MIDI) to audio for the emotion model.
command -v fluidsynth >/dev/null 2>&1 || need_apt+=(fluidsynth)
[ -f /usr/share/sounds/sf2/FluidR3_GM.sf2 ] || need_apt+=(fluid-soundfont-gm)
# Encoders for the decoder tests: real FLAC, Ogg Vorbis and MP3 files made from renders.
command -v flac >/dev/null 2>&1 || need_apt+=(flac)
command -v oggenc >/dev/null 2>&1 || need_apt+=(vorbis-tools)
command -v lame >/dev/null 2>&1 || need_apt+=(lame)
if [ "${#need_apt[@]}" -gt 0 ]; then
  log "apt: ${need_apt[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  log "rustup target add wasm32-unknown-unknown"
  rustup target add wasm32-unknown-unknown
fi

if [ "$(trunk --version 2>/dev/null)" != "trunk $TRUNK_VERSION" ]; then
  log "cargo install trunk $TRUNK_VERSION"
  cargo install trunk --version "$TRUNK_VERSION" --locked
fi

if [ "$(wasm-bindgen --version 2>/dev/null)" != "wasm-bindgen $WASM_BINDGEN_VERSION" ]; then
  log "cargo install wasm-bindgen-cli $WASM_BINDGEN_VERSION"
  # not --locked: its lockfile pins a crate version the registry index lacks
  cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --force
fi

# binaryen from npm (Debian's wasm-opt 108 breaks wasm-bindgen output).
if [ ! -x .tools/node_modules/.bin/wasm-opt ] || \
   [ "$(.tools/node_modules/.bin/wasm-opt --version 2>/dev/null | awk '{print $3}')" != "$BINARYEN_VERSION" ]; then
  log "npm binaryen@$BINARYEN_VERSION"
  mkdir -p .tools
  npm install --prefix .tools --no-audit --no-fund --silent "binaryen@$BINARYEN_VERSION" >/dev/null
fi
# axe-core for the accessibility check in the end-to-end tests (injected by the test, never shipped).
if [ "$(node -p "require('./.tools/node_modules/axe-core/package.json').version" 2>/dev/null)" != "$AXE_VERSION" ]; then
  log "npm axe-core@$AXE_VERSION"
  mkdir -p .tools
  npm install --prefix .tools --no-audit --no-fund --silent "axe-core@$AXE_VERSION" >/dev/null
fi
# musicnn's pretrained MSD tagger (ISC licence): the music-emotion model's backbone, read from the
# wheel's TF checkpoint by model-export (its tests and `emotion train`). Pinned by PyPI's sha256;
# unpacked outside git into the pipeline's cache.
MUSICNN_SHA256=f38a4890c648c1ddbb141c5d96d2b0a8cfcd36746002d896989f7b88beb65cfa
MUSICNN_DIR="${ATTUNE_CACHE:-$HOME/.cache/attune}/musicnn-0.1.0"
if [ ! -f "$MUSICNN_DIR/musicnn/MSD_musicnn/.index" ]; then
  log "musicnn 0.1.0 wheel (MSD checkpoint)"
  tmp=$(mktemp -d)
  python3 -m pip download --quiet --no-deps --only-binary=:all: -d "$tmp" musicnn==0.1.0
  python3 - "$tmp/musicnn-0.1.0-py3-none-any.whl" "$MUSICNN_DIR" "$MUSICNN_SHA256" <<'PY'
import hashlib, sys, zipfile
wheel, out, want = sys.argv[1:]
got = hashlib.sha256(open(wheel, "rb").read()).hexdigest()
if got != want:
    sys.exit(f"musicnn wheel sha256 {got}, expected {want}")
with zipfile.ZipFile(wheel) as z:
    for name in z.namelist():
        if name.startswith("musicnn/MSD_musicnn/"):
            z.extract(name, out)
PY
  rm -rf "$tmp"
fi
log "ok"
