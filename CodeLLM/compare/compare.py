"""Stage 3 vs stage 4 with one command: the Keras LSTM, the transformer, and a PyTorch LSTM
control, trained on the same windows with the same seeds, judged on the same test days.

    make compare                               # GOOG, about 2 minutes on 2 cores
    make compare TICKER=MSFT                   # AAPL, IBM or MSFT from the bundled data
    python CodeLLM/compare/compare.py --report-only    # rewrite the write-up from the saved runs
    python CodeLLM/compare/compare.py --report-only --reanalyse   # also recompute comparison.json
    python CodeLLM/compare/compare.py --smoke --out-dir /tmp/runs --docs-dir /tmp/docs
    python CodeLLM/compare/compare.py --tensorboard     # each run also writes its live curves
    python CodeLLM/compare/compare.py --claims          # each claim tested (claims.py, make claims)

Each model is trained by its own stage's train.py in a subprocess (stages never import each
other); this script reads their metrics.json and predictions.csv, writes comparison.json next
to the runs, and generates docs/stage3-vs-stage4.md (other tickers: stage3-vs-stage4-<ticker>.md)
with its plots in docs/img/. Every number in the write-up comes from those files. The page's
Diebold-Mariano tests (each model and baseline against persistence, and the three pairs) are
Holm-corrected together.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import time
from pathlib import Path

import claims_report  # the claims table and evidence, from claims.json (claims.py)
import numpy as np
import pandas as pd

import report  # the write-up's text, generated from comparison.json

from shared import plotting
from shared.prices import features, forecast, market, plots, windows
from shared.runtime import files
from shared.runtime.errors import UserError, run_main

from tools import reporting

STAGE_DIR = Path(__file__).resolve().parent
ROOT = STAGE_DIR.parents[1]

# key -> (script, extra flags, label in the write-up). The order is the write-up's order.
MODELS = {
    "keras-lstm": ("MemoryLLM/train.py", [], "Keras LSTM (stage 3)"),
    "torch-lstm": ("CodeLLM/forecaster/train.py", ["--arch", "lstm"], "PyTorch LSTM (control)"),
    "transformer": ("CodeLLM/forecaster/train.py", ["--arch", "transformer"], "transformer (stage 4)"),
}
# (a, b, what the pair isolates): stage 4 vs 3 mixes two changes; the control splits them.
PAIRS = [("transformer", "keras-lstm", "stage 4 vs stage 3"),
         ("transformer", "torch-lstm", "the architecture alone"),
         ("torch-lstm", "keras-lstm", "the framework alone")]
BUNDLED = ("GOOG", "AAPL", "IBM", "MSFT")


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--ticker", default="GOOG", type=str.upper,
                        help=f"bundled ticker: {', '.join(BUNDLED)}")
    parser.add_argument("--seeds", type=int, default=3, help="seeds per model (the same for all)")
    parser.add_argument("--seed", type=int, default=42, help="first seed; the others follow")
    parser.add_argument("--claims", action="store_true",
                        help="run the claim-by-claim study instead (claims.py; its flags follow)")
    parser.add_argument("--smoke", action="store_true",
                        help="tiny models, one seed: checks the pipeline in seconds")
    parser.add_argument("--tensorboard", action="store_true",
                        help="let each model's run write its live curves (<run>/tensorboard/); "
                             "off by default: the comparison reads results files, not curves")
    parser.add_argument("--report-only", action="store_true",
                        help="do not train; rewrite the write-up from the runs already saved")
    parser.add_argument("--reanalyse", action="store_true",
                        help="with --report-only: recompute comparison.json from the saved runs "
                             "(metrics.json, predictions.csv) first, keeping the recorded wall times")
    parser.add_argument("--check", action="store_true",
                        help="with --report-only: write nothing, exit 1 if the write-up is stale")
    parser.add_argument("--out-dir", default=str(STAGE_DIR / "results"),
                        help="where the runs folder compare-<ticker>/ goes")
    parser.add_argument("--docs-dir", default=str(ROOT / "docs"),
                        help="where the write-up (and img/ with its plots) goes")
    return parser.parse_args(argv)


def runs_dir(args) -> Path:
    return Path(args.out_dir) / f"{'smoke-' if args.smoke else ''}compare-{args.ticker.lower()}"


def train_all(args, runs: Path) -> dict[str, float]:
    """Run each stage's train.py; return the wall seconds of each."""
    walls = {}
    for i, (key, (script, flags, label)) in enumerate(MODELS.items()):
        print(f"\n=== [{i + 1}/{len(MODELS)}] {label}: {script} ===", flush=True)
        command = [sys.executable, str(ROOT / script), *flags, "--ticker", args.ticker,
                   "--seeds", str(1 if args.smoke else args.seeds), "--seed", str(args.seed),
                   "--out-dir", str(runs), "--run-name", key, *(["--smoke"] if args.smoke else []),
                   *([] if args.tensorboard else ["--no-tensorboard"])]
        started = time.perf_counter()
        if subprocess.run(command).returncode != 0:
            raise UserError(f"{script} failed (its message is above); nothing was compared")
        walls[key] = round(time.perf_counter() - started, 1)
    return walls


