"""Attention from scratch in NumPy: the small library the stage 4 lessons import.

Nothing here trains; every function is a plain formula you can read and check by hand. The
tests (tests/test_lessons.py) compare these functions with PyTorch's own implementations
(`F.scaled_dot_product_attention`, `nn.MultiheadAttention`, `nn.TransformerEncoderLayer`).

Conventions:
- the last two axes are (tokens, features); any leading axes (e.g. batch) are carried along;
- a boolean `mask` is True where a query MAY look at a key, as in
  `torch.nn.functional.scaled_dot_product_attention` (nn.MultiheadAttention uses the opposite:
  True there means "blocked");
- weight matrices use torch's nn.Linear layout (out_features, in_features), so `y = x @ W.T + b`
  and a trained torch layer's weights can be copied in unchanged.

Used by the lesson scripts beside it, e.g. `python CodeLLM/lessons/01_scaled_dot_product.py`.
"""

from __future__ import annotations

import math

import numpy as np

_erf = np.vectorize(math.erf, otypes=[float])  # NumPy has no erf; inputs here are tiny


def softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    """exp(x) / sum(exp(x)) along `axis`; same shape as x.

    Subtracting the maximum first changes nothing mathematically (it cancels in the ratio)
    but keeps exp() from overflowing for large scores, e.g. exp(1000) = inf.
    """
    shifted = x - np.max(x, axis=axis, keepdims=True)
    exps = np.exp(shifted)
    return exps / np.sum(exps, axis=axis, keepdims=True)


def causal_mask(length: int) -> np.ndarray:
    """(length, length) booleans, True on and below the diagonal: token i may look at j <= i."""
    return np.tril(np.ones((length, length), dtype=bool))


