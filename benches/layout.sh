#!/usr/bin/env bash
# Layout benchmark: Trellis' `layout` crate against dagre.js (`@dagrejs/dagre`, the layout
# Argo's UI uses) on the same seeded, workflow-shaped graphs (benches/layout/graphs.mjs: a DAG
# template, a steps template and a wide loop, at each size). Trellis lays each graph out several
# times (median time, release build); dagre once, run with node. One crossing counter
# (benches/layout/crossings.mjs) counts both layouts' edge crossings. Prints a table and whether
# each target is met: a 5,000-node DAG in <= 200 ms, >= 50x faster than dagre, <= 1.2x dagre's
# crossings; exits 1 when one is missed.
#
# Usage: benches/layout.sh [SIZE...]   (sizes default to 500 1000 2000 5000)
# Files go to $CARGO_TARGET_DIR/layout-bench (target/layout-bench by default).
set -euo pipefail
cd "$(dirname "$0")/.."
target="${CARGO_TARGET_DIR:-target}"
# Absolute: `cargo bench` runs the bench in the crate's directory.
case "$target" in /*) ;; *) target="$PWD/$target" ;; esac
work="$target/layout-bench"

if [ ! -d node_modules/@dagrejs/dagre ]; then
  npm install --no-audit --no-fund
fi
rm -rf "$work"
mkdir -p "$work/graphs" "$work/trellis" "$work/dagre"

node benches/layout/graphs.mjs "$work/graphs" "$@"
echo "== trellis (median of ${LAYOUT_BENCH_RUNS:-9} runs)"
cargo bench -p layout --bench layout --quiet -- "$work/graphs" "$work/trellis"
echo "== dagre (one run each)"
node benches/layout/dagre.mjs "$work/graphs" "$work/dagre"
echo
node benches/layout/report.mjs "$work/graphs" "$work/trellis" "$work/dagre"
