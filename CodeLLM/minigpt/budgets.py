"""When transformers win: the mini-GPT against stage 1's GRU under the same CPU time budgets,
on the 10-play text and on all 37 plays (the same validation and test text for both).

    cd CodeLLM/minigpt
    python budgets.py                         # budgets of 1, 3 and 9 minutes: ~1 hour on 2 cores
    python budgets.py --run-name reference-budgets   # the committed run; rewrites the README section
    python budgets.py --budgets 2 5 15        # longer budgets (about 1.5 hours)
    python budgets.py --device cuda           # a GPU's figures, in a run folder of their own
    python budgets.py --smoke                 # about a minute: tiny models, budgets of seconds
    python budgets.py --report                # rewrite README.md's section from the reference run

Each model keeps its stage's default settings (stage 1's GRU, TinyLLM/train.py; this folder's
mini-GPT, train.py) and trains once per corpus and budget through its own train script, with
`--time-budget`: training stops after that many seconds (evaluations not counted) and the
learning rate decays over the budget, so every budget ends its schedule. Validation chooses
each run's checkpoint; the test text (a play no run trains or selects on) scores it once. Every
GPT-minus-GRU difference carries a paired block-bootstrap 95% interval over the test text.

A run writes results/<run-name>/ (default budgets): metrics.json (every run's figures, the
comparisons, the machine and its load), budgets.png, and runs/<model>-<corpus>-<seconds>s/, one
train run each. Ctrl-C loses at most the run in progress: the same command resumes it and
reuses the finished ones.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from runs import GPT_SCRIPT, GRU_SCRIPT, launch, machine, paired, report_section, total_wall, wall

from shared import plotting
from shared.lm import metrics as lm_metrics
from shared.runtime import files
from shared.runtime.config import opt, parse_stage_args
from shared.runtime.errors import UserError, run_main

from tools import reporting

STAGE_DIR = Path(__file__).resolve().parent
PAGE, SECTION = STAGE_DIR / "README.md", "when-transformers-win"
REFERENCE = STAGE_DIR / "results" / "reference-budgets"
MODELS = {"gru": ("GRU", GRU_SCRIPT), "gpt": ("mini-GPT", GPT_SCRIPT)}
CORPUS_NAMES = {"tiny": "10 plays", "full": "37 plays"}
COLOURS = {"gru": "tab:blue", "gpt": "tab:orange"}


@dataclass
class BudgetConfig:
    budgets: list = opt([1.0, 3.0, 9.0], "training minutes per run (each model, each corpus)")
    corpora: list = opt(["tiny", "full"], "training text: tiny (10 plays) and/or full (37 plays)",
                        choices=list(CORPUS_NAMES))
    seed: int = opt(1337, "the seed of every run")
    eval_tokens: int = opt(40_000, "validation characters of the interval evaluations, the same "
                                   "for both models (the final scores use all of it)")
    device: str = opt("cpu", "where the runs train; the budgets are CPU budgets, and a GPU's "
                             "figures go to a run folder of their own", choices=["cpu", "cuda", "mps"])
    tensorboard: bool = opt(True, "each run writes TensorBoard event files into its folder "
                                  "(runs/<run>/tensorboard/: `tensorboard --logdir runs` compares them)")
    out_dir: str = opt(str(STAGE_DIR / "results"), "folder that holds one sub-folder per run", metavar="DIR")
    run_name: str | None = opt(None, "sub-folder of --out-dir (default: budgets, smoke-budgets, "
                                     "or budgets-<device> off the CPU)")


# --smoke: the train scripts' own tiny models (their --smoke), for 3 seconds each, no live curves.
# One budget is enough to check the plumbing (same budget for both models, both corpora).
SMOKE_OVERRIDES = dict(budgets=[0.05], eval_tokens=4_000, tensorboard=False)


def default_run_name(cfg: BudgetConfig, smoke: bool) -> str:
    return "smoke-budgets" if smoke else "budgets" if cfg.device == "cpu" else f"budgets-{cfg.device}"


def check(cfg: BudgetConfig) -> None:
    """Bad input, one line each, before anything trains."""
    if not cfg.budgets or min(cfg.budgets) <= 0:
        raise UserError(f"--budgets {cfg.budgets}: give positive numbers of minutes")
    if len(set(cfg.budgets)) != len(cfg.budgets) or len(set(cfg.corpora)) != len(cfg.corpora):
        raise UserError("--budgets and --corpora: give each value once")
    if cfg.eval_tokens < 1:
        raise UserError(f"--eval-tokens {cfg.eval_tokens}: must be positive")


def seconds(minutes: float) -> float:
    return round(minutes * 60, 1)


def run_name(model: str, corpus: str, secs: float) -> str:
    return f"{model}-{corpus}-{secs:g}s"


def experiment(cfg: BudgetConfig, smoke: bool) -> dict:
    check(cfg)
    out = files.run_dir(cfg.out_dir, cfg.run_name)
    runs_dir = out / "runs"
    started, at_start = time.perf_counter(), machine()
    runs: dict[str, dict] = {}
    budgets = sorted(cfg.budgets)
    total = len(budgets) * len(cfg.corpora) * len(MODELS)
    print(f"{total} runs, {sum(budgets) * len(cfg.corpora) * len(MODELS):g} minutes of training "
          f"in all, on {cfg.device} ({at_start['cpu_count']} cores, load {at_start['load_average_1min']})")
    for corpus in cfg.corpora:
        for minutes in budgets:
            for model, (label, script) in MODELS.items():
                secs = seconds(minutes)
                flags = ["--time-budget", secs, "--corpus", corpus, "--seed", cfg.seed,
                         "--eval-tokens", cfg.eval_tokens, "--device", cfg.device,
                         *(["--smoke"] if smoke else [])]
                name = run_name(model, corpus, secs)
                runs[name] = launch(script, flags, runs_dir, name, f"[{len(runs) + 1}/{total}] "
                                    f"{label}, {CORPUS_NAMES[corpus]}, {secs:g} s", cfg.tensorboard)
    comparisons = []
    for corpus in cfg.corpora:
        for minutes in budgets:
            gru, gpt = (runs[run_name(m, corpus, seconds(minutes))] for m in ("gru", "gpt"))
            comparisons.append({"corpus": corpus, "seconds": seconds(minutes), **paired(gpt, gru)})
    data_effect = []  # the same model and budget, 37 plays minus 10 plays
    if set(cfg.corpora) == {"tiny", "full"}:
        for model in MODELS:
            for minutes in budgets:
                full, tiny = (runs[run_name(model, c, seconds(minutes))] for c in ("full", "tiny"))
                data_effect.append({"model": model, "seconds": seconds(minutes), **paired(full, tiny)})
    result = {"settings": {**dataclasses.asdict(cfg), "budgets": budgets, "smoke": smoke},
              "runs": runs, "comparisons": comparisons, "data_effect": data_effect,
              "machine": {**at_start, "load_average_1min_end": machine()["load_average_1min"]},
              "wall_seconds": round(time.perf_counter() - started, 1),
              "runs_wall_seconds": total_wall(runs)}  # differs from wall_seconds if runs were reused
    files.write_json(out / "metrics.json", result)
    plot(result, out / "budgets.png")
    for line in conclusions(result):
        print(line)
    print(f"wrote {out} in {result['wall_seconds']:.0f}s")
    if out.resolve() == REFERENCE.resolve():
        report()
    return result


def plot(result: dict, path: Path) -> None:
    """Left: test bits/char against the budget, a colour per model, a line style per corpus.
    Right: the mini-GPT minus the GRU with its 95% interval; below zero the mini-GPT is ahead."""
    fig, (left, right) = plotting.figure(2, width=11.5)
    styles = {"tiny": "--", "full": "-"}
    for corpus in result["settings"]["corpora"]:
        rows = [c for c in result["comparisons"] if c["corpus"] == corpus]
        x = [c["seconds"] / 60 for c in rows]
        for model, (label, _) in MODELS.items():
            y = [result["runs"][run_name(model, corpus, c["seconds"])]["test_bits_per_char"] for c in rows]
            left.plot(x, y, styles[corpus], marker="o", color=COLOURS[model],
                      label=f"{label}, {CORPUS_NAMES[corpus]}")
        d = [c["difference"] for c in rows]
        errors = [[c["difference"] - c["low"] for c in rows], [c["high"] - c["difference"] for c in rows]]
        right.errorbar(x, d, yerr=errors, fmt=styles[corpus] + "o", capsize=4, color="black",
                       alpha=0.5 if corpus == "tiny" else 1.0, label=CORPUS_NAMES[corpus])
    right.axhline(0, color="grey", lw=1)
    for ax in (left, right):
        ax.set_xscale("log")
        ax.set_xticks(x, [f"{v:g}" for v in x])  # the budgets themselves, not powers of ten
        ax.minorticks_off()
        ax.set_xlabel("training budget (minutes, log scale)")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    left.set_ylabel("test bits per character (lower is better)")
    left.set_title("Each model against its budget")
    right.set_ylabel("mini-GPT minus GRU, bits/char (95% interval)")
    right.set_title("Below zero: the mini-GPT is ahead")
    plotting.save_figure(fig, path)


def verdict(c: dict) -> str:
    if not c["significant"]:
        return "no significant difference"
    return "mini-GPT better" if c["difference"] < 0 else "GRU better"


def as_minutes(secs: float) -> str:
    return f"{secs / 60:g} min"


def interval(c: dict) -> str:
    return f"{c['difference']:+.3f} bits/char, 95% interval {c['low']:+.3f} to {c['high']:+.3f}"


def interaction(result: dict, secs: float) -> dict:
    """Did the extra plays help the mini-GPT more than the GRU, at one budget? (GPT on 37 plays -
    GPT on 10) - (GRU on 37 - GRU on 10), in test bits/char, with a paired block-bootstrap 95%
    interval: the four runs are scored on the same blocks, so each block's two sums pair up."""
    run = {(m, c): result["runs"][run_name(m, c, secs)] for m in MODELS for c in ("tiny", "full")}
    blocks = {k: np.asarray(r["test_block_nats"]) for k, r in run.items()}
    a = blocks["gpt", "full"] + blocks["gru", "tiny"]
    b = blocks["gpt", "tiny"] + blocks["gru", "full"]
    chars = lm_metrics.block_lengths(run["gru", "tiny"]["test_chars"], run["gru", "tiny"]["test_block_chars"])
    return lm_metrics.paired_block_bootstrap(a, b, chars)


