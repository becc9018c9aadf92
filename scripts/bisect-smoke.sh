#!/usr/bin/env bash
# A small real bisect, too slow for `cargo test` (it installs published releases from the npm
# registry): 1.6.34 (with oauth-provider 1.6.33) caches token responses, 1.7.0 does not, and
# nothing lies between them, so the answer must be "first good (fixed in): 1.7.0".
# Local only: the releases run on 127.0.0.1. About a minute on 2 cores once installed.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${BA_HARNESS_BIN:-target/release/ba-harness}
[ -x "$bin" ] || cargo build --release
out=$("$bin" bisect --scenario 'Token responses are not cached' --good 1.7.0 --bad 1.6.34 "$@")
echo "$out"
grep -q '^first good (fixed in): 1.7.0 ' <<<"$out" || { echo "bisect-smoke: expected 'first good (fixed in): 1.7.0'" >&2; exit 1; }
echo "bisect-smoke: ok"
