"""Gradient saliency of the Keras LSTM: which days of the window the forecast is sensitive to.
The same numbers as stage 4's (CodeLLM/forecaster/saliency.py), so stage 3's LSTM gets an
attribution that can be set beside the transformer's attention maps. train.py calls
`saliency_by_lag` on the test windows for the seed it keeps.

For a test window x (lookback, features) and the forecast f(x), the saliency of day t is the sum
over features j of |df / dx[t, j]|. Averaged over the test windows and normalised to sum to 1, a
uniform sensitivity would give every day 1 / lookback.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from shared.prices.attribution import saliency_record


def saliency_by_lag(model, x: np.ndarray, feature_index: int, batch_size: int = 256) -> dict:
    """Mean |d forecast / d x[window, day, feature]| over the windows `x` (samples, lookback,
    features): "by_lag" summed over the features, "by_lag_log_return" for feature
    `feature_index` alone, each (lookback,) oldest day first and normalised to sum to 1."""
    total = np.zeros(x.shape[1:], dtype=np.float64)  # (lookback, features)
    for i in range(0, len(x), batch_size):
        xb = tf.convert_to_tensor(x[i : i + batch_size], dtype=tf.float32)
        with tf.GradientTape() as tape:
            tape.watch(xb)  # a plain tensor, not a variable: the tape must be told
            forecast = model(xb, training=False)[:, 0]  # (batch,), no dropout
        # Windows do not interact, so the gradient of the (implicit) sum holds each window's own.
        grad = tape.gradient(forecast, xb)  # (batch, lookback, features)
        total += np.abs(grad.numpy()).sum(axis=0)
    mean = total / len(x)  # (lookback, features)
    return saliency_record(mean, feature_index)

