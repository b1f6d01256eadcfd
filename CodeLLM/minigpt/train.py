"""Train the mini-GPT on stage 1's Shakespeare text, with stage 1's corpus, validation and test
text, loop and metrics, so its bits per character sit beside the RNNs' in docs/language-models.md.

    cd CodeLLM
    cd CodeLLM/minigpt
    python train.py                  # default run, about 5 minutes on 2 cores
    python train.py --n-layer 6 --d-model 192 --max-steps 3000
    python train.py --data my.txt    # your own UTF-8 text
    python train.py --smoke          # seconds: a tiny model, every artifact written
    python train.py --resume         # continue an interrupted run (Ctrl-C saves one)
    torchrun --nproc-per-node 2 train.py   # several processes (DDP); see docs/scaling.md

A run writes results/<run-name>/: config.json, metrics.json (validation and test loss and bits
per character, params, tokens per second, achieved FLOP/s and its fraction of the machine's
matrix-multiply peak), history.json, loss_curve.png, sample.txt, best.pt, last.pt and tensorboard/
(live curves: `tensorboard --logdir results`; --no-tensorboard skips them).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import torch

from config import GPT_SMOKE_OVERRIDES, GPTConfig
from model import build_model

from shared.lm import loop, tokens
from shared.runtime import devices, files, parallel
from shared.runtime.config import parse_stage_args
from shared.runtime.errors import UserError, run_main

from tools import bench

STAGE_DIR = Path(__file__).resolve().parent

BENCH = STAGE_DIR.parents[1] / "results" / "bench.json"  # where `make bench` stores the matmul peak


def matmul_peak(device) -> tuple[float, str]:
    """FLOP/s of a large float32 matmul: `make bench`'s measurement on a CPU if there is one
    (measured once, on an idle machine), else measured now, in about a second."""
    if device.type == "cpu" and BENCH.is_file():
        peak = files.read_json(BENCH).get("machine", {}).get("matmul_flops")
        if peak:
            return float(peak), "make bench"
    return bench.matmul_flops(device=device), "measured at the end of this run"


def flops_per_token(params: int, cfg: GPTConfig) -> float:
    """Training FLOPs per token: 6 per parameter (forward and backward matmuls) plus the
    attention scores and weighted sums, 12 x layers x width x context (PaLM, appendix B);
    halved for the causal mask is left out, as is usual."""
    return 6 * params + 12 * cfg.n_layer * cfg.d_model * cfg.seq_len


def main(argv=None) -> dict:
    cfg, args = parse_stage_args(GPTConfig, __doc__.split("\n\n")[0], GPT_SMOKE_OVERRIDES, argv)
    if cfg.d_model % cfg.heads:
        raise UserError(f"--d-model {cfg.d_model} must be a multiple of --heads {cfg.heads}")
    rt = parallel.setup(cfg)  # this process (alone, or one of torchrun's), device, precision
    device = rt.device
    out = files.run_dir(cfg.out_dir, cfg.run_name)

    data = tokens.character_data(cfg)  # training, validation and test text (shared/lm/text.py)
    vocab, train_ids, val_ids = data.vocab, data.train_ids, data.val_ids
    model_config = cfg.model_config(len(vocab))

    devices.seed_everything(cfg.seed)
    model = build_model(model_config).to(device)
    # Weight decay on matrices only: decaying norms and biases towards zero only hurts.
    decay = [p for p in model.parameters() if p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": cfg.weight_decay},
                                   {"params": no_decay, "weight_decay": 0.0}], lr=cfg.lr)
    n_params = devices.count_params(model)
    rt.print(f"mini-GPT: {n_params:,} parameters | {cfg.n_layer} blocks x {cfg.heads} heads, "
             f"width {cfg.d_model}, context {cfg.seq_len} | vocab {len(vocab)} | train "
             f"{len(train_ids):,} / val {len(val_ids) - 1:,} / test {len(data.test_ids) - 1:,} chars | "
             f"{rt.describe()}")
    identity = {"model_config": model_config, "vocab": vocab.chars}
    ckpt = loop.resume_checkpoint(out, identity, device) if args.resume else None
    if rt.main:
        files.write_json(out / "config.json", {**dataclasses.asdict(cfg), "smoke": args.smoke,
                                               "model_config": model_config})
    run = loop.fit(model, optimizer, train_ids, val_ids, cfg, out, identity, ckpt, rt)
    rt.close()  # the processes part here: rank 0 alone scores, plots and writes the results
    if not rt.main:
        return {}
    result = loop.finish(model, data, run, cfg, out, device,
                         title="CodeLLM mini-GPT")
    peak, source = matmul_peak(device)
    achieved = flops_per_token(n_params, cfg) * result["tokens_per_second"]
    result.update(flops_per_token=flops_per_token(n_params, cfg), achieved_flops=achieved,
                  matmul_peak_flops=peak, matmul_peak_source=source,
                  fraction_of_peak=achieved / peak, model_config=model_config)
    files.write_json(out / "metrics.json", result)
    print(f"achieved {achieved / 1e9:.1f} GFLOP/s = {achieved / peak:.1%} of the matmul peak "
          f"({peak / 1e9:.0f} GFLOP/s, {source})")
    return result


if __name__ == "__main__":
    run_main(main)
