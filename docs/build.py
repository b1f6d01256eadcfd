"""Write the generated parts of docs/ from the stages' committed reference runs.

    python docs/build.py           # part of `make docs`
    python docs/build.py --check   # exit 1 if docs/ is out of date (used by tests)
    python docs/build.py --all     # `make docs`: every stage's report script, then this one

The top README.md: the stage table and the two commands' times (docs/front_page.py).
docs/language-models.md, every language model of the roadmap (stage 1's ladder,
stage 2, stage 4's mini-GPT) on the same validation text, and the bits-per-character chart
docs/img/bits_per_char.png. docs/scaling.md: 1 against 2 torchrun processes, from
results/bench.json.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import front_page  # noqa: E402  (docs/, the folder of this script)

from shared import plotting, reporting, training  # noqa: E402
from shared.config import load_stage_config  # noqa: E402

# Every other script that writes a generated section, in the order `make docs` runs them.
REPORTS = [["TinyLLM/report.py"], ["SmaLLM/report.py"], ["MemoryLLM/report.py"],
           ["CodeLLM/compare.py", "--report-only", "--ticker", "MSFT"],
           ["CodeLLM/compare.py", "--report-only", "--ticker", "GOOG"],
           ["CodeLLM/report.py"], ["CodeLLM/train_seq2seq.py", "--report"], ["LLMind/report.py"]]
DOCS = ROOT / "docs"
CHART = DOCS / "img" / "bits_per_char.png"
BENCH = ROOT / "results" / "bench.json"
TINY = load_stage_config(ROOT / "TinyLLM" / "config.py")


def language_model_runs() -> list[dict]:
    """Every committed reference run of a language model, in roadmap order."""
    small = load_stage_config(ROOT / "SmaLLM" / "config.py").SmallConfig()
    wanted = [(1, "TinyLLM", "character", model) for model in TINY.MODELS]
    wanted += [(2, "SmaLLM", "word piece", small.model), (4, "CodeLLM", "character", "gpt")]
    runs = []
    for stage, folder, unit, model in wanted:
        path = ROOT / folder / "results" / f"reference-{model}" / "metrics.json"
        if path.is_file():
            runs.append({"stage": stage, "folder": folder, "unit": unit,
                         **training.read_json(path)})
    return runs


def name(r: dict) -> str:
    return "mini-GPT" if r["model"] == "gpt" else r["model"]


def comparison_table(runs: list[dict]) -> str:
    rows = []
    for r in runs:
        rows.append([f"{r['stage']} ({r['folder']})", name(r), r["unit"], r["vocab_size"],
                     r["params"], f"{r['val_perplexity']:,.2f}", f"**{r['val_bits_per_char']:.3f}**",
                     f"{r['train_seconds']:.0f} s", f"{r['tokens_per_second']:,.0f}"])
    return reporting.markdown_table(
        ["stage", "model", "token", "vocabulary", "params", "val perplexity per token",
         "val bits/char", "train time (2 cores)", "tokens/s"], rows)


def verdict(runs: list[dict]) -> str:
    """Which model wins on this text and budget, in words generated from the numbers."""
    default = TINY.TinyConfig().model
    by_key = {(r["stage"], r["model"]): r for r in runs}
    char, word = by_key.get((1, default)), next((r for r in runs if r["stage"] == 2), None)
    parts = []
    if char and word:
        winner = "the character model (stage 1)" if char["val_bits_per_char"] < \
            word["val_bits_per_char"] else "the word model (stage 2)"
        parts.append(
            f"On this text and budget, {winner} needs fewer bits per character: "
            f"{char['val_bits_per_char']:.3f} against {word['val_bits_per_char']:.3f}. The word "
            f"model's own predictions cost {word['val_bits_per_char_without_unk_cost']:.3f} "
            f"bits/char; the rest is the price of spelling the {word['val_unk_share']:.1%} of "
            "validation tokens that its vocabulary does not hold.")
    gpt = by_key.get((4, "gpt"))
    rnns = [r for r in runs if r["stage"] == 1 and r["model"] != "bigram"]
    if gpt and rnns:
        best = min(rnns, key=lambda r: r["val_loss"])
        wins = gpt["val_loss"] < best["val_loss"]
        gpt_chars = gpt["tokens_per_second"] * gpt["train_seconds"]
        rnn_chars = best["tokens_per_second"] * best["train_seconds"]
        parts.append(
            f"The mini-GPT (stage 4) reaches {gpt['val_loss']:.3f} nats/char "
            f"({gpt['val_bits_per_char']:.3f} bits/char) in {gpt['train_seconds']:.0f} s; the best "
            f"RNN of stage 1, the {best['model'].upper()}, reaches {best['val_loss']:.3f} in "
            f"{best['train_seconds']:.0f} s, so the transformer "
            + ("**wins**" if wins else "**loses**")
            + f" on this CPU budget by {abs(gpt['val_loss'] - best['val_loss']):.3f} nats/char. "
            f"It trained on {gpt_chars / 1e6:.1f} M characters at {gpt['tokens_per_second']:,.0f} "
            f"per second ({gpt['fraction_of_peak']:.1%} of the machine's matrix-multiply peak); "
            f"the {best['model'].upper()} on {rnn_chars / 1e6:.1f} M at "
            f"{best['tokens_per_second']:,.0f} per second." + still_falling(gpt, wins))
    return "\n\n" + "\n\n".join(parts) if parts else ""


def still_falling(gpt: dict, wins: bool) -> str:
    """What the mini-GPT's own curves say about a bigger budget."""
    history = training.read_json(ROOT / "CodeLLM" / "results" / "reference-gpt" / "history.json")
    if wins or len(history["val_loss"]) < 2:
        return ""
    interval = history["val_step"][-1] - history["val_step"][-2]
    train = sum(history["train_loss"][-interval:]) / interval
    passes = gpt["tokens_per_second"] * gpt["train_seconds"] / gpt["train_chars"]
    return (f" Over its last {interval} steps its validation loss (on the interval evaluations' "
            f"shorter text) moved from {history['val_loss'][-2]:.3f} to "
            f"{history['val_loss'][-1]:.3f} nats/char. By then it had read the training text "
            f"{passes:.0f} times, and its training loss ({train:.3f}) was "
            f"{history['val_loss'][-1] - train:.2f} below the validation loss: it had begun to "
            "memorise the ten plays. So more steps on the same text are unlikely to be enough; "
            "what it would take is more text (`--corpus full` has 38 plays) and the longer run "
            "that goes with it, which a GPU makes cheap.")


