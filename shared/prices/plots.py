"""The forecasting plots, each drawn to answer one question.

- `plot_against_persistence`: does a forecast beat "tomorrow = today", and when? Its error minus
  persistence's, day by day and as a rolling mean, against a zero line; below the curves, a month
  of test days zoomed in, where a forecast that hugs yesterday's close is seen making each move a
  day late.
- `plot_theil_u`: Theil's U - 1 as dots, one per seed, with the mean: below zero beats persistence.

Price lines of forecast against actual, the usual picture, cannot answer either question: at the
scale of two years the lines lie on top of each other, whoever wins.

Imported by shared.prices.runs (each stage 3 and 4 run's predictions.png) and by
CodeLLM/compare/compare.py (docs/img/compare-<ticker>-*.png).
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.lines import Line2D

from shared import plotting  # chooses the Agg backend (pyplot settles on one at the first figure)

PERSISTENCE = "as good as tomorrow = today"
COLORS = ("tab:blue", "tab:orange", "tab:green", "tab:purple", "tab:red")


def persistence_gap(actual, previous, forecast) -> np.ndarray:
    """|forecast - actual| - |previous close - actual| per day: below 0 the forecast was closer
    than persistence (tomorrow = today) that day, above 0 further."""
    actual, forecast, previous = (np.asarray(x, dtype=float) for x in (actual, forecast, previous))
    return np.abs(forecast - actual) - np.abs(previous - actual)


def change_correlations(actual, forecast) -> tuple[float, float]:
    """Correlation of the forecast's day-to-day change with the actual change of the same day,
    and with the actual change of the day before. A forecast that repeats yesterday's close
    (and so trails the price by one day) has the first near 0 and the second near 1."""
    moved, actual_moved = np.diff(np.asarray(forecast, float)), np.diff(np.asarray(actual, float))
    same = float(np.corrcoef(moved, actual_moved)[0, 1])
    day_before = float(np.corrcoef(moved[1:], actual_moved[:-1])[0, 1])
    return same, day_before


def zoom_window(actual, previous, days: int) -> tuple[int, int, int]:
    """(start, stop, day) of `days` test days around the largest one-day move (`day`), placed a
    third of the way in, so that the day after it, where a lagging forecast moves, is inside."""
    moves = np.abs(np.asarray(actual, float) - np.asarray(previous, float))
    n = len(moves)
    day = int(np.argmax(moves[: n - 1])) if n > 1 else 0  # a day with a day after it
    start = int(np.clip(day - days // 3, 0, max(0, n - days)))
    return start, min(n, start + days), day


def plot_against_persistence(dates, actual, previous, forecasts: dict[str, object], path: str | Path,
                             title: str, muted: tuple[str, ...] = (), window: int = 20,
                             zoom_days: int = 30) -> Path:
    """Two panels over the test days. Top: for each forecast, its absolute error minus
    persistence's (faint dots: single days; line: the mean of the last `window` days), against
    a zero line; below zero, the forecast is the closer. `muted` forecasts (baselines) get the
    line only, grey. Bottom: `zoom_days` days around the largest move, actual against the
    forecasts, with the correlations that measure the one-day lag."""
    path = Path(path)
    dates = pd.to_datetime(pd.Series(dates)).to_numpy()
    actual, previous = np.asarray(actual, float), np.asarray(previous, float)
    fig, (top, zoom) = plt.subplots(2, 1, figsize=(9, 8.6), dpi=110,
                                    gridspec_kw={"height_ratios": [3, 2]})
    top.axhline(0, color="black", lw=1.2, label=f"0: {PERSISTENCE}")
    colors = iter(COLORS)
    drawn = {}
    for name, values in forecasts.items():
        gap = persistence_gap(actual, previous, values)
        rolling = pd.Series(gap).rolling(window).mean().to_numpy()
        label = f"{name}: mean {gap.mean():+.3f}"
        if name in muted:
            top.plot(dates, rolling, color="grey", ls="--", lw=1.2, label=label)
            continue
        color = drawn[name] = next(colors)
        top.scatter(dates, gap, s=5, color=color, alpha=0.22, lw=0)
        top.plot(dates, rolling, color=color, lw=1.8, label=label)
    low, high = top.get_ylim()
    top.set_ylim(min(low, -0.15 * high), max(high, -0.15 * low))  # room on both sides of 0
    for y, va, words in ((0.02, "bottom", "below 0: closer than persistence"),
                         (0.98, "top", "above 0: further than persistence")):
        top.text(0.99, y, words, transform=top.transAxes, ha="right", va=va, fontsize=8,
                 color="dimgrey", style="italic")
    top.set_title(f"{title}\n|forecast error| - |persistence error|: dots single days, lines the "
                  f"mean of the last {window} days", fontsize=10)
    top.set_ylabel("error minus persistence's error")
    top.legend(fontsize=8, loc="upper left")

    start, stop, day = zoom_window(actual, previous, zoom_days)
    days = np.arange(start, stop)  # trading days, evenly spaced: no weekend gaps
    zoom.plot(days, actual[start:stop], "o-", color="black", lw=1.4, ms=3, label="actual close")
    for name, color in drawn.items():
        same, before = change_correlations(actual, forecasts[name])
        zoom.plot(days, np.asarray(forecasts[name], float)[start:stop], "o-", color=color, lw=1,
                  ms=2.5, label=f"{name}: r of its daily change with the close's: same day "
                                f"{same:.2f}, the day before {before:.2f}")
    if drawn and start < day and day + 1 < stop:  # the largest move, and a forecast's a day later
        lagging = np.asarray(forecasts[next(iter(drawn))], float)
        zoom.axvspan(day - 1, day, color="grey", alpha=0.2, lw=0)
        zoom.axvspan(day, day + 1, color="tab:red", alpha=0.15, lw=0)
        zoom.annotate("", xy=(day + 1, lagging[day + 1]), xytext=(day, actual[day]),
                      arrowprops={"arrowstyle": "-|>", "color": "tab:red", "lw": 1.5})
        when, move = pd.Timestamp(dates[day]).strftime("%Y-%m-%d"), actual[day] - previous[day]
        # On the left, where the price sat before the move: low before a fall, high before a rise.
        zoom.text(0.01, 0.04 if move < 0 else 0.96, f"grey band: the close moves {move:+.2f} on {when}\n"
                  "red band: the forecast makes that move one day later", transform=zoom.transAxes,
                  va="bottom" if move < 0 else "top", fontsize=8, color="tab:red")
    ticks = days[::5]
    zoom.set_xticks(ticks, [pd.Timestamp(dates[i]).strftime("%Y-%m-%d") for i in ticks], fontsize=8)
    zoom.set_xlim(start - 0.5, stop - 0.5)
    zoom.set_title(f"{stop - start} test days around the largest move: the forecast trails the "
                   "close by one day", fontsize=10)
    zoom.set_xlabel("test day (trading days)")
    zoom.set_ylabel("close")
    zoom.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.2))
    for axis in (top, zoom):
        axis.grid(alpha=0.3)
    return plotting.save_figure(fig, path)


def plot_theil_u(entries: list[dict], path: str | Path, title: str) -> Path:
    """Theil's U - 1 per model: a dot per seed, the mean as a bar with the sample std over seeds,
    and the zero line of persistence (U = 1); below it a model beats tomorrow = today.

    Each entry: `label`, `values` (U of each seed; one value for a deterministic baseline),
    optionally `muted` (a baseline, grey) and `note` (a second line under the label, e.g. the
    Diebold-Mariano p-value)."""
    path = Path(path)
    fig, ax = plt.subplots(figsize=(max(6.0, 1.6 * len(entries) + 1.5), 4.8), dpi=110)
    everything = []
    for i, entry in enumerate(entries):
        values = np.asarray(entry["values"], float) - 1
        everything += list(values)
        mean = float(values.mean())
        if len(values) == 1:  # a deterministic baseline: one value, no spread
            ax.scatter([i], values, s=45, marker="D", color="tab:grey", zorder=3, lw=0)
        else:
            offsets = np.linspace(-0.12, 0.12, len(values))
            ax.scatter(i + offsets, values, s=28, color="tab:grey" if entry.get("muted") else "tab:blue",
                       alpha=0.8, zorder=3, lw=0)
            ax.errorbar(i, mean, yerr=float(values.std(ddof=1)), fmt="none", ecolor="black",
                        elinewidth=1, capsize=5, zorder=4)
            ax.plot([i - 0.2, i + 0.2], [mean, mean], color="black", lw=2, zorder=4)
        below = mean < 0  # the label on the far side of the zero line
        ax.annotate(f"U = {mean + 1:.3f}", (i + 0.2, mean), xytext=(2, -3 if below else 3),
                    textcoords="offset points", va="top" if below else "bottom", fontsize=8)
    low, high = min(everything + [0.0]), max(everything + [0.0])
    span = high - low or 0.01
    ax.set_ylim(min(low - 0.2 * span, -0.25 * span), max(high + 0.2 * span, 0.25 * span))
    ax.axhline(0, color="black", ls="--", lw=1)
    ax.axhspan(ax.get_ylim()[0], 0, color="tab:green", alpha=0.07, lw=0)
    ax.text(-0.55, ax.get_ylim()[0], " below 0: beats persistence", ha="left", va="bottom",
            fontsize=8, color="darkgreen", style="italic")
    ax.set_xticks(range(len(entries)), [e["label"] + (f"\n{e['note']}" if e.get("note") else "")
                                        for e in entries], fontsize=8)
    ax.set_xlim(-0.6, len(entries) - 0.2)
    ax.yaxis.set_major_formatter(lambda y, _: "0" if abs(y) < 1e-12 else f"{y:+.3f}")
    ax.set_ylabel("Theil's U - 1\n(model RMSE / persistence RMSE - 1)")
    ax.set_title(title, fontsize=10)
    handles = [Line2D([], [], color="black", ls="--", lw=1, label="persistence (U = 1)"),
               Line2D([], [], marker="o", ls="", color="tab:blue", label="one seed"),
               Line2D([], [], color="black", lw=2, label="mean of seeds (whisker: std)")]
    if any(len(e["values"]) == 1 for e in entries):
        handles.append(Line2D([], [], marker="D", ls="", color="tab:grey",
                              label="baseline (one value: no seeds)"))
    ax.legend(handles=handles, fontsize=8, loc="upper right")
    ax.grid(axis="y", alpha=0.3)
    return plotting.save_figure(fig, path)
