"""Sliding windows, the chronological split, and scalers fitted on the training split only.

A sample is the window of `lookback` days ending at day t (all features) and its target,
day t+1: either the next close (`target="price"`) or the next log return
(`target="return"`, log(close[t+1] / close[t])). Samples are split by the day they predict:
the first 70% train, the next 15% validation, the last 15% test. Scalers see only the rows
that training windows are built from, so no validation or test value shapes them.

    data = make_dataset(add_indicators(prices), lookback=60, target="return")
    data.train.x  # (samples, lookback, features), scaled
    data.to_price(predictions, data.test)  # back to prices, whatever the target
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.preprocessing import StandardScaler

from shared.errors import UserError

TARGETS = ("return", "price")
MIN_SAMPLES = {"train": 100, "val": 20, "test": 20}


@dataclass
class Split:
    x: np.ndarray  # (samples, lookback, features), scaled
    y: np.ndarray  # (samples,), scaled target
    dates: pd.DatetimeIndex  # the day each sample predicts
    prev_close: np.ndarray  # close on the last day of each window (what persistence predicts)
    close: np.ndarray  # the actual close on the predicted day


@dataclass
class Dataset:
    train: Split
    val: Split
    test: Split
    feature_scaler: StandardScaler
    target_scaler: StandardScaler
    features: list[str]
    target: str
    lookback: int

    def to_price(self, y_scaled: np.ndarray, split: Split) -> np.ndarray:
        """Model outputs (scaled targets) -> predicted closes for `split`'s days."""
        y = self.target_scaler.inverse_transform(np.asarray(y_scaled).reshape(-1, 1)).ravel()
        return split.prev_close * np.exp(y) if self.target == "return" else y


def split_bounds(n_samples: int, val_fraction: float, test_fraction: float) -> tuple[int, int]:
    """Sample indices where validation and test start."""
    test_start = n_samples - int(round(n_samples * test_fraction))
    val_start = test_start - int(round(n_samples * val_fraction))
    return val_start, test_start


def make_dataset(frame: pd.DataFrame, lookback: int = 60, target: str = "return",
                 features: list[str] | None = None, val_fraction: float = 0.15,
                 test_fraction: float = 0.15) -> Dataset:
    if target not in TARGETS:
        raise UserError(f"--target {target}: choose one of {', '.join(TARGETS)}")
    features = list(features or frame.columns)
    values = frame[features].to_numpy(dtype=np.float64)  # (days, features)
    close = frame["close"].to_numpy(dtype=np.float64)
    n_samples = len(frame) - lookback  # a window of `lookback` days, then the day it predicts
    val_start, test_start = split_bounds(max(n_samples, 0), val_fraction, test_fraction)
    counts = {"train": val_start, "val": test_start - val_start, "test": n_samples - test_start}
    if n_samples <= 0 or any(counts[k] < need for k, need in MIN_SAMPLES.items()):
        need_days = lookback + sum(MIN_SAMPLES.values()) / (1 - val_fraction - test_fraction)
        raise UserError(
            f"the series is too short: {len(frame)} days after the indicator warm-up give "
            f"{max(n_samples, 0)} windows of --lookback {lookback}; about {int(need_days) + 1} "
            "days are needed for train/validation/test (use more data or a smaller --lookback)")

    # Sample i: window rows [i, i + lookback), predicted day i + lookback.
    last_train_row = val_start - 1 + lookback - 1  # last row any training window contains
    feature_scaler = StandardScaler().fit(values[: last_train_row + 1])
    scaled = feature_scaler.transform(values)
    windows = np.lib.stride_tricks.sliding_window_view(scaled, lookback, axis=0)[:n_samples]
    x = np.ascontiguousarray(windows.transpose(0, 2, 1), dtype=np.float32)  # (n, lookback, f)
    prev_close, next_close = close[lookback - 1 : -1], close[lookback:]
    raw_y = np.log(next_close / prev_close) if target == "return" else next_close
    target_scaler = StandardScaler().fit(raw_y[:val_start].reshape(-1, 1))
    y = target_scaler.transform(raw_y.reshape(-1, 1)).ravel().astype(np.float32)
    dates = frame.index[lookback:]

    def split(a: int, b: int) -> Split:
        return Split(x[a:b], y[a:b], dates[a:b], prev_close[a:b], next_close[a:b])

    return Dataset(split(0, val_start), split(val_start, test_start), split(test_start, n_samples),
                   feature_scaler, target_scaler, features, target, lookback)
