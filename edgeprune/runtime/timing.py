"""The timing protocol every backend shares, and the summary statistics of its samples.

Standard library and numpy only, nothing from edgeprune: the device bundle ships this file
verbatim, so a board runs the very same protocol and prints the same JSON as the desktop.

Protocol (per group of models measured together, e.g. a baseline and its pruned candidates):
1. load time (measured by the caller, passed in as ``init_ms``);
2. first inference, timed alone (``first_ms``: lazy allocation, kernel selection);
3. warm-up until ``warmup_runs`` runs or ``warmup_s`` seconds, whichever comes first;
4. timed rounds: in each round every model first runs untimed inferences (``switch_runs`` and at
   least ``switch_s`` seconds), then timed ones (``per_round`` and at least 1/``min_rounds`` of
   ``min_time_s``), the order rotating by one each round (A B C, B C A, ...), so drift and
   neighbours' load hit all models alike; rounds continue until every model has ``min_runs``
   samples, ``min_rounds`` rounds are done and ``min_time_s`` seconds per model have passed (or
   ``max_time_s`` per model, a safety cap). The untimed runs matter with several threads: the model
   that just ran leaves its thread pool spinning (onnxruntime, OpenMP) and steals cores from the
   next one. Measured here with ten onnxruntime sessions on 2 threads, the dense model ran 2x
   slower than alone after 3 untimed runs or 10 ms of them, and as fast as alone after 30 ms.
Each inference is timed with ``time.perf_counter_ns``; raw samples stay grouped by round.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

__all__ = ["PRESETS", "Preset", "RawResult", "measure_interleaved", "percentile", "round_medians", "summarize"]


@dataclasses.dataclass(frozen=True)
class Preset:
    """How long to warm up and measure."""

    name: str = "quick"
    warmup_runs: int = 10
    warmup_s: float = 1.0
    min_runs: int = 50
    min_rounds: int = 10
    min_time_s: float = 1.0
    max_time_s: float = 30.0
    switch_runs: int = 3
    switch_s: float = 0.03

    def __post_init__(self) -> None:
        if self.min_runs < 1 or self.min_rounds < 1 or self.warmup_runs < 0 or self.switch_runs < 0:
            raise ValueError(f"preset {self.name}: runs and rounds must be positive")
        if self.min_time_s < 0 or self.max_time_s <= 0 or self.warmup_s < 0 or self.switch_s < 0:
            raise ValueError(f"preset {self.name}: times must be non-negative")

    @property
    def per_round(self) -> int:
        """Inferences per model per round."""
        return max(1, math.ceil(self.min_runs / self.min_rounds))

    def to_dict(self) -> dict[str, Any]:
        """Plain dict (for the JSON header)."""
        return dataclasses.asdict(self)


PRESETS: dict[str, Preset] = {
    "quick": Preset("quick", warmup_runs=10, warmup_s=1.0, min_runs=60, min_rounds=12, min_time_s=1.0, max_time_s=30.0),
    "full": Preset("full", warmup_runs=20, warmup_s=2.0, min_runs=300, min_rounds=30, min_time_s=5.0, max_time_s=120.0),
}


@dataclasses.dataclass
class RawResult:
    """What one model yields under the protocol: load and first times, and samples per round (ms)."""

    name: str
    init_ms: float | None = None
    first_ms: float | None = None
    rounds: list[list[float]] = dataclasses.field(default_factory=list)
    info: dict[str, Any] = dataclasses.field(default_factory=dict)
    error: str | None = None

    @property
    def samples(self) -> list[float]:
        """All timed samples, flattened in time order."""
        return [s for r in self.rounds for s in r]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> RawResult:
        """Inverse of ``to_dict`` (ignores unknown keys)."""
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in names})


def _ms(ns: int) -> float:
    return ns / 1e6


def _time_once(run: Callable[[], Any]) -> float:
    t0 = time.perf_counter_ns()
    run()
    return _ms(time.perf_counter_ns() - t0)


def _settle(run: Callable[[], Any], preset: Preset) -> None:
    """Untimed runs (at least ``switch_runs`` and ``switch_s`` seconds) before a model's turn."""
    t0, n = time.perf_counter(), 0
    while n < preset.switch_runs or time.perf_counter() - t0 < preset.switch_s:
        run()
        n += 1


