"""shared/prices/market.py, features.py, windows.py and forecast.py: hand-computed values."""

import math

import numpy as np
import pandas as pd
import pytest

from shared.prices import features, forecast, market, windows
from shared.runtime.errors import UserError


def test_bundled_goog_series():
    prices = market.load_prices()
    assert len(prices) == 2148
    assert prices.index[0] == pd.Timestamp("2004-08-19")
    assert prices.index[-1] == pd.Timestamp("2013-03-01")
    assert prices.index.is_monotonic_increasing and prices.index.is_unique
    assert list(prices.columns) == market.COLUMNS
    # GOOG's Adj Close is half its close on every row (the 2014 split, after this data ends):
    # anchored on the last row, that adjusts nothing, so these are the traded prices.
    assert prices.loc["2004-08-19", "close"] == pytest.approx(100.335)
    assert prices.loc["2013-03-01", "close"] == pytest.approx(806.19)
    assert len(market.load_prices(ticker="msft")) > 3000
    with pytest.raises(UserError, match="not in the bundled data"):
        market.load_prices(ticker="TSLA")


@pytest.fixture(scope="module")
def bundled_raw():
    table = pd.read_csv(market.bundled_path(), parse_dates=["Date"])
    return {t: g.set_index("Date") for t, g in table.groupby("Ticker")}


def test_bundled_msft_is_back_adjusted_with_its_adj_close(bundled_raw):
    raw, prices = bundled_raw["MSFT"], market.load_prices(ticker="MSFT")
    assert raw.loc["2003-02-18", "Close"] / raw.loc["2003-02-14", "Close"] < 0.52  # the 2:1 split
    # The adjusted close is the file's Adj Close, rescaled so that the last day is unchanged.
    anchor = raw["Close"].iloc[-1] / raw["Adj Close"].iloc[-1]
    np.testing.assert_allclose(prices["close"], raw["Adj Close"] * anchor, rtol=1e-12)
    assert prices["close"].iloc[-1] == raw["Close"].iloc[-1]
    # Every price of a day is scaled alike and volume inversely: dollar volume is unchanged.
    factor = prices["close"] / raw["Close"]
    for column in ("Open", "High", "Low"):
        np.testing.assert_allclose(prices[column.lower()], raw[column] * factor, rtol=1e-12)
    np.testing.assert_allclose(prices["volume"] * prices["close"], raw["Volume"] * raw["Close"],
                               rtol=1e-12)
    assert factor.loc["2003-02-14"] / factor.loc["2003-02-18"] == pytest.approx(0.5, rel=0.01)


@pytest.mark.parametrize("ticker, split_days", [("MSFT", ["2003-02-18"]),
                                                ("AAPL", ["2000-06-21", "2005-02-28"])])
def test_bundled_splits_leave_no_jump(bundled_raw, ticker, split_days):
    raw_moves = np.log(bundled_raw[ticker]["Close"]).diff()
    moves = np.log(market.load_prices(ticker=ticker)["close"]).diff()
    for day in split_days:
        assert raw_moves.loc[day] < -0.59 and abs(moves.loc[day]) < 0.1
    big = moves[moves.abs() > 0.3].index.strftime("%Y-%m-%d").tolist()
    # AAPL's one big day left is real: it fell by half on 2000-09-29 (a profit warning), and
    # its Adj Close falls alike.
    assert big == ([] if ticker == "MSFT" else ["2000-09-29"])


def test_a_split_without_an_adjusted_close_stops_unless_allowed(bundled_raw, tmp_path):
    raw = bundled_raw["MSFT"].drop(columns=["Ticker", "Adj Close"])
    raw.to_csv(tmp_path / "msft.csv")
    with pytest.raises(UserError) as err:
        market.load_prices(csv=tmp_path / "msft.csv")
    assert str(err.value) == (
        f"--csv {tmp_path / 'msft.csv'}: the close falls from 48.30 to 24.96 on 2003-02-18 (line "
        "745, ratio 0.52), which looks like a 2:1 stock split; add an 'Adj Close' column "
        "(back-adjusted prices), or pass --allow-splits to keep it on purpose")
    kept = market.load_prices(csv=tmp_path / "msft.csv", allow_splits=True)
    assert kept.loc["2003-02-18", "close"] == 24.96 and len(kept) == len(raw)
    # With the range cut before the split, nothing is split-like.
    assert market.load_prices(csv=tmp_path / "msft.csv", end="2003-02-14").index[-1] == \
        pd.Timestamp("2003-02-14")


