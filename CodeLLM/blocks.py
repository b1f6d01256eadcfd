"""The transformer's building blocks, written once for the three CodeLLM projects that use them:
the forecaster (forecaster/model.py), the mini-GPT (minigpt/model.py) and the toy
encoder-decoder (seq2seq/model.py).

    from CodeLLM.blocks import EncoderBlock, DecoderBlock, causal_mask, positional_encoding

Every attention takes an optional boolean `mask` that broadcasts to (batch, heads, Tq, Tk):
True where a query may look at a key. The forecaster needs none in its encoder (its windows are
never padded), seq2seq passes a padding mask (batch, 1, 1, S), and the mini-GPT the causal mask
(T, T) of `causal_mask`. So a project that needs a mask passes one; nothing retypes `forward`.

Comments in brackets, like [self-attention], mark the lines CodeLLM/README.md explains; its
table of concepts is generated from them by CodeLLM/report.py.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F


class MultiHeadAttention(nn.Module):
    """Scaled dot-product attention, `heads` times in parallel on slices of d_model."""

    def __init__(self, d_model: int, heads: int):
        super().__init__()
        if d_model % heads:
            raise ValueError(f"d_model {d_model} is not divisible by heads {heads}")
        self.heads, self.head_size = heads, d_model // heads
        self.query, self.key, self.value = (nn.Linear(d_model, d_model) for _ in range(3))
        self.out = nn.Linear(d_model, d_model)

    def split_heads(self, x: torch.Tensor) -> torch.Tensor:
        batch, length, _ = x.shape  # (batch, length, d_model) -> (batch, heads, length, head)
        return x.view(batch, length, self.heads, self.head_size).transpose(1, 2)

    def forward(self, x: torch.Tensor, context: torch.Tensor | None = None,
                mask: torch.Tensor | None = None, need_weights: bool = True):
        """x: (batch, Tq, d_model) asks; context: (batch, Tk, d_model) answers (default: x, i.e.
        self-attention; cross-attention passes the encoder's output). Returns the output
        (batch, Tq, d_model) and the weights (batch, heads, Tq, Tk), or None for the weights
        when `need_weights` is False."""
        context = x if context is None else context
        q = self.split_heads(self.query(x))  # [queries] (batch, heads, Tq, head)
        k = self.split_heads(self.key(context))  # [keys] (batch, heads, Tk, head)
        v = self.split_heads(self.value(context))  # [values] (batch, heads, Tk, head)
        if need_weights:
            # [scaled dot product] / sqrt(head) keeps the softmax from saturating as width grows
            scores = q @ k.transpose(-2, -1) / math.sqrt(self.head_size)  # (batch, heads, Tq, Tk)
            if mask is not None:
                scores = scores.masked_fill(~mask, float("-inf"))  # [masking] a banned pair gets 0
            weights = scores.softmax(dim=-1)  # (batch, heads, Tq, Tk); each row sums to 1
            # No dropout on the weights: on a CPU, sampling its mask took 40% of a training step.
            mixed = weights @ v  # (batch, heads, Tq, head)
        else:  # the same sum in one fused call that never stores the weights: faster on a CPU
            mixed, weights = F.scaled_dot_product_attention(q, k, v, attn_mask=mask), None
        batch, _, length, _ = mixed.shape
        # [multi-head] the heads' outputs side by side, then mixed by one linear layer
        mixed = mixed.transpose(1, 2).reshape(batch, length, self.heads * self.head_size)
        return self.out(mixed), weights


def feed_forward(d_model: int, ff_size: int, dropout: float) -> nn.Sequential:
    """The same small MLP applied to every position's vector on its own."""
    return nn.Sequential(nn.Linear(d_model, ff_size), nn.GELU(), nn.Dropout(dropout),
                         nn.Linear(ff_size, d_model))


class EncoderBlock(nn.Module):
    """Pre-norm: x + attention(norm(x)), then x + feed_forward(norm(x)). With a causal mask it
    is the block of a decoder-only model such as GPT."""

    def __init__(self, d_model: int, heads: int, ff_size: int, dropout: float):
        super().__init__()
        self.norm1, self.norm2 = nn.LayerNorm(d_model), nn.LayerNorm(d_model)
        self.attention = MultiHeadAttention(d_model, heads)
        self.ff = feed_forward(d_model, ff_size, dropout)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None,
                need_weights: bool = True):  # x: (batch, length, d_model)
        # [self-attention] every position looks at every position the mask allows
        attended, weights = self.attention(self.norm1(x), mask=mask, need_weights=need_weights)
        x = x + self.dropout(attended)  # [residual] the block adds to its input
        x = x + self.dropout(self.ff(self.norm2(x)))
        return x, weights  # weights: (batch, heads, length, length) or None