def chart(runs: list[dict]) -> None:
    bars, baselines = {}, []
    for r in runs:
        bars[f"{r['stage']}: {name(r)}"] = r["val_bits_per_char"]
    char = next((r for r in runs if r["stage"] == 1), None)
    word = next((r for r in runs if r["stage"] == 2), None)
    if char:
        baselines.append("char bigram\n(counted)")
        bars[baselines[-1]] = char["val_bigram_counts_bits_per_char"]
    if word:
        baselines.append("word unigram\n(counted)")
        bars[baselines[-1]] = word["val_unigram_counts_bits_per_char"]
    plotting.plot_bars(bars, CHART, title="Bits per character on the same validation text "
                       "(lower is better)", ylabel="bits per character", muted=tuple(baselines))


def processes_section() -> str:
    """`make bench`'s 1- against 2-process run of stage 1, or a pointer to it."""
    ddp = training.read_json(BENCH).get("ddp") if BENCH.is_file() else None
    if not ddp:
        return "(not measured yet: run `python benchmarks/run.py --stages ddp`)"
    rows = [[f"{r['processes']} x {r['threads_per_process']} threads", f"{r['tokens_per_second']:,.0f}",
             f"{r['val_loss']:.4f}", f"{r['train_seconds']:.0f}", f"{r['wall_seconds']:.0f}"]
            for r in ddp["rows"]]
    one, two = ddp["rows"][0], ddp["rows"][-1]
    ratio = two["tokens_per_second"] / one["tokens_per_second"]
    return (reporting.markdown_table(["processes", "tokens/s", "val loss (nats/char)",
                                      "train s", "wall s"], rows)
            + f"\n\n{ddp['model'].upper()}, {ddp['steps']} steps, the same effective batch. Two "
            f"processes ran at {ratio:.2f}x the single process's speed and ended "
            f"{abs(two['val_loss'] - one['val_loss']):.1g} nats/char apart: on one machine with 2 "
            "cores the processes only split the same cores and add gradient messages, so this "
            "measures DDP's overhead, not a speed-up. The speed-up comes with one GPU (or one "
            "machine) per process.")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true",
                        help="do not write; exit 1 if docs/ differs from the results")
    parser.add_argument("--all", action="store_true",
                        help="first run every stage's report script (what `make docs` does)")
    args = parser.parse_args(argv)
    if args.all:
        for command in REPORTS:
            extra = ["--check"] if args.check else []
            if subprocess.run([sys.executable, str(ROOT / command[0]), *command[1:], *extra]).returncode:
                print(f"error: {' '.join(command)} failed", file=sys.stderr)
                return 1
    runs = language_model_runs()
    if not runs:
        print("error: no reference runs; run `make bench` first", file=sys.stderr)
        return 2
    fresh = reporting.update_section(DOCS / "language-models.md", "comparison",
                                     comparison_table(runs) + verdict(runs), check=args.check)
    fresh &= reporting.update_section(DOCS / "scaling.md", "processes", processes_section(),
                                      check=args.check)
    bench = training.read_json(BENCH)
    for name, content in (("commands", front_page.commands_section(bench)),
                          ("stages", front_page.stage_table(bench))):
        fresh &= reporting.update_section(ROOT / "README.md", name, content, check=args.check)
    if not args.check:
        chart(runs)
    elif not CHART.is_file():
        fresh = False
    if args.check and not fresh:
        print("docs/ or README.md is out of date with the results files; run `make docs`",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
