"""Write the generated parts of docs/ from the stages' committed reference runs.

    python docs/build.py           # part of `make docs`
    python docs/build.py --check   # exit 1 if docs/ is out of date (used by tests)
    python docs/build.py --all     # `make docs`: every stage's report script, then this one

The top README.md: the stage table and the two commands' times (docs/front_page.py).
docs/language-models.md, every language model of the roadmap (stage 1's ladder,
stage 2, stage 4's mini-GPT) on the same test text, with paired block-bootstrap 95% intervals
(shared.lm.metrics.compare_runs) on the differences its sentences comment on, and the
bits-per-character chart docs/img/bits_per_char.png, and what each step buys (docs/steps.py).
docs/scaling.md: 1 against 2 torchrun processes, from results/bench.json.
Last, every page's glossary terms are linked at their first use (tools/glossary.py).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import front_page  # docs/, the folder of this script
import steps

from shared import plotting
from shared.lm import metrics, scoring, text
from shared.runtime import files
from shared.runtime.errors import UserError

from tools import glossary, reporting
from tools.loader import load_stage_config

ROOT = Path(__file__).resolve().parents[1]

# Every other script that writes a generated section, in the order `make docs` runs them.
REPORTS = [["docs/figures.py"],  # the architecture figures: drawn, no results read
           ["TinyLLM/report.py"], ["SmaLLM/report.py"], ["MemoryLLM/report.py"],
           ["CodeLLM/compare/compare.py", "--report-only", "--ticker", "MSFT"],
           ["CodeLLM/compare/compare.py", "--report-only", "--ticker", "GOOG"],
           ["CodeLLM/compare/claims.py", "--report"],  # the same page, its claims figures too
           ["CodeLLM/report.py"], ["CodeLLM/seq2seq/train.py", "--report"],
           ["CodeLLM/minigpt/budgets.py", "--report"], ["CodeLLM/minigpt/sweep.py", "--report"],
           ["CodeLLM/minigpt/genre.py", "--report"],
           ["LLMind/report.py"], ["LLMind/decoder/report.py"],
           # each stage README's "Try this" section, from its measured exercise runs
           *[[f"{stage}/exercises.py", "--report"]
             for stage in ("TinyLLM", "SmaLLM", "MemoryLLM", "CodeLLM", "LLMind")]]
DOCS = ROOT / "docs"
CHART = DOCS / "img" / "bits_per_char.png"
BENCH = ROOT / "results" / "bench.json"
DECODER = ROOT / "LLMind" / "decoder" / "results" / "reference-smollm2"
TINY = load_stage_config(ROOT / "TinyLLM" / "config.py")
difference = load_stage_config(ROOT / "TinyLLM" / "report.py").difference  # the same wording
NEEDED = ("test_bits_per_char", "test_block_nats", "test_text_sha256")
LAST_EVALUATIONS = 3  # how many interval evaluations "still falling" looks at


def language_model_runs() -> list[dict]:
    """Every committed reference run of a language model, in roadmap order."""
    small = load_stage_config(ROOT / "SmaLLM" / "config.py").SmallConfig()
    wanted = [(1, "TinyLLM", "character", model) for model in TINY.MODELS]
    wanted += [(2, "SmaLLM", "word piece", small.model), (4, "CodeLLM/minigpt", "character", "gpt")]
    runs, test_text = [], scoring.fingerprint(text.shakespeare_test())
    for stage, folder, unit, model in wanted:
        path = ROOT / folder / "results" / f"reference-{model}" / "metrics.json"
        if path.is_file():
            run = files.read_json(path)
            if missing := [k for k in NEEDED if k not in run]:
                raise UserError(f"{path} has no {missing[0]} (written before the test split "
                                "existed); run `make bench` to regenerate the reference runs")
            if run["test_text_sha256"] != test_text:
                raise UserError(f"{path} was scored on another test text than shared/lm/text.py's; "
                                "run `make bench` to regenerate the reference runs")
            runs.append({"stage": stage, "folder": folder, "unit": unit, **run})
    return runs + decoder_runs(test_text)


def decoder_runs(test_text: str) -> list[dict]:
    """Stage 5's SmolLM2, before and after LoRA fine-tuning, as two rows of the same shape."""
    path = DECODER / "metrics.json"
    if not path.is_file():
        return []
    m = files.read_json(path)
    rows = []
    for key, label, seconds in (("zero_shot", "SmolLM2 (pretrained)", None),
                                ("finetuned", "SmolLM2 + LoRA", m.get("train_seconds"))):
        if key not in m:
            continue
        if m[key].get("test_text_sha256") != test_text:
            raise UserError(f"{path} was scored on another test text than shared/lm/text.py's; rerun "
                            "`python LLMind/decoder/train.py --run-name reference-smollm2`")
        rows.append({"stage": 5, "folder": "LLMind/decoder", "unit": "byte-level BPE", "model": label,
                     "vocab_size": m["base"]["vocab_size"], "params": m["base"]["params"],
                     "val_bits_per_char": None, "train_seconds": seconds,
                     "tokens_per_second": m.get("tokens_per_second") if seconds else None,
                     "trainable": m.get("params_trainable") if seconds else 0, **m[key]})
    return rows


