"""shared/prices/market.py: the bundled prices, their back-adjustment and split checks, the CSV
and yfinance loaders, the date range. (features.py, windows.py and forecast.py have their own
test modules, test_prices_*.py.)"""

import numpy as np
import pandas as pd
import pytest

from shared.prices import market
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


def test_date_range_filter():
    prices = market.load_prices(start="2010-01-01", end="2010-12-31")
    assert prices.index[0] == pd.Timestamp("2010-01-04") and prices.index[-1].year == 2010
    assert len(prices) == 252  # the trading days of 2010
