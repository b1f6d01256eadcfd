"""Train the LSTM forecaster of tomorrow's close on GOOG (or your own prices) and judge it
against naive baselines on a held-out test period.

    cd MemoryLLM
    python train.py                       # bundled GOOG 2004-2013, 3 seeds, a few minutes
    python train.py --attention           # LSTM with additive attention over its outputs
    python train.py --bidirectional --layers 2 --units 64
    python train.py --ticker MSFT         # or --csv my_prices.csv, or --source yfinance
    python train.py --smoke               # seconds: tiny model, one seed, every artifact
    python train.py --distribute mirrored # one replica per visible GPU; see docs/scaling.md

A run writes results/<run-name>/: config.json, metrics.json (per seed, mean and std, and the
baselines), predictions.csv (every seed's forecast of every test day), history.json,
predictions.png, loss_curve.png, saliency_by_lag.png (which days the forecast's gradient points
at, as stage 4's), model.keras and preprocessing.json (the scalers and feature list that
predict.py needs), and unless --no-tensorboard the live curves in tensorboard/seed-<seed>/
(`tensorboard --logdir results`: each seed's train and validation loss, epoch by epoch).
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # before TensorFlow is imported
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

import keras
import numpy as np

from config import DENSE_INITIALISERS, INITIALISERS, LOSS, SMOKE_OVERRIDES, MemoryConfig, run_label
from model import build_model, training_callbacks
from saliency import saliency_by_lag

from shared.prices import features, forecast, windows
from shared.prices.attribution import plot_saliency
from shared.prices.data import load_dataset
from shared.prices.runs import SeedRuns
from shared.runtime import files
from shared.runtime.config import parse_stage_args
from shared.runtime.curves import event_folder
from shared.runtime.errors import UserError, run_main


class EpochTimer(keras.callbacks.Callback):
    """Wall-clock seconds of each epoch, for the speed comparison with stage 4."""

    def on_train_begin(self, logs=None):
        self.seconds = []

    def on_epoch_begin(self, epoch, logs=None):
        self.started = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append(time.perf_counter() - self.started)


def choose_device(name: str) -> None:
    """--device: hide the GPUs for cpu; for gpu, fail at once when TensorFlow sees none."""
    if name == "auto":
        return
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    if name == "cpu":
        tf.config.set_visible_devices([], "GPU")
    elif not gpus:
        raise UserError("--device gpu: TensorFlow sees no GPU (make setup installs tensorflow-cpu; "
                        "docs/scaling.md says how to install the GPU build)")


def distribution(name: str):
    """The scope to build the model in, and the number of replicas. MirroredStrategy copies
    the model onto every visible GPU, splits each --batch-size batch between the copies and
    sums their gradients; Keras's fit() needs nothing else."""
    if name == "none":
        return contextlib.nullcontext(), 1
    import tensorflow as tf

    strategy = tf.distribute.MirroredStrategy()
    return strategy.scope(), strategy.num_replicas_in_sync


def train_one_seed(cfg: MemoryConfig, data: windows.Dataset, seed: int, verbose: int, out):
    keras.utils.set_random_seed(seed)
    scope, _ = distribution(cfg.distribute)
    with scope:  # variables created here are mirrored on every replica
        model = build_model(cfg.lookback, len(data.features), cfg.layers, cfg.units,
                            cfg.dense_units, cfg.dropout, cfg.bidirectional, cfg.attention,
                            optimizer=cfg.optimizer_settings(), loss=LOSS,
                            lstm_init=INITIALISERS, dense_init=DENSE_INITIALISERS)
    timer = EpochTimer()
    callbacks = [*training_callbacks(cfg.callback_settings()), timer]  # on validation only
    if cfg.tensorboard:  # live curves: one TensorBoard run per seed, its train/ and validation/
        callbacks.append(keras.callbacks.TensorBoard(log_dir=event_folder(out) / f"seed-{seed}",
                                                     write_graph=False))
    fit = model.fit(data.train.x, data.train.y, validation_data=(data.val.x, data.val.y),
                    epochs=cfg.epochs, batch_size=cfg.batch_size, shuffle=True,
                    callbacks=callbacks, verbose=verbose)
    return model, fit.history, timer.seconds


def main(argv=None) -> dict:
    # No --resume: a whole run (every seed) takes well under a minute on a CPU.
    cfg, args = parse_stage_args(MemoryConfig, __doc__.split("\n\n")[0], SMOKE_OVERRIDES, argv,
                                 resumable=False)
    choose_device(cfg.device)
    out = files.run_dir(cfg.out_dir, cfg.run_name)
    data = load_dataset(cfg)  # the main series' windows, plus any --pool's in training
    replicas = distribution(cfg.distribute)[1]
    print(windows.describe(data, cfg.csv or cfg.ticker)
          + (f" | MirroredStrategy, {replicas} replica(s)" if cfg.distribute != "none" else ""))
    files.write_json(out / "config.json", {**dataclasses.asdict(cfg), "smoke": args.smoke})

    runs = SeedRuns(data, cfg.ticker)
    for i in range(cfg.seeds):
        seed = cfg.seed + i
        print(f"--- seed {seed} ({i + 1}/{cfg.seeds}) ---", flush=True)
        model, history, seconds = train_one_seed(cfg, data, seed, verbose=2, out=out)
        runs.add(seed, model,
                 data.to_price(model.predict(data.val.x, verbose=0).ravel(), data.val),
                 data.to_price(model.predict(data.test.x, verbose=0).ravel(), data.test),
                 history, seconds,
                 best_epoch=int(np.argmin(history["val_loss"])),  # the weights EarlyStopping kept
                 latency_ms=forecast.latency_ms(model.predict_on_batch, data.test.x))
    result = runs.result(params=int(runs.model.count_params()), model=cfg.model,
                         replicas=replicas, recipe=cfg.recipe())
    result["saliency"] = saliency_by_lag(runs.model, data.test.x, features.FEATURES.index("log_return"))
    plot_saliency(result["saliency"], out / "saliency_by_lag.png",
                  f"{cfg.ticker}: {cfg.model} forecast's |gradient| by lag, {len(data.test.x)} test days")
    runs.model.save(out / "model.keras")
    windows.save_preprocessing(data, out / windows.PREPROCESSING)
    runs.save(out, result, label=run_label(cfg.bidirectional, cfg.attention), title="MemoryLLM")
    return result


if __name__ == "__main__":
    run_main(main)
