"""A decoder-only transformer (a mini-GPT) over characters: stage 1's task, with attention
instead of recurrence.

    ids (batch, time)
      -> token embedding + learned position embedding            (batch, time, d_model)
      -> n_layer blocks: x + attention(norm(x), causal mask), x + mlp(norm(x))
      -> final norm -> linear read-out, tied to the token embedding (batch, time, vocab)

It keeps stage 1's interface, `logits, state = model(ids, state)`, so the same training loop,
evaluation and sampling code (shared/lm/) drive it. A transformer has no recurrent state;
here the "state" is the last block_size - 1 tokens it has read, so at evaluation and sampling
time every character is predicted from up to a block of preceding text, across chunk edges.
In training the state is not carried: each chunk is a sample of its own.

Its context protocol when scored (shared/lm/scoring.py reads each stream in chunks of block_size):
windows of block_size characters that advance by half a block, each predicting the last half
block it holds. So the character at position t of a stream (t >= block_size / 2) is predicted
from the window that ends where t's half block ends, i.e. from between half a block and a
whole block of preceding text; near a stream's start, from everything since that start.
"""

from __future__ import annotations

import torch
from torch import nn

from CodeLLM.blocks import EncoderBlock, causal_mask


class MiniGPT(nn.Module):
    def __init__(self, vocab_size: int, block_size: int = 128, d_model: int = 128,
                 n_layer: int = 4, heads: int = 4, dropout: float = 0.0, model: str = "gpt"):
        super().__init__()
        if d_model % heads:
            raise ValueError(f"d_model {d_model} is not divisible by heads {heads}")
        self.block_size = block_size
        self.embed = nn.Embedding(vocab_size, d_model)
        self.position = nn.Embedding(block_size, d_model)
        self.drop = nn.Dropout(dropout)
        # The forecaster's encoder block, with a causal mask in logits(): GPT is an encoder
        # that may not look ahead. Its MLP is 4 times as wide as the model, as in GPT-2.
        self.blocks = nn.ModuleList(EncoderBlock(d_model, heads, 4 * d_model, dropout)
                                    for _ in range(n_layer))
        self.norm = nn.LayerNorm(d_model)
        self.head = nn.Linear(d_model, vocab_size, bias=False)
        self.head.weight = self.embed.weight  # tied: one vector per character, read and written
        self.apply(self._init)

    @staticmethod
    def _init(module: nn.Module) -> None:
        # Small initial weights (GPT-2's 0.02): the first steps start near a uniform guess.
        if isinstance(module, (nn.Linear, nn.Embedding)):
            nn.init.normal_(module.weight, std=0.02)
        if isinstance(module, nn.Linear) and module.bias is not None:
            nn.init.zeros_(module.bias)

    def logits(self, ids: torch.Tensor) -> torch.Tensor:
        """(batch, time <= block_size) -> (batch, time, vocab), each position seeing only
        itself and earlier positions."""
        positions = torch.arange(ids.shape[1], device=ids.device)
        x = self.drop(self.embed(ids) + self.position(positions))  # (batch, time, d_model)
        mask = causal_mask(ids.shape[1], ids.device)  # position t sees positions <= t only
        for block in self.blocks:
            # Nothing reads the weights here, so the fused kernel skips storing them: faster.
            x, _ = block(x, mask, need_weights=False)
        return self.head(self.norm(x))

    def forward(self, ids: torch.Tensor, state: torch.Tensor | None = None):
        """ids (batch, new) -> logits for the new ids (batch, new, vocab) and the new state."""
        full = ids if state is None else torch.cat([state, ids], dim=1)
        new = ids.shape[1]
        if full.shape[1] <= self.block_size:
            logits = self.logits(full)[:, -new:]
        else:  # longer than a block: slide a window by half a block, so every new id is
            # predicted from at least half a block of context (and at most a whole one)
            stride, pieces = self.block_size // 2, []
            for start in range(full.shape[1] - new, full.shape[1], stride):
                end = min(start + stride, full.shape[1])
                window = full[:, max(0, end - self.block_size) : end]
                pieces.append(self.logits(window)[:, -(end - start) :])
            logits = torch.cat(pieces, dim=1)
        state = None if self.training else full[:, -(self.block_size - 1) :]
        return logits, state


def build_model(model_config: dict) -> MiniGPT:
    """Model from the dict stored in config.json and in every checkpoint."""
    return MiniGPT(**model_config)
