"""How stage 5's defaults were chosen, rerun: fine-tune each candidate setting below on the
training split and compare them on the validation split only (the test split is never scored:
every run is `train.py --no-score-test --no-baselines`).

    cd LLMind
    python tune.py --run-name reference-tuning   # about 13 minutes on 2 idle CPU cores
    python tune.py --smoke                        # a minute: every candidate on a tiny subset
    python tune.py --candidates full-1-epoch,full-3-epochs

Writes results/<run-name>/metrics.json: per candidate its settings, validation accuracy and
macro-F1 (at its best epoch, and after every epoch), training sentences and seconds; which
candidate scored best and which one config.py's defaults are. report.py turns it into the
README's "How the defaults were chosen" table. The candidates' models are not kept.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

import train
from config import STAGE_DIR, LLMindConfig

from shared.runtime import files
from shared.runtime.errors import UserError, run_main

# The settings the first version's default was compared with (git log of config.py and the
# README), each differing from the one before in one step: more sentences and fewer frozen
# layers, then nothing frozen, then more epochs.
CANDIDATES = {
    "capped-frozen-4": ("5,000 training sentences, embeddings + 4 of 6 layers frozen, 2 epochs "
                        "(the first version's default)",
                        {"max_train_samples": 5000, "freeze_layers": 4, "epochs": 2}),
    "full-frozen-3": ("every training sentence, embeddings + 3 of 6 layers frozen, 1 epoch",
                      {"freeze_layers": 3, "epochs": 1}),
    "full-1-epoch": ("every training sentence, nothing frozen, 1 epoch",
                     {"freeze_layers": 0, "epochs": 1}),
    "full-3-epochs": ("every training sentence, nothing frozen, 3 epochs",
                      {"freeze_layers": 0, "epochs": 3}),
}
TUNED = sorted({key for _, settings in CANDIDATES.values() for key in settings})
SMOKE = ["--smoke", "--max-train-samples", "32", "--max-eval-samples", "32", "--epochs", "1"]


def flags(settings: dict) -> list[str]:
    return [part for key, value in settings.items()
            for part in (f"--{key.replace('_', '-')}", str(value))]


def run_candidate(name: str, settings: dict, args, work: Path) -> dict:
    """One fine-tune of `settings` (the rest: config.py's defaults) in a scratch folder; its
    validation numbers."""
    # --no-tensorboard: the scratch folder, curves and all, is deleted after the candidate
    argv = [*flags(settings), "--no-score-test", "--no-baselines", "--no-tensorboard", "--seed",
            str(args.seed), "--device", args.device, "--out-dir", str(work), "--run-name", name]
    if args.threads:
        argv += ["--threads", str(args.threads)]
    if args.smoke:
        argv += SMOKE  # typed out after the candidate's flags, so these win
    started = time.perf_counter()
    m = train.main(argv)
    evals = [e for e in files.read_json(work / name / "history.json")["log"] if "eval_macro_f1" in e]
    defaults = asdict(LLMindConfig())
    return {"settings": {key: settings.get(key, defaults[key]) for key in TUNED},
            "val_accuracy": m["val_accuracy"], "val_macro_f1": m["val_macro_f1"],
            "best_epoch": m["best_epoch"], "epochs_run": m["epochs_run"],
            "val_macro_f1_by_epoch": [e["eval_macro_f1"] for e in evals],
            "val_accuracy_by_epoch": [e["eval_accuracy"] for e in evals],
            "train_sentences": m["train_sentences"], "validation_sentences": m["validation_sentences"],
            "params_trained": m["params_trained"], "train_seconds": m["train_seconds"],
            "wall_seconds": time.perf_counter() - started}


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--candidates", default=",".join(CANDIDATES),
                        help="comma-separated names of the candidates to run")
    parser.add_argument("--seed", type=int, default=42, help="seed of the split and of every run")
    parser.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda", "mps"],
                        help="auto picks cuda, then mps, then cpu")
    parser.add_argument("--threads", type=int, default=None, help="CPU threads")
    parser.add_argument("--smoke", action="store_true",
                        help="every candidate on 32 sentences for 1 epoch: checks the pipeline only")
    parser.add_argument("--out-dir", default=str(STAGE_DIR / "results"), help="results folder")
    parser.add_argument("--run-name", default="tuning", help="sub-folder of --out-dir")
    args = parser.parse_args(argv)
    names = [n.strip() for n in args.candidates.split(",") if n.strip()]
    unknown = [n for n in names if n not in CANDIDATES]
    if unknown or not names:
        raise UserError(f"--candidates {args.candidates}: choose from {', '.join(CANDIDATES)}")
    out = files.run_dir(args.out_dir, args.run_name)
    defaults = {key: asdict(LLMindConfig())[key] for key in TUNED}
    results = {}
    for i, name in enumerate(names, 1):
        description, settings = CANDIDATES[name]
        print(f"\n=== candidate {i}/{len(names)}: {name} ({description}) ===", flush=True)
        with tempfile.TemporaryDirectory(dir=out, prefix=".candidate-") as work:
            results[name] = {"description": description,
                             **run_candidate(name, settings, args, Path(work))}
    best = max(results, key=lambda n: results[n]["val_macro_f1"])
    default = next((n for n, r in results.items()
                    if all(r["settings"][key] == value for key, value in defaults.items())), None)
    summary = {"candidates": results, "order": names, "best": best, "default": default,
               "defaults": defaults, "seed": args.seed, "smoke": args.smoke,
               "selection": "validation macro-F1 at the best epoch (the test split is not scored)"}
    files.write_json(out / "metrics.json", summary)
    print("\ncandidate          val accuracy  val macro-F1  best epoch  train s")
    for name, r in results.items():
        marks = (" <- best" if name == best else "") + (" (default)" if name == default else "")
        print(f"{name:18s} {r['val_accuracy']:11.1%}  {r['val_macro_f1']:11.3f}  {r['best_epoch']:10g}  "
              f"{r['train_seconds']:7.0f}{marks}")
    print(f"wrote {out / 'metrics.json'}")
    return summary


if __name__ == "__main__":
    run_main(main)