class DecoderBlock(nn.Module):
    """Causal self-attention over the outputs so far, cross-attention to the encoded input,
    feed-forward; each pre-norm with a residual connection."""

    def __init__(self, d_model: int, heads: int, ff_size: int, dropout: float):
        super().__init__()
        self.norms = nn.ModuleList(nn.LayerNorm(d_model) for _ in range(3))
        self.self_attention = MultiHeadAttention(d_model, heads)
        self.cross_attention = MultiHeadAttention(d_model, heads)
        self.ff = feed_forward(d_model, ff_size, dropout)
        self.dropout = nn.Dropout(dropout)

    def forward(self, y: torch.Tensor, memory: torch.Tensor, mask: torch.Tensor | None = None,
                memory_mask: torch.Tensor | None = None):
        """y: (batch, steps, d_model) the outputs so far; memory: (batch, S, d_model) the
        encoder's; mask: usually causal_mask(steps); memory_mask: which of memory's S
        positions are real (seq2seq's padding)."""
        y = y + self.dropout(self.self_attention(self.norms[0](y), mask=mask)[0])
        # [cross-attention] each output step asks which input positions matter
        attended, weights = self.cross_attention(self.norms[1](y), memory, memory_mask)
        y = y + self.dropout(attended)
        y = y + self.dropout(self.ff(self.norms[2](y)))
        return y, weights  # weights: (batch, heads, steps, S)


class SinusoidalEncoding(nn.Module):
    """PE[pos, 2i] = sin(pos / 10000^(2i/d)), PE[pos, 2i+1] = cos(same): a fixed pattern
    that gives every position its own signature and makes relative offsets linear."""

    def __init__(self, max_len: int, d_model: int):
        super().__init__()
        position = torch.arange(max_len).unsqueeze(1)  # (max_len, 1)
        rate = torch.exp(torch.arange(0, d_model, 2) * (-math.log(10000.0) / d_model))
        table = torch.zeros(max_len, d_model)
        table[:, 0::2] = torch.sin(position * rate)
        table[:, 1::2] = torch.cos(position * rate[: d_model // 2])
        self.register_buffer("table", table)  # saved with the model, never trained

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (batch, length, d_model)
        return x + self.table[: x.shape[1]]


class LearnedEncoding(nn.Module):
    """One trained vector per position (as in BERT and GPT-2)."""

    def __init__(self, max_len: int, d_model: int):
        super().__init__()
        self.table = nn.Parameter(torch.randn(max_len, d_model) * 0.02)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.table[: x.shape[1]]


def positional_encoding(kind: str, max_len: int, d_model: int) -> nn.Module:
    """[position] "sinusoidal", "learned" or "none"."""
    if kind == "sinusoidal":
        return SinusoidalEncoding(max_len, d_model)
    if kind == "learned":
        return LearnedEncoding(max_len, d_model)
    return nn.Identity()  # "none": attention alone cannot tell the first position from the last


def causal_mask(steps: int, device=None) -> torch.Tensor:
    """(steps, steps) True where step i may look at step j, i.e. j <= i."""
    return torch.tril(torch.ones(steps, steps, dtype=torch.bool, device=device))
