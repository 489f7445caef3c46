"""Bench fixtures: a random-weight VGG16-BN pair (width 0.5 vs 0.125: 16x fewer MACs) and a tiny preset."""

from __future__ import annotations

from pathlib import Path

import pytest

from edgeprune.runtime.timing import Preset


@pytest.fixture(scope="session")
def TINY() -> Preset:
    """A short preset that still interleaves: 8 rounds, >= 24 samples per model."""
    return Preset("tiny", warmup_runs=3, warmup_s=0.2, min_runs=24, min_rounds=8, min_time_s=0.05, max_time_s=5.0)


def _save(tmp: Path, name: str, width: float) -> Path:
    import torch

    from edgeprune.models import create_model, save_checkpoint

    torch.manual_seed(0)
    model = create_model("vgg16_bn", num_classes=10, in_channels=1, input_size=32, width=width)
    return save_checkpoint(model.eval(), tmp / f"{name}.safetensors")


@pytest.fixture(scope="session")
def vgg_pair(tmp_path_factory) -> tuple[Path, Path]:
    """(base, pruned) checkpoints: vgg16_bn width 0.5 and width 0.125 (random weights, digits shape)."""
    tmp = tmp_path_factory.mktemp("vggpair")
    return _save(tmp, "base", 0.5), _save(tmp, "pruned", 0.125)


@pytest.fixture(scope="session")
def vgg_pair_onnx(vgg_pair, tmp_path_factory) -> tuple[Path, Path]:
    """The same pair exported to ONNX."""
    from edgeprune.export.onnx import export_onnx
    from edgeprune.models import load_checkpoint

    tmp = tmp_path_factory.mktemp("vggpair_onnx")
    return tuple(export_onnx(load_checkpoint(p), tmp / f"{p.stem}.onnx") for p in vgg_pair)
