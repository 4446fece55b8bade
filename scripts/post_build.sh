#!/usr/bin/env bash
# Trunk post_build hook: writes the Content-Security-Policy into the built index.html, then stamps
# the service worker with the build id.
#
# The policy allows the page's own origin and nothing else. Trunk's module loader is an inline
# <script> whose text names the hashed build files, so it is allowed by its sha256 (computed here
# on every build) rather than by 'unsafe-inline'. 'wasm-unsafe-eval' lets the page compile its own
# WebAssembly. Needs only perl-base and coreutils (both Essential on Debian).
set -euo pipefail
html="${TRUNK_STAGING_DIR:?run by trunk as a post_build hook}/index.html"
hashes=""
while IFS= read -r hex; do
  digest=$(perl -e 'print pack("H*", $ARGV[0])' "$hex" | sha256sum | cut -d' ' -f1)
  hashes+=" 'sha256-$(perl -e 'print pack("H*", $ARGV[0])' "$digest" | base64 -w0)'"
done < <(perl -0777 -ne 'while (/<script\b(?![^>]*\bsrc=)[^>]*>(.*?)<\/script>/gs) { print unpack("H*", $1), "\n" }' "$html")
csp="default-src 'self'; script-src 'self' 'wasm-unsafe-eval'$hashes; style-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; font-src 'self'; connect-src 'self'; worker-src 'self'; manifest-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'"
grep -q '<meta name="attune-csp"' "$html" || { echo "post_build.sh: no <meta name=\"attune-csp\"> placeholder in $html" >&2; exit 1; }
CSP="$csp" perl -0777 -i -pe 's/<meta name="attune-csp"[^>]*>/<meta http-equiv="Content-Security-Policy" content="$ENV{CSP}" \/>/' "$html"

# public/boot.js runs with its sha256 as integrity (a corrupt copy is refused whole, and the app
# names it) and async (a stalled download never holds the page back).
boot="$TRUNK_STAGING_DIR/public/boot.js"
sri="sha256-$(sha256sum "$boot" | cut -d' ' -f1 | perl -ne 'chomp; print pack("H*", $_)' | base64 -w0)"
grep -q '<script src="/public/boot.js"></script>' "$html" || { echo "post_build.sh: no boot.js script tag in $html" >&2; exit 1; }
SRI="$sri" perl -0777 -i -pe 's{<script src="/public/boot.js"></script>}{<script src="/public/boot.js" integrity="$ENV{SRI}" async></script>}' "$html"

# The service worker's build id: a hash of the page (which names the hashed code files), the asset
# manifest and the worker itself. Any change makes a byte-different sw.js with a cache of its own,
# so browsers install the new version beside the old (app/pwa/sw.js explains the swap).
sw="$TRUNK_STAGING_DIR/sw.js"
grep -q '__ATTUNE_BUILD__' "$sw" || { echo "post_build.sh: no __ATTUNE_BUILD__ in $sw" >&2; exit 1; }
build=$(cat "$html" "$TRUNK_STAGING_DIR/public/manifest.json" "$sw" | sha256sum | cut -c1-16)
perl -i -pe "s/__ATTUNE_BUILD__/$build/" "$sw"
