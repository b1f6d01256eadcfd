"""Train the LSTM forecaster of tomorrow's close on GOOG (or your own prices) and judge it
against naive baselines on a held-out test period.

    cd MemoryLLM
    python train.py                       # bundled GOOG 2004-2013, 3 seeds, a few minutes
    python train.py --attention           # LSTM with additive attention over its outputs
    python train.py --bidirectional --layers 2 --units 64
    python train.py --ticker MSFT         # or --csv my_prices.csv, or --source yfinance
    python train.py --smoke               # seconds: tiny model, one seed, every artifact

A run writes results/<run-name>/: config.json, metrics.json (per seed, mean and std, and the
baselines), history.json, predictions.png, loss_curve.png, model.keras and preprocessing.joblib
(the scalers and feature list that predict.py needs).
"""

from __future__ import annotations

import dataclasses
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # before TensorFlow is imported
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

import joblib  # noqa: E402
import keras  # noqa: E402
import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))  # run from any folder

from config import SMOKE_OVERRIDES, MemoryConfig  # noqa: E402
from model import build_model  # noqa: E402

from shared import features, forecast, market, plotting, training, windows  # noqa: E402
from shared.config import parse_stage_args  # noqa: E402
from shared.errors import run_main  # noqa: E402


class EpochTimer(keras.callbacks.Callback):
    """Wall-clock seconds of each epoch, for the speed comparison with stage 4."""

    def on_train_begin(self, logs=None):
        self.seconds = []

    def on_epoch_begin(self, epoch, logs=None):
        self.started = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append(time.perf_counter() - self.started)


