"""Plots saved straight to PNG files (Agg backend: works with no screen, never calls show()).

At the top of shared/ because every domain draws with it: the language models' loss curves
(TinyLLM, SmaLLM's embeddings, shared.lm.loop), the forecasters' curves and forecasts
(shared.prices.runs, CodeLLM's comparison), attention maps (CodeLLM's lessons), LLMind's plots
and docs/build.py's chart.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib
import numpy as np

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # the backend must be chosen first


def _save(fig, path: Path) -> Path:
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path


def figure(panels: int = 1, width: float = 7.0, height: float = 4.2):
    """A figure of `panels` side by side, for a script that draws its own plot and then calls
    save_figure (the experiments of issue 18 draw two panels)."""
    fig, axes = plt.subplots(1, panels, figsize=(width, height), dpi=110)
    return fig, axes


def save_figure(fig, path: str | Path) -> Path:
    """Lay out, write and close a figure drawn by `figure`."""
    return _save(fig, Path(path))


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
              muted: tuple[str, ...] = (), errors: dict[str, float] | None = None,
              reference: tuple[str, float] | None = None, fmt: str = "%.3f") -> Path:
    """One labelled bar per entry, with its value written on top; `muted` bars (baselines)
    are drawn in grey; `errors` adds error bars (e.g. std over seeds); `reference` draws a
    labelled horizontal line."""
    path = Path(path)
    fig, ax = plt.subplots(figsize=(max(5, 1.6 * len(values)), 4.2), dpi=110)
    colors = ["tab:grey" if name in muted else "tab:blue" for name in values]
    yerr = [errors.get(name, 0.0) for name in values] if errors else None
    bars = ax.bar(list(values), list(values.values()), color=colors, yerr=yerr, capsize=4)
    ax.bar_label(bars, fmt=fmt, padding=2)
    if reference:
        ax.axhline(reference[1], color="black", ls="--", lw=1, label=reference[0])
        ax.legend()
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(axis="y", alpha=0.3)
    ax.tick_params(axis="x", labelsize=8)
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


def plot_heatmaps(maps: dict[str, object], path: str | Path, title: str, xlabel: str,
                  ylabel: str, xticks: list | None = None, yticks: list | None = None,
                  columns: int = 3) -> Path:
    """A grid of heatmaps on one colour scale (e.g. attention weights), one per entry."""
    path = Path(path)
    rows = -(-len(maps) // columns)
    cols = min(columns, len(maps))
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols + 0.8, 3.4 * rows + 0.4), dpi=110,
                             squeeze=False, layout="constrained")
    top = max(float(np.max(m)) for m in maps.values())
    for ax, (name, matrix) in zip(axes.flat, maps.items(), strict=False):
        image = ax.imshow(np.asarray(matrix), aspect="auto", cmap="viridis", vmin=0, vmax=top,
                          interpolation="nearest")
        ax.set_title(name, fontsize=9)
        ax.set_xlabel(xlabel, fontsize=8)
        ax.set_ylabel(ylabel, fontsize=8)
        if xticks is not None:
            step = max(1, len(xticks) // 6)
            ax.set_xticks(range(0, len(xticks), step), [xticks[i] for i in range(0, len(xticks), step)])
        if yticks is not None:
            ax.set_yticks(range(len(yticks)), yticks, fontsize=7)
    for ax in list(axes.flat)[len(maps):]:
        ax.axis("off")
    fig.colorbar(image, ax=axes, shrink=0.8, label="attention weight")
    fig.suptitle(title)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)  # constrained layout, not _save's tight_layout: it fits the colour bar
    plt.close(fig)
    return path


def plot_lines(x, series: dict[str, object], path: str | Path, title: str, xlabel: str,
               ylabel: str, reference: tuple[str, float] | None = None) -> Path:
    """Several lines over the same x; `reference` draws a labelled horizontal line."""
    path = Path(path)
    fig, ax = plt.subplots(figsize=(7, 4.2), dpi=110)
    for i, (name, values) in enumerate(series.items()):
        last = i == len(series) - 1  # the last series (e.g. the mean) is drawn on top, bold
        ax.plot(x, values, lw=2.2 if last else 1, alpha=1 if last else 0.7, label=name,
                color="black" if last else None)
    if reference:
        ax.axhline(reference[1], color="grey", ls="--", lw=1, label=reference[0])
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return _save(fig, path)