def name(r: dict) -> str:
    return "mini-GPT" if r["model"] == "gpt" else r["model"]


def comparison_table(runs: list[dict]) -> str:
    rows = []
    for r in runs:
        lora = f" (LoRA, {r['trainable']:,} weights)" if r["stage"] == 5 else ""  # pretrained elsewhere
        rows.append([f"{r['stage']} ({r['folder']})", name(r), r["unit"], r["vocab_size"],
                     r["params"], "-" if r["val_bits_per_char"] is None else f"{r['val_bits_per_char']:.3f}",
                     f"{r['test_perplexity']:,.2f}", f"**{r['test_bits_per_char']:.3f}**",
                     "pretrained elsewhere" if r["train_seconds"] is None else
                     f"{r['train_seconds']:.0f} s{lora}",
                     "-" if r["tokens_per_second"] is None else f"{r['tokens_per_second']:,.0f}"])
    return reporting.markdown_table(
        ["stage", "model", "token", "vocabulary", "params", "val bits/char",
         "test perplexity per token", "test bits/char", "train time (2 cores)", "tokens/s"], rows)


def verdict(runs: list[dict]) -> str:
    """Which model wins on this text and budget, in words generated from the numbers: each
    comparison with its paired block-bootstrap 95% interval on the test text."""
    default = TINY.TinyConfig().model
    by_key = {(r["stage"], r["model"]): r for r in runs}
    char, word = by_key.get((1, default)), next((r for r in runs if r["stage"] == 2), None)
    parts = [f"Differences below are in bits per character on the test text ({runs[0]['test_chars']:,} "
             f"characters), with paired block-bootstrap 95% intervals over its "
             f"{runs[0]['test_block_chars']:,}-character blocks (2,000 resamples)."]
    if char and word:
        said = difference(metrics.compare_runs(word, char), "the word model (stage 2)",
                          f"the character {default.upper()} (stage 1)")
        parts.append(
            f"Characters or words: {said}; "
            f"{word['test_bits_per_char']:.3f} against {char['test_bits_per_char']:.3f}. The word "
            f"model's own predictions cost {word['test_bits_per_char_without_unk_cost']:.3f} "
            f"bits/char; the rest is the price of spelling the {word['test_unk_share']:.1%} of "
            "test tokens that its vocabulary does not hold.")
    gpt = by_key.get((4, "gpt"))
    rnns = [r for r in runs if r["stage"] == 1 and r["model"] != "bigram"]
    if gpt and rnns:
        best = min(rnns, key=lambda r: r["val_loss"])  # chosen on validation, not on test
        rnn = best["model"].upper()
        said = difference(metrics.compare_runs(gpt, best), "the mini-GPT", f"the {rnn}")
        gpt_chars = gpt["tokens_per_second"] * gpt["train_seconds"]
        rnn_chars = best["tokens_per_second"] * best["train_seconds"]
        parts.append(
            f"Attention or recurrence: the mini-GPT (stage 4) reaches "
            f"{gpt['test_bits_per_char']:.3f} bits/char in {gpt['train_seconds']:.0f} s of "
            f"training; stage 1's RNN with the lowest validation loss, the {rnn}, "
            f"reaches {best['test_bits_per_char']:.3f} in {best['train_seconds']:.0f} s. On this "
            f"CPU budget {said}. "
            f"It trained on {gpt_chars / 1e6:.1f} M characters at {gpt['tokens_per_second']:,.0f} "
            f"per second ({gpt['fraction_of_peak']:.1%} of the machine's matrix-multiply peak); "
            f"the {rnn} on {rnn_chars / 1e6:.1f} M at "
            f"{best['tokens_per_second']:,.0f} per second." + curve(gpt))
    zero, tuned = by_key.get((5, "SmolLM2 (pretrained)")), by_key.get((5, "SmolLM2 + LoRA"))
    if zero and rnns:
        best = min(rnns, key=lambda r: r["val_loss"])
        rnn = best["model"].upper()
        said = difference(metrics.compare_runs(zero, best), "SmolLM2 before any Shakespeare",
                          f"the {rnn} trained on it")
        words = (f"Pretrained or from scratch: SmolLM2 (stage 5) has {zero['params'] / 1e6:.1f} M "
                 "parameters pretrained elsewhere on trillions of tokens of modern text, "
                 f"{zero['params'] / best['params']:.0f} times the {rnn}'s, and a byte-level BPE "
                 f"vocabulary of {zero['vocab_size']:,}; none of its pretraining was chosen for this "
                 f"play. Scored as it comes, {said}.")
        if tuned:
            lora = difference(metrics.compare_runs(tuned, zero), "the fine-tuned SmolLM2",
                              "the pretrained one")
            after = difference(metrics.compare_runs(tuned, best), "the fine-tuned SmolLM2", f"the {rnn}")
            words += (f" After {tuned['train_seconds']:.0f} s of LoRA fine-tuning on stage 1's training "
                      f"text ({tuned['trainable']:,} weights trained), {lora}; {after}.")
        parts.append(words)
    return "\n\n" + "\n\n".join(parts) if len(parts) > 1 else ""


