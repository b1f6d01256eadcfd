"""What a run writes and reads back: its folder, JSON and CSV files, and checkpoints.

Files are written atomically (temporary file in the same folder, then `os.replace`), so an
interrupted run never leaves a half-written checkpoint or metrics file behind. Checkpoints hold
only tensors and plain Python values and are read back with `torch.load(weights_only=True)`, so
loading one never runs code from the file.

Imported by every stage's train, predict, sample and report scripts, by shared.lm (checkpoints
and metrics of the language models), shared.prices.runs (the forecasters' run files), docs/ and
benchmarks/run.py.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections import OrderedDict
from pathlib import Path
from typing import Any

import torch

from shared.runtime.errors import UserError


def run_dir(out_dir: str | Path, run_name: str) -> Path:
    """`<out_dir>/<run_name>/`, created if missing."""
    path = Path(out_dir) / run_name
    path.mkdir(parents=True, exist_ok=True)
    return path


def _atomic_write(path: Path, write) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(tmp)
        os.chmod(tmp, 0o644)  # mkstemp makes files private; results are for sharing
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return path


def write_json(path: str | Path, data: dict[str, Any]) -> Path:
    """Pretty, sorted JSON written atomically (config.json, metrics.json, ...)."""
    text = json.dumps(data, indent=2, sort_keys=True, default=str) + "\n"
    return _atomic_write(Path(path), lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))


def write_csv(path: str | Path, frame) -> Path:
    """A pandas DataFrame as CSV without its index, written atomically."""
    return _atomic_write(Path(path), lambda tmp: frame.to_csv(tmp, index=False))


def read_json(path: str | Path) -> dict[str, Any]:
    return json.loads(Path(path).read_text(encoding="utf-8"))


# What `torch.load(weights_only=True)` rebuilds without running any code from the file.
_SAFE_LEAVES = (torch.Tensor, torch.nn.Parameter, bool, int, float, str, bytes, type(None),
                torch.dtype, torch.device)
_SAFE_CONTAINERS = (dict, OrderedDict, list, tuple, torch.Size)


def _unsafe_entry(value: Any, where: str = "checkpoint") -> str | None:
    """The first entry of `value` that a safe load would refuse (`checkpoint['a'][0] is a ...`),
    or None. Exact types: a NumPy float64 is a float subclass, yet unpickling it needs NumPy."""
    kind = type(value)
    if kind in _SAFE_LEAVES:
        return None
    if kind not in _SAFE_CONTAINERS:
        return f"{where} is a {kind.__module__}.{kind.__qualname__}"
    if kind in (dict, OrderedDict):
        for key, item in value.items():
            if type(key) not in (str, int):
                return f"{where} has a key of type {type(key).__qualname__}"
            if found := _unsafe_entry(item, f"{where}[{key!r}]"):
                return found
        return None
    return next((found for i, item in enumerate(value)
                 if (found := _unsafe_entry(item, f"{where}[{i}]"))), None)


def save_checkpoint(path: str | Path, checkpoint: dict[str, Any]) -> Path:
    """Save a checkpoint dict (model state, optimizer state, model config, step, ...).

    Only tensors, numbers, strings, None, lists, tuples and dicts are stored: what
    `load_checkpoint` reads back with `weights_only=True`. Anything else (a NumPy number or
    array, a dataclass) is a programming error, refused here rather than at the next load."""
    if found := _unsafe_entry(checkpoint):
        raise TypeError(f"{found}: a checkpoint holds only tensors, numbers, strings, lists and "
                        "dicts (convert it, e.g. with float(x), x.tolist() or torch.from_numpy(x))")
    return _atomic_write(Path(path), lambda tmp: torch.save(checkpoint, tmp))


def _differences(saved: Any, expected: Any) -> str:
    if isinstance(saved, dict) and isinstance(expected, dict):
        keys = sorted(set(saved) | set(expected))
        diffs = [f"{k}: {saved.get(k)!r} in checkpoint, {expected.get(k)!r} now"
                 for k in keys if saved.get(k) != expected.get(k)]
        return "; ".join(diffs[:3])
    if isinstance(saved, str) and isinstance(expected, str):
        only_saved = "".join(sorted(set(saved) - set(expected)))
        only_now = "".join(sorted(set(expected) - set(saved)))
        return f"only in checkpoint: {only_saved!r}, only now: {only_now!r}"
    return "they differ"


def load_checkpoint(path: str | Path, expect: dict[str, Any] | None = None,
                    map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Load a checkpoint safely (`weights_only=True`: tensors and plain containers, never
    code); refuse it if any entry in `expect` (e.g. model config, vocabulary) differs from what
    was saved, naming the difference."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"no checkpoint at {path}; train one first (or check --out-dir/--run-name)")
    try:
        # weights_only: the file is read by a loader that builds tensors and plain containers
        # only, so a crafted file cannot run code on this machine.
        checkpoint = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as err:  # a truncated, foreign or crafted file: say so in one line
        refused = re.search(r"Unsupported global: GLOBAL (\S+)", str(err))
        if refused:
            raise UserError(
                f"{path} holds Python objects ({refused[1]}) that a safe load refuses, so it was "
                "not loaded: this project's train scripts never write those (it is foreign, "
                "altered or untrusted); retrain with `python train.py`") from None
        raise UserError(f"{path} is not a readable checkpoint ({type(err).__name__})") from None
    for key, expected in (expect or {}).items():
        if key not in checkpoint:
            raise UserError(f"{path} has no {key!r}: it was not written by this stage")
        if checkpoint[key] != expected:
            what = key.replace("_", " ")
            raise UserError(
                f"{path} was trained with a different {what} ({_differences(checkpoint[key], expected)}); "
                "use the same settings, or a new --run-name to start afresh"
            )
    return checkpoint

