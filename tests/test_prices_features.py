"""shared/prices/features.py: the indicators by hand, on past data only, and finite on real prices."""

import math

import numpy as np
import pandas as pd
import pytest

from shared.prices import features, market
from shared.runtime.errors import UserError


def test_indicators_by_hand():
    s = pd.Series([1.0, 2.0, 3.0, 4.0, 5.0])
    assert features.sma(s, 3).tolist()[2:] == [2.0, 3.0, 4.0]
    # span 3 -> alpha 0.5: 1, 0.5*2 + 0.5*1 = 1.5, 0.5*3 + 0.5*1.5 = 2.25
    assert features.ema(s[:3], 3).tolist() == [1.0, 1.5, 2.25]
    # closes 1 2 3 2 3, window 2 (alpha 1/2): average gains 1, 1, 0.5, 0.75 and losses
    # 0, 0, 0.5, 0.25 from day 1; defined from day 2: RSI 100, 50, 75.
    r = features.rsi(pd.Series([1.0, 2.0, 3.0, 2.0, 3.0]), 2)
    assert r.tolist()[2:] == pytest.approx([100.0, 50.0, 75.0])
    assert r.iloc[:2].isna().all()
    # Window 3, where Wilder's seed (the simple mean of the first 3 changes) differs from an
    # EMA started on the first change: changes +1, -0.5, +1, -0.5, +1. Day 3: gain 2/3, loss
    # 1/6, RS 4 -> 80. Day 4: gain (2/3*2 + 0)/3 = 4/9, loss (1/6*2 + 0.5)/3 = 5/18, RS 1.6 ->
    # 800/13. Day 5: gain (4/9*2 + 1)/3 = 17/27, loss (5/18*2)/3 = 5/27, RS 3.4 -> 850/11.
    r = features.rsi(pd.Series([10.0, 11.0, 10.5, 11.5, 11.0, 12.0]), 3)
    assert r.iloc[:3].isna().all()
    assert r.tolist()[3:] == pytest.approx([80.0, 800 / 13, 850 / 11], rel=1e-12)
    assert features.rsi(pd.Series([5.0] * 6), 3).tolist()[3:] == [50.0] * 3  # no moves at all
    m = features.macd(pd.Series([1.0, 2.0, 3.0]), fast=1, slow=3, signal=1)
    assert m["macd"].tolist() == [0.0, 0.5, 0.75]  # close - EMA3
    assert m["macd_hist"].tolist() == [0.0, 0.0, 0.0]  # a span-1 signal equals the line
    b = features.bollinger(pd.Series([1.0, 3.0, 4.0]), window=2, width=2)
    # day 1: mean 2, std 1 -> bands 0..4, %B 3/4; day 2: mean 3.5, std 0.5 -> 2.5..4.5, %B 0.75
    assert b["bb_upper"].tolist()[1:] == [4.0, 4.5]
    assert b["bb_percent_b"].tolist()[1:] == [0.75, 0.75]
    assert features.log_return(pd.Series([1.0, math.e])).tolist()[1] == pytest.approx(1.0)


def test_add_indicators_drops_warmup_and_uses_only_the_past():
    prices = market.load_prices()
    frame = features.add_indicators(prices)
    assert list(frame.columns) == features.FEATURES
    assert not frame.isna().any().any()
    assert frame.index[0] == prices.index[49]  # the 50-day SMA's first full window
    # Changing the last day changes no indicator of earlier days.
    changed = prices.copy()
    changed.iloc[-1, :] *= 3
    again = features.add_indicators(changed)
    pd.testing.assert_frame_equal(frame.iloc[:-1], again.iloc[:-1])


def _wilder_rsi_loop(closes, n):
    """Wilder's RSI as he defined it, in plain Python: an independent check of features.rsi."""
    changes = [b - a for a, b in zip(closes[:-1], closes[1:], strict=True)]
    gains, losses = [max(c, 0.0) for c in changes], [max(-c, 0.0) for c in changes]
    avg_gain, avg_loss = sum(gains[:n]) / n, sum(losses[:n]) / n
    out = [None] * n + [100 - 100 / (1 + avg_gain / avg_loss)]
    for gain, loss in zip(gains[n:], losses[n:], strict=True):
        avg_gain, avg_loss = (avg_gain * (n - 1) + gain) / n, (avg_loss * (n - 1) + loss) / n
        out.append(100 - 100 / (1 + avg_gain / avg_loss))
    return out


def test_rsi_is_wilders_on_real_rows():
    closes = market.load_prices()["close"].iloc[:300]
    expected = _wilder_rsi_loop(closes.tolist(), 14)
    got = features.rsi(closes, 14)
    assert got.iloc[:14].isna().all()
    np.testing.assert_allclose(got.iloc[14:], expected[14:], rtol=1e-10)
    # An EMA started on the first change (the seeding this replaced) is more than a point off
    # on day 14, so the comparison above can tell the two apart.
    def ema_from_first(x):
        return x.ewm(alpha=1 / 14, adjust=False).mean()

    change = closes.diff()
    rs = ema_from_first(change.clip(lower=0)) / ema_from_first((-change).clip(lower=0))
    assert abs(got.iloc[14] - (100 - 100 / (1 + rs.iloc[14]))) > 1


def test_indicators_stay_finite_and_drop_no_row_in_the_middle():
    prices = market.load_prices().iloc[:200].copy()
    prices.iloc[100:125, :4] = 500.0  # 25 days without a move (a halted stock)
    prices.iloc[130, 4] = 0.0  # a day without trades
    frame = features.add_indicators(prices)
    assert list(frame.index) == list(prices.index[49:])
    assert np.isfinite(frame.to_numpy()).all()
    assert frame.loc[prices.index[124], "bb_percent_b"] == 0.5  # 20 equal closes: mid-band
    # No moves: Wilder's average gain and loss both shrink by 13/14 a day, so RSI holds still.
    flat_rsi = frame.loc[prices.index[101]:prices.index[124], "rsi_14"]
    np.testing.assert_allclose(flat_rsi, flat_rsi.iloc[0], rtol=1e-9)
    volume = prices["volume"]
    assert frame.loc[prices.index[130], "volume_change"] == -1.0
    # The day after compares with the last day that traded.
    assert frame.loc[prices.index[131], "volume_change"] == pytest.approx(
        volume.iloc[131] / volume.iloc[129] - 1)
    broken = prices.copy()
    broken.iloc[150, 3] = np.nan
    with pytest.raises(UserError, match="undefined on " + str(prices.index[150].date())):
        features.add_indicators(broken)
