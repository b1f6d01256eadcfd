"""A forecasting run over several seeds, recorded the same way by stages 3 and 4, whatever the
framework: per-seed metrics, their mean and sample std, one Diebold-Mariano test on the
seed-averaged losses, the baselines, and the files a run writes.

    runs = SeedRuns(data, ticker="GOOG")
    for seed in seeds:
        ...train...
        runs.add(seed, model, val_closes, test_closes, history, epoch_seconds, best_epoch, latency)
    result = runs.result(params=..., model="lstm", target="return")
    runs.save(out, result, label="LSTM", title="MemoryLLM")

Imported by MemoryLLM/train.py and CodeLLM's forecaster train script.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd

from shared import plotting
from shared.prices import forecast, plots
from shared.runtime import files


def first_day(closes: np.ndarray) -> np.ndarray:
    """Forecast closes (n,) or (n, horizon) -> the first forecast day's, (n,)."""
    return closes if closes.ndim == 1 else closes[:, 0]


def draw_predictions(run: Path, label: str, ticker: str) -> Path:
    """predictions.png of a saved run, from its predictions.csv and metrics.json alone (so a
    report can redraw it without training): the kept seed's error and the ridge's against
    persistence's, and the month around the largest move."""
    frame, m = pd.read_csv(run / "predictions.csv"), files.read_json(run / "metrics.json")
    seed = m["selected_seed"]
    forecasts = {f"{label} (seed {seed}, best on validation)": frame[f"seed_{seed}"].to_numpy()}
    if "ridge" in frame:
        forecasts["ridge (linear baseline)"] = frame["ridge"].to_numpy()
    return plots.plot_against_persistence(
        frame["date"], frame["actual"].to_numpy(), frame["prev_close"].to_numpy(), forecasts,
        run / "predictions.png", title=f"{ticker} test period: does the next-day forecast beat "
                                       "tomorrow = today?", muted=("ridge (linear baseline)",))


def draw_loss_curve(run: Path, title: str) -> Path:
    """loss_curve.png of a saved run, from its history.json and metrics.json alone: the kept
    seed's loss per epoch, with the epoch early stopping kept (best on validation) marked."""
    history, m = files.read_json(run / "history.json")["seeds"], files.read_json(run / "metrics.json")
    index = next(i for i, s in enumerate(m["per_seed"]) if s["seed"] == m["selected_seed"])
    chosen, epochs = history[index], list(range(1, len(history[index]["loss"]) + 1))
    return plotting.plot_loss_curves(
        {"step": epochs, "train_loss": chosen["loss"], "val_step": epochs, "val_loss": chosen["val_loss"]},
        run / "loss_curve.png", xlabel="epoch", title=f"{title}: loss per epoch (seed {m['selected_seed']})",
        ylabel=f"MSE of the scaled {m['target']}", best_step=m["per_seed"][index]["best_epoch"],
        best_label="kept (best on validation)")


def spread(value, fmt: str = "{:.3f}") -> str:
    """A std over seeds for printing: "n/a" when there was one seed."""
    return "n/a" if value is None else fmt.format(value)


class SeedRuns:
    def __init__(self, data, ticker: str):
        self.data, self.ticker = data, ticker
        self.per_seed: list[dict] = []
        self.histories: list[dict] = []
        self.epoch_seconds: list[float] = []
        self.val_preds: dict[str, np.ndarray] = {}
        self.test_preds: dict[str, np.ndarray] = {}
        self.baseline_test_preds: dict[str, np.ndarray] = {}
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
        # The DM test is run once, on the seed-averaged losses (result()); a p-value per seed
        # would only invite averaging p-values.
        for key in ("test_dm_stat", "test_dm_pvalue", "val_dm_stat", "val_dm_pvalue"):
            del metrics[key]
        metrics.update(seed=seed, epochs=len(seconds), seconds_per_epoch=float(np.mean(seconds)),
                       best_epoch=best_epoch + 1,
                       seconds_to_best=float(np.sum(seconds[: best_epoch + 1])),
                       epoch_seconds=[round(float(x), 4) for x in seconds],  # the first one warms up
                       latency_ms=latency_ms)
        if test_closes.ndim == 2 and test_closes.shape[1] > 1:  # error by day ahead
            metrics["test_rmse_by_step"] = np.sqrt(
                np.mean((test_closes - data.test.future_close) ** 2, axis=0)).tolist()
        self.per_seed.append(metrics)
        self.histories.append(history)
        self.epoch_seconds += list(seconds)
        self.val_preds[f"seed_{seed}"] = first_day(val_closes)
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

    def seed_dm(self, split, predictions: dict[str, np.ndarray]) -> tuple[float, float]:
        """DM test against persistence of the squared errors averaged over seeds."""
        return forecast.diebold_mariano_seeds(split.close, np.column_stack(list(predictions.values())),
                                              (split.close - split.prev_close) ** 2)

    def result(self, **extra) -> dict:
        """metrics.json: mean and sample std over seeds of the validation and test metrics,
        one DM test per split on the seed-averaged losses, each seed, the baselines, `extra`."""
        data = self.data
        train_seconds = round(time.perf_counter() - self.started, 2)  # before fitting the ridge
        baselines, self.baseline_test_preds = forecast.baseline_results(data)
        if data.horizon > 1:
            baselines["persistence"]["test_rmse_by_step"] = np.sqrt(np.mean(
                (data.test.prev_close[:, None] - data.test.future_close) ** 2, axis=0)).tolist()
        summary = forecast.seed_summary(self.per_seed)
        test_dm, val_dm = self.seed_dm(data.test, self.test_preds), self.seed_dm(data.val, self.val_preds)
        return {
            **summary, "test_dm_stat": test_dm[0], "test_dm_pvalue": test_dm[1],
            "val_dm_stat": val_dm[0], "val_dm_pvalue": val_dm[1],
            "per_seed": self.per_seed, "baselines": baselines,
            "seeds": len(self.per_seed), "seconds_per_epoch": float(np.mean(self.epoch_seconds)),
            "train_seconds": train_seconds,
            "test_start": str(data.test.dates[0].date()), "test_end": str(data.test.dates[-1].date()),
            "test_days": len(data.test.y), "train_windows": data.main_train,
            "target": data.target, "horizon": data.horizon,
            "selected_seed": self.best[0]["seed"], **extra,
        }

    def save(self, out: Path, result: dict, label: str, title: str) -> None:
        """Write metrics.json, history.json, predictions.csv and the two plots; print a summary."""
        files.write_json(out / "metrics.json", result)
        files.write_json(out / "history.json", {"seeds": self.histories})
        baselines = {k: v for k, v in self.baseline_test_preds.items() if k != "persistence"}
        files.write_csv(out / "predictions.csv",  # prev_close is persistence's forecast
                        forecast.predictions_frame(self.data.test, {**baselines, **self.test_preds}))
        draw_predictions(out, label, self.ticker)  # from the files just written, as a report redraws it
        draw_loss_curve(out, title)
        p, r = result["baselines"]["persistence"], result["baselines"]["ridge"]
        print(f"\ntest RMSE {result['test_rmse_mean']:.2f} +- {spread(result['test_rmse_std'], '{:.2f}')} "
              f"(persistence {p['test_rmse']:.2f}) | Theil's U {result['test_theil_u_mean']:.3f} "
              f"+- {spread(result['test_theil_u_std'])} (ridge {r['test_theil_u']:.3f}) | DM p vs "
              f"persistence {result['test_dm_pvalue']:.3f} | direction "
              f"{result['test_directional_accuracy_mean']:.1%} | {result['train_seconds']:.0f}s")
        print(f"results in {out}")
