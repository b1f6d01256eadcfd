"""Where a run computes and how it repeats: the device, the seeds, the CPU threads, and the
parameter count every run reports.

Imported by every PyTorch train and sample script (TinyLLM, SmaLLM, CodeLLM, LLMind), by
shared.runtime.parallel (which picks the device and threads of each process) and by shared.lm.
"""

from __future__ import annotations

import random

import numpy as np
import torch

from shared.runtime.errors import UserError

DEVICES = ("auto", "cpu", "cuda", "mps")


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and PyTorch so a CPU run repeats exactly."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def pick_device(name: str = "auto") -> torch.device:
    """`auto` picks cuda, then mps, then cpu; asking for a missing device is a clear error."""
    if name not in DEVICES:
        raise UserError(f"--device {name}: choose one of {', '.join(DEVICES)}")
    has_mps = getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available()
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "mps" if has_mps else "cpu"
    if name == "cuda" and not torch.cuda.is_available():
        raise UserError("--device cuda: no CUDA GPU is visible to PyTorch; use --device cpu")
    if name == "mps" and not has_mps:
        raise UserError("--device mps: Apple's MPS backend is not available; use --device cpu")
    return torch.device(name)


def set_threads(threads: int | None) -> int:
    """Use `threads` CPU threads (default: PyTorch's choice, usually one per core)."""
    if threads:
        torch.set_num_threads(threads)
    return torch.get_num_threads()


def count_params(model: torch.nn.Module) -> int:
    """Trainable parameters: the model size that every run prints and stores."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
