"""The data settings of the forecasting stages (3 and 4), declared once so both take the same
flags with the same defaults.

Imported by MemoryLLM/config.py and CodeLLM/forecaster/config.py, whose settings classes inherit
PriceDataConfig. Its fields are what shared.prices.data.load_dataset reads to build a run's
windows.
"""

from __future__ import annotations

from dataclasses import dataclass

from shared.runtime.config import opt


@dataclass
class PriceDataConfig:
    """The data settings of the forecasting stages (3 and 4), declared once so both take the
    same flags with the same defaults: a stage's settings class inherits them."""

    source: str = opt("bundled", "bundled (offline, 2004-2013) or yfinance (network)",
                      choices=["bundled", "yfinance"])
    ticker: str = opt("GOOG", "bundled: GOOG, AAPL, IBM, MSFT")
    csv: str | None = opt(None, "your own daily prices: Date,Open,High,Low,Close,Volume "
                                "and, to back-adjust for splits and dividends, Adj Close", metavar="PATH")
    start: str | None = opt(None, "first date, YYYY-MM-DD")
    end: str | None = opt(None, "last date, YYYY-MM-DD")
    allow_splits: bool = opt(False, "keep split-like jumps (a close halving overnight, say) in prices "
                                    "that have no adjusted close; by default they stop the run")
    lookback: int = opt(60, "days in each input window")
    target: str = opt("return", "what the network predicts; metrics are always on price",
                      choices=["return", "price"])
    pool: list[str] = opt([], "other bundled tickers (e.g. --pool AAPL IBM MSFT) whose windows join the "
                              "training split only, each scaled on its own and ending before the "
                              "main series' validation period; validation and test stay the main's",
                          metavar="TICKER")
    train_windows: int | None = opt(None, "keep only the last N training windows (the data-need "
                                          "study); validation and test are unchanged", metavar="N")
