"""The report of a small finished run: every table, the verdict sentence, every figure."""

from __future__ import annotations

import dataclasses
import json

import pytest

from edgeprune.cli import main


def test_report_has_every_table_and_figure(interrupted_then_resumed):
    out = interrupted_then_resumed["out"]
    md = (out / "report.md").read_text()
    for heading in ("## Verdict", "## Recommendation per target", "## Models (the papers' table)", "## Edge table",
                    "## Figures", "### Every variant against the claim"):
        assert heading in md
    for column in ("TPR", "TNR", "FPR", "FNR", "params", "MACs", "ONNX", "pruned params", "near-zero"):
        assert column in md
    for column in ("p50 ms", "p90 ms", "speedup [95% CI]", "fewer MACs", "efficiency"):
        assert column in md
    rep = json.loads((out / "report.json").read_text())
    assert {m["model"] for m in rep["models"]} == {"VGG", "A", "B"}
    base = next(m for m in rep["models"] if m["model"] == "VGG")
    a = next(m for m in rep["models"] if m["model"] == "A")
    assert base["pruned_ratio"] == 0.0 and 0.0 < a["pruned_ratio"] < 1.0
    assert a["macs_ratio"] > 1.5  # target_macs 0.5
    assert 0.0 <= a["near_zero"] <= 1.0 and abs(a["tpr"] + a["fnr"] - 1) < 1e-9
    # the verdict is one sentence with the numbers and the word holds / does not hold
    verdict = rep["summary"]["verdict"]
    assert verdict.startswith(rep["summary"]["best"] + ":") and "x faster on onnxruntime lowpower" in verdict
    assert verdict.endswith(("holds.", "does not hold."))
    assert verdict in md
    # every figure the issue asks for exists, is a PNG and is linked from the report
    for key in ("loss", "confusion", "filters", "predictions", "p50", "pareto", "pareto_latency"):
        path = out / rep["figures"][key]
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 5000
        assert f"]({rep['figures'][key]})" in md
    lowpower = rep["summary"]["recommendations"]["lowpower-ort"]
    assert lowpower["variant"] in {"VGG", "A", "B"} and lowpower["backend"] == "ort"


def test_only_report_rerenders_from_existing_artifacts(finished_run, tiny_recipe, capsys):
    out = finished_run
    before = json.loads((out / "manifest.json").read_text())["stages"]["report"]["runs"]
    (out / "report.md").unlink()
    assert main(["pipeline", str(tiny_recipe), "--out", str(out), "--only", "report"]) == 0
    assert (out / "report.md").exists()
    m = json.loads((out / "manifest.json").read_text())
    assert m["stages"]["report"]["runs"] == before + 1 and m["stages"]["train"]["runs"] == 1
    assert f"report: {out / 'report.md'}" in capsys.readouterr().out


def test_only_on_an_empty_run_directory_says_what_is_missing(tiny_recipe, tmp_path, capsys):
    assert main(["pipeline", str(tiny_recipe), "--out", str(tmp_path / "empty"), "--only", "report"]) == 2
    assert "has not run" in capsys.readouterr().err


def test_claim_table_needs_speed_and_accuracy():
    from edgeprune.report.tables import claim_table

    evals = {"base": {"accuracy": 1.0}, "fast_bad": {"accuracy": 0.89}, "slow_ok": {"accuracy": 1.0}}
    check = {"where": "onnxruntime lowpower 1 thread", "backend": "ort", "profile": "lowpower"}
    checks = {"fast_bad": [{**check, "speedup": 9.0, "low": 8.9, "high": 9.1, "holds": True}],
              "slow_ok": [{**check, "speedup": 2.0, "low": 1.9, "high": 2.1, "holds": False}]}
    table = claim_table(checks, evals, "base", 3.0, 1.5)
    assert "| fast_bad | onnxruntime lowpower 1 thread | 9.00x | [8.90, 9.10] | −11.0 pt | does not hold: too inaccurate |" in table
    assert "| slow_ok | onnxruntime lowpower 1 thread | 2.00x | [1.90, 2.10] | 0.0 pt | does not hold: too slow |" in table


