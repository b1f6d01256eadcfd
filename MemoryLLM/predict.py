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
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

import keras

import model as _custom_layers  # noqa: F401  (registers the attention layer for loading)
from config import STAGE_DIR

from shared.prices import market, windows
from shared.runtime.errors import UserError, run_main


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--run-dir", default=str(STAGE_DIR / "results" / "lstm"),
                        help="run folder written by train.py (model.keras + preprocessing.json)")
    parser.add_argument("--days", type=int, default=1, help="business days to forecast")
    market.add_price_arguments(parser)
    return parser.parse_args(argv)


def load_run(run_dir: Path):
    prep = windows.load_preprocessing(run_dir, "model.keras")
    # safe_mode: a .keras file that would deserialize Python code (a Lambda layer) is refused
    model = keras.saving.load_model(run_dir / "model.keras", safe_mode=True)
    if model.input_shape[1:] != (prep["lookback"], len(prep["features"])):
        raise UserError(f"{run_dir / 'model.keras'} expects windows of shape "
                        f"{model.input_shape[1:]}, not ({prep['lookback']}, "
                        f"{len(prep['features'])}); retrain it")
    return model, prep


def next_close(model, prep, prices) -> list[float]:
    """The model's forecast close for the business day after `prices` ends."""
    return windows.forecast_closes(prices, prep, lambda window: model.predict(window, verbose=0).ravel())


def main(argv=None) -> list[tuple[str, float]]:
    args = parse_args(argv)
    if args.days < 1:
        raise UserError("--days must be at least 1")
    model, prep = load_run(Path(args.run_dir))
    prices = market.load_prices(args.source, args.ticker, args.csv, args.start, args.end,
                                allow_splits=args.allow_splits)
    print(f"last day in the data: {prices.index[-1].date()}, close {prices['close'].iloc[-1]:.2f}")
    forecasts = market.roll_forward(prices, args.days, lambda p: next_close(model, prep, p))
    for day, close in forecasts:
        print(f"{day}  forecast close {close:.2f}")
    if args.days > 1:
        print("each day after the first is forecast from forecasts, not data: the uncertainty "
              "grows with every step, so treat the later days as a trend, not a price")
    return forecasts


if __name__ == "__main__":
    run_main(main)
