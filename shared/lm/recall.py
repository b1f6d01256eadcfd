"""The long-range recall task of the "why gates" experiment, and the loop that trains on it.

Imported by TinyLLM/gates.py (the rnn, gru and lstm cells) and CodeLLM/minigpt/recall.py (the
mini-GPT), so that every model sees the same sequences, the same budget and the same scoring.

A sequence at distance d has d + 1 tokens:

    position 0:          the marked symbol, one of `alphabet` symbols (token alphabet + s)
    positions 1 .. d-1:  distractors, random plain symbols (tokens 0 .. alphabet - 1)
    position d:          the query token (2 * alphabet)

and the answer, read from the model's output at the query, is the marked symbol s (0 .. alphabet
- 1). So the information has to survive exactly d steps; guessing scores 1 / alphabet.

    ids, answers = recall_batch(generator, batch=32, distance=50, alphabet=8)
    result = train_recall(model, last_logits, distance=50, steps=300, batch=32, lr=3e-3, ...)
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

import torch
from torch.nn import functional as F


def vocab_size(alphabet: int) -> int:
    """Plain symbols, marked symbols, and the query token."""
    return 2 * alphabet + 1


def recall_batch(generator: torch.Generator, batch: int, distance: int,
                 alphabet: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(ids (batch, distance + 1), answers (batch,)): fresh random sequences from `generator`."""
    if distance < 1:
        raise ValueError(f"distance {distance} must be at least 1")
    ids = torch.randint(0, alphabet, (batch, distance + 1), generator=generator)
    answers = torch.randint(0, alphabet, (batch,), generator=generator)
    ids[:, 0] = alphabet + answers  # the marked copy of the answer
    ids[:, -1] = 2 * alphabet  # the query
    return ids, answers


def test_set(distance: int, alphabet: int, size: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """The held-out sequences of one distance: the same for every model and seed, and drawn
    from their own generator, so training never sees them (the chance of a training sequence
    equalling one is alphabet^-(d+1), nil beyond tiny d)."""
    generator = torch.Generator().manual_seed(10_000 + 7919 * distance + seed)
    return recall_batch(generator, size, distance, alphabet)


@torch.no_grad()
def accuracy(last_logits: Callable, ids: torch.Tensor, answers: torch.Tensor,
             chunk: int = 500) -> int:
    """How many of the sequences the model answers right (a count, for binomial intervals)."""
    correct = 0
    for start in range(0, len(ids), chunk):
        logits = last_logits(ids[start:start + chunk])
        correct += int((logits.argmax(-1) == answers[start:start + chunk]).sum())
    return correct


def train_recall(model: torch.nn.Module, last_logits: Callable, distance: int, steps: int,
                 batch: int, lr: float, alphabet: int, seed: int, test_size: int,
                 grad_clip: float = 1.0) -> dict:
    """Train `model` for `steps` Adam steps on fresh batches at `distance`, then score it on
    the distance's test set. `last_logits(ids)` returns the logits at the query, (batch, vocab).
    The loss is on the query step alone: nothing else in a sequence can be predicted."""
    generator = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    losses, started = [], time.perf_counter()
    model.train()
    for _ in range(steps):
        ids, answers = recall_batch(generator, batch, distance, alphabet)
        loss = F.cross_entropy(last_logits(ids), answers)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
        optimizer.step()
        losses.append(loss.item())
    seconds = time.perf_counter() - started
    model.eval()
    ids, answers = test_set(distance, alphabet, test_size)
    correct = accuracy(last_logits, ids, answers)
    tail = losses[-max(1, steps // 10):]  # the last tenth: where training ended up
    return {"distance": distance, "seed": seed, "correct": correct, "total": test_size,
            "accuracy": correct / test_size, "final_train_loss": sum(tail) / len(tail),
            "train_seconds": round(seconds, 3)}


def wilson_interval(correct: int, total: int, z: float = 1.96) -> tuple[float, float]:
    """The 95% Wilson score interval of a binomial proportion (sane at 0 and at 1)."""
    p = correct / total
    centre = (p + z * z / (2 * total)) / (1 + z * z / total)
    half = z * math.sqrt(p * (1 - p) / total + z * z / (4 * total * total)) / (1 + z * z / total)
    return max(0.0, centre - half), min(1.0, centre + half)
