"""Is the fine-tune's lead over a baseline more than luck in which sentences the test split
drew? Three tools, used by train.py on the per-sentence test predictions:

- McNemar's exact test: only the sentences that one model gets right and the other wrong
  (the discordant pairs) carry information; under "no difference" each such sentence is a fair
  coin, so the p-value is a two-sided binomial test on their counts (scipy.stats.binomtest).
  Exact rather than the chi-square approximation, which is poor when there are few of them.
- Holm's correction across the tests one page makes (one per baseline): sort the p-values;
  the i-th smallest of m is compared with alpha / (m - i + 1), and testing stops at the first
  that fails. Reported as adjusted p-values, each compared with alpha itself.
- A percentile bootstrap over the test sentences: 95% intervals on each model's accuracy and
  on the accuracy difference, the same resampled sentences for every model (paired).
"""

from __future__ import annotations

import numpy as np
from scipy.stats import binomtest

ALPHA, RESAMPLES, LEVEL = 0.05, 2000, 0.95


def mcnemar_exact(correct_a, correct_b) -> dict:
    """`correct_a`/`correct_b`: per sentence, whether each model got it right. `a_only`: right
    by a alone; `b_only`: right by b alone; `p`: two-sided exact p-value (1 with no discordant
    sentence)."""
    a, b = np.asarray(correct_a, dtype=bool), np.asarray(correct_b, dtype=bool)
    a_only, b_only = int((a & ~b).sum()), int((~a & b).sum())
    p = binomtest(a_only, a_only + b_only, 0.5).pvalue if a_only + b_only else 1.0
    return {"a_only": a_only, "b_only": b_only, "p": float(p)}


def holm(p_values: dict[str, float]) -> dict[str, float]:
    """Holm-adjusted p-values (step-down, monotone, at most 1), by the same keys."""
    order = sorted(p_values, key=p_values.get)
    m, adjusted, running = len(order), {}, 0.0
    for i, key in enumerate(order):
        running = max(running, min(1.0, (m - i) * p_values[key]))
        adjusted[key] = running
    return adjusted


def bootstrap(correct: dict[str, np.ndarray], reference: str, resamples: int = RESAMPLES,
              seed: int = 0, level: float = LEVEL) -> dict:
    """Percentile intervals from `resamples` draws (with replacement) of the test sentences:
    {"accuracy": {model: [low, high]}, "difference": {other: [low, high]}} where a difference is
    accuracy(reference) - accuracy(other) on the same draw."""
    rng = np.random.default_rng(seed)
    n = len(next(iter(correct.values())))
    draws = rng.integers(0, n, size=(resamples, n))  # (resamples, sentences)
    accuracy = {name: np.asarray(c, dtype=float)[draws].mean(axis=1) for name, c in correct.items()}
    tails = [100 * (1 - level) / 2, 100 * (1 + level) / 2]

    def interval(values):
        return [float(v) for v in np.percentile(values, tails)]

    return {"accuracy": {name: interval(a) for name, a in accuracy.items()},
            "difference": {name: interval(accuracy[reference] - a)
                           for name, a in accuracy.items() if name != reference}}


def compare(y_true, predictions: dict[str, np.ndarray], reference: str, seed: int = 0,
            alpha: float = ALPHA, resamples: int = RESAMPLES) -> dict:
    """The reference model (the fine-tune) against every other entry of `predictions`, all on
    the same test sentences: intervals, McNemar with Holm across the comparisons, verdicts."""
    y_true = np.asarray(y_true)
    correct = {name: np.asarray(p) == y_true for name, p in predictions.items()}
    tests = {name: mcnemar_exact(correct[reference], c) for name, c in correct.items()
             if name != reference}
    adjusted = holm({name: t["p"] for name, t in tests.items()})
    intervals = bootstrap(correct, reference, resamples, seed)
    comparisons = {name: {
        "accuracy_difference": float(correct[reference].mean() - correct[name].mean()),
        "difference_ci95": intervals["difference"][name],
        "reference_only_correct": t["a_only"], "baseline_only_correct": t["b_only"],
        "mcnemar_p": t["p"], "mcnemar_p_holm": adjusted[name],
        "significant": bool(adjusted[name] < alpha)} for name, t in tests.items()}
    method = {"test": "exact McNemar test (two-sided binomial test on the sentences that the two "
                      "models disagree on)",
              "correction": f"Holm across the {len(tests)} McNemar tests", "alpha": alpha,
              "interval": f"{LEVEL:.0%} percentile bootstrap over the test sentences, paired",
              "resamples": resamples, "seed": seed}
    return {"accuracy_ci95": intervals["accuracy"], "comparisons": comparisons, "method": method}
