"""An INT8 model that truly changes predictions fails its parity row; a faithful one passes.

The degraded INT8 is made by the real path (edgeprune's quantize_int8, onnxruntime's static MinMax
calibration): one calibration image 10^4 times brighter than the data stretches the input's
quantization range until every real input rounds to the same few levels, so the INT8 network's
predictions collapse while its FP32 twin is untouched. The real images are chosen with a wide top-1
margin, so that a faithful INT8 (about 1-2% of the logit scale off) cannot flip them: its agreement
is 100%, the degraded one's is near the majority class's share.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from torch import nn
from torch.utils.data import Dataset

from edgeprune.errors import ExportError
from edgeprune.export.parity import (
    INT8_MIN_AGREEMENT,
    Target,
    check_parity,
    parity_error,
    random_batch,
    torch_logits,
)
from edgeprune.models import ModelSpec, attach_spec

SHAPE = (1, 8, 8)


def _model():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(4, 4, 3, padding=1),
                        nn.ReLU(), nn.Flatten(), nn.Linear(64, 3))
    return attach_spec(net.eval(), ModelSpec("toy", input_shape=SHAPE))


@pytest.fixture(scope="module")
def setup():
    """(model, real images with a wide margin and every class present, calibration images)."""
    model = _model()
    rng = np.random.default_rng(0)
    pool = rng.standard_normal((4000, *SHAPE)).astype(np.float32)
    with torch.no_grad():  # centre the classes so that each one wins on some inputs
        model[-1].bias -= torch.from_numpy(torch_logits(model, pool).mean(0))
    logits = torch_logits(model, pool)
    top2 = np.sort(logits, 1)[:, -2:]
    wide = (top2[:, 1] - top2[:, 0]) > 0.15 * np.abs(logits).max()
    per_class = [np.flatnonzero(wide & (logits.argmax(1) == c))[:22] for c in range(3)]
    assert all(len(ix) >= 10 for ix in per_class), [len(ix) for ix in per_class]
    real = pool[np.concatenate(per_class)]
    calib = pool[-300:]
    return model, real, calib


def _int8(model, tmp_path, calib, name):
    from edgeprune.export.onnx import export_onnx
    from edgeprune.export.quantize import quantize_int8

    src = export_onnx(model, tmp_path / "model.onnx")
    return quantize_int8(src, tmp_path / name, calib)


def _outlier(calib):
    bad = calib.copy()
    bad[0] = 1e4  # one saturated image: MinMax calibration puts the input range at [-4, 1e4]
    return bad


def test_degraded_int8_fails_its_parity_row_and_a_faithful_one_passes(setup, tmp_path):
    model, real, calib = setup
    good = _int8(model, tmp_path, calib, "good.int8.onnx")
    bad = _int8(model, tmp_path, _outlier(calib), "bad.int8.onnx")
    targets = [Target(name, backend, path, "int8") for name, path in (("good.int8.onnx", good), ("bad.int8.onnx", bad))
               for backend in ("ort", "openvino")]
    rows = check_parity(model, targets, {"test": real, "random": random_batch(SHAPE)})
    by = {(r.artifact, r.backend, r.batch): r for r in rows}
    ref = torch_logits(model, real).argmax(1)
    for backend in ("ort", "openvino"):
        ok = by[("good.int8.onnx", backend, "test")]
        assert ok.passed and ok.top1_agreement == 1.0 and ok.min_agreement == INT8_MIN_AGREEMENT
        assert ok.rel_diff < 0.1  # faithful: a few percent of the logit scale
        broken = by[("bad.int8.onnx", backend, "test")]
        assert not broken.passed and broken.top1_agreement < INT8_MIN_AGREEMENT
        # the collapse is real: at most the share of one class agrees (balanced classes: about a third)
        assert broken.top1_agreement <= max(np.bincount(ref, minlength=3)) / len(ref) + 1e-9
        assert broken.rel_diff > 0.2
        for art in ("good.int8.onnx", "bad.int8.onnx"):  # on random inputs INT8 is reported only
            rnd = by[(art, backend, "random")]
            assert rnd.passed and not rnd.enforced and rnd.rule() == "reported only"
    err = parity_error(rows)
    text = str(err)
    assert "bad.int8.onnx on ort (int8, test batch)" in text and "bad.int8.onnx on openvino (int8, test batch)" in text
    shown = f"top-1 agreement {by[('bad.int8.onnx', 'ort', 'test')].top1_agreement:.1%} (needs top-1 agreement >= 90%)"
    assert shown in text
    assert "good.int8.onnx" not in text and "random batch" not in text


class Arrays(Dataset):
    def __init__(self, x: np.ndarray, y: np.ndarray):
        self.x, self.y = torch.from_numpy(x), y

    def __len__(self):
        return len(self.y)

    def __getitem__(self, i):
        return self.x[i], int(self.y[i])


def _bundle(real, calib, model):
    from edgeprune.data import DataBundle

    labels = torch_logits(model, real).argmax(1)
    return DataBundle("synthetic", Arrays(calib, np.zeros(len(calib), dtype=np.int64)), Arrays(real, labels),
                      Arrays(real, labels), ["a", "b", "c"], SHAPE, [0.0], [1.0])


def test_export_with_a_degraded_int8_fails_and_marks_only_that_file(setup, tmp_path):
    from edgeprune.export import export

    model, real, calib = setup
    result = export(model, tmp_path / "good", formats=("onnx",), int8=True, data=_bundle(real, calib, model))
    assert result.ok and result.int8_accuracy == 1.0
    int8_rows = [r for r in result.parity if r["precision"] == "int8" and r["batch"] == "test"]
    assert int8_rows and all(r["passed"] and r["min_agreement"] == INT8_MIN_AGREEMENT for r in int8_rows)

    out = tmp_path / "bad"
    with pytest.raises(ExportError, match=r"model\.int8\.onnx on ort \(int8, test batch\).*top-1 agreement"):
        export(model, out, formats=("onnx",), int8=True, data=_bundle(real, _outlier(calib), model))
    saved = json.loads((out / "export.json").read_text())
    assert saved["status"] == "parity-failed" and saved["parity_failed"] == ["model.int8.onnx"]
    assert (out / "model.int8.parity-failed.onnx").is_file() and not (out / "model.int8.onnx").exists()
    assert (out / "model.onnx").is_file() and (out / "model.sim.onnx").is_file()  # the FP32 files passed
    assert saved["accuracy"]["ort_int8"] < INT8_MIN_AGREEMENT and saved["accuracy"]["ort_fp32"] == 1.0
    md = (out / "export.md").read_text()
    assert "PARITY FAILED" in md and "| `model.int8.onnx` | ort | int8 | test |" in md and "**NO**" in md
