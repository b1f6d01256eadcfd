"""LLMind's statistics against hand-computed values and an independent implementation: the
exact McNemar test, Holm's correction and the paired percentile bootstrap."""

from __future__ import annotations

from math import comb

import numpy as np
import pytest
from conftest import ROOT
from scipy import stats

from tools.loader import load_stage_config

significance = load_stage_config(ROOT / "LLMind" / "significance.py")


def test_mcnemar_exact_by_hand():
    # 10 discordant sentences, 1 for a and 9 for b: p = 2 * P(X <= 1), X ~ Binomial(10, 1/2).
    a = [True] * 5 + [True] + [False] * 9
    b = [True] * 5 + [False] + [True] * 9
    result = significance.mcnemar_exact(a, b)
    assert (result["a_only"], result["b_only"]) == (1, 9)
    assert result["p"] == pytest.approx(2 * (comb(10, 0) + comb(10, 1)) / 2**10)  # 0.021484375
    # Concordant sentences do not matter, and no discordant sentence means no evidence.
    assert significance.mcnemar_exact(a + [False] * 50, b + [False] * 50)["p"] == result["p"]
    assert significance.mcnemar_exact([True, False], [True, False])["p"] == 1.0
    # 3 against 3: as balanced as it gets.
    assert significance.mcnemar_exact([1, 1, 1, 0, 0, 0], [0, 0, 0, 1, 1, 1])["p"] == pytest.approx(1.0)


def test_holm_by_hand():
    # Sorted: 0.01 (x3 = 0.03), 0.03 (x2 = 0.06), 0.04 (x1 = 0.04, raised to 0.06: monotone).
    adjusted = significance.holm({"a": 0.04, "b": 0.01, "c": 0.03})
    assert adjusted == pytest.approx({"a": 0.06, "b": 0.03, "c": 0.06})
    assert significance.holm({"a": 0.6, "b": 0.7}) == pytest.approx({"a": 1.0, "b": 1.0})  # capped
    assert significance.holm({"only": 0.02}) == {"only": 0.02}  # one test: no correction


def test_bootstrap_against_scipy():
    rng = np.random.default_rng(0)
    a = rng.random(400) < 0.8
    b = rng.random(400) < 0.7
    ours = significance.bootstrap({"a": a, "b": b}, "a", resamples=4000, seed=1)
    theirs = stats.bootstrap((a.astype(float),), np.mean, n_resamples=4000, method="percentile",
                             random_state=2).confidence_interval
    assert ours["accuracy"]["a"] == pytest.approx([theirs.low, theirs.high], abs=0.01)
    paired = stats.bootstrap((a.astype(float), b.astype(float)), lambda x, y: x.mean() - y.mean(),
                             paired=True, n_resamples=4000, method="percentile",
                             random_state=3).confidence_interval
    assert ours["difference"]["b"] == pytest.approx([paired.low, paired.high], abs=0.01)


def test_bootstrap_degenerate_cases_by_hand():
    every = np.ones(50, dtype=bool)
    ours = significance.bootstrap({"a": every, "b": every, "c": ~every}, "a", resamples=200)
    assert ours["accuracy"]["a"] == [1.0, 1.0] and ours["accuracy"]["c"] == [0.0, 0.0]
    assert ours["difference"]["b"] == [0.0, 0.0]  # the same sentences in every draw: paired
    assert ours["difference"]["c"] == [1.0, 1.0]
    assert "a" not in ours["difference"]


def test_compare_gives_verdicts_and_holm():
    y = np.array([0, 1] * 20)  # 40 sentences
    reference = y.copy()  # right on every sentence
    worse = y.copy()
    worse[:20] = 1 - worse[:20]  # wrong on the first 20
    same = y.copy()
    result = significance.compare(y, {"ft": reference, "worse": worse, "same": same}, "ft", seed=0)
    w, s = result["comparisons"]["worse"], result["comparisons"]["same"]
    assert (w["reference_only_correct"], w["baseline_only_correct"]) == (20, 0)
    assert w["mcnemar_p"] == pytest.approx(2 * 0.5**20)
    assert w["mcnemar_p_holm"] == pytest.approx(2 * 2 * 0.5**20)  # the smaller of 2 p-values, x2
    assert w["significant"] and w["accuracy_difference"] == pytest.approx(0.5)
    assert s["mcnemar_p"] == 1.0 and not s["significant"] and s["difference_ci95"] == [0.0, 0.0]
    assert result["accuracy_ci95"]["ft"] == [1.0, 1.0]
    assert result["method"]["correction"] == "Holm across the 2 McNemar tests"
