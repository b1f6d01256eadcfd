"""Sliding windows, the chronological split, and scalers fitted on the training split only.

A sample is the window of `lookback` days ending at day t (all features) and its target,
day t+1: either the next close (`target="price"`) or the next log return
(`target="return"`, log(close[t+1] / close[t])); with `horizon=H`, days t+1..t+H. Samples are
split by the first day they predict: the first 70% train, the next 15% validation, the last 15%
test. With H > 1 the last H-1 samples before each boundary are dropped, so no training target
lies in the validation period. Scalers see only the rows that training windows are built from,
so no validation or test value shapes them. `max_train=N` keeps only the last N training
windows (and fits the scalers on their rows); validation and test keep the same windows.

Pooled series (shared/prices/data.py, --pool): other tickers' windows may join the training
split. Their `Pooled` entries (Dataset.pool) hold them, each scaled with its own scalers; the
train split's x and y then hold the main series' windows first and every pooled series' after
them, while its dates, prev_close, close and future_close stay the main series' alone (the
first `Dataset.main_train` rows of x and y). What trains (the networks, the ridge baseline)
reads x and y; what is about the main series (the drift baseline) reads the closes.

    data = make_dataset(add_indicators(prices), lookback=60, target="return")
    data.train.x  # (samples, lookback, features), scaled
    data.to_price(predictions, data.test)  # back to prices, whatever the target
    save_preprocessing(data, run / PREPROCESSING)  # scalers + settings as JSON, for predict.py

Imported by the train and predict scripts of MemoryLLM and CodeLLM's forecaster, the stage 3
vs 4 comparison, and the tests.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.preprocessing import StandardScaler

from shared.prices.features import FEATURES, add_indicators
from shared.runtime.errors import UserError

TARGETS = ("return", "price")
MIN_SAMPLES = {"train": 100, "val": 20, "test": 20}


@dataclass
class Split:
    """One split's windows. In a pooled dataset's train split, x and y have more rows than the
    other fields: the main series' windows, then the pooled ones (see the module docstring)."""

    x: np.ndarray  # (samples, lookback, features), scaled
    y: np.ndarray  # (samples,) scaled target; (samples, horizon) when horizon > 1
    dates: pd.DatetimeIndex  # the (first) day each sample predicts
    prev_close: np.ndarray  # close on the last day of each window (what persistence predicts)
    close: np.ndarray  # the actual close on the (first) predicted day
    future_close: np.ndarray  # (samples, horizon): the actual closes on every predicted day


@dataclass
class Pooled:
    """Another series' training windows (--pool), scaled with its own scalers, fitted on
    the rows of these windows only; `train.dates` are the days they predict (first day)."""

    train: Split
    feature_scaler: StandardScaler
    target_scaler: StandardScaler
    window_days: np.ndarray  # (samples, lookback + horizon): every day each window reads or predicts


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
    horizon: int = 1
    pool: dict[str, Pooled] = field(default_factory=dict)  # ticker -> its windows in train.x

    @property
    def main_train(self) -> int:
        """How many of train.x's windows are the main series' (the first ones)."""
        return len(self.train.dates)

    def to_price(self, y_scaled: np.ndarray, split: Split) -> np.ndarray:
        """Model outputs (scaled targets) -> predicted closes for `split`'s days, in the shape
        of `y_scaled`: (samples,) or (samples, horizon)."""
        return to_price(y_scaled, split.prev_close, self.target_scaler, self.target)


def to_price(y_scaled, last_close, target_scaler: StandardScaler, target: str) -> np.ndarray:
    """Scaled targets (n,) or (n, horizon) -> closes. Returns are log returns day over day, so
    the close h days ahead is the last close times exp(sum of the first h returns)."""
    y_scaled = np.asarray(y_scaled, dtype=np.float64)
    y = target_scaler.inverse_transform(y_scaled.reshape(-1, 1)).reshape(y_scaled.shape)
    if target == "price":
        return y
    last_close = np.asarray(last_close, dtype=np.float64)
    if y.ndim == 1:
        return last_close * np.exp(y)
    return last_close[:, None] * np.exp(np.cumsum(y, axis=1))


