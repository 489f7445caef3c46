#!/usr/bin/env bash
# Issue 16, the paper-scale run in two halves over one run directory:
#   bash scripts/paper-gpu.sh gpu [OUT]   on the GPU machine: data, training and every variant (CUDA, bf16)
#   bash scripts/paper-gpu.sh cpu [OUT]   back on the CPU machine: export, bench on every CPU target, report
# OUT (default runs/paper-gpu) holds everything either half writes; copy it between the machines.
# RECIPE overrides the recipe (the tests rehearse a tiny one) and DEVICE the GPU half's device.
set -euo pipefail
cd "$(dirname "$0")/.."
phase=${1:?usage: scripts/paper-gpu.sh gpu|cpu [OUT]}
out=${2:-runs/paper-gpu}
recipe=${RECIPE:-recipes/paper-gpu.toml}
ep=${EDGEPRUNE:-.venv/bin/edgeprune}
mkdir -p "$out"
case "$phase" in
gpu)
    device=${DEVICE:-cuda}
    if [ "$device" = cuda ]; then
        nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader > "$out/gpu.txt" || true
    fi
    start=$(date +%s)
    "$ep" pipeline "$recipe" --out "$out" --device "$device" --until prune
    echo "$(( $(date +%s) - start ))" > "$out/gpu-seconds.txt"
    echo "paper-gpu: training and pruning took $(cat "$out/gpu-seconds.txt") s on $device; now run: bash scripts/paper-gpu.sh cpu $out"
    ;;
cpu)
    "$ep" pipeline "$recipe" --out "$out" --device cpu
    ;;
*)
    echo "usage: scripts/paper-gpu.sh gpu|cpu [OUT]" >&2
    exit 2
    ;;
esac
