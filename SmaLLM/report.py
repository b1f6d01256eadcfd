"""Write the results sections of SmaLLM/README.md from the committed reference run.

    python SmaLLM/report.py           # after `make bench` has written results/reference-lstm/
    python SmaLLM/report.py --check   # exit 1 if the README is out of date (used by tests)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

STAGE_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(STAGE_DIR.parent))

from shared import reporting, training  # noqa: E402
from shared.config import load_stage_config  # noqa: E402

DEFAULT_MODEL = load_stage_config(STAGE_DIR / "config.py").SmallConfig().model
RUN = STAGE_DIR / "results" / f"reference-{DEFAULT_MODEL}"


def results_table(m: dict) -> str:
    rows = [
        ["uniform over the vocabulary", 0, f"{m['val_uniform_perplexity']:,.0f}",
         f"{m['val_uniform_bits_per_char']:.3f}"],
        ["unigram, counted (no context)", 0, f"{m['val_unigram_counts_perplexity']:,.1f}",
         f"{m['val_unigram_counts_bits_per_char']:.3f}"],
        [f"**{m['model']}** (default)", m["params"], f"{m['val_perplexity']:,.1f}",
         f"{m['val_bits_per_char']:.3f}"],
    ]
    return reporting.markdown_table(
        ["model", "params", "val perplexity per token", "val bits/char (unknown words spelled)"],
        rows)


def summary(m: dict) -> str:
    return (f"Vocabulary: {m['vocab_size']:,} pieces learned from the training split; "
            f"{m['val_unk_share']:.1%} of the {m['val_tokens']:,} validation tokens are unknown, "
            f"and spelling them out costs {m['val_unk_spelling_bits']:,.0f} bits in all. A token "
            f"covers {m['chars_per_token']:.2f} characters on average. The default "
            f"{m['model']} ({m['params']:,} parameters) trained for {m['steps']:,} steps in "
            f"{m['train_seconds']:.0f} s on {m['threads']} CPU threads "
            f"({m['tokens_per_second']:,.0f} tokens/s) and reached a validation perplexity of "
            f"**{m['val_perplexity']:.1f}** per token: **{m['val_bits_per_char']:.3f} bits/char** "
            f"with unknown words spelled out, {m['val_bits_per_char_without_unk_cost']:.3f} if "
            "their spelling were free.")


def target_line() -> str:
    """Stage 2's target, as measured side by side with stage 1 by `make bench`."""
    path = STAGE_DIR.parent / "results" / "bench.json"
    if not path.is_file() or "smallm" not in training.read_json(path):
        return ""
    bench = training.read_json(path)["smallm"]
    row, tiny = bench["rows"][0], bench["tinyllm_default_bits_per_char"]
    limit = bench["target_ratio_to_tinyllm"] * tiny
    met = row["val_bits_per_char"] <= limit and row["wall_seconds"] <= bench["target_seconds"]
    versus = "more" if row["val_bits_per_char"] > tiny else "fewer"
    return (f"\n\nTarget: at most {bench['target_ratio_to_tinyllm']} x stage 1's default "
            f"({tiny:.3f}), i.e. {limit:.3f} bits/char, within "
            f"{bench['target_seconds'] / 60:.0f} minutes on 2 cores, in the same `make bench` "
            f"run. {'Met' if met else 'Not met'}: {row['val_bits_per_char']:.3f} bits/char in "
            f"{row['wall_seconds']:.0f} s for the whole run, {versus} bits per character than "
            "stage 1's character model.")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true",
                        help="do not write; exit 1 if the README differs from the results")
    args = parser.parse_args(argv)
    if not (RUN / "metrics.json").is_file():
        print(f"error: no reference run in {RUN}; run `make bench` first", file=sys.stderr)
        return 2
    m = training.read_json(RUN / "metrics.json")
    config = training.read_json(RUN / "config.json")
    neighbours = training.read_json(RUN / "neighbours.json")
    sample = (RUN / "sample.txt").read_text(encoding="utf-8").strip("\n")
    neighbour_rows = [[f"`{word}`", ", ".join(f"`{n.strip()}` ({s:.2f})" for n, s in near)]
                      for word, near in neighbours.items()]
    sections = {
        "results-summary": summary(m) + target_line(),
        "results-table": results_table(m),
        "neighbours": reporting.markdown_table(["word", "nearest by cosine similarity"],
                                               neighbour_rows),
        "sample": f"Temperature {config['temperature']}, prompt: a newline.\n\n```text\n{sample}\n```",
    }
    return reporting.write_sections(STAGE_DIR / "README.md", sections, check=args.check)


if __name__ == "__main__":
    sys.exit(main())
