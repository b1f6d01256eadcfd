"""A reloaded forecasting run predicts what the run predicted before it saved: the check that
test_codellm and test_memoryllm apply to their stage's smoke run. Only files are read back
(the model and preprocessing.json, never a pickle; see test_safe_files)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from shared.prices import features, market, windows


def goog_dataset(lookback=20, horizon=1):
    frame = features.add_indicators(market.load_prices())
    return frame, windows.make_dataset(frame, lookback, "return", features.FEATURES, horizon=horizon)


def assert_reloaded_run_predicts(run: Path, model_file: str, predict: Callable, forecast_line: str):
    """train.py --smoke wrote its test-day forecasts (made with the in-memory model and scalers)
    to predictions.csv; the saved model (`predict`, rebuilt from `model_file`) plus
    preprocessing.json, applied to windows rebuilt from the raw prices, gives the same forecasts.
    And predict.py, which reads the same files, printed (`forecast_line`) tomorrow's forecast
    as computed here from freshly fitted (the in-memory) scalers."""
    prep = windows.load_preprocessing(run, model_file)
    frame, data = goog_dataset(lookback=prep["lookback"], horizon=prep["horizon"])
    scaled = prep["feature_scaler"].transform(frame[prep["features"]].to_numpy(dtype=np.float64))
    starts = np.flatnonzero(frame.index.isin(data.test.dates)) - prep["lookback"]
    x = np.stack([scaled[s : s + prep["lookback"]] for s in starts]).astype(np.float32)
    assert np.array_equal(x, data.test.x)  # the windows, rebuilt with the reloaded scaler
    closes = windows.to_price(predict(x).reshape(len(x), -1)[:, 0], data.test.prev_close,
                              prep["target_scaler"], prep["target"])
    saved = pd.read_csv(run / "predictions.csv")
    np.testing.assert_allclose(closes, saved["seed_42"], rtol=1e-12)

    window = windows.latest_window(frame, data.feature_scaler, data.features, prep["lookback"])
    tomorrow = windows.to_price(predict(window).reshape(1, -1)[:, 0], frame["close"].iloc[-1:],
                                data.target_scaler, data.target)
    assert forecast_line.startswith("2013-03-04")
    assert float(forecast_line.split()[-1]) == round(tomorrow[0], 2)
