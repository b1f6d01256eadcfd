"""Gradient saliency: which days of the window the forecast is sensitive to, for any network
(the LSTM has no attention map to show; this gives it, and the transformer, a comparable one).
train.py calls `saliency_by_lag` on the test windows for the seed it keeps; MemoryLLM/saliency.py
computes the same numbers for stage 3's Keras model.

For a test window x (lookback, features) and the first forecast step f(x), the saliency of day t
is sum over features j of |df / dx[t, j]|: how much the forecast moves per unit change of that
day's (scaled) inputs. Averaged over the test windows and normalised to sum to 1, a uniform
sensitivity would give every day 1 / lookback.
"""

from __future__ import annotations

import numpy as np
import torch

from shared.prices.attribution import saliency_record


def saliency_by_lag(model: torch.nn.Module, x: np.ndarray, feature_index: int, device="cpu",
                    batch_size: int = 256) -> dict:
    """Mean |d forecast / d x[window, day, feature]| over the windows `x` (samples, lookback,
    features): "by_lag" summed over the features, "by_lag_log_return" for feature
    `feature_index` alone, each (lookback,) oldest day first and normalised to sum to 1."""
    model.eval()  # no dropout: the gradient of the forecast the model makes
    total = torch.zeros(x.shape[1:], dtype=torch.float64)  # (lookback, features)
    # cuDNN's LSTM backward runs in training mode only; the plain kernels have no such rule.
    with torch.backends.cudnn.flags(enabled=False):
        for i in range(0, len(x), batch_size):
            xb = torch.from_numpy(x[i : i + batch_size]).to(device).requires_grad_(True)
            forecast = model(xb)[:, 0]  # (batch,): the first step, as the metrics score it
            # Windows do not interact in eval mode, so the gradient of the sum holds each
            # window's own gradient.
            (grad,) = torch.autograd.grad(forecast.sum(), xb)  # (batch, lookback, features)
            total += grad.abs().sum(dim=0).double().cpu()
    mean = (total / len(x)).numpy()  # (lookback, features)
    return saliency_record(mean, feature_index)

