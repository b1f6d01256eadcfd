"""Why gates: the plain RNN, the GRU and the LSTM (and the mini-GPT) on a task that needs a
long memory, at distances from a few steps to two hundred, with the same budget everywhere.

    cd TinyLLM
    python gates.py                          # the default run, writes results/gates/
    python gates.py --run-name reference-gates   # the committed run; rewrites the README section
    python gates.py --smoke                  # well under a minute: two distances, one seed
    python gates.py --distances 5 50 200 --gpt-context 256 --seeds 3

The task (shared/lm/recall.py): a marked symbol, d - 1 random distractors, a query; the model must
answer the marked symbol at the query, d steps after it saw it. Each cell (TinyLLM's CharRNN,
same sizes for all three) is trained from scratch at every distance and seed for the same
number of Adam steps on the same batch size, and scored on that distance's held-out test set.
The mini-GPT runs in a subprocess, CodeLLM/minigpt/recall.py, on the same settings.

Vanishing gradients: for each cell, the size of the gradient of the query's loss with respect
to the input at step t - k, against k, at initialisation and after training at the longest
distance.

A run writes results/<run-name>/: metrics.json (every run, the summary per model and distance,
the gradient norms, wall times, the target), gates.png (accuracy against distance; gradient
norm against k) and gpt/metrics.json. TinyLLM/report.py turns the reference run into the
README's "Why gates" section.
"""

from __future__ import annotations

import copy
import dataclasses
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path

import torch
from torch.nn import functional as F

from model import CharRNN  # this folder's model.py

from shared.lm import recall
from shared.runtime import devices, files
from shared.runtime.config import opt, parse_stage_args
from shared.runtime.errors import UserError, run_main

STAGE_DIR = Path(__file__).resolve().parent
GPT_SCRIPT = STAGE_DIR.parent / "CodeLLM" / "minigpt" / "recall.py"
CELLS = ("rnn", "gru", "lstm")
TARGET_RECALL = 0.9  # issue 18: GRU and LSTM above 90% where the plain RNN is at chance


@dataclass
class GatesConfig:
    distances: list = opt([2, 5, 10, 20, 50, 100, 200], "steps between the marked symbol and the query")
    alphabet: int = opt(8, "symbols to remember; chance is 1 / alphabet")
    embed_size: int = opt(16, "symbol embedding width (all three cells)")
    hidden_size: int = opt(64, "recurrent state width (all three cells)")
    lstm_forget_bias: float = opt(2.0, "initial bias of the LSTM's forget gate, in each of its two "
                                       "bias vectors (PyTorch's default is 0: the LSTM then starts "
                                       "by forgetting half its cell at every step)")
    steps: int = opt(300, "Adam steps per model, distance and seed: the same budget for all")
    batch_size: int = opt(64, "fresh random sequences per step")
    lr: float = opt(1e-2, "Adam learning rate of the recurrent cells")
    gpt_lr: float = opt(3e-3, "Adam learning rate of the mini-GPT")
    seeds: int = opt(2, "seeds per model and distance (0, 1, ...)")
    test_size: int = opt(500, "held-out sequences per distance (the same for every model)")
    gpt: bool = opt(True, "also train the mini-GPT (CodeLLM/minigpt/recall.py)")
    gpt_context: int = opt(256, "the mini-GPT's context; must hold the longest distance + 1")
    workers: int = opt(2, "processes training the cells side by side (one thread each)")
    out_dir: str = opt(str(STAGE_DIR / "results"), "folder that holds one sub-folder per run", metavar="DIR")
    run_name: str | None = opt(None, "sub-folder of --out-dir (default: gates, or smoke-gates)")


# --smoke: two distances, at the shorter of which every cell learns and at the longer of which
# the plain RNN is at chance while the GRU recalls (checked over seeds by tests/test_gates.py).
SMOKE_OVERRIDES = dict(distances=[4, 20], hidden_size=32, steps=200, seeds=1, test_size=300,
                       gpt_context=32)


def parse_args(argv=None) -> tuple[GatesConfig, bool]:
    cfg, args = parse_stage_args(GatesConfig, __doc__.split("\n\n")[0], SMOKE_OVERRIDES, argv,
                                 resumable=False)
    cfg.run_name = cfg.run_name or ("smoke-gates" if args.smoke else "gates")
    return cfg, args.smoke


def check(cfg: GatesConfig) -> None:
    """Bad input, one line each, before anything trains."""
    if not cfg.distances or min(cfg.distances) < 1:
        raise UserError(f"--distances {cfg.distances}: give distances of at least 1 step")
    if cfg.gpt and max(cfg.distances) + 1 > cfg.gpt_context:
        raise UserError(f"distance {max(cfg.distances)} needs {max(cfg.distances) + 1} positions but "
                        f"the mini-GPT's context is {cfg.gpt_context}; pass --gpt-context "
                        f"{max(cfg.distances) + 1} or more (or --no-gpt)")
    for name in ("steps", "batch_size", "seeds", "test_size", "workers", "embed_size", "hidden_size"):
        if getattr(cfg, name) < 1:
            raise UserError(f"--{name.replace('_', '-')} {getattr(cfg, name)}: must be positive")
    if cfg.alphabet < 2:
        raise UserError(f"--alphabet {cfg.alphabet}: recall needs at least 2 symbols")
    if cfg.lr <= 0 or cfg.gpt_lr <= 0:
        raise UserError("learning rates must be positive")