def seed_columns(frame: pd.DataFrame) -> list[str]:
    return [c for c in frame.columns if c.startswith("seed_")]


def rebuilt_baselines(runs: Path, first: pd.DataFrame) -> dict:
    """The baselines recomputed from the bundled data with the transformer's settings, for runs
    saved before the ridge baseline existed (the data is deterministic, so this is what train.py
    would have written)."""
    cfg = files.read_json(runs / "transformer" / "config.json")
    frame = features.add_indicators(market.load_prices(cfg["source"], cfg["ticker"], cfg["csv"],
                                                       cfg["start"], cfg["end"]))
    data = windows.make_dataset(frame, cfg["lookback"], cfg["target"], features.FEATURES,
                                horizon=cfg["horizon"])
    if not np.allclose(data.test.close, first["actual"]):
        raise UserError(f"the runs in {runs} were made on other prices than today's data gives; "
                        "rerun `python CodeLLM/compare/compare.py` to train them again")
    return forecast.baseline_results(data)[0]


def holm_tests(models: dict, pairs: list[dict], baselines: dict) -> list[dict]:
    """Every DM test the page reports, with Holm-adjusted p-values across all of them; the
    adjusted value is also written next to each raw one (`..._holm`)."""
    tests = [(f"{key} vs persistence", m, "dm_vs_persistence") for key, m in models.items()]
    tests += [(f"{x['a']} vs {x['b']}", x, "dm") for x in pairs]
    tests += [(f"{name} vs persistence", baselines[name], "test_dm") for name in ("drift", "ridge")]
    adjusted = forecast.holm([entry[f"{prefix}_pvalue"] for _, entry, prefix in tests])
    out = []
    for (name, entry, prefix), p in zip(tests, adjusted, strict=True):
        entry[f"{prefix}_holm"] = p
        out.append({"test": name, "stat": entry[f"{prefix}_stat"], "pvalue": entry[f"{prefix}_pvalue"],
                    "holm": p})
    return out


