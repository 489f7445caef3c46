"""The report of a small finished run: every table, the verdict sentence, every figure."""

from __future__ import annotations

import json

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
    for key in ("loss", "confusion", "filters", "predictions", "p50", "pareto"):
        path = out / rep["figures"][key]
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 5000
        assert f"]({rep['figures'][key]})" in md
    lowpower = rep["summary"]["recommendations"]["lowpower-ort"]
    assert lowpower["variant"] in {"VGG", "A", "B"} and lowpower["backend"] == "ort"


def test_only_report_rerenders_from_existing_artifacts(interrupted_then_resumed, tiny_recipe, capsys):
    out = interrupted_then_resumed["out"]
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
    assert "| fast_bad | onnxruntime lowpower 1 thread | 9.00x | [8.90, 9.10] | +11.0 | does not hold: too inaccurate |" in table
    assert "| slow_ok | onnxruntime lowpower 1 thread | 2.00x | [1.90, 2.10] | +0.0 | does not hold: too slow |" in table
