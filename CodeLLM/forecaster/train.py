"""Train the transformer forecaster (or its LSTM control) on stage 3's task: tomorrow's close
from 60 days of prices and indicators, judged against the same naive baselines.

    cd CodeLLM/forecaster
    python train.py                        # transformer, bundled GOOG, 3 seeds, about a minute
    python train.py --arch lstm            # the PyTorch twin of stage 3's Keras LSTM
    python train.py --horizon 5            # forecast five days at once (teacher forcing)
    python train.py --pos-encoding learned --heads 2 --encoder-layers 3
    python train.py --patch 8 --lookback 256   # 8 days per token (PatchTST): long windows, cheap
    python train.py --ticker MSFT          # or --csv my_prices.csv, or --source yfinance
    python train.py --smoke                # seconds: tiny model, one seed, every artifact
    torchrun --nproc-per-node 2 train.py   # several processes (DDP); see docs/scaling.md

A run writes results/<run-name>/: config.json, metrics.json (stage 3's schema: per seed, mean
and std, baselines), predictions.csv, history.json, predictions.png, loss_curve.png, model.pt,
preprocessing.json, saliency_by_lag.png (which days the forecast's gradient points at, for
either architecture) and, for the transformer, attention_cross.png, attention_by_lag.png and
attention_encoder.png. Unless --no-tensorboard, tensorboard/ holds the live curves
(`tensorboard --logdir results`): each seed's loss/train, loss/val and lr by epoch.
"""

from __future__ import annotations

import copy
import dataclasses
import time

import numpy as np
import torch
from attention import attention_report

from config import SMOKE_OVERRIDES, ForecastConfig
from model import build_model
from saliency import saliency_by_lag

from shared.prices import features, forecast, windows
from shared.prices.attribution import plot_saliency
from shared.prices.data import load_dataset
from shared.prices.runs import SeedRuns
from shared.runtime import devices, files, parallel
from shared.runtime.config import parse_stage_args
from shared.runtime.curves import event_writer
from shared.runtime.errors import UserError, run_main


@torch.no_grad()
def predict(model: torch.nn.Module, x: np.ndarray, device, batch_size: int = 512) -> np.ndarray:
    """Scaled forecasts (samples, horizon), the decoder feeding back its own steps."""
    model.eval()
    parts = [model(torch.from_numpy(x[i : i + batch_size]).to(device)).cpu()
             for i in range(0, len(x), batch_size)]
    return torch.cat(parts).numpy()


def as_steps(y: np.ndarray) -> np.ndarray:
    """Targets as (samples, horizon), whatever the horizon."""
    return y.reshape(len(y), -1)


def train_one_seed(cfg: ForecastConfig, data: windows.Dataset, seed: int, rt: parallel.Runtime,
                   curves):
    device = rt.device
    devices.seed_everything(seed)
    model = build_model(cfg.model_config(len(data.features))).to(device)
    net = rt.prepare(model, cfg.compile)  # trains; `model` (the same weights) predicts
    # The architecture's recipe (config.py RECIPES): for the lstm, stage 3's Keras Adam; the
    # learning rate halves when validation stalls, as stage 3's ReduceLROnPlateau does.
    optimizer = cfg.make_optimizer(model.parameters())
    plateau = cfg.make_plateau(optimizer)
    x, y = torch.from_numpy(data.train.x), torch.from_numpy(as_steps(data.train.y))
    val_y, horizon = as_steps(data.val.y), y.shape[1]

    # Summed squared error per sample (teacher forcing); train_step divides by the batch, so
    # the loss is the mean over batch and horizon: Keras's "mse", as stage 3 trains on.
    def loss_of(net, idx):
        xb, yb = x[idx].to(device), y[idx].to(device)
        return torch.nn.functional.mse_loss(net(xb, targets=yb).float(), yb, reduction="sum") / horizon

    generator = torch.Generator().manual_seed(seed)
    history = {"loss": [], "val_loss": [], "lr": []}
    seconds, best, step, waited = [], (float("inf"), None, 0), 0, 0
    for epoch in range(cfg.epochs):
        started = time.perf_counter()
        model.train()
        order, total, seen = torch.randperm(len(x), generator=generator), 0.0, 0
        for i in range(0, len(x), cfg.batch_size):
            if step < cfg.warmup_steps:  # linear warm-up: big early steps upset attention
                for group in optimizer.param_groups:
                    group["lr"] = cfg.lr * (step + 1) / cfg.warmup_steps
            batch = order[i : i + cfg.batch_size]
            loss = rt.train_step(net, model, optimizer, batch, loss_of, cfg.grad_clip or None,
                                 cfg.grad_accum)  # None: no clipping (the lstm, as Keras)
            if loss is not None:  # None: a last batch smaller than the processes, skipped
                total, seen, step = total + loss * len(batch), seen + len(batch), step + 1
        # Every process scores validation alike; the mean makes sure they stop together.
        val_loss = rt.mean(float(np.mean((predict(model, data.val.x, device) - val_y) ** 2)))
        seconds.append(time.perf_counter() - started)
        if step >= cfg.warmup_steps:  # no warm-up (the lstm): from the first epoch, as Keras
            plateau.step(val_loss)
        history["loss"].append(total / seen)
        history["val_loss"].append(val_loss)
        history["lr"].append(optimizer.param_groups[0]["lr"])
        for tag, value in (("loss/train", history["loss"][-1]), ("loss/val", val_loss),
                           ("lr", history["lr"][-1])):  # one curve per seed, by epoch
            curves.scalar(f"{tag}/seed-{seed}", value, epoch + 1)
        rt.print(f"epoch {epoch + 1}/{cfg.epochs}: loss {history['loss'][-1]:.4f}, val_loss "
                 f"{val_loss:.4f}, {seconds[-1]:.2f}s")
        if val_loss < best[0]:  # early stopping on validation only; keep the best weights
            best, waited = (val_loss, copy.deepcopy(model.state_dict()), epoch), 0
        else:
            waited += 1
            if waited >= cfg.patience:
                break
    model.load_state_dict(best[1])
    return model.eval(), history, seconds, best[2]


