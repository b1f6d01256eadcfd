"""The token transformer of the toy tasks, built from CodeLLM/blocks.py (the forecaster's and
the mini-GPT's blocks, here with a padding mask). seq2seq/train.py trains it.

For a padded batch of source ids (batch, S) and target ids (batch, T):

    source -> token embedding + positional encoding             (batch, S, d_model)
      -> encoder: self-attention blocks, padding masked out    (batch, S, d_model)
    target so far (<bos> first) -> embedding + position         (batch, T, d_model)
      -> decoder: causal self-attention, cross-attention to the encoder
      -> LayerNorm, linear head                                (batch, T, target vocabulary)
"""

from __future__ import annotations

import torch
from torch import nn

from CodeLLM.blocks import DecoderBlock, EncoderBlock, causal_mask, positional_encoding
from data import Vocab


class Seq2SeqTransformer(nn.Module):
    def __init__(self, source_vocab_size: int, target_vocab_size: int, max_source_len: int,
                 max_target_len: int, d_model: int = 64, heads: int = 4, encoder_layers: int = 2,
                 decoder_layers: int = 2, ff_size: int = 128, dropout: float = 0.0,
                 pos_encoding: str = "sinusoidal"):
        super().__init__()
        self.max_target_len = max_target_len
        self.source_embed = nn.Embedding(source_vocab_size, d_model, padding_idx=Vocab.PAD)
        self.target_embed = nn.Embedding(target_vocab_size, d_model, padding_idx=Vocab.PAD)
        self.source_position = positional_encoding(pos_encoding, max_source_len, d_model)
        self.target_position = positional_encoding(pos_encoding, max_target_len, d_model)
        self.encoder = nn.ModuleList(EncoderBlock(d_model, heads, ff_size, dropout)
                                     for _ in range(encoder_layers))
        self.encoder_norm = nn.LayerNorm(d_model)
        self.decoder = nn.ModuleList(DecoderBlock(d_model, heads, ff_size, dropout)
                                     for _ in range(decoder_layers))
        self.decoder_norm = nn.LayerNorm(d_model)  # pre-norm blocks leave the sum unnormalised
        self.head = nn.Linear(d_model, target_vocab_size)

    def encode(self, src: torch.Tensor):
        """src (batch, S) ids -> memory (batch, S, d_model) and the key mask (batch, 1, 1, S)."""
        keys = (src != Vocab.PAD)[:, None, None, :]
        h = self.source_position(self.source_embed(src))  # (batch, S, d_model)
        for block in self.encoder:
            h, _ = block(h, keys)  # keys (batch, 1, 1, S): True = a token, False = padding
        return self.encoder_norm(h), keys

    def decode(self, tgt_in: torch.Tensor, memory: torch.Tensor, keys: torch.Tensor):
        """tgt_in (batch, T) -> logits (batch, T, vocab) and each block's cross-attention."""
        y = self.target_position(self.target_embed(tgt_in))  # (batch, T, d_model)
        causal = causal_mask(tgt_in.shape[1], tgt_in.device)  # output i sees outputs <= i only
        weights = []
        for block in self.decoder:
            y, w = block(y, memory, causal, keys)  # no attention to padding
            weights.append(w)  # (batch, heads, T, S)
        return self.head(self.decoder_norm(y)), weights

    def forward(self, src: torch.Tensor, tgt_in: torch.Tensor) -> torch.Tensor:
        """Teacher forcing: the decoder reads the true previous tokens, all steps in one pass."""
        memory, keys = self.encode(src)
        return self.decode(tgt_in, memory, keys)[0]  # (batch, T, vocab)

    @torch.no_grad()
    def greedy_decode(self, src: torch.Tensor, max_len: int | None = None):
        """The most likely token at each step, fed back as the next input, until every sequence
        has written <eos>. Returns ids (batch, steps) and the cross-attention of each decoder
        block, (batch, heads, steps, S): row i is where output i looked in the source."""
        max_len = min(max_len or self.max_target_len - 1, self.max_target_len - 1)
        memory, keys = self.encode(src)
        tokens = torch.full((len(src), 1), Vocab.BOS, dtype=torch.long, device=src.device)
        done = torch.zeros(len(src), dtype=torch.bool, device=src.device)
        for _ in range(max_len):
            # No cache of earlier steps: the targets are a dozen tokens, recomputing is cheap.
            logits, weights = self.decode(tokens, memory, keys)
            step = logits[:, -1].argmax(-1).masked_fill(done, Vocab.PAD)  # (batch,)
            tokens = torch.cat([tokens, step[:, None]], dim=1)
            done |= step == Vocab.EOS
            if done.all():
                break
        return tokens[:, 1:], weights


