"""Measurements of the machine itself, for `make bench`: the float32 matmul peak.

Imported by benchmarks/run.py, which stores the peak in results/bench.json, and by the mini-GPT's
train script (CodeLLM), which reports its achieved FLOP/s as a share of that peak and measures
it itself when no bench result exists for the device.
"""

from __future__ import annotations

import time

import torch


def matmul_flops(size: int = 2048, repeats: int = 5, device: str | torch.device = "cpu") -> float:
    """The machine's float32 matrix-multiply speed (FLOP/s), best of `repeats`: the practical
    peak that a model's achieved FLOP/s is compared with."""
    a = torch.randn(size, size, device=device)
    b = torch.randn(size, size, device=device)
    a @ b  # warm-up: thread pool, caches
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        a @ b
        if torch.device(device).type == "cuda":
            torch.cuda.synchronize()
        best = min(best, time.perf_counter() - started)
    return 2 * size**3 / best
