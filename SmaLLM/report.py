"""Write the results sections of SmaLLM/README.md from the committed reference run.

    python SmaLLM/report.py           # after `make bench` has written results/reference-lstm/
    python SmaLLM/report.py --check   # exit 1 if the README is out of date (used by tests)

Headline numbers are on the test text; validation (which chose the checkpoint) beside them.
The run's loss_curve.png and embeddings.png are redrawn from its JSON files (no model needed).
"""

from __future__ import annotations

import sys
from pathlib import Path

from shared.lm import loop
from shared.runtime import files
from shared.runtime.errors import UserError

from tools import reporting
from tools.loader import load_stage_config

STAGE_DIR = Path(__file__).resolve().parent

DEFAULT_MODEL = load_stage_config(STAGE_DIR / "config.py").SmallConfig().model
embeddings = load_stage_config(STAGE_DIR / "embeddings.py")  # by path: docs/build.py imports this file
RUN = STAGE_DIR / "results" / f"reference-{DEFAULT_MODEL}"


NEEDED = ("test_bits_per_char", "test_block_nats", "test_text_sha256", "test_chars_per_token")


def results_table(m: dict) -> str:
    rows = [
        ["uniform over the vocabulary", 0, f"{m['val_uniform_bits_per_char']:.3f}",
         f"{m['test_uniform_perplexity']:,.0f}", f"{m['test_uniform_bits_per_char']:.3f}"],
        ["unigram, counted (no context)", 0, f"{m['val_unigram_counts_bits_per_char']:.3f}",
         f"{m['test_unigram_counts_perplexity']:,.1f}", f"{m['test_unigram_counts_bits_per_char']:.3f}"],
        [f"**{m['model']}** (default)", m["params"], f"{m['val_bits_per_char']:.3f}",
         f"{m['test_perplexity']:,.1f}", f"**{m['test_bits_per_char']:.3f}**"],
    ]
    return reporting.markdown_table(
        ["model", "params", "val bits/char", "test perplexity per token",
         "test bits/char (unknown words spelled)"], rows)


def summary(m: dict) -> str:
    return (f"Vocabulary: {m['vocab_size']:,} pieces learned from the training split; "
            f"{m['test_unk_share']:.1%} of the {m['test_tokens']:,} test tokens are unknown, "
            f"and spelling them out costs {m['test_unk_spelling_bits']:,.0f} bits in all. A token "
            f"covers {m['test_chars_per_token']:.2f} characters on average. The default "
            f"{m['model']} ({m['params']:,} parameters) trained for {m['steps']:,} steps in "
            f"{m['train_seconds']:.0f} s on {m['threads']} CPU threads "
            f"({m['tokens_per_second']:,.0f} tokens/s) and reached a test perplexity of "
            f"**{m['test_perplexity']:.1f}** per token: **{m['test_bits_per_char']:.3f} bits/char** "
            f"with unknown words spelled out, {m['test_bits_per_char_without_unk_cost']:.3f} if "
            f"their spelling were free. The test text is stage 1's ({m['test_chars']:,} characters, "
            f"a whole play outside the training and validation text), every character of it "
            f"scored; the checkpoint (step {m['best_step']:,}) was chosen on validation, where it "
            f"scored {m['val_bits_per_char']:.3f} bits/char.")


def target_line() -> str:
    """Stage 2's target, as measured side by side with stage 1 by `make bench`."""
    path = STAGE_DIR.parent / "results" / "bench.json"
    if not path.is_file() or "smallm" not in files.read_json(path):
        return ""
    bench = files.read_json(path)["smallm"]
    row, tiny = bench["rows"][0], bench["tinyllm_default_bits_per_char"]
    limit = bench["target_ratio_to_tinyllm"] * tiny
    met = row["val_bits_per_char"] <= limit and row["wall_seconds"] <= bench["target_seconds"]
    # The character vs word comparison, with its interval, is docs/language-models.md's.
    return (f"\n\nTarget (on validation, which tuning may chase): at most "
            f"{bench['target_ratio_to_tinyllm']} x stage 1's default ({tiny:.3f}), i.e. "
            f"{limit:.3f} bits/char, within {bench['target_seconds'] / 60:.0f} minutes on 2 cores, "
            f"in the same `make bench` run. {'Met' if met else 'Not met'}: "
            f"{row['val_bits_per_char']:.3f} bits/char in {row['wall_seconds']:.0f} s for the "
            "whole run.")


def sections() -> dict[str, str]:
    """Every generated section of the README, from the reference run."""
    if not (RUN / "metrics.json").is_file():
        raise UserError(f"no reference run in {RUN}; run `make bench` first")
    m = files.read_json(RUN / "metrics.json")
    if missing := [k for k in NEEDED if k not in m]:
        raise UserError(f"{RUN / 'metrics.json'} has no {missing[0]} (written before the test "
                        "split existed); run `make bench` to regenerate the reference runs")
    neighbours = files.read_json(RUN / "neighbours.json")
    neighbour_rows = [[f"`{word}`", ", ".join(f"`{n.strip()}` ({s:.2f})" for n, s in near)]
                      for word, near in neighbours.items()]
    return {
        "results-summary": summary(m) + target_line(),
        "results-table": results_table(m),
        "neighbours": reporting.markdown_table(["word", "nearest by cosine similarity"],
                                               neighbour_rows),
        "sample": reporting.sample_section(RUN),
    }


def redraw() -> None:
    """The reference run's figures from its files, with no model: loss_curve.png from
    history.json and metrics.json, embeddings.png from embeddings.json (the 2-D points and
    groups train.py saved). The figures follow the plotting code, like the text."""
    if (RUN / "history.json").is_file() and (RUN / "metrics.json").is_file():
        loop.draw_loss_curve(RUN, f"SmaLLM {DEFAULT_MODEL}: loss per word token")
    if (RUN / "embeddings.json").is_file():
        embeddings.draw_embeddings(RUN)


def main(argv=None) -> int:
    args = reporting.report_parser(__doc__).parse_args(argv)
    if not args.check:
        redraw()
    return reporting.write_report(STAGE_DIR / "README.md", sections, check=args.check)


if __name__ == "__main__":
    sys.exit(main())