def curve(gpt: dict) -> str:
    """What the mini-GPT's own validation curve shows, and only that: is its best step the
    last, did the interval evaluations still fall, how far apart were training and
    validation at the end."""
    folder = ROOT / "CodeLLM" / "minigpt" / "results" / "reference-gpt"
    history = files.read_json(folder / "history.json")
    eval_chars = files.read_json(folder / "config.json")["eval_tokens"]
    steps, vals = history["val_step"], history["val_loss"]
    if len(vals) < 2:
        return ""
    last = vals[-LAST_EVALUATIONS:]
    falling = all(later < earlier for earlier, later in zip(last, last[1:], strict=False))
    passes = gpt["tokens_per_second"] * gpt["train_seconds"] / gpt["train_chars"]
    words = (f" Its validation loss at the interval evaluations (the first {eval_chars:,} "
             f"characters of validation) went {' -> '.join(f'{v:.3f}' for v in last)} nats/char "
             f"over the last {len(last)}, ")
    if gpt["best_step"] == gpt["steps"] and falling:
        words += (f"falling at each, and its best checkpoint is its last step ({gpt['steps']:,}): "
                  "the run ended while still improving, so this budget does not show where more "
                  "steps on the same text would stop helping.")
    elif gpt["best_step"] == gpt["steps"]:
        words += (f"not falling at each, though its best checkpoint is its last step "
                  f"({gpt['steps']:,}).")
    else:
        words += (f"and its best checkpoint is step {gpt['best_step']:,} of {gpt['steps']:,}: the "
                  "later evaluations did not improve on it.")
    interval = steps[-1] - steps[-2]
    train = sum(history["train_loss"][-interval:]) / interval
    gap = vals[-1] - train
    words += (f" By then it had read the training text {passes:.0f} times; over its last "
              f"{interval} steps its training loss averaged {train:.3f} nats/char, "
              f"{abs(gap):.3f} {'below' if gap > 0 else 'above'} that last validation loss "
              "(training and validation are different text, so the gap alone does not measure "
              "memorisation).")
    return words


def chart(runs: list[dict]) -> None:
    bars, baselines = {}, []
    for r in runs:
        bars[f"{r['stage']}: {name(r)}"] = r["test_bits_per_char"]
    char = next((r for r in runs if r["stage"] == 1), None)
    word = next((r for r in runs if r["stage"] == 2), None)
    if char:
        baselines.append("char bigram\n(counted)")
        bars[baselines[-1]] = char["test_bigram_counts_bits_per_char"]
    if word:
        baselines.append("word unigram\n(counted)")
        bars[baselines[-1]] = word["test_unigram_counts_bits_per_char"]
    plotting.plot_bars(bars, CHART, title="Bits per character on the same test text "
                       "(lower is better)", ylabel="bits per character", muted=tuple(baselines))


def processes_section() -> str:
    """`make bench`'s 1- against 2-process run of stage 1, or a pointer to it."""
    ddp = files.read_json(BENCH).get("ddp") if BENCH.is_file() else None
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
    try:
        runs = language_model_runs()
    except UserError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    if not runs:
        print("error: no reference runs; run `make bench` first", file=sys.stderr)
        return 2
    fresh = reporting.update_section(DOCS / "language-models.md", "comparison",
                                     comparison_table(runs) + verdict(runs), check=args.check)
    try:
        fresh &= reporting.update_section(DOCS / "language-models.md", "steps", steps.section(),
                                          check=args.check)
    except UserError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    fresh &= reporting.update_section(DOCS / "scaling.md", "processes", processes_section(),
                                      check=args.check)
    bench = files.read_json(BENCH)
    for name, content in (("commands", front_page.commands_section(bench)),
                          ("stages", front_page.stage_table(bench))):
        fresh &= reporting.update_section(ROOT / "README.md", name, content, check=args.check)
    if not args.check:
        chart(runs)
    elif not CHART.is_file():
        fresh = False
    # Last, because every page above may have changed: each glossary term linked at its first use
    # on the pages no report script writes (the others were linked as they were written).
    stale = glossary.link_pages(check=args.check)
    fresh &= not stale
    if args.check and not fresh:
        print("docs/ or README.md is out of date with the results files; run `make docs`",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
