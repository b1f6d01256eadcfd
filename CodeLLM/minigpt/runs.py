"""Train runs for the mini-GPT's experiments (budgets.py, sweep.py): each run is a train script
started in a subprocess with a time budget, so the GRU comes from stage 1's own train.py
(stages never import each other) and every model trains through its stage's loop.

A finished run is reused when the same command is given again, and a run stopped part-way
(Ctrl-C) continues with --resume, its training time included: an interrupted experiment loses
at most the run it was in.

    from runs import GRU_SCRIPT, GPT_SCRIPT, launch, machine
    metrics = launch(GPT_SCRIPT, ["--time-budget", "60"], out_dir, "gpt-60s", "mini-GPT, 60 s")
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import torch

from shared.lm import metrics as lm_metrics
from shared.runtime import files
from shared.runtime.errors import UserError

from tools import reporting

STAGE_DIR = Path(__file__).resolve().parent
GPT_SCRIPT = STAGE_DIR / "train.py"
GRU_SCRIPT = STAGE_DIR.parents[1] / "TinyLLM" / "train.py"
# What an experiment keeps of a run's metrics.json (the per-block test nats pair two runs).
KEPT = ("params", "steps", "best_step", "train_seconds", "tokens_per_second", "train_chars",
        "val_bits_per_char", "test_bits_per_char", "test_chars", "test_block_nats",
        "test_block_chars", "test_text_sha256", "test_uniform_bits_per_char", "model_config")


def launch(script: Path, flags: list[str], out_dir: Path, name: str, label: str,
           curves: bool = True) -> dict:
    """Run `script` with `flags` into `out_dir/name` and return the part of its metrics.json
    that the experiments use (KEPT), with the run's wall time. Reuses a finished run of the same
    flags; resumes one that was interrupted. `curves` False passes --no-tensorboard: no event
    files in the run's folder (they change no result, so they are not part of the flags that
    decide whether a finished run is reused)."""
    run = out_dir / name
    flags = [str(f) for f in flags]
    asked = {"script": script.relative_to(STAGE_DIR.parents[1]).as_posix(), "flags": flags}
    record, done = run / "experiment.json", run / "metrics.json"
    earlier = files.read_json(record) if record.is_file() else {}
    same = {k: earlier.get(k) for k in asked} == asked
    if same and done.is_file():
        print(f"{label}: finished earlier, reusing {run}", flush=True)
        return {**keep(files.read_json(done)), "wall_seconds": earlier.get("wall_seconds")}
    resume = ["--resume"] if same and (run / "last.pt").is_file() else []
    if not same:
        done.unlink(missing_ok=True)  # from other flags: never mistaken for this run's
        run.mkdir(parents=True, exist_ok=True)
        files.write_json(record, asked)
    print(f"\n=== {label}{' (resumed)' if resume else ''} ===", flush=True)
    command = [sys.executable, str(script), *flags, *resume, "--out-dir", str(out_dir),
               "--run-name", name, *([] if curves else ["--no-tensorboard"])]
    started = time.perf_counter()
    status = subprocess.run(command).returncode
    if status == 130:  # Ctrl-C: the run saved last.pt; the same command continues it
        raise KeyboardInterrupt
    if status or not done.is_file():
        raise UserError(f"{label}: {script.name} failed (exit status {status}); its output is above")
    wall = round(time.perf_counter() - started, 1)  # start-up and final scores included
    files.write_json(record, {**asked, "wall_seconds": wall})
    return {**keep(files.read_json(done)), "wall_seconds": wall}


def total_wall(runs: dict) -> float | None:
    """The runs' wall times added up (each measured when it ran, reused or not); None if one
    was not recorded."""
    walls = [r.get("wall_seconds") for r in runs.values()]
    return None if None in walls else round(sum(walls), 1)


def keep(metrics: dict) -> dict:
    return {k: metrics[k] for k in KEPT if k in metrics}


def paired(a: dict, b: dict) -> dict:
    """A minus B in test bits per character, with the paired block-bootstrap 95% interval."""
    result = lm_metrics.compare_runs(a, b)
    return {k: round(v, 4) if isinstance(v, float) else v for k, v in result.items()}


def machine() -> dict:
    """What the timings were measured on: cores, torch threads, and the load average (other
    work on the machine slows every run down and shortens what a budget buys)."""
    load = os.getloadavg() if hasattr(os, "getloadavg") else (float("nan"),) * 3
    return {"cpu_count": os.cpu_count(), "torch_threads": torch.get_num_threads(),
            "load_average_1min": round(load[0], 2),
            "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None}


def wall(result: dict) -> float:
    """An experiment's wall time: its runs' own times when every one was recorded (a resumed or
    partly reused experiment took them in several sittings), else this sitting's."""
    return result.get("runs_wall_seconds") or result["wall_seconds"]


def report_section(reference: Path, page: Path, name: str, section, plot, figure: str, check: bool) -> int:
    """Rewrite README section `name` (and the reference run's `figure`) from the reference run's
    metrics.json; with `check`, only say whether the section is stale (exit status 1)."""
    path = reference / "metrics.json"
    if not path.is_file():
        raise UserError(f"no reference run at {path}; run the experiment with --run-name {reference.name}")
    result = files.read_json(path)
    if not check:  # the figure follows the code too, like the text
        plot(result, reference / figure)
    return reporting.write_sections(page, {name: section(result)}, check=check)