def test_report_prints_every_accuracy_with_its_interval_and_paired_difference(interrupted_then_resumed):
    out = interrupted_then_resumed["out"]
    md = (out / "report.md").read_text()
    rep = json.loads((out / "report.json").read_text())
    assert "## Accuracy" in md and "95% Wilson" in md and "exact McNemar" in md
    rows = {r["model"]: r for r in rep["accuracy"]}
    evals = {n: json.loads((out / "models" / n / "eval.json").read_text()) for n in ("VGG", "A", "B")}
    for name, e in evals.items():
        assert len(e["test_pred"]) == len(e["test_true"]) == e["n"]
        assert sum(p == t for p, t in zip(e["test_pred"], e["test_true"], strict=True)) == round(e["accuracy"] * e["n"])
        assert rows[name]["interval"] in md  # e.g. "96.3% [93.5, 97.9]" in the accuracy and papers' tables
    d = rows["A"]["vs_base"][0]
    assert d["diff"] == pytest.approx(evals["A"]["accuracy"] - evals["VGG"]["accuracy"])
    assert d["low"] <= d["diff"] <= d["high"] and rows["A"]["vs_base_text"] in md
    assert rep["rules"]["claim_accuracy"] in md and rep["rules"]["recommendation"] in md
    assert "### Every two pruned variants, paired on the same images" not in md or "row − column" in md


def _eval(pred, true, macs=100, method="obd"):
    acc = sum(p == t for p, t in zip(pred, true, strict=True)) / len(true)
    return {"accuracy": acc, "n": len(true), "macs": macs, "test_pred": pred, "test_true": true,
            "provenance": {"method": method}}


def test_recommendation_says_when_it_is_within_noise_of_random_and_names_ties():
    from types import SimpleNamespace

    from edgeprune.report.analysis import recommend
    from edgeprune.report.tables import recommendation_lines

    true = [i % 10 for i in range(200)]
    wrong = [(t + 1) % 10 for t in true]
    evals = {"VGG": _eval(true, true, 1000, "trained"),
             "obd": _eval(true[:190] + wrong[190:], true),  # 95%
             "random": _eval(true[:188] + wrong[188:], true, method="random"),  # 94%: 2 discordant images, noise
             "bad": _eval(true[:100] + wrong[100:], true, method="magnitude")}  # 50%: beyond the bound
    from edgeprune.bench.rows import BenchRow

    def row(name: str, p50: float) -> BenchRow:
        return BenchRow(model=f"{name}.onnx", variant=name, format="onnx", precision="fp32", backend="ort",
                        backend_version="1", profile="lowpower", threads=1, p50_ms=p50, speedup_vs_baseline=9.0)

    rows = [row("VGG", 1.0), row("obd", 0.10), row("random", 0.11), row("bad", 0.01)]
    recipe = SimpleNamespace(base="VGG", claim=SimpleNamespace(max_accuracy_drop=6.0))
    rec = recommend(rows, evals, recipe)["lowpower-ort"]
    assert rec["variant"] == "obd"  # the fastest within the bound: "bad" is faster but 50 points worse
    assert rec["ties"] == ["random"] and rec["random"][0] == "random"
    line = recommendation_lines({"lowpower-ort": rec})[0]
    assert "within noise of random pruning" in line and "Tied in accuracy" in line and "random" in line
    # a criterion that beats random beyond noise is recommended without the warning
    evals["random"] = _eval(true[:150] + wrong[150:], true, method="random")  # 75%: 40 discordant images
    recipe.claim.max_accuracy_drop = 30.0
    rec = recommend(rows, evals, recipe)["lowpower-ort"]
    assert rec["variant"] == "obd" and rec["random"] is None and rec["ties"] == []


def test_ranking_marks_ties_with_the_best_and_the_random_baseline():
    from edgeprune.report.accuracy import pairwise, ranking
    from edgeprune.report.tables import pairwise_table, ranking_lines

    true = [i % 10 for i in range(300)]
    wrong = [(t + 1) % 10 for t in true]
    evals = {"VGG": _eval(true, true, 1000, "trained"), "obd": _eval(true[:290] + wrong[290:], true),
             "taylor": _eval(true[:288] + wrong[288:], true, method="taylor"),
             "random": _eval(true[:200] + wrong[200:], true, method="random")}
    rank = ranking(evals, "VGG")
    assert [r["model"] for r in rank] == ["obd", "taylor", "random"]
    assert rank[0]["best"] and rank[1]["tied_with_best"] and not rank[2]["tied_with_best"]
    assert rank[0]["vs_random"]["random"]["distinguishable"] is True
    lines = ranking_lines(rank)
    assert lines[1].startswith("2. **taylor** 96.0% — tied with the best: −0.7 pt")
    table = pairwise_table(pairwise(evals, "VGG"))
    assert "| obd | · | +0.7 | +30.0* |" in table and "| random | −30.0* | −29.3* | · |" in table


