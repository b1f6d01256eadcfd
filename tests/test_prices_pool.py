"""shared/prices/data.py: --pool adds other tickers' windows to training only, never a day of
the validation or test period, and --train-windows keeps the last N training windows."""

from types import SimpleNamespace

import numpy as np
import pytest
from conftest import assert_user_error, read_json, run_script
from sklearn.preprocessing import StandardScaler

from shared.prices import data, features, forecast, market, windows
from shared.runtime.errors import UserError

POOL = ["AAPL", "IBM", "MSFT"]


def settings(**changes):
    """What load_dataset reads of a stage's settings, with the stages' defaults."""
    base = dict(source="bundled", ticker="GOOG", csv=None, start=None, end=None, allow_splits=False,
                lookback=60, target="return", pool=[], train_windows=None)
    return SimpleNamespace(**{**base, **changes})


@pytest.fixture(scope="module")
def plain():
    return data.load_dataset(settings())


@pytest.fixture(scope="module")
def pooled():
    return data.load_dataset(settings(pool=POOL), log=lambda line: None)


def same_split(a: windows.Split, b: windows.Split) -> None:
    for name in ("x", "y", "prev_close", "close", "future_close"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)
    assert a.dates.equals(b.dates)


def test_pooled_windows_end_before_validation(pooled):
    first_val = pooled.val.dates[0]
    assert set(pooled.pool) == set(POOL)
    for ticker, p in pooled.pool.items():
        days = p.window_days  # every day each window reads (lookback) or predicts (horizon)
        assert days.shape == (len(p.train.y), pooled.lookback + pooled.horizon)
        assert (days < np.datetime64(first_val)).all(), ticker
        # The days are the ticker's own trading days: its window ends the day before it predicts.
        frame = features.add_indicators(market.load_prices(ticker=ticker))
        np.testing.assert_array_equal(days[:, -1], p.train.dates.to_numpy())
        assert frame.index.get_indexer(days[:, -1]).min() >= pooled.lookback
        np.testing.assert_allclose(p.train.close, frame["close"].loc[p.train.dates].to_numpy())


def test_pool_scalers_see_no_day_from_validation_on():
    """Garbage in every pooled series from the main series' first validation day on changes
    none of the pooled windows or their scalers."""
    main = data.load_dataset(settings())
    frames = {t: market.load_prices(ticker=t) for t in ("AAPL", "IBM")}
    clean = data.add_pool(data.load_dataset(settings()), frames, "GOOG")
    cut = main.val.dates[0]
    poisoned = {t: f.copy() for t, f in frames.items()}
    for f in poisoned.values():
        f.loc[f.index >= cut] *= 1000.0
    dirty = data.add_pool(data.load_dataset(settings()), poisoned, "GOOG")
    np.testing.assert_array_equal(clean.train.x, dirty.train.x)
    np.testing.assert_array_equal(clean.train.y, dirty.train.y)
    for t in frames:
        np.testing.assert_array_equal(clean.pool[t].feature_scaler.mean_, dirty.pool[t].feature_scaler.mean_)
        np.testing.assert_array_equal(clean.pool[t].target_scaler.scale_, dirty.pool[t].target_scaler.scale_)


def test_multi_day_pooled_targets_end_before_validation():
    three = data.load_dataset(settings(pool=["IBM"], horizon=3), log=lambda line: None)
    days = three.pool["IBM"].window_days
    assert days.shape[1] == 63 and (days < np.datetime64(three.val.dates[0])).all()
    assert three.pool["IBM"].train.y.shape[1:] == (3,)


def test_pool_joins_training_only(plain, pooled):
    extra = sum(len(p.train.y) for p in pooled.pool.values())
    assert len(pooled.train.x) == len(pooled.train.y) == len(plain.train.x) + extra > len(plain.train.x)
    # The main series' windows come first, unchanged, and its fields describe them alone.
    same_split(windows.Split(pooled.train.x[: pooled.main_train], pooled.train.y[: pooled.main_train],
                             pooled.train.dates, pooled.train.prev_close, pooled.train.close,
                             pooled.train.future_close), plain.train)
    np.testing.assert_array_equal(pooled.train.x[pooled.main_train :],
                                  np.concatenate([p.train.x for p in pooled.pool.values()]))
    same_split(pooled.val, plain.val)
    same_split(pooled.test, plain.test)
    np.testing.assert_array_equal(pooled.feature_scaler.mean_, plain.feature_scaler.mean_)
    np.testing.assert_array_equal(pooled.target_scaler.scale_, plain.target_scaler.scale_)
    # Each pooled series is standardised on its own rows: its scaled targets have mean 0, sd 1.
    for p in pooled.pool.values():
        assert abs(p.train.y.mean()) < 1e-4 and abs(p.train.y.std() - 1) < 1e-3
    # The drift baseline reads the main ticker's closes only; the ridge fits on every window.
    assert forecast.drift_step(pooled.train.close) == forecast.drift_step(plain.train.close)
    ridge, _ = forecast.ridge_baseline(pooled)
    assert ridge.n_features_in_ == pooled.train.x.shape[1] * pooled.train.x.shape[2]
    line = windows.describe(pooled, "GOOG")
    assert f"train {pooled.main_train} (" in line and f"+ {extra} pooled (AAPL, IBM, MSFT)" in line


