"""Accuracy intervals and paired comparisons against hand-computed cases."""

from __future__ import annotations

import math

import numpy as np
import pytest

from edgeprune.accuracy import accuracy_of, interval_text, paired, paired_predictions, spread, wilson


def test_wilson_interval_by_hand():
    # 90/100: centre (0.9 + z²/200) / (1 + z²/100), half z·sqrt(0.0009 + z²/40000) / (1 + z²/100), z = 1.959964
    a = wilson(90, 100)
    assert (a.low, a.high) == pytest.approx((0.825634, 0.944771), abs=1e-6)
    assert a.value == 0.9 and a.text() == "90.0% [82.6, 94.5]"
    # 0/10: the interval is [0, z²/10 / (1 + z²/10)] = [0, 0.277533], not the degenerate [0, 0]
    z = 1.959963985
    zero = wilson(0, 10)
    assert zero.low == 0.0 and zero.high == pytest.approx(z * z / 10 / (1 + z * z / 10), abs=1e-6)
    assert wilson(10, 10).low == pytest.approx(1 - zero.high, abs=1e-9)


def test_wilson_refuses_impossible_counts():
    with pytest.raises(ValueError):
        wilson(11, 10)
    with pytest.raises(ValueError):
        wilson(0, 0)


def test_accuracy_of_predictions_and_text_helper():
    a = accuracy_of([1, 2, 3, 0], [1, 2, 0, 0])
    assert (a.correct, a.n) == (3, 4)
    assert interval_text(0.9, 100) == "90.0% [82.6, 94.5]" and interval_text(None, 100) == "–"
    with pytest.raises(ValueError, match="3 predictions for 4 labels"):
        accuracy_of([1, 2, 3], [1, 2, 3, 4])


def _pairs(both: int, b_only: int, a_only: int, neither: int) -> tuple[np.ndarray, np.ndarray]:
    a = [True] * both + [False] * b_only + [True] * a_only + [False] * neither
    b = [True] * both + [True] * b_only + [False] * a_only + [False] * neither
    return np.array(a), np.array(b)


def test_exact_mcnemar_all_discordant_pairs_one_way():
    # 6 images only b gets right, none the other way: p = 2 · (1/2)^6; Clopper-Pearson lower bound of 6/6 is
    # 0.025^(1/6), mapped to points: 6/100 · (2 · 0.025^(1/6) − 1)
    d = paired(*_pairs(90, 6, 0, 4))
    assert d.diff == pytest.approx(0.06) and d.p_value == pytest.approx(1 / 32)
    assert d.low == pytest.approx(0.06 * (2 * 0.025 ** (1 / 6) - 1), abs=1e-9) and d.high == pytest.approx(0.06)
    assert d.distinguishable and d.text() == "+6.0 pt [+0.5, +6.0]"
    assert (d.b_only, d.a_only, d.n) == (6, 0, 100)


def test_exact_mcnemar_five_to_nothing_is_not_enough():
    # p = 2/32 = 0.0625 > 0.05, and the interval's lower bound 5/100 · (2 · 0.025^(1/5) − 1) < 0 agrees
    d = paired(*_pairs(90, 5, 0, 5))
    assert d.p_value == pytest.approx(0.0625)
    assert d.low == pytest.approx(0.05 * (2 * 0.025 ** 0.2 - 1), abs=1e-9) and d.low < 0
    assert not d.distinguishable


def test_exact_mcnemar_balanced_disagreement_and_identical_models():
    d = paired(*_pairs(90, 3, 3, 4))  # 3 vs 3: no evidence, p = 1, symmetric interval from Clopper-Pearson(3/6)
    assert d.diff == 0 and d.p_value == 1.0 and d.low == pytest.approx(-d.high)
    assert d.high == pytest.approx(0.06 * (2 * 0.881877 - 1), abs=1e-5)
    same = paired(*_pairs(95, 0, 0, 5))
    assert (same.diff, same.low, same.high, same.p_value) == (0.0, 0.0, 0.0, 1.0) and same.text() == "0.0 pt [0.0, 0.0]"


def test_exact_mcnemar_p_value_by_hand():
    d = paired(*_pairs(80, 1, 9, 10))  # k = 1 of m = 10: 2 · (1 + 10) / 2^10
    assert d.p_value == pytest.approx(22 / 1024) and d.diff == pytest.approx(-0.08) and d.distinguishable
    assert d.text().startswith("−8.0 pt")


def test_paired_predictions_compares_the_same_images():
    true = [0, 1, 2, 3]
    d = paired_predictions([0, 1, 2, 0], [0, 1, 0, 3], true)
    assert (d.b_only, d.a_only) == (1, 1)
    with pytest.raises(ValueError, match="same test images"):
        paired([True, False], [True])


def test_spread_over_seeds():
    s = spread([0.90, 0.92, 0.91])
    assert s.mean == pytest.approx(0.91) and s.sd == pytest.approx(0.01)
    assert s.text() == "91.0 ± 1.0"
    assert spread([0.5]).sd == 0.0
    assert math.isclose(spread([1, 3]).sd, math.sqrt(2))
