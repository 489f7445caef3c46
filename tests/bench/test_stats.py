"""Statistics on synthetic samples with known answers."""

from __future__ import annotations

import numpy as np
import pytest

from edgeprune.bench.stats import ratio_ci, speedup
from edgeprune.runtime.timing import percentile, round_medians, summarize


def test_percentiles_of_1_to_100():
    xs = list(range(1, 101))
    assert percentile(xs, 50) == pytest.approx(50.5)
    assert percentile(xs, 90) == pytest.approx(90.1)
    assert percentile(xs, 99) == pytest.approx(99.01)


def test_summary_known_values():
    s = summarize([1.0, 2.0, 3.0, 4.0], batch=2)
    assert s["p50_ms"] == 2.5 and s["min_ms"] == 1.0 and s["max_ms"] == 4.0 and s["samples"] == 4
    assert s["mean_ms"] == 2.5
    assert s["std_ms"] == pytest.approx(np.std([1, 2, 3, 4], ddof=1))
    assert s["cv"] == pytest.approx(s["std_ms"] / 2.5)
    assert s["fps"] == pytest.approx(2 * 1000 / 2.5)


def test_summary_of_nothing_is_empty_not_an_error():
    assert summarize([])["p50_ms"] is None


def test_round_medians():
    assert list(round_medians([[1, 2, 3], [10, 20, 30, 40]])) == [2.0, 25.0]


def test_ratio_of_exact_samples_is_exact():
    s = ratio_ci([6.0] * 10, [2.0] * 10)
    assert (s.ratio, s.ci_low, s.ci_high) == (3.0, 3.0, 3.0)


def test_bootstrap_interval_covers_a_known_ratio():
    """Over 200 synthetic experiments with a true ratio of 2, the 95% interval covers 2 about 95% of the time."""
    rng = np.random.default_rng(42)
    hits, widths, unpaired = 0, [], []
    for _ in range(200):
        drift = rng.lognormal(0, 0.2, 20)  # shared per-round drift: what interleaving cancels
        base = 4.0 * drift * rng.lognormal(0, 0.1, 20)
        cand = 2.0 * drift * rng.lognormal(0, 0.1, 20)
        s = ratio_ci(base, cand, n_boot=1000, seed=int(rng.integers(1 << 30)))
        hits += s.ci_low <= 2.0 <= s.ci_high
        widths.append(s.ci_high - s.ci_low)
        u = ratio_ci(base, cand, n_boot=1000, paired=False)
        unpaired.append(u.ci_high - u.ci_low)
    assert 0.88 <= hits / 200 <= 0.995
    assert np.median(widths) < np.median(unpaired)  # pairing keeps some of the shared drift out


def test_speedup_from_rounds():
    s = speedup([[3.0, 3.1, 2.9]] * 10, [[1.0, 1.02, 0.98]] * 10)
    assert s.ratio == pytest.approx(3.0)
    assert s.ci_low == pytest.approx(3.0)


def test_empty_side_is_an_error():
    with pytest.raises(ValueError):
        ratio_ci([], [1.0])
