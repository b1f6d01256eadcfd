"""Language-model metrics as plain functions, kept apart from training losses.

Language models report three numbers for the same validation (or test) text:

* loss: mean negative log-likelihood in nats per token (what cross-entropy returns);
* perplexity: exp(loss), "as uncertain as a uniform choice among this many tokens";
* bits per character: total negative log-likelihood in bits divided by the number of
  characters of the text. Unlike the first two it does not depend on the tokenizer, so a
  character model, a word model and a sub-word model can be compared on it.

Two models scored on the same test text are compared with a paired block bootstrap
(`paired_block_bootstrap`): the text is cut into fixed blocks of characters, each run stores
its nats per block, and resampling whole blocks (the same blocks for both models) gives an
interval on the difference in bits per character that respects the dependence between
neighbouring characters.

Imported by TinyLLM/train.py and SmaLLM/train.py (their metrics and baselines), shared.lm.loop
and shared.lm.scoring, TinyLLM/report.py and docs/build.py (`compare_runs` on the committed
runs), and the tests. The forecasters' metrics are in shared.prices.forecast.
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

def bigram_baseline_token_nats(train_ids, ids, vocab_size: int, alpha: float = 1.0) -> np.ndarray:
    """Nats of each of `ids[1:]` (given the id before it) under a count-based bigram model fit
    on `train_ids`.

    P(b | a) = (count(a, b) + alpha) / (count(a) + alpha * vocab_size): add-alpha smoothing so
    a pair never seen in training still gets some probability.
    """
    train_ids, ids = np.asarray(train_ids), np.asarray(ids)
    counts = np.zeros((vocab_size, vocab_size), dtype=np.float64)
    np.add.at(counts, (train_ids[:-1], train_ids[1:]), 1.0)
    log_probs = np.log(counts + alpha) - np.log(counts.sum(axis=1, keepdims=True) + alpha * vocab_size)
    return -log_probs[ids[:-1], ids[1:]]


def bigram_baseline_nats(train_ids, val_ids, vocab_size: int, alpha: float = 1.0) -> float:
    """Total nats of `val_ids[1:]` under the counted bigram of `bigram_baseline_token_nats`."""
    return float(bigram_baseline_token_nats(train_ids, val_ids, vocab_size, alpha).sum())


def unigram_baseline_nats(train_ids, targets, vocab_size: int, alpha: float = 1.0) -> float:
    """Total nats of `targets` under add-alpha smoothed token frequencies of `train_ids`:
    the best model that ignores context entirely."""
    counts = np.bincount(np.asarray(train_ids), minlength=vocab_size).astype(np.float64)
    log_probs = np.log(counts + alpha) - np.log(counts.sum() + alpha * vocab_size)
    return float(-log_probs[np.asarray(targets)].sum())


def block_sums(token_nats, token_starts, n_chars: int, block_chars: int) -> list[float]:
    """Nats per block of `block_chars` characters of a scored text of `n_chars` characters.

    Token `i` (a character, or a word piece) starts at character `token_starts[i]` and its nats
    count in the block of that first character. The last block may be shorter."""
    if n_chars <= 0 or block_chars <= 0:
        raise ValueError("n_chars and block_chars must be positive")
    starts = np.asarray(token_starts, dtype=np.int64)
    if len(starts) and (starts.min() < 0 or starts.max() >= n_chars):
        raise ValueError("a token starts outside the text")
    n_blocks = -(-n_chars // block_chars)
    sums = np.bincount(starts // block_chars, weights=np.asarray(token_nats, dtype=np.float64),
                       minlength=n_blocks)
    return [float(x) for x in sums]


def block_lengths(n_chars: int, block_chars: int) -> list[int]:
    """Characters in each block of `block_sums`: full blocks, then the remainder."""
    full, rest = divmod(n_chars, block_chars)
    return [block_chars] * full + ([rest] if rest else [])


def paired_block_bootstrap(nats_a, nats_b, chars, resamples: int = 2000, seed: int = 0,
                           level: float = 0.95) -> dict:
    """Bits per character of model A minus model B on the same text, with a paired
    block-bootstrap interval.

    `nats_a[k]` and `nats_b[k]` are the two models' nats on block k, `chars[k]` its characters.
    Each resample draws as many blocks as there are, with replacement, the same draw for both
    models (paired), and computes (sum A - sum B) / ln 2 / sum chars over the drawn blocks; the
    interval is the central `level` of those differences (percentile bootstrap). Fixed `seed`:
    the same numbers give the same interval. Returns {"difference", "low", "high",
    "significant" (the interval excludes 0), "blocks", "resamples", "level"}."""
    a, b = np.asarray(nats_a, dtype=np.float64), np.asarray(nats_b, dtype=np.float64)
    n = np.asarray(chars, dtype=np.float64)
    if not (a.shape == b.shape == n.shape) or a.ndim != 1 or len(a) < 2:
        raise ValueError("need the same two or more blocks for both models")
    difference = (a.sum() - b.sum()) / LN2 / n.sum()
    draws = np.random.default_rng(seed).integers(0, len(a), size=(resamples, len(a)))
    resampled = (a - b)[draws].sum(axis=1) / LN2 / n[draws].sum(axis=1)
    tail = (1.0 - level) / 2.0
    low, high = np.quantile(resampled, [tail, 1.0 - tail])
    return {"difference": float(difference), "low": float(low), "high": float(high),
            "significant": bool(low > 0 or high < 0), "blocks": len(a),
            "resamples": resamples, "level": level}


def compare_runs(a: dict, b: dict, key_a: str = "test_block_nats", key_b: str | None = None,
                 resamples: int = 2000, seed: int = 0) -> dict:
    """`paired_block_bootstrap` of two runs' metrics.json (A minus B, bits per character on
    their test text), from the per-block nats each run stored under `key_a` / `key_b`.
    Refuses (ValueError) runs that did not score the same text in the same blocks."""
    for run in (a, b):
        if "test_text_sha256" not in run or "test_block_chars" not in run:
            raise ValueError("a run without per-block test losses (older than the test split)")
    if (a["test_text_sha256"], a["test_block_chars"], a["test_chars"]) != \
            (b["test_text_sha256"], b["test_block_chars"], b["test_chars"]):
        raise ValueError("the two runs scored different test texts or blocks; they cannot be paired")
    chars = block_lengths(a["test_chars"], a["test_block_chars"])
    return paired_block_bootstrap(a[key_a], b[key_b or key_a], chars, resamples, seed)
