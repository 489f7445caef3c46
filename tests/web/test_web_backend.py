"""The ``web`` bench backend: real Chromium, baseline and candidate interleaved, logits checked, 1 and 2 threads."""

from __future__ import annotations

import pytest

from edgeprune.bench.backends import get_backend
from edgeprune.runtime.timing import Preset

SHORT = Preset("test", warmup_runs=3, warmup_s=0.5, min_runs=24, min_rounds=6, min_time_s=0.2, max_time_s=5.0)


@pytest.mark.browser
def test_measure_interleaves_and_checks_logits(need_browser, tiny_onnx, tiny_half_onnx):
    from edgeprune.bench.backends import Artifact

    web = get_backend("web")
    assert web.missing() is None and web.version().startswith("1.30.0 (wasm, Chromium")
    arts = [Artifact("dense", tiny_onnx, "onnx", (1, 32, 32)), Artifact("half", tiny_half_onnx, "onnx", (1, 32, 32))]
    for threads in web.thread_counts([2]):
        results = web.measure(arts, threads, 1, SHORT)
        assert [r.name for r in results] == ["dense", "half"]
        for r in results:
            assert r.error is None, r.error
            assert len(r.rounds) >= SHORT.min_rounds and all(len(x) >= SHORT.per_round for x in r.rounds)
            assert r.init_ms > 0 and r.first_ms > 0 and min(r.samples) > 0
            assert r.info["profile"] == f"browser-wasm-{threads}t" and r.info["threads"] == threads
            assert r.info["crossOriginIsolated"] is True and r.info["parity_max_abs"] <= 1e-4
            assert r.info["offsite_requests"] == [] and (r.info["workers"] >= 1) == (threads > 1)


def test_missing_browser_gives_error_rows_with_the_reason(tiny_onnx, tmp_path, monkeypatch):
    from edgeprune.bench import bench

    monkeypatch.setenv("EDGEPRUNE_CHROMIUM", str(tmp_path / "no-chromium"))
    report = bench([str(tiny_onnx)], backends="web", threads=[1], preset=SHORT)
    assert [r.status for r in report.rows] == ["error"]
    assert "Chromium not found" in report.rows[0].reason


@pytest.mark.browser
def test_cli_bench_web_reports_one_and_two_threads_with_speedups(need_browser, tiny_onnx, tiny_half_onnx, tmp_path,
                                                                 retry_timing):
    import json
    import subprocess
    import sys

    out = tmp_path / "b"
    cmd = [sys.executable, "-m", "edgeprune.cli", "bench", str(tiny_onnx), str(tiny_half_onnx), "--baseline",
           str(tiny_onnx), "--backends", "web", "--threads", "2", "--no-memory", "--out", str(out)]

    def measure_and_check():  # the speedups and their intervals come from measured samples
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, proc.stderr
        rows = json.loads((out / "bench.json").read_text())["rows"]
        assert sorted((r["profile"], r["role"]) for r in rows) == [
            ("browser-wasm-1t", "baseline"), ("browser-wasm-1t", "candidate"),
            ("browser-wasm-2t", "baseline"), ("browser-wasm-2t", "candidate")]
        for r in rows:
            assert r["status"] == "ok" and r["p50_ms"] > 0
            if r["role"] == "candidate":
                low, high = r["speedup_ci"]
                assert low <= r["speedup_vs_baseline"] <= high, r
        assert "browser-wasm-2t" in (out / "bench.md").read_text()

    retry_timing(measure_and_check)
