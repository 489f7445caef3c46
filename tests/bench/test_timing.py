"""The protocol: rounds, rotation, warm-up, failures as results; timing.py stays stdlib + numpy."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import edgeprune.runtime.timing as timing
from edgeprune.runtime.timing import Preset, RawResult, measure_interleaved


def test_timing_imports_only_stdlib_and_numpy():
    tree = ast.parse(Path(timing.__file__).read_text())
    roots = {(n.module or "").split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    roots |= {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    assert roots <= {"__future__", "dataclasses", "math", "time", "collections", "typing", "numpy"}


def test_interleaved_rounds_rotate_and_count():
    calls: list[str] = []
    runs = [(n, (lambda n=n: calls.append(n)), 1.0) for n in "ABC"]
    preset = Preset("t", warmup_runs=2, warmup_s=10, min_runs=6, min_rounds=3, min_time_s=0, max_time_s=10,
                    switch_runs=1, switch_s=0)
    res = measure_interleaved(runs, preset)
    assert [len(r.rounds) for r in res] == [3, 3, 3]
    assert all(len(x) == 2 for r in res for x in r.rounds)
    rounds = calls[3 * (1 + 2):]  # after first + warm-up of each; each turn: 1 untimed + 2 timed
    assert rounds == list("AAABBBCCC" "BBBCCCAAA" "CCCAAABBB")
    assert all(r.first_ms is not None and r.init_ms == 1.0 for r in res)


def test_a_lone_model_needs_no_switch_runs():
    calls: list[int] = []
    preset = Preset("t", warmup_runs=0, warmup_s=0, min_runs=4, min_rounds=2, min_time_s=0, max_time_s=10)
    res = measure_interleaved([("A", lambda: calls.append(1), None)], preset)
    assert len(calls) == 1 + 4 and len(res[0].samples) == 4


def test_a_failing_model_becomes_an_error_result():
    def boom():
        raise RuntimeError("kaput")

    res = measure_interleaved([("ok", lambda: None, None), ("bad", boom, None)],
                              Preset("t", 0, 0, 2, 2, 0, 1))
    assert res[0].error is None and len(res[0].samples) == 2
    assert "kaput" in res[1].error and res[1].samples == []


def test_raw_result_round_trips_through_json_dict():
    r = RawResult("m", 1.0, 2.0, [[1.0, 2.0]], {"k": 1})
    assert RawResult.from_dict({**r.to_dict(), "unknown": 0}) == r


def test_bad_preset():
    with pytest.raises(ValueError):
        Preset("x", min_runs=0)


def test_a_model_failing_in_a_timed_round_is_an_error_and_the_others_go_on():
    calls = {"n": 0}

    def flaky():
        calls["n"] += 1
        if calls["n"] > 3:  # the first run and two timed rounds pass
            raise RuntimeError("device lost")

    preset = Preset("t", warmup_runs=0, warmup_s=0, min_runs=4, min_rounds=4, min_time_s=0, max_time_s=10,
                    switch_runs=0, switch_s=0)
    ok, bad = measure_interleaved([("ok", lambda: None, None), ("bad", flaky, None)], preset)
    assert ok.error is None and len(ok.rounds) == 4
    assert "device lost" in bad.error and "timed round" in bad.error
