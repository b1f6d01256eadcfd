"""Daily market data for the forecasting stages (3 and 4): one clean, checked OHLCV DataFrame.

    from shared.prices import market
    prices = market.load_prices()                          # bundled GOOG 2004-2013, offline
    prices = market.load_prices(ticker="MSFT")             # AAPL, FB, GOOG, IBM, MSFT bundled
    prices = market.load_prices(csv="my_prices.csv")       # Date,Open,High,Low,Close,Volume[,Adj Close]
    prices = market.load_prices(source="yfinance", ticker="GOOG", start="2015-01-01")

Every loader returns columns open, high, low, close, volume, float64, indexed by a sorted, unique
DatetimeIndex named `date`, one row per trading day.

Splits and dividends. Where the source has an adjusted close (the bundled file, yfinance, a CSV
with a column such as `Adj Close`), open, high, low and close are back-adjusted with it and
volume inversely (factor = adjusted close / close, so dollar volume is unchanged); the factor
is scaled to 1 on the file's last row, so the latest prices are the traded ones. Without an
adjusted close (or with one that is a constant multiple of the close, which adjusts nothing
and so vouches for nothing, as GOOG's bundled one), a day-over-day move that looks like a
split (the close falling or rising by a ratio near 2, 3, 4, 5, 10 or 3/2, not undone the next
day) stops the run, unless `allow_splits=True` (`--allow-splits`) keeps it on purpose.

Checks (shared/prices/checks.py). A file that would reach training as silently wrong data stops
with one line naming the line(s) and the fix; rows out of order are sorted and exact duplicate
rows dropped, with a warning.

Imported by the train and predict scripts of MemoryLLM and CodeLLM's forecaster, the stage 3
vs 4 comparison, and the tests.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pandas as pd

from shared.prices import checks
from shared.runtime.errors import UserError

COLUMNS = checks.COLUMNS
SOURCES = ("bundled", "yfinance")


def bundled_path() -> Path:
    spec = importlib.util.find_spec("bokeh_sampledata")
    if spec is None or spec.origin is None:
        raise UserError("the 'bokeh-sampledata' package is not installed; run `make setup` first")
    return Path(spec.origin).parent / "_data" / "stocks.csv.gz"


def _back_adjust(frame: pd.DataFrame) -> pd.DataFrame:
    """Scale each day's prices by adjusted close / close and its volume inversely, relative to
    the last row (so the last day keeps its traded prices)."""
    factor = frame["adj_close"] / frame["close"]
    factor = factor / factor.iloc[-1]
    for column in ("open", "high", "low", "close"):
        frame[column] = frame[column] * factor
    frame["volume"] = frame["volume"] / factor
    return frame


def _clean(table: pd.DataFrame, origin: str, allow_splits: bool = False,
           start: str | None = None, end: str | None = None) -> pd.DataFrame:
    """A table of strings indexed by file line -> checked, back-adjusted daily OHLCV. Every
    row of the file is checked; the series checks (gaps, splits, spikes) cover start..end only,
    so a bad stretch can be cut away with --start/--end."""
    notes: list[str] = []  # warnings, printed only if the file passes (an error stays one line)
    raw, names = checks.named_columns(table, origin)
    frame = checks.parse_numbers(raw, names, origin)
    checks.check_rows(frame, names, origin)
    frame.insert(0, "date", checks.parse_dates(raw["date"], origin))
    frame = checks.sort_rows(frame, origin, notes)
    adjusted = "adj_close" in frame
    # An adjusted close that is the close times a constant adjusts nothing: it does not vouch
    # for the raw prices, which then get the split check (GOOG's bundled one is half its close).
    factor = frame["adj_close"] / frame["close"] if adjusted else None
    trusted = adjusted and float(factor.max() / factor.min()) > 1.01
    if adjusted:
        frame = _back_adjust(frame)  # anchored on the file's last row, whatever the range
    frame = _date_range(frame, origin, start, end)
    checks.check_series(frame, names, origin)
    # On the close the features use, so a typo in Adj Close shows up too.
    checks.check_jumps(frame, origin, splits=not (trusted or allow_splits),
                       what="adjusted close" if adjusted else "close")
    for note in notes:
        print(f"warning: {origin}: {note}", file=sys.stderr)
    return frame.set_index("date")[COLUMNS]


def _date_range(frame: pd.DataFrame, origin: str, start: str | None, end: str | None) -> pd.DataFrame:
    """The rows from start to end (inclusive; "2010" or "2010-06" mean the whole year/month)."""
    if not (start or end):
        return frame
    try:
        chosen = frame.set_index("date").loc[start:end].index
    except (KeyError, ValueError, TypeError):
        raise UserError(f"--start {start} / --end {end}: not dates; use YYYY-MM-DD") from None
    if chosen.empty:
        raise UserError(f"{origin}: no rows between {start or 'the start'} and {end or 'the end'} "
                        f"(the data runs from {frame['date'].iloc[0].date()} to "
                        f"{frame['date'].iloc[-1].date()})")
    return frame[frame["date"].isin(chosen)]


# -- the loaders --------------------------------------------------------------------------------

def load_bundled(ticker: str = "GOOG", allow_splits: bool = False, start: str | None = None,
                 end: str | None = None) -> pd.DataFrame:
    """A series shipped by `bokeh-sampledata` (daily OHLCV up to 2013-03-01, with Adj Close)."""
    table = checks.read_table(bundled_path(), "bundled prices")
    ticker = ticker.upper()
    available = sorted(table["Ticker"].dropna().unique())
    if ticker not in available:
        raise UserError(f"--ticker {ticker} is not in the bundled data ({', '.join(available)}); "
                        "use --source yfinance or --csv for other tickers")
    return _clean(table[table["Ticker"] == ticker].drop(columns="Ticker"), f"bundled {ticker}",
                  allow_splits, start, end)


def load_csv(path: str | Path, allow_splits: bool = False, start: str | None = None,
             end: str | None = None, origin: str | None = None) -> pd.DataFrame:
    """Your own daily prices: Date,Open,High,Low,Close,Volume and optionally Adj Close."""
    path = Path(path)
    origin = origin or f"--csv {path}"
    if not path.is_file():
        raise UserError(f"{origin}: no such file")
    return _clean(checks.read_table(path, origin), origin, allow_splits, start, end)


def load_yfinance(ticker: str, start: str | None, end: str | None, cache_dir: Path,
                  allow_splits: bool = False) -> pd.DataFrame:
    """Daily bars from Yahoo Finance through `yfinance`. The download is cached as it came (a
    CSV under `cache_dir`), so a cached run is checked and adjusted exactly as a fresh one."""
    cache = Path(cache_dir) / f"{ticker.upper()}_{start or 'first'}_{end or 'last'}.csv"
    if not cache.is_file():
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
        if isinstance(raw.columns, pd.MultiIndex):  # (field, ticker) in some yfinance versions
            raw.columns = raw.columns.get_level_values(0)
        cache.parent.mkdir(parents=True, exist_ok=True)
        partial = cache.with_suffix(".part")
        raw.rename_axis("Date").reset_index().to_csv(partial, index=False)
        partial.replace(cache)  # atomic: an interrupted download leaves no half file
    return load_csv(cache, allow_splits, start, end, origin=f"yfinance {ticker} (cached in {cache})")


def load_prices(source: str = "bundled", ticker: str = "GOOG", csv: str | Path | None = None,
                start: str | None = None, end: str | None = None,
                cache_dir: str | Path = ".cache/prices", allow_splits: bool = False) -> pd.DataFrame:
    """One entry point for every stage: `--csv` wins, then `--source`. `start`/`end` pick the
    days (inclusive); `allow_splits` keeps split-like moves in a series with no adjusted close."""
    if csv:
        return load_csv(csv, allow_splits, start, end)
    if source == "bundled":
        return load_bundled(ticker, allow_splits, start, end)
    if source == "yfinance":
        return load_yfinance(ticker, start, end, Path(cache_dir), allow_splits)
    raise UserError(f"--source {source}: choose one of {', '.join(SOURCES)}")


def add_price_arguments(parser, default_ticker: str = "GOOG") -> None:
    """The data flags of a predict.py (train.py gets the same ones from its settings)."""
    parser.add_argument("--source", default="bundled", choices=list(SOURCES),
                        help="where the latest prices come from")
    parser.add_argument("--ticker", default=default_ticker, help="ticker of the prices")
    parser.add_argument("--csv", default=None,
                        help="your own daily prices instead (Date,Open,High,Low,Close,Volume[,Adj Close])")
    parser.add_argument("--start", default=None, help="first date, YYYY-MM-DD (yfinance)")
    parser.add_argument("--end", default=None, help="use data up to this date, YYYY-MM-DD")
    parser.add_argument("--allow-splits", action="store_true",
                        help="keep split-like jumps in prices that have no adjusted close")


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
