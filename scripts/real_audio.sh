#!/usr/bin/env bash
# real_audio.sh — fetch the small real-audio development set for the emotion model.
#
# Reads model-export/config/real-audio.tsv (package, version, path, split,
# arousal, valence, rule, sha256) and makes sure every listed file is present
# under ~/.cache/attune/real-audio/<package>/<path> (override the root with
# ATTUNE_REAL_AUDIO_DIR). For each package that lacks a listed file it runs
# `apt-get download <pkg>=<version>` (falling back, with a warning, to the
# current candidate version when that exact version is gone) into a temp dir,
# `dpkg-deb -x` it, copies ONLY the listed files into the cache (keeping the
# package's relative paths) and checks each sha256 (mismatches are warned about
# and left out; an unavailable package is skipped, not fatal). Idempotent: files
# already present with the right hash are not downloaded again.
#
# Paths of the form `a/b/archive.zip!/inner/file.ogg` name a member of a zip/pk3
# archive shipped by the package (0ad-data, ufoai-music); the member is stored
# at the same literal path (with the `!` folder) in the cache.
#
# Audio never goes into git. All sources are freely licensed Debian main
# packages (licences in model-export/config/real-audio.md). Excluded ON PURPOSE:
# Battle for Wesnoth music (any wesnoth-* package; reserved for an independent
# check) and singularity-music / planetblupi-music-ogg (the app's shipped free
# shelf, evaluated separately). Needs: apt-get, dpkg-deb, sha256sum, unzip.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TSV="${1:-$ROOT/model-export/config/real-audio.tsv}"
CACHE="${ATTUNE_REAL_AUDIO_DIR:-$HOME/.cache/attune/real-audio}"
EXCLUDED_RE='^(wesnoth.*|singularity-music|planetblupi-music-ogg)$'

[ -f "$TSV" ] || { echo "error: $TSV not found" >&2; exit 1; }
for tool in apt-get dpkg-deb sha256sum unzip; do
  command -v "$tool" >/dev/null || { echo "error: $tool is required" >&2; exit 1; }
done
mkdir -p "$CACHE"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

ok() { # ok FILE SHA -> 0 when FILE exists with that sha256
  [ -f "$1" ] && [ "$(sha256sum "$1" | cut -d' ' -f1)" = "$2" ]
}

total=0; present=0; bad=0; failed_pkgs=()
# Unique package/version pairs, in TSV order.
mapfile -t PKGS < <(tail -n +2 "$TSV" | cut -f1,2 | awk '!seen[$0]++')

for pv in "${PKGS[@]}"; do
  pkg="${pv%%$'\t'*}"; ver="${pv#*$'\t'}"
  if [[ "$pkg" =~ $EXCLUDED_RE ]]; then
    echo "warning: $pkg is excluded on purpose; ignoring its rows" >&2; continue
  fi
  mapfile -t ROWS < <(awk -F'\t' -v p="$pkg" 'NR>1 && $1==p {print $3 "\t" $8}' "$TSV")
  need=0
  for r in "${ROWS[@]}"; do
    ok "$CACHE/$pkg/${r%%$'\t'*}" "${r#*$'\t'}" || need=1
  done
  if [ "$need" = 1 ]; then
    echo "== $pkg: fetching $pkg=$ver"
    dl="$TMP/$pkg"; mkdir -p "$dl/x"
    if ! (cd "$dl" && apt-get download -q "$pkg=$ver" >/dev/null 2>&1); then
      echo "warning: $pkg=$ver is not available; trying the candidate version (hashes may not match)" >&2
      if ! (cd "$dl" && apt-get download -q "$pkg" >/dev/null 2>&1); then
        echo "warning: $pkg could not be downloaded; skipping" >&2
        failed_pkgs+=("$pkg"); rm -rf "$dl"
        total=$((total + ${#ROWS[@]})); bad=$((bad + ${#ROWS[@]})); continue
      fi
    fi
    dpkg-deb -x "$dl"/*.deb "$dl/x"
    for r in "${ROWS[@]}"; do
      rel="${r%%$'\t'*}"; sha="${r#*$'\t'}"; dst="$CACHE/$pkg/$rel"
      ok "$dst" "$sha" && continue
      mkdir -p "$(dirname "$dst")"
      if [[ "$rel" == *'!/'* ]]; then
        arc="${rel%%!/*}"; member="${rel#*!/}"
        unzip -p "$dl/x/$arc" "$member" > "$dst.part" 2>/dev/null || rm -f "$dst.part"
      elif [ -f "$dl/x/$rel" ]; then
        cp "$dl/x/$rel" "$dst.part"
      fi
      if [ ! -f "$dst.part" ]; then
        echo "warning: $pkg: $rel not found in the package" >&2; continue
      fi
      if [ "$(sha256sum "$dst.part" | cut -d' ' -f1)" = "$sha" ]; then
        mv "$dst.part" "$dst"
      else
        echo "warning: $pkg: sha256 mismatch for $rel; skipped" >&2
        rm -f "$dst.part"
      fi
    done
    rm -rf "$dl"
  fi
  for r in "${ROWS[@]}"; do
    total=$((total + 1))
    if ok "$CACHE/$pkg/${r%%$'\t'*}" "${r#*$'\t'}"; then present=$((present + 1)); else bad=$((bad + 1)); fi
  done
done

echo "real-audio: $present/$total listed files present and verified in $CACHE"
[ "$bad" -eq 0 ] || echo "real-audio: $bad file(s) missing or mismatched" >&2
[ "${#failed_pkgs[@]}" -eq 0 ] || echo "real-audio: unavailable packages: ${failed_pkgs[*]}" >&2
exit 0
