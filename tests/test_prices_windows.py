"""shared/prices/windows.py: the chronological split, scalers fitted on training only, purged
multi-day targets."""

import numpy as np
import pytest

from shared.prices import features, market, windows
from shared.runtime.errors import UserError


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


def test_too_short_series(goog_frame):
    with pytest.raises(UserError, match="too short"):
        windows.make_dataset(goog_frame.iloc[:150], lookback=60)
    with pytest.raises(UserError, match="--target"):
        windows.make_dataset(goog_frame, target="volume")
