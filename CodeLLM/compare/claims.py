"""Stage 3 vs 4 claim by claim: each claim made for transformers over LSTMs, tested where it can
hold, on synthetic series whose best possible forecast is known (shared/prices/synthetic.py),
and, for data scale, on pooled real tickers.

    make claims                                        # the whole study, about 15 minutes on 2 cores
    python CodeLLM/compare/claims.py --parts memory speed   # some parts only (the rest is reused)
    python CodeLLM/compare/claims.py --report          # rewrite the page from the saved results
    python CodeLLM/compare/claims.py --smoke --out-dir /tmp/c --docs-dir /tmp/d   # seconds

The parts, each a question:
    memory   lag L = 1 .. 200: where does recurrence fall off, does attention hold on? And do
             the attention maps (and the LSTMs' gradient saliency) point at the true lag?
    pattern  a 20-day cycle, and the cycle plus memory at lag 5
    speed    seconds per epoch, seconds to the best epoch and ms per forecast, windows 20 .. 480,
             with a patched transformer (several days per token) beside the plain one
    data     training windows 100 .. all: when does each model get within 5% of the optimum?
    pool     GOOG alone against GOOG pooled with AAPL, IBM and MSFT, tested on GOOG's test days

Every model is trained by its own stage's train.py in a subprocess (stages never import each
other), with the stage's defaults: the same windows, scalers, seeds, epochs and early stopping
for all. A finished run is reused when the same command comes again, so an interrupted study
loses one run at most. The results go to results/claims/claims.json; the page is
docs/stage3-vs-stage4.md, whose claims table and evidence sections claims_report.py writes.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from shared.prices import attribution, forecast, synthetic
from shared.runtime import files
from shared.runtime.errors import UserError, run_main

STAGE_DIR = Path(__file__).resolve().parent
ROOT = STAGE_DIR.parents[1]
MEMORY_SCRIPT, FORECASTER = "MemoryLLM/train.py", "CodeLLM/forecaster/train.py"
# key -> (script, flags, label); "patched" gets its --patch per window (PATCH_TOKENS tokens).
MODELS = {
    "keras-lstm": (MEMORY_SCRIPT, [], "Keras LSTM (stage 3)"),
    "torch-lstm": (FORECASTER, ["--arch", "lstm"], "PyTorch LSTM"),
    "transformer": (FORECASTER, ["--arch", "transformer"], "transformer (stage 4)"),
    "patched": (FORECASTER, ["--arch", "transformer"], "patched transformer"),
}
PATCH_TOKENS = 20  # a patched transformer reads every window as 20 tokens
NEAR = 0.05  # "within 5% of the optimum": RMSE / optimal RMSE <= 1.05
FOCUS = 2.0  # a head "points at" the true lag if it gives it twice an even spread's weight
PARTS = ("memory", "pattern", "speed", "data", "pool")
POOL = ["AAPL", "IBM", "MSFT"]
# A run that shares the CPU with another uses one thread (PyTorch gets --threads 1 too).
ONE_THREAD = {"OMP_NUM_THREADS": "1", "TF_NUM_INTRAOP_THREADS": "1", "TF_NUM_INTEROP_THREADS": "1"}


@dataclass
class Study:
    """The grid. Every synthetic series has the same length, noise and strength."""
    days: int = 1400
    lags: tuple = (1, 5, 20, 60)  # at the short window
    short_window: int = 60
    long_lags: tuple = (200,)  # at the long window, with the patched transformer too
    long_window: int = 240
    long_models: tuple = tuple(MODELS)
    long_seeds: int = 1  # the long window's cells cost 4x the short's (the transformer's, 8x)
    models: tuple = ("keras-lstm", "torch-lstm", "transformer")  # the pattern, data and pool parts
    speed_lag: int = 20  # the series of the speed part
    data_lag: int = 1  # the data part's: one that the LSTMs learn too, so that sizes can be compared
    speed_windows: tuple = (20, 60, 240, 480)
    timing_epochs: int = 3
    sizes: tuple = (100, 200, 400)  # training windows (plus all of them)
    pool_flags: tuple = ()
    seeds: int = 2
    epochs: int = 30
    jobs: int = 2
    rescore: bool = False  # read the finished runs again, train nothing
    smoke: bool = False
    flags: list = field(default_factory=list)  # added to every run (--smoke)
    tensorboard: bool = False  # live curves for every run: dozens of event folders, so asked for


# Every part once, in few runs (15): one window for the speed part, one subset for the data part.
SMOKE = dict(days=700, lags=(5,), short_window=20, long_lags=(30,), long_window=40,
             long_models=("torch-lstm", "patched"), models=("torch-lstm", "transformer"),
             speed_lag=5, data_lag=5,
             speed_windows=(20,), sizes=(100,), timing_epochs=2,
             pool_flags=("--start", "2009-06-01"), seeds=1, epochs=2, smoke=True, flags=["--smoke"])


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--parts", nargs="+", default=list(PARTS), choices=PARTS,
                        help="which parts to run; the others are read from the saved results")
    parser.add_argument("--seeds", type=int, default=Study.seeds, help="seeds per model and cell")
    parser.add_argument("--jobs", type=int, default=Study.jobs,
                        help="runs at a time, one thread each (the speed part always runs one at a time)")
    parser.add_argument("--lags", type=int, nargs="+", default=None,
                        help=f"the memory part's lags at the short window (default {Study.lags})")
    parser.add_argument("--smoke", action="store_true", help="tiny series and models: seconds")
    parser.add_argument("--tensorboard", action="store_true",
                        help="let every run write its live curves (runs/<run>/tensorboard/); off "
                             "by default, as the study trains dozens of models")
    parser.add_argument("--report", action="store_true", help="do not train; rewrite the page")
    parser.add_argument("--rescore", action="store_true",
                        help="recompute claims.json from the finished runs, keeping their recorded "
                             "seconds (after a change to what the study reads from a run)")
    parser.add_argument("--check", action="store_true",
                        help="with --report: write nothing, exit 1 if the page is out of date")
    parser.add_argument("--out-dir", default=str(STAGE_DIR / "results"),
                        help="where claims/ (or smoke-claims/) goes")
    parser.add_argument("--docs-dir", default=str(ROOT / "docs"), help="where the page goes")
    args = parser.parse_args(argv)
    if args.check and not args.report:
        raise UserError("--check only goes with --report")
    if args.seeds < 1:
        raise UserError(f"--seeds {args.seeds}: need at least one")
    return args


# -- running one cell ---------------------------------------------------------------------------

def patch_for(window: int) -> int:
    if window % PATCH_TOKENS:
        raise UserError(f"window {window} is not a multiple of {PATCH_TOKENS} days; the patched "
                        "transformer reads it as that many tokens")
    return window // PATCH_TOKENS


def check_task(task: synthetic.Task, window: int) -> None:
    """One line when the dependence lies outside the window the models see."""
    if task.kind != "seasonal" and task.lag > window:
        raise UserError(f"lag {task.lag} is longer than the window of {window} days: no model "
                        "could see the day that matters; use a window of at least the lag")


def train(study: Study, runs: Path, name: str, model: str, data_flags: list[str],
          window: int, extra: list[str] = (), seeds: int | None = None, alone: bool = False,
          series: dict | None = None) -> dict:
    """Run one model's train.py into runs/name, its output in runs/name.log; reuse the run if
    the same command finished. Runs that are not `alone` may share the CPU with another
    (--jobs), one thread each; timed runs (the speed part) always run alone."""
    script, flags, label = MODELS[model]
    flags = [*flags, *(["--patch", str(patch_for(window))] if model == "patched" else []),
             *data_flags, "--lookback", str(window), "--epochs", str(study.epochs),
             "--seeds", str(seeds or study.seeds), *extra, *study.flags]
    shared = study.jobs > 1 and not alone
    if shared and script == FORECASTER:
        flags += ["--threads", "1"]
    # Curves change no number, so they stay out of `flags`, the recipe a finished run is reused by.
    curves = [] if study.tensorboard else ["--no-tensorboard"]
    command = [sys.executable, str(ROOT / script), *flags, *curves, "--out-dir", str(runs),
               "--run-name", name]
    record, done, log = runs / name / "claims-run.json", runs / name / "metrics.json", runs / f"{name}.log"
    asked = {"script": script, "flags": flags, "series": series}  # the file's recipe: same path, other days
    earlier = files.read_json(record) if record.is_file() else {}
    if {k: earlier.get(k) for k in asked} == asked and done.is_file():
        print(f"  {name}: finished earlier, reused", flush=True)
    elif study.rescore:
        raise UserError(f"--rescore: {runs / name} is missing or was run with other settings; "
                        "run the study without --rescore")
    else:
        done.unlink(missing_ok=True)
        (runs / name).mkdir(parents=True, exist_ok=True)
        env = {**os.environ, **(ONE_THREAD if shared else {})}
        started = time.perf_counter()
        with log.open("w") as output:
            status = subprocess.run(command, stdout=output, stderr=subprocess.STDOUT, env=env).returncode
        if status == 130:
            raise KeyboardInterrupt
        if status or not done.is_file():
            tail = "".join(log.read_text().splitlines(keepends=True)[-15:])
            raise UserError(f"{name}: {script} failed (exit status {status}); the end of {log}:\n{tail}")
        files.write_json(record, {**asked, "wall_seconds": round(time.perf_counter() - started, 1)})
        print(f"  {name}: {label}, window {window}, "
              f"{files.read_json(record)['wall_seconds']:.0f} s", flush=True)
    return {"dir": runs / name, "model": model, "label": label, "window": window,
            "wall_seconds": files.read_json(record)["wall_seconds"]}


def in_parallel(jobs: int, calls: dict) -> dict:
    """{key: (function, args)} -> {key: result}, `jobs` at a time."""
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        futures = {key: pool.submit(function, *args) for key, (function, args) in calls.items()}
        return {key: future.result() for key, future in futures.items()}


def rmse(error: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(error))))


def score(run: dict, task: synthetic.Task | None) -> dict:
    """What the study keeps of one run. On a synthetic series: RMSE of the forecast log return
    over the best possible forecast's RMSE on the same test days (1 = optimal), per seed and for
    the ridge and persistence baselines; the attention and saliency lifts at the true lag."""
    m = files.read_json(run["dir"] / "metrics.json")
    out = {k: run[k] for k in ("model", "label", "window", "wall_seconds")}
    # Seconds per epoch: the median of every epoch but each seed's first, which also pays for
    # one-off start-up work (graph tracing, lazy imports) that a few timed epochs would not hide.
    steady = [x for s in m["per_seed"] for x in s.get("epoch_seconds", [])[1:]]
    out.update(params=m["params"], seeds=m["seeds"],
               seconds_per_epoch=float(np.median(steady)) if steady else m["seconds_per_epoch"],
               seconds_to_best=m["seconds_to_best_mean"], latency_ms=m["latency_ms_mean"],
               epochs=[s["epochs"] for s in m["per_seed"]],
               best_epochs=[s["best_epoch"] for s in m["per_seed"]],
               train_windows=m.get("train_windows"),
               test_rmse=[s["test_rmse"] for s in m["per_seed"]],
               ridge_rmse=m["baselines"]["ridge"]["test_rmse"],
               persistence_rmse=m["baselines"]["persistence"]["test_rmse"])
    frame = pd.read_csv(run["dir"] / "predictions.csv")
    out["seed_errors"] = {c: ((frame[c] - frame["actual"]) ** 2).tolist()
                          for c in frame.columns if c.startswith("seed_")}
    out["persistence_errors"] = ((frame["prev_close"] - frame["actual"]) ** 2).tolist()
    if task is None:
        return out
    actual = np.log(frame["actual"] / frame["prev_close"]).to_numpy()
    best = synthetic.best_forecast(task, pd.DatetimeIndex(pd.to_datetime(frame["date"])))
    optimal = rmse(actual - best)

    def ratio(closes) -> float:
        return rmse(np.log(np.asarray(closes) / frame["prev_close"].to_numpy()) - actual) / optimal

    out.update(optimal_rmse=optimal, noise=task.noise,
               ratio=[ratio(frame[c]) for c in out["seed_errors"]],
               # the seed chosen on validation: the one whose attention and saliency are recorded
               ratio_kept=ratio(frame[f"seed_{m['selected_seed']}"]),
               ridge_ratio=ratio(frame["ridge"]), persistence_ratio=rmse(actual) / optimal)
    out["ratio_mean"] = float(np.mean(out["ratio"]))
    del out["seed_errors"], out["persistence_errors"]
    if task.kind == "lag":
        if "attention" in m:
            patch = m["attention"].get("patch", 1)
            out["attention_lift"] = attribution.lift_at_lag(
                m["attention"]["by_lag_heads"], task.lag, patch).tolist()
        if "saliency" in m:
            out["saliency_lift"] = float(attribution.lift_at_lag(m["saliency"]["by_lag"], task.lag))
    return out


# -- the parts ----------------------------------------------------------------------------------

def series(study: Study, runs: Path, task: synthetic.Task) -> list[str]:
    path = synthetic.write_csv(task, runs / "series" / f"{task.name}.csv")
    return ["--csv", str(path)]


def task_of(study: Study, **kw) -> synthetic.Task:
    return synthetic.Task(days=study.days, **kw)


def cells(study: Study, runs: Path, task: synthetic.Task, window: int, models, extra=(),
          tag: str = "", seeds: int | None = None, alone: bool = False) -> dict:
    check_task(task, window)
    data = series(study, runs, task)
    # Patience as long as the budget: every model gets all its epochs (the best validation epoch
    # is kept). With the stages' patience of 6, a network that sits on a plateau for 6 epochs
    # before it finds the lag is stopped there, and the study would measure that rule instead.
    extra = ["--patience", str(study.epochs), *extra]
    calls = {model: (train, (study, runs, f"{task.name}-w{window}{tag}-{model}", model, data, window,
                             list(extra), seeds, alone, task.describe())) for model in models}
    done = in_parallel(1 if alone else study.jobs, calls)
    return {model: score(run, task) for model, run in done.items()}


def memory(study: Study, runs: Path) -> dict:
    rows = []
    for lag in (*study.lags, *study.long_lags):
        short = lag in study.lags
        window = study.short_window if short else study.long_window
        models = [m for m in MODELS if m != "patched"] if short else list(study.long_models)
        task = task_of(study, kind="lag", lag=lag)
        rows.append({"lag": lag, "window": window, "task": task.describe(),
                     "models": cells(study, runs, task, window, models,
                                     seeds=None if short else min(study.long_seeds, study.seeds))})
    return {"rows": rows}


def pattern(study: Study, runs: Path) -> dict:
    tasks = [task_of(study, kind="seasonal", period=20), task_of(study, kind="mix", period=20, lag=5)]
    return {"rows": [{"task": task.describe(), "window": study.short_window,
                      "models": cells(study, runs, task, study.short_window, study.models)}
                     for task in tasks[: 1 if study.smoke else 2]]}


def speed(study: Study, runs: Path, results: dict) -> dict:
    """The same series at each window, one run at a time (nothing else on the CPU), timed over a
    few epochs: seconds per epoch and ms per forecast. Seconds to the best epoch = those seconds
    per epoch x the epochs the memory part's full runs at that window took to their best
    validation epoch (mean over seeds), where it trained one."""
    task, rows = task_of(study, kind="lag", lag=study.speed_lag), []
    trained = {}
    for row in sorted(results.get("memory", {}).get("rows", []), key=lambda r: r["lag"] != study.speed_lag):
        trained.setdefault(row["window"], row)  # the speed part's lag first, else any lag
    for window in study.speed_windows:
        models = [m for m in (*study.models, "patched") if m != "patched" or window // PATCH_TOKENS > 1]
        got = cells(study, runs, task, window, models, ("--epochs", str(study.timing_epochs)),
                    tag="-timing", seeds=1, alone=True)
        full = trained.get(window, {"models": {}})
        for model, cell in got.items():
            epochs = full["models"].get(model, {}).get("best_epochs")
            cell["best_epoch"] = float(np.mean(epochs)) if epochs else None
            cell["seconds_to_best"] = cell["best_epoch"] * cell["seconds_per_epoch"] if epochs else None
        rows.append({"window": window, "best_epoch_lag": full.get("lag"), "models": got})
    return {"task": task.describe(), "rows": rows}


def data_need(study: Study, runs: Path) -> dict:
    task, rows = task_of(study, kind="lag", lag=study.data_lag), []
    for size in (*study.sizes, None):
        extra = ("--train-windows", str(size)) if size else ()
        got = cells(study, runs, task, study.short_window, study.models, extra,
                    tag=f"-n{size}" if size else "")
        rows.append({"train_windows": size, "models": got})
    return {"task": task.describe(), "rows": rows}


def pool(study: Study, runs: Path) -> dict:
    """GOOG's windows alone against GOOG's plus three more tickers' (training days only), the
    same seeds and settings: one factor differs. DM test: pooled against alone, each model's
    squared errors averaged over seeds."""
    window, base = (20 if study.smoke else 60), ["--ticker", "GOOG", *study.pool_flags]
    calls = {(model, kind): (train, (study, runs, f"goog-{kind}-{model}", model,
                                     base + (["--pool", *POOL] if kind == "pooled" else []), window))
             for model in study.models for kind in ("alone", "pooled")}
    done = {key: score(run, None) for key, run in in_parallel(study.jobs, calls).items()}
    out = {"pool": POOL, "models": {}}
    for model in study.models:
        alone, pooled = done[model, "alone"], done[model, "pooled"]
        a = np.mean(list(alone.pop("seed_errors").values()), axis=0)
        b = np.mean(list(pooled.pop("seed_errors").values()), axis=0)
        persistence = alone.pop("persistence_errors")
        pooled.pop("persistence_errors")
        stat, p = forecast.diebold_mariano_losses(b, a)
        out["models"][model] = {"alone": alone, "pooled": pooled, "dm_stat": stat, "dm_pvalue": p,
                                "persistence_rmse": float(np.sqrt(np.mean(persistence)))}
    return out


def run(study: Study, runs: Path, parts: list[str], saved: dict, save) -> dict:
    results = dict(saved)
    steps = {"memory": memory, "pattern": pattern, "speed": lambda st, r: speed(st, r, results),
             "data": data_need, "pool": pool}
    for part in PARTS:  # in this order: speed reads the memory part's best epochs
        if part not in parts:
            continue
        started = time.perf_counter()
        print(f"\n##### part {part} #####", flush=True)
        results[part] = {**steps[part](study, runs), "seconds": round(time.perf_counter() - started, 1)}
        save(results)  # after every part: an interrupted study keeps the parts it finished
    return results


def main(argv=None) -> None:
    import claims_report  # the page's text; imported here so --help needs nothing else

    args = parse_args(argv)
    study = Study(**(SMOKE if args.smoke else {}))
    study.seeds = 1 if args.smoke else args.seeds
    study.jobs = max(1, args.jobs)
    study.rescore = args.rescore
    study.tensorboard = args.tensorboard
    if args.lags:
        study.lags = tuple(args.lags)
    folder = Path(args.out_dir) / ("smoke-claims" if args.smoke else "claims")
    path = folder / "claims.json"
    saved = files.read_json(path) if path.is_file() else {}
    if args.report:
        if not saved:
            raise UserError(f"no {path}; run `make claims` first")
        sys.exit(claims_report.write_page(saved, Path(args.out_dir), Path(args.docs_dir), args.check))
    started = time.perf_counter()
    about = {"smoke": args.smoke,
             "study": {k: v for k, v in vars(study).items() if k not in ("flags", "tensorboard")}}

    def save(results: dict) -> None:
        measured = {} if args.rescore else {p: results[p]["seconds"] for p in PARTS if p in results}
        files.write_json(path, {**results, **about, "seconds": {**saved.get("seconds", {}), **measured}})

    results = run(study, folder / "runs", args.parts, saved, save)
    results = files.read_json(path)
    claims_report.write_page(results, Path(args.out_dir), Path(args.docs_dir), check=False)
    print(f"\nwrote {path} and the page ({time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    run_main(main)