def budget_list(rows: list[dict]) -> str:
    names = [as_minutes(c["seconds"]) for c in rows]
    return " and ".join([", ".join(names[:-1]), names[-1]] if len(names) > 1 else names)


def conclusions(result: dict) -> list[str]:
    """What the numbers say: per corpus, where the mini-GPT was ahead, behind or level; then
    what the extra plays did for each model, and whether they helped the mini-GPT more."""
    lines, flips = [], False
    for corpus in result["settings"]["corpora"]:
        rows = [c for c in result["comparisons"] if c["corpus"] == corpus]
        ahead = [c for c in rows if c["significant"] and c["difference"] < 0]
        behind = [c for c in rows if c["significant"] and c["difference"] > 0]
        level = [c for c in rows if not c["significant"]]
        where, last = f"On the {CORPUS_NAMES[corpus]}", rows[-1]
        stays = ahead and all(c in ahead for c in rows[rows.index(ahead[0]):])
        if stays:
            lines.append(f"{where} the mini-GPT overtook the GRU from the {as_minutes(ahead[0]['seconds'])} "
                         f"budget and stayed ahead ({interval(last)} at {as_minutes(last['seconds'])}).")
        else:
            parts = [f"{word} at {budget_list(group)}" for word, group in
                     (("ahead of the GRU", ahead), ("behind the GRU", behind), ("level", level)) if group]
            lines.append(f"{where} the mini-GPT was " + ", ".join(parts) + ": it did not overtake for "
                         f"good within {as_minutes(last['seconds'])} ({interval(last)} at "
                         f"{as_minutes(last['seconds'])}, mini-GPT minus GRU).")
            flips = flips or bool(ahead and behind)
    if flips:
        lines.append("The lead changes hands between budgets: with one run per cell, a lead at one "
                     "budget alone may be within run-to-run noise.")
    if result["data_effect"]:
        longest = max(c["seconds"] for c in result["data_effect"])
        effect = {c["model"]: c for c in result["data_effect"] if c["seconds"] == longest}
        lines.append(f"More text (37 plays instead of 10) at the {as_minutes(longest)} budget, in test "
                     "bits/char (below zero: the extra plays helped): " + "; ".join(
                         f"the {label} {interval(effect[model]).replace(' bits/char', '')}"
                         for model, (label, _) in MODELS.items()) + ".")
        both = interaction(result, longest)
        helped = ("no more than the GRU (no significant difference)" if not both["significant"]
                  else "more than the GRU" if both["difference"] < 0 else "less than the GRU")
        lines.append(f"The extra plays helped the mini-GPT {helped}: the difference of the two gains is "
                     f"{interval(both)}.")
    return lines


