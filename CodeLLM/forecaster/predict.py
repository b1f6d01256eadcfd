"""Forecast the next trading day(s) with a model saved by train.py.

    cd CodeLLM/forecaster
    python predict.py                          # the transformer: next trading day(s)
    python predict.py --days 5                 # five business days
    python predict.py --run-dir results/lstm --csv my_prices.csv

A model trained with --horizon H forecasts H days in one go. For more days than that, the
script appends each forecast close as a day of data (open, high, low and close all equal to it,
volume unchanged), recomputes the indicators, and forecasts again: errors compound.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

from config import STAGE_DIR
from model import build_model

from shared.prices import market, windows
from shared.runtime import files
from shared.runtime.errors import UserError, run_main


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--run-dir", default=str(STAGE_DIR / "results" / "transformer"),
                        help="run folder written by train.py (model.pt + preprocessing.json)")
    parser.add_argument("--days", type=int, default=None,
                        help="business days to forecast (default: the model's horizon)")
    market.add_price_arguments(parser)
    return parser.parse_args(argv)


def load_run(run_dir: Path):
    prep = windows.load_preprocessing(run_dir, "model.pt")
    checkpoint = files.load_checkpoint(run_dir / "model.pt")
    if checkpoint.get("model_config", {}).get("n_features") != len(prep["features"]):
        raise UserError(f"{run_dir / 'model.pt'} does not match its preprocessing.json; retrain it")
    model = build_model(checkpoint["model_config"])
    model.load_state_dict(checkpoint["model_state"])
    return model.eval(), prep


@torch.no_grad()
def next_closes(model, prep, prices) -> list[float]:
    """The model's forecast closes for the `horizon` business days after `prices` ends."""
    return windows.forecast_closes(prices, prep,
                                   lambda window: model(torch.from_numpy(window)).numpy())  # (1, horizon)


def main(argv=None) -> list[tuple[str, float]]:
    args = parse_args(argv)
    model, prep = load_run(Path(args.run_dir))
    days = prep["horizon"] if args.days is None else args.days
    if days < 1:
        raise UserError("--days must be at least 1")
    prices = market.load_prices(args.source, args.ticker, args.csv, args.start, args.end,
                                allow_splits=args.allow_splits)
    print(f"last day in the data: {prices.index[-1].date()}, close {prices['close'].iloc[-1]:.2f}")
    forecasts = market.roll_forward(prices, days, lambda p: next_closes(model, prep, p))
    for day, close in forecasts:
        print(f"{day}  forecast close {close:.2f}")
    if days > prep["horizon"]:
        print(f"days after the first {prep['horizon']} are forecast from forecasts, not data: "
              "the uncertainty grows with every step, so treat them as a trend, not a price")
    return forecasts


if __name__ == "__main__":
    run_main(main)
