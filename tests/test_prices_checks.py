"""shared/prices/market.py (and checks.py) on malformed price files: each stops with one line
naming the row and the fix.

Every case starts from one valid file of 40 business days and breaks one thing in it."""

import gzip

import numpy as np
import pandas as pd
import pytest
from conftest import assert_one_line_error, assert_user_error, run_script

from shared.prices import market
from shared.runtime.errors import UserError

HEADER = "Date,Open,High,Low,Close,Volume"


def _rows(n: int = 40, adjusted: bool = False) -> list[list[str]]:
    """A valid random walk: one row per business day from 2020-01-02, moves under 2%."""
    rng = np.random.default_rng(0)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, n)))
    rows = []
    for day, c in zip(pd.bdate_range("2020-01-02", periods=n), close, strict=True):
        row = [str(day.date()), f"{c * 0.998:.2f}", f"{c * 1.01:.2f}", f"{c * 0.99:.2f}",
               f"{c:.2f}", str(1000 + int(c))]
        rows.append(row + ([f"{c * 0.9:.4f}"] if adjusted else []))
    return rows


def _text(rows, header=HEADER) -> str:
    return "\n".join([header, *(",".join(r) for r in rows)]) + "\n"


def _load(tmp_path, text, name="p.csv", **kwargs):
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return market.load_csv(path, **kwargs)


def _error(tmp_path, text, **kwargs) -> str:
    with pytest.raises(UserError) as err:
        _load(tmp_path, text, **kwargs)
    message = str(err.value)
    assert "\n" not in message
    return message


def _set(rows, line, column, value):
    """Rows with the value in `column` (0 = Date) of file line `line` (header = 1) replaced."""
    rows = [list(r) for r in rows]
    rows[line - 2][column] = value
    return rows


def test_the_valid_file_loads(tmp_path):
    prices = _load(tmp_path, _text(_rows()))
    assert len(prices) == 40 and list(prices.columns) == market.COLUMNS
    assert prices.index[0] == pd.Timestamp("2020-01-02") and prices.index.is_monotonic_increasing


