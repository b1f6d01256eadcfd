"""The two baselines a fine-tune must beat, on the same split as train.py:

- TF-IDF + logistic regression: word and word-pair counts, no pretraining at all;
- frozen encoder + logistic regression (feature extraction): the pretrained encoder's
  mean-pooled sentence embeddings, never updated, with a linear classifier on top.

Both pick their regularisation C on the validation split (`choose_c`: a grid that grows past
its edge until the best C lies inside it) and score the test split once. train.py runs them
(unless --no-baselines); they are functions, not a script. Each returns its metrics and its
test predictions, which train.py pairs with the fine-tune's for McNemar's test.
"""

from __future__ import annotations

import time

import numpy as np
import torch
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, classification_report, confusion_matrix, f1_score

import pretrained

# Factors of 4 from 1/16 to 4,096 (validation macro-F1 is flat within a factor of 2 near the
# best C, and each fit on 100,000 TF-IDF features costs seconds); TF-IDF on the bundled data
# peaks near 1,000. A best C at either end extends the grid by C_STEP up to C_LIMITS.
C_STEP = 4.0
C_GRID = tuple(C_STEP**k for k in range(-2, 7))
C_LIMITS = (C_STEP**-6, C_STEP**10)


def score(y_true, y_pred, names: list[str], prefix: str = "test_") -> dict:
    """Accuracy, macro-F1, the per-class report and the confusion matrix (rows: true label)."""
    labels = list(range(len(names)))
    return {
        f"{prefix}accuracy": float(accuracy_score(y_true, y_pred)),
        f"{prefix}macro_f1": float(f1_score(y_true, y_pred, average="macro", labels=labels,
                                            zero_division=0)),
        f"{prefix}report": classification_report(y_true, y_pred, labels=labels, target_names=names,
                                                 output_dict=True, zero_division=0),
        f"{prefix}confusion": confusion_matrix(y_true, y_pred, labels=labels).tolist(),
    }


def choose_c(validation_score, grid=C_GRID, limits=C_LIMITS) -> tuple[float, object, list[float]]:
    """The C whose `validation_score(C)` -> (score, model) is best, ties going to the smaller C
    (the stronger penalty). A best C at an end of the grid says the optimum may lie beyond it,
    so the grid grows by a factor of C_STEP past that end until the best C is inside, or a limit
    is reached. Returns the best C, its (score, model) and the sorted grid searched."""
    tried = {c: validation_score(c) for c in grid}
    while True:
        grid = sorted(tried)
        best = max(grid, key=lambda c: (tried[c][0], -c))
        if best == grid[0] and best / C_STEP >= limits[0]:
            tried[best / C_STEP] = validation_score(best / C_STEP)
        elif best == grid[-1] and best * C_STEP <= limits[1]:
            tried[best * C_STEP] = validation_score(best * C_STEP)
        else:
            return best, tried[best], grid


def _fit_logreg(x_train, y_train, x_val, y_val, seed: int, solver: str = "lbfgs") -> dict:
    """Logistic regression with the C of best validation macro-F1, and the grid searched."""
    def validation_score(c):
        clf = LogisticRegression(C=c, solver=solver, max_iter=5000, random_state=seed)
        clf.fit(x_train, y_train)
        return f1_score(y_val, clf.predict(x_val), average="macro"), clf

    c, (f1, clf), grid = choose_c(validation_score)
    return {"C": c, "C_grid": grid, "C_at_edge": c in (grid[0], grid[-1]),
            "val_macro_f1": float(f1), "classifier": clf}


def tfidf_logreg(texts: dict, y: dict, names: list[str], seed: int = 42) -> tuple[dict, np.ndarray]:
    """`texts`/`y`: per split name (train, validation, test), lists of strings / label ids.
    Returns the metrics and the test predictions (label ids, in the order of texts["test"])."""
    started = time.perf_counter()
    vectorizer = TfidfVectorizer(ngram_range=(1, 2), min_df=1, sublinear_tf=True)
    x_train = vectorizer.fit_transform(texts["train"])  # fitted on the training split only
    # liblinear fits 100,000 sparse TF-IDF features several times faster than lbfgs at large C,
    # but handles two classes only.
    fit = _fit_logreg(x_train, y["train"], vectorizer.transform(texts["validation"]),
                      y["validation"], seed, solver="liblinear" if len(names) == 2 else "lbfgs")
    seconds = time.perf_counter() - started
    predictions = fit.pop("classifier").predict(vectorizer.transform(texts["test"]))
    return ({**fit, "train_seconds": seconds, "features": int(x_train.shape[1]),
             **score(y["test"], predictions, names)}, predictions)


@torch.no_grad()
def embed(texts: list[str], tokenizer, encoder, max_length: int, batch_size: int = 128,
          device="cpu") -> np.ndarray:
    """Mean of the last layer's token vectors over the real (unpadded) tokens: (texts, width)."""
    encoder.eval().to(device)
    order = np.argsort([len(t) for t in texts])  # similar lengths per batch: little padding
    out = np.zeros((len(texts), encoder.config.hidden_size), dtype=np.float32)
    for start in range(0, len(texts), batch_size):
        index = order[start : start + batch_size]
        batch = tokenizer([texts[i] for i in index], padding=True, truncation=True,
                          max_length=max_length, return_tensors="pt").to(device)
        hidden = encoder(**batch).last_hidden_state  # (batch, tokens, width)
        mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)  # (batch, tokens, 1)
        out[index] = ((hidden * mask).sum(1) / mask.sum(1)).cpu().numpy()
    return out


def frozen_encoder_logreg(texts: dict, y: dict, names: list[str], model: str, max_length: int,
                          seed: int = 42, device="cpu") -> tuple[dict, np.ndarray]:
    """As tfidf_logreg, on the frozen encoder's mean-pooled sentence vectors."""
    started = time.perf_counter()
    tokenizer = pretrained.load(model, "tokenizer")
    encoder = pretrained.load(model, "encoder")
    features = {name: embed(texts[name], tokenizer, encoder, max_length, device=device)
                for name in ("train", "validation")}
    fit = _fit_logreg(features["train"], y["train"], features["validation"], y["validation"], seed)
    seconds = time.perf_counter() - started
    test_features = embed(texts["test"], tokenizer, encoder, max_length, device=device)
    predictions = fit.pop("classifier").predict(test_features)
    return ({**fit, "train_seconds": seconds, "features": int(encoder.config.hidden_size),
             **score(y["test"], predictions, names)}, predictions)
