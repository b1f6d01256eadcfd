"""Write the results sections of MemoryLLM/README.md from the committed reference run.

    python MemoryLLM/report.py           # after `make bench` has written results/reference-lstm/
    python MemoryLLM/report.py --check   # exit 1 if the README is out of date (used by tests)
    python MemoryLLM/report.py --run-dir results/smoke-lstm --readme /tmp/README.md

Every sentence is computed from the run's metrics.json, history.json, config.json and
predictions.csv; the page's Diebold-Mariano tests are Holm-corrected together.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

from shared.prices import forecast
from shared.runtime import files
from shared.runtime.errors import UserError

from tools import reporting

STAGE_DIR = Path(__file__).resolve().parent

RUN = STAGE_DIR / "results" / "reference-lstm"
ALPHA = 0.05  # the page's significance level, after the Holm correction
BASELINES = ("persistence", "drift", "ridge")

FORMATS = {"rmse": "{:.2f}", "mae": "{:.2f}", "mape": "{:.2f}", "r2": "{:.3f}",
           "directional_accuracy": "{:.1%}", "theil_u": "{:.3f}"}


def pm(m: dict, key: str, fmt: str) -> str:
    """mean ± sample std over seeds; the mean alone for a single seed (no spread exists)."""
    std = m[f"{key}_std"]
    return fmt.format(m[f"{key}_mean"]) + ("" if std is None else f" ± {fmt.format(std)}")


def tests(m: dict) -> dict[str, dict]:
    """The page's DM tests against persistence (the LSTM's on its seed-averaged losses), with
    Holm-adjusted p-values across all of them."""
    raw = {"LSTM": (m["test_dm_stat"], m["test_dm_pvalue"]),
           **{name: (m["baselines"][name]["test_dm_stat"], m["baselines"][name]["test_dm_pvalue"])
              for name in BASELINES[1:]}}
    adjusted = forecast.holm([p for _, p in raw.values()])
    return {name: {"stat": s, "p": p, "holm": h}
            for (name, (s, p)), h in zip(raw.items(), adjusted, strict=True)}


def verdict(test: dict) -> str:
    if test["holm"] > ALPHA:
        return "no significant difference from persistence"
    return f"significantly {'more' if test['stat'] < 0 else 'less'} accurate than persistence"


def results_table(m: dict) -> str:
    t = tests(m)
    seeds = f"mean ± std, {m['seeds']} seeds" if m["seeds"] > 1 else "1 seed"
    rows = [[f"**LSTM** ({seeds})", *(pm(m, f"test_{k}", f) for k, f in FORMATS.items()),
             f"{t['LSTM']['p']:.3f}", f"{t['LSTM']['holm']:.3f}"]]
    for name in BASELINES:
        b = m["baselines"][name]
        # Persistence never predicts a move and is the reference of U and DM: nothing to show.
        flat = name == "persistence"
        label = (f"ridge (penalty {b['alpha']:g}, chosen on validation)" if name == "ridge" else
                 "drift (direction: always the training drift's sign)" if name == "drift" else name)
        rows.append([label, *("n/a" if flat and k == "directional_accuracy" else f.format(b[f"test_{k}"])
                              for k, f in FORMATS.items()),
                     *(("n/a", "n/a") if flat else (f"{t[name]['p']:.3f}", f"{t[name]['holm']:.3f}"))])
    return reporting.markdown_table(
        ["model", "RMSE", "MAE", "MAPE %", "R²", "direction", "Theil's U", "DM p vs persistence",
         "Holm p"], rows)


def ridge_sentence(m: dict) -> str:
    r, u = m["baselines"]["ridge"], m["test_theil_u_mean"]
    edge = " (at the edge of the grid, so the best penalty may lie beyond it)" if r["at_grid_edge"] else ""
    ranking = ("lower than the LSTM's: on this test period the linear model has the smaller RMSE"
               if r["test_theil_u"] < u else "not lower than the LSTM's")
    return (f"A ridge regression on the same windows (penalty {r['alpha']:g}, chosen on the "
            f"validation split from {r['alpha_grid_points']} values between {r['alpha_grid_min']:g} "
            f"and {r['alpha_grid_max']:g}{edge}) has Theil's U {r['test_theil_u']:.3f}, {ranking}.")


def direction_sentence(m: dict) -> str:
    bar, lstm = m["baselines"]["drift"], m["test_directional_accuracy_mean"]
    sign = "a rise" if bar["daily_step"] > 0 else "a fall"
    bar_acc = bar["test_directional_accuracy"]
    if lstm < bar_acc:
        compare = "below the naive bar"
    elif lstm > bar_acc:
        compare = "above the naive bar"
    else:
        compare = "level with the naive bar"
    return (f"The LSTM forecasts the direction of the next day's move right on {lstm:.1%} of test "
            f"days (mean over seeds), {compare}: always predicting the training drift's sign "
            f"({sign}) is right on {bar_acc:.1%}.")


def summary(m: dict) -> str:
    t = tests(m)
    spread = f" ± {m['test_theil_u_std']:.3f} over {m['seeds']} seeds" if m["seeds"] > 1 else " (1 seed)"
    return (f"Test period {m['test_start']} to {m['test_end']} ({m['test_days']} trading days), "
            f"never seen during training or model selection. The LSTM ({m['params']:,} "
            f"parameters, target: next-day {m['target']}) has Theil's U "
            f"{m['test_theil_u_mean']:.3f}{spread} (below 1 would mean a smaller RMSE than "
            f"persistence, tomorrow = today). On its squared errors averaged over seeds, the "
            f"Diebold-Mariano test finds {verdict(t['LSTM'])} (p = {t['LSTM']['p']:.3f}, Holm-adjusted "
            f"{t['LSTM']['holm']:.3f}; Holm-corrected across the {len(t)} tests on this page, at the "
            f"{ALPHA:.0%} level). {ridge_sentence(m)} Training took "
            f"{m['train_seconds']:.0f} s for all seeds, {m['seconds_per_epoch']:.2f} s per epoch on "
            "2 CPU cores.")


def reading(m: dict, history: dict, config: dict, predictions: pd.DataFrame) -> str:
    """What the forecasts and the loss curves show, each clause measured on the run."""
    seeds = predictions[[c for c in predictions.columns if c.startswith("seed_")]].to_numpy()
    previous, actual = predictions["prev_close"].to_numpy(), predictions["actual"].to_numpy()
    forecast_move = np.median(np.abs(seeds.mean(axis=1) - previous))
    actual_move = np.median(np.abs(actual - previous))
    share = forecast_move / actual_move
    size = (f"- On the median test day the forecast (mean of seeds) is {forecast_move:.2f} away from "
            f"today's close, while the actual close moves by {actual_move:.2f}: the forecast moves "
            f"{share:.0%} as far as the price does"
            + (", so it stays close to persistence." if share < 0.5 else "."))
    runs = history["seeds"]
    train_change = np.mean([h["loss"][-1] / h["loss"][0] - 1 for h in runs])
    val_change = np.mean([min(h["val_loss"]) / h["val_loss"][0] - 1 for h in runs])
    epochs = [len(h["loss"]) for h in runs]
    stopped = sum(e < config["epochs"] for e in epochs)
    limit = (f"early stopping ended {'every seed' if stopped == len(epochs) else f'{stopped} of the seeds'}"
             f" before the limit of {config['epochs']} epochs" if stopped else
             f"every seed ran the full {config['epochs']} epochs")
    runs_list = f" ({', '.join(map(str, epochs))} epochs run)" if stopped else ""
    curves = (f"- Loss curves (mean over seeds): the training loss changes by {train_change:+.1%} from "
              f"the first epoch to the last, the validation loss by {val_change:+.1%} from the first "
              f"epoch to its best; {limit}{runs_list}.")
    return "\n".join([size, f"- {direction_sentence(m)}", curves])


def sections(run: Path) -> dict[str, str]:
    """Every generated section of the README, from the run in `run`."""
    paths = [run / name for name in ("metrics.json", "history.json", "config.json", "predictions.csv")]
    missing = [p.name for p in paths if not p.is_file()]
    if missing:
        raise UserError(f"no {', '.join(missing)} in {run}; run `make bench` first")
    m = files.read_json(paths[0])
    if "ridge" not in m["baselines"] or "test_dm_pvalue" not in m:
        raise UserError(f"{paths[0]} predates the ridge baseline and the seed-averaged DM test; "
                        "run `make bench` to regenerate it")
    return {"results-summary": summary(m), "results-table": results_table(m),
            "results-reading": reading(m, files.read_json(paths[1]), files.read_json(paths[2]),
                                       pd.read_csv(paths[3]))}


def main(argv=None) -> int:
    parser = reporting.report_parser(__doc__)
    parser.add_argument("--run-dir", default=str(RUN), help="the run whose results are written")
    parser.add_argument("--readme", default=str(STAGE_DIR / "README.md"),
                        help="the Markdown file with the results-* sections to fill")
    args = parser.parse_args(argv)
    return reporting.write_report(args.readme, lambda: sections(Path(args.run_dir)), check=args.check)


if __name__ == "__main__":
    sys.exit(main())
