"""The data settings of the forecasting stages (3 and 4), declared once so both take the same
flags with the same defaults.

Imported by MemoryLLM/config.py and CodeLLM/forecaster/config.py, whose settings classes inherit
PriceDataConfig. Its fields are what the stages pass to shared.prices.market.load_prices and
shared.prices.windows.make_dataset.
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
