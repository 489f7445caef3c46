#!/usr/bin/env bash
# `make arm-smoke`: run a linux-aarch64 device bundle under qemu-user in a cached arm64 Debian root
# and check that its outputs equal the x86 ones (emulated timings are labelled, never latency).
#
#   VENV=.venv bash scripts/arm-smoke.sh             the whole check
#   VENV=.venv bash scripts/arm-smoke.sh --prepare   only the cached root and wheels (what `make test`
#                                                    needs to run tests/device/test_arm.py)
#   EDGEPRUNE_ARM_CACHE=~/.cache/edgeprune  (root, aarch64 wheels, model and bundle are cached there)
set -euo pipefail

VENV=${VENV:-.venv}
PY=$VENV/bin/python
EP=$VENV/bin/edgeprune
CACHE=${EDGEPRUNE_ARM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/edgeprune}
ROOT=$CACHE/arm64-root
SITE=$CACHE/arm64-site
WORK=$CACHE/arm-smoke
SUITE=bookworm
start=$(date +%s)
say() { echo "arm-smoke: $*"; }
# set -e stops at the first failing command: say which one, so a failed --prepare in CI is never silent
trap 'rc=$?; say "failed (exit $rc) at line $LINENO: $BASH_COMMAND" >&2' ERR

# --- tools -------------------------------------------------------------------------------------
need=()
command -v qemu-aarch64-static >/dev/null || need+=(qemu-user-static)
command -v debootstrap >/dev/null || need+=(debootstrap)
if [ ${#need[@]} -gt 0 ]; then
    if [ "$(id -u)" != "0" ]; then
        say "needs ${need[*]}: run 'sudo apt-get install -y ${need[*]}' first"; exit 1
    fi
    say "installing ${need[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q >/dev/null
    apt-get install -y -q --no-install-recommends "${need[@]}" >/dev/null
fi
if [ "$(id -u)" != "0" ]; then
    say "needs root (debootstrap, and 'unshare -m' to show onnxruntime an ARM /proc/cpuinfo)"; exit 1
fi

# --- arm64 root (cached) -----------------------------------------------------------------------
mirror() {  # the Debian mirror apt already uses
    local m
    m=$(grep -rhoE 'https?://[^ ]+/debian/?$|https?://[^ ]+/debian ' /etc/apt/sources.list /etc/apt/sources.list.d 2>/dev/null \
        | head -n1 | tr -d ' ')
    echo "${m:-http://deb.debian.org/debian}"
}
fix_merged_usr() {  # dpkg -x replaces the /lib -> usr/lib link with a folder: fold it back
    local d
    for d in bin sbin lib lib64; do
        if [ -d "$ROOT/$d" ] && [ ! -L "$ROOT/$d" ]; then
            mkdir -p "$ROOT/usr/$d"
            cp -a "$ROOT/$d/." "$ROOT/usr/$d/"
            rm -rf "${ROOT:?}/$d"
            ln -s "usr/$d" "$ROOT/$d"
        fi
    done
}
if [ ! -f "$ROOT/.edgeprune-ready" ]; then
    say "building the arm64 root in $ROOT (debootstrap --foreign, once; cached afterwards)"
    rm -rf "$ROOT"
    mkdir -p "$ROOT"
    debootstrap --foreign --arch=arm64 --variant=minbase \
        --include=python3.11,libpython3.11-stdlib,python3.11-minimal,libstdc++6,libgomp1 \
        "$SUITE" "$ROOT" "$(mirror)" >"$CACHE/debootstrap.log" 2>&1 \
        || { say "debootstrap failed; see $CACHE/debootstrap.log"; exit 1; }
    # the first stage unpacks only the required set: unpack every downloaded package
    for deb in "$ROOT"/var/cache/apt/archives/*.deb; do
        dpkg -x "$deb" "$ROOT"
    done
    fix_merged_usr
    test -x "$ROOT/usr/bin/python3.11" || { say "no python3.11 in the arm64 root"; exit 1; }
    touch "$ROOT/.edgeprune-ready"
fi

# --- aarch64 onnxruntime + numpy, the versions the bundle pins (cached) ------------------------
REQ=$("$PY" -c 'from edgeprune.runtime.device.targets import requirements_for; print(" ".join(requirements_for("linux-aarch64", (3, 11))))')
if [ ! -f "$SITE/.edgeprune-ready" ] || [ "$(cat "$SITE/.edgeprune-ready")" != "$REQ" ]; then
    say "fetching aarch64 wheels: $REQ"
    rm -rf "$SITE"
    "$PY" -m pip install -q --target "$SITE" --platform manylinux2014_aarch64 --platform manylinux_2_28_aarch64 \
        --platform manylinux_2_17_aarch64 --only-binary=:all: --python-version 3.11 --implementation cp $REQ
    echo "$REQ" > "$SITE/.edgeprune-ready"
fi

if [ "${1:-}" = "--prepare" ]; then
    say "arm64 root and wheels ready in $CACHE ($(( $(date +%s) - start )) s)"
    exit 0
fi

# --- a digits model and its linux-aarch64 bundle (model cached) --------------------------------
mkdir -p "$WORK"
if [ ! -f "$WORK/model/model.safetensors" ]; then
    say "training a small digits model (1 epoch)"
    EDGEPRUNE_QUIET=1 "$EP" train --model vgg11_bn --width 0.25 --data digits --epochs 1 --device cpu --out "$WORK/model" >/dev/null
fi
"$EP" deploy device "$WORK/model/model.safetensors" --target linux-aarch64 --out "$WORK/bundle-aarch64.tar.gz"

# --- the check ---------------------------------------------------------------------------------
"$EP" check-arm "$WORK/bundle-aarch64.tar.gz" --root "$ROOT" --site "$SITE" --out "$WORK/check-arm.json"
say "passed in $(( $(date +%s) - start )) s"