def _timed_turn(run: Callable[[], Any], preset: Preset) -> list[float]:
    """A model's timed samples in one round: ``per_round`` runs and at least 1/min_rounds of ``min_time_s``."""
    budget_ms, times = preset.min_time_s * 1e3 / preset.min_rounds, []
    while len(times) < preset.per_round or sum(times) < budget_ms:
        times.append(_time_once(run))
    return times


def measure_interleaved(runs: Sequence[tuple[str, Callable[[], Any], float | None]], preset: Preset,
                        on_round: Callable[[int], None] | None = None) -> list[RawResult]:
    """Run the protocol on ``(name, run, init_ms)`` triples, interleaved in rounds; one RawResult each."""
    results = [RawResult(name, init_ms) for name, _, init_ms in runs]
    live = []
    for (_, run, _), res in zip(runs, results):  # noqa: B905 (strict= needs Python 3.10; devices run 3.9)
        try:
            res.first_ms = _time_once(run)
            t0, n = time.perf_counter(), 0
            while n < preset.warmup_runs and time.perf_counter() - t0 < preset.warmup_s:
                run()
                n += 1
            live.append((run, res))
        except Exception as e:  # a runtime failing mid-way is a result, not a crash
            res.error = f"{type(e).__name__}: {e}"
    if not live:
        return results
    k, spent, r = preset.per_round, [0.0] * len(live), 0
    while True:
        order = [(i + r) % len(live) for i in range(len(live))]
        for i in order:
            run, res = live[i]
            if res.error is not None:
                continue
            try:
                if len(live) > 1:
                    _settle(run, preset)
                times = _timed_turn(run, preset)
            except Exception as e:  # failing in round r: an error result, the others go on
                res.error = f"{type(e).__name__} in timed round {r + 1}: {e}"
                continue
            res.rounds.append(times)
            spent[i] += sum(times)
        r += 1
        if on_round:
            on_round(r)
        alive = [spent[i] for i, (_, res) in enumerate(live) if res.error is None]
        if not alive:
            return results
        done = r >= preset.min_rounds and r * k >= preset.min_runs and min(alive) >= preset.min_time_s * 1e3
        capped = r >= 3 and max(alive) >= preset.max_time_s * 1e3
        if done or capped:
            return results


def percentile(samples: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100) with linear interpolation (numpy's default)."""
    return float(np.percentile(np.asarray(samples, dtype=float), q))


def round_medians(rounds: Sequence[Sequence[float]]) -> np.ndarray:
    """The median of each round (what the bootstrap resamples)."""
    return np.array([float(np.median(r)) for r in rounds if len(r)], dtype=float)


def summarize(samples: Sequence[float], batch: int = 1) -> dict[str, float | int | None]:
    """p50 (primary), p90, p99, mean, std, CV, min, max in ms, and FPS (images/s at the median)."""
    a = np.asarray(samples, dtype=float)
    if a.size == 0:
        return {k: None for k in ("p50_ms", "p90_ms", "p99_ms", "mean_ms", "std_ms", "cv", "min_ms", "max_ms", "fps")} \
            | {"samples": 0}
    p50 = float(np.percentile(a, 50))
    mean = float(a.mean())
    std = float(a.std(ddof=1)) if a.size > 1 else 0.0
    return {
        "p50_ms": p50,
        "p90_ms": float(np.percentile(a, 90)),
        "p99_ms": float(np.percentile(a, 99)),
        "mean_ms": mean,
        "std_ms": std,
        "cv": std / mean if mean > 0 else None,
        "min_ms": float(a.min()),
        "max_ms": float(a.max()),
        "fps": batch * 1e3 / p50 if p50 > 0 else None,
        "samples": int(a.size),
    }
