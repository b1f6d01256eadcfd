"""Daily market data for the forecasting stages (3 and 4): one clean OHLCV DataFrame.

    from shared import market
    prices = market.load_prices()                          # bundled GOOG 2004-2013, offline
    prices = market.load_prices(ticker="MSFT")             # AAPL, FB, GOOG, IBM, MSFT bundled
    prices = market.load_prices(csv="my_prices.csv")       # Date,Open,High,Low,Close,Volume
    prices = market.load_prices(source="yfinance", ticker="GOOG", start="2015-01-01")

Every loader returns columns open, high, low, close, volume (and adj_close when the source has
it), float64, indexed by a sorted, unique DatetimeIndex named `date`.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pandas as pd

from shared.errors import UserError

COLUMNS = ["open", "high", "low", "close", "volume"]
SOURCES = ("bundled", "yfinance")


def bundled_path() -> Path:
    spec = importlib.util.find_spec("bokeh_sampledata")
    if spec is None or spec.origin is None:
        raise UserError("the 'bokeh-sampledata' package is not installed; run `make setup` first")
    return Path(spec.origin).parent / "_data" / "stocks.csv.gz"


def _clean(frame: pd.DataFrame, origin: str) -> pd.DataFrame:
    """Lower-case columns, check them, parse dates and numbers, sort, drop duplicate dates."""
    frame = frame.rename(columns=lambda c: str(c).strip().lower().replace(" ", "_"))
    missing = [c for c in ["date", *COLUMNS] if c not in frame.columns]
    if missing:
        raise UserError(f"{origin}: missing column(s) {', '.join(missing)}; need Date, Open, "
                        "High, Low, Close, Volume (any case; Adj Close optional)")
    keep = ["date", *COLUMNS] + (["adj_close"] if "adj_close" in frame.columns else [])
    frame = frame[keep].copy()
    dates = pd.to_datetime(frame["date"], errors="coerce")
    if dates.isna().any():
        rows = (frame.index[dates.isna()] + 2).tolist()[:5]  # +2: header line, 1-based
        raise UserError(f"{origin}: unreadable dates on line(s) {rows}")
    frame["date"] = dates
    numbers = frame[keep[1:]].apply(pd.to_numeric, errors="coerce")
    bad = numbers.isna().any(axis=1)
    if bad.any():
        rows = (frame.index[bad] + 2).tolist()[:5]
        raise UserError(f"{origin}: missing or non-numeric values on line(s) {rows} "
                        f"({int(bad.sum())} rows in all); fix or remove them")
    frame[keep[1:]] = numbers.astype("float64")
    frame = frame.set_index("date")
    if not frame.index.is_monotonic_increasing:
        print(f"warning: {origin}: dates were not in order; sorted them", file=sys.stderr)
        frame = frame.sort_index(kind="stable")
    duplicated = frame.index.duplicated(keep="last")
    if duplicated.any():
        days = [d.date().isoformat() for d in frame.index[duplicated][:3]]
        print(f"warning: {origin}: {int(duplicated.sum())} duplicated date(s), e.g. {days}; "
              "kept the last row of each", file=sys.stderr)
        frame = frame[~duplicated]
    return frame


def load_bundled(ticker: str = "GOOG") -> pd.DataFrame:
    """A series shipped by `bokeh-sampledata` (daily, unadjusted OHLCV, up to 2013-03-01)."""
    table = pd.read_csv(bundled_path())
    ticker = ticker.upper()
    available = sorted(table["Ticker"].unique())
    if ticker not in available:
        raise UserError(f"--ticker {ticker} is not in the bundled data ({', '.join(available)}); "
                        "use --source yfinance or --csv for other tickers")
    return _clean(table[table["Ticker"] == ticker].drop(columns="Ticker").reset_index(drop=True),
                  f"bundled {ticker}")


def load_csv(path: str | Path) -> pd.DataFrame:
    path = Path(path)
    if not path.is_file():
        raise UserError(f"--csv {path}: no such file")
    try:
        table = pd.read_csv(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as err:
        raise UserError(f"--csv {path}: not a readable CSV ({type(err).__name__})") from None
    return _clean(table, f"--csv {path}")


def load_yfinance(ticker: str, start: str | None, end: str | None, cache_dir: Path) -> pd.DataFrame:
    """Daily bars from Yahoo Finance through `yfinance`, cached as CSV under `cache_dir`."""
    cache = Path(cache_dir) / f"{ticker.upper()}_{start or 'first'}_{end or 'last'}.csv"
    if cache.is_file():
        return load_csv(cache)
    try:
        import yfinance
    except ImportError:
        raise UserError("--source yfinance needs the 'yfinance' package; run `make setup`") from None
    try:
        raw = yfinance.download(ticker, start=start, end=end, auto_adjust=False, progress=False,
                                multi_level_index=False)
    except Exception as err:  # yfinance raises many kinds; the user needs one line
        raise UserError(f"yfinance could not fetch {ticker}: {type(err).__name__}") from None
    if raw is None or raw.empty:  # yfinance returns an empty frame when offline or unknown
        raise UserError(f"yfinance returned no data for {ticker!r} (offline, unknown ticker, or "
                        "no trading days in the range); the bundled data works offline")
    frame = _clean(raw.reset_index().rename(columns={"Date": "date"}), f"yfinance {ticker}")
    cache.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(cache)
    return frame


def load_prices(source: str = "bundled", ticker: str = "GOOG", csv: str | Path | None = None,
                start: str | None = None, end: str | None = None,
                cache_dir: str | Path = ".cache/prices") -> pd.DataFrame:
    """One entry point for every stage: `--csv` wins, then `--source`."""
    if csv:
        frame = load_csv(csv)
    elif source == "bundled":
        frame = load_bundled(ticker)
    elif source == "yfinance":
        frame = load_yfinance(ticker, start, end, Path(cache_dir))
    else:
        raise UserError(f"--source {source}: choose one of {', '.join(SOURCES)}")
    if (csv or source == "bundled") and (start or end):  # yfinance was asked for the range
        frame = frame.loc[start:end]
    return frame


def add_price_arguments(parser, default_ticker: str = "GOOG") -> None:
    """The data flags of a predict.py (train.py gets the same ones from its settings)."""
    parser.add_argument("--source", default="bundled", choices=list(SOURCES),
                        help="where the latest prices come from")
    parser.add_argument("--ticker", default=default_ticker, help="ticker of the prices")
    parser.add_argument("--csv", default=None, help="your own daily prices instead")
    parser.add_argument("--start", default=None, help="first date, YYYY-MM-DD (yfinance)")
    parser.add_argument("--end", default=None, help="use data up to this date, YYYY-MM-DD")


def roll_forward(prices: pd.DataFrame, days: int, forecast) -> list[tuple[str, float]]:
    """Forecast `days` business days past the end of `prices`. `forecast(prices)` returns the
    next close(s); each is appended as a day of data (open, high, low and close all equal to
    it, volume unchanged) so the next call's indicators see it. Holidays are not known."""
    prices = prices.copy()
    out: list[tuple[str, float]] = []
    while len(out) < days:
        for close in list(forecast(prices))[: days - len(out)]:
            day = prices.index[-1] + pd.offsets.BDay(1)
            prices.loc[day] = {**prices.iloc[-1].to_dict(), "open": close, "high": close,
                               "low": close, "close": close}
            out.append((str(day.date()), float(close)))
    return out
