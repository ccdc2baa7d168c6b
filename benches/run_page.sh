#!/usr/bin/env bash
# The run page of a 5,000-node workflow in Debian's Chromium, on the release build: how long
# until it is interactive (hydrated, and a click on a node has opened its panel), how much HTML
# it sends, and the size of the release wasm (raw and brotli). Prints the figures and whether
# the targets hold (interactive in <= 1.5 s, wasm <= 400 KB brotli); exits 1 when one is missed.
#
# Usage: benches/run_page.sh [NODES]   (default 5000)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo xtask build --release
target="${CARGO_TARGET_DIR:-target}"
TRELLIS_BIN="$target/release/trellis" TRELLIS_SITE_DIR="$(cargo xtask site-dir)" \
    node benches/run_page.mjs "${1:-5000}"
