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
from matplotlib.colors import TwoSlopeNorm


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
    *,
    mark_best: bool = False,
    best_step: int | None = None,
    best_label: str | None = None,
) -> Path:
    """Train and validation loss against step; optional horizontal lines for baselines.

    `history` holds `step`, `train_loss` (logged at every step in `step`) and optionally
    `val_step` / `val_loss` for the less frequent validation evaluations. `points` marks single
    results, e.g. `{"final, whole validation": (step, loss)}`. Each of `baselines` (e.g. the
    uniform guess, log of the vocabulary size) is a grey line labelled on the plot with its name
    and value. `mark_best` rings the evaluation with the lowest validation loss and writes its
    value beside it; `best_step` rings that step's evaluation instead (a checkpoint chosen on
    another validation score), labelled `best_label`.
    """
    path = Path(path)
    outside = bool(baselines) or mark_best or best_step is not None  # the legend below the axes
    fig, ax = plt.subplots(figsize=(7, 4.8 if outside else 4.2), dpi=110)
    if history.get("train_loss"):
        ax.plot(history["step"], history["train_loss"], label="train", color="tab:blue", lw=1)
    if history.get("val_loss"):
        ax.plot(history["val_step"], history["val_loss"], "o-", label=val_label,
                color="tab:orange", lw=1.5, ms=3)
    for name, (x, y) in (points or {}).items():
        ax.plot([x], [y], "*", color="tab:red", ms=11, label=f"{name}: {y:.3f}")
    for (name, value), style in zip((baselines or {}).items(), ("--", ":", "-."), strict=False):
        ax.axhline(value, color="grey", ls=style, lw=1)
        # Labelled on the line (not in the legend): the level is read where it is drawn.
        ax.annotate(f"{name}: {value:.3f}", (0.99, value), xycoords=("axes fraction", "data"),
                    xytext=(0, 2), textcoords="offset points", ha="right", va="bottom", fontsize=8,
                    color="dimgrey")
    if baselines:  # room above the highest level for its label
        low, high = ax.get_ylim()
        ax.set_ylim(low, max(high, max(baselines.values()) + 0.07 * (high - low)))
    if (mark_best or best_step is not None) and history.get("val_loss"):
        _ring_best(ax, history, best_step, best_label, xlabel)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    if outside:  # below the axes: it covers no line, and the labels have room
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.15), ncol=2, fontsize=8, frameon=False)
    else:
        ax.legend()
    return _save(fig, path)


def _ring_best(ax, history: dict, best_step: int | None, label: str | None, xlabel: str) -> None:
    """A ring on one validation point (the lowest, or `best_step`'s) and its value beside it."""
    steps, losses = history["val_step"], history["val_loss"]
    i = int(np.argmin(losses)) if best_step is None else steps.index(best_step)
    x, y = steps[i], losses[i]
    ax.plot([x], [y], "o", ms=13, mfc="none", mec="black", mew=1.5, zorder=5)
    text = f"{label or 'lowest validation'}: {y:.3f} ({xlabel} {x:,})"
    right = x > (min(history.get("step") or steps) + max(history.get("step") or steps)) / 2
    ax.annotate(text, (x, y), xytext=(-10 if right else 10, 30), textcoords="offset points",
                ha="right" if right else "left", fontsize=8,
                arrowprops={"arrowstyle": "-", "color": "black", "lw": 0.8})


def plot_points_2d(points, labels: list[str], path: str | Path, title: str,
                   xlabel: str = "component 1", ylabel: str = "component 2",
                   groups: list[int] | None = None, group_names: list[str] | None = None,
                   legend_title: str | None = None) -> Path:
    """A labelled scatter plot, e.g. word embeddings projected to two dimensions. `groups`
    (a group number per point) colours each group's points and labels alike, with the
    `group_names` in a legend below the plot."""
    path = Path(path)
    points = np.asarray(points)
    fig, ax = plt.subplots(figsize=(9, 7 if groups is None else 8), dpi=110)
    palette = matplotlib.colormaps["tab10"].colors
    colours = (["tab:blue"] * len(points) if groups is None
               else [palette[g % len(palette)] for g in groups])
    if groups is None:
        ax.scatter(points[:, 0], points[:, 1], s=8, color="tab:blue", alpha=0.6)
    else:
        for g, name in enumerate(group_names or [f"group {g + 1}" for g in range(max(groups) + 1)]):
            mine = np.asarray(groups) == g
            ax.scatter(points[mine, 0], points[mine, 1], s=16, color=palette[g % len(palette)],
                       alpha=0.85, label=name)
    for (x, y), label, colour in zip(points, labels, colours, strict=True):
        ax.annotate(label, (x, y), fontsize=7, xytext=(2, 2), textcoords="offset points",
                    color="black" if groups is None else colour)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    if groups is not None:  # below the axes: it covers no point
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.09), ncol=2, fontsize=8,
                  title=legend_title, title_fontsize=8, frameon=False, markerscale=1.5)
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
                  columns: int = 3, *, even: bool = False, masks: dict[str, object] | None = None,
                  differences: tuple[str, ...] = (), difference_label: str = "difference") -> Path:
    """A grid of heatmaps on one colour scale (e.g. attention weights), one per entry.

    `even=True` (attention maps, whose rows each sum to 1) colours every weight against an even
    spread over the keys its row may attend to, 1 / n: white is an even spread, red more weight
    than that, blue less, so the reader sees at once where a query chose. `masks` (name ->
    boolean (queries, keys), True = may attend; default every key) gives each row its n, and the
    keys a mask hides are drawn grey. When every row has the same n the bar reads in weights;
    when rows differ (a causal mask) it reads in weight minus the row's even spread.

    The maps named in `differences` (e.g. one map minus another) get a scale and a colour bar of
    their own, diverging around 0 and labelled `difference_label`.
    """
    path = Path(path)
    rows = -(-len(maps) // columns)
    cols = min(columns, len(maps))
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols + 0.8, 3.4 * rows + 0.4), dpi=110,
                             squeeze=False, layout="constrained")
    weights = {n: np.asarray(m, dtype=float) for n, m in maps.items() if n not in differences}
    shown, style, label = _weight_style(weights, masks or {}, even)
    extra = {n: np.asarray(maps[n], dtype=float) for n in maps if n in differences}
    reach = max([float(np.nanmax(np.abs(m))) for m in extra.values()] + [1e-12])
    shown.update(extra)
    images, panels = {}, {}
    for ax, name in zip(axes.flat, maps, strict=False):
        kind = "difference" if name in differences else "weight"
        own = ({"cmap": "PuOr_r", "vmin": -reach, "vmax": reach} if kind == "difference"
               else style)
        images[kind] = ax.imshow(shown[name], aspect="auto", interpolation="nearest", **own)
        panels.setdefault(kind, []).append(ax)
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
    if "weight" in images:
        bar = fig.colorbar(images["weight"], ax=panels["weight"], shrink=0.8, label=label)
        if even:  # a tick on the bar where white is: the even spread
            bar.ax.axhline(style["norm"].vcenter, color="black", lw=0.8)
    if "difference" in images:
        fig.colorbar(images["difference"], ax=panels["difference"], shrink=0.8,
                     label=difference_label)
    fig.suptitle(title)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)  # constrained layout, not _save's tight_layout: it fits the colour bar
    plt.close(fig)
    return path


