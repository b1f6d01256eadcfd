"""How much of a forecaster's attention (or gradient saliency) lands on one day of its window,
against an even spread: the interpretability check of the stage 3 vs 4 claims, where the
synthetic series say which day matters (CodeLLM/compare/claims.py).

Lags count days before the forecast day: lag 1 is the window's last day, lag `lookback` its
first. A weight vector is stored oldest day first (as the forecasters write them), one entry
per day, or one per token when a patched transformer puts `patch` consecutive days in a token.

    share_at_lag([0.1, 0.6, 0.3], lag=2)             # 0.6: lag 2 is the middle of 3 days
    lift_at_lag([0.1, 0.6, 0.3], lag=2)              # 1.8 = 0.6 / (1 / 3)
    lift_at_lag(heads_by_token, lag=20, patch=8)     # one lift per head (heads, tokens)

It also turns a summed |gradient| (lookback, features) into the saliency record both forecasting
stages write (`saliency_record`, by CodeLLM/forecaster/saliency.py and MemoryLLM/saliency.py),
and plots it (`plot_saliency`).
"""

from __future__ import annotations

import numpy as np

from shared.runtime.errors import UserError

SALIENCY_METHOD = ("mean |gradient| of the forecast over the test windows, summed over features, "
                   "normalised to 1")


def position(lag: int, length: int, patch: int = 1) -> int:
    """Index (oldest first) of the day `lag` days before the forecast, or of its token."""
    days = length * patch
    if not 1 <= lag <= days:
        raise UserError(f"lag {lag} is outside a window of {days} days")
    return (days - lag) // patch


def share_at_lag(weights, lag: int, patch: int = 1) -> np.ndarray:
    """The weight on the day (or token) `lag` days back: a float for one vector, an array for
    (heads, length). Weights are renormalised to sum to 1 along the last axis first."""
    w = np.asarray(weights, dtype=np.float64)
    w = w / w.sum(axis=-1, keepdims=True)
    return w[..., position(lag, w.shape[-1], patch)]


def lift_at_lag(weights, lag: int, patch: int = 1) -> np.ndarray:
    """share_at_lag over the even spread's share (1 / length): 1 means no focus, 2 twice it."""
    w = np.asarray(weights, dtype=np.float64)
    return share_at_lag(w, lag, patch) * w.shape[-1]


def normalised(values: np.ndarray) -> list[float]:
    """`values` scaled to sum to 1 (left at 0 if the gradient was 0 everywhere)."""
    total = float(values.sum())
    return (values / total if total > 0 else values).tolist()


def saliency_record(mean_gradient: np.ndarray, feature_index: int) -> dict:
    """metrics.json's "saliency" from the mean |gradient| per (day, feature) over the test
    windows: by day summed over features, and for one feature (log_return) alone."""
    mean_gradient = np.asarray(mean_gradient, dtype=np.float64)  # (lookback, features)
    return {"by_lag": normalised(mean_gradient.sum(axis=1)),
            "by_lag_log_return": normalised(mean_gradient[:, feature_index]),
            "method": SALIENCY_METHOD}


def plot_saliency(saliency: dict, path, title: str):
    """The two by-lag vectors against days before the forecast day, with the uniform line."""
    from shared import plotting  # matplotlib only when a plot is drawn

    lookback = len(saliency["by_lag"])
    return plotting.plot_lines(list(range(-lookback, 0)),
                               {"log_return input only": saliency["by_lag_log_return"],
                                "all features": saliency["by_lag"]},
                               path, title, "days before the forecast day",
                               "share of |gradient|", reference=("uniform (1 / lookback)", 1 / lookback))
