"""Forecast metrics, naive baselines and the statistics of stages 3 and 4.

Metrics are plain functions of actual and predicted prices. The baseline every daily price
model must beat is persistence, "tomorrow = today": prices move little from one day to the
next, so a model can score a high R^2 while knowing nothing that persistence does not.
Theil's U (model RMSE / persistence RMSE) and the Diebold-Mariano test say whether it does.
Two more baselines: drift (whose direction is "always the training drift's sign", the naive
bar for directional accuracy) and a ridge regression on the same windows, its penalty chosen
on validation. A page that runs several tests corrects them with `holm`.

Imported by shared.prices.runs, the train scripts of MemoryLLM and CodeLLM's forecaster, the
stage 3 vs 4 comparison, MemoryLLM/report.py and the tests.
"""

from __future__ import annotations

import time
import warnings

import numpy as np
import pandas as pd
from scipy import linalg, stats
from sklearn.linear_model import Ridge
from sklearn.metrics import (
    mean_absolute_error,
    mean_absolute_percentage_error,
    mean_squared_error,
    r2_score,
)

# The ridge penalty's grid: a decade apart, wide enough on the bundled data that the chosen
# value lies inside it. If it lands on an edge, the grid grows on that side (see ridge_baseline).
RIDGE_ALPHAS = tuple(10.0**k for k in range(-2, 8))  # 1e-2 .. 1e7
RIDGE_EXTEND = 3  # grid points added per extension
RIDGE_MAX_EXTENSIONS = 4  # then give up and flag the edge (the penalty is then near 0 or near inf)


def directional_accuracy(actual, predicted, previous) -> float:
    """Share of days where the predicted move (up or down from yesterday's close) has the
    sign of the actual move. Days with no actual move are left out; a forecast of no move
    counts as wrong, so persistence scores 0 by construction."""
    actual_move = np.sign(np.asarray(actual) - np.asarray(previous))
    predicted_move = np.sign(np.asarray(predicted) - np.asarray(previous))
    moved = actual_move != 0
    return float(np.mean(actual_move[moved] == predicted_move[moved])) if moved.any() else 0.0


def diebold_mariano(actual, predicted, baseline, horizon: int = 1) -> tuple[float, float]:
    """Diebold-Mariano test of equal accuracy under squared-error loss, with the Harvey,
    Leybourne and Newbold (1997) small-sample correction and a Student-t reference.

    Returns (statistic, two-sided p-value). A negative statistic means the model's squared
    errors are smaller than the baseline's.
    """
    actual = np.asarray(actual, dtype=np.float64)
    return diebold_mariano_losses((actual - np.asarray(predicted)) ** 2,
                                  (actual - np.asarray(baseline)) ** 2, horizon)


def diebold_mariano_losses(loss, baseline_loss, horizon: int = 1) -> tuple[float, float]:
    """The Diebold-Mariano test on two series of per-day losses (e.g. squared errors averaged
    over seeds, to compare two kinds of model rather than two trained instances)."""
    d = np.asarray(loss, dtype=np.float64) - np.asarray(baseline_loss, dtype=np.float64)
    n = len(d)
    mean = d.mean()
    centred = d - mean
    # Long-run variance of the mean loss difference: autocovariances up to lag horizon - 1.
    gamma = [np.dot(centred[k:], centred[: n - k]) / n for k in range(horizon)]
    variance = (gamma[0] + 2 * sum(gamma[1:])) / n
    if variance <= 0:
        return 0.0, 1.0
    correction = np.sqrt((n + 1 - 2 * horizon + horizon * (horizon - 1) / n) / n)
    statistic = correction * mean / np.sqrt(variance)
    return float(statistic), float(2 * stats.t.sf(abs(statistic), df=n - 1))


def diebold_mariano_seeds(actual, seed_forecasts, baseline_loss) -> tuple[float, float]:
    """One DM test for a model trained with several seeds: its squared errors averaged over
    seeds, day by day, against `baseline_loss` (per day). `seed_forecasts` is (days, seeds).
    Averaging p-values of per-seed tests would not be a test of anything."""
    errors = np.asarray(seed_forecasts, dtype=np.float64) - np.asarray(actual, dtype=np.float64)[:, None]
    return diebold_mariano_losses((errors**2).mean(axis=1), baseline_loss)


