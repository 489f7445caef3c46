"""Issue 16 rehearsed on the CPU: scripts/paper-gpu.sh runs the paper-scale recipe in its two halves, tiny.

The recipe is recipes/paper-gpu.toml itself (its variants, 5-step pruning to 60.6% of the filters,
claims and paper table), shrunk by a recipe that extends it: 32 px, a 1/16-width VGG16-BN, a small fake
Fashion-MNIST. The GPU half runs with DEVICE=cpu; the real run needs a CUDA machine.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

TINY_PAPER = """
extends = "{parent}"
name = "paper-gpu-rehearsal"
[data]
input_size = 32
sizes = [100, 20, 20]
[model]
width = 0.0625
hidden = 64
[train]
epochs = 1
batch_size = 50
[bench]
backends = ["ort"]
optional = []
threads = [1]
profiles = ["lowpower"]
min_time_s = 0.05
max_time_s = 0.3
[claim]
on = ["ort:lowpower"]
"""


@pytest.mark.slow
def test_paper_gpu_script_rehearsed_on_the_cpu(tmp_path, fake_system_fashionmnist):
    recipe = tmp_path / "rehearsal.toml"
    recipe.write_text(TINY_PAPER.format(parent=REPO / "recipes" / "paper-gpu.toml"))
    out = tmp_path / "run"
    env = {**os.environ, "RECIPE": str(recipe), "DEVICE": "cpu", "EDGEPRUNE_QUIET": "1",
           "EDGEPRUNE": str(Path(os.sys.executable).parent / "edgeprune")}
    gpu = subprocess.run(["bash", str(REPO / "scripts" / "paper-gpu.sh"), "gpu", str(out)], capture_output=True,
                         text=True, env=env, timeout=600)
    assert gpu.returncode == 0, gpu.stderr[-2000:]
    stages = json.loads((out / "manifest.json").read_text())["stages"]
    assert {"train", "prune:OBD", "prune:HSQGL12-OBD", "prune:OBD-HSQGL12", "prune:taylor"} <= set(stages)
    assert not any(s.startswith(("export", "bench")) for s in stages)  # the GPU half stops after pruning
    assert int((out / "gpu-seconds.txt").read_text()) >= 0
    prune = json.loads((out / "models" / "OBD" / "prune.json").read_text())
    assert len(prune["history"]) == 5  # the paper's five iterations

    cpu = subprocess.run(["bash", str(REPO / "scripts" / "paper-gpu.sh"), "cpu", str(out)], capture_output=True,
                         text=True, env=env, timeout=600)
    assert cpu.returncode == 0, cpu.stderr[-2000:]
    after = json.loads((out / "manifest.json").read_text())["stages"]
    assert after["train"]["runs"] == 1 and after["prune:OBD"]["runs"] == 1  # the CPU half trains nothing again
    md = (out / "report.md").read_text()
    assert "## The paper's table beside ours" in md and "| OBD-HSQGL12 | 91.2% |" in md
    assert "### Every variant against the claim" in md and "onnxruntime lowpower 1 thread" in md
