"""The CodeLLM forecasters in PyTorch: a transformer encoder-decoder, and an LSTM twin of stage
3's Keras model (the control that separates the architecture's effect from the framework's).

Transformer, for a window of `lookback` days with `features` numbers each:

    window (batch, lookback, features)
      -> linear projection to d_model, plus positional encoding       (batch, lookback, d_model)
      -> encoder: self-attention blocks, every day looks at every day  (batch, lookback, d_model)
    decoder input: a learned start vector, then the previous days' targets (teacher forcing)
      -> decoder: causal self-attention, cross-attention to the encoder (batch, horizon, d_model)
      -> linear head                                                   (batch, horizon)

Comments in brackets, like [self-attention], mark the lines CodeLLM/README.md explains.
"""

from __future__ import annotations

import math

import torch
from torch import nn


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

    def forward(self, x: torch.Tensor, context: torch.Tensor, mask: torch.Tensor | None = None):
        """x: (batch, Tq, d_model) asks; context: (batch, Tk, d_model) answers. Self-attention
        passes the same tensor twice; cross-attention passes the encoder's output as context."""
        q = self.split_heads(self.query(x))  # [queries] (batch, heads, Tq, head)
        k = self.split_heads(self.key(context))  # [keys] (batch, heads, Tk, head)
        v = self.split_heads(self.value(context))  # [values] (batch, heads, Tk, head)
        # [scaled dot product] divide by sqrt(head) so the softmax does not saturate as width grows
        scores = q @ k.transpose(-2, -1) / math.sqrt(self.head_size)  # (batch, heads, Tq, Tk)
        if mask is not None:
            scores = scores.masked_fill(~mask, float("-inf"))  # [masking] a banned pair gets 0
        weights = scores.softmax(dim=-1)  # (batch, heads, Tq, Tk); each row sums to 1
        # No dropout on the weights: on a CPU, sampling its mask took 40% of a training step.
        mixed = weights @ v  # (batch, heads, Tq, head)
        batch, _, length, _ = mixed.shape
        # [multi-head] the heads' outputs side by side, then mixed by one linear layer
        mixed = mixed.transpose(1, 2).reshape(batch, length, self.heads * self.head_size)
        return self.out(mixed), weights


def feed_forward(d_model: int, ff_size: int, dropout: float) -> nn.Sequential:
    """The same small MLP applied to every day's vector on its own."""
    return nn.Sequential(nn.Linear(d_model, ff_size), nn.GELU(), nn.Dropout(dropout),
                         nn.Linear(ff_size, d_model))


class EncoderBlock(nn.Module):
    """Pre-norm: x + attention(norm(x)), then x + feed_forward(norm(x))."""

    def __init__(self, d_model: int, heads: int, ff_size: int, dropout: float):
        super().__init__()
        self.norm1, self.norm2 = nn.LayerNorm(d_model), nn.LayerNorm(d_model)
        self.attention = MultiHeadAttention(d_model, heads)
        self.ff = feed_forward(d_model, ff_size, dropout)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor):  # (batch, lookback, d_model)
        h = self.norm1(x)
        attended, weights = self.attention(h, h)  # [self-attention] every day looks at every day
        x = x + self.dropout(attended)  # [residual] the block adds to its input
        x = x + self.dropout(self.ff(self.norm2(x)))
        return x, weights


class DecoderBlock(nn.Module):
    """Causal self-attention over the forecast steps so far, cross-attention to the encoded
    window, feed-forward; each pre-norm with a residual connection."""

    def __init__(self, d_model: int, heads: int, ff_size: int, dropout: float):
        super().__init__()
        self.norms = nn.ModuleList(nn.LayerNorm(d_model) for _ in range(3))
        self.self_attention = MultiHeadAttention(d_model, heads)
        self.cross_attention = MultiHeadAttention(d_model, heads)
        self.ff = feed_forward(d_model, ff_size, dropout)
        self.dropout = nn.Dropout(dropout)

    def forward(self, y: torch.Tensor, memory: torch.Tensor, causal: torch.Tensor):
        h = self.norms[0](y)  # (batch, steps, d_model)
        y = y + self.dropout(self.self_attention(h, h, causal)[0])
        # [cross-attention] each forecast step asks which days of the window matter
        attended, weights = self.cross_attention(self.norms[1](y), memory)
        y = y + self.dropout(attended)
        y = y + self.dropout(self.ff(self.norms[2](y)))
        return y, weights  # weights: (batch, heads, steps, lookback)


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
    if kind == "sinusoidal":
        return SinusoidalEncoding(max_len, d_model)
    if kind == "learned":
        return LearnedEncoding(max_len, d_model)
    return nn.Identity()  # "none": attention alone cannot tell day 1 from day 60


def causal_mask(steps: int, device=None) -> torch.Tensor:
    """(steps, steps) True where step i may look at step j, i.e. j <= i."""
    return torch.tril(torch.ones(steps, steps, dtype=torch.bool, device=device))