def test_bench_measured_the_files_export_verified(interrupted_then_resumed):
    """Every number describes the shipped file: bench rows carry the sha256 of export's parity-checked ONNX."""
    from edgeprune.fileio import sha256_file

    out = interrupted_then_resumed["out"]
    rows = json.loads((out / "bench" / "bench.json").read_text())["rows"]
    rep = json.loads((out / "report.json").read_text())
    sizes = {m["model"]: m["onnx_bytes"] for m in rep["models"]}
    for name in ("VGG", "A", "B"):
        manifest = json.loads((out / "export" / name / "export.json").read_text())
        sim = next(f for f in manifest["files"] if f["path"] == "model.sim.onnx")
        assert any(p["artifact"] == "model.sim.onnx" and p["passed"] for p in manifest["parity"])
        measured = [r for r in rows if r["model"] == str(out / "models" / name / "model.safetensors")
                    and r["backend"] == "ort" and r["status"] == "ok"]
        assert measured, name
        for r in measured:
            assert r["artifact"] == str(out / "export" / name / "model.sim.onnx")
            assert r["sha256"] == sim["sha256"] == sha256_file(out / "export" / name / "model.sim.onnx")
            assert r["size_bytes"] == sim["bytes"]
        assert sizes[name] == sim["bytes"] == (out / "export" / name / "model.sim.onnx").stat().st_size
    assert not (out / "bench" / "cache").exists() or not any((out / "bench" / "cache").rglob("*.onnx"))


def test_the_latency_pareto_has_a_panel_per_runtime_the_bench_measured(interrupted_then_resumed, tiny_recipe):
    """One panel per (backend, profile, threads) in bench.json, each with every model timed there, its accuracy the
    one eval.json states; the figure is linked from report.md under its caption."""
    from edgeprune.recipe import load_recipe
    from edgeprune.report import target_kinds
    from edgeprune.report.analysis import load_bench, load_evals
    from edgeprune.report.figures import latency_panels

    out = interrupted_then_resumed["out"]
    recipe = load_recipe(tiny_recipe)
    rows = load_bench(out).rows
    evals = load_evals(out, recipe.names())
    panels = latency_panels(rows, evals, target_kinds(recipe))
    assert [(p.backend, p.profile, p.threads) for p in panels] == sorted({r.key for r in rows if r.ok})
    for panel in panels:
        assert sorted(p.model for p in panel.points) == sorted(
            r.variant for r in rows if r.ok and r.key == (panel.backend, panel.profile, panel.threads))
        for p in panel.points:
            assert p.accuracy == evals[p.model]["accuracy"] and p.low <= p.accuracy <= p.high
        assert {p.kind for p in panel.points} == {"base", "macs", "other"}  # VGG, A (target_macs), B (retrained)
        assert panel.front and set(panel.front) <= {p.model for p in panel.points}
    md = (out / "report.md").read_text()
    assert "### Accuracy vs measured p50 latency, one panel per runtime" in md
    assert "](figures/pareto_latency.png)" in md


def test_the_latency_pareto_front_and_markers_follow_the_measurements(tmp_path):
    """Two runtimes make two panels; the front keeps each model faster and more accurate than all others."""
    from edgeprune.bench.rows import BenchRow
    from edgeprune.report.figures import latency_panels, pareto_latency

    def row(variant, backend, threads, p50):
        return BenchRow(model=variant, variant=variant, format="onnx", precision="fp32", backend=backend,
                        backend_version="1", profile="desktop", threads=threads, p50_ms=p50)

    evals = {"VGG": {"accuracy": 0.90, "n": 1000}, "macs": {"accuracy": 0.85, "n": 1000},
             "fast": {"accuracy": 0.88, "n": 1000}, "fast-int8": {"accuracy": 0.80, "n": 1000}}
    kinds = {"VGG": "base", "macs": "macs", "fast": "speedup"}
    rows = [row("VGG", "ort", 2, 3.0), row("macs", "ort", 2, 1.0), row("fast", "ort", 2, 0.9),
            row("fast-int8", "ort", 2, 0.5), row("VGG", "openvino", 2, 2.0), row("fast", "openvino", 2, 2.5),
            dataclasses.replace(row("macs", "openvino", 2, None), status="error", reason="boom")]
    panels = latency_panels(rows, evals, kinds)
    assert [(p.backend, p.threads) for p in panels] == [("openvino", 2), ("ort", 2)]
    ov, ort = panels
    assert {p.model: p.kind for p in ort.points} == {"VGG": "base", "macs": "macs", "fast": "speedup",
                                                      "fast-int8": "speedup"}
    assert ort.front == ["fast-int8", "fast", "VGG"]  # macs is slower and less accurate than fast
    assert [p.model for p in ov.points] == ["VGG", "fast"] and ov.front == ["VGG"]  # a failed row is no point
    path = pareto_latency(panels, tmp_path / "p.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
