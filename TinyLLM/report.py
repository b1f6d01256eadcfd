"""Write the results sections of TinyLLM/README.md from the committed reference runs.

    python TinyLLM/report.py           # after `make bench` has written the reference runs
    python TinyLLM/report.py --check   # exit 1 if the README is out of date (used by tests)

Reads results/reference-<model>/metrics.json and sample.txt; nothing is typed in by hand.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

STAGE_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(STAGE_DIR.parent))

from shared import reporting, training  # noqa: E402
from shared.config import load_stage_config  # noqa: E402

_config = load_stage_config(STAGE_DIR / "config.py")
LADDER, DEFAULT_MODEL = _config.MODELS, _config.TinyConfig().model


def results_table(runs: dict[str, dict]) -> str:
    default = runs[DEFAULT_MODEL]
    rows = [["uniform (every character equally likely)", 0, f"{default['val_uniform_loss']:.3f}",
             f"{default['val_uniform_bits_per_char']:.3f}", "-", "-"],
            ["bigram, counted (add-one smoothing)", 0,
             f"{default['val_bigram_counts_loss']:.3f}",
             f"{default['val_bigram_counts_bits_per_char']:.3f}", "-", "-"]]
    for model in LADDER:
        if model in runs:
            m = runs[model]
            name = f"**{model}** (default)" if model == DEFAULT_MODEL else model
            rows.append([name, m["params"], f"{m['val_loss']:.3f}", f"{m['val_bits_per_char']:.3f}",
                         f"{m['train_seconds']:.0f} s", f"{m['tokens_per_second']:,.0f}"])
    return reporting.markdown_table(
        ["model", "params", "val loss (nats/char)", "val bits/char", "train time", "chars/s"], rows)


def summary(runs: dict[str, dict]) -> str:
    m = runs[DEFAULT_MODEL]
    return (f"The default {DEFAULT_MODEL} ({m['params']:,} parameters) reached a validation loss "
            f"of **{m['val_loss']:.3f} nats/char ({m['val_bits_per_char']:.3f} bits/char)** after "
            f"{m['steps']:,} steps in {m['train_seconds']:.0f} s of training on "
            f"{m.get('threads', 2)} CPU threads, against {m['val_uniform_loss']:.3f} for a uniform "
            f"guess and {m['val_bigram_counts_loss']:.3f} for counted bigrams. Validation is the "
            f"last 10% of the `tiny` corpus ({m['val_chars']:,} characters). Lowest validation "
            f"loss in the default budget: **{min(runs, key=lambda k: runs[k]['val_loss'])}**; "
            f"fastest per character: {max(runs, key=lambda k: runs[k]['tokens_per_second'])}.")


def target_line() -> str:
    """The stage's speed/accuracy target, as measured by `make bench` (results/bench.json)."""
    path = STAGE_DIR.parent / "results" / "bench.json"
    if not path.is_file():
        return ""
    bench = training.read_json(path)["tinyllm"]
    row = next((r for r in bench["rows"] if r["model"] == DEFAULT_MODEL), None)
    if row is None:
        return ""
    met = row["val_loss"] <= bench["target_val_loss"] and row["wall_seconds"] <= bench["target_seconds"]
    return (f"\n\nTarget: at most {bench['target_val_loss']} nats/char within "
            f"{bench['target_seconds'] / 60:.0f} minutes on 2 cores. "
            f"{'Met' if met else 'Not met'}: {row['val_loss']:.3f} nats/char, "
            f"{row['wall_seconds']:.0f} s for the whole run (start-up and final evaluation included) "
            f"on a {training.read_json(path)['machine']['cpu_count']}-core machine.")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true",
                        help="do not write; exit 1 if the README differs from the results")
    args = parser.parse_args(argv)
    runs = {}
    for model in LADDER:
        path = STAGE_DIR / "results" / f"reference-{model}" / "metrics.json"
        if path.is_file():
            runs[model] = training.read_json(path)
    if DEFAULT_MODEL not in runs:
        print(f"error: no reference run of {DEFAULT_MODEL}; run `make bench` first", file=sys.stderr)
        return 2
    sample = (STAGE_DIR / "results" / f"reference-{DEFAULT_MODEL}" / "sample.txt").read_text(
        encoding="utf-8").strip("\n")
    config = training.read_json(STAGE_DIR / "results" / f"reference-{DEFAULT_MODEL}" / "config.json")
    sections = {
        "results-summary": summary(runs) + target_line(),
        "results-table": results_table(runs),
        "sample": f"Temperature {config['temperature']}, prompt: a newline.\n\n```text\n{sample}\n```",
    }
    return reporting.write_sections(STAGE_DIR / "README.md", sections, check=args.check)


if __name__ == "__main__":
    sys.exit(main())
