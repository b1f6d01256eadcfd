"""Attention maps of a trained transformer forecaster on the test split: which past days the
forecast looks at (decoder cross-attention) and how the days of the window look at each other
(encoder self-attention). train.py calls `attention_report` for the seed it keeps.

Columns are labelled by how many trading days before the forecast day they lie: -1 is the last
day of the window (the close persistence would predict), -60 the first.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from shared import plotting

RECENT = 5  # "the last week": how much weight goes to the newest RECENT days


@torch.no_grad()
def test_attention(model, x: np.ndarray, device) -> tuple[np.ndarray, np.ndarray]:
    """Cross-attention of the first forecast step (samples, heads, lookback) and the last
    encoder layer's self-attention (samples, heads, lookback, lookback), both in eval mode."""
    model.eval()
    _, weights = model(torch.from_numpy(x).to(device), return_attention=True)
    cross = weights["cross"][-1][:, :, 0].cpu().numpy()  # last decoder block, first step
    return cross, weights["encoder"][-1].cpu().numpy()


def chosen_days(split) -> dict[str, int]:
    """Three test days worth a look: the biggest rise, the biggest fall, the last day."""
    move = split.close / split.prev_close - 1
    picks = {"biggest rise": int(np.argmax(move)), "biggest fall": int(np.argmin(move)),
             "last test day": len(move) - 1}
    return {f"{name} {split.dates[i].date()} ({move[i]:+.1%})": i for name, i in picks.items()}


def attention_report(model, data, device, out: Path, ticker: str) -> dict:
    """Write the three attention plots to `out`; return the numbers metrics.json keeps."""
    cross, encoder = test_attention(model, data.test.x, device)
    lookback, heads = cross.shape[-1], cross.shape[1]
    lags = list(range(-lookback, 0))
    head_names = [f"head {h + 1}" for h in range(heads)]
    by_lag = cross.mean(axis=0)  # (heads, lookback): average over every test day
    mean = by_lag.mean(axis=0)

    days = chosen_days(data.test)
    plotting.plot_heatmaps(
        {name: np.vstack([cross[i], cross[i].mean(axis=0)]) for name, i in days.items()},
        out / "attention_cross.png", f"{ticker}: which past days the forecast attends to",
        "days before the forecast day", "head", xticks=lags, yticks=[*head_names, "mean"])
    plotting.plot_lines(lags, {**dict(zip(head_names, by_lag, strict=True)), "mean of heads": mean},
                        out / "attention_by_lag.png",
                        f"{ticker}: cross-attention by lag, averaged over {len(cross)} test days",
                        "days before the forecast day", "attention weight",
                        reference=("uniform (1 / lookback)", 1 / lookback))
    last = len(data.test.x) - 1
    plotting.plot_heatmaps(
        {**{name: encoder[last, h] for h, name in enumerate(head_names)},
         "mean of heads": encoder[last].mean(axis=0)},
        out / "attention_encoder.png",
        f"{ticker}: encoder self-attention, last layer, window before {data.test.dates[last].date()}",
        "attended day (before forecast)", "attending day", xticks=lags)
    return {
        "recent_days": RECENT,
        "recent_share": float(mean[-RECENT:].sum()),  # uniform attention would give RECENT/lookback
        "uniform_recent_share": RECENT / lookback,
        "peak_lag": int(lags[int(np.argmax(mean))]),
        "head_peak_lags": [int(lags[int(np.argmax(h))]) for h in by_lag],
        "by_lag_mean": mean.tolist(),
        "by_lag_heads": by_lag.tolist(),  # (heads, lookback): whether any one head focuses
    }
