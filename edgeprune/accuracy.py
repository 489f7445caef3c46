"""Accuracy as a measurement: Wilson intervals, exact paired comparisons on the same test images, seed spread.

A test accuracy of k right out of n is printed with its 95% Wilson score interval. Two models scored
on the same test images are compared with the exact McNemar test: only the images where they disagree
carry information; conditional on their number m, the count where the second model alone is right is
Binomial(m, 1/2) when both are equally accurate. The difference's interval maps the Clopper-Pearson
interval of that binomial proportion onto accuracy points, so the interval excludes 0 exactly when the
two-sided (doubled smaller tail) p-value is below 1 - level: one rule, stated in the report.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np

LEVEL = 0.95
RULE = ("differences are paired on the same test images: exact McNemar test, 95% interval from the "
        "Clopper-Pearson interval of the discordant pairs; a difference is distinguishable from noise when "
        "its interval excludes 0 (p < 0.05)")


@dataclass(frozen=True)
class Accuracy:
    """k right out of n, with its Wilson score interval."""

    correct: int
    n: int
    value: float
    low: float
    high: float

    def text(self) -> str:
        """``91.2% [89.3, 92.8]`` (percent, 95% interval)."""
        return f"{100 * self.value:.1f}% [{100 * self.low:.1f}, {100 * self.high:.1f}]"

    def to_dict(self) -> dict:
        """Plain data for JSON."""
        return asdict(self)


@dataclass(frozen=True)
class Paired:
    """Accuracy of ``b`` minus accuracy of ``a`` on the same images, with its exact interval and p-value."""

    diff: float
    low: float
    high: float
    p_value: float
    b_only: int  # images only b gets right
    a_only: int  # images only a gets right
    n: int

    @property
    def distinguishable(self) -> bool:
        """True when the interval excludes 0: the difference is not noise at this level."""
        return self.low > 0 or self.high < 0

    def text(self) -> str:
        """``−0.4 pt [−1.1, +0.3]`` (percentage points)."""
        return f"{points(self.diff)} pt [{points(self.low)}, {points(self.high)}]"

    def to_dict(self) -> dict:
        """Plain data for JSON (with the verdict)."""
        return {**asdict(self), "distinguishable": self.distinguishable}


def points(x: float) -> str:
    """An accuracy difference (a fraction) in signed percentage points: ``+0.4``, ``−1.1``, ``0.0``."""
    v = round(100 * x, 1)
    return "0.0" if v == 0 else f"{'+' if v > 0 else '−'}{abs(v):.1f}"


def wilson(correct: int, n: int, level: float = LEVEL) -> Accuracy:
    """Accuracy ``correct / n`` with its Wilson score interval (sound near 0 and 1, unlike the normal one)."""
    from scipy.stats import norm

    if n <= 0:
        raise ValueError("an accuracy needs at least one test image")
    if not 0 <= correct <= n:
        raise ValueError(f"{correct} right out of {n} is impossible")
    z = float(norm.ppf(0.5 + level / 2))
    p = correct / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return Accuracy(correct, n, p, max(0.0, centre - half), min(1.0, centre + half))


def interval_text(value: float | None, n: int | None) -> str:
    """``91.2% [89.3, 92.8]`` for an accuracy measured on ``n`` images (``–`` when unmeasured)."""
    if value is None or not n:
        return "–"
    return wilson(round(value * n), n).text()


def accuracy_of(pred: Sequence[int], true: Sequence[int], level: float = LEVEL) -> Accuracy:
    """The Wilson-interval accuracy of predictions against labels."""
    p, t = np.asarray(pred), np.asarray(true)
    if p.shape != t.shape:
        raise ValueError(f"{p.shape[0] if p.ndim else 0} predictions for {t.shape[0] if t.ndim else 0} labels")
    return wilson(int((p == t).sum()), int(t.size), level)


def paired(a_correct: Sequence[bool], b_correct: Sequence[bool], level: float = LEVEL) -> Paired:
    """Exact McNemar comparison of two models right/wrong on the same images: accuracy(b) - accuracy(a)."""
    from scipy.stats import beta, binom

    a, b = np.asarray(a_correct, dtype=bool), np.asarray(b_correct, dtype=bool)
    if a.shape != b.shape or a.size == 0:
        raise ValueError(f"a paired comparison needs the same test images on both sides ({a.size} vs {b.size})")
    n = int(a.size)
    k = int((b & ~a).sum())
    m = k + int((a & ~b).sum())
    if m == 0:
        return Paired(0.0, 0.0, 0.0, 1.0, 0, 0, n)
    alpha = 1 - level
    lo = 0.0 if k == 0 else float(beta.ppf(alpha / 2, k, m - k + 1))
    hi = 1.0 if k == m else float(beta.ppf(1 - alpha / 2, k + 1, m - k))
    p = min(1.0, 2 * min(float(binom.cdf(k, m, 0.5)), float(binom.sf(k - 1, m, 0.5))))
    scale = m / n
    return Paired((2 * k - m) / n, scale * (2 * lo - 1), scale * (2 * hi - 1), p, k, m - k, n)


def paired_predictions(pred_a: Sequence[int], pred_b: Sequence[int], true: Sequence[int],
                       level: float = LEVEL) -> Paired:
    """:func:`paired` from two models' predicted classes and the labels of the same images."""
    t = np.asarray(true)
    return paired(np.asarray(pred_a) == t, np.asarray(pred_b) == t, level)


@dataclass(frozen=True)
class Spread:
    """Mean and sample standard deviation of one figure over seeds, and the values themselves."""

    mean: float
    sd: float
    values: tuple[float, ...]

    def text(self, scale: float = 100.0, digits: int = 1) -> str:
        """``90.3 ± 0.4`` (in percent by default); the sd is 0 for one seed."""
        return f"{scale * self.mean:.{digits}f} ± {scale * self.sd:.{digits}f}"


def spread(values: Sequence[float]) -> Spread:
    """Mean ± sample sd (ddof 1) over seeds."""
    v = np.asarray(values, dtype=float)
    if v.size == 0:
        raise ValueError("no values to aggregate")
    return Spread(float(v.mean()), float(v.std(ddof=1)) if v.size > 1 else 0.0, tuple(float(x) for x in v))
