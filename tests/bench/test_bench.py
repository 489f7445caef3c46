"""Real runs on onnxruntime / OpenVINO / torch: rows, outputs, ❌ rows for bad inputs, claim verdicts."""

from __future__ import annotations

import json
import shutil

import pytest

from edgeprune.bench import bench
from edgeprune.errors import ConfigError


def test_pair_on_three_backends_writes_outputs(vgg_pair, tmp_path, TINY):
    base, pruned = vgg_pair
    out = tmp_path / "b"
    rep = bench([base, pruned], baseline=base, backends="torch,ort,openvino", profiles="lowpower", preset=TINY,
                out=out, memory=False)  # peak memory: see test_bench_cli (fresh workers cost seconds each)
    assert [(r.backend, r.variant, r.status) for r in rep.rows] == [
        (b, v, "ok") for b in ("torch", "ort", "openvino") for v in ("base", "pruned")]
    for r in rep.rows:
        assert r.threads == 1 and r.profile == "lowpower" and r.backend_version
        assert r.size_bytes > 0 and r.samples >= TINY.min_runs
        assert r.p50_ms > 0 and r.min_ms <= r.p50_ms <= r.p90_ms <= r.p99_ms <= r.max_ms
    ort = {r.variant: r for r in rep.rows if r.backend == "ort"}
    assert ort["pruned"].runtime["intra_op_num_threads"] == 1 and "allow_spinning" in ort["pruned"].runtime
    ov = next(r for r in rep.rows if r.backend == "openvino")
    assert ov.runtime["inference_num_threads"] == 1 and "LATENCY" in ov.runtime["performance_hint"]
    assert ort["pruned"].macs_ratio == pytest.approx(16, rel=0.15)
    assert ort["base"].size_bytes > 8 * ort["pruned"].size_bytes
    data = json.loads((out / "bench.json").read_text())
    assert data["rows"][1]["rounds"] and data["env"]["cpu_model"] and data["rows"][1]["speedup_ci"]
    assert "| pruned |" in (out / "bench.md").read_text()
    assert (out / "bench.png").read_bytes()[:4] == b"\x89PNG"
    assert list((out / "cache").glob("*/openvino/model.xml"))  # conversions cached


def test_unusable_models_are_refused_before_timing(vgg_pair_onnx, tmp_path, TINY):
    """A MODEL no backend could read refuses the bench; one a backend cannot run is that backend's ❌ row."""
    from edgeprune.errors import ModelError

    base, _ = vgg_pair_onnx
    junk = tmp_path / "junk.onnx"
    junk.write_bytes(b"this is not a protobuf")
    (tmp_path / "notes.txt").write_text("hello")
    for bad, why in ((junk, "not a valid ONNX model"), (tmp_path / "missing.onnx", "file not found"),
                     (tmp_path / "notes.txt", "unknown model format")):
        with pytest.raises(ModelError, match=f"models {bad}: {why}"):  # the CLI shows MODEL
            bench([base, bad], backends="ort", preset=TINY, threads=1, memory=False)
    rep = bench([base], backends="torch,ort", preset=TINY, threads=1, memory=False)
    rows = {(r.backend, r.variant): r for r in rep.rows}
    assert rows["ort", "base"].ok
    assert "torch needs an edgeprune checkpoint" in rows["torch", "base"].reason


def test_user_mistakes_raise_config_errors(vgg_pair):
    _, pruned = vgg_pair
    with pytest.raises(ConfigError, match="claim needs baseline"):
        bench([pruned], claim=2.0)
    with pytest.raises(ConfigError, match="unknown profile"):
        bench([pruned], profiles="phone")
    with pytest.raises(ConfigError, match="threads"):
        bench([pruned], threads=[0])


def test_claim_fails_for_identical_and_passes_for_smaller(vgg_pair_onnx, tmp_path, TINY, retry_timing):
    """16x fewer MACs clears 2x by a wide margin even on a loaded box; a copy of the baseline never does."""
    base, pruned = vgg_pair_onnx
    same = shutil.copy(base, tmp_path / "same.onnx")

    def measure_and_check():
        rep = bench([pruned, same], baseline=base, backends="ort", profiles="lowpower", preset=TINY, claim=2.0,
                    claim_on="ort", memory=False)
        verdict = {c.variant: c for c in rep.claims}
        assert verdict["pruned"].passed, verdict["pruned"].line
        assert not verdict["same"].passed, verdict["same"].line
        assert 0.5 < verdict["same"].speedup < 2.0, verdict["same"].line
        assert rep.claim_passed is False

    retry_timing(measure_and_check)


def test_accuracy_column_with_data(tiny_ckpt, digits, TINY):
    rep = bench([tiny_ckpt], backends="torch,ort", preset=TINY, threads=1, data=digits, memory=False)
    accs = [r.accuracy for r in rep.rows]
    assert all(a > 0.8 for a in accs) and accs[0] == pytest.approx(accs[1], abs=0.01)


def test_labels_keep_int8_apart_from_fp32():
    from pathlib import Path

    from edgeprune.bench.artifacts import label_for

    assert label_for(Path("runs/b/model.onnx")) == "b/model"
    assert label_for(Path("runs/b/model.int8.onnx")) == "b/model.int8"
    assert label_for(Path("runs/b/model.safetensors")) == "b/model"
    assert label_for(Path("x/resnet18.onnx")) == "resnet18"


def test_claim_on_with_an_unknown_backend_is_a_config_error():
    import pytest

    from edgeprune.bench.claims import parse_claim_on
    from edgeprune.errors import ConfigError

    assert parse_claim_on("ort,openvino:lowpower,*") == [("ort", None), ("openvino", "lowpower"), ("*", None)]
    with pytest.raises(ConfigError, match="unknown backend 'onnxruntime'"):
        parse_claim_on("onnxruntime")
