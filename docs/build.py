"""Write the generated parts of docs/ from the stages' committed reference runs.

    python docs/build.py           # part of `make docs`
    python docs/build.py --check   # exit 1 if docs/ is out of date (used by tests)

Today: docs/language-models.md, stages 1 and 2 side by side on the same validation text,
and the bits-per-character chart docs/img/bits_per_char.png.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from shared import plotting, reporting, training  # noqa: E402
from shared.config import load_stage_config  # noqa: E402

DOCS = ROOT / "docs"
CHART = DOCS / "img" / "bits_per_char.png"


def language_model_runs() -> list[dict]:
    """The default reference run of each language-model stage, with what to call it."""
    tiny = load_stage_config(ROOT / "TinyLLM" / "config.py").TinyConfig()
    small = load_stage_config(ROOT / "SmaLLM" / "config.py").SmallConfig()
    runs = []
    for stage, folder, unit, model in ((1, "TinyLLM", "character", tiny.model),
                                       (2, "SmaLLM", "word piece", small.model)):
        path = ROOT / folder / "results" / f"reference-{model}" / "metrics.json"
        if path.is_file():
            runs.append({"stage": stage, "folder": folder, "unit": unit,
                         **training.read_json(path)})
    return runs


def comparison_table(runs: list[dict]) -> str:
    rows = []
    for r in runs:
        rows.append([f"{r['stage']} ({r['folder']})", r["model"], r["unit"],
                     r["vocab_size"], r["params"], f"{r['val_perplexity']:,.2f}",
                     f"**{r['val_bits_per_char']:.3f}**", f"{r['train_seconds']:.0f} s"])
    return reporting.markdown_table(
        ["stage", "model", "token", "vocabulary", "params", "val perplexity per token",
         "val bits/char", "train time (2 cores)"], rows)


def verdict(runs: list[dict]) -> str:
    """Which unit wins on this text and budget, in words generated from the numbers."""
    by_stage = {r["stage"]: r for r in runs}
    if not {1, 2} <= set(by_stage):
        return ""
    char, word = by_stage[1], by_stage[2]
    winner = "the character model (stage 1)" if char["val_bits_per_char"] < \
        word["val_bits_per_char"] else "the word model (stage 2)"
    return (f"\n\nOn this text and budget, {winner} needs fewer bits per character: "
            f"{char['val_bits_per_char']:.3f} against {word['val_bits_per_char']:.3f}. The word "
            f"model's own predictions cost {word['val_bits_per_char_without_unk_cost']:.3f} "
            f"bits/char; the rest is the price of spelling the {word['val_unk_share']:.1%} of "
            "validation tokens that its vocabulary does not hold.")


def chart(runs: list[dict]) -> None:
    bars, baselines = {}, []
    for r in runs:
        bars[f"stage {r['stage']} {r['model']}\n({r['unit']})"] = r["val_bits_per_char"]
        name, key = (("char bigram", "val_bigram_counts_bits_per_char") if r["stage"] == 1
                     else ("word unigram", "val_unigram_counts_bits_per_char"))
        baselines.append(f"stage {r['stage']} baseline\n({name}, counted)")
        bars[baselines[-1]] = r[key]
    plotting.plot_bars(bars, CHART, title="Bits per character on the same validation text "
                       "(lower is better)", ylabel="bits per character", muted=tuple(baselines))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true",
                        help="do not write; exit 1 if docs/ differs from the results")
    args = parser.parse_args(argv)
    runs = language_model_runs()
    if not runs:
        print("error: no reference runs; run `make bench` first", file=sys.stderr)
        return 2
    fresh = reporting.update_section(DOCS / "language-models.md", "comparison",
                                     comparison_table(runs) + verdict(runs), check=args.check)
    if not args.check:
        chart(runs)
    elif not CHART.is_file():
        fresh = False
    if args.check and not fresh:
        print("docs/ is out of date with the results files; run `make docs`", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
