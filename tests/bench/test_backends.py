"""The backend registry and the out-of-process interface (raw samples in, same statistics out)."""

from __future__ import annotations

import shutil
from typing import ClassVar

import numpy as np
import pytest

from edgeprune.bench import bench
from edgeprune.bench.backends import Backend, RawResult, get_backend, list_backends, register_backend
from edgeprune.errors import ConfigError


@register_backend
class FakeRemote(Backend):
    """Pretends to be a board: the 'pruned' model is 3x faster, rounds share drift."""

    name, form, in_process = "fake-remote", "onnx", False
    description = "synthetic samples"
    speed: ClassVar[dict[str, float]] = {"base": 3.0, "pruned": 1.0}
    seen: ClassVar[dict] = {}

    def version(self) -> str:
        return "0.0"

    def measure(self, artifacts, threads, batch, preset):
        FakeRemote.seen = {"threads": threads, "batch": batch, "preset": preset.name, "device": self.device}
        rng = np.random.default_rng(0)
        drift = rng.lognormal(0, 0.3, 12)
        return [RawResult(a.name, 5.0, 9.0, [list(self.speed.get(a.name, 3.0) * d * rng.lognormal(0, 0.05, 4))
                                            for d in drift], {"runner": "fake"}) for a in artifacts]


@register_backend
class FakeBrowser(FakeRemote):
    """Chooses its own thread counts and names its profile, like the web backend."""

    name = "fake-browser"

    def thread_counts(self, requested: list[int]) -> list[int]:
        return sorted({1, max(requested)})

    def measure(self, artifacts, threads, batch, preset):
        results = super().measure(artifacts, threads, batch, preset)
        for r in results:
            r.info["profile"] = f"browser-{threads}t"
        return results


@register_backend
class NotInstalled(Backend):
    name, form = "not-installed", "onnx"

    def missing(self) -> str | None:
        return "notaruntime is not installed (pip install notaruntime)"


def test_registry_lists_builtins_without_importing_runtimes():
    names = list_backends()
    assert {"torch", "ort", "openvino", "fake-remote"} <= set(names)
    assert get_backend("ort").form == "onnx" and get_backend("torch").form == "checkpoint"


def test_unknown_backend_is_a_config_error():
    with pytest.raises(ConfigError, match="unknown backend"):
        get_backend("tensorflow")


def test_out_of_process_samples_get_the_same_statistics(vgg_pair_onnx, tmp_path):
    base, pruned = vgg_pair_onnx
    same = shutil.copy(base, tmp_path / "same.onnx")
    rep = bench([pruned, same], baseline=base, backends=["fake-remote", "not-installed"], profiles="lowpower",
                threads=[3], claim=2.0, device="user@board", memory=False)
    by = {(r.backend, r.variant): r for r in rep.rows}
    fast = by["fake-remote", "pruned"]
    assert fast.ok and fast.samples == 48 and fast.init_ms == 5.0 and fast.runtime["runner"] == "fake"
    assert 2.7 < fast.speedup_ci_low <= fast.speedup_vs_baseline <= fast.speedup_ci_high < 3.3
    assert fast.macs_ratio == pytest.approx(16, rel=0.15)
    assert FakeRemote.seen == {"threads": 3, "batch": 1, "preset": "quick", "device": "user@board"}
    bad = by["not-installed", "pruned"]
    assert not bad.ok and "not installed" in bad.reason
    verdicts = {(c.backend, c.variant): c.passed for c in rep.claims}
    assert verdicts[("fake-remote", "pruned")] and not verdicts[("fake-remote", "same")]
    assert rep.claim_passed is False


def test_claim_on_restricts_the_scope(vgg_pair_onnx):
    base, pruned = vgg_pair_onnx
    rep = bench([pruned], baseline=base, backends=["fake-remote", "not-installed"], claim=2.0,
                claim_on="fake-remote:desktop", memory=False)
    assert [c.backend for c in rep.claims] == ["fake-remote"] and rep.claim_passed is True


def test_out_of_process_backend_picks_threads_and_names_profiles(vgg_pair_onnx):
    base, pruned = vgg_pair_onnx
    rep = bench([pruned], baseline=base, backends="fake-browser", profiles="desktop,lowpower", threads=[2, 4],
                claim=2.0, claim_on="fake-browser:browser-4t", memory=False)
    assert sorted({(r.profile, r.threads) for r in rep.rows}) == [("browser-1t", 1), ("browser-4t", 4)]
    assert [(c.profile, c.passed) for c in rep.claims] == [("browser-4t", True)]


def test_runtime_backends_load_without_torch():
    """The memory workers measure onnxruntime/OpenVINO alone: importing them must not pull in torch."""
    import subprocess
    import sys

    code = ("import sys; from edgeprune.bench.backends import get_backend; import edgeprune.bench.memory; "
            "import edgeprune.export.runtime; [get_backend(n) for n in ('ort', 'openvino')]; "
            "print(sorted(m for m in ('torch', 'torchvision') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
