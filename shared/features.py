"""Technical indicators computed from daily OHLCV with pandas, each using past data only.

Every indicator at day t uses days <= t, so a window ending at day t never sees the future.
The first rows of each indicator are undefined (its warm-up); `add_indicators` drops them.

Conventions (the usual ones, spelled out because libraries differ):
* EMA: `ewm(span=n, adjust=False)`, seeded with the first value.
* RSI: Wilder's smoothing, an EMA with alpha = 1/n of gains and of losses.
* Bollinger bands: 20-day mean +- 2 population standard deviations (ddof=0); %B is where the
  close sits between the bands (0 = lower band, 1 = upper band).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

SMA_WINDOWS = (5, 20, 50)
EMA_SPANS = (12, 26)


def sma(series: pd.Series, window: int) -> pd.Series:
    return series.rolling(window, min_periods=window).mean()


def ema(series: pd.Series, span: int) -> pd.Series:
    return series.ewm(span=span, adjust=False).mean()


def rsi(close: pd.Series, window: int = 14) -> pd.Series:
    change = close.diff()
    gain = change.clip(lower=0).ewm(alpha=1 / window, adjust=False, min_periods=window).mean()
    loss = (-change).clip(lower=0).ewm(alpha=1 / window, adjust=False, min_periods=window).mean()
    # All gains, no losses: RSI is 100 (avoid 0/0 -> NaN).
    return (100 - 100 / (1 + gain / loss)).where(loss > 0, 100.0).where(gain.notna())


def macd(close: pd.Series, fast: int = 12, slow: int = 26, signal: int = 9) -> pd.DataFrame:
    line = ema(close, fast) - ema(close, slow)
    signal_line = ema(line, signal)
    return pd.DataFrame({"macd": line, "macd_signal": signal_line,
                         "macd_hist": line - signal_line})


def bollinger(close: pd.Series, window: int = 20, width: float = 2.0) -> pd.DataFrame:
    mid = sma(close, window)
    std = close.rolling(window, min_periods=window).std(ddof=0)
    upper, lower = mid + width * std, mid - width * std
    return pd.DataFrame({"bb_mid": mid, "bb_upper": upper, "bb_lower": lower,
                         "bb_percent_b": (close - lower) / (upper - lower)})


def log_return(close: pd.Series) -> pd.Series:
    return np.log(close / close.shift(1))


def add_indicators(prices: pd.DataFrame) -> pd.DataFrame:
    """OHLCV plus every indicator, warm-up rows dropped.

    The slowest indicator (the 50-day SMA) needs 49 earlier days; the MACD's EMAs are defined
    from day one but start biased, so the warm-up also covers the slow EMA's span.
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
    out["volume_change"] = prices["volume"].pct_change().replace([np.inf, -np.inf], np.nan)
    warmup = max(max(SMA_WINDOWS), max(EMA_SPANS)) - 1
    return out.iloc[warmup:].dropna()


FEATURES = ["open", "high", "low", "close", "volume",
            *(f"sma_{w}" for w in SMA_WINDOWS), *(f"ema_{s}" for s in EMA_SPANS), "rsi_14",
            "macd", "macd_signal", "macd_hist", "bb_mid", "bb_upper", "bb_lower", "bb_percent_b",
            "log_return", "volume_change"]