def split_bounds(n_samples: int, val_fraction: float, test_fraction: float) -> tuple[int, int]:
    """Sample indices where validation and test start."""
    test_start = n_samples - int(round(n_samples * test_fraction))
    val_start = test_start - int(round(n_samples * val_fraction))
    return val_start, test_start


def _windows(frame: pd.DataFrame, features: list[str], lookback: int, target: str, horizon: int,
             n_samples: int, fit: tuple[int, int]):
    """Every window of `frame` (sample i: rows [i, i + lookback), predicting rows i + lookback
    .. i + lookback + horizon - 1), scaled by scalers fitted on the rows of samples
    fit[0]..fit[1]-1 only. Returns x, y, dates, prev_close, future_close and both scalers."""
    values = frame[features].to_numpy(dtype=np.float64)  # (days, features)
    close = frame["close"].to_numpy(dtype=np.float64)
    first, stop = fit
    feature_scaler = StandardScaler().fit(values[first : stop - 1 + lookback])  # rows they hold
    scaled = feature_scaler.transform(values)
    windows = np.lib.stride_tricks.sliding_window_view(scaled, lookback, axis=0)[:n_samples]
    x = np.ascontiguousarray(windows.transpose(0, 2, 1), dtype=np.float32)  # (n, lookback, f)
    # Daily targets: raw[d] is the target for day d (its log return, or its close).
    raw = np.log(close[1:] / close[:-1]) if target == "return" else close[1:]
    raw = np.concatenate([[np.nan], raw])
    days = lookback + np.arange(n_samples)[:, None] + np.arange(horizon)  # (n, horizon)
    raw_y, future_close = raw[days], close[days]
    prev_close = close[lookback - 1 : lookback - 1 + n_samples]
    target_scaler = StandardScaler().fit(raw_y[first:stop].reshape(-1, 1))
    y = target_scaler.transform(raw_y.reshape(-1, 1)).reshape(raw_y.shape).astype(np.float32)
    if horizon == 1:
        y = y[:, 0]  # one step: a plain vector, as a one-output model predicts it
    dates = frame.index[lookback : lookback + n_samples]
    return x, y, dates, prev_close, future_close, feature_scaler, target_scaler


def make_dataset(frame: pd.DataFrame, lookback: int = 60, target: str = "return",
                 features: list[str] | None = None, val_fraction: float = 0.15,
                 test_fraction: float = 0.15, horizon: int = 1,
                 max_train: int | None = None) -> Dataset:
    """The windows of `frame`, split in time and scaled (see the module docstring).
    `max_train`: keep only the last that many training windows (--train-windows)."""
    if target not in TARGETS:
        raise UserError(f"--target {target}: choose one of {', '.join(TARGETS)}")
    if lookback < 2 or horizon < 1:
        raise UserError(f"--lookback must be at least 2 and --horizon at least 1 (got "
                        f"{lookback} and {horizon})")
    features = list(features or frame.columns)
    # A window of `lookback` days, then the `horizon` days it predicts.
    n_samples = len(frame) - lookback - horizon + 1
    val_start, test_start = split_bounds(max(n_samples, 0), val_fraction, test_fraction)
    gap = horizon - 1  # purge: samples whose targets would cross into the next split
    counts = {"train": val_start - gap, "val": test_start - val_start - gap,
              "test": n_samples - test_start}
    if n_samples <= 0 or any(counts[k] < need for k, need in MIN_SAMPLES.items()):
        need_days = (lookback + horizon + 2 * gap
                     + sum(MIN_SAMPLES.values()) / (1 - val_fraction - test_fraction))
        raise UserError(
            f"the series is too short: {len(frame)} days after the indicator warm-up give "
            f"{max(n_samples, 0)} windows of --lookback {lookback} with --horizon {horizon}; "
            f"about {int(need_days) + 1} days are needed for train/validation/test (use more "
            "data or a smaller --lookback or --horizon)")
    train_stop = val_start - gap  # training samples: [train_start, train_stop)
    train_start = 0
    if max_train is not None:
        if not MIN_SAMPLES["train"] <= max_train <= train_stop:
            raise UserError(f"--train-windows {max_train}: choose between {MIN_SAMPLES['train']} and "
                            f"{train_stop}, the training windows this series has")
        train_start = train_stop - max_train  # the last ones: the days nearest validation

    # Scalers on the rows of the training windows kept, and nothing else.
    x, y, dates, prev_close, future_close, feature_scaler, target_scaler = _windows(
        frame, features, lookback, target, horizon, n_samples, (train_start, train_stop))

    def split(a: int, b: int) -> Split:
        return Split(x[a:b], y[a:b], dates[a:b], prev_close[a:b], future_close[a:b, 0],
                     future_close[a:b])

    return Dataset(split(train_start, train_stop), split(val_start, test_start - gap),
                   split(test_start, n_samples), feature_scaler, target_scaler, features, target,
                   lookback, horizon)