def build_cell(cell: str, cfg: GatesConfig) -> CharRNN:
    model = CharRNN(cell, recall.vocab_size(cfg.alphabet), cfg.embed_size, cfg.hidden_size,
                    num_layers=1, dropout=0.0)
    if cell == "lstm":  # PyTorch orders the LSTM's gates input, forget, cell, output
        h = cfg.hidden_size
        with torch.no_grad():
            model.rnn.bias_ih_l0[h:2 * h] = cfg.lstm_forget_bias
            model.rnn.bias_hh_l0[h:2 * h] = cfg.lstm_forget_bias
    return model


def last_logits(model: CharRNN):
    """ids (batch, d + 1) -> the logits at the query, the last step."""
    return lambda ids: model(ids)[0][:, -1]


def gradient_norms(model: CharRNN, cfg: GatesConfig, distance: int) -> list[float]:
    """Mean over test sequences of |d loss at the query / d input embedding at step t - k|,
    for k = 0 .. distance: how much the answer's error can still move what came k steps back."""
    ids, answers = recall.test_set(distance, cfg.alphabet, min(cfg.test_size, 256))
    model = copy.deepcopy(model).double()  # float32 underflows to 0 within 100 steps of an RNN
    x = model.embed(ids).detach().requires_grad_(True)  # (batch, d + 1, embed)
    out, _ = model.rnn(x)
    loss = F.cross_entropy(model.head(out[:, -1]), answers, reduction="sum")
    (grad,) = torch.autograd.grad(loss, x)
    norms = grad.norm(dim=-1).mean(dim=0)  # (d + 1,) by position
    return norms.flip(0).tolist()  # index k: k steps before the query


def run_job(cfg: GatesConfig, cell: str, distance: int, seed: int, with_gradients: bool) -> dict:
    """One cell at one distance and seed, from scratch (in a worker process)."""
    torch.set_num_threads(1)  # one job per core: tiny matrices gain nothing from two threads
    devices.seed_everything(seed)
    model = build_cell(cell, cfg)
    before = gradient_norms(model, cfg, distance) if with_gradients else None
    row = recall.train_recall(model, last_logits(model), distance, cfg.steps, cfg.batch_size,
                              cfg.lr, cfg.alphabet, seed, cfg.test_size)
    row = {"model": cell, "params": devices.count_params(model), **row}
    if with_gradients:
        row["grad_norm_init"], row["grad_norm_trained"] = before, gradient_norms(model, cfg, distance)
    print(f"{cell} d={distance} seed {seed}: recall {row['accuracy']:.1%} "
          f"({row['train_seconds']:.1f} s)", flush=True)
    return row


def train_cells(cfg: GatesConfig) -> list[dict]:
    longest = max(cfg.distances)
    jobs = [(cell, d, seed, d == longest and seed == 0)
            for d in sorted(cfg.distances, reverse=True)  # longest first: the pool ends evenly
            for cell in CELLS for seed in range(cfg.seeds)]
    if cfg.workers == 1:
        return [run_job(cfg, *job) for job in jobs]
    with ProcessPoolExecutor(cfg.workers, mp_context=get_context("spawn")) as pool:
        futures = [pool.submit(run_job, cfg, *job) for job in jobs]
        return [f.result() for f in futures]


def train_gpt(cfg: GatesConfig, out: Path) -> dict:
    command = [sys.executable, str(GPT_SCRIPT), "--distances", *map(str, cfg.distances),
               "--steps", str(cfg.steps), "--batch-size", str(cfg.batch_size), "--lr", str(cfg.gpt_lr),
               "--seeds", str(cfg.seeds), "--alphabet", str(cfg.alphabet), "--test-size",
               str(cfg.test_size), "--context", str(cfg.gpt_context), "--threads", "1",
               "--out-dir", str(out / "gpt")]
    print("\n=== the mini-GPT: CodeLLM/minigpt/recall.py ===", flush=True)
    if subprocess.run(command).returncode != 0:
        raise UserError("CodeLLM/minigpt/recall.py failed (its message is above)")
    return files.read_json(out / "gpt" / "metrics.json")