def holm(pvalues) -> list[float]:
    """Holm-Bonferroni adjusted p-values, in the order given: the k-th smallest of m is
    multiplied by m - k + 1, capped at 1, and never below the one before it. Rejecting every
    test whose adjusted p is at most 0.05 keeps the chance of any false rejection among the m
    tests at 5% or less."""
    p = np.asarray(pvalues, dtype=np.float64)
    adjusted, running = np.empty_like(p), 0.0
    for rank, i in enumerate(np.argsort(p, kind="stable")):
        running = max(running, min(1.0, (len(p) - rank) * p[i]))
        adjusted[i] = running
    return adjusted.tolist()


def price_metrics(actual, predicted, previous, prefix: str = "test") -> dict:
    """RMSE, MAE, MAPE (%), R^2 on price; directional accuracy; Theil's U and a
    Diebold-Mariano test against persistence (whose forecast is `previous`)."""
    rmse = float(np.sqrt(mean_squared_error(actual, predicted)))
    persistence_rmse = float(np.sqrt(mean_squared_error(actual, previous)))
    dm_stat, dm_p = diebold_mariano(actual, predicted, previous)
    return {
        f"{prefix}_rmse": rmse,
        f"{prefix}_mae": float(mean_absolute_error(actual, predicted)),
        f"{prefix}_mape": float(100 * mean_absolute_percentage_error(actual, predicted)),
        f"{prefix}_r2": float(r2_score(actual, predicted)),
        f"{prefix}_directional_accuracy": directional_accuracy(actual, predicted, previous),
        f"{prefix}_theil_u": rmse / persistence_rmse if persistence_rmse else float("nan"),
        f"{prefix}_dm_stat": dm_stat,
        f"{prefix}_dm_pvalue": dm_p,
    }


def persistence(previous) -> np.ndarray:
    """Tomorrow's close = today's close."""
    return np.asarray(previous, dtype=np.float64)


def drift_step(train_close) -> float:
    """The average daily change of the training period."""
    train_close = np.asarray(train_close, dtype=np.float64)
    return float((train_close[-1] - train_close[0]) / (len(train_close) - 1))


def drift(previous, train_close) -> np.ndarray:
    """Today's close plus the average daily change over the training period. Its predicted
    move always has the training drift's sign: the naive bar for directional accuracy."""
    return np.asarray(previous, dtype=np.float64) + drift_step(train_close)


def _flat(split) -> np.ndarray:
    """Windows (n, lookback, features) -> (n, lookback * features), in float64: the tiny
    penalties of the grid need the precision."""
    return split.x.reshape(len(split.x), -1).astype(np.float64)


def _ridge_val_rmse(dataset, alpha: float) -> tuple[Ridge, float]:
    with warnings.catch_warnings():  # tiny penalties on 1,200 inputs are ill-conditioned: expected
        warnings.simplefilter("ignore", linalg.LinAlgWarning)
        model = Ridge(alpha=alpha).fit(_flat(dataset.train), dataset.train.y)
    closes = dataset.to_price(model.predict(_flat(dataset.val)), dataset.val)
    closes = closes if closes.ndim == 1 else closes[:, 0]
    return model, float(np.sqrt(mean_squared_error(dataset.val.close, closes)))