def section(result: dict) -> str:
    """The README section, from a results file."""
    s, runs, m = result["settings"], result["runs"], result["machine"]
    corpora = s["corpora"]
    first = {model: runs[run_name(model, corpora[0], seconds(s["budgets"][0]))] for model in MODELS}
    sizes = {c: runs[run_name("gru", c, seconds(s["budgets"][0]))]["train_chars"] for c in corpora}
    rows = []
    for c in result["comparisons"]:
        gru, gpt = (runs[run_name(model, c["corpus"], c["seconds"])] for model in MODELS)
        # passes over the training text: characters read (speed x time) over its length
        epochs = {k: r["tokens_per_second"] * r["train_seconds"] / r["train_chars"]
                  for k, r in (("gru", gru), ("gpt", gpt))}
        rows.append([CORPUS_NAMES[c["corpus"]], as_minutes(c["seconds"]),
                     f"{gru['test_bits_per_char']:.3f} ({gru['steps']:,} steps, {epochs['gru']:.1f} passes)",
                     f"{gpt['test_bits_per_char']:.3f} ({gpt['steps']:,} steps, {epochs['gpt']:.1f} passes)",
                     f"{c['difference']:+.3f} ({c['low']:+.3f} to {c['high']:+.3f})", verdict(c)])
    device = m["gpu"] if s["device"] == "cuda" else f"{m['cpu_count']} CPU cores"
    texts = ", ".join(f"{CORPUS_NAMES[c]} ({sizes[c] / 1e6:.1f} M characters)" for c in corpora)
    text = [
        f"Stage 1's GRU ({first['gru']['params']:,} parameters) and the mini-GPT "
        f"({first['gpt']['params']:,} parameters), each with its stage's default settings, trained once per "
        f"corpus and budget on {device} (one seed, {s['seed']}), with `--time-budget`: training stops "
        "after that many seconds (evaluations not counted) and the learning rate decays over the "
        "budget. Validation (the same text for both corpora) chose each checkpoint; the test play "
        f"scored it. Training text: {texts}. "
        "Table: test bits per character (lower is better), the steps taken and the passes over the "
        "training text, and the mini-GPT minus the GRU with its paired block-bootstrap 95% interval.",
        reporting.markdown_table(["training text", "budget", "GRU", "mini-GPT", "GPT - GRU (95% interval)",
                                  "verdict"], rows),
        " ".join(conclusions(result)),
        f"Wall time {wall(result) / 60:.0f} min for the {len(runs)} runs (start-up and final scoring "
        f"included, measured run by run); load average {m['load_average_1min']} at the start and "
        f"{m['load_average_1min_end']} at the end of the last sitting (other work on the machine "
        "shortens what a budget buys). The interval covers the test text's variation, not the "
        "seed's: each cell is one run."
        + ("" if m["gpu"] else " No GPU was at hand; `python budgets.py --device cuda` writes a GPU's "
           "figures to a run folder of their own, and docs/scaling.md says how to use one."),
        "![Test bits per character against training budget](results/reference-budgets/budgets.png)",
    ]
    return "\n\n".join(text)


def report(check: bool = False) -> int:
    return report_section(REFERENCE, PAGE, SECTION, section, plot, "budgets.png", check)


def main(argv=None) -> dict | int:
    return reporting.report_or_run(argv, report, run)  # --report, or the experiment


def run(argv) -> dict:
    description = (__doc__.split("\n\n")[0] + " --report rewrites README.md's section from the "
                   "reference run (--report --check: exit 1 if it is stale).")
    cfg, args = parse_stage_args(BudgetConfig, description, SMOKE_OVERRIDES, argv, resumable=False)
    cfg.run_name = cfg.run_name or default_run_name(cfg, args.smoke)
    return experiment(cfg, args.smoke)


if __name__ == "__main__":
    run_main(main)
