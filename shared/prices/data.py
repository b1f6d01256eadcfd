"""The windows a forecasting run (stages 3 and 4) trains and is judged on, from its data settings.

    data = load_dataset(cfg)   # cfg: a PriceDataConfig (stage 4's adds --horizon)

The main series (--ticker, or --csv) is loaded, gets its indicators and is cut into windows
and split in time (shared/prices/windows.py); `--train-windows N` keeps only its last N
training windows. `--pool AAPL IBM` adds other tickers' windows to the training split only:
each pooled series is loaded the same way (same --source, --start, --end), cut before the main
series' first validation day, so none of its windows reads or predicts a day of the validation
or test period, and scaled by its own scalers, fitted on those rows (prices and returns differ
by ticker: each series is standardised on its own). Validation and test are the main series'
alone, exactly as without a pool; so are the main scalers that predict.py reuses. With both,
--train-windows cuts the main series' windows only; the pooled ones are added in full.

Imported by the train scripts of MemoryLLM and CodeLLM's forecaster, and the tests.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from shared.prices import features, market, windows
from shared.runtime.errors import UserError


def load_prices(cfg, ticker: str | None = None, csv: str | None = None) -> pd.DataFrame:
    """One series' daily prices, loaded as `cfg` says (--source, --start, --end, --allow-splits)."""
    return market.load_prices(cfg.source, ticker or cfg.ticker, csv, cfg.start, cfg.end,
                              allow_splits=cfg.allow_splits)


def add_pool(data: windows.Dataset, prices: dict[str, pd.DataFrame], main: str) -> windows.Dataset:
    """`data` with the training windows of each series in `prices` ({ticker: daily prices})
    appended to its train split's x and y. Each series is cut before the main series' first
    validation day before its indicators are computed, so every day a pooled window reads or
    predicts, and every value its scalers see, lies before it; each series gets its own
    scalers, fitted on its windows' rows."""
    cutoff = data.val.dates[0]
    pool = {}
    for ticker, series in prices.items():
        before = series[series.index < cutoff]
        pooled = None
        if len(before) >= data.lookback + data.horizon:  # else no window, warm-up or not
            pooled = windows.training_windows(features.add_indicators(before), data.lookback,
                                              data.target, data.features, data.horizon)
        if pooled is None:
            raise UserError(
                f"--pool {ticker}: nothing to train on: its prices run {series.index[0].date()} to "
                f"{series.index[-1].date()}, and only windows that end before {main}'s validation "
                f"period (from {cutoff.date()}) may join training ({len(before)} days before it, "
                f"too few for one window of --lookback {data.lookback} after the indicator warm-up)")
        pool[ticker] = pooled
    if not pool:
        return data
    train = data.train
    x = np.concatenate([train.x, *(p.train.x for p in pool.values())])
    y = np.concatenate([train.y, *(p.train.y for p in pool.values())])
    data.train = windows.Split(x, y, train.dates, train.prev_close, train.close, train.future_close)
    data.pool = pool
    return data


def pool_tickers(cfg) -> list[str]:
    """--pool, upper-cased and checked: no repeats, not the main ticker."""
    tickers = [t.upper() for t in getattr(cfg, "pool", None) or []]
    main = None if cfg.csv else cfg.ticker.upper()
    for i, ticker in enumerate(tickers):
        if ticker == main:
            raise UserError(f"--pool {ticker}: that is the main --ticker; pool other tickers, whose "
                            "windows join its training split")
        if ticker in tickers[:i]:
            raise UserError(f"--pool {ticker}: listed twice")
    return tickers


def load_dataset(cfg, log: Callable[[str], object] = print) -> windows.Dataset:
    """The dataset of a run: the main series' windows, the last --train-windows of them for
    training if set, plus the training windows of every --pool ticker. `log` prints one line
    about the pool (a multi-process run passes its main process's print)."""
    tickers = pool_tickers(cfg)  # checked before any loading
    frame = features.add_indicators(load_prices(cfg, csv=cfg.csv))
    data = windows.make_dataset(frame, cfg.lookback, cfg.target,
                                features.FEATURES, horizon=getattr(cfg, "horizon", 1),
                                max_train=getattr(cfg, "train_windows", None))
    if tickers:
        main = cfg.csv or cfg.ticker.upper()
        data = add_pool(data, {t: load_prices(cfg, ticker=t) for t in tickers}, main)
        log("pool: training windows added, each series scaled on its own, all before "
            f"{data.val.dates[0].date()}: "
            + ", ".join(f"{t} {len(p.train.y)}" for t, p in data.pool.items())
            + f" (main series {data.main_train})")
    return data