def summarise(rows: list[dict], distances: list[int], chance: float) -> dict:
    """Per model and distance: mean, lowest and highest recall over seeds, and the 95% Wilson
    interval of the pooled test answers; and the first distance whose interval includes chance."""
    summary = {}
    for model in dict.fromkeys(r["model"] for r in rows):
        by_distance = []
        for d in sorted(distances):
            runs = [r for r in rows if r["model"] == model and r["distance"] == d]
            correct, total = sum(r["correct"] for r in runs), sum(r["total"] for r in runs)
            low, high = recall.wilson_interval(correct, total)
            accs = [r["accuracy"] for r in runs]
            by_distance.append({"distance": d, "mean": sum(accs) / len(accs), "min": min(accs),
                                "max": max(accs), "low": low, "high": high,
                                "at_chance": low <= chance,
                                "train_seconds": sum(r["train_seconds"] for r in runs)})
        falls = next((x["distance"] for x in by_distance if x["at_chance"]), None)
        summary[model] = {"by_distance": by_distance, "falls_to_chance_at": falls}
    return summary


def target(summary: dict) -> dict:
    """The distances where the GRU and the LSTM recall above 90% and the plain RNN is at chance."""
    rnn = {x["distance"]: x for x in summary["rnn"]["by_distance"]}
    met = [d for d, x in rnn.items() if x["at_chance"] and all(
        next(y for y in summary[c]["by_distance"] if y["distance"] == d)["mean"] > TARGET_RECALL
        for c in ("gru", "lstm"))]
    return {"recall": TARGET_RECALL, "met_at": met, "met": bool(met)}


def plot(result: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.4), dpi=110)
    for model, s in result["summary"].items():
        xs = [x["distance"] for x in s["by_distance"]]
        mean = [x["mean"] for x in s["by_distance"]]
        line, = left.plot(xs, mean, marker="o", label=model)
        left.fill_between(xs, [x["min"] for x in s["by_distance"]], [x["max"] for x in s["by_distance"]],
                          color=line.get_color(), alpha=0.15)
    left.axhline(result["chance"], color="grey", ls="--", lw=1, label="chance")
    left.set(xscale="log", xlabel="distance d (steps from the marked symbol to the query)",
             ylabel="test recall", ylim=(0, 1.05),
             title=f"Recall after {result['settings']['steps']} steps (mean, band: seeds' range)")
    left.legend(fontsize=8)
    for cell, norms in result["gradients"].items():
        line, = right.plot(range(len(norms["trained"])), norms["trained"], label=f"{cell}, trained")
        right.plot(range(len(norms["init"])), norms["init"], ls="--", color=line.get_color(),
                   label=f"{cell}, at initialisation")
    right.set(yscale="log", xlabel="k (steps before the query)",
              ylabel="|d loss at the query / d input at t - k|",
              title=f"Gradient reaching back, at d = {result['gradient_distance']}")
    right.legend(fontsize=8)
    for ax in (left, right):
        ax.grid(alpha=0.3)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)


def main(argv=None) -> dict:
    cfg, smoke = parse_args(argv)
    check(cfg)
    out = files.run_dir(cfg.out_dir, cfg.run_name)
    started = time.perf_counter()
    print(f"cells {', '.join(CELLS)} at distances {cfg.distances}: {cfg.steps} steps of "
          f"{cfg.batch_size} sequences each, {cfg.seeds} seed(s), {cfg.workers} worker(s)", flush=True)
    rows = train_cells(cfg)
    cells_seconds = time.perf_counter() - started
    gpt = train_gpt(cfg, out) if cfg.gpt else None
    if gpt:
        rows += gpt["rows"]
    chance = 1 / cfg.alphabet
    summary = summarise(rows, cfg.distances, chance)
    gradient_rows = {r["model"]: r for r in rows if "grad_norm_init" in r}
    params = {r["model"]: r["params"] for r in rows if "params" in r}
    if gpt:
        params["gpt"] = gpt["params"]
    result = {
        "settings": {**dataclasses.asdict(cfg), "smoke": smoke}, "chance": chance,
        "summary": summary, "target": target(summary), "params": params,
        "gradient_distance": max(cfg.distances),
        "gradients": {c: {"init": r["grad_norm_init"], "trained": r["grad_norm_trained"]}
                      for c, r in gradient_rows.items()},
        "cells_wall_seconds": round(cells_seconds, 1),
        "gpt_wall_seconds": gpt and gpt["wall_seconds"],
        "wall_seconds": round(time.perf_counter() - started, 1),
        "runs": [{k: v for k, v in r.items() if not k.startswith("grad_norm")} for r in rows],
    }
    files.write_json(out / "metrics.json", result)
    plot(result, out / "gates.png")
    for model, s in summary.items():
        print(f"{model:>5}: " + "  ".join(f"d={x['distance']} {x['mean']:.0%}" for x in s["by_distance"])
              + f"  | at chance from d={s['falls_to_chance_at']}")
    print(f"target (GRU and LSTM > {TARGET_RECALL:.0%} where the RNN is at chance): "
          f"{'met at d=' + str(result['target']['met_at']) if result['target']['met'] else 'NOT met'}"
          f" | {result['wall_seconds']:.0f} s | results in {out}")
    if cfg.run_name == "reference-gates" and Path(cfg.out_dir).resolve() == (STAGE_DIR / "results"):
        import report  # this folder's report.py: the README section, from the file just written

        report.write_gates_section()
    return result


if __name__ == "__main__":
    run_main(main)