ROWS = _rows()
CASES = {  # name: (file text, fragment of the one-line error)
    "empty": ("", "the file is empty"),
    "blank lines only": ("\n\n  \n", "the file is empty"),
    "header only": (HEADER + "\n", "header line but no rows"),
    "missing volume": (_text([r[:5] for r in ROWS], "Date,Open,High,Low,Close"),
                       "missing column(s) volume"),
    "no header line": (_text(ROWS[1:], ",".join(ROWS[0])), "the first line is data"),
    "unnamed date column": (_text(ROWS, ",Open,High,Low,Close,Volume"), "call it Date"),
    "yfinance three-line header": (
        "Price,Close,High,Low,Open,Volume\nTicker,X,X,X,X,X\nDate,,,,,\n2020-01-02,1,1,1,1,1\n",
        "three-line header"),
    "semicolons": ("\n".join([HEADER.replace(",", ";"),
                              *(";".join(v.replace(".", ",") for v in r) for r in ROWS)]),
                   "separated by semicolons"),
    "tabs": (_text(ROWS).replace(",", "\t"), "separated by tabs"),
    "two close columns": (_text([r + [r[4]] for r in ROWS], HEADER + ",close"),
                          "'Close', 'close' are all read as close"),
    "a repeated column": (_text([r + [r[4]] for r in ROWS], HEADER + ",Close"),
                          "'Close', 'Close.1' are all read as close"),
    "one row too long": (_text(_set(ROWS, 6, 4, "1,234.5")), "line 6 has 7 fields but the header has 6"),
    "every row too long": (_text([r + ["x"] for r in ROWS]), "more fields than the header"),
    "unreadable date": (_text(_set(ROWS, 5, 0, "2020-13-45")), "unreadable date on line(s) [5]"),
    "a second date format": (_text(_set(ROWS, 7, 0, "01/10/2020")),
                             "line(s) [7] (e.g. '01/10/2020'; the first date, '2020-01-02', reads as "
                             "%Y-%m-%d)"),
    "day/month dates": (_text([[pd.Timestamp(r[0]).strftime("%d/%m/%Y"), *r[1:]] for r in ROWS]),
                        "unreadable date on line(s) [9,"),
    "a repeated header line": (_text(_set(ROWS, 9, 0, "Date")), "a repeated header line?"),
    "a missing date": (_text(_set(ROWS, 4, 0, "")), "no date on line(s) [4]"),
    "intraday bars": (_text([[r[0] + t, *r[1:]] for r in ROWS[:20] for t in (" 10:00", " 11:00")]),
                      "intraday bars"),
    "a future date": (_text([*ROWS, ["2999-01-04", *ROWS[-1][1:]]]), "in the future on line(s) [42]"),
    "weekly bars": (_text([[str(d.date()), *r[1:]] for d, r in
                           zip(pd.date_range("2020-01-06", periods=40, freq="W-MON"), ROWS, strict=True)]),
                    "7 days apart (weekly or monthly bars?)"),
    "a month missing": (_text(ROWS[:20] + [[str((pd.Timestamp(r[0]) + pd.Timedelta(days=40)).date()),
                                            *r[1:]] for r in ROWS[20:]]),
                        "no rows for 41 days between 2020-01-29 (line 21) and 2020-03-10 (line 22)"),
    "two different rows for a day": (_text(ROWS[:10] + [_set(ROWS, 11, 4, ROWS[9][1])[9]] + ROWS[10:]),
                                     "two different rows for 2020-01-15 on line(s) [11, 12]"),
    "text for a number": (_text(_set(ROWS, 8, 4, "abc")),
                          "Close is not a number on line(s) [8] (e.g. 'abc')"),
    "a thousands separator": (_text(_set(ROWS, 8, 5, '"1,234"')),
                              "Volume is not a number on line(s) [8] (e.g. '1,234': a thousands separator"),
    "a decimal comma": (_text(_set(ROWS, 3, 2, '"101,5"')), "a decimal comma?"),
    "an empty value": (_text(_set(ROWS, 12, 3, "")), "missing Low value on line(s) [12]"),
    "a cell of spaces": (_text(_set(ROWS, 12, 3, "   ")), "missing Low value on line(s) [12]"),
    "NaN": (_text(_set(ROWS, 12, 3, "NaN")), "missing Low value on line(s) [12]"),
    "inf": (_text(_set(ROWS, 13, 1, "inf")), "Open is infinite on line(s) [13]"),
    "a zero price": (_text(_set(ROWS, 14, 4, "0")), "Close is zero or negative on line(s) [14]"),
    "a negative price": (_text(_set(ROWS, 15, 3, "-1")), "Low is zero or negative on line(s) [15]"),
    "a negative volume": (_text(_set(ROWS, 16, 5, "-5")), "Volume is negative on line(s) [16]"),
    "high below low": (_text(_set(_set(ROWS, 17, 2, ROWS[15][3]), 17, 3, ROWS[15][2])),
                       "High is below Low on line(s) [17]"),
    "close above high": (_text(_set(ROWS, 18, 4, f"{float(ROWS[16][2]) * 1.05:.2f}")),
                         "Close is outside the day's Low..High on line(s) [18]"),
    "open below low": (_text(_set(ROWS, 19, 1, f"{float(ROWS[17][3]) * 0.9:.2f}")),
                       "Open is outside the day's Low..High on line(s) [19]"),
    "no volume at all": (_text([[*r[:5], "0"] for r in ROWS]), "Volume is 0 on every row"),
    "a typo spike": (_text(_set(_set(_set(_set(ROWS, 20, 4, "1012.00"), 20, 2, "1020.00"), 20, 1, "1000"),
                                20, 3, "990")),
                     "the close jumps from"),
}


@pytest.mark.parametrize("name", list(CASES))
def test_malformed_file_gets_a_one_line_error(tmp_path, name):
    text, fragment = CASES[name]
    assert fragment in _error(tmp_path, text)


def test_binary_and_foreign_encodings(tmp_path):
    assert "Excel workbook" in _error(tmp_path, b"PK\x03\x04 rest of a zip")
    assert "UTF-16" in _error(tmp_path, _text(ROWS).encode("utf-16"))
    assert "not UTF-8" in _error(tmp_path, _text(ROWS).replace("Volume", "Volum\xe9") .encode("latin-1")
                                 + b"2020-03-02,1,1,1,1,1\n")
    with pytest.raises(UserError, match="no such file"):
        market.load_csv(tmp_path / "missing.csv")