def _weight_style(weights: dict[str, np.ndarray], masks: dict, even: bool):
    """The matrices to draw, imshow's colour settings and the colour bar's label."""
    if not even:
        top = max([float(np.max(m)) for m in weights.values()] + [1e-12])
        return dict(weights), {"cmap": "viridis", "vmin": 0, "vmax": top}, "attention weight"
    allowed = {n: np.broadcast_to(np.asarray(masks[n], dtype=bool), m.shape) if n in masks
               else np.ones(m.shape, dtype=bool) for n, m in weights.items()}
    keys = {n: np.maximum(a.sum(axis=-1, keepdims=True), 1) for n, a in allowed.items()}
    counts = {int(k) for n in keys for k in np.ravel(keys[n])}
    cmap = matplotlib.colormaps["RdBu_r"].with_extremes(bad="0.82")  # grey: a masked key
    hidden = "\ngrey: a masked key" if any(not a.all() for a in allowed.values()) else ""
    if len(counts) == 1:  # every row sees the same n keys: the weights themselves, white at 1/n
        n = counts.pop()
        shown = {name: np.where(allowed[name], m, np.nan) for name, m in weights.items()}
        centre = 1 / n
        top = max(float(np.nanmax(m)) for m in shown.values())
        norm = TwoSlopeNorm(vmin=0.0, vcenter=centre, vmax=max(top, centre * 1.01))
        return shown, {"cmap": cmap, "norm": norm}, (
            f"attention weight\nwhite: even spread, 1/{n} = {centre:.2f}{hidden}")
    shown = {name: np.where(allowed[name], m - 1 / keys[name], np.nan) for name, m in weights.items()}
    low = min(float(np.nanmin(m)) for m in shown.values())
    high = max(float(np.nanmax(m)) for m in shown.values())
    norm = TwoSlopeNorm(vmin=min(low, -1e-6), vcenter=0.0, vmax=max(high, 1e-6))
    return shown, {"cmap": cmap, "norm": norm}, (
        f"weight minus an even spread\nwhite (0): 1 / keys the row sees{hidden}")


# plot_lines(distinct=True): line style, marker and colour of each series, in turn
_LOOKS = (("-", "o", "tab:blue"), ("--", "s", "tab:orange"), (":", "^", "black"), ("-.", "D", "tab:green"))


def plot_lines(x, series: dict[str, object], path: str | Path, title: str, xlabel: str,
               ylabel: str, reference: tuple[str, float] | None = None, *,
               distinct: bool = False) -> Path:
    """Several lines over the same x; `reference` draws a labelled horizontal line.

    By default the last series (e.g. the mean of the others) is drawn on top, bold. With
    `distinct` every series gets its own colour, line style and marker (markers staggered along
    the line), and the legend sits below the plot: lines that coincide can still be told apart.
    """
    path = Path(path)
    fig, ax = plt.subplots(figsize=(7, 4.6 if distinct else 4.2), dpi=110)
    for i, (name, values) in enumerate(series.items()):
        if distinct:
            line, marker, color = _LOOKS[i % len(_LOOKS)]
            every = max(1, len(x) // 8)
            # Thinner on top: where lines coincide, each still shows at the edges of the last.
            ax.plot(x, values, ls=line, marker=marker, color=color, lw=3.0 - 0.7 * (i % len(_LOOKS)),
                    ms=6, mfc="none", markevery=(i * every // max(1, len(series)), every),
                    label=name)
            continue
        last = i == len(series) - 1  # the last series (e.g. the mean) is drawn on top, bold
        ax.plot(x, values, lw=2.2 if last else 1, alpha=1 if last else 0.7, label=name,
                color="black" if last else None)
    if reference:
        ax.axhline(reference[1], color="grey", ls="--", lw=1, label=reference[0])
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    if distinct:  # below the axes, where it cannot cover a line
        ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.16),
                  ncol=min(len(series) + bool(reference), 4), frameon=False)
    else:
        ax.legend(fontsize=8)
    return _save(fig, path)
