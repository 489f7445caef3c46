"""The ``edgeprune prune`` command end to end (in a real subprocess, or in process where timings are shortened)."""

from __future__ import annotations

import subprocess
import sys

from edgeprune.fileio import read_json
from edgeprune.models import count_macs, load_checkpoint


def test_cli_prune_obd_target_macs(tmp_path, tiny_ckpt):
    out = tmp_path / "obd"
    cmd = [sys.executable, "-m", "edgeprune.cli", "prune", str(tiny_ckpt), "--method", "obd", "--target-macs", "0.25",
           "--finetune-epochs", "1", "--samples", "64", "--device", "cpu", "--out", str(out)]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr
    assert "test accuracy" in res.stdout
    report = read_json(out / "prune.json")
    small = load_checkpoint(out / "model.safetensors")
    base = load_checkpoint(tiny_ckpt)
    assert count_macs(small, (1, 32, 32)) <= 0.25 * count_macs(base, (1, 32, 32))
    assert 0.0 <= report["accuracy_final"] <= 1.0 and report["accuracy_before"] > 0.9
    assert report["history"][0]["accuracy_finetuned"] is not None
    assert set(report["seconds"]) >= {"evaluate", "prune+finetune"}


def test_cli_bad_option_is_one_line(tmp_path, tiny_ckpt):
    cmd = [sys.executable, "-m", "edgeprune.cli", "prune", str(tiny_ckpt), "--method", "nope", "--ratio", "0.5",
           "--out", str(tmp_path / "x")]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert res.returncode == 2
    assert "unknown pruning method" in res.stderr and "Traceback" not in res.stderr


def test_cli_prune_to_a_speedup_on_onnxruntime_builds_the_table_measures_and_records(tmp_path, tiny_ckpt,
                                                                                     latency_cache, capsys, short_timing):
    from edgeprune.cli import main

    out, cache = tmp_path / "fast", latency_cache
    assert main(["prune", str(tiny_ckpt), "--method", "magnitude", "--target-speedup", "2", "--on", "ort:1",
                 "--latency-cache", str(cache), "--out", str(out)]) == 0
    res = capsys.readouterr()
    report = read_json(out / "prune.json")
    lat = report["latency"]
    assert lat["on"] == "ort:1" and lat["predicted_speedup"] > 1
    v = lat["verified"]
    assert v["base_ms"] > 0 and v["pruned_ms"] > 0 and v["speedup_ci"][0] <= v["speedup"] <= v["speedup_ci"][1]
    assert "candidate 1 measured" in res.err  # each plan was timed on the runtime before it was kept
    assert f"measured {v['speedup']:.2f}x" in res.out
    assert len(list(cache.glob("ort-1-*.json"))) == 1
    small = load_checkpoint(out / "model.safetensors")
    assert count_macs(small, (1, 32, 32)) < count_macs(load_checkpoint(tiny_ckpt), (1, 32, 32))
