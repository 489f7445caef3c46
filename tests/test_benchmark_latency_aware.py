"""benchmarks/latency_aware.py end to end on a tiny fake Fashion-MNIST, after benchmarks/criteria.py --quick."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def _script(name: str):
    spec = importlib.util.spec_from_file_location(f"{name}_benchmark", BENCHMARKS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _criteria_run(tmp_path: Path, monkeypatch, idx_files) -> Path:
    """benchmarks/criteria.py --quick on a tiny fake Fashion-MNIST in ``tmp_path/fmnist``: its --out folder."""
    pytest.importorskip("onnxruntime")
    monkeypatch.setenv("EDGEPRUNE_SYSTEM_DATASETS", str(tmp_path / "no-system"))
    monkeypatch.delenv("EDGEPRUNE_DATA", raising=False)
    idx_files(tmp_path / "fmnist", gz=False, n_train=200, n_test=50)
    crit = tmp_path / "criteria"
    assert _script("criteria").main(["--quick", "--data-root", str(tmp_path / "fmnist"), "--sizes", "120,40,40",
                                     "--width", "0.0625", "--targets", "0.25", "--methods", "magnitude",
                                     "--score-samples", "32", "--out", str(crit)]) == 0
    return crit


def test_latency_aware_benchmark_pairs_both_models_at_the_measured_speedup(tmp_path, monkeypatch, capsys, idx_files,
                                                                          short_timing):
    monkeypatch.chdir(tmp_path)
    crit = _criteria_run(tmp_path, monkeypatch, idx_files)
    out = tmp_path / "la"
    argv = ["--criteria-out", str(crit), "--out", str(out), "--on", "ort:1", "--criterion", "magnitude",
            "--macs", "0.25", "--seeds", "0", "--cache", str(tmp_path / "cache"), "--data-root", str(tmp_path / "fmnist")]
    capsys.readouterr()
    assert _script("latency_aware").main(argv) == 0
    row = json.loads((out / "results.json").read_text())["seeds"]["0"]
    assert row["n"] == 40 and set(row) >= {"macs", "latency", "paired", "target_speedup"}
    for key in ("macs", "latency"):
        m = row[key]
        assert m["speedup_ci"][0] <= m["speedup"] <= m["speedup_ci"][1]
        assert m["efficiency"] == pytest.approx(m["speedup"] * m["macs_kept"])
        assert 0 < m["macs_kept"] < 1 and m["predicted"] > 1  # the table's prediction, next to the measurement
    cell = json.loads((crit / "results.json").read_text())["cells"]["0/magnitude/0.25"]
    assert row["macs"]["macs_kept"] == pytest.approx(cell["macs_kept"])  # the criteria run's model, read back
    assert row["paired"]["diff"] == pytest.approx(row["latency"]["accuracy"] - row["macs"]["accuracy"])
    pruned = json.loads(next(out.glob("seed-0/magnitude-*x-ort1-measured/prune.json")).read_text())
    assert pruned["target"]["kind"] == "latency" and pruned["target"]["value"] == pytest.approx(1 / row["target_speedup"])
    table = (out / "latency_aware.md").read_text()
    assert table in capsys.readouterr().out and "latency_aware.py --criteria-out" in table
    assert sum(line.startswith("| 0 |") for line in table.splitlines()) == 2  # both models of seed 0


def test_aimed_at_the_prediction_nothing_is_timed_while_pruning_and_the_order_is_the_one_asked_for(
        tmp_path, monkeypatch, capsys, idx_files, short_timing):
    crit = _criteria_run(tmp_path, monkeypatch, idx_files)
    out = tmp_path / "la"
    capsys.readouterr()
    assert _script("latency_aware").main([
        "--criteria-out", str(crit), "--out", str(out), "--on", "ort:1", "--criterion", "magnitude", "--macs", "0.25",
        "--seeds", "0", "--cache", str(tmp_path / "cache"), "--data-root", str(tmp_path / "fmnist"),
        "--aim", "predicted", "--latency-weight", "1"]) == 0
    assert "candidate 1 measured" not in capsys.readouterr().err  # the table alone aimed the plan
    row = json.loads((out / "results.json").read_text())["seeds"]["0"]
    assert row["target_speedup"] == pytest.approx(row["macs"]["predicted"])  # the MACs model's predicted speedup
    pruned = json.loads(next(out.glob("seed-0/magnitude-*x-ort1-predicted-w1/prune.json")).read_text())
    assert pruned["config"]["schedule"]["latency_weight"] == 1
