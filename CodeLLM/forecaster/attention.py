"""Attention maps of a trained transformer forecaster on the test split: which past days the
forecast looks at (decoder cross-attention) and how the days of the window look at each other
(encoder self-attention). train.py calls `attention_report` for the seed it keeps.

Columns are labelled by how many trading days before the forecast day they lie: -1 is the last
day of the window (the close persistence would predict), -60 the first. With --patch P the maps
are over tokens of P days each: a column is labelled by the days its token covers ("-8..-1"),
and where a token needs one number for its lag (peak_lag, head_peak_lags) it is the lag of the
token's newest day (-1 for the last token).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from shared import plotting

RECENT = 5  # "the last week": how much weight goes to the newest RECENT days


@torch.no_grad()
def test_attention(model, x: np.ndarray, device) -> tuple[np.ndarray, np.ndarray]:
    """Cross-attention of the first forecast step (samples, heads, tokens) and the last
    encoder layer's self-attention (samples, heads, tokens, tokens), both in eval mode."""
    model.eval()
    _, weights = model(torch.from_numpy(x).to(device), return_attention=True)
    cross = weights["cross"][-1][:, :, 0].cpu().numpy()  # last decoder block, first step
    return cross, weights["encoder"][-1].cpu().numpy()


def token_lags(lookback: int, patch: int) -> tuple[list[int], list]:
    """Per token, oldest first: the lag of its newest day, and its tick label (the lag itself
    for one day per token, else the days it covers, e.g. "-8..-1")."""
    newest = list(range(patch - lookback - 1, 0, patch))  # patch 1: -lookback .. -1
    if patch == 1:
        return newest, newest
    return newest, [f"{lag - patch + 1}..{lag}" for lag in newest]


def chosen_days(split) -> dict[str, int]:
    """Three test days worth a look: the biggest rise, the biggest fall, the last day."""
    move = split.close / split.prev_close - 1
    picks = {"biggest rise": int(np.argmax(move)), "biggest fall": int(np.argmin(move)),
             "last test day": len(move) - 1}
    return {f"{name} {split.dates[i].date()} ({move[i]:+.1%})": i for name, i in picks.items()}


def attention_report(model, data, device, out: Path, ticker: str) -> dict:
    """Write the three attention plots to `out`; return the numbers metrics.json keeps."""
    cross, encoder = test_attention(model, data.test.x, device)
    tokens, heads = cross.shape[-1], cross.shape[1]
    patch = getattr(model, "patch", 1)
    lookback = tokens * patch
    lags, ticks = token_lags(lookback, patch)  # a token's lag: its newest day's
    unit = "day" if patch == 1 else "token"
    lag_label = "days before the forecast day" + ("" if patch == 1 else f" ({patch} per token)")
    head_names = [f"head {h + 1}" for h in range(heads)]
    by_lag = cross.mean(axis=0)  # (heads, tokens): average over every test day
    mean = by_lag.mean(axis=0)
    recent = -(-RECENT // patch)  # the tokens that hold the newest RECENT days (patch 1: RECENT)

    days = chosen_days(data.test)
    plotting.plot_heatmaps(
        {name: np.vstack([cross[i], cross[i].mean(axis=0)]) for name, i in days.items()},
        out / "attention_cross.png", f"{ticker}: which past {unit}s the forecast attends to",
        lag_label, "head", xticks=ticks, yticks=[*head_names, "mean"])
    plotting.plot_lines(lags, {**dict(zip(head_names, by_lag, strict=True)), "mean of heads": mean},
                        out / "attention_by_lag.png",
                        f"{ticker}: cross-attention by lag, averaged over {len(cross)} test days",
                        lag_label if patch == 1 else f"{lag_label}, token's newest day",
                        "attention weight",
                        reference=(f"uniform (1 / {'lookback' if patch == 1 else 'tokens'})", 1 / tokens))
    last = len(data.test.x) - 1
    plotting.plot_heatmaps(
        {**{name: encoder[last, h] for h, name in enumerate(head_names)},
         "mean of heads": encoder[last].mean(axis=0)},
        out / "attention_encoder.png",
        f"{ticker}: encoder self-attention, last layer, window before {data.test.dates[last].date()}",
        f"attended {unit} (before forecast)", f"attending {unit}", xticks=ticks)
    return {
        "patch": patch,
        "recent_days": recent * patch,
        "recent_share": float(mean[-recent:].sum()),  # uniform attention would give recent/tokens
        "uniform_recent_share": recent / tokens,
        "peak_lag": int(lags[int(np.argmax(mean))]),
        "head_peak_lags": [int(lags[int(np.argmax(h))]) for h in by_lag],
        "by_lag_mean": mean.tolist(),
        "by_lag_heads": by_lag.tolist(),  # (heads, tokens), oldest first: whether any one head focuses
    }
