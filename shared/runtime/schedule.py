"""The learning-rate schedule of the PyTorch language models and of seq2seq, and the time budget
(`--time-budget`) that a language model's run can have instead of a step count.

Imported by TinyLLM/train.py (whose loop sets the rate each step), shared.lm.loop (the same loop
for stage 2 and the mini-GPT) and CodeLLM's seq2seq training.
"""

from __future__ import annotations

import math


def learning_rate(step: int, peak: float, warmup_steps: int, max_steps: int,
                  progress: float | None = None) -> float:
    """Linear warm-up, then cosine decay to a tenth of the peak.

    The decay follows the steps after the warm-up (out of `max_steps`), or `progress`, the
    share of a time budget spent (0 to 1), when it is given: a run that stops on time then
    decays over its time, and ends at the low rate however many steps the machine managed."""
    if step < warmup_steps:
        return peak * (step + 1) / warmup_steps
    if progress is None:
        progress = (step - warmup_steps) / max(1, max_steps - warmup_steps)
    return peak * (0.1 + 0.9 * 0.5 * (1.0 + math.cos(math.pi * min(1.0, max(0.0, progress)))))


def budget_progress(seconds: float, time_budget: float) -> float | None:
    """The share of the time budget spent after `seconds` of training; None without a budget
    (`time_budget` 0), so that `learning_rate` counts steps."""
    return seconds / time_budget if time_budget > 0 else None


def more_steps(step: int, seconds: float, max_steps: int, time_budget: float) -> bool:
    """Whether a run goes on: until `time_budget` seconds of training when it has one (the step
    count is then not a limit), else until `max_steps` steps."""
    return seconds < time_budget if time_budget > 0 else step < max_steps
