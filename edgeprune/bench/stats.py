"""Comparison statistics: speedup as a ratio of medians with a bootstrap interval over rounds.

Summary statistics of one sample set live in :mod:`edgeprune.runtime.timing` (shipped to devices);
they are re-exported here so callers have one place to look.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np

from edgeprune.runtime.timing import percentile, round_medians, summarize

__all__ = ["Speedup", "percentile", "ratio_ci", "round_medians", "speedup", "summarize"]


@dataclasses.dataclass(frozen=True)
class Speedup:
    """baseline median / candidate median, with a 95% (by default) bootstrap interval."""

    ratio: float
    ci_low: float
    ci_high: float


def ratio_ci(base: Sequence[float], cand: Sequence[float], *, n_boot: int = 4000, level: float = 0.95,
             seed: int = 0, paired: bool = True) -> Speedup:
    """median(base) / median(cand) with a percentile-bootstrap interval.

    ``base`` and ``cand`` are per-round medians; with ``paired`` (rounds measured side by side, the
    interleaved protocol) the same round indices are drawn for both, which keeps shared drift out of
    the interval. Unpaired (or unequal lengths) resamples each independently.
    """
    b, c = np.asarray(base, dtype=float), np.asarray(cand, dtype=float)
    if b.size == 0 or c.size == 0:
        raise ValueError("ratio_ci needs samples on both sides")
    point = float(np.median(b) / np.median(c))
    rng = np.random.default_rng(seed)
    if paired and b.size == c.size:
        idx = rng.integers(0, b.size, size=(n_boot, b.size))
        boots = np.median(b[idx], axis=1) / np.median(c[idx], axis=1)
    else:
        boots = (np.median(b[rng.integers(0, b.size, size=(n_boot, b.size))], axis=1)
                 / np.median(c[rng.integers(0, c.size, size=(n_boot, c.size))], axis=1))
    alpha = (1 - level) / 2
    lo, hi = np.quantile(boots, [alpha, 1 - alpha])
    return Speedup(point, float(lo), float(hi))


def speedup(base_rounds: Sequence[Sequence[float]], cand_rounds: Sequence[Sequence[float]], **kw) -> Speedup:
    """Speedup of a candidate over the baseline from their raw rounds (same protocol, interleaved)."""
    return ratio_ci(round_medians(base_rounds), round_medians(cand_rounds), **kw)
