"""The checks a daily price file must pass before it becomes features.

Each check raises a one-line `UserError` that names the file's line(s) and the fix. Frames here
are indexed by file line number (the header is line 1), so every message can point at a row.

What stops a file: empty files, other separators (semicolons, tabs), Excel or UTF-16 files,
rows with more fields than the header, missing or doubled columns, unreadable dates (all are
read in the first date's format: never day/month guessed row by row), dates in the future,
intraday or weekly bars, gaps of more than two weeks, two different rows for one day, values
that are missing, non-numeric (thousands separators, decimal commas), infinite, zero or
negative, High below Low, Open or Close outside Low..High (beyond rounding), a Volume column
of zeros, a one-day spike that the next day undoes (a typo), and, where no adjusted close
vouches for the prices, a move that looks like a stock split.

Imported by shared.prices.market alone, which runs these checks on every file it reads.
"""

from __future__ import annotations

import re
import warnings
from fractions import Fraction
from pathlib import Path

import numpy as np
import pandas as pd
from pandas.tseries.api import guess_datetime_format

from shared.runtime.errors import UserError

COLUMNS = ["open", "high", "low", "close", "volume"]
NAMES = {"date": "date", "datetime": "date", "open": "open", "high": "high", "low": "low",
         "close": "close", "volume": "volume", "adjclose": "adj_close", "adjustedclose": "adj_close"}
SPLITS = (2, 3, 4, 5, 10, 1.5)  # n:1 and 3:2 splits; each divides the price (reverse splits multiply)
SPLIT_TOLERANCE = 0.05  # a ratio within 5% of a split's
SPIKE_FACTOR = 1.9  # a move by this factor that the next day undoes is a typo, not a market move
MAX_GAP_DAYS = 14  # exchanges close for a week at most (2001-09-11: 7 days); longer is missing data
PRICE_TOLERANCE = 0.005  # Open/Close may sit 0.5% (+ half a cent) outside Low..High: rounding
LISTED = 5  # line numbers quoted in a message
HEADER = "Date,Open,High,Low,Close,Volume"


def _lines(mask: pd.Series) -> str:
    """'line(s) [3, 7]' for the rows where `mask` holds (the index holds file line numbers)."""
    lines = [int(i) for i in mask.index[mask.to_numpy()]]
    more = f" ({len(lines)} rows in all)" if len(lines) > LISTED else ""
    return f"line(s) {lines[:LISTED]}{more}"


# -- reading a file ---------------------------------------------------------------------------

def _sniff(path: Path, origin: str) -> None:
    """Reject, by their first bytes, files that pandas would misread or fail on obscurely."""
    with path.open("rb") as file:
        head = file.read(4096)
    if not head.strip():
        raise UserError(f"{origin}: the file is empty; it needs the header line {HEADER} and one "
                        "row per trading day")
    if path.suffix.lower() in {".gz", ".bz2", ".zip", ".xz", ".zst"}:
        return  # pandas decompresses these by name
    if head.startswith((b"PK\x03\x04", b"\xd0\xcf\x11\xe0")):
        raise UserError(f"{origin}: this is an Excel workbook (or a zip file), not a CSV; save it "
                        "as CSV (comma-separated)")
    if head.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in head:
        raise UserError(f"{origin}: this is UTF-16 or binary data, not a UTF-8 CSV; save it as "
                        "CSV UTF-8 (comma-separated)")
    first = head.removeprefix(b"\xef\xbb\xbf").lstrip().splitlines()[0].decode("utf-8", "replace")
    if "," not in first:
        for sep, name in ((";", "semicolons"), ("\t", "tabs"), ("|", "vertical bars")):
            if sep in first:
                raise UserError(f"{origin}: the columns are separated by {name}, not commas; save "
                                "it as a comma-separated CSV with decimal points (1234.5)")