def ridge_baseline(dataset, alphas=RIDGE_ALPHAS) -> tuple[Ridge, dict]:
    """Ridge regression from the flattened (scaled) window to the (scaled) target, fitted on
    the training split, its penalty chosen by the validation split's price RMSE (first
    predicted day): the linear model a network must beat to show its non-linearity is worth it.

    When the best penalty is at an edge of the grid, the grid grows on that side, so the
    chosen value is an interior minimum; after RIDGE_MAX_EXTENSIONS it stops and says so in
    `at_grid_edge`. Returns the fitted model and what metrics.json reports about it.
    """
    alphas = sorted(float(a) for a in alphas)
    ratio = alphas[1] / alphas[0]
    scores = {a: _ridge_val_rmse(dataset, a) for a in alphas}
    for _ in range(RIDGE_MAX_EXTENSIONS):
        best = min(scores, key=lambda a: scores[a][1])
        if best not in (alphas[0], alphas[-1]):
            break
        side = alphas[0] if best == alphas[0] else alphas[-1]
        step = 1 / ratio if best == alphas[0] else ratio
        new = [side * step ** (i + 1) for i in range(RIDGE_EXTEND)]
        scores.update({a: _ridge_val_rmse(dataset, a) for a in new})
        alphas = sorted(scores)
    best = min(scores, key=lambda a: scores[a][1])
    return scores[best][0], {"alpha": best, "alpha_grid_min": alphas[0], "alpha_grid_max": alphas[-1],
                             "alpha_grid_points": len(alphas),
                             "at_grid_edge": best in (alphas[0], alphas[-1])}


def baseline_predictions(dataset, split, ridge: Ridge | None = None) -> dict[str, np.ndarray]:
    """Predicted closes of the three naive baselines on `split`'s first predicted day (`ridge`:
    an already fitted ridge_baseline model, to avoid fitting it again)."""
    ridge = ridge if ridge is not None else ridge_baseline(dataset)[0]
    closes = dataset.to_price(ridge.predict(_flat(split)), split)
    return {
        "persistence": persistence(split.prev_close),
        "drift": drift(split.prev_close, dataset.train.close),
        "ridge": closes if closes.ndim == 1 else closes[:, 0],
    }


def baseline_results(dataset) -> tuple[dict, dict[str, np.ndarray]]:
    """metrics.json's "baselines" (validation and test metrics of each; the ridge penalty and
    its grid; the drift's daily step) and the baselines' test forecasts."""
    ridge, info = ridge_baseline(dataset)
    results: dict[str, dict] = {}
    for prefix, split in (("val", dataset.val), ("test", dataset.test)):
        predictions = baseline_predictions(dataset, split, ridge)
        for name, closes in predictions.items():
            results.setdefault(name, {}).update(
                price_metrics(split.close, closes, split.prev_close, prefix=prefix))
    results["ridge"].update(info)
    results["drift"]["daily_step"] = drift_step(dataset.train.close)
    return results, predictions  # the loop ends on the test split


def summarise_seeds(per_seed: list[dict]) -> dict:
    """`{key}_mean` and `{key}_std` over seeds of every metric in `per_seed`. The spread is the
    sample standard deviation (ddof=1); with one seed it is undefined and stored as None."""
    out = {}
    for key in per_seed[0]:
        values = np.array([m[key] for m in per_seed], dtype=np.float64)
        out[f"{key}_mean"] = float(values.mean())
        out[f"{key}_std"] = float(values.std(ddof=1)) if len(values) > 1 else None
    return out


def seed_summary(per_seed: list[dict]) -> dict:
    """metrics.json's means and spreads over seeds: the validation and test metrics, the seconds
    to the best epoch and the latency (per-seed DM tests and per-step errors are left out)."""
    return summarise_seeds([{k: v for k, v in m.items() if k in ("seconds_to_best", "latency_ms")
                             or (k.startswith(("test_", "val_")) and "_dm_" not in k
                                 and k != "test_rmse_by_step")} for m in per_seed])


def latency_ms(predict_one, x, windows: int = 100) -> float:
    """Median milliseconds to forecast one window at a time (batch of 1), as a live system
    would: `predict_one(x[i : i + 1])` for the first `windows` windows, after one warm-up."""
    predict_one(x[:1])
    times = []
    for i in range(min(windows, len(x))):
        started = time.perf_counter()
        predict_one(x[i : i + 1])
        times.append(time.perf_counter() - started)
    return float(1000 * np.median(times))


def predictions_frame(split, predictions: dict[str, np.ndarray]) -> pd.DataFrame:
    """One row per predicted day: the actual close, the last close of the window (persistence)
    and each named forecast; saved as predictions.csv so comparisons can test day by day."""
    frame = pd.DataFrame({"date": split.dates.strftime("%Y-%m-%d"), "actual": split.close,
                          "prev_close": split.prev_close})
    for name, values in predictions.items():
        frame[name] = values
    return frame
