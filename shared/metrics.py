"""Metrics as plain functions, kept apart from training losses.

Language models report three numbers for the same validation text:

* loss: mean negative log-likelihood in nats per token (what cross-entropy returns);
* perplexity: exp(loss), "as uncertain as a uniform choice among this many tokens";
* bits per character: total negative log-likelihood in bits divided by the number of
  characters of the text. Unlike the first two it does not depend on the tokenizer, so a
  character model, a word model and a sub-word model can be compared on it.
"""

from __future__ import annotations

import math

import numpy as np

LN2 = math.log(2.0)

def perplexity(mean_nats_per_token: float) -> float:
    """exp(loss); `inf` rather than an OverflowError for a hopeless model."""
    try:
        return math.exp(mean_nats_per_token)
    except OverflowError:
        return math.inf

def bits_per_char(total_nats: float, n_chars: int) -> float:
    """Total negative log-likelihood of a text, in bits, per character of that text."""
    if n_chars <= 0:
        raise ValueError("n_chars must be positive")
    return total_nats / LN2 / n_chars

def lm_metrics(total_nats: float, n_tokens: int, n_chars: int, prefix: str = "val") -> dict:
    """The three language-model numbers under flat, split-prefixed keys."""
    if n_tokens <= 0:
        raise ValueError("n_tokens must be positive")
    loss = total_nats / n_tokens
    return {
        f"{prefix}_loss": loss,
        f"{prefix}_perplexity": perplexity(loss),
        f"{prefix}_bits_per_char": bits_per_char(total_nats, n_chars),
        f"{prefix}_tokens": n_tokens,
        f"{prefix}_chars": n_chars,
    }

def uniform_loss(vocab_size: int) -> float:
    """Loss of a model that spreads its probability evenly: ln(vocab size) nats per token."""
    return math.log(vocab_size)

def bigram_baseline_nats(train_ids, val_ids, vocab_size: int, alpha: float = 1.0) -> float:
    """Total nats of `val_ids[1:]` under a count-based bigram model fit on `train_ids`.

    P(b | a) = (count(a, b) + alpha) / (count(a) + alpha * vocab_size): add-alpha smoothing so
    a pair never seen in training still gets some probability.
    """

    train_ids, val_ids = np.asarray(train_ids), np.asarray(val_ids)
    counts = np.zeros((vocab_size, vocab_size), dtype=np.float64)
    np.add.at(counts, (train_ids[:-1], train_ids[1:]), 1.0)
    log_probs = np.log(counts + alpha) - np.log(counts.sum(axis=1, keepdims=True) + alpha * vocab_size)
    return float(-log_probs[val_ids[:-1], val_ids[1:]].sum())


def unigram_baseline_nats(train_ids, targets, vocab_size: int, alpha: float = 1.0) -> float:
    """Total nats of `targets` under add-alpha smoothed token frequencies of `train_ids`:
    the best model that ignores context entirely."""
    counts = np.bincount(np.asarray(train_ids), minlength=vocab_size).astype(np.float64)
    log_probs = np.log(counts + alpha) - np.log(counts.sum() + alpha * vocab_size)
    return float(-log_probs[np.asarray(targets)].sum())