def read_table(path: Path, origin: str) -> pd.DataFrame:
    """The file as strings, indexed by file line number (the header is line 1)."""
    _sniff(path, origin)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pandas' warnings would add lines to the one error
            table = pd.read_csv(path, dtype=str, skip_blank_lines=False, encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise UserError(f"{origin}: the file is not UTF-8 text; save it as CSV UTF-8") from None
    except pd.errors.EmptyDataError:
        raise UserError(f"{origin}: the file is empty; it needs the header line {HEADER} and one "
                        "row per trading day") from None
    except pd.errors.ParserError as err:
        found = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", str(err))
        if found:
            want, line, saw = found.groups()
            raise UserError(f"{origin}: line {line} has {saw} fields but the header has {want} "
                            "(a comma inside a number, like 1,234.5?); fix that line") from None
        raise UserError(f"{origin}: not a readable CSV ({str(err).strip()[:80]})") from None
    except (OSError, EOFError, ValueError) as err:  # a broken .gz/.zip, say
        raise UserError(f"{origin}: not a readable CSV ({type(err).__name__}: {err})") from None
    if not isinstance(table.index, pd.RangeIndex):
        # pandas silently turns the extra first field into an index and shifts every column.
        raise UserError(f"{origin}: the rows have more fields than the header line (a trailing "
                        "comma, or commas inside numbers?); give every line the header's fields")
    table.index = table.index + 2
    return table


# -- checking and cleaning ----------------------------------------------------------------------

def named_columns(table: pd.DataFrame, origin: str) -> tuple[pd.DataFrame, dict[str, str]]:
    """Rename to date/open/.../adj_close (any case, spaces or underscores); keep only those.
    Returns the frame and, for messages, each column's name in the file."""
    found: dict[str, list[str]] = {}
    for column in table.columns:
        text = str(column)
        key = _key(text)
        base = re.fullmatch(r"(.+)\.\d+", text)  # pandas renames a repeated header "Close.1"
        if base and base.group(1) in table.columns and _key(base.group(1)) in NAMES:
            key = _key(base.group(1))
        if key in NAMES:
            found.setdefault(NAMES[key], []).append(text)
    doubled = {name: files for name, files in found.items() if len(files) > 1}
    if doubled:
        name, files = next(iter(doubled.items()))
        raise UserError(f"{origin}: columns {', '.join(map(repr, files))} are all read as {name}; "
                        "keep one of them")
    missing = [c for c in ["date", *COLUMNS] if c not in found]
    if missing:
        first = str(table.columns[0])
        hint = ""
        if first.startswith("Unnamed"):
            hint = " (the first column has no name: call it Date)"
        elif first.strip().lower() == "price" and len(table) and str(table.iloc[0, 0]).lower() == "ticker":
            hint = (" (a yfinance CSV with a three-line header: keep one header line, or download "
                    "with multi_level_index=False)")
        elif _looks_like_a_date(first):
            hint = f" (the first line is data: add the header line {HEADER})"
        raise UserError(f"{origin}: missing column(s) {', '.join(missing)}; need {HEADER} (any case; "
                        f"Adj Close optional){hint}")
    names = {name: files[0] for name, files in found.items()}
    frame = table[list(names.values())].set_axis(list(names), axis=1)
    frame = frame[frame.notna().any(axis=1)]  # blank lines
    if frame.empty:
        raise UserError(f"{origin}: the file has a header line but no rows of prices")
    return frame, names


def _key(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())  # "Adj Close", "adj_close" -> "adjclose"


def _looks_like_a_date(text: str) -> bool:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return re.search(r"\d", text) is not None and not pd.isna(pd.to_datetime(text, errors="coerce"))


def parse_dates(column: pd.Series, origin: str) -> pd.Series:
    """Parse every date with the format of the first one (never guessing row by row, which
    mixes up day/month); drop a time of day or a UTC offset, keeping the exchange's date."""
    text = column.str.strip()
    text = text.where(text != "")
    if text.isna().any():
        raise UserError(f"{origin}: no date on {_lines(text.isna())}; fill in or remove those rows")
    # "2020-01-02 00:00:00-05:00" (yfinance): keep the local date; offsets vary with summer time.
    text = text.str.replace(r"(\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)\s*(?:Z|UTC|GMT|[+-]\d{2}:?\d{2})$",
                            r"\1", regex=True)
    first = text.iloc[0]
    fmt = guess_datetime_format(first)
    if fmt is None:
        raise UserError(f"{origin}: unreadable date {first!r} on line {text.index[0]}; write dates "
                        "as YYYY-MM-DD")
    dates = pd.to_datetime(text, format=fmt, errors="coerce")
    if dates.isna().any():
        bad = text[dates.isna()].iloc[0]
        hint = ("a repeated header line?" if _key(bad) in NAMES
                else f"the first date, {first!r}, reads as {fmt}")
        raise UserError(f"{origin}: unreadable date on {_lines(dates.isna())} (e.g. {bad!r}; {hint}); "
                        "write dates as YYYY-MM-DD")
    if (dates != dates.dt.normalize()).any():
        day = dates.dt.normalize()
        several = day.duplicated(keep=False) & (dates != day)
        if several.any():
            raise UserError(f"{origin}: several rows on one day ({_lines(several)}): intraday bars; "
                            "this needs one row per trading day (daily bars)")
        dates = day  # a close stamped 16:00 is that day's bar
    future = dates > pd.Timestamp.today().normalize() + pd.Timedelta(days=1)
    if future.any():
        raise UserError(f"{origin}: dates in the future on {_lines(future)} (e.g. "
                        f"{dates[future].iloc[0].date()}); fix those dates")
    return dates


def parse_numbers(frame: pd.DataFrame, names: dict[str, str], origin: str) -> pd.DataFrame:
    out = pd.DataFrame(index=frame.index)
    for column in [c for c in [*COLUMNS, "adj_close"] if c in frame.columns]:
        text, name = frame[column].str.strip(), names[column]
        text = text.where(text != "")  # a cell of spaces is an empty cell
        if column == "adj_close" and text.isna().all():
            continue  # an empty Adj Close column: as if there were none
        values = pd.to_numeric(text, errors="coerce")
        wrong = values.isna() & text.notna()
        if wrong.any():
            bad = text[wrong].iloc[0]
            hint = ": a thousands separator or a decimal comma?" if "," in bad else ""
            raise UserError(f"{origin}: {name} is not a number on {_lines(wrong)} (e.g. {bad!r}{hint}); "
                            "write plain numbers with a decimal point, such as 1234.5")
        if values.isna().any():
            fix = "fill in those values or delete the column" if column == "adj_close" else \
                "fill in or remove those rows"
            raise UserError(f"{origin}: missing {name} value on {_lines(values.isna())}; {fix}")
        if np.isinf(values).any():
            raise UserError(f"{origin}: {name} is infinite on {_lines(np.isinf(values))}; fix or "
                            "remove those rows")
        out[column] = values.astype("float64")
    return out


def check_rows(values: pd.DataFrame, names: dict[str, str], origin: str) -> None:
    for column in ["open", "high", "low", "close", "adj_close"]:
        if column in values and (values[column] <= 0).any():
            raise UserError(f"{origin}: {names[column]} is zero or negative on "
                            f"{_lines(values[column] <= 0)}; prices must be positive (fix or remove "
                            "those rows)")
    if (values["volume"] < 0).any():
        raise UserError(f"{origin}: {names['volume']} is negative on {_lines(values['volume'] < 0)}; "
                        "fix those rows")
    slack = PRICE_TOLERANCE * values["high"] + 0.005
    if (values["high"] < values["low"] - slack).any():
        raise UserError(f"{origin}: {names['high']} is below {names['low']} on "
                        f"{_lines(values['high'] < values['low'] - slack)}; fix those rows (columns "
                        "swapped?)")
    for column in ("open", "close"):
        outside = (values[column] > values["high"] + slack) | (values[column] < values["low"] - slack)
        if outside.any():
            raise UserError(f"{origin}: {names[column]} is outside the day's {names['low']}.."
                            f"{names['high']} on {_lines(outside)}; fix those rows (columns "
                            "mislabelled?)")


def sort_rows(frame: pd.DataFrame, origin: str, notes: list[str]) -> pd.DataFrame:
    """Sort by date; drop exact duplicate rows; stop on two different rows for one day."""
    if not frame["date"].is_monotonic_increasing:
        newest_first = frame["date"].is_monotonic_decreasing
        notes.append("rows were newest first; reversed them" if newest_first
                     else "dates were not in order; sorted them")
        frame = frame.sort_values("date", kind="stable")
    repeated = frame.duplicated(keep="first")
    if repeated.any():
        notes.append(f"{int(repeated.sum())} repeated row(s) dropped, e.g. line {frame.index[repeated][0]}")
        frame = frame[~repeated]
    clash = frame["date"].duplicated(keep=False)
    if clash.any():
        day = frame.loc[clash, "date"].iloc[0]
        raise UserError(f"{origin}: two different rows for {day.date()} on "
                        f"{_lines(frame['date'] == day)}; keep the right one and delete the other")
    return frame


def check_series(frame: pd.DataFrame, names: dict[str, str], origin: str) -> None:
    """Daily bars without long gaps, with some traded volume."""
    gaps = frame["date"].diff().dt.days
    if len(frame) >= 10 and gaps.median() > 5:
        raise UserError(f"{origin}: rows are {gaps.median():.0f} days apart (weekly or monthly "
                        "bars?); this needs daily bars")
    if (gaps > MAX_GAP_DAYS).any():
        at = int(np.argmax((gaps > MAX_GAP_DAYS).to_numpy()))
        before, after = frame.iloc[at - 1], frame.iloc[at]
        raise UserError(f"{origin}: no rows for {int(gaps.iloc[at])} days between "
                        f"{before['date'].date()} (line {frame.index[at - 1]}) and "
                        f"{after['date'].date()} (line {frame.index[at]}); fill in the missing days, "
                        "or keep one side with --start/--end")
    if (frame["volume"] == 0).all():
        raise UserError(f"{origin}: {names['volume']} is 0 on every row (an index or a currency?); "
                        "the volume features need traded volume")


def _split_message(origin: str, frame: pd.DataFrame, days: np.ndarray, ratios: np.ndarray,
                   levels: np.ndarray) -> str:
    i = int(days[0])
    before, after, level = frame["close"].iloc[i - 1], frame["close"].iloc[i], levels[0]
    share = Fraction(float(level)).limit_denominator(10)
    kind = (f"a {share.denominator}:{share.numerator} stock split" if level < 1
            else f"a {share.denominator}:{share.numerator} reverse split")
    more = f" (and {len(days) - 1} more such day(s))" if len(days) > 1 else ""
    return (f"{origin}: the close {'falls' if level < 1 else 'rises'} from {before:.2f} to "
            f"{after:.2f} on {frame['date'].iloc[i].date()} (line {frame.index[i]}, ratio "
            f"{ratios[0]:.2f}), which looks like {kind}{more}; add an 'Adj Close' column "
            "(back-adjusted prices), or pass --allow-splits to keep it on purpose")


def check_jumps(frame: pd.DataFrame, origin: str, splits: bool, what: str) -> None:
    """One-day spikes undone the next day; with `splits`, split-like moves that stay."""
    close = frame["close"].to_numpy()
    if len(close) < 2:
        return
    ratio = np.r_[np.nan, close[1:] / close[:-1]]  # day t over day t-1
    after = np.r_[ratio[1:], np.nan]  # day t+1 over day t
    spike = ((ratio >= SPIKE_FACTOR) & (after <= 1 / SPIKE_FACTOR)) | (
        (ratio <= 1 / SPIKE_FACTOR) & (after >= SPIKE_FACTOR))
    if spike.any():
        i = int(np.argmax(spike))
        raise UserError(f"{origin}: the {what} jumps from {close[i - 1]:.2f} to {close[i]:.2f} on "
                        f"{frame['date'].iloc[i].date()} (line {frame.index[i]}) and back to "
                        f"{close[i + 1]:.2f} the next day, a typo?; fix that row")
    if not splits:
        return
    levels = np.array([1 / s for s in SPLITS] + list(SPLITS))
    near = np.abs(ratio[:, None] / levels[None, :] - 1) <= SPLIT_TOLERANCE  # (days, levels)
    undone = np.abs(after[:, None] * levels[None, :] - 1) <= SPLIT_TOLERANCE
    hit = (near & ~undone).any(axis=1)
    if hit.any():
        days = np.flatnonzero(hit)
        level = levels[np.argmax(near[days], axis=1)]
        raise UserError(_split_message(origin, frame, days, ratio[days], level))
