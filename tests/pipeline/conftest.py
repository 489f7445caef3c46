"""A tiny recipe (vgg11_bn at width 0.125, 1 epoch, two variants, onnxruntime only) and one finished run of it.

The finished run (``interrupted_then_resumed``) is shared by the whole session and must stay as it was made:
tests only read it. A test that reruns stages, deletes or damages files takes ``finished_run``, its own copy,
so no test can see another's changes and the order tests run in cannot change a result.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

TINY = """
name = "tiny"
description = "two variants of a tiny VGG, for tests"
[model]
name = "vgg11_bn"
width = 0.125
[train]
epochs = 1
device = "cpu"
[[variants]]
name = "A"
method = "magnitude"
target_macs = 0.5
finetune_epochs = 1
[[variants]]
name = "B"
from = "A"
regularizer = "hsqgl12"
lambda = 1e-5
epochs = 1
[export]
formats = ["onnx"]
int8 = "none"
[bench]
backends = ["ort"]
optional = []
profiles = ["lowpower"]
preset = "quick"
[claim]
speedup = 1.0
max_accuracy_drop = 100.0
on = ["ort:lowpower"]
[deploy]
web = false
device = false
[report]
samples = 8
"""


def write_recipe(folder: Path, text: str = TINY, name: str = "tiny.toml") -> Path:
    """Write a recipe file and return its path."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text)
    return path


@pytest.fixture
def make_recipe(tmp_path):
    """Write a variant of the tiny recipe: ``make_recipe(("old", "new"), ...)`` applies replacements."""

    def make(*changes: tuple[str, str], text: str = TINY) -> Path:
        for old, new in changes:
            assert old in text, old
            text = text.replace(old, new)
        return write_recipe(tmp_path / "recipes", text)

    return make


@pytest.fixture(scope="session")
def tiny_recipe(tmp_path_factory) -> Path:
    """The tiny recipe on disk."""
    return write_recipe(tmp_path_factory.mktemp("recipe"))


@pytest.fixture(scope="session")
def interrupted_then_resumed(tiny_recipe, tmp_path_factory):
    """Run the tiny pipeline, interrupted when variant B starts, then resumed; the manifests of both calls."""
    import json

    from edgeprune.cli import main
    from edgeprune.pipeline import INTERRUPT_ENV

    out = tmp_path_factory.mktemp("run") / "tiny"
    os.environ[INTERRUPT_ENV] = "prune:B"
    try:
        first = main(["pipeline", str(tiny_recipe), "--out", str(out)])
    finally:
        del os.environ[INTERRUPT_ENV]
    before = json.loads((out / "manifest.json").read_text())
    second = main(["pipeline", str(tiny_recipe), "--out", str(out)])
    after = json.loads((out / "manifest.json").read_text())
    return {"out": out, "codes": (first, second), "before": before, "after": after}


@pytest.fixture
def finished_run(interrupted_then_resumed, tmp_path) -> Path:
    """A private copy of the finished run directory, for tests that change it (timestamps kept)."""
    return shutil.copytree(interrupted_then_resumed["out"], tmp_path / "tiny", symlinks=True)