def test_line_numbers_count_blank_lines(tmp_path):
    def spaced(rows):
        return _text(rows).replace("\n", "\n\n", 3)  # blank lines 2, 4 and 6

    # The 7th row is on line 8 of the plain file, on line 11 after three blank lines.
    assert "Close is not a number on line(s) [11]" in _error(tmp_path, spaced(_set(ROWS, 8, 4, "abc")))
    assert len(_load(tmp_path, spaced(ROWS))) == 40


def test_what_is_accepted(tmp_path, capsys):
    reversed_rows = _load(tmp_path, _text(ROWS[::-1]))
    assert reversed_rows.index.is_monotonic_increasing and "newest first" in capsys.readouterr().err
    repeated = _load(tmp_path, _text(ROWS[:5] + ROWS[4:]))
    assert len(repeated) == 40 and "1 repeated row(s) dropped, e.g. line 7" in capsys.readouterr().err
    # A UTF-8 byte-order mark, a trailing comma on every line, a close stamped 16:00, UTC
    # offsets that change with summer time, and a gzipped file: all read as the plain file.
    plain = _load(tmp_path, _text(ROWS))
    pd.testing.assert_frame_equal(_load(tmp_path, "\ufeff" + _text(ROWS)), plain)
    pd.testing.assert_frame_equal(_load(tmp_path, _text([r + [""] for r in ROWS], HEADER + ",")),
                                  plain)
    pd.testing.assert_frame_equal(_load(tmp_path, _text([[r[0] + " 16:00", *r[1:]] for r in ROWS])),
                                  plain)
    offsets = [[f"{r[0]} 00:00:00{'-05:00' if i < 20 else '-04:00'}", *r[1:]] for i, r in enumerate(ROWS)]
    pd.testing.assert_frame_equal(_load(tmp_path, _text(offsets)), plain)
    pd.testing.assert_frame_equal(_load(tmp_path, gzip.compress(_text(ROWS).encode()), "p.csv.gz"),
                                  plain)
    # Rounding may put the close a cent above the high.
    nudged = _set(ROWS, 5, 4, f"{float(ROWS[3][2]) + 0.01:.2f}")
    assert _load(tmp_path, _text(nudged)).iloc[3]["close"] == float(nudged[3][4])


def test_adjusted_close_names_and_checks(tmp_path):
    rows = _rows(adjusted=True)
    for name in ("Adj Close", "adj_close", "Adj_Close", "adjclose", "Adjusted Close"):
        prices = _load(tmp_path, _text(rows, HEADER + "," + name))
        # A constant factor (0.9 on every row) is 1 relative to the last row: nothing changes.
        assert prices["close"].tolist() == pytest.approx([float(r[4]) for r in rows], rel=1e-4)
    assert "missing Adj Close value on line(s) [4]; fill in those values or delete the column" in _error(
        tmp_path, _text(_set(rows, 4, 6, ""), HEADER + ",Adj Close"))
    # An empty Adj Close column is no adjusted close: the split check applies.
    empty = [[*r[:6], ""] for r in _split_rows(1 / 2)]
    assert "2:1 stock split" in _error(tmp_path, _text(empty, HEADER + ",Adj Close"))
    assert "Adj Close is zero or negative on line(s) [3]" in _error(
        tmp_path, _text(_set(rows, 3, 6, "0"), HEADER + ",Adj Close"))
    # A typo in the adjusted close alone is a spike of the close the features use.
    assert "the adjusted close jumps from" in _error(
        tmp_path, _text(_set(rows, 10, 6, str(float(rows[8][6]) * 10)), HEADER + ",Adj Close"))


def _split_rows(level: float) -> list[list[str]]:
    """The valid rows with every price from line 22 on multiplied by `level` (a split)."""
    rows = [list(r) for r in ROWS]
    for row in rows[20:]:
        row[1:5] = [f"{float(v) * level:.2f}" for v in row[1:5]]
    return rows


@pytest.mark.parametrize("level, kind", [(1 / 2, "2:1 stock split"), (1 / 3, "3:1 stock split"),
                                         (2 / 3, "3:2 stock split"), (1 / 10, "10:1 stock split"),
                                         (2, "1:2 reverse split"), (5, "1:5 reverse split")])
