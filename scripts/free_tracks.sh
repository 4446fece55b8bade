#!/usr/bin/env bash
# Regenerates public/free/ (not part of the test command): fetches two Debian packages of freely
# licensed game music, unpacks them to a temporary folder and runs `model-export free-tracks`:
# - singularity-music: Max McCracken's soundtrack for Endgame: Singularity, CC BY-SA 3.0;
# - planetblupi-music-ogg: the Planet Blupi soundtrack (Daniel Roux, EPSITEC SA & Denis
#   Dumoulin; Mathieu Schroeter), GPL-3+.
# Needs oggenc (scripts/setup.sh installs vorbis-tools).
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && apt-get download singularity-music planetblupi-music-ogg \
    && dpkg-deb -x singularity-music_*.deb x && dpkg-deb -x planetblupi-music-ogg_*.deb x)
rm -rf public/free
cargo run --release -p attune-model-export -- free-tracks \
    --source "$tmp/x/usr/share/games/singularity/music|Max McCracken|CC BY-SA 3.0|Endgame: Singularity soundtrack (Debian singularity-music, https://emhsoft.com/singularity/)" \
    --source "$tmp/x/usr/share/planetblupi/music|Daniel Roux, EPSITEC SA & Denis Dumoulin|GPL-3+|Planet Blupi soundtrack (Debian planetblupi-music-ogg, https://blupi.org)|Planet Blupi, theme"
