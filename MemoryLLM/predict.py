"""Forecast the next trading day(s) with a model saved by train.py.

    cd MemoryLLM
    python predict.py                      # next trading day after the data's last day
    python predict.py --days 5             # five business days, each from the one before
    python predict.py --run-dir results/lstm-attention --csv my_prices.csv

For several days the script feeds each predicted close back in as a day of data (open, high,
low and close all equal to it, volume unchanged) and recomputes the indicators from it. Errors
compound: the further ahead, the less the forecast is worth.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

import joblib  # noqa: E402
import keras  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))  # run from any folder

import model as _custom_layers  # noqa: E402, F401  (registers the attention layer for loading)
from config import STAGE_DIR  # noqa: E402

from shared import features, market  # noqa: E402
from shared.errors import UserError, run_main  # noqa: E402


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--run-dir", default=str(STAGE_DIR / "results" / "lstm"),
                        help="run folder written by train.py (model.keras + preprocessing.joblib)")
    parser.add_argument("--days", type=int, default=1, help="business days to forecast")
    parser.add_argument("--source", default="bundled", choices=list(market.SOURCES),
                        help="where the latest prices come from")
    parser.add_argument("--ticker", default="GOOG", help="ticker of the prices")
    parser.add_argument("--csv", default=None, help="your own daily prices instead")
    parser.add_argument("--start", default=None, help="first date, YYYY-MM-DD (yfinance)")
    parser.add_argument("--end", default=None, help="use data up to this date, YYYY-MM-DD")
    return parser.parse_args(argv)


def load_run(run_dir: Path):
    model_path, prep_path = run_dir / "model.keras", run_dir / "preprocessing.joblib"
    for path in (model_path, prep_path):
        if not path.is_file():
            raise UserError(f"no {path.name} in {run_dir}; train one with `python train.py`")
    prep = joblib.load(prep_path)
    if prep["features"] != features.FEATURES:
        raise UserError(f"{run_dir} was trained on a different feature set "
                        f"({len(prep['features'])} features, now {len(features.FEATURES)}); retrain it")
    model = keras.saving.load_model(model_path)
    if model.input_shape[1:] != (prep["lookback"], len(prep["features"])):
        raise UserError(f"{model_path} expects windows of shape {model.input_shape[1:]}, not "
                        f"({prep['lookback']}, {len(prep['features'])}); retrain it")
    return model, prep


def next_close(model, prep, prices: pd.DataFrame) -> float:
    frame = features.add_indicators(prices)
    if len(frame) < prep["lookback"]:
        raise UserError(f"need at least {prep['lookback']} days after the indicator warm-up, "
                        f"got {len(frame)}")
    window = prep["feature_scaler"].transform(frame[prep["features"]].to_numpy()[-prep["lookback"]:])
    scaled = model.predict(window[np.newaxis].astype(np.float32), verbose=0).ravel()
    y = float(prep["target_scaler"].inverse_transform(scaled.reshape(-1, 1))[0, 0])
    last_close = float(frame["close"].iloc[-1])
    return last_close * float(np.exp(y)) if prep["target"] == "return" else y


def main(argv=None) -> list[tuple[str, float]]:
    args = parse_args(argv)
    if args.days < 1:
        raise UserError("--days must be at least 1")
    model, prep = load_run(Path(args.run_dir))
    prices = market.load_prices(args.source, args.ticker, args.csv, args.start, args.end)
    print(f"last day in the data: {prices.index[-1].date()}, close {prices['close'].iloc[-1]:.2f}")
    forecasts = []
    for _ in range(args.days):
        close = next_close(model, prep, prices)
        day = prices.index[-1] + pd.offsets.BDay(1)  # business days; holidays are not known
        prices.loc[day] = {**prices.iloc[-1].to_dict(), "open": close, "high": close, "low": close,
                           "close": close}
        forecasts.append((str(day.date()), close))
        print(f"{day.date()}  forecast close {close:.2f}")
    if args.days > 1:
        print("each day after the first is forecast from forecasts, not data: the uncertainty "
              "grows with every step, so treat the later days as a trend, not a price")
    return forecasts


if __name__ == "__main__":
    run_main(main)
