"""The mini-GPT's column of TinyLLM's "why gates" experiment: the long-range recall task of
shared/lm/recall.py, with the same distances, steps, batch size and test sets as the recurrent
cells.

    cd CodeLLM/minigpt
    python recall.py --distances 2 5 10 20 50 100 --out-dir /tmp/gpt-recall
    python recall.py --smoke --out-dir /tmp/gpt-recall

TinyLLM/gates.py runs this script in a subprocess (stages never import each other) and reads
the metrics.json it writes into --out-dir: one row per distance and seed.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from model import MiniGPT  # this folder's model.py

from shared.lm import recall
from shared.runtime import devices, files
from shared.runtime.errors import UserError, run_main


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--distances", type=int, nargs="+", default=[2, 5, 10, 20, 50, 100],
                        help="steps between the marked symbol and the query")
    parser.add_argument("--steps", type=int, default=300, help="Adam steps per distance and seed")
    parser.add_argument("--batch-size", type=int, default=64, help="sequences per step")
    parser.add_argument("--lr", type=float, default=3e-3, help="Adam learning rate")
    parser.add_argument("--seeds", type=int, default=2, help="seeds per distance (0, 1, ...)")
    parser.add_argument("--alphabet", type=int, default=8, help="symbols; chance is 1 / alphabet")
    parser.add_argument("--test-size", type=int, default=500, help="held-out sequences per distance")
    parser.add_argument("--context", type=int, default=128,
                        help="the model's block size: positions it can attend over")
    parser.add_argument("--d-model", type=int, default=32, help="width of every position's vector")
    parser.add_argument("--n-layer", type=int, default=1, help="transformer blocks")
    parser.add_argument("--heads", type=int, default=2, help="attention heads per block")
    parser.add_argument("--threads", type=int, default=None, help="CPU threads (default: PyTorch's)")
    parser.add_argument("--out-dir", required=True, help="folder for metrics.json")
    parser.add_argument("--smoke", action="store_true",
                        help="seconds: one seed, short distances, few steps (flags typed win)")
    args = parser.parse_args(argv)
    if args.smoke:  # what TinyLLM/gates.py --smoke passes anyway; here for running by hand
        args.seeds, args.steps = min(args.seeds, 1), min(args.steps, 100)
    return args


def check(args) -> None:
    """Bad input, one line, before anything trains."""
    if too_long := [d for d in args.distances if d + 1 > args.context]:
        raise UserError(f"distance {max(too_long)} needs {max(too_long) + 1} positions but the "
                        f"mini-GPT's context is {args.context}; pass --context {max(too_long) + 1} or more")
    for name in ("steps", "batch_size", "seeds", "test_size", "alphabet"):
        if getattr(args, name) < (2 if name == "alphabet" else 1):
            raise UserError(f"--{name.replace('_', '-')} {getattr(args, name)} is too small")
    if min(args.distances) < 1:
        raise UserError(f"distance {min(args.distances)}: distances must be at least 1")


def main(argv=None) -> dict:
    args = parse_args(argv)
    check(args)
    devices.set_threads(args.threads)
    started, rows = time.perf_counter(), []
    for distance in args.distances:
        for seed in range(args.seeds):
            devices.seed_everything(seed)
            model = MiniGPT(recall.vocab_size(args.alphabet), block_size=args.context,
                            d_model=args.d_model, n_layer=args.n_layer, heads=args.heads)
            row = recall.train_recall(model, lambda ids, m=model: m.logits(ids)[:, -1], distance,
                                      args.steps, args.batch_size, args.lr, args.alphabet, seed,
                                      args.test_size)
            rows.append({"model": "gpt", **row})
            print(f"gpt d={distance} seed {seed}: recall {row['accuracy']:.1%} "
                  f"({row['train_seconds']:.1f} s)", flush=True)
    result = {"model": "gpt", "params": devices.count_params(model), "rows": rows,
              "settings": {k: v for k, v in vars(args).items() if k != "out_dir"},
              "wall_seconds": round(time.perf_counter() - started, 1)}
    files.write_json(Path(args.out_dir) / "metrics.json", result)
    return result


if __name__ == "__main__":
    run_main(main)
