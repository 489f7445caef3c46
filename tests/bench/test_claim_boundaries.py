"""The claim check at its boundaries, on BenchRows built by hand (no timing involved).

The documented rule (edgeprune/bench/claims.py): every candidate row in scope must have a measured
95% interval whose LOWER bound reaches the claim (>=); a row in scope without one fails; rows out of
the --claim-on scope and baseline rows are not checked.
"""

from __future__ import annotations

import math

import pytest

from edgeprune.bench.claims import check_claims
from edgeprune.bench.rows import BenchReport, BenchRow


def row(variant="pruned", backend="ort", profile="desktop", threads=1, *, role="candidate", status="ok",
        speedup=None, low=None, high=None, reason=None) -> BenchRow:
    return BenchRow(model=f"{variant}.onnx", variant=variant, format="onnx", precision="fp32", backend=backend,
                    backend_version="1", profile=profile, threads=threads, role=role, status=status, reason=reason,
                    speedup_vs_baseline=speedup, speedup_ci_low=low, speedup_ci_high=high)


def verdicts(rows, claim=3.0, claim_on=None):
    return {(c.variant, c.backend, c.profile, c.threads): c for c in check_claims(rows, claim, claim_on)}


def test_point_estimate_above_but_lower_bound_below_fails():
    (c,) = verdicts([row(speedup=3.4, low=2.9, high=3.9)]).values()
    assert c.passed is False
    assert c.line.startswith("FAIL ") and "3.40x" in c.line and "[95% CI 2.90, 3.90]" in c.line and "< 3x" in c.line
    assert (c.speedup, c.ci_low, c.ci_high, c.claim) == (3.4, 2.9, 3.9, 3.0)


@pytest.mark.parametrize("low,passed", [(3.0, True), (math.nextafter(3.0, 0.0), False), (math.nextafter(3.0, 9.0), True),
                                        (float("nan"), False)])
def test_lower_bound_equal_to_the_claim_passes_just_below_fails(low, passed):
    (c,) = verdicts([row(speedup=3.5, low=low, high=4.0)]).values()
    assert c.passed is passed
    assert c.line.startswith("PASS " if passed else "FAIL ")


@pytest.mark.parametrize("kw,why", [
    ({"status": "error", "reason": "onnxruntime crashed", "speedup": 5.0, "low": 4.0, "high": 6.0}, "onnxruntime crashed"),
    ({"status": "ok", "speedup": 5.0}, "no baseline measured"),  # measured but no interval
    ({"status": "ok"}, "no baseline measured"),
    ({"status": "error"}, "no baseline measured"),
])
def test_unmeasured_or_failed_row_in_scope_fails(kw, why):
    (c,) = verdicts([row(**kw)]).values()
    assert c.passed is False
    assert c.line.startswith("FAIL ") and "not measured" in c.line and why in c.line
    # an error row's old figures are not shown as if they were a measurement
    assert "CI" not in c.line


def test_scope_and_baselines():
    rows = [
        row("base", role="baseline", speedup=1.0, low=1.0, high=1.0),  # never checked, even in scope
        row("pruned", "ort", "desktop", speedup=4.0, low=3.5, high=4.5),
        row("pruned", "ort", "lowpower", speedup=2.0, low=1.5, high=2.5),
        row("pruned", "openvino", "desktop", status="error", reason="no openvino"),
        row("base", "openvino", "desktop", role="baseline", status="error", reason="no openvino"),
    ]
    everything = verdicts(rows)  # no --claim-on: every candidate row
    assert set(everything) == {("pruned", "ort", "desktop", 1), ("pruned", "ort", "lowpower", 1),
                               ("pruned", "openvino", "desktop", 1)}
    assert [everything[k].passed for k in sorted(everything)] == [False, True, False]  # ov error, ort dt, ort lp
    only = verdicts(rows, claim_on="ort:desktop")
    assert list(only) == [("pruned", "ort", "desktop", 1)] and only[("pruned", "ort", "desktop", 1)].passed
    assert set(verdicts(rows, claim_on="ort")) == {("pruned", "ort", "desktop", 1), ("pruned", "ort", "lowpower", 1)}
    assert set(verdicts(rows, claim_on="*:desktop")) == {("pruned", "ort", "desktop", 1),
                                                         ("pruned", "openvino", "desktop", 1)}
    assert set(verdicts(rows, claim_on=["openvino"])) == {("pruned", "openvino", "desktop", 1)}
    assert verdicts(rows, claim_on="ort:browser-4t") == {}  # a scope that matches nothing checks nothing


def test_report_verdict_needs_every_check_and_at_least_one():
    def report(rows, claim=3.0, claim_on=None):
        return BenchReport(rows=rows, env={}, settings={"claim": claim}, claims=check_claims(rows, claim, claim_on))

    good = row(speedup=4.0, low=3.2, high=4.8)
    bad = row("other", speedup=4.0, low=2.8, high=5.2)
    assert report([good]).claim_passed is True
    assert report([good, bad]).claim_passed is False
    assert report([good], claim_on="openvino").claim_passed is False  # nothing in scope was measured: no proof
    assert report([row("base", role="baseline", speedup=1.0, low=1.0, high=1.0)]).claim_passed is False
    assert BenchReport(rows=[good], env={}, settings={}).claim_passed is None  # no claim asked
