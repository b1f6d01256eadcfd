"""GRU encoder-decoders for the toy tasks, with and without attention: the models that came
before the transformer. why_attention.py trains them beside model.py's transformer.

    attention="none"      the decoder sees the source only through one vector, the encoder's
                          final state (Cho et al. 2014; Sutskever et al. 2014): the bottleneck
    attention="bahdanau"  additive attention: before each step, the previous decoder state
                          scores every source position through a small MLP (Bahdanau et al. 2015)
    attention="luong"     multiplicative ("general") attention: after each step, the new
                          decoder state scores every position by a bilinear form (Luong et al. 2015)

For a padded batch of source ids (batch, S) and target ids (batch, T):

    source -> embedding -> bidirectional GRU, hidden/2 each way   memory (batch, S, hidden)
    the two final states -> linear, tanh                           first decoder state (batch, hidden)
    each output step: the previous word's embedding and a context vector -> GRUCell
      -> tanh(linear([state; context])) -> linear head             logits (batch, vocabulary)

The three share everything but where the context vector comes from. The decoder runs one step
at a time (a recurrence cannot run its steps in parallel), in training too.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from data import Vocab

ATTENTION = ("none", "bahdanau", "luong")


class AdditiveAttention(nn.Module):
    """Bahdanau's score: score(q, k_j) = v . tanh(W_q q + W_k k_j), a one-hidden-layer MLP of the
    query and each key. The keys' half, W_k k_j, is the same at every output step, so it is
    computed once per sentence (`project_keys`)."""

    def __init__(self, query_size: int, key_size: int, size: int):
        super().__init__()
        self.query_proj = nn.Linear(query_size, size, bias=False)  # W_q
        self.key_proj = nn.Linear(key_size, size, bias=False)  # W_k
        self.v = nn.Linear(size, 1, bias=False)  # v

    def project_keys(self, memory: torch.Tensor) -> torch.Tensor:
        """memory (batch, S, key_size) -> W_k k_j (batch, S, size)."""
        return self.key_proj(memory)

    def scores(self, query: torch.Tensor, projected_keys: torch.Tensor) -> torch.Tensor:
        """query (batch, query_size), projected keys (batch, S, size) -> scores (batch, S)."""
        hidden = torch.tanh(self.query_proj(query)[:, None, :] + projected_keys)  # (batch, S, size)
        return self.v(hidden).squeeze(-1)  # (batch, S)


class GeneralAttention(nn.Module):
    """Luong's "general" score: score(q, k_j) = q . (W k_j), one matrix between query and key
    (with W the identity it is the dot product; the transformer's scaled dot product is this with
    W split into a query and a key projection)."""

    def __init__(self, query_size: int, key_size: int):
        super().__init__()
        self.W = nn.Linear(key_size, query_size, bias=False)

    def project_keys(self, memory: torch.Tensor) -> torch.Tensor:
        """memory (batch, S, key_size) -> W k_j (batch, S, query_size)."""
        return self.W(memory)

    def scores(self, query: torch.Tensor, projected_keys: torch.Tensor) -> torch.Tensor:
        """query (batch, query_size), projected keys (batch, S, query_size) -> scores (batch, S)."""
        return torch.einsum("bh,bsh->bs", query, projected_keys)


def attend(scores: torch.Tensor, keys: torch.Tensor, memory: torch.Tensor):
    """Softmax over the source positions that hold a token (keys (batch, S), True = a token),
    then the weighted sum of the memory: weights (batch, S), context (batch, hidden)."""
    weights = F.softmax(scores.masked_fill(~keys, float("-inf")), dim=-1)  # padding gets 0
    return weights, torch.einsum("bs,bsh->bh", weights, memory)


class RecurrentSeq2Seq(nn.Module):
    def __init__(self, source_vocab_size: int, target_vocab_size: int, max_target_len: int,
                 d_model: int = 64, hidden_size: int = 64, attention: str = "bahdanau",
                 **_ignored):
        super().__init__()
        if attention not in ATTENTION:
            raise ValueError(f"attention {attention!r}: choose one of {', '.join(ATTENTION)}")
        if hidden_size % 2:
            raise ValueError(f"hidden_size {hidden_size} must be even (half for each direction)")
        self.attention_kind, self.max_target_len = attention, max_target_len
        self.source_embed = nn.Embedding(source_vocab_size, d_model, padding_idx=Vocab.PAD)
        self.target_embed = nn.Embedding(target_vocab_size, d_model, padding_idx=Vocab.PAD)
        # Bidirectional: position j's memory knows the words on both sides of it, as the
        # transformer encoder's does; the two halves add up to the same hidden size.
        self.encoder = nn.GRU(d_model, hidden_size // 2, batch_first=True, bidirectional=True)
        self.bridge = nn.Linear(hidden_size, hidden_size)  # final states -> first decoder state
        self.cell = nn.GRUCell(d_model + hidden_size, hidden_size)
        if attention == "bahdanau":
            self.attention = AdditiveAttention(hidden_size, hidden_size, hidden_size)
        elif attention == "luong":
            self.attention = GeneralAttention(hidden_size, hidden_size)
        self.combine = nn.Linear(2 * hidden_size, hidden_size)  # [state; context] -> output
        self.head = nn.Linear(hidden_size, target_vocab_size)

    def encode(self, src: torch.Tensor):
        """src (batch, S) -> memory (batch, S, hidden), key mask (batch, S), first state and the
        summary (both (batch, hidden)): the final states of the two directions, which is all the
        no-attention decoder ever sees of the source."""
        keys = src != Vocab.PAD
        lengths = keys.sum(1).cpu()
        # Packed: each direction's final state is taken at the sentence's real end, not after
        # the padding.
        packed = nn.utils.rnn.pack_padded_sequence(self.source_embed(src), lengths, batch_first=True,
                                                   enforce_sorted=False)
        out, final = self.encoder(packed)  # final (2, batch, hidden/2)
        memory, _ = nn.utils.rnn.pad_packed_sequence(out, batch_first=True, total_length=src.shape[1])
        summary = torch.cat([final[0], final[1]], dim=-1)  # (batch, hidden)
        return memory, keys, torch.tanh(self.bridge(summary)), summary

    def step(self, word: torch.Tensor, state: torch.Tensor, feed: torch.Tensor, memory, keys,
             projected_keys):
        """One output step. word (batch,) the previous output; state (batch, hidden); feed
        (batch, hidden), the context (none, bahdanau) or the last output vector (luong) that
        goes into the cell. Returns logits (batch, vocab), the new state and feed, and the
        attention weights (batch, S), or None without attention."""
        x = self.target_embed(word)  # (batch, d_model)
        weights = None
        if self.attention_kind == "none":  # the same summary vector at every step
            state = self.cell(torch.cat([x, feed], -1), state)
            context = feed
        elif self.attention_kind == "bahdanau":  # look first (with the previous state), then step
            weights, context = attend(self.attention.scores(state, projected_keys), keys, memory)
            state = self.cell(torch.cat([x, context], -1), state)
        else:  # luong: step first (fed the last output vector), then look with the new state
            state = self.cell(torch.cat([x, feed], -1), state)
            weights, context = attend(self.attention.scores(state, projected_keys), keys, memory)
        output = torch.tanh(self.combine(torch.cat([state, context], -1)))  # (batch, hidden)
        if self.attention_kind == "bahdanau":
            feed = context  # unused: Bahdanau's next step computes its own
        elif self.attention_kind == "luong":
            feed = output  # Luong's "input feeding": the next step knows what this one saw
        return self.head(output), state, feed, weights

    def start(self, src: torch.Tensor):
        memory, keys, state, summary = self.encode(src)
        projected = None if self.attention_kind == "none" else self.attention.project_keys(memory)
        feed = summary if self.attention_kind == "none" else torch.zeros_like(state)
        return memory, keys, projected, state, feed

    def forward(self, src: torch.Tensor, tgt_in: torch.Tensor) -> torch.Tensor:
        """Teacher forcing: at step i the decoder reads the true word i - 1. Logits (batch, T, vocab)."""
        memory, keys, projected, state, feed = self.start(src)
        logits = []
        for i in range(tgt_in.shape[1]):
            out, state, feed, _ = self.step(tgt_in[:, i], state, feed, memory, keys, projected)
            logits.append(out)
        return torch.stack(logits, dim=1)

    @torch.no_grad()
    def greedy_decode(self, src: torch.Tensor, max_len: int | None = None):
        """As the transformer's: ids (batch, steps), <pad> after each <eos>, and a list of
        attention maps in the transformer's layout, [(batch, 1 head, steps, S)] (empty without
        attention)."""
        max_len = min(max_len or self.max_target_len - 1, self.max_target_len - 1)
        memory, keys, projected, state, feed = self.start(src)
        word = torch.full((len(src),), Vocab.BOS, dtype=torch.long, device=src.device)
        done = torch.zeros(len(src), dtype=torch.bool, device=src.device)
        ids, maps = [], []
        for _ in range(max_len):
            logits, state, feed, weights = self.step(word, state, feed, memory, keys, projected)
            word = logits.argmax(-1).masked_fill(done, Vocab.PAD)  # (batch,)
            ids.append(word)
            if weights is not None:
                maps.append(weights)
            done |= word == Vocab.EOS
            if done.all():
                break
        ids = torch.stack(ids, dim=1)
        return ids, ([torch.stack(maps, dim=1)[:, None]] if maps else [])
