"""shared/prices/plots.py and runs.draw_predictions: the numbers the forecasting plots draw,
checked by hand, and figures that come out byte for byte the same when drawn again (so that
`make docs` leaves committed PNGs alone unless their results changed)."""

import json

import numpy as np
import pandas as pd
import pytest

from shared.prices import plots, runs


def test_persistence_gap_by_hand():
    actual, previous = [10.0, 12.0, 11.0], [9.0, 10.0, 12.0]
    forecast = [9.5, 11.0, 12.5]
    # |9.5-10| - |9-10| = -0.5; |11-12| - |10-12| = -1; |12.5-11| - |12-11| = +0.5
    assert plots.persistence_gap(actual, previous, forecast) == pytest.approx([-0.5, -1.0, 0.5])
    assert plots.persistence_gap(actual, previous, previous) == pytest.approx([0, 0, 0])


def random_walk(n=200, seed=0):
    close = 100 + np.cumsum(np.random.default_rng(seed).normal(0, 1, n + 1))
    return close[1:], close[:-1]  # actual, previous (= persistence's forecast)


def test_change_correlations_see_a_one_day_lag():
    actual, previous = random_walk()
    same, before = plots.change_correlations(actual, previous)  # persistence: exactly a day late
    assert before == pytest.approx(1.0) and abs(same) < 0.2
    same, before = plots.change_correlations(actual, actual)  # a perfect forecast: no lag
    assert same == pytest.approx(1.0) and abs(before) < 0.2


def test_zoom_window_holds_the_largest_move_and_the_day_after():
    actual, previous = random_walk(100)
    actual[70] = previous[70] + 50  # the largest move, on day 70
    start, stop, day = plots.zoom_window(actual, previous, 30)
    assert day == 70 and (start, stop) == (60, 90)
    actual[99] = previous[99] + 500  # a bigger move on the last day has no day after it
    assert plots.zoom_window(actual, previous, 30)[2] == 70
    actual[1] = previous[1] + 900  # near the start, the window is clipped to the test days
    assert plots.zoom_window(actual, previous, 30) == (0, 30, 1)


def saved_run(folder, n=120):
    """A run folder as SeedRuns.save leaves it: predictions.csv and metrics.json."""
    actual, previous = random_walk(n, seed=1)
    noise = np.random.default_rng(2).normal(0, 0.3, (n, 2))
    frame = pd.DataFrame({"date": pd.bdate_range("2012-01-02", periods=n).strftime("%Y-%m-%d"),
                          "actual": actual, "prev_close": previous, "drift": previous + 0.05,
                          "ridge": previous + noise[:, 0], "seed_42": previous + noise[:, 1],
                          "seed_43": previous - noise[:, 1]})
    folder.mkdir(parents=True)
    frame.to_csv(folder / "predictions.csv", index=False)
    (folder / "metrics.json").write_text(json.dumps({"selected_seed": 43}), encoding="utf-8")
    return frame


def test_drawn_again_byte_for_byte(tmp_path):
    saved_run(tmp_path / "run")
    first = runs.draw_predictions(tmp_path / "run", "LSTM", "GOOG").read_bytes()
    assert len(first) > 20_000
    assert runs.draw_predictions(tmp_path / "run", "LSTM", "GOOG").read_bytes() == first
    entries = [{"label": "model", "values": [1.02, 1.01, 0.99], "note": "p = 0.5"},
               {"label": "ridge", "values": [1.006], "muted": True}]
    once = plots.plot_theil_u(entries, tmp_path / "u1.png", "Theil's U - 1").read_bytes()
    assert plots.plot_theil_u(entries, tmp_path / "u2.png", "Theil's U - 1").read_bytes() == once


def test_a_run_plot_shows_the_kept_seed(tmp_path, monkeypatch):
    frame = saved_run(tmp_path / "run")
    drawn = {}
    monkeypatch.setattr(plots, "plot_against_persistence",
                        lambda dates, actual, previous, forecasts, path, title, muted: drawn.update(
                            forecasts=forecasts, muted=muted, previous=previous, title=title))
    runs.draw_predictions(tmp_path / "run", "LSTM", "MSFT")
    assert list(drawn["forecasts"]) == ["LSTM (seed 43, best on validation)", "ridge (linear baseline)"]
    np.testing.assert_array_equal(drawn["forecasts"]["LSTM (seed 43, best on validation)"], frame["seed_43"])
    np.testing.assert_array_equal(drawn["previous"], frame["prev_close"])
    assert drawn["muted"] == ("ridge (linear baseline)",) and drawn["title"].startswith("MSFT")
