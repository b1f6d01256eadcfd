"""Heads, depth and width: the mini-GPT with one setting changed at a time from the default, every
configuration trained for the same number of seconds, to find the compute-optimal shape for
that budget on this machine.

    cd CodeLLM/minigpt
    python sweep.py                             # 8 configurations x 1.5 min: ~16 min on 2 cores
    python sweep.py --run-name reference-sweep  # the committed run; rewrites the README section
    python sweep.py --heads 2 4 --layers 1 2 3 --widths 96 128 --budget 3
    python sweep.py --smoke                     # under a minute: tiny widths, seconds each
    python sweep.py --report                    # rewrite README.md's section from the reference run

The default configuration (train.py's: 2 blocks, 4 heads, width 128) is the centre; each list
(--heads, --layers, --widths) varies one setting with the other two at the default. Every run
goes through train.py with `--time-budget` on the same text and seed; validation picks the
compute-optimal configuration (the lowest validation loss in the budget) and the test play
scores every run once. Differences from the chosen one carry paired block-bootstrap 95%
intervals. A sweep whose training alone would pass --max-minutes is refused before it starts.

A run writes results/<run-name>/ (default sweep): metrics.json, sweep.png (test bits/char
against parameters, the chosen configuration marked) and runs/<config>/, one train run each.
Ctrl-C loses at most the run in progress: the same command resumes it.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from pathlib import Path

from config import GPTConfig  # this folder's settings: the default shape is the sweep's centre
from runs import GPT_SCRIPT, launch, machine, paired, report_section, total_wall, wall

from shared import plotting
from shared.runtime import files
from shared.runtime.config import opt, parse_stage_args
from shared.runtime.errors import UserError, run_main

from tools import reporting

STAGE_DIR = Path(__file__).resolve().parent
PAGE, SECTION = STAGE_DIR / "README.md", "sweep"
REFERENCE = STAGE_DIR / "results" / "reference-sweep"
DEFAULT = GPTConfig()
START_UP_MINUTES = 0.4  # per run, on 2 cores: start-up and the final scores (for the estimate)
LISTS = ("heads", "layers", "widths")


@dataclass
class SweepConfig:
    heads: list = opt([1, 2, 4, 8], "attention heads to try, at the centre's depth and width")
    layers: list = opt([1, 2, 4], "transformer blocks to try, at the centre's heads and width")
    widths: list = opt([64, 128, 256], "widths (d_model) to try, at the centre's heads and depth")
    centre_heads: int = opt(DEFAULT.heads, "heads of the centre configuration")
    centre_layers: int = opt(DEFAULT.n_layer, "blocks of the centre configuration")
    centre_width: int = opt(DEFAULT.d_model, "width of the centre configuration")
    budget: float = opt(1.5, "training minutes of every configuration")
    max_minutes: float = opt(20.0, "refuse a sweep whose runs would take longer than this in all")
    corpus: str = opt("tiny", "training text", choices=["tiny", "full"])
    seed: int = opt(1337, "the seed of every run")
    device: str = opt("cpu", "where the runs train", choices=["cpu", "cuda", "mps"])
    tensorboard: bool = opt(True, "each run writes TensorBoard event files into its folder "
                                  "(runs/<run>/tensorboard/: `tensorboard --logdir runs` compares them)")
    out_dir: str = opt(str(STAGE_DIR / "results"), "folder that holds one sub-folder per run", metavar="DIR")
    run_name: str | None = opt(None, "sub-folder of --out-dir (default: sweep, or smoke-sweep)")


# --smoke: train.py's own tiny settings (its --smoke) around a centre of 1 block, 2 heads, width 32;
# no live curves.
SMOKE_OVERRIDES = dict(heads=[1, 2], layers=[1, 2], widths=[16, 32], centre_heads=2, centre_layers=1,
                       centre_width=32, budget=0.05, tensorboard=False)


def default_run_name(cfg: SweepConfig, smoke: bool) -> str:
    return "smoke-sweep" if smoke else "sweep"


def shapes(cfg: SweepConfig) -> list[tuple[int, int, int]]:
    """(blocks, heads, width) of every configuration: the centre, then one setting at a time."""
    centre = (cfg.centre_layers, cfg.centre_heads, cfg.centre_width)
    found = [centre]
    found += [(cfg.centre_layers, h, cfg.centre_width) for h in cfg.heads]
    found += [(n, cfg.centre_heads, cfg.centre_width) for n in cfg.layers]
    found += [(cfg.centre_layers, cfg.centre_heads, w) for w in cfg.widths]
    return list(dict.fromkeys(found))  # each once, in that order


def check(cfg: SweepConfig) -> list[tuple[int, int, int]]:
    """Bad input, one line each, before anything trains; returns the configurations."""
    if cfg.budget <= 0:
        raise UserError(f"--budget {cfg.budget}: give a positive number of minutes")
    for name in LISTS:
        if not getattr(cfg, name) or min(getattr(cfg, name)) < 1:
            raise UserError(f"--{name} {getattr(cfg, name)}: give positive whole numbers")
    found = shapes(cfg)
    for _, heads, width in found:
        if width % heads:
            raise UserError(f"width {width} with {heads} heads: the width must be a multiple of the "
                            "heads (each head gets width / heads dimensions)")
    needed = len(found) * (cfg.budget + START_UP_MINUTES)
    if needed > cfg.max_minutes:
        raise UserError(f"the sweep is {len(found)} runs x ({cfg.budget:g} min + about "
                        f"{START_UP_MINUTES:g} min to start and score) = {needed:.0f} min, more than "
                        f"--max-minutes {cfg.max_minutes:g}; drop some values, lower --budget or raise "
                        "--max-minutes")
    return found


def name_of(shape: tuple[int, int, int]) -> str:
    layers, heads, width = shape
    return f"L{layers}-H{heads}-W{width}"


def experiment(cfg: SweepConfig, smoke: bool) -> dict:
    found = check(cfg)
    out = files.run_dir(cfg.out_dir, cfg.run_name)
    started, at_start = time.perf_counter(), machine()
    seconds = round(cfg.budget * 60, 1)
    print(f"{len(found)} configurations x {seconds:g} s of training on {cfg.device} "
          f"({at_start['cpu_count']} cores, load {at_start['load_average_1min']})")
    runs = {}
    for k, shape in enumerate(found, 1):
        layers, heads, width = shape
        flags = ["--time-budget", seconds, "--corpus", cfg.corpus, "--seed", cfg.seed,
                 "--n-layer", layers, "--heads", heads, "--d-model", width, "--device", cfg.device,
                 *(["--smoke"] if smoke else [])]
        runs[name_of(shape)] = launch(GPT_SCRIPT, flags, out / "runs", name_of(shape),
                                      f"[{k}/{len(found)}] {layers} blocks x {heads} heads, width {width}",
                                      cfg.tensorboard)
    chosen = min(runs, key=lambda n: runs[n]["val_bits_per_char"])
    rows = []
    for shape in found:
        name = name_of(shape)
        against = paired(runs[name], runs[chosen]) if name != chosen else None
        rows.append({"name": name, "layers": shape[0], "heads": shape[1], "width": shape[2],
                     **{k: runs[name][k] for k in ("params", "steps", "tokens_per_second",
                                                   "val_bits_per_char", "test_bits_per_char")},
                     "minus_chosen": against})
    result = {"settings": {**dataclasses.asdict(cfg), "smoke": smoke, "seconds": seconds},
              "centre": name_of(found[0]), "chosen": chosen, "rows": rows, "runs": runs,
              "machine": {**at_start, "load_average_1min_end": machine()["load_average_1min"]},
              "wall_seconds": round(time.perf_counter() - started, 1),
              "runs_wall_seconds": total_wall(runs)}  # differs from wall_seconds if runs were reused
    files.write_json(out / "metrics.json", result)
    plot(result, out / "sweep.png")
    for line in conclusions(result):
        print(line)
    print(f"wrote {out} in {result['wall_seconds']:.0f}s")
    if out.resolve() == REFERENCE.resolve():
        report()
    return result


def varied(row: dict, centre: dict) -> str:
    """Which setting a row changes from the centre: heads, layers, width (or centre)."""
    for key in ("heads", "layers", "width"):
        if row[key] != centre[key]:
            return key
    return "centre"


def plot(result: dict, path: Path) -> None:
    """Test bits/char against parameters; a marker per setting varied, the chosen one starred."""
    fig, ax = plotting.figure(1, width=7.5, height=4.6)
    centre = next(r for r in result["rows"] if r["name"] == result["centre"])
    markers = {"heads": ("o", "tab:blue"), "layers": ("s", "tab:green"), "width": ("^", "tab:red"),
               "centre": ("D", "black")}  # the default last, on top
    for kind, (marker, colour) in markers.items():
        rows = [r for r in result["rows"] if varied(r, centre) == kind]
        if rows:
            label = "default" if kind == "centre" else f"{kind} varied"
            ax.scatter([r["params"] for r in rows], [r["test_bits_per_char"] for r in rows],
                       marker=marker, color=colour, s=45, label=label)
    for r in result["rows"]:  # shapes with the same parameters (heads) get labels left and right
        twins = sorted((t for t in result["rows"] if t["params"] == r["params"]),
                       key=lambda t: t["test_bits_per_char"])
        left = twins.index(r) % 2 == 1
        ax.annotate(f"{r['layers']}x{r['heads']}, {r['width']}", (r["params"], r["test_bits_per_char"]),
                    textcoords="offset points", xytext=(-8 if left else 8, -3),
                    ha="right" if left else "left", fontsize=7)
    best = next(r for r in result["rows"] if r["name"] == result["chosen"])
    ax.scatter([best["params"]], [best["test_bits_per_char"]], marker="*", s=320, facecolors="none",
               edgecolors="black", linewidths=1.3, label="lowest validation loss (chosen)")
    ax.set_xscale("log")
    ax.set_xlabel("parameters (log scale); labels: blocks x heads, width")
    ax.set_ylabel("test bits per character (lower is better)")
    ax.set_title(f"The mini-GPT's shape under one budget ({result['settings']['seconds']:g} s each)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    plotting.save_figure(fig, path)


def shape_words(row: dict) -> str:
    blocks, heads = row["layers"], row["heads"]
    return (f"{blocks} block{'s' * (blocks != 1)} x {heads} head{'s' * (heads != 1)}, "
            f"width {row['width']}")


def conclusions(result: dict) -> list[str]:
    rows = {r["name"]: r for r in result["rows"]}
    best, centre = rows[result["chosen"]], rows[result["centre"]]
    lines = [f"Compute-optimal for {result['settings']['seconds']:g} s (lowest validation loss): "
             f"{shape_words(best)}, {best['params']:,} parameters, {best['steps']:,} steps, "
             f"test {best['test_bits_per_char']:.3f} bits/char."]
    if best is centre:
        lines.append("That is the default shape: no single change of heads, depth or width beat it.")
    else:
        d = centre["minus_chosen"]
        lines.append(f"The default ({shape_words(centre)}) minus the chosen one, on the test play: "
                     f"{d['difference']:+.3f} bits/char (95% interval {d['low']:+.3f} to {d['high']:+.3f})"
                     + ("" if d["significant"] else ", no significant difference") + ".")
    for key, word in (("heads", "heads"), ("layers", "blocks"), ("width", "width")):
        group = [r for r in result["rows"] if varied(r, centre) in (key, "centre")]
        if len(group) > 1:
            top = min(group, key=lambda r: r["val_bits_per_char"])
            values = ", ".join(f"{r[key]}: {r['test_bits_per_char']:.3f}"
                               for r in sorted(group, key=lambda r: r[key]))
            lines.append(f"By {word} (test bits/char) {values}; validation prefers {top[key]}.")
    return lines


def section(result: dict) -> str:
    s, m = result["settings"], result["machine"]
    table = []
    for r in sorted(result["rows"], key=lambda r: r["params"]):
        d = r["minus_chosen"]
        name = shape_words(r) + (" (default)" if r["name"] == result["centre"] else "")
        name = f"**{name}**" if r["name"] == result["chosen"] else name
        table.append([name, r["params"], f"{r['steps']:,}", f"{r['tokens_per_second']:,.0f}",
                      f"{r['val_bits_per_char']:.3f}", f"{r['test_bits_per_char']:.3f}",
                      "chosen" if d is None else
                      f"{d['difference']:+.3f} ({d['low']:+.3f} to {d['high']:+.3f})"])
    return "\n\n".join([
        f"Every configuration trained for {s['seconds']:g} s on {m['cpu_count']} CPU cores (the "
        f"{'10 plays' if s['corpus'] == 'tiny' else '37 plays'}, seed {s['seed']}); the chosen one, in bold, "
        "has the lowest validation loss. Test bits per character (lower is better), and each "
        "configuration minus the chosen one with its paired block-bootstrap 95% interval:",
        reporting.markdown_table(["configuration", "params", "steps", "chars/s", "val bits/char",
                                  "test bits/char", "minus chosen (95% interval)"], table),
        " ".join(conclusions(result)),
        f"Wall time of the sweep: {wall(result) / 60:.1f} min for {len(result['rows'])} runs "
        f"(start-up and final scoring included), load average {m['load_average_1min']} at the start "
        f"and {m['load_average_1min_end']} at the end of the last sitting. One seed per "
        "configuration: the intervals cover the test text's variation, not the seed's.",
        "![Test bits per character against parameters](results/reference-sweep/sweep.png)",
    ])


def report(check: bool = False) -> int:
    return report_section(REFERENCE, PAGE, SECTION, section, plot, "sweep.png", check)


def main(argv=None) -> dict | int:
    return reporting.report_or_run(argv, report, run)  # --report, or the experiment


def run(argv) -> dict:
    description = (__doc__.split("\n\n")[0] + " --report rewrites README.md's section from the "
                   "reference run (--report --check: exit 1 if it is stale).")
    cfg, args = parse_stage_args(SweepConfig, description, SMOKE_OVERRIDES, argv, resumable=False)
    cfg.run_name = cfg.run_name or default_run_name(cfg, args.smoke)
    return experiment(cfg, args.smoke)


if __name__ == "__main__":
    run_main(main)
