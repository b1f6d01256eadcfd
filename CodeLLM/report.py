"""Write the generated sections of CodeLLM/README.md: where each concept lives in model.py, and
the results of the GOOG comparison saved by compare.py.

    python CodeLLM/report.py           # part of `make docs`
    python CodeLLM/report.py --check   # exit 1 if the README is out of date (used by tests)
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import compare_report

from shared.runtime import files
from shared.runtime.errors import UserError

from tools import reporting

STAGE_DIR = Path(__file__).resolve().parent

COMPARISON = STAGE_DIR / "results" / "compare-goog" / "comparison.json"
GPT_RUN = STAGE_DIR / "results" / "reference-gpt"
# The README's concepts, in reading order, and the [tag] that marks each in model.py.
CONCEPTS = [
    ("queries, keys and values", "queries"), ("scaled dot-product", "scaled dot product"),
    ("masking", "masking"), ("multi-head attention", "multi-head"),
    ("self-attention", "self-attention"), ("residual connection", "residual"),
    ("positional encoding", "position"), ("encoder", "encoder"),
    ("cross-attention", "cross-attention"), ("causal mask", "causal mask"),
    ("decoder", "decoder"), ("teacher forcing", "teacher forcing"),
]


def code_map() -> str:
    lines = (STAGE_DIR / "model.py").read_text(encoding="utf-8").splitlines()
    rows = []
    for concept, tag in CONCEPTS:
        found = [i + 1 for i, line in enumerate(lines) if re.search(rf"#.*\[{re.escape(tag)}\]", line)]
        if not found:
            raise SystemExit(f"error: no [{tag}] comment in CodeLLM/model.py")
        n = found[0]
        code = lines[n - 1].split("#")[0].strip() or lines[n].split("#")[0].strip()
        rows.append([concept, f"[model.py line {n}](model.py#L{n})", f"`{code}`"])
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


def sections() -> dict[str, str]:
    """Every generated section of the README: the code map, the comparison and (once `make
    bench` has run it) the mini-GPT."""
    content = {"code-map": code_map()}
    if not COMPARISON.is_file():
        raise UserError(f"no comparison in {COMPARISON}; run `make compare` first")
    c = files.read_json(COMPARISON)
    if "tests" not in c:  # written before the ridge baseline and the Holm correction
        raise UserError(f"{COMPARISON} is out of date; run `python CodeLLM/compare.py --report-only "
                        "--reanalyse` (or `make compare`)")
    content["results"] = compare_report.accuracy_table(c) + "\n\n" + compare_report.conclusion(c)
    if (GPT_RUN / "metrics.json").is_file():
        m = files.read_json(GPT_RUN / "metrics.json")
        if "test_bits_per_char" not in m:
            raise UserError(f"{GPT_RUN / 'metrics.json'} has no test_bits_per_char (written "
                            "before the test split existed); run `make bench` to regenerate the "
                            "reference runs")
        content["minigpt"] = minigpt(m, (GPT_RUN / "sample.txt").read_text(encoding="utf-8"))
    return content


def main(argv=None) -> int:
    return reporting.report_main(__doc__, STAGE_DIR / "README.md", sections, argv)


if __name__ == "__main__":
    sys.exit(main())