def _write(path, text):
    path.write_text(text, encoding="utf-8")
    return path


def test_csv_loader_is_case_insensitive_sorts_and_adjusts(tmp_path, capsys):
    path = _write(tmp_path / "p.csv", "date,OPEN,High,low,Close,Volume,Adj_Close\n"
                  "2020-01-03,2,3,1,2.5,100,2.5\n2020-01-02,1,2,0.5,1.5,90,1.4\n"
                  "2020-01-03,2,3,1,2.5,100,2.5\n")
    prices = market.load_prices(csv=path)
    assert list(prices.index.strftime("%Y-%m-%d")) == ["2020-01-02", "2020-01-03"]
    assert list(prices.columns) == market.COLUMNS
    # Day 1's factor is 1.4 / 1.5 (the last day's is 1): every price times it, volume over it.
    assert prices.iloc[0].tolist() == pytest.approx([1.4 / 1.5, 2 * 1.4 / 1.5, 0.5 * 1.4 / 1.5,
                                                     1.4, 90 * 1.5 / 1.4])
    assert prices.iloc[1].tolist() == [2.0, 3.0, 1.0, 2.5, 100.0]
    err = capsys.readouterr().err
    assert "not in order" in err and "1 repeated row(s) dropped, e.g. line 4" in err


def test_csv_loader_errors(tmp_path):
    with pytest.raises(UserError, match="missing column.*volume"):
        market.load_csv(_write(tmp_path / "a.csv", "Date,Open,High,Low,Close\n2020-01-02,1,2,0,1\n"))
    with pytest.raises(UserError, match=r"line\(s\) \[3\]"):
        market.load_csv(_write(tmp_path / "b.csv", "Date,Open,High,Low,Close,Volume\n"
                               "2020-01-02,1,2,0,1,5\n2020-01-03,1,n/a,0,1,5\n"))
    with pytest.raises(UserError, match=r"line\(s\) \[2\]"):
        market.load_csv(_write(tmp_path / "c.csv", "Date,Open,High,Low,Close,Volume\n"
                               "2020-01-02,1,2,,1,5\n"))
    with pytest.raises(UserError, match="no such file"):
        market.load_csv(tmp_path / "none.csv")


def test_yfinance_empty_frame_is_a_clear_error(monkeypatch, tmp_path):
    yfinance = pytest.importorskip("yfinance")
    monkeypatch.setattr(yfinance, "download", lambda *a, **k: pd.DataFrame())
    with pytest.raises(UserError, match="no data for 'NOPE'"):
        market.load_prices(source="yfinance", ticker="NOPE", cache_dir=tmp_path)


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


@pytest.fixture(scope="module")
def goog_frame():
    return features.add_indicators(market.load_prices())


def test_split_is_chronological(goog_frame):
    data = windows.make_dataset(goog_frame, lookback=60)
    assert data.train.dates[-1] < data.val.dates[0] <= data.val.dates[-1] < data.test.dates[0]
    n = len(data.train.y) + len(data.val.y) + len(data.test.y)
    assert n == len(goog_frame) - 60
    assert len(data.test.y) == round(0.15 * n) and len(data.val.y) == round(0.15 * n)
    assert data.train.x.shape[1:] == (60, len(features.FEATURES))
    # Sample 0 predicts the day after its window and knows that window's last close.
    assert data.train.dates[0] == goog_frame.index[60]
    assert data.train.prev_close[0] == goog_frame["close"].iloc[59]
    np.testing.assert_allclose(data.to_price(data.test.y, data.test), data.test.close, rtol=1e-6)


@pytest.mark.parametrize("target", ["return", "price"])
def test_scalers_never_see_validation_or_test(goog_frame, target):
    data = windows.make_dataset(goog_frame, lookback=60, target=target)
    poisoned = goog_frame.copy()
    first_val_row = goog_frame.index.get_loc(data.val.dates[0])  # first day only val predicts
    poisoned.iloc[first_val_row:] *= 1000.0
    again = windows.make_dataset(poisoned, lookback=60, target=target)
    np.testing.assert_array_equal(data.feature_scaler.mean_, again.feature_scaler.mean_)
    np.testing.assert_array_equal(data.feature_scaler.scale_, again.feature_scaler.scale_)
    np.testing.assert_array_equal(data.target_scaler.mean_, again.target_scaler.mean_)
    np.testing.assert_array_equal(data.train.x, again.train.x)


