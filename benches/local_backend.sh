#!/usr/bin/env bash
# Throughput of the local backend: a 1,000-step fan-out of `true`, run with `trellis run`.
# Prints steps per second. Usage: benches/local_backend.sh [STEPS] (builds the release binary).
set -euo pipefail
cd "$(dirname "$0")/.."
steps="${1:-1000}"
target="${CARGO_TARGET_DIR:-target}"
cargo build --release -p server --quiet
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cat > "$work/fanout.yaml" <<YAML
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: fanout}
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - {name: t, template: t, withSequence: {count: "$steps"}}
  - name: t
    container: {image: busybox, command: ["true"]}
YAML
for mode in sandbox no-sandbox; do
  flag=""
  [ "$mode" = no-sandbox ] && flag="--no-sandbox"
  start=$(date +%s.%N)
  "$target/release/trellis" run --data-dir "$work/data-$mode" $flag "$work/fanout.yaml" > "$work/out.txt"
  end=$(date +%s.%N)
  grep -q '^Status: *Succeeded' "$work/out.txt" || { cat "$work/out.txt" | head -20; exit 1; }
  awk -v s="$start" -v e="$end" -v n="$steps" -v m="$mode" \
    'BEGIN { printf "local backend (%s): %d steps in %.1f s = %.0f steps/s\n", m, n, e - s, n / (e - s) }'
done