def scaled_dot_product_attention(q: np.ndarray, k: np.ndarray, v: np.ndarray,
                                 mask: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """softmax(q k^T / sqrt(d_k)) v.

    q: (..., queries, d_k), k: (..., keys, d_k), v: (..., keys, d_v),
    mask: broadcastable to (..., queries, keys), True = may attend.
    Returns output (..., queries, d_v) and weights (..., queries, keys); each row of weights
    sums to 1.
    """
    d_k = q.shape[-1]
    # Why sqrt(d_k): if the entries of q and k are independent with variance 1, q . k is a sum
    # of d_k such products, so its variance is d_k. Unscaled, the scores spread out as d_k grows,
    # softmax puts almost all the weight on one key and its gradient vanishes. Dividing by
    # sqrt(d_k) brings the variance back to 1 whatever the width (lesson 01 shows this).
    scores = q @ np.swapaxes(k, -1, -2) / math.sqrt(d_k)  # (..., queries, keys)
    if mask is not None:
        mask = np.broadcast_to(mask, scores.shape)
        if not mask.any(axis=-1).all():
            raise ValueError("mask hides every key from some query; each row needs a True")
        scores = np.where(mask, scores, -np.inf)  # exp(-inf) = 0: no weight on hidden keys
    weights = softmax(scores, axis=-1)  # (..., queries, keys)
    return weights @ v, weights  # (..., queries, d_v), (..., queries, keys)


def self_attention(x: np.ndarray, w_q: np.ndarray, w_k: np.ndarray, w_v: np.ndarray,
                   mask: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """One attention head where queries, keys and values all come from the same tokens.

    x: (..., tokens, d_model); w_q, w_k: (d_model, d_k); w_v: (d_model, d_v) (used as x @ w,
    the textbook layout). Returns output (..., tokens, d_v), weights (..., tokens, tokens).
    """
    q, k, v = x @ w_q, x @ w_k, x @ w_v  # (..., tokens, d_k), (..., tokens, d_k), (..., tokens, d_v)
    return scaled_dot_product_attention(q, k, v, mask)


def _split_heads(x: np.ndarray, heads: int) -> np.ndarray:
    """(..., tokens, d_model) -> (..., heads, tokens, d_model // heads)."""
    *lead, tokens, d_model = x.shape
    return np.swapaxes(x.reshape(*lead, tokens, heads, d_model // heads), -2, -3)


def multi_head_attention(x_q: np.ndarray, x_kv: np.ndarray, params: dict, heads: int,
                         mask: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """`heads` attention heads side by side, laid out like torch.nn.MultiheadAttention.

    x_q: (..., queries, d_model), the tokens asking; x_kv: (..., keys, d_model), the tokens
    looked at (x_kv is x_q for self-attention, another sequence for cross-attention).
    params (copy them from an nn.MultiheadAttention `mha`):
        in_proj_weight  (3 * d_model, d_model)  rows [W_q; W_k; W_v]   = mha.in_proj_weight
        in_proj_bias    (3 * d_model,)                                 = mha.in_proj_bias
        out_proj_weight (d_model, d_model)                             = mha.out_proj.weight
        out_proj_bias   (d_model,)                                     = mha.out_proj.bias
    Head h owns rows h * d_head ... (h + 1) * d_head of each of W_q, W_k, W_v, with
    d_head = d_model // heads: the heads split the width, so h heads cost the same as one.
    mask: broadcastable to (..., heads, queries, keys), True = may attend.
    Returns output (..., queries, d_model) and per-head weights (..., heads, queries, keys).
    """
    d_model = x_q.shape[-1]
    if d_model % heads:
        raise ValueError(f"d_model {d_model} is not divisible by heads {heads}")
    w, b = params["in_proj_weight"], params["in_proj_bias"]
    q = x_q @ w[:d_model].T + b[:d_model]  # (..., queries, d_model)
    k = x_kv @ w[d_model:2 * d_model].T + b[d_model:2 * d_model]  # (..., keys, d_model)
    v = x_kv @ w[2 * d_model:].T + b[2 * d_model:]  # (..., keys, d_model)
    out, weights = scaled_dot_product_attention(
        _split_heads(q, heads), _split_heads(k, heads), _split_heads(v, heads), mask)
    # out: (..., heads, queries, d_head) -> concatenate the heads -> (..., queries, d_model)
    *lead, _, queries, d_head = out.shape
    concat = np.swapaxes(out, -2, -3).reshape(*lead, queries, heads * d_head)
    return concat @ params["out_proj_weight"].T + params["out_proj_bias"], weights


def sinusoidal_positional_encoding(length: int, d_model: int) -> np.ndarray:
    """(length, d_model): PE[pos, 2i] = sin(pos / 10000^(2i / d_model)), PE[pos, 2i+1] = cos(same).

    Each pair of columns is a clock turning at its own speed, from one radian per position
    (columns 0, 1) to very slowly (the last columns), so every position gets a distinct
    pattern, and PE[pos + k] is a fixed rotation of PE[pos]: offsets are linear functions.
    """
    position = np.arange(length)[:, None]  # (length, 1)
    rate = 1.0 / 10000.0 ** (np.arange(0, d_model, 2) / d_model)  # (ceil(d_model / 2),)
    table = np.zeros((length, d_model))
    table[:, 0::2] = np.sin(position * rate)
    table[:, 1::2] = np.cos(position * rate[: d_model // 2])  # an odd width drops the last cos
    return table


def layer_norm(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, eps: float = 1e-5) -> np.ndarray:
    """Normalise each token's features to mean 0, variance 1, then scale and shift.

    x: (..., d_model); gamma, beta: (d_model,). Same shape out. The variance is the biased one
    (divide by d_model), as in torch.nn.LayerNorm.
    """
    mean = x.mean(axis=-1, keepdims=True)  # (..., 1)
    var = x.var(axis=-1, keepdims=True)  # (..., 1)
    return (x - mean) / np.sqrt(var + eps) * gamma + beta


def gelu(x: np.ndarray) -> np.ndarray:
    """x * Phi(x), Phi the standard normal CDF (the exact form, torch's default); same shape.

    Like ReLU for large |x|, but smooth around 0 and slightly negative just below it.
    """
    return 0.5 * x * (1.0 + _erf(x / math.sqrt(2.0)))


def feed_forward(x: np.ndarray, params: dict) -> np.ndarray:
    """(..., d_model) -> (..., d_ff) -> GELU -> (..., d_model), applied to each token alone."""
    hidden = gelu(x @ params["ff_w1"].T + params["ff_b1"])  # (..., d_ff)
    return hidden @ params["ff_w2"].T + params["ff_b2"]  # (..., d_model)


def transformer_block(x: np.ndarray, params: dict,
                      mask: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """One pre-norm transformer block (as in GPT-2 and torch's TransformerEncoderLayer with
    norm_first=True):

        x = x + MultiHeadSelfAttention(LayerNorm1(x))
        x = x + FeedForward(LayerNorm2(x))

    Pre-norm, because the residual path then carries x through untouched from block to block;
    stacks of such blocks train stably without the learning-rate warm-up post-norm needs.
    x: (..., tokens, d_model). params: see `random_block_params` (torch layouts: attention as in
    `multi_head_attention`, ff_w1 (d_ff, d_model), ff_w2 (d_model, d_ff), ln*_gamma/beta
    (d_model,), and "heads"). Returns output (..., tokens, d_model) and the attention weights
    (..., heads, tokens, tokens).
    """
    normed = layer_norm(x, params["ln1_gamma"], params["ln1_beta"])  # (..., tokens, d_model)
    attended, weights = multi_head_attention(normed, normed, params["attn"], params["heads"], mask)
    x = x + attended  # residual: the block only adds a correction to what came in
    x = x + feed_forward(layer_norm(x, params["ln2_gamma"], params["ln2_beta"]), params)
    return x, weights


def random_mha_params(d_model: int, rng: np.random.Generator) -> dict:
    """Random weights for `multi_head_attention`, std 1 / sqrt(d_model) so that a projection
    keeps the features' scale; biases start at zero, as torch's do."""
    std = 1.0 / math.sqrt(d_model)
    return {"in_proj_weight": rng.normal(0, std, (3 * d_model, d_model)),
            "in_proj_bias": np.zeros(3 * d_model),
            "out_proj_weight": rng.normal(0, std, (d_model, d_model)),
            "out_proj_bias": np.zeros(d_model)}


def random_block_params(d_model: int, heads: int, d_ff: int, rng: np.random.Generator) -> dict:
    """Random weights for `transformer_block` (an untrained block: enough to study shapes and
    symmetries). Layer norms start as the identity (gamma 1, beta 0), as torch's do."""
    return {"heads": heads, "attn": random_mha_params(d_model, rng),
            "ln1_gamma": np.ones(d_model), "ln1_beta": np.zeros(d_model),
            "ln2_gamma": np.ones(d_model), "ln2_beta": np.zeros(d_model),
            "ff_w1": rng.normal(0, 1 / math.sqrt(d_model), (d_ff, d_model)),
            "ff_b1": rng.normal(0, 0.1, d_ff),
            "ff_w2": rng.normal(0, 1 / math.sqrt(d_ff), (d_model, d_ff)),
            "ff_b2": rng.normal(0, 0.1, d_model)}