def test_multi_day_targets_are_purged_at_split_boundaries(goog_frame):
    one, three = (windows.make_dataset(goog_frame, lookback=60, horizon=h) for h in (1, 3))
    assert three.train.y.shape[1:] == (3,) and three.test.future_close.shape[1:] == (3,)
    # Samples whose later targets would cross a boundary are dropped: the last training
    # target is the day just before validation's first, and the same for validation and test.
    for split, following in ((three.train, three.val), (three.val, three.test)):
        last_target_day = goog_frame.index[goog_frame.index.get_loc(split.dates[-1]) + 2]
        assert goog_frame.index.get_loc(following.dates[0]) - goog_frame.index.get_loc(
            last_target_day) == 1
    assert len(one.train.y) + len(one.val.y) + len(one.test.y) == len(goog_frame) - 60
    assert len(three.train.y) + len(three.val.y) + len(three.test.y) == len(goog_frame) - 62 - 4
    # Closes h days ahead: the last close times exp(sum of the first h log returns).
    np.testing.assert_allclose(three.to_price(three.test.y, three.test), three.test.future_close,
                               rtol=1e-5)
    np.testing.assert_allclose(three.test.future_close[:, 0], three.test.close)
    np.testing.assert_allclose(three.test.future_close[:-1, 1], three.test.close[1:])
    with pytest.raises(UserError, match="--horizon 400"):
        windows.make_dataset(goog_frame.iloc[:700], lookback=60, horizon=400)


def test_seed_spread_is_the_sample_standard_deviation():
    summary = forecast.summarise_seeds([{"rmse": 1.0}, {"rmse": 3.0}])
    assert summary == {"rmse_mean": 2.0, "rmse_std": pytest.approx(math.sqrt(2))}  # ddof=1


def test_too_short_series(goog_frame):
    with pytest.raises(UserError, match="too short"):
        windows.make_dataset(goog_frame.iloc[:150], lookback=60)
    with pytest.raises(UserError, match="--target"):
        windows.make_dataset(goog_frame, target="volume")


def test_price_metrics_by_hand():
    actual, predicted, previous = [10.0, 11.0, 12.0], [10.0, 12.0, 12.0], [9.0, 10.0, 11.0]
    m = forecast.price_metrics(actual, predicted, previous)
    assert m["test_rmse"] == pytest.approx(math.sqrt(1 / 3))
    assert m["test_mae"] == pytest.approx(1 / 3)
    assert m["test_mape"] == pytest.approx(100 * (1 / 11) / 3)
    assert m["test_r2"] == pytest.approx(0.5)  # SS_res 1, SS_tot 2
    assert m["test_directional_accuracy"] == 1.0
    assert m["test_theil_u"] == pytest.approx(math.sqrt(1 / 3))  # persistence RMSE is 1


def test_diebold_mariano_by_hand():
    # Loss differences d = [-1, 0, -1]: mean -2/3, variance of the mean 2/27, HLN factor
    # sqrt(2/3) -> statistic -2; two-sided p from Student t with 2 df: 2 * 0.0918 = 0.1835.
    stat, p = forecast.diebold_mariano([10.0, 11.0, 12.0], [10.0, 12.0, 12.0], [9.0, 10.0, 11.0])
    assert stat == pytest.approx(-2.0)
    assert p == pytest.approx(2 * (0.5 - 1 / math.sqrt(6)), rel=1e-6)


def test_baselines_by_hand():
    assert forecast.persistence([5.0, 6.0]).tolist() == [5.0, 6.0]
    assert forecast.drift([5.0, 6.0], train_close=[1.0, 2.0, 4.0]).tolist() == [6.5, 7.5]
    assert forecast.directional_accuracy([2.0, 0.0], [1.5, 1.0], [1.0, 1.0]) == 0.5


def test_date_range_filter():
    prices = market.load_prices(start="2010-01-01", end="2010-12-31")
    assert prices.index[0] == pd.Timestamp("2010-01-04") and prices.index[-1].year == 2010
    assert len(prices) == 252  # the trading days of 2010
