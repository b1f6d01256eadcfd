"""The two baselines a fine-tune must beat, on the same split as train.py:

- TF-IDF + logistic regression: word and word-pair counts, no pretraining at all;
- frozen encoder + logistic regression (feature extraction): the pretrained encoder's
  mean-pooled sentence embeddings, never updated, with a linear classifier on top.

Both pick their regularisation C on the validation split and score the test split once.
train.py runs them (unless --no-baselines); they are functions, not a script.
"""

from __future__ import annotations

import time

import numpy as np
import pretrained
import torch
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, classification_report, confusion_matrix, f1_score

C_GRID = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0)


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


def _fit_logreg(x_train, y_train, x_val, y_val, seed: int):
    """Logistic regression with the C of best validation macro-F1."""
    best = None
    for c in C_GRID:
        clf = LogisticRegression(C=c, max_iter=2000, random_state=seed).fit(x_train, y_train)
        f1 = f1_score(y_val, clf.predict(x_val), average="macro")
        if best is None or f1 > best[0]:
            best = (f1, c, clf)
    return best


def tfidf_logreg(texts: dict, y: dict, names: list[str], seed: int = 42) -> dict:
    """`texts`/`y`: per split name (train, validation, test), lists of strings / label ids."""
    started = time.perf_counter()
    vectorizer = TfidfVectorizer(ngram_range=(1, 2), min_df=1, sublinear_tf=True)
    x_train = vectorizer.fit_transform(texts["train"])  # fitted on the training split only
    val_f1, c, clf = _fit_logreg(x_train, y["train"], vectorizer.transform(texts["validation"]),
                                 y["validation"], seed)
    seconds = time.perf_counter() - started
    predictions = clf.predict(vectorizer.transform(texts["test"]))
    return {"val_macro_f1": float(val_f1), "C": c, "train_seconds": seconds,
            "features": int(x_train.shape[1]),
            **score(y["test"], predictions, names)}


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
                          seed: int = 42, device="cpu") -> dict:
    started = time.perf_counter()
    tokenizer = pretrained.load(model, "tokenizer")
    encoder = pretrained.load(model, "encoder")
    features = {name: embed(texts[name], tokenizer, encoder, max_length, device=device)
                for name in ("train", "validation")}
    val_f1, c, clf = _fit_logreg(features["train"], y["train"], features["validation"],
                                 y["validation"], seed)
    seconds = time.perf_counter() - started
    predictions = clf.predict(embed(texts["test"], tokenizer, encoder, max_length, device=device))
    return {"val_macro_f1": float(val_f1), "C": c, "train_seconds": seconds,
            "features": int(encoder.config.hidden_size),
            **score(y["test"], predictions, names)}
