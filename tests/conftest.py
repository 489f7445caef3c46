"""Shared fixtures: the digits data and two small trained VGG checkpoints (dense and half-width).

The half-width model stands in for a pruned one where a test needs a smaller network but not the
pruning engine itself.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

os.environ.setdefault("EDGEPRUNE_QUIET", "1")
torch.set_num_threads(2)

REPO = Path(__file__).resolve().parents[1]
ARTIFACTS = REPO / "test-artifacts"


@pytest.fixture(scope="session")
def digits():
    """Digits at 32 px, one channel."""
    from edgeprune.data import load_data

    return load_data("digits")


def _train(digits, tmp_path_factory, name: str, **model_kwargs) -> Path:
    import edgeprune as ep

    out = tmp_path_factory.mktemp(name)
    torch.manual_seed(2)
    model = ep.create_model("vgg11_bn", data=digits, **model_kwargs)
    ep.fit(model, digits, epochs=2, out=out, device="cpu")
    return out / "model.safetensors"


@pytest.fixture(scope="session")
def tiny_ckpt(digits, tmp_path_factory) -> Path:
    """A vgg11_bn at width 0.25 trained 2 epochs on digits (~97% test accuracy)."""
    return _train(digits, tmp_path_factory, "tiny", width=0.25)


@pytest.fixture(scope="session")
def tiny_half_ckpt(digits, tmp_path_factory) -> Path:
    """The same architecture with every conv width halved, trained the same way."""
    return _train(digits, tmp_path_factory, "tiny_half", widths=[8, 16, 32, 32, 64, 64, 64, 64])


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    """Where tests leave files for people to look at (screenshots, reports)."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