def training_windows(frame: pd.DataFrame, lookback: int, target: str, features: list[str],
                     horizon: int = 1) -> Pooled | None:
    """Every window of `frame` as training windows of a pooled series, scaled by scalers fitted
    on all of them (the caller cuts `frame` where the main series' validation begins); None
    when `frame` is too short for one window."""
    features = list(features)
    n_samples = len(frame) - lookback - horizon + 1
    if n_samples < 1:
        return None
    x, y, dates, prev_close, future_close, feature_scaler, target_scaler = _windows(
        frame, features, lookback, target, horizon, n_samples, (0, n_samples))
    days = np.arange(n_samples)[:, None] + np.arange(lookback + horizon)
    return Pooled(Split(x, y, dates, prev_close, future_close[:, 0], future_close),
                  feature_scaler, target_scaler, frame.index.to_numpy()[days])


def latest_window(frame: pd.DataFrame, feature_scaler: StandardScaler, features: list[str],
                  lookback: int) -> np.ndarray:
    """The scaled window of the last `lookback` days of `frame` (indicators added), shaped
    (1, lookback, features): what predict.py feeds a trained model."""
    if len(frame) < lookback:
        raise UserError(f"need at least {lookback} days after the indicator warm-up, got {len(frame)}")
    window = feature_scaler.transform(frame[features].to_numpy(dtype=np.float64)[-lookback:])
    return window[np.newaxis].astype(np.float32)


def forecast_closes(prices: pd.DataFrame, prep: dict, predict) -> list[float]:
    """The closes a trained model forecasts for the days after `prices` end: the indicators
    and the scaled window of the last `lookback` days, exactly as in training (`prep` is
    `load_preprocessing`'s), `predict(window)` for the model's scaled targets (one per day of
    its horizon), and those turned back into closes. What each predict.py feeds to
    `market.roll_forward`."""
    frame = add_indicators(prices)
    window = latest_window(frame, prep["feature_scaler"], prep["features"], prep["lookback"])
    closes = to_price(predict(window), frame["close"].iloc[-1:].to_numpy(), prep["target_scaler"],
                      prep["target"])
    return [float(c) for c in np.ravel(closes)]


PREPROCESSING = "preprocessing.json"
PREPROCESSING_FORMAT = 1  # bump when the file's keys change


def scaler_to_json(scaler: StandardScaler) -> dict:
    """A fitted StandardScaler's statistics as plain lists (JSON keeps float64 exactly)."""
    return {"mean": scaler.mean_.tolist(), "scale": scaler.scale_.tolist(),
            "var": scaler.var_.tolist(), "n_samples_seen": int(scaler.n_samples_seen_)}