def analyse(runs: Path, walls: dict[str, float] | None) -> dict:
    """comparison.json: each model's results and recipe, the baselines, day-by-day DM tests on
    seed-averaged losses and their Holm correction."""
    metrics, predictions = {}, {}
    for key in MODELS:
        for name in ("metrics.json", "predictions.csv", "config.json"):
            if not (runs / key / name).is_file():
                raise UserError(f"no {name} in {runs / key}; run `python CodeLLM/compare/compare.py` "
                                "without --report-only first")
        metrics[key] = files.read_json(runs / key / "metrics.json")
        predictions[key] = pd.read_csv(runs / key / "predictions.csv")
    first = predictions["transformer"]
    for key, frame in predictions.items():  # the comparison is only fair on identical days
        if not (frame["date"].equals(first["date"]) and np.allclose(frame["actual"], first["actual"])):
            raise UserError(f"{key} was tested on other days than the transformer; rerun compare")
    actual, previous = first["actual"].to_numpy(), first["prev_close"].to_numpy()

    # Squared errors averaged over seeds: the DM tests compare kinds of model, not single runs.
    loss = {k: ((f[seed_columns(f)].to_numpy() - actual[:, None]) ** 2).mean(axis=1)
            for k, f in predictions.items()}
    persistence_loss = (actual - previous) ** 2
    models = {}
    for key, m in metrics.items():
        stat, p = forecast.diebold_mariano_losses(loss[key], persistence_loss)
        models[key] = {
            "label": MODELS[key][2], "params": m["params"], "seeds": m["seeds"],
            "seconds_per_epoch": m["seconds_per_epoch"], "train_seconds": m["train_seconds"],
            "epochs": [s["epochs"] for s in m["per_seed"]],
            "test_theil_u_per_seed": [s["test_theil_u"] for s in m["per_seed"]],
            "dm_vs_persistence_stat": stat, "dm_vs_persistence_pvalue": p,
            "mean_forecast": predictions[key][seed_columns(predictions[key])].mean(axis=1).tolist(),
            "recipe": m.get("recipe"),
            # Means and sample spreads recomputed from each seed's metrics (runs saved before
            # ddof=1 hold population spreads, and a mean of per-seed p-values).
            **forecast.seed_summary(m["per_seed"]),
        }
        if walls and key in walls:
            models[key]["wall_seconds"] = walls[key]
    pairs = []
    for a, b, meaning in PAIRS:
        stat, p = forecast.diebold_mariano_losses(loss[a], loss[b])
        pairs.append({"a": a, "b": b, "meaning": meaning, "dm_stat": stat, "dm_pvalue": p,
                      "rmse_a": models[a]["test_rmse_mean"], "rmse_b": models[b]["test_rmse_mean"]})
    t = metrics["transformer"]
    baselines = t["baselines"] if "ridge" in t["baselines"] else rebuilt_baselines(runs, first)
    tests = holm_tests(models, pairs, baselines)
    return {"ticker": runs.name.split("compare-")[-1].upper(), "smoke": runs.name.startswith("smoke"),
            "test_start": t["test_start"], "test_end": t["test_end"], "test_days": t["test_days"],
            "target": t["target"], "dates": first["date"].tolist(), "actual": actual.tolist(),
            "prev_close": previous.tolist(), "models": models, "pairs": pairs, "tests": tests,
            "baselines": baselines, "attention": t.get("attention", {}),
            "lookback": files.read_json(runs / "transformer" / "config.json")["lookback"]}


def doc_paths(docs: Path, ticker: str) -> tuple[Path, str]:
    """The write-up's path, and the prefix of its images in docs/img/."""
    suffix = "" if ticker == "GOOG" else f"-{ticker.lower()}"
    return docs / f"stage3-vs-stage4{suffix}.md", f"compare-{ticker.lower()}"


def theil_per_seed(m: dict, run: Path) -> list[float]:
    """Each seed's test Theil's U: from comparison.json, or for one saved before it kept them,
    from the run's metrics.json; the mean alone when neither has them."""
    if "test_theil_u_per_seed" in m:
        return m["test_theil_u_per_seed"]
    if (run / "metrics.json").is_file():
        return [s["test_theil_u"] for s in files.read_json(run / "metrics.json")["per_seed"]]
    return [m["test_theil_u_mean"]]


def dm_note(entry: dict, prefix: str) -> str:
    return f"DM vs persistence\nHolm p = {entry[f'{prefix}_holm']:.3f}"


def write_plots(c: dict, runs: Path, img: Path, prefix: str) -> None:
    """The page's figures, from comparison.json alone (plus the transformer's attention maps,
    copied from its run): `--report-only` redraws them without training."""
    models = c["models"]
    short = {key: m["label"].split(" (")[0] for key, m in models.items()}
    seeds = " or ".join(map(str, sorted({m["seeds"] for m in models.values()})))
    entries = [{"label": short[key], "values": theil_per_seed(m, runs / key),
                "note": dm_note(m, "dm_vs_persistence")} for key, m in models.items()]
    entries += [{"label": name, "values": [c["baselines"][name]["test_theil_u"]], "muted": True,
                 "note": dm_note(c["baselines"][name], "test_dm")} for name in ("drift", "ridge")]
    plots.plot_theil_u(entries, img / f"{prefix}-theil_u.png",
                       f"{c['ticker']} test period: Theil's U - 1, {seeds} seed"
                       f"{'' if seeds == '1' else 's'} per model (below 0: beats persistence)")
    speed = {short[key]: m["seconds_per_epoch"] for key, m in models.items()}
    plotting.plot_bars(speed, img / f"{prefix}-seconds_per_epoch.png",
                       f"{c['ticker']}: training seconds per epoch (2 CPU cores)", "seconds",
                       fmt="%.2f")
    plots.plot_against_persistence(
        c["dates"], np.array(c["actual"]), np.array(c["prev_close"]),
        {short[key]: np.array(m["mean_forecast"]) for key, m in models.items()},
        img / f"{prefix}-predictions.png",
        title=f"{c['ticker']} test period: does attention beat recurrence, or tomorrow = today? "
              "(forecasts: mean of seeds)")
    for name in ("attention_by_lag.png", "attention_cross.png"):
        if (runs / "transformer" / name).is_file():
            shutil.copyfile(runs / "transformer" / name, img / f"{prefix}-{name}")


