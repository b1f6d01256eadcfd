"""LLMind's two plots: confusion matrices (fine-tune and baselines side by side) and the
validation metrics per epoch against the baselines' validation scores."""

from __future__ import annotations

from pathlib import Path

import matplotlib
import numpy as np

from shared import plotting

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # the backend must be chosen first

COLORS = {"tfidf_logreg": "grey", "frozen_encoder_logreg": "tab:olive"}
NAMES = {"tfidf_logreg": "TF-IDF + LR", "frozen_encoder_logreg": "frozen encoder + LR",
         "tfidf_logreg_full_train": "TF-IDF + LR, whole train split"}


def confusion(metrics: dict, labels: list[str], path: str | Path) -> Path:
    matrices = {"fine-tuned": metrics["test_confusion"]}
    for key, b in metrics.get("baselines", {}).items():
        matrices[NAMES.get(key, key)] = b["test_confusion"]
    fig, axes = plt.subplots(1, len(matrices), figsize=(3.6 * len(matrices), 3.6), dpi=110,
                             squeeze=False)
    for ax, (name, matrix) in zip(axes[0], matrices.items(), strict=True):
        matrix = np.asarray(matrix)
        share = matrix / max(1, matrix.sum())
        ax.imshow(share, cmap="Blues", vmin=0, vmax=max(share.max(), 1e-9))
        for (i, j), count in np.ndenumerate(matrix):
            ax.text(j, i, f"{count:,}\n{share[i, j]:.0%}", ha="center", va="center", fontsize=9,
                    color="white" if share[i, j] > share.max() / 2 else "black")
        ax.set_xticks(range(len(labels)), labels)
        ax.set_yticks(range(len(labels)), labels)
        ax.set_xlabel("predicted")
        ax.set_ylabel("true")
        ax.set_title(name, fontsize=10)
    fig.suptitle("Test split confusion matrices")
    return plotting._save(fig, Path(path))


def validation_curves(history: list[dict], metrics: dict, path: str | Path) -> Path:
    evals = [e for e in history if "eval_macro_f1" in e]
    fig, ax = plt.subplots(figsize=(7, 4.2), dpi=110)
    epochs = [e["epoch"] for e in evals]
    ax.plot(epochs, [e["eval_accuracy"] for e in evals], "o-", label="fine-tune: accuracy")
    ax.plot(epochs, [e["eval_macro_f1"] for e in evals], "s-", label="fine-tune: macro-F1")
    for key, b in metrics.get("baselines", {}).items():
        ax.axhline(b["val_macro_f1"], ls="--", lw=1, color=COLORS.get(key, "tab:brown"),
                   label=f"{NAMES.get(key, key)}: macro-F1")
    ax.set_xlabel("epoch")
    ax.set_xticks(epochs)  # whole epochs only
    ax.set_ylabel("validation score")
    ax.set_title("Validation split, after each epoch")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return plotting._save(fig, Path(path))


def pretrained_vs_random(histories: dict[str, list[dict]], tfidf_val_macro_f1: float | None,
                         path: str | Path) -> Path:
    """The same fine-tune from pretrained and from random weights: validation macro-F1 after
    each epoch (left, beside TF-IDF's) and the training loss as it was logged (right)."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4), dpi=110)
    for (name, history), color in zip(histories.items(), ("tab:blue", "tab:red"), strict=False):
        evals = [e for e in history if "eval_macro_f1" in e]
        left.plot([e["epoch"] for e in evals], [e["eval_macro_f1"] for e in evals], "o-",
                  color=color, label=name)
        losses = [e for e in history if "loss" in e]
        right.plot([e["epoch"] for e in losses], [e["loss"] for e in losses], color=color, label=name)
    if tfidf_val_macro_f1 is not None:
        left.axhline(tfidf_val_macro_f1, ls="--", lw=1, color=COLORS["tfidf_logreg"],
                     label=NAMES["tfidf_logreg"])
    epochs = sorted({e["epoch"] for h in histories.values() for e in h if "eval_macro_f1" in e})
    left.set_xticks(epochs)  # whole epochs only
    left.set(xlabel="epoch", ylabel="validation macro-F1", title="Validation split, after each epoch")
    right.set(xlabel="epoch", ylabel="training loss (cross-entropy)", title="Training loss as logged")
    for ax in (left, right):
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle("The same MiniLM architecture and recipe, from pretrained and from random weights")
    return plotting._save(fig, Path(path))
