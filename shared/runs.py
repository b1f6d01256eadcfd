"""A forecasting run over several seeds, recorded the same way by stages 3 and 4, whatever the
framework: per-seed metrics, their mean and std, the baselines, and the files a run writes.

    runs = SeedRuns(data, ticker="GOOG")
    for seed in seeds:
        ...train...
        runs.add(seed, model, val_closes, test_closes, history, epoch_seconds, best_epoch, latency)
    result = runs.result(params=..., model="lstm", target="return")
    runs.save(out, result, label="LSTM", title="MemoryLLM")
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from shared import forecast, plotting, training


def first_day(closes: np.ndarray) -> np.ndarray:
    """Forecast closes (n,) or (n, horizon) -> the first forecast day's, (n,)."""
    return closes if closes.ndim == 1 else closes[:, 0]


class SeedRuns:
    def __init__(self, data, ticker: str):
        self.data, self.ticker = data, ticker
        self.per_seed: list[dict] = []
        self.histories: list[dict] = []
        self.epoch_seconds: list[float] = []
        self.test_preds: dict[str, np.ndarray] = {}
        self.best = None  # (metrics, model, first-day test forecast, index) of the kept seed
        self.started = time.perf_counter()

    def add(self, seed: int, model, val_closes, test_closes, history: dict, seconds: list[float],
            best_epoch: int, latency_ms: float) -> dict:
        """Score one seed's forecasts (closes); `best_epoch` counts from 0."""
        data = self.data
        val_closes, test_closes = np.asarray(val_closes), np.asarray(test_closes)
        metrics = forecast.price_metrics(data.test.close, first_day(test_closes), data.test.prev_close)
        metrics.update(forecast.price_metrics(data.val.close, first_day(val_closes),
                                              data.val.prev_close, prefix="val"))
        metrics.update(seed=seed, epochs=len(seconds), seconds_per_epoch=float(np.mean(seconds)),
                       best_epoch=best_epoch + 1,
                       seconds_to_best=float(np.sum(seconds[: best_epoch + 1])),
                       latency_ms=latency_ms)
        if test_closes.ndim == 2 and test_closes.shape[1] > 1:  # error by day ahead
            metrics["test_rmse_by_step"] = np.sqrt(
                np.mean((test_closes - data.test.future_close) ** 2, axis=0)).tolist()
        self.per_seed.append(metrics)
        self.histories.append(history)
        self.epoch_seconds += list(seconds)
        self.test_preds[f"seed_{seed}"] = first_day(test_closes)
        print(f"seed {seed}: test RMSE {metrics['test_rmse']:.2f}, Theil's U "
              f"{metrics['test_theil_u']:.3f}, direction {metrics['test_directional_accuracy']:.1%}")
        # Keep the seed with the best *validation* RMSE for predict.py and the plots.
        if self.best is None or metrics["val_rmse"] < self.best[0]["val_rmse"]:
            self.best = (metrics, model, first_day(test_closes), len(self.per_seed) - 1)
        return metrics

    @property
    def model(self):
        """The kept seed's model."""
        return self.best[1]

    def result(self, **extra) -> dict:
        """metrics.json: mean and std over seeds, each seed, the baselines, and `extra`."""
        data = self.data
        baselines = {name: forecast.price_metrics(data.test.close, pred, data.test.prev_close)
                     for name, pred in forecast.baseline_predictions(data, data.test).items()}
        if data.horizon > 1:
            baselines["persistence"]["test_rmse_by_step"] = np.sqrt(np.mean(
                (data.test.prev_close[:, None] - data.test.future_close) ** 2, axis=0)).tolist()
        summary = forecast.summarise_seeds(
            [{k: v for k, v in m.items() if k in ("seconds_to_best", "latency_ms")
              or (k.startswith("test_") and k != "test_rmse_by_step")} for m in self.per_seed])
        return {
            **summary, "per_seed": self.per_seed, "baselines": baselines,
            "seeds": len(self.per_seed), "seconds_per_epoch": float(np.mean(self.epoch_seconds)),
            "train_seconds": round(time.perf_counter() - self.started, 2),
            "test_start": str(data.test.dates[0].date()), "test_end": str(data.test.dates[-1].date()),
            "test_days": len(data.test.y), "target": data.target, "horizon": data.horizon,
            "selected_seed": self.best[0]["seed"], **extra,
        }

    def save(self, out: Path, result: dict, label: str, title: str) -> None:
        """Write metrics.json, history.json, predictions.csv and the two plots; print a summary."""
        training.write_json(out / "metrics.json", result)
        training.write_json(out / "history.json", {"seeds": self.histories})
        training.write_csv(out / "predictions.csv",
                           forecast.predictions_frame(self.data.test, self.test_preds))
        seed = self.best[0]["seed"]
        plotting.plot_forecast(self.data.test.dates, self.data.test.close,
                               {f"{label} (seed {seed})": self.best[2],
                                "persistence (tomorrow = today)": self.data.test.prev_close},
                               out / "predictions.png",
                               title=f"{self.ticker} test period: next-day close")
        chosen = self.histories[self.best[3]]
        epochs = list(range(1, len(chosen["loss"]) + 1))
        plotting.plot_loss_curves({"step": epochs, "train_loss": chosen["loss"], "val_step": epochs,
                                   "val_loss": chosen["val_loss"]},
                                  out / "loss_curve.png", xlabel="epoch",
                                  title=f"{title}: loss per epoch (seed {seed})",
                                  ylabel=f"MSE of the scaled {self.data.target}")
        p = result["baselines"]["persistence"]
        print(f"\ntest RMSE {result['test_rmse_mean']:.2f} +- {result['test_rmse_std']:.2f} "
              f"(persistence {p['test_rmse']:.2f}) | Theil's U {result['test_theil_u_mean']:.3f} "
              f"+- {result['test_theil_u_std']:.3f} | direction "
              f"{result['test_directional_accuracy_mean']:.1%} | {result['train_seconds']:.0f}s")
        print(f"results in {out}")
