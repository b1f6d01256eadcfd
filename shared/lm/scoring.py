"""The one protocol that scores every language model (stages 1 and 2, the stage 4 mini-GPT and
a new stage from the template), the same for every model whatever its batch size:

* the scored text is read after one character of context, CONTEXT (a newline, as if a new
  speech began), so every character of it is predicted, by character and word models alike;
* it is cut into SCORE_STREAMS contiguous streams read side by side, each starting from an
  empty state after the token before it; the state (an RNN's hidden state, the mini-GPT's
  last block of text) is carried from chunk to chunk along each stream, so a model sees up to
  a whole stream of context and only SCORE_STREAMS predictions start cold; a word model's
  streams are cut at the same characters as a character model's (`aligned_starts`);
* the final scores (validation, then test once) use the checkpoint with the lowest validation
  loss; the test text's nats are also stored per BLOCK_CHARS-character block, for the paired
  block bootstrap of shared.lm.metrics; `fingerprint` says whether two runs scored the same text.

Imported by TinyLLM/train.py (its evaluation and final scores), SmaLLM/train.py, shared.lm.loop
(the evaluation of `fit` and `finish`), shared.lm.tokens (CONTEXT), TinyLLM/report.py and
docs/build.py (the fingerprint of the test text), and the tests.
"""

from __future__ import annotations

import hashlib

import torch
from torch.nn import functional as F

from shared.lm import metrics

CONTEXT = "\n"  # read before every scored text; its own prediction is not scored
SCORE_STREAMS = 16  # streams a scored text is cut into, whatever the model's batch size
BLOCK_CHARS = 2_000  # characters per block of the stored test losses (the bootstrap's unit)


def stream_starts(n_targets: int, streams: int = SCORE_STREAMS) -> list[int]:
    """Where each of `streams` equal streams of `n_targets` scored tokens begins (fewer streams
    for a text of fewer tokens)."""
    if n_targets < 1:
        raise ValueError("nothing to score")
    streams = min(streams, n_targets)
    return [round(k * n_targets / streams) for k in range(streams)]


def aligned_starts(token_chars, n_chars: int, streams: int = SCORE_STREAMS) -> list[int]:
    """`stream_starts` for tokens of several characters: the streams are cut at the same
    characters as a character model's, each beginning at the first token that starts at or
    after its cut. `token_chars[i]` is the first character of scored token i (increasing)."""
    cuts = torch.tensor(stream_starts(n_chars, streams))
    first = torch.searchsorted(torch.as_tensor(token_chars, dtype=torch.long), cuts)
    return sorted({int(i) for i in first if i < len(token_chars)})


@torch.no_grad()
def token_nats(model, ids: torch.Tensor, seq_len: int, device,
               starts: list[int] | None = None) -> torch.Tensor:
    """Negative log-likelihood (nats, float64, on the CPU) of every token of `ids` after the
    first, in order: `ids[i + 1]` predicted from `ids[: i + 1]` as the protocol above allows.

    The targets are cut into streams beginning at `starts` (default: `stream_starts`), which
    are read side by side, `seq_len` tokens per call, with the state carried along each one;
    the streams are padded at their end to whole chunks and the padding is not scored."""
    n_targets = len(ids) - 1
    starts = stream_starts(n_targets) if starts is None else sorted(set(starts))
    if starts[0] != 0 or starts[-1] >= n_targets:
        raise ValueError("streams must start at 0 and inside the text")
    lengths = [end - start for start, end in zip(starts, [*starts[1:], n_targets], strict=True)]
    # Whole chunks: every call gets seq_len tokens, so what a row's model sees never depends on
    # where another row ends (the mini-GPT's windows: CodeLLM/minigpt/model.py).
    width = -(-max(lengths) // seq_len) * seq_len
    inputs = torch.zeros(len(starts), width, dtype=torch.long)
    targets = torch.full((len(starts), width), -100, dtype=torch.long)  # -100: not scored
    for row, (start, length) in enumerate(zip(starts, lengths, strict=True)):
        inputs[row, :length] = ids[start : start + length]
        targets[row, :length] = ids[start + 1 : start + length + 1]
    inputs, targets = inputs.to(device), targets.to(device)
    nats = torch.zeros(len(starts), width, dtype=torch.float64)
    was_training, state = model.training, None
    model.eval()
    for pos in range(0, width, seq_len):
        logits, state = model(inputs[:, pos : pos + seq_len], state)  # (streams, chunk, vocab)
        chunk = targets[:, pos : pos + seq_len]
        nats[:, pos : pos + seq_len] = F.cross_entropy(
            logits.float().flatten(0, 1), chunk.flatten(), ignore_index=-100,
            reduction="none").view(chunk.shape).double().cpu()
    model.train(was_training)
    return torch.cat([nats[row, :length] for row, length in enumerate(lengths)])


def evaluate(model, ids: torch.Tensor, seq_len: int, device,
             starts: list[int] | None = None) -> tuple[float, int]:
    """Total negative log-likelihood (nats) of every token of `ids` after the first, and the
    number of those tokens (see `token_nats`)."""
    nats = token_nats(model, ids, seq_len, device, starts)
    return float(nats.sum()), len(nats)


def fingerprint(text_: str) -> str:
    """SHA-256 of a scored text: two runs can be paired only if theirs are equal."""
    return hashlib.sha256(text_.encode("utf-8")).hexdigest()


def block_metrics(nats: torch.Tensor | list[float], starts, n_chars: int, prefix: str = "test") -> dict:
    """`<prefix>_block_nats`: nats per BLOCK_CHARS characters, the first character of each
    token deciding its block (see metrics.block_sums), rounded to keep metrics.json small."""
    blocks = metrics.block_sums(nats, starts, n_chars, BLOCK_CHARS)
    return {f"{prefix}_block_nats": [round(x, 4) for x in blocks], f"{prefix}_block_chars": BLOCK_CHARS}
