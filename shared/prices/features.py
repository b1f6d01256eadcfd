"""Technical indicators computed from daily OHLCV with pandas, each using past data only.

Every indicator at day t uses days <= t, so a window ending at day t never sees the future.
The first rows of each indicator are undefined (its warm-up); `add_indicators` drops them.
Prices should come from `shared.prices.market` (back-adjusted for splits, checked): on such prices
every indicator is finite after the warm-up.

Conventions (the usual ones, spelled out because libraries differ):
* EMA: `ewm(span=n, adjust=False)`, seeded with the first value.
* RSI: Wilder's: the average gain and loss start as the simple mean of the first n changes,
  then avg = (previous avg * (n - 1) + today's) / n. RSI is 100 when the average loss is 0,
  and 50 when the average gain is 0 too (no moves at all).
* Bollinger bands: 20-day mean +- 2 population standard deviations (ddof=0); %B is where the
  close sits between the bands (0 = lower band, 1 = upper band), 0.5 when the 20 closes are
  equal (the bands have no width).
* volume_change: today's volume over the volume of the latest earlier day that traded, minus
  1 (so a day without trades reads -1 and the next day compares with the last traded one).

Imported by shared.prices.windows (`add_indicators`, FEATURES), the train scripts of MemoryLLM
and CodeLLM's forecaster, the stage 3 vs 4 comparison and its report, and the tests.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from shared.runtime.errors import UserError

SMA_WINDOWS = (5, 20, 50)
EMA_SPANS = (12, 26)


def sma(series: pd.Series, window: int) -> pd.Series:
    return series.rolling(window, min_periods=window).mean()


def ema(series: pd.Series, span: int) -> pd.Series:
    return series.ewm(span=span, adjust=False).mean()


def wilder_average(values: pd.Series, window: int) -> pd.Series:
    """Wilder's smoothing of `values` (whose first entry is undefined, as a diff's is): the mean
    of entries 1..n on day n, then (previous * (n - 1) + today) / n; NaN before day n."""
    out = pd.Series(np.nan, index=values.index)
    if len(values) <= window:
        return out
    seeded = values.iloc[window:].copy()
    seeded.iloc[0] = values.iloc[1:window + 1].mean()
    # An EMA with alpha 1/n that starts from its first value is exactly Wilder's recursion.
    out.iloc[window:] = seeded.ewm(alpha=1 / window, adjust=False).mean().to_numpy()
    return out


def rsi(close: pd.Series, window: int = 14) -> pd.Series:
    change = close.diff()
    gain = wilder_average(change.clip(lower=0), window)
    loss = wilder_average((-change).clip(lower=0), window)
    value = 100 - 100 / (1 + gain / loss.where(loss > 0))
    value = value.where(loss > 0, np.where(gain > 0, 100.0, 50.0))  # no losses (0/0: no moves)
    return value.where(gain.notna())


def macd(close: pd.Series, fast: int = 12, slow: int = 26, signal: int = 9) -> pd.DataFrame:
    line = ema(close, fast) - ema(close, slow)
    signal_line = ema(line, signal)
    return pd.DataFrame({"macd": line, "macd_signal": signal_line,
                         "macd_hist": line - signal_line})


def bollinger(close: pd.Series, window: int = 20, width: float = 2.0) -> pd.DataFrame:
    mid = sma(close, window)
    std = close.rolling(window, min_periods=window).std(ddof=0)
    upper, lower = mid + width * std, mid - width * std
    band = upper - lower
    flat = band <= 1e-12 * mid.abs()  # 20 equal closes: the close sits mid-band
    percent_b = ((close - lower) / band.where(~flat)).where(~flat, 0.5).where(mid.notna())
    return pd.DataFrame({"bb_mid": mid, "bb_upper": upper, "bb_lower": lower,
                         "bb_percent_b": percent_b})


def log_return(close: pd.Series) -> pd.Series:
    return np.log(close / close.shift(1))


def volume_change(volume: pd.Series) -> pd.Series:
    """Relative change from the latest earlier day with volume > 0 (NaN before any trade)."""
    last_traded = volume.where(volume > 0).ffill().shift(1)
    return volume / last_traded - 1


def add_indicators(prices: pd.DataFrame) -> pd.DataFrame:
    """OHLCV plus every indicator, warm-up rows dropped.

    The slowest indicator (the 50-day SMA) needs 49 earlier days; the MACD's EMAs are defined
    from day one but start biased, so the warm-up also covers the slow EMA's span. Rows after
    the warm-up are never dropped: a gap in the middle would silently join two stretches of
    days, so an undefined value there stops with an error instead. Rows at the start whose
    volume change is undefined (no earlier day traded) extend the warm-up.
    """
    close = prices["close"]
    out = prices[["open", "high", "low", "close", "volume"]].copy()
    for window in SMA_WINDOWS:
        out[f"sma_{window}"] = sma(close, window)
    for span in EMA_SPANS:
        out[f"ema_{span}"] = ema(close, span)
    out["rsi_14"] = rsi(close, 14)
    out = out.join(macd(close)).join(bollinger(close))
    out["log_return"] = log_return(close)
    out["volume_change"] = volume_change(prices["volume"])
    warmup = max(max(SMA_WINDOWS), max(EMA_SPANS)) - 1
    out = out.iloc[warmup:]
    defined = np.isfinite(out.to_numpy(dtype="float64")).all(axis=1)
    first = int(np.argmax(defined)) if defined.any() else len(out)
    out = out.iloc[first:]
    if not defined[first:].all():
        row = out[~defined[first:]]
        column = row.columns[~np.isfinite(row.iloc[0].to_numpy(dtype="float64"))][0]
        raise UserError(f"prices: {column} is undefined on {row.index[0].date()} (a missing, zero "
                        "or infinite price?); load prices with shared.prices.market, which checks them")
    return out


FEATURES = ["open", "high", "low", "close", "volume",
            *(f"sma_{w}" for w in SMA_WINDOWS), *(f"ema_{s}" for s in EMA_SPANS), "rsi_14",
            "macd", "macd_signal", "macd_hist", "bb_mid", "bb_upper", "bb_lower", "bb_percent_b",
            "log_return", "volume_change"]
