"""The learning-rate schedule of the PyTorch language models and of seq2seq.

Imported by TinyLLM/train.py (whose loop sets the rate each step), shared.lm.loop (the same loop
for stage 2 and the mini-GPT) and CodeLLM's seq2seq training.
"""

from __future__ import annotations

import math


def learning_rate(step: int, peak: float, warmup_steps: int, max_steps: int) -> float:
    """Linear warm-up, then cosine decay to a tenth of the peak."""
    if step < warmup_steps:
        return peak * (step + 1) / warmup_steps
    progress = (step - warmup_steps) / max(1, max_steps - warmup_steps)
    return peak * (0.1 + 0.9 * 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress))))