def scaler_from_json(stats: dict) -> StandardScaler:
    """The StandardScaler that `scaler_to_json` described: the same transform, bit for bit."""
    scaler = StandardScaler()
    scaler.mean_ = np.asarray(stats["mean"], dtype=np.float64)
    scaler.scale_ = np.asarray(stats["scale"], dtype=np.float64)
    scaler.var_ = np.asarray(stats["var"], dtype=np.float64)
    scaler.n_features_in_ = len(scaler.mean_)
    scaler.n_samples_seen_ = int(stats["n_samples_seen"])
    if not len(scaler.mean_) == len(scaler.scale_) == len(scaler.var_) > 0:
        raise ValueError("mean, scale and var differ in length")
    return scaler


def save_preprocessing(data: Dataset, path: str | Path) -> Path:
    """What predict.py needs besides the network, as JSON (data, never code): both scalers'
    statistics, the feature list and the window settings."""
    state = {"format": PREPROCESSING_FORMAT, "features": list(data.features),
             "lookback": int(data.lookback), "target": data.target, "horizon": int(data.horizon),
             "feature_scaler": scaler_to_json(data.feature_scaler),
             "target_scaler": scaler_to_json(data.target_scaler)}
    text = json.dumps(state, indent=2, allow_nan=False) + "\n"
    # Written atomically (temporary file, then rename), like every results file; done here
    # rather than with shared.runtime.files so that the Keras stage needs no PyTorch to predict.
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            file.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return path


def load_preprocessing(run_dir: str | Path, model_file: str) -> dict:
    """A run's preprocessing.json with its scalers rebuilt, refused with a one-line reason if
    the run lacks `model_file`, holds the old binary format, or was trained on another feature
    set. Returns features, lookback, target, horizon, feature_scaler and target_scaler."""
    run_dir = Path(run_dir)
    path = run_dir / PREPROCESSING
    if not (run_dir / model_file).is_file():
        raise UserError(f"no {model_file} in {run_dir}; train one with `python train.py`")
    old = sorted(p.name for p in run_dir.glob("preprocessing.*") if p.name != PREPROCESSING)
    if not path.is_file() and old:
        # Runs before the JSON format saved the scalers as Python objects, and reading those
        # back can run code that the file names: never read them.
        raise UserError(f"{run_dir} holds {old[0]}, an old format that is no longer read "
                        "(loading it could run code); retrain with `python train.py`, which "
                        f"writes {PREPROCESSING}")
    if not path.is_file():
        raise UserError(f"no {PREPROCESSING} in {run_dir}; train one with `python train.py`")
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
        if state["format"] != PREPROCESSING_FORMAT:
            raise ValueError(f"format {state['format']}, expected {PREPROCESSING_FORMAT}")
        prep = {"features": [str(f) for f in state["features"]], "lookback": int(state["lookback"]),
                "target": str(state["target"]), "horizon": int(state["horizon"]),
                "feature_scaler": scaler_from_json(state["feature_scaler"]),
                "target_scaler": scaler_from_json(state["target_scaler"])}
    except (ValueError, KeyError, TypeError) as err:  # JSONDecodeError is a ValueError
        raise UserError(f"{path} is not a preprocessing file this version writes ({err}); "
                        "retrain with `python train.py`") from None
    if prep["features"] != FEATURES:
        raise UserError(f"{run_dir} was trained on a different feature set "
                        f"({len(prep['features'])} features, now {len(FEATURES)}); retrain it")
    if prep["feature_scaler"].n_features_in_ != len(FEATURES):
        raise UserError(f"{path} has a feature scaler for {prep['feature_scaler'].n_features_in_} "
                        f"features, not {len(FEATURES)}; retrain with `python train.py`")
    return prep


def describe(data: Dataset, name: str) -> str:
    """One line about the windows a run trains on, for its progress output."""
    pooled = len(data.train.y) - data.main_train
    extra = f" + {pooled} pooled ({', '.join(data.pool)})" if data.pool else ""
    return (f"{name}: windows: train {data.main_train} ({data.train.dates[0].date()}.."
            f"{data.train.dates[-1].date()}){extra}, val {len(data.val.y)}, test {len(data.test.y)} "
            f"({data.test.dates[0].date()}..{data.test.dates[-1].date()}) | target: {data.target} "
            f"of the next {'day' if data.horizon == 1 else f'{data.horizon} days'}")
