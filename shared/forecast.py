"""Forecast metrics and naive baselines for next-day prices (stages 3 and 4).

Metrics are plain functions of actual and predicted prices. The baseline every daily price
model must beat is persistence, "tomorrow = today": prices move little from one day to the
next, so a model can score a high R^2 while knowing nothing that persistence does not.
Theil's U (model RMSE / persistence RMSE) and the Diebold-Mariano test say whether it does.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
from scipy import stats
from sklearn.linear_model import LinearRegression
from sklearn.metrics import (
    mean_absolute_error,
    mean_absolute_percentage_error,
    mean_squared_error,
    r2_score,
)


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


def drift(previous, train_close) -> np.ndarray:
    """Today's close plus the average daily change over the training period."""
    train_close = np.asarray(train_close, dtype=np.float64)
    step = (train_close[-1] - train_close[0]) / (len(train_close) - 1)
    return np.asarray(previous, dtype=np.float64) + step


def linear_baseline(dataset) -> LinearRegression:
    """Linear regression from the flattened (scaled) window to the (scaled) target, fitted on
    the training split: what the LSTM must beat to show its non-linearity is worth it."""
    x = dataset.train.x.reshape(len(dataset.train.x), -1)
    return LinearRegression().fit(x, dataset.train.y)


def baseline_predictions(dataset, split) -> dict[str, np.ndarray]:
    """Predicted closes of the three naive baselines on `split`'s first predicted day."""
    linear = dataset.to_price(linear_baseline(dataset).predict(split.x.reshape(len(split.x), -1)),
                              split)
    return {
        "persistence": persistence(split.prev_close),
        "drift": drift(split.prev_close, dataset.train.close),
        "linear": linear if linear.ndim == 1 else linear[:, 0],
    }


def summarise_seeds(per_seed: list[dict]) -> dict:
    """`{key}_mean` and `{key}_std` over seeds of every metric in `per_seed`."""
    out = {}
    for key in per_seed[0]:
        values = np.array([m[key] for m in per_seed], dtype=np.float64)
        out[f"{key}_mean"], out[f"{key}_std"] = float(values.mean()), float(values.std())
    return out


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
