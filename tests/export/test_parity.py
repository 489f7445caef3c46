"""Parity figures with known answers, and an export that really disagrees with PyTorch."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from torch import nn

import edgeprune as ep
from edgeprune.errors import ExportError
from edgeprune.export import export
from edgeprune.export.parity import FP32_TOLERANCE, INT8_MIN_AGREEMENT, compare, random_batch


class Gate(nn.Module):
    """Data-dependent Python control flow: tracing freezes one branch, so the export disagrees with PyTorch."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x if float(x.abs().sum()) == 0 else 2 * x


def test_compare_known_answers():
    ref = np.array([[1.0, 2.0], [4.0, 0.0]], dtype=np.float32)
    row = compare(ref, ref + np.float32(2e-4), artifact="a", backend="ort", precision="fp32", batch="test")
    assert row.logit_scale == 4.0 and row.max_abs_diff == pytest.approx(2e-4, rel=1e-3)
    assert row.rel_diff == pytest.approx(5e-5, rel=1e-3) and row.top1_agreement == 1.0 and row.passed
    row = compare(ref, ref + np.float32(8e-4), artifact="a", backend="ort", precision="fp32", batch="test")
    assert row.rel_diff == pytest.approx(2e-4, rel=1e-3) and not row.passed  # over 1e-4 of the scale
    flipped = ref[:, ::-1].copy()
    row = compare(ref, flipped, artifact="a", backend="ort", precision="int8", batch="test")
    # INT8 logits are held to no relative tolerance, but every prediction flipped on real images fails
    assert row.top1_agreement == 0.0 and row.tolerance is None and row.min_agreement == INT8_MIN_AGREEMENT
    assert not row.passed
    row = compare(ref, flipped, artifact="a", backend="ort", precision="int8", batch="random")
    assert row.top1_agreement == 0.0 and row.min_agreement is None and row.passed and not row.enforced
    assert FP32_TOLERANCE == 1e-4 and INT8_MIN_AGREEMENT == 0.9


def test_random_batch_is_seeded():
    a, b = random_batch((1, 8, 8), n=3), random_batch((1, 8, 8), n=3)
    assert a.shape == (3, 1, 8, 8) and a.dtype == np.float32 and np.array_equal(a, b)


def test_parity_failure_keeps_artifacts_and_raises(digits, tmp_path):
    torch.manual_seed(0)
    model = ep.create_model("vgg11_bn", data=digits, width=0.125)
    model.features[0] = nn.Sequential(Gate(), model.features[0])  # traced on zeros: identity is frozen in
    with pytest.raises(ExportError, match=r"parity failed: model\.onnx on ort .*top-1 agreement") as err, \
            pytest.warns(torch.jit.TracerWarning, match="trace might not generalize"):
        export(model, tmp_path, formats=("onnx", "openvino"), data=digits)
    assert "parity-failed" in (err.value.hint or "")
    result = json.loads((tmp_path / "export.json").read_text())
    assert result["status"] == "parity-failed"
    assert set(result["parity_failed"]) == {"model.onnx", "model.sim.onnx", "openvino/model.xml"}
    for name in ("model.parity-failed.onnx", "model.sim.parity-failed.onnx",
                 "openvino/model.parity-failed.xml", "openvino/model.parity-failed.bin"):
        assert (tmp_path / name).is_file()
    assert not (tmp_path / "model.onnx").exists() and not (tmp_path / "openvino" / "model.xml").exists()
    assert "PARITY FAILED" in (tmp_path / "export.md").read_text()