def other_tickers(out_dir: Path, ticker: str) -> list[dict]:
    """Saved comparisons of the other bundled tickers: the GOOG write-up's robustness check."""
    found = [out_dir / f"compare-{t.lower()}" / "comparison.json" for t in BUNDLED if t != ticker]
    return [load_comparison(p) for p in found if p.is_file()]


def load_comparison(path: Path) -> dict:
    """A saved comparison.json, refusing one written before the Holm-corrected tests."""
    c = files.read_json(path)
    if "tests" not in c or "ridge" not in c["baselines"]:
        raise UserError(f"{path} predates the ridge baseline and the Holm correction; run `python "
                        f"CodeLLM/compare/compare.py --report-only --reanalyse --ticker {c['ticker']}`")
    return c


def write_doc(c: dict, out_dir: Path, docs: Path, check: bool, claims: dict | None = None) -> bool:
    """Write (or with `check`, compare) one write-up; True when it is up to date. The GOOG page
    also carries the claims study (claims.py) when its results are saved."""
    doc, prefix = doc_paths(docs, c["ticker"])
    others = other_tickers(out_dir, c["ticker"]) if c["ticker"] == "GOOG" else []
    if claims is None and c["ticker"] == "GOOG" and not c["smoke"]:
        claims = claims_report.saved(out_dir)
    text = report.render(c, prefix, others, claims_report.sections(claims, c) if claims else None)
    return reporting.write_page(doc, text, check=check)  # glossary terms linked, as make docs does


def main(argv=None) -> None:
    argv = sys.argv[1:] if argv is None else list(argv)
    if "--claims" in argv:  # the claims study, with its own flags (claims.py --help)
        import claims

        return claims.main([a for a in argv if a != "--claims"])
    args = parse_args(argv)
    if args.ticker not in BUNDLED:
        raise UserError(f"--ticker {args.ticker}: the comparison runs on the bundled data: "
                        f"{', '.join(BUNDLED)}")
    if (args.check or args.reanalyse) and not args.report_only:
        raise UserError("--check and --reanalyse only go with --report-only")
    if args.check and args.reanalyse:
        raise UserError("--check writes nothing, so it cannot go with --reanalyse")
    runs, docs, out_dir = runs_dir(args), Path(args.docs_dir), Path(args.out_dir)
    saved = runs / "comparison.json"
    if args.report_only and args.reanalyse:
        old = files.read_json(saved) if saved.is_file() else {"models": {}}
        c = analyse(runs, {k: m["wall_seconds"] for k, m in old["models"].items() if "wall_seconds" in m})
        if "total_seconds" in old:
            c["total_seconds"] = old["total_seconds"]
        files.write_json(saved, c)
    elif args.report_only:
        if not saved.is_file():
            raise UserError(f"no comparison.json in {runs}; run `python CodeLLM/compare/compare.py "
                            f"--ticker {args.ticker}` first")
        c = load_comparison(saved)
    else:
        started = time.perf_counter()
        walls = train_all(args, runs)
        c = analyse(runs, walls)
        c["total_seconds"] = round(time.perf_counter() - started, 1)
        files.write_json(saved, c)
    if args.check:
        if not write_doc(c, out_dir, docs, check=True):
            print(f"{doc_paths(docs, c['ticker'])[0]} is out of date with {runs}/comparison.json;"
                  " run `make docs`", file=sys.stderr)
            sys.exit(1)
        return
    write_plots(c, runs, docs / "img", doc_paths(docs, c["ticker"])[1])
    write_doc(c, out_dir, docs, check=False)
    goog = out_dir / "compare-goog" / "comparison.json"
    if c["ticker"] != "GOOG" and not c["smoke"] and goog.is_file():  # its robustness table
        try:
            write_doc(load_comparison(goog), out_dir, docs, check=False)
        except UserError as error:  # GOOG's own run rewrites its page later
            print(f"note: the GOOG write-up was not refreshed: {error}")
    print(f"\nwrote {doc_paths(docs, c['ticker'])[0]} and its plots in {docs / 'img'}")
    print(report.conclusion(c))


if __name__ == "__main__":
    run_main(main)
