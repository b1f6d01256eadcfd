"""Write the results sections of MemoryLLM/README.md from the committed reference run.

    python MemoryLLM/report.py           # after `make bench` has written results/reference-lstm/
    python MemoryLLM/report.py --check   # exit 1 if the README is out of date (used by tests)
    python MemoryLLM/report.py --run-dir results/smoke-lstm --readme /tmp/README.md

Every sentence is computed from the run's metrics.json, history.json, config.json and
predictions.csv; the page's Diebold-Mariano tests are Holm-corrected together. The variants
section reads the --attention and --bidirectional reference runs beside it
(results/reference-lstm-attention/, results/reference-lstm-bidirectional/), and says how to
train one that is missing. It also redraws predictions.png of each of these runs from its
predictions.csv (shared.prices.runs.draw_predictions, what train.py draws), so that a change to
the plot needs no retraining.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

from shared.prices import forecast, runs
from shared.runtime import files
from shared.runtime.errors import UserError

from tools import reporting
from tools.loader import load_stage_config

STAGE_DIR = Path(__file__).resolve().parent

RUN = STAGE_DIR / "results" / "reference-lstm"
ALPHA = 0.05  # the page's significance level, after the Holm correction
BASELINES = ("persistence", "drift", "ridge")

# The stage's variants: flag -> (reference run, beside the plain one; label on the page).
VARIANTS = {"attention": ("reference-lstm-attention", "LSTM + attention"),
            "bidirectional": ("reference-lstm-bidirectional", "bidirectional LSTM")}
# Settings a variant's run must share with the plain run for the two to be compared.
SAME_DATA = ("source", "ticker", "csv", "start", "end", "lookback", "target", "seeds", "seed")

FORMATS = {"rmse": "{:.2f}", "mae": "{:.2f}", "mape": "{:.2f}", "r2": "{:.3f}",
           "directional_accuracy": "{:.1%}", "theil_u": "{:.3f}"}


def pm(m: dict, key: str, fmt: str) -> str:
    """mean ± sample std over seeds; the mean alone for a single seed (no spread exists)."""
    std = m[f"{key}_std"]
    return fmt.format(m[f"{key}_mean"]) + ("" if std is None else f" ± {fmt.format(std)}")


def tests(m: dict, variants: dict[str, dict] | None = None) -> dict[str, dict]:
    """The page's DM tests, with Holm-adjusted p-values across all of them: the LSTM and the
    baselines against persistence (the LSTM's on its seed-averaged losses), and for each
    variant ({label: load_variant's dict}) its test against persistence (key: the label) and
    against the plain LSTM (key: "<label> vs LSTM"), both on seed-averaged losses."""
    raw = {"LSTM": (m["test_dm_stat"], m["test_dm_pvalue"]),
           **{name: (m["baselines"][name]["test_dm_stat"], m["baselines"][name]["test_dm_pvalue"])
              for name in BASELINES[1:]}}
    for label, v in (variants or {}).items():
        raw[label] = (v["m"]["test_dm_stat"], v["m"]["test_dm_pvalue"])
        raw[f"{label} vs LSTM"] = v["vs_lstm"]
    adjusted = forecast.holm([p for _, p in raw.values()])
    return {name: {"stat": s, "p": p, "holm": h}
            for (name, (s, p)), h in zip(raw.items(), adjusted, strict=True)}


def verdict(test: dict) -> str:
    if test["holm"] > ALPHA:
        return "no significant difference from persistence"
    return f"significantly {'more' if test['stat'] < 0 else 'less'} accurate than persistence"


def results_table(m: dict, t: dict | None = None) -> str:
    t = t or tests(m)
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


def summary(m: dict, t: dict | None = None) -> str:
    t = t or tests(m)
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


def seed_losses(predictions: pd.DataFrame) -> np.ndarray:
    """Each test day's squared error of the forecast, averaged over seeds."""
    seeds = predictions[[c for c in predictions.columns if c.startswith("seed_")]].to_numpy()
    return ((seeds - predictions["actual"].to_numpy()[:, None]) ** 2).mean(axis=1)


def load_variant(run: Path, config: dict, predictions: pd.DataFrame) -> dict | None:
    """A variant's reference run in `run`, or None when it has not been trained: its metrics
    and its DM test against the plain LSTM (whose config.json and predictions.csv are given)
    on the seed-averaged squared errors of the same test days."""
    paths = [run / name for name in ("metrics.json", "config.json", "predictions.csv")]
    if not all(p.is_file() for p in paths):
        return None
    m, own, frame = files.read_json(paths[0]), files.read_json(paths[1]), pd.read_csv(paths[2])
    differ = [k for k in SAME_DATA if own.get(k) != config.get(k)]
    if differ or not frame["date"].equals(predictions["date"]):
        what = ", ".join(differ) or "test days"
        raise UserError(f"{run} was not trained on the plain LSTM's data (different {what}); "
                        "retrain it with the default settings and its variant flag")
    if "test_dm_pvalue" not in m:
        raise UserError(f"{paths[0]} predates the seed-averaged DM test; retrain it")
    return {"m": m, "vs_lstm": forecast.diebold_mariano_losses(seed_losses(frame), seed_losses(predictions))}


def p_value(p: float) -> str:
    return "< 0.001" if p < 0.001 else f"{p:.3f}"


def p_is(p: float, name: str = "p =") -> str:
    """"p = 0.191", or "p < 0.001" where three decimals would read 0.000."""
    return f"{name.removesuffix(' =')} < 0.001" if p < 0.001 else f"{name} {p:.3f}"


def finding(test: dict, other: str) -> str:
    """What a DM test (Holm-adjusted at the page's level) finds about a model against `other`."""
    if test["holm"] > ALPHA:
        return f"no significant difference from {other}"
    return f"it significantly {'more' if test['stat'] < 0 else 'less'} accurate than {other}"


def variant_sentence(label: str, v: dict, m: dict, t: dict) -> str:
    """How a variant compares with the plain LSTM: RMSE difference and the DM test between
    the two on their seed-averaged squared errors, Holm-adjusted with the page's tests; then
    its own test against persistence."""
    test, own = t[f"{label} vs LSTM"], t[label]
    diff = v["m"]["test_rmse_mean"] - m["test_rmse_mean"]
    position = f"{abs(diff):.2f} {'above' if diff > 0 else 'below'}" if diff else "level with"
    return (f"The {label} has test RMSE {v['m']['test_rmse_mean']:.2f}, {position} the plain LSTM's "
            f"{m['test_rmse_mean']:.2f} (means over seeds); on their squared errors averaged over "
            f"seeds, the Diebold-Mariano test finds {finding(test, 'the plain LSTM')} "
            f"({p_is(test['p'])}, {p_is(test['holm'], 'Holm-adjusted')}), and finds "
            f"{finding(own, 'persistence')} ({p_is(own['p'])}, {p_is(own['holm'], 'Holm-adjusted')}).")


def variants_section(m: dict, variants: dict[str, dict | None], t: dict) -> str:
    """The variants' table (the plain LSTM first) and one sentence per variant; a variant whose
    reference run is missing gets the command that trains it instead."""
    def row(label: str, r: dict) -> list:
        dm = t[label]
        return [label, pm(r, "test_rmse", "{:.2f}"), pm(r, "test_theil_u", "{:.3f}"),
                pm(r, "test_directional_accuracy", "{:.1%}"), p_value(dm["p"]), p_value(dm["holm"]),
                r["params"], f"{r['seconds_per_epoch']:.2f}"]

    present = {label: v for label, v in variants.items() if v is not None}
    rows = [row("LSTM", m), *(row(label, v["m"]) for label, v in present.items())]
    seeds = f"mean ± std over {m['seeds']} seeds" if m["seeds"] > 1 else "1 seed"
    parts = [reporting.markdown_table(
        ["variant", f"test RMSE ({seeds})", "Theil's U", "direction", "DM p vs persistence", "Holm p",
         "params", "s per epoch"], rows)]
    parts += [variant_sentence(label, v, m, t) for label, v in present.items()]
    for flag, (run, label) in VARIANTS.items():
        if label not in present:
            parts.append(f"No reference run of the {label} yet: train it with `cd MemoryLLM && python "
                         f"train.py --{flag} --run-name {run}`, then run `python MemoryLLM/report.py`.")
    return "\n\n".join(parts)


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
    config, predictions = files.read_json(paths[2]), pd.read_csv(paths[3])
    variants = {label: load_variant(run.parent / folder, config, predictions)
                for folder, label in VARIANTS.values()}
    t = tests(m, {label: v for label, v in variants.items() if v is not None})
    return {"results-summary": summary(m, t), "results-table": results_table(m, t),
            "results-reading": reading(m, files.read_json(paths[1]), config, predictions),
            "results-variants": variants_section(m, variants, t)}


def redraw(run: Path) -> list[Path]:
    """predictions.png and loss_curve.png of `run` and of each variant's run beside it, from
    their saved files."""
    label = load_stage_config(STAGE_DIR / "config.py").run_label  # by path: stages share names
    drawn = []
    for folder in (run, *(run.parent / name for name, _ in VARIANTS.values())):
        if all((folder / name).is_file() for name in ("config.json", "metrics.json", "predictions.csv")):
            config = files.read_json(folder / "config.json")
            drawn.append(runs.draw_predictions(folder, label(config["bidirectional"], config["attention"]),
                                               config["ticker"]))
            drawn.append(runs.draw_loss_curve(folder, "MemoryLLM"))  # the title train.py gives it
    return drawn


def main(argv=None) -> int:
    parser = reporting.report_parser(__doc__)
    parser.add_argument("--run-dir", default=str(RUN), help="the run whose results are written")
    parser.add_argument("--readme", default=str(STAGE_DIR / "README.md"),
                        help="the Markdown file with the results-* sections to fill")
    args = parser.parse_args(argv)
    status = reporting.write_report(args.readme, lambda: sections(Path(args.run_dir)), check=args.check)
    if status == 0 and not args.check:
        redraw(Path(args.run_dir))
    return status


if __name__ == "__main__":
    sys.exit(main())