def test_split_like_jumps_stop_unless_allowed(tmp_path, level, kind):
    rows = _split_rows(level)
    message = _error(tmp_path, _text(rows))
    assert f"on 2020-01-30 (line 22, ratio {float(rows[20][4]) / float(rows[19][4]):.2f})" in message
    assert kind in message and "--allow-splits" in message
    assert len(_load(tmp_path, _text(rows), allow_splits=True)) == 40
    # An adjusted close that knows the split makes it a non-event.
    adjusted = [r + [f"{float(r[4]) * (level if i < 20 else 1):.4f}"] for i, r in enumerate(rows)]
    prices = _load(tmp_path, _text(adjusted, HEADER + ",Adj Close"))
    moves = np.log(prices["close"]).diff().abs()
    assert moves.max() < 0.05
    dollar_volume = prices["close"] * prices["volume"]
    np.testing.assert_allclose(dollar_volume, [float(r[4]) * float(r[5]) for r in rows], rtol=1e-4)


def test_a_real_halving_without_split_ratio_passes(tmp_path):
    # Falling 40% and staying there is no split ratio (2:1 would be 50%, 3:2 33%).
    assert len(_load(tmp_path, _text(_split_rows(0.6)))) == 40


def test_dates_and_ranges(tmp_path):
    path = tmp_path / "p.csv"
    path.write_text(_text(ROWS), encoding="utf-8")
    assert len(market.load_prices(csv=path, start="2020-01-10", end="2020-01-17")) == 6
    with pytest.raises(UserError, match="no rows between 2021-01-01 and the end"):
        market.load_prices(csv=path, start="2021-01-01")
    with pytest.raises(UserError, match="not dates"):
        market.load_prices(csv=path, start="yesterday-ish")
    # A gap may be cut away with --start: the series checks cover the chosen days only.
    gap = tmp_path / "gap.csv"
    gap.write_text(CASES["a month missing"][0], encoding="utf-8")
    assert len(market.load_prices(csv=gap, start="2020-03-01")) == 20


def test_yfinance_download_is_cached_as_it_came_and_adjusted(monkeypatch, tmp_path):
    yfinance = pytest.importorskip("yfinance")
    rows = _split_rows(1 / 2)
    raw = pd.DataFrame([[float(v) for v in r[1:]] for r in rows],
                       columns=["Open", "High", "Low", "Close", "Volume"],
                       index=pd.DatetimeIndex([r[0] for r in rows], name="Date"))
    raw["Adj Close"] = raw["Close"] * np.where(np.arange(40) < 20, 0.5, 1.0)
    monkeypatch.setattr(yfinance, "download", lambda *a, **k: raw.copy())
    fresh = market.load_prices(source="yfinance", ticker="X", cache_dir=tmp_path)
    monkeypatch.setattr(yfinance, "download", lambda *a, **k: pytest.fail("not from the cache"))
    cached = market.load_prices(source="yfinance", ticker="X", cache_dir=tmp_path)
    pd.testing.assert_frame_equal(fresh, cached)
    assert "Adj Close" in (tmp_path / "X_first_last.csv").read_text().splitlines()[0]
    np.testing.assert_allclose(fresh["close"], raw["Adj Close"])


def test_a_bad_file_stops_the_training_script_with_one_line(tmp_path):
    raw = pd.read_csv(market.bundled_path())
    msft = raw[raw["Ticker"] == "MSFT"].drop(columns=["Ticker", "Adj Close"])
    msft.to_csv(tmp_path / "msft.csv", index=False)
    proc = run_script("CodeLLM/forecaster/train.py", "--smoke", "--csv", tmp_path / "msft.csv",
                      "--out-dir", tmp_path, check=False)
    assert_one_line_error(proc, "on 2003-02-18", "2:1 stock split", "--allow-splits")
    run_script("CodeLLM/forecaster/train.py", "--smoke", "--csv", tmp_path / "msft.csv", "--allow-splits",
               "--out-dir", tmp_path, "--run-name", "kept")
    assert (tmp_path / "kept" / "metrics.json").is_file()
    (tmp_path / "semi.csv").write_text(CASES["semicolons"][0], encoding="utf-8")
    # in this process (test_memoryllm runs MemoryLLM's one-line printing as a subprocess)
    assert_user_error("MemoryLLM/train.py", "--smoke", "--csv", tmp_path / "semi.csv",
                      "--out-dir", tmp_path, fragments=("separated by semicolons",))
