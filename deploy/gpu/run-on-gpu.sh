#!/usr/bin/env bash
# On the GPU machine: unpacks the bundle made by deploy/gpu/bundle.sh and runs the CUDA tests and the
# CUDA benchmark, writing everything to $OUT (default ./gpu-results).
#   deploy/gpu/run-on-gpu.sh [target/gpu-bundle/streaminfer-gpu.tgz]
set -euo pipefail
BUNDLE="${1:-target/gpu-bundle/streaminfer-gpu.tgz}"
OUT="${OUT:-$PWD/gpu-results}"
WORK="${TMPDIR:-/tmp}/streaminfer-gpu-$$"
mkdir -p "$WORK" "$OUT"
tar -C "$WORK" -xzf "$BUNDLE"
exec "$WORK/streaminfer-gpu/run.sh" "$OUT"
