"""The CodeLLM forecasters in PyTorch: a transformer encoder-decoder, and an LSTM twin of stage
3's Keras model (the control that separates the architecture's effect from the framework's).

Transformer, for a window of `lookback` days with `features` numbers each:

    window (batch, lookback, features)
      -> patches of `patch` days side by side (patch 1: one day each) (batch, tokens, patch * features)
      -> linear projection to d_model, plus positional encoding       (batch, tokens, d_model)
      -> encoder: self-attention blocks, every token looks at every token (batch, tokens, d_model)
    decoder input: a learned start vector, then the previous days' targets (teacher forcing)
      -> decoder: causal self-attention, cross-attention to the encoder (batch, horizon, d_model)
      -> linear head                                                   (batch, horizon)

tokens = lookback / patch. With patch P (PatchTST's idea), a token is P consecutive days, the
oldest first, so a 256-day window is 32 tokens at P = 8 and attention, quadratic in the tokens,
costs 64 times less; with P = 1 a token is a day and the model is the plain one.

The attention, the blocks and the positional encodings are CodeLLM/blocks.py's, shared with
the mini-GPT and seq2seq. Comments in brackets, like [encoder], mark the lines
CodeLLM/README.md explains.
"""

from __future__ import annotations

import torch
from torch import nn

from CodeLLM.blocks import DecoderBlock, EncoderBlock, causal_mask, positional_encoding


class TransformerForecaster(nn.Module):
    def __init__(self, n_features: int, lookback: int, horizon: int = 1, d_model: int = 16,
                 heads: int = 4, encoder_layers: int = 2, decoder_layers: int = 1,
                 ff_size: int = 32, dropout: float = 0.1, pos_encoding: str = "sinusoidal",
                 arch: str = "transformer", patch: int = 1):
        super().__init__()
        if patch < 1 or lookback % patch:
            raise ValueError(f"lookback {lookback} must be a multiple of patch {patch} >= 1")
        self.horizon, self.patch = horizon, patch
        self.embed = nn.Linear(patch * n_features, d_model)  # one token's days -> one vector
        self.encoder_position = positional_encoding(pos_encoding, lookback // patch, d_model)  # [position]
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

    def patches(self, x: torch.Tensor) -> torch.Tensor:
        """(batch, lookback, features) -> (batch, tokens, patch * features): each token holds
        `patch` consecutive days side by side, the oldest first (row-major reshape)."""
        batch, lookback, features = x.shape
        return x.reshape(batch, lookback // self.patch, self.patch * features)

    def encode(self, x: torch.Tensor, need_weights: bool = False):
        h = self.encoder_position(self.embed(self.patches(x)))  # (batch, tokens, d_model)
        weights = []
        for block in self.encoder:  # [encoder]
            # The weights only when asked: the fused attention that skips them is several
            # times faster on a CPU for long windows.
            h, w = block(h, need_weights=need_weights)
            weights.append(w)  # (batch, heads, tokens, tokens), or None
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
            weights.append(w)  # (batch, heads, steps, tokens)
        return self.head(self.decoder_norm(y)).squeeze(-1), weights

    def forward(self, x: torch.Tensor, targets: torch.Tensor | None = None,
                return_attention: bool = False):
        """x: (batch, lookback, features) -> (batch, horizon) scaled targets.

        With `targets` (batch, horizon) the decoder reads the true previous steps (teacher
        forcing: one parallel pass in training). Without, it feeds back its own forecasts."""
        memory, encoder_weights = self.encode(x, need_weights=return_attention)
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
