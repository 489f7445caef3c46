"""One real ``edgeprune bench`` through a subprocess, and ``edgeprune env``."""

from __future__ import annotations

import json
import os
import subprocess
import sys


def _cli(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "EDGEPRUNE_QUIET": "1"}
    return subprocess.run([sys.executable, "-m", "edgeprune.cli", *args], capture_output=True, text=True, env=env,
                          timeout=300)


def test_bench_cli_claim_passes_for_the_pruned_model(vgg_pair_onnx, tmp_path, retry_timing):
    base, pruned = vgg_pair_onnx
    out = tmp_path / "out"

    def measure_and_check():  # the verdict (and so the exit code) rests on a measured speedup
        done = _cli("bench", str(base), str(pruned), "--baseline", str(base), "--backends", "ort", "--profile",
                    "lowpower", "--claim", "2.0", "--out", str(out))
        assert done.returncode == 0, done.stdout + done.stderr
        assert "PASS pruned on ort/lowpower/1t" in done.stdout

    retry_timing(measure_and_check)
    rows = json.loads((out / "bench.json").read_text())["rows"]
    assert all(r["status"] == "ok" and r["peak_rss_bytes"] > 10e6 for r in rows)
    peak = {r["variant"]: r["peak_rss_bytes"] for r in rows}
    assert peak["pruned"] < peak["base"]  # 15 MB vs 1 MB of weights: a fresh worker each, so no shared heap
    assert {"bench.json", "bench.md", "bench.png"} <= {p.name for p in out.iterdir()}


def test_bench_cli_user_error_is_one_line(tmp_path):
    done = _cli("bench", "x.onnx", "--claim", "2", "--out", str(tmp_path))
    assert done.returncode == 2 and "needs --baseline" in done.stderr and "Traceback" not in done.stderr


def test_env_cli_json():
    done = _cli("env", "--json")
    assert done.returncode == 0
    assert "cpu_flags" in json.loads(done.stdout)
