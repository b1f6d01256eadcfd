"""Write the generated sections of CodeLLM's pages from the code and the results files: the
concept map of README.md (where each idea lives in blocks.py and forecaster/model.py), the GOOG
results of compare/README.md (saved by compare/compare.py) and the mini-GPT's reference run in
minigpt/README.md.

    python CodeLLM/report.py           # part of `make docs`
    python CodeLLM/report.py --check   # exit 1 if the README is out of date (used by tests)
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from CodeLLM.compare import report as compare_report

from shared.lm import loop
from shared.runtime import files
from shared.runtime.errors import UserError

from tools import reporting

STAGE_DIR = Path(__file__).resolve().parent

COMPARISON = STAGE_DIR / "compare" / "results" / "compare-goog" / "comparison.json"
GPT_RUN = STAGE_DIR / "minigpt" / "results" / "reference-gpt"
CODE = ("blocks.py", "forecaster/model.py")  # where the [tags] are looked for, in this order
# The README's concepts, in reading order, and the [tag] that marks each in CODE.
CONCEPTS = [
    ("queries, keys and values", "queries"), ("scaled dot-product", "scaled dot product"),
    ("masking", "masking"), ("multi-head attention", "multi-head"),
    ("self-attention", "self-attention"), ("residual connection", "residual"),
    ("positional encoding", "position"), ("encoder", "encoder"),
    ("cross-attention", "cross-attention"), ("causal mask", "causal mask"),
    ("decoder", "decoder"), ("teacher forcing", "teacher forcing"),
]


def tagged_line(tag: str) -> tuple[str, int, str]:
    """The first file of CODE with a `# ... [tag]` comment: (file, line number, its code). A
    comment on a line of its own tags the next line."""
    for name in CODE:
        lines = (STAGE_DIR / name).read_text(encoding="utf-8").splitlines()
        for i, line in enumerate(lines):
            if re.search(rf"#.*\[{re.escape(tag)}\]", line):
                return name, i + 1, line.split("#")[0].strip() or lines[i + 1].split("#")[0].strip()
    raise UserError(f"no [{tag}] comment in CodeLLM/{' or CodeLLM/'.join(CODE)}")


def code_map() -> str:
    rows = []
    for concept, tag in CONCEPTS:
        name, n, code = tagged_line(tag)
        rows.append([concept, f"[{name} line {n}]({name}#L{n})", f"`{code}`"])
    return reporting.markdown_table(["concept", "where", "the line"], rows)


def minigpt(m: dict, sample: str) -> str:
    c = m["model_config"]
    table = reporting.markdown_table(
        ["params", "blocks x heads, width", "context", "steps", "train time (2 cores)",
         "chars/s", "of matmul peak", "val bits/char", "test nats/char", "test bits/char"],
        [[m["params"], f"{c['n_layer']} x {c['heads']}, {c['d_model']}", c["block_size"],
          m["steps"], f"{m['train_seconds']:.0f} s", f"{m['tokens_per_second']:,.0f}",
          f"{m['fraction_of_peak']:.1%}", f"{m['val_bits_per_char']:.3f}", f"{m['test_loss']:.3f}",
          f"**{m['test_bits_per_char']:.3f}**"]])
    return (f"The reference run (`make bench`, default settings, `results/reference-gpt/`), its "
            f"checkpoint (step {m['best_step']:,}) chosen on validation and scored once on the "
            f"test text:\n\n{table}\n\nThe matrix-multiply peak it is measured against: "
            f"{m['matmul_peak_flops'] / 1e9:.0f} GFLOP/s ({m['matmul_peak_source']}). The first "
            f"lines of its sample (temperature from the run's config):\n\n```text\n"
            f"{chr(10).join(sample.strip().splitlines()[:8])}\n```")


def readme() -> dict[str, str]:
    return {"code-map": code_map()}


def compare_page() -> dict[str, str]:
    if not COMPARISON.is_file():
        raise UserError(f"no comparison in {COMPARISON}; run `make compare` first")
    c = files.read_json(COMPARISON)
    if "tests" not in c:  # written before the ridge baseline and the Holm correction
        raise UserError(f"{COMPARISON} is out of date; run `python CodeLLM/compare/compare.py "
                        "--report-only --reanalyse` (or `make compare`)")
    return {"results": compare_report.accuracy_table(c) + "\n\n" + compare_report.conclusion(c)}


def minigpt_page() -> dict[str, str]:
    """The reference run's section, once `make bench` has run it."""
    if not (GPT_RUN / "metrics.json").is_file():
        return {}
    m = files.read_json(GPT_RUN / "metrics.json")
    if "test_bits_per_char" not in m:
        raise UserError(f"{GPT_RUN / 'metrics.json'} has no test_bits_per_char (written before "
                        "the test split existed); run `make bench` to regenerate the reference runs")
    return {"minigpt": minigpt(m, (GPT_RUN / "sample.txt").read_text(encoding="utf-8"))}


def redraw() -> None:
    """The mini-GPT reference run's loss_curve.png from its history.json and metrics.json, with
    the title train.py gives it: the figure follows the plotting code, like the text."""
    if (GPT_RUN / "history.json").is_file() and (GPT_RUN / "metrics.json").is_file():
        loop.draw_loss_curve(GPT_RUN, "CodeLLM mini-GPT: loss per character")


PAGES = {"README.md": readme, "compare/README.md": compare_page, "minigpt/README.md": minigpt_page}


def main(argv=None) -> int:
    args = reporting.report_parser(__doc__).parse_args(argv)
    if not args.check:
        redraw()
    return max(reporting.write_report(STAGE_DIR / page, sections, check=args.check)
               for page, sections in PAGES.items())


if __name__ == "__main__":
    sys.exit(main())