def main(argv=None) -> dict:
    # No --resume: a whole run (every seed) takes about a minute on a CPU.
    cfg, args = parse_stage_args(ForecastConfig, __doc__.split("\n\n")[0], SMOKE_OVERRIDES, argv,
                                 resumable=False)
    if cfg.arch == "transformer" and cfg.d_model % cfg.heads:
        raise UserError(f"--d-model {cfg.d_model} must be a multiple of --heads {cfg.heads}")
    if cfg.arch == "lstm" and cfg.patch != 1:
        raise UserError(f"--patch {cfg.patch} is for the transformer; the lstm reads one day at a time")
    if cfg.patch < 1 or cfg.lookback % cfg.patch:
        raise UserError(f"--lookback {cfg.lookback} must be a multiple of --patch {cfg.patch} "
                        "(a whole number of tokens, each of at least one day)")
    rt = parallel.setup(cfg)  # this process (alone, or one of torchrun's), device, precision
    device = rt.device
    out = files.run_dir(cfg.out_dir, cfg.run_name)
    data = load_dataset(cfg, log=rt.print)  # the main series' windows, plus any --pool's in training
    rt.print(f"{windows.describe(data, cfg.csv or cfg.ticker)} | {cfg.arch} on {rt.describe()}")
    if rt.main:
        files.write_json(out / "config.json", {**dataclasses.asdict(cfg), "smoke": args.smoke})

    runs = SeedRuns(data, cfg.ticker)
    curves = event_writer(out, cfg.tensorboard, rt.main)  # a no-op with --no-tensorboard
    for i in range(cfg.seeds):
        seed = cfg.seed + i
        rt.print(f"--- seed {seed} ({i + 1}/{cfg.seeds}) ---")
        model, history, seconds, best_epoch = train_one_seed(cfg, data, seed, rt, curves)
        if not rt.main:  # rank 0 alone scores, plots and writes the results
            continue
        with torch.no_grad():
            latency = forecast.latency_ms(lambda w, m=model: m(torch.from_numpy(w).to(device)),
                                          data.test.x)
        runs.add(seed, model, data.to_price(predict(model, data.val.x, device), data.val),
                 data.to_price(predict(model, data.test.x, device), data.test),  # (n, horizon)
                 history, seconds, best_epoch, latency)
    curves.close()
    rt.close()
    if not rt.main:
        return {}
    result = runs.result(params=devices.count_params(runs.model), model=cfg.model,
                         recipe=cfg.recipe())
    if cfg.arch == "transformer":
        result["attention"] = attention_report(runs.model, data, device, out, cfg.ticker)
    result["saliency"] = saliency_by_lag(runs.model, data.test.x,
                                         features.FEATURES.index("log_return"), device)
    plot_saliency(result["saliency"], out / "saliency_by_lag.png",
                  f"{cfg.ticker}: {cfg.arch} forecast's |gradient| by lag, {len(data.test.x)} test days")
    files.save_checkpoint(out / "model.pt", {"model_state": runs.model.state_dict(),
                                             "model_config": cfg.model_config(len(data.features)),
                                             "seed": result["selected_seed"]})
    windows.save_preprocessing(data, out / windows.PREPROCESSING)
    runs.save(out, result, label="transformer" if cfg.arch == "transformer" else "LSTM (PyTorch)",
              title=f"CodeLLM {cfg.arch}")
    return result


if __name__ == "__main__":
    run_main(main)
