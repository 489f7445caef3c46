"""A speedup-targeted variant through the pipeline: added to a finished tiny run, it builds its latency table (in a
private cache), times each step's candidates, records prediction and measurement in prune.json, the report shows
them, and a rerun measures nothing.

Timings vary from run to run: nothing here asserts milliseconds or how fast; only that what was measured is
recorded, consistent, and reported as recorded.
"""

from __future__ import annotations

import json

import pytest

from edgeprune.cli import main

# A variant of the unpruned model aimed at a speedup on onnxruntime with one thread, added to the tiny recipe
# (no fine-tuning: the measurement is what is tested).
FAST = ("[export]", """[[variants]]
name = "fast"
method = "magnitude"
target_speedup = 1.5
on = "ort:1"
description = "aimed at 1.5x on onnxruntime, one thread"
[export]""")


def _row(md: str, name: str) -> list[str]:
    """The cells of the report.md table row of ``name`` under the speedup-targeted heading."""
    section = md.split("### Speedup-targeted variants: predicted and measured", 1)[1].split("\n## ", 1)[0]
    rows = [[c.strip() for c in line.strip().strip("|").split("|")] for line in section.splitlines()
            if line.startswith(f"| {name} |")]
    assert len(rows) == 1, section
    return rows[0]


@pytest.fixture
def speedup_run(finished_run, make_recipe, tmp_path, monkeypatch, short_timing):
    """The finished tiny run with the variant added and run (the others are up to date); a cache of its own."""
    cache = tmp_path / "cache"
    monkeypatch.setenv("EDGEPRUNE_CACHE", str(cache))
    recipe = make_recipe(FAST)
    assert main(["pipeline", str(recipe), "--out", str(finished_run)]) == 0
    return recipe, finished_run, cache


def test_a_speedup_variant_is_measured_recorded_reported_and_not_remeasured(speedup_run, capsys):
    recipe, out, cache = speedup_run
    stages = json.loads((out / "manifest.json").read_text())["stages"]
    assert stages["train"]["runs"] == 1 and stages["prune:A"]["runs"] == 1  # only the new variant was made
    prune = json.loads((out / "models" / "fast" / "prune.json").read_text())
    lat = prune["latency"]
    assert lat["on"] == "ort:1" and lat["predicted_speedup"] > 0
    assert lat["predicted_speedup"] == pytest.approx(lat["predicted_base_ms"] / lat["predicted_ms"])
    v = lat["verified"]
    assert v["on"] == "ort:1" and v["base_ms"] > 0 and v["pruned_ms"] > 0
    lo, hi = v["speedup_ci"]
    assert lo <= v["speedup"] <= hi
    assert len(list((cache / "latency").glob("ort-1-*.json"))) == 1  # the table went to the private cache

    # the report's row is prune.json's numbers, in report.md and report.json alike
    md = (out / "report.md").read_text()
    fewer = 1 / prune["after"]["macs"] * prune["before"]["macs"]
    assert _row(md, "fast") == [
        "fast", "ort:1", "1.5x", f"{lat['predicted_speedup']:.2f}x", f"{v['speedup']:.2f}x [{lo:.2f}, {hi:.2f}]",
        f"{prune['after']['macs'] / prune['before']['macs']:.1%}", f"{fewer:.2f}x", f"{v['speedup'] / fewer:.2f}"]
    rep = json.loads((out / "report.json").read_text())
    (row,) = rep["speedup_targets"]
    assert row["model"] == "fast" and row["speedup"] == v["speedup"] and row["speedup_ci"] == v["speedup_ci"]
    assert row["predicted_speedup"] == lat["predicted_speedup"] and row["efficiency"] == pytest.approx(v["speedup"] / fewer)
    # the latency Pareto figure has the variant on the runtime the bench timed
    assert "pareto_latency" in rep["figures"] and f"]({rep['figures']['pareto_latency']})" in md

    # a rerun is a no-op: no stage runs again, nothing is timed, prune.json and the table stay as they were
    before = json.loads((out / "manifest.json").read_text())["stages"]
    files = {p: p.stat().st_mtime_ns for p in [out / "models" / "fast" / "prune.json", *cache.rglob("*.json")]}
    capsys.readouterr()
    assert main(["pipeline", str(recipe), "--out", str(out)]) == 0
    err = capsys.readouterr().err
    after = json.loads((out / "manifest.json").read_text())["stages"]
    assert {n: s["runs"] for n, s in after.items()} == {n: s["runs"] for n, s in before.items()}
    assert "latency table" not in err and "candidate" not in err and "measured" not in err
    assert {p: p.stat().st_mtime_ns for p in files} == files
