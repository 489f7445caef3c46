"""benchmarks/criteria.py end to end on a tiny fake Fashion-MNIST: one edgeprune and one Torch-Pruning method."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "criteria.py"


def _script():
    spec = importlib.util.spec_from_file_location("criteria_benchmark", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_criteria_benchmark_reaches_the_macs_target(tmp_path, monkeypatch, capsys, idx_files):
    monkeypatch.setenv("EDGEPRUNE_SYSTEM_DATASETS", str(tmp_path / "no-system"))
    monkeypatch.delenv("EDGEPRUNE_DATA", raising=False)
    monkeypatch.chdir(tmp_path)
    idx_files(tmp_path / "fmnist", gz=False, n_train=200, n_test=50)
    out = tmp_path / "out"
    argv = ["--quick", "--data-root", str(tmp_path / "fmnist"), "--sizes", "120,40,40", "--targets", "0.25",
            "--methods", "magnitude,tp-magnitude", "--score-samples", "32", "--out", str(out)]
    assert _script().main(argv) == 0
    table = (out / "criteria.md").read_text()
    assert table in capsys.readouterr().out
    rows = [line for line in table.splitlines() if line.startswith("| ") and "±" in line]
    assert [r.split(" | ")[0] for r in rows] == ["| edgeprune magnitude", "| Torch-Pruning magnitude (L2)"]
    cells = json.loads((out / "results.json").read_text())["cells"]
    assert set(cells) == {"0/magnitude/0.25", "0/tp-magnitude/0.25"}
    for cell in cells.values():
        assert abs(cell["macs_kept"] - 0.25) <= 0.05, cell
    for row in rows:  # the table's MACs-kept column says the same
        assert abs(float(row.rstrip(" |").split(" | ")[-1]) - 0.25) <= 0.05, row
    assert "criteria.py --quick" in table  # the command that made it
    # a rerun skips the finished cells and rebuilds the same table
    assert _script().main(argv) == 0
    assert json.loads((out / "results.json").read_text())["cells"] == cells
