#!/usr/bin/env bash
# System piece for `make setup`: the real Fashion-MNIST from Debian's dataset-fashion-mnist (31 MB, the
# original idx files in /usr/share/datasets/fashion-mnist/), which the default recipe trains on. Without
# it the main job falls back to the embedded digits. Prints why it skips anything and never fails the setup.
set -u

DIR=/usr/share/datasets/fashion-mnist
if [ -f "$DIR/train-images-idx3-ubyte.gz" ] && [ -f "$DIR/t10k-labels-idx1-ubyte.gz" ]; then
    echo "setup-data: Fashion-MNIST present in $DIR"
    exit 0
fi
if [ "$(id -u)" != "0" ]; then
    echo "setup-data: skipped: Fashion-MNIST is missing and installing it needs root;"
    echo "            run 'sudo apt-get install -y dataset-fashion-mnist' (the main job falls back to digits until then)"
    exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "setup-data: skipped: no apt-get here; put the four Fashion-MNIST idx files in data/FashionMNIST/raw/"
    exit 0
fi
echo "setup-data: installing Debian's dataset-fashion-mnist (31 MB)"
export DEBIAN_FRONTEND=noninteractive
if ! apt-get install -y -q dataset-fashion-mnist >/dev/null 2>&1; then
    apt-get update -q >/dev/null 2>&1
    if ! apt-get install -y -q dataset-fashion-mnist >/dev/null; then
        echo "setup-data: skipped: apt-get could not install dataset-fashion-mnist; the main job falls back to digits"
        exit 0
    fi
fi
echo "setup-data: Fashion-MNIST installed in $DIR"
exit 0
