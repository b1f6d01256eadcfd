"""Train a character-level language model on Shakespeare (or your own text) on a CPU.

    cd TinyLLM
    python train.py                      # default GRU run, under 5 minutes on 2 cores
    python train.py --model lstm         # another rung of the ladder: bigram, rnn, gru, lstm
    python train.py --data my.txt        # your own UTF-8 text
    python train.py --smoke              # seconds: a tiny model, every artifact written
    python train.py --resume             # continue an interrupted run (Ctrl-C saves one)
    torchrun --nproc-per-node 2 train.py # several processes (DDP); see docs/scaling.md

A run writes results/<run-name>/: config.json, metrics.json, history.json, loss_curve.png,
sample.txt, best.pt (lowest validation loss, used by sample.py) and last.pt (for --resume).
"""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))  # run from any folder

from config import SMOKE_OVERRIDES, TinyConfig  # noqa: E402
from model import build_model  # noqa: E402

from shared import lm, parallel, training  # noqa: E402
from shared.config import parse_stage_args  # noqa: E402
from shared.errors import run_main  # noqa: E402


def main(argv=None) -> dict:
    cfg, args = parse_stage_args(TinyConfig, __doc__.split("\n\n")[0], SMOKE_OVERRIDES, argv)
    rt = parallel.setup(cfg)  # this process (alone, or one of torchrun's), device, precision
    device = rt.device
    out = training.run_dir(cfg.out_dir, cfg.run_name)

    data = lm.character_data(cfg)  # training, validation and test text (shared/text.py)
    vocab, train_ids, val_ids = data.vocab, data.train_ids, data.val_ids
    model_config = cfg.model_config(len(vocab))

    training.seed_everything(cfg.seed)
    model = build_model(model_config).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    n_params = training.count_params(model)
    rt.print(f"{cfg.model}: {n_params:,} parameters | vocab {len(vocab)} | "
             f"train {len(train_ids):,} / val {len(val_ids) - 1:,} / test "
             f"{len(data.test_ids) - 1:,} chars | {rt.describe()}")
    identity = {"model_config": model_config, "vocab": vocab.chars}
    ckpt = lm.resume_checkpoint(out, identity, device) if args.resume else None
    if rt.main:
        training.write_json(out / "config.json", {**dataclasses.asdict(cfg), "smoke": args.smoke,
                                                  "model_config": model_config})
    run = lm.fit(model, optimizer, train_ids, val_ids, cfg, out, identity, ckpt, rt)
    rt.close()  # the processes part here: rank 0 alone scores, plots and writes the results
    if not rt.main:
        return {}
    return lm.finish(model, data, run, cfg, out, device,
                     title=f"TinyLLM {cfg.model}")


if __name__ == "__main__":
    run_main(main)
