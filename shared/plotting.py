"""Plots saved straight to PNG files (Agg backend: works with no screen, never calls show())."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (the backend must be chosen first)


def _save(fig, path: Path) -> Path:
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path


def plot_loss_curves(
    history: dict[str, list[float]],
    path: str | Path,
    title: str = "Loss",
    ylabel: str = "loss (nats per token)",
    baselines: dict[str, float] | None = None,
    val_label: str = "validation",
    points: dict[str, tuple[float, float]] | None = None,
    xlabel: str = "step",
) -> Path:
    """Train and validation loss against step; optional horizontal lines for baselines.

    `history` holds `step`, `train_loss` (logged at every step in `step`) and optionally
    `val_step` / `val_loss` for the less frequent validation evaluations. `points` marks single
    results, e.g. `{"final, whole validation": (step, loss)}`.
    """
    path = Path(path)
    fig, ax = plt.subplots(figsize=(7, 4.2), dpi=110)
    if history.get("train_loss"):
        ax.plot(history["step"], history["train_loss"], label="train", color="tab:blue", lw=1)
    if history.get("val_loss"):
        ax.plot(history["val_step"], history["val_loss"], "o-", label=val_label,
                color="tab:orange", lw=1.5, ms=3)
    for name, (x, y) in (points or {}).items():
        ax.plot([x], [y], "*", color="tab:red", ms=11, label=f"{name}: {y:.3f}")
    for (name, value), style in zip((baselines or {}).items(), ("--", ":", "-."), strict=False):
        ax.axhline(value, color="grey", ls=style, lw=1, label=name)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    return _save(fig, path)


def plot_points_2d(points, labels: list[str], path: str | Path, title: str,
                   xlabel: str = "component 1", ylabel: str = "component 2") -> Path:
    """A labelled scatter plot, e.g. word embeddings projected to two dimensions."""
    path = Path(path)
    fig, ax = plt.subplots(figsize=(9, 7), dpi=110)
    ax.scatter(points[:, 0], points[:, 1], s=8, color="tab:blue", alpha=0.6)
    for (x, y), label in zip(points, labels, strict=True):
        ax.annotate(label, (x, y), fontsize=7, xytext=(2, 2), textcoords="offset points")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    return _save(fig, path)


def plot_bars(values: dict[str, float], path: str | Path, title: str, ylabel: str,
              muted: tuple[str, ...] = ()) -> Path:
    """One labelled bar per entry, with its value written on top; `muted` bars (baselines)
    are drawn in grey."""
    path = Path(path)
    fig, ax = plt.subplots(figsize=(max(5, 1.6 * len(values)), 4.2), dpi=110)
    colors = ["tab:grey" if name in muted else "tab:blue" for name in values]
    bars = ax.bar(list(values), list(values.values()), color=colors)
    ax.bar_label(bars, fmt="%.3f")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(axis="y", alpha=0.3)
    return _save(fig, path)


def plot_forecast(dates, actual, predictions: dict[str, object], path: str | Path,
                  title: str, ylabel: str = "close") -> Path:
    """Actual prices and each forecast on the same days (e.g. the test split)."""
    path = Path(path)
    fig, (ax, zoom) = plt.subplots(2, 1, figsize=(9, 6.5), dpi=110,
                                   gridspec_kw={"height_ratios": [2, 1]})
    ax.plot(dates, actual, color="black", lw=1.2, label="actual")
    styles = ["tab:orange", "tab:grey", "tab:green", "tab:purple"]
    for (name, values), color in zip(predictions.items(), styles, strict=False):
        ax.plot(dates, values, lw=1, color=color, label=name, alpha=0.9)
    last = slice(-60, None)  # the last 60 days, where the lines can be told apart
    zoom.plot(dates[last], actual[last], color="black", lw=1.2)
    for (_, values), color in zip(predictions.items(), styles, strict=False):
        zoom.plot(dates[last], values[last], lw=1, color=color)
    ax.set_title(title)
    ax.set_ylabel(ylabel)
    zoom.set_ylabel(f"{ylabel}, last 60 days")
    for axis in (ax, zoom):
        axis.grid(alpha=0.3)
    ax.legend()
    return _save(fig, path)