class TransformerForecaster(nn.Module):
    def __init__(self, n_features: int, lookback: int, horizon: int = 1, d_model: int = 16,
                 heads: int = 4, encoder_layers: int = 2, decoder_layers: int = 1,
                 ff_size: int = 32, dropout: float = 0.1, pos_encoding: str = "sinusoidal",
                 arch: str = "transformer"):
        super().__init__()
        self.horizon = horizon
        self.embed = nn.Linear(n_features, d_model)  # one day's features -> one vector
        self.encoder_position = positional_encoding(pos_encoding, lookback, d_model)  # [position]
        self.decoder_position = positional_encoding(pos_encoding, horizon, d_model)
        self.encoder = nn.ModuleList(EncoderBlock(d_model, heads, ff_size, dropout)
                                     for _ in range(encoder_layers))
        self.encoder_norm = nn.LayerNorm(d_model)
        self.start = nn.Parameter(torch.zeros(1, 1, d_model))  # the first step's input
        self.embed_target = nn.Linear(1, d_model)  # a previous step's target -> a vector
        self.decoder = nn.ModuleList(DecoderBlock(d_model, heads, ff_size, dropout)
                                     for _ in range(decoder_layers))
        self.decoder_norm = nn.LayerNorm(d_model)
        self.head = nn.Linear(d_model, 1)

    def encode(self, x: torch.Tensor):
        h = self.encoder_position(self.embed(x))  # (batch, lookback, d_model)
        weights = []
        for block in self.encoder:  # [encoder]
            h, w = block(h)
            weights.append(w)  # (batch, heads, lookback, lookback)
        return self.encoder_norm(h), weights

    def decode(self, previous: torch.Tensor, memory: torch.Tensor):
        """previous: (batch, steps - 1) targets already known; returns (batch, steps)."""
        start = self.start.expand(len(memory), 1, -1)  # (batch, 1, d_model)
        y = torch.cat([start, self.embed_target(previous.unsqueeze(-1))], dim=1)
        y = self.decoder_position(y)  # (batch, steps, d_model)
        mask = causal_mask(y.shape[1], y.device)  # [causal mask] no peeking at later steps
        weights = []
        for block in self.decoder:  # [decoder]
            y, w = block(y, memory, mask)
            weights.append(w)  # (batch, heads, steps, lookback)
        return self.head(self.decoder_norm(y)).squeeze(-1), weights

    def forward(self, x: torch.Tensor, targets: torch.Tensor | None = None,
                return_attention: bool = False):
        """x: (batch, lookback, features) -> (batch, horizon) scaled targets.

        With `targets` (batch, horizon) the decoder reads the true previous steps (teacher
        forcing: one parallel pass in training). Without, it feeds back its own forecasts."""
        memory, encoder_weights = self.encode(x)
        if targets is not None:  # [teacher forcing]
            out, cross_weights = self.decode(targets[:, :-1], memory)
        else:
            previous = x.new_zeros(len(x), 0)
            for _ in range(self.horizon):  # one step at a time, each seeing the ones before
                out, cross_weights = self.decode(previous, memory)
                previous = out
        if return_attention:
            return out, {"encoder": encoder_weights, "cross": cross_weights}
        return out


class LSTMForecaster(nn.Module):
    """Stage 3's network in PyTorch: LSTM -> last hidden state -> dropout -> dense -> head,
    started from Keras's initialisation so that only the framework differs from stage 3."""

    def __init__(self, n_features: int, horizon: int = 1, units: int = 32, dense_units: int = 16,
                 dropout: float = 0.2, arch: str = "lstm"):
        super().__init__()
        self.lstm = nn.LSTM(n_features, units, batch_first=True)
        self.dropout = nn.Dropout(dropout)
        self.dense = nn.Sequential(nn.Linear(units, dense_units), nn.ReLU())
        self.head = nn.Linear(dense_units, horizon)
        self.init_like_keras()

    @torch.no_grad()
    def init_like_keras(self) -> None:
        """keras.layers.LSTM's and Dense's default initialisers. PyTorch stores the gate blocks
        (input, forget, cell, output: Keras's order) stacked as rows, weight_ih (4 x units,
        features), where Keras keeps the transpose, kernel (features, 4 x units): Glorot's bounds
        use the same two sizes either way. Keras draws the recurrent kernel (units, 4 x units)
        as one matrix with orthonormal rows, so weight_hh gets orthonormal columns (the gate
        blocks on their own are not orthogonal, in Keras either). Keras has one bias per gate,
        zeros but 1 for the forget gate (unit_forget_bias); PyTorch adds two, bias_ih +
        bias_hh, so bias_hh stays 0 and frozen: training two copies would move that bias twice
        as fast under Adam, and the parameter count would not be Keras's."""
        units = self.lstm.hidden_size
        nn.init.xavier_uniform_(self.lstm.weight_ih_l0)  # glorot_uniform
        nn.init.orthogonal_(self.lstm.weight_hh_l0)  # (4 x units, units): W^T W = I
        self.lstm.bias_ih_l0.zero_()
        self.lstm.bias_ih_l0[units : 2 * units] = 1.0  # the forget gate starts open
        self.lstm.bias_hh_l0.zero_()
        self.lstm.bias_hh_l0.requires_grad_(False)
        for layer in (self.dense[0], self.head):
            nn.init.xavier_uniform_(layer.weight)
            nn.init.zeros_(layer.bias)

    def forward(self, x: torch.Tensor, targets: torch.Tensor | None = None,
                return_attention: bool = False):
        outputs, _ = self.lstm(x)  # (batch, lookback, units)
        out = self.head(self.dense(self.dropout(outputs[:, -1])))  # (batch, horizon)
        return (out, {}) if return_attention else out


def build_model(config: dict) -> nn.Module:
    """A forecaster from the dict `ForecastConfig.model_config` returns (also the checkpoint's)."""
    kind = TransformerForecaster if config["arch"] == "transformer" else LSTMForecaster
    return kind(**config)