def train_one_seed(cfg: MemoryConfig, data: windows.Dataset, seed: int, verbose: int):
    keras.utils.set_random_seed(seed)
    model = build_model(cfg.lookback, len(data.features), cfg.layers, cfg.units, cfg.dense_units,
                        cfg.dropout, cfg.bidirectional, cfg.attention, cfg.lr)
    timer = EpochTimer()
    callbacks = [  # both watch the validation split only; the test split is not touched here
        keras.callbacks.EarlyStopping(monitor="val_loss", patience=cfg.patience,
                                      restore_best_weights=True),
        keras.callbacks.ReduceLROnPlateau(monitor="val_loss", factor=0.5,
                                          patience=max(1, cfg.patience // 2)),
        timer,
    ]
    fit = model.fit(data.train.x, data.train.y, validation_data=(data.val.x, data.val.y),
                    epochs=cfg.epochs, batch_size=cfg.batch_size, shuffle=True,
                    callbacks=callbacks, verbose=verbose)
    return model, fit.history, timer.seconds


def summarise(per_seed: list[dict]) -> dict:
    """Mean and standard deviation over seeds of every metric."""
    keys = per_seed[0].keys()
    out = {}
    for key in keys:
        values = np.array([m[key] for m in per_seed], dtype=np.float64)
        out[f"{key}_mean"], out[f"{key}_std"] = float(values.mean()), float(values.std())
    return out


def main(argv=None) -> dict:
    # No --resume: a whole run (every seed) takes well under a minute on a CPU.
    cfg, args = parse_stage_args(MemoryConfig, __doc__.split("\n\n")[0], SMOKE_OVERRIDES, argv,
                                 resumable=False)
    if cfg.run_name is None:
        cfg.run_name = f"smoke-{cfg.model}" if args.smoke else cfg.model
    out = training.run_dir(cfg.out_dir, cfg.run_name)
    prices = market.load_prices(cfg.source, cfg.ticker, cfg.csv, cfg.start, cfg.end)
    frame = features.add_indicators(prices)
    data = windows.make_dataset(frame, cfg.lookback, cfg.target, features.FEATURES)
    print(f"{cfg.ticker if not cfg.csv else cfg.csv}: {len(prices):,} days | windows: train "
          f"{len(data.train.y)} ({data.train.dates[0].date()}..{data.train.dates[-1].date()}), "
          f"val {len(data.val.y)}, test {len(data.test.y)} ({data.test.dates[0].date()}.."
          f"{data.test.dates[-1].date()}) | target: next-day {cfg.target}")
    training.write_json(out / "config.json", {**dataclasses.asdict(cfg), "smoke": args.smoke})

    per_seed, histories, epoch_seconds, best = [], [], [], None
    started = time.perf_counter()
    for i in range(cfg.seeds):
        seed = cfg.seed + i
        print(f"--- seed {seed} ({i + 1}/{cfg.seeds}) ---", flush=True)
        model, history, seconds = train_one_seed(cfg, data, seed, verbose=2)
        val_pred = data.to_price(model.predict(data.val.x, verbose=0).ravel(), data.val)
        test_pred = data.to_price(model.predict(data.test.x, verbose=0).ravel(), data.test)
        metrics = forecast.price_metrics(data.test.close, test_pred, data.test.prev_close)
        metrics.update(forecast.price_metrics(data.val.close, val_pred, data.val.prev_close,
                                              prefix="val"))
        metrics.update(seed=seed, epochs=len(seconds), seconds_per_epoch=float(np.mean(seconds)))
        per_seed.append(metrics)
        histories.append(history)
        epoch_seconds += seconds
        print(f"seed {seed}: test RMSE {metrics['test_rmse']:.2f}, Theil's U "
              f"{metrics['test_theil_u']:.3f}, direction {metrics['test_directional_accuracy']:.1%}")
        # Keep the seed with the best *validation* RMSE for predict.py and the plots.
        if best is None or metrics["val_rmse"] < best[0]["val_rmse"]:
            best = (metrics, model, test_pred, i)
    train_seconds = time.perf_counter() - started

    baselines = {name: forecast.price_metrics(data.test.close, pred, data.test.prev_close)
                 for name, pred in forecast.baseline_predictions(data, data.test).items()}
    summary = summarise([{k: v for k, v in m.items() if k.startswith("test_")} for m in per_seed])
    result = {
        **summary, "per_seed": per_seed, "baselines": baselines,
        "params": int(best[1].count_params()), "seeds": cfg.seeds,
        "seconds_per_epoch": float(np.mean(epoch_seconds)), "train_seconds": round(train_seconds, 2),
        "test_start": str(data.test.dates[0].date()), "test_end": str(data.test.dates[-1].date()),
        "test_days": len(data.test.y), "model": cfg.model, "target": cfg.target,
        "selected_seed": best[0]["seed"],
    }
    training.write_json(out / "metrics.json", result)
    training.write_json(out / "history.json", {"seeds": histories})
    best[1].save(out / "model.keras")
    joblib.dump({"feature_scaler": data.feature_scaler, "target_scaler": data.target_scaler,
                 "features": data.features, "lookback": cfg.lookback, "target": cfg.target},
                out / "preprocessing.joblib")
    plotting.plot_forecast(data.test.dates, data.test.close,
                           {f"LSTM (seed {best[0]['seed']})": best[2],
                            "persistence (tomorrow = today)": data.test.prev_close},
                           out / "predictions.png",
                           title=f"{cfg.ticker} test period: next-day close")
    chosen = histories[best[3]]
    plotting.plot_loss_curves({"step": list(range(1, len(chosen["loss"]) + 1)),
                               "train_loss": chosen["loss"],
                               "val_step": list(range(1, len(chosen["val_loss"]) + 1)),
                               "val_loss": chosen["val_loss"]},
                              out / "loss_curve.png", xlabel="epoch",
                              title=f"MemoryLLM: loss per epoch (seed {best[0]['seed']})",
                              ylabel=f"MSE of the scaled {cfg.target}")
    p = baselines["persistence"]
    print(f"\ntest RMSE {result['test_rmse_mean']:.2f} +- {result['test_rmse_std']:.2f} "
          f"(persistence {p['test_rmse']:.2f}) | Theil's U {result['test_theil_u_mean']:.3f} "
          f"+- {result['test_theil_u_std']:.3f} | direction "
          f"{result['test_directional_accuracy_mean']:.1%} | {train_seconds:.0f}s")
    print(f"results in {out}")
    return result


if __name__ == "__main__":
    run_main(main)
