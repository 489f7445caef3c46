"""The torchvision classification zoo: every architecture is supported through train, checkpoint, prune,
export and onnxruntime, or refused up front in one line; ``edgeprune list models`` says which.

One small architecture per family runs the whole chain here (``benchmarks/zoo.py``'s ``run_chain``, the
code of the sweep); the rest of the zoo runs with ``EDGEPRUNE_ZOO=full`` (``make test-zoo``: about an hour
on 2 cores, the big RegNets, VGGs and EfficientNets dominate).
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest
import torchvision

from edgeprune.models.support import REFUSED, support_status

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "zoo.py"
ZOO = torchvision.models.list_models(module=torchvision.models)
QUICK = {"resnet18", "mobilenet_v2", "mobilenet_v3_small", "mnasnet0_5", "squeezenet1_1", "efficientnet_b0",
         "regnet_x_400mf", "googlenet"}
FULL = os.environ.get("EDGEPRUNE_ZOO") == "full"


def _zoo():
    spec = importlib.util.spec_from_file_location("zoo_benchmark", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _supported() -> list:
    marks = lambda a: [] if a in QUICK or FULL else [pytest.mark.skip(reason="EDGEPRUNE_ZOO=full runs it")]  # noqa: E731
    return [pytest.param(a, marks=marks(a)) for a in ZOO if not support_status("tv:" + a).refused]


@pytest.mark.parametrize("arch", _supported())
def test_supported_architecture_trains_prunes_exports_and_runs(arch, tmp_path):
    row = _zoo().run_chain(arch, tmp_path)
    assert row["outcome"] == "ok", row
    assert row["params_pruned"] < 0.75 * row["params"], row  # half the channels gone, not masked


def test_every_architecture_has_a_status_and_refusals_name_their_family():
    refused = [a for a in ZOO if support_status("tv:" + a).refused]
    assert refused and len(refused) < len(ZOO) // 3
    for a in refused:
        assert any(a.startswith(prefix) for prefix in REFUSED), a


def test_prune_refuses_an_unsupported_architecture_in_one_line(tmp_path, capsys):
    import edgeprune as ep
    from edgeprune.cli import main

    ckpt = ep.save(ep.create_model("tv:shufflenet_v2_x0_5", num_classes=10), tmp_path / "m.safetensors")
    capsys.readouterr()
    code = main(["prune", str(ckpt), "--method", "magnitude", "--ratio", "0.5", "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    errors = [line for line in err.splitlines() if ": error: " in line]
    assert code == 2 and len(errors) == 1 and "Traceback" not in err, err
    assert "tv:shufflenet_v2_x0_5 is not supported: ShuffleNet" in errors[0]
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_list_models_shows_the_support_status(capsys):
    from edgeprune.cli import main

    assert main(["list", "models", "tv:*"]) == 0
    lines = dict(line.split(None, 1) for line in capsys.readouterr().out.splitlines())
    assert len(lines) == len(ZOO)
    assert lines["tv:resnet18"] == "supported"
    assert lines["tv:vit_b_16"].startswith("refused: Vision Transformer")


def test_the_sweep_table_counts_every_outcome():
    rows = [{"arch": "resnet18", "outcome": "ok", "input_size": 32, "params": 11_181_642, "params_pruned": 2_800_000,
             "seconds": 3.1},
            {"arch": "vit_b_16", "outcome": "refused", "reason": "Vision Transformer: ...", "seconds": 0.0},
            {"arch": "x", "outcome": "failed", "step": "export", "reason": "ExportError: parity", "seconds": 1.0}]
    text = _zoo().table(rows)
    assert "| resnet18 | ok | 32 | 11,181,642 | 2,800,000 |" in text
    assert "| vit_b_16 | refused |  |  |  | 0.0 | Vision Transformer: ... |" in text
    assert "export: ExportError: parity" in text
    assert text.endswith("3 architectures: 1 ok, 1 refused, 1 failed")
