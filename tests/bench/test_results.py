"""Typed results downstream: bench.json round-trips, the report reads it as BenchRows, one claim checker for both."""

from __future__ import annotations

import dataclasses
import json
from types import SimpleNamespace

import numpy as np
import pytest

from edgeprune.bench import BenchReport, BenchRow, bench
from edgeprune.bench.backends import Backend, RawResult, display_name, register_backend
from edgeprune.bench.claims import ClaimConfig, check_claims


@register_backend
class Synthetic(Backend):
    """Out of process, synthetic samples: 'pruned' is 4x faster than the base; 2 threads halve the time."""

    name, form, in_process = "synthetic", "onnx", False
    description = "synthetic samples for result tests"

    def version(self) -> str:
        return "0.1"

    def measure(self, artifacts, threads, batch, preset):
        rng = np.random.default_rng(threads)
        speed = {"base": 4.0, "pruned": 1.0}
        return [RawResult(a.name, 1.0, 2.0, [list(speed.get(a.name, 4.0) / threads * rng.lognormal(0, 0.02, 4))
                                            for _ in range(10)], {"seed": threads}) for a in artifacts]


@pytest.fixture(scope="module")
def measured(vgg_pair_onnx, tmp_path_factory):
    """A real bench of the pair (threads 1 and 2 on the synthetic backend), written to a run's bench/ folder."""
    base, pruned = vgg_pair_onnx
    root = tmp_path_factory.mktemp("run")
    rep = bench([pruned], baseline=base, backends="synthetic", profiles="lowpower", threads=[1, 2], claim=3.0,
                claim_on="synthetic:lowpower", out=root / "bench", memory=False)
    (root / "bench" / "labels.json").write_text(json.dumps({str(base): "VGG", str(pruned): "A"}))
    return root, rep


def test_bench_report_round_trips_through_bench_json(measured):
    root, rep = measured
    assert len(rep.rows) == 4 and all(r.ok for r in rep.rows) and rep.claims
    data = json.loads((root / "bench" / "bench.json").read_text())
    again = BenchReport.from_dict(data)
    assert again.rows == rep.rows and again.claims == rep.claims and again.settings == rep.settings
    assert again.to_dict() == data and again.claim_passed is rep.claim_passed is True
    with pytest.raises(ValueError, match="unknown key 'p50'"):
        BenchRow.from_dict({**data["rows"][0], "p50": 1.0})  # the report no longer guesses key names


def test_the_report_reads_bench_json_as_typed_rows(measured):
    from edgeprune.report.analysis import load_bench

    root, rep = measured
    loaded = load_bench(root)
    assert [r.variant for r in loaded.rows] == ["VGG", "A", "VGG", "A"]  # labels.json names the models
    assert [dataclasses.replace(r, variant=v.variant) for r, v in zip(loaded.rows, rep.rows, strict=True)] == rep.rows
    assert load_bench(root / "nothing-here").rows == []


def test_one_checker_gives_the_bench_and_the_report_the_same_verdict(measured):
    """The report's claim on (backend, profile) is the bench's checker with the fastest thread count."""
    from edgeprune.report.analysis import claim_checks, load_bench

    root, _ = measured
    rows = load_bench(root).rows
    claim = ClaimConfig(3.0, ["synthetic:lowpower"], thread_choice="fastest")
    (from_bench,) = check_claims(rows, claim)
    evals = {"VGG": {"macs": 100, "accuracy": 0.9}, "A": {"macs": 10, "accuracy": 0.9}}
    recipe = SimpleNamespace(base="VGG", claim=claim)
    (from_report,) = claim_checks(rows, evals, recipe)["A"]
    assert from_bench.threads == 2  # the fastest thread count is the one checked
    assert (from_report["holds"], from_report["speedup"], from_report["low"], from_report["high"],
            from_report["threads"]) == (from_bench.passed, from_bench.speedup, from_bench.ci_low, from_bench.ci_high, 2)
    assert from_bench.passed and from_report["where"] == "synthetic lowpower 2 threads"
    each = check_claims(rows, 3.0, "synthetic:lowpower")  # the bench's own default: every thread count
    assert [(c.variant, c.threads) for c in each] == [("A", 1), ("A", 2)]


def _row(variant, backend, profile, threads, p50, low, *, role="candidate", status="ok"):
    return BenchRow(model=f"{variant}.onnx", variant=variant, format="onnx", precision="fp32", backend=backend,
                    backend_version="1", profile=profile, threads=threads, role=role, status=status, p50_ms=p50,
                    speedup_vs_baseline=None if low is None else low + 0.2, speedup_ci_low=low,
                    speedup_ci_high=None if low is None else low + 0.4)


def test_fastest_picks_the_cpu_runtime_and_a_variant_without_rows_is_not_measured():
    rows = [_row("A", "ort", "desktop", 4, 1.0, 2.5), _row("A", "openvino", "desktop", 4, 0.5, 3.1),
            _row("A", "web", "desktop", 4, 0.1, 9.0),  # not a CPU runtime of this machine: never "fastest"
            _row("A", "openvino", "desktop", 1, 0.4, None, status="error")]
    claim = ClaimConfig(3.0, ["fastest:desktop", "ort:lowpower"], thread_choice="fastest")
    checks = check_claims(rows, claim, variants=["A", "B"])
    assert [(c.variant, c.asked, c.backend, c.threads, c.passed, c.measured) for c in checks] == [
        ("A", "fastest", "openvino", 4, True, True), ("A", "ort", "ort", None, False, False),
        ("B", "fastest", "fastest", None, False, False), ("B", "ort", "ort", None, False, False)]
    assert checks[1].line == "FAIL A on ort/lowpower: not measured (no row of it in scope)"


def test_display_names_live_with_the_backends():
    assert [display_name(n) for n in ("ort", "openvino", "torch", "web", "ssh", "synthetic", "gone")] == [
        "onnxruntime", "OpenVINO", "PyTorch", "onnxruntime-web", "ssh", "synthetic", "gone"]