def test_pool_reports_one_line():
    lines = []
    d = data.load_dataset(settings(pool=["ibm"]), log=lines.append)
    assert len(lines) == 1 and f"IBM {len(d.pool['IBM'].train.y)}" in lines[0]


def test_pool_errors():
    with pytest.raises(UserError, match="nothing to train on.*2012-05-18"):
        data.load_dataset(settings(pool=["FB"]))
    with pytest.raises(UserError, match="main --ticker"):
        data.load_dataset(settings(pool=["goog"]))
    with pytest.raises(UserError, match="listed twice"):
        data.load_dataset(settings(pool=["IBM", "ibm"]))
    with pytest.raises(UserError, match="not in the bundled data"):
        data.load_dataset(settings(pool=["TSLA"]))


@pytest.mark.parametrize("pool, fragments", [
    ("FB", ("--pool FB", "nothing to train on", "2012-05-18", "validation period (from 2010-09-08)")),
    ("GOOG", ("--pool GOOG", "main --ticker")),
])
def test_pool_errors_are_one_line(tmp_path, pool, fragments):
    # in this process: test_prices_checks checks train.py's one-line printing as a subprocess
    assert_user_error("CodeLLM/forecaster/train.py", "--smoke", "--pool", pool, "--out-dir", tmp_path,
                      fragments=fragments)


def test_train_windows_keep_the_last_n(plain):
    n = 300
    cut = data.load_dataset(settings(train_windows=n))
    assert len(cut.train.y) == len(cut.train.x) == n
    assert cut.train.dates.equals(plain.train.dates[-n:])
    np.testing.assert_array_equal(cut.train.close, plain.train.close[-n:])
    for name in ("val", "test"):  # the same windows; only their scaling follows the new scalers
        a, b = getattr(cut, name), getattr(plain, name)
        assert a.dates.equals(b.dates)
        np.testing.assert_array_equal(a.close, b.close)
        np.testing.assert_array_equal(a.prev_close, b.prev_close)
        np.testing.assert_allclose(cut.to_price(a.y, a), plain.to_price(b.y, b), rtol=1e-5)
        unscaled = cut.feature_scaler.inverse_transform(a.x.reshape(-1, a.x.shape[2]))
        np.testing.assert_allclose(unscaled, plain.feature_scaler.inverse_transform(
            b.x.reshape(-1, b.x.shape[2])), rtol=1e-4, atol=1e-3)
    # The scalers are fitted on the kept windows' rows, by hand: the days they read, and the
    # days they predict.
    frame = features.add_indicators(market.load_prices())
    first = frame.index.get_loc(cut.train.dates[0]) - cut.lookback  # first row of the first window
    last = frame.index.get_loc(cut.train.dates[-1]) - 1  # last row of the last window
    by_hand = StandardScaler().fit(frame[features.FEATURES].to_numpy(np.float64)[first : last + 1])
    np.testing.assert_allclose(cut.feature_scaler.mean_, by_hand.mean_, rtol=1e-12)
    np.testing.assert_allclose(cut.feature_scaler.scale_, by_hand.scale_, rtol=1e-12)
    returns = np.log(cut.train.close / cut.train.prev_close).reshape(-1, 1)
    targets = StandardScaler().fit(returns)
    np.testing.assert_allclose(cut.target_scaler.mean_, targets.mean_, rtol=1e-9)
    np.testing.assert_allclose(cut.target_scaler.scale_, targets.scale_, rtol=1e-9)
    assert not np.allclose(cut.feature_scaler.mean_, plain.feature_scaler.mean_)


def test_train_windows_bounds(plain):
    available = len(plain.train.y)
    assert len(data.load_dataset(settings(train_windows=available)).train.y) == available
    low = windows.MIN_SAMPLES["train"] - 1
    for n in (low, available + 1):
        with pytest.raises(UserError, match=f"--train-windows {n}: choose between 100 and {available}"):
            data.load_dataset(settings(train_windows=n))


def test_train_script_with_a_pool(tmp_path):
    proc = run_script("CodeLLM/forecaster/train.py", "--smoke", "--arch", "lstm", "--pool", "MSFT",
                      "--out-dir", tmp_path, "--run-name", "pooled")
    assert "pool: training windows added" in proc.stdout and "MSFT" in proc.stdout
    metrics = read_json(tmp_path / "pooled" / "metrics.json")
    assert metrics["test_days"] > 0
    assert read_json(tmp_path / "pooled" / "config.json")["pool"] == ["MSFT"]
