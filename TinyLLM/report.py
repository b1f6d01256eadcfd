"""Write the results sections of TinyLLM/README.md from the committed reference runs.

    python TinyLLM/report.py           # after `make bench` has written the reference runs
    python TinyLLM/report.py --check   # exit 1 if the README is out of date (used by tests)

Reads results/reference-<model>/metrics.json and sample.txt (and redraws each run's
loss_curve.png from its history.json), and for the "Why gates" section
results/reference-gates/metrics.json (written by gates.py, which also calls
`write_gates_section` after a reference run); nothing is typed in by hand.
Headline numbers are on the test text (a whole play nothing trained or selected on);
validation numbers are shown beside them because validation chose each checkpoint. Every
difference the text comments on carries a paired block-bootstrap 95% interval.
"""

from __future__ import annotations

import sys
from pathlib import Path

from shared.lm import loop, metrics, scoring, text
from shared.runtime import files
from shared.runtime.errors import UserError

from tools import reporting
from tools.loader import load_stage_config

STAGE_DIR = Path(__file__).resolve().parent

_config = load_stage_config(STAGE_DIR / "config.py")
LADDER, DEFAULT_MODEL = _config.MODELS, _config.TinyConfig().model
NEEDED = ("test_loss", "test_block_nats", "test_bigram_counts_block_nats", "test_text_sha256")


def results_table(runs: dict[str, dict]) -> str:
    default = runs[DEFAULT_MODEL]
    rows = [["uniform (every character equally likely)", 0, f"{default['val_uniform_bits_per_char']:.3f}",
             f"{default['test_uniform_loss']:.3f}", f"{default['test_uniform_bits_per_char']:.3f}",
             "-", "-"],
            ["bigram, counted (add-one smoothing)", 0,
             f"{default['val_bigram_counts_bits_per_char']:.3f}",
             f"{default['test_bigram_counts_loss']:.3f}",
             f"{default['test_bigram_counts_bits_per_char']:.3f}", "-", "-"]]
    for model in LADDER:
        if model in runs:
            m = runs[model]
            name = f"**{model}** (default)" if model == DEFAULT_MODEL else model
            rows.append([name, m["params"], f"{m['val_bits_per_char']:.3f}", f"{m['test_loss']:.3f}",
                         f"**{m['test_bits_per_char']:.3f}**", f"{m['train_seconds']:.0f} s",
                         f"{m['tokens_per_second']:,.0f}"])
    return reporting.markdown_table(
        ["model", "params", "val bits/char", "test loss (nats/char)", "test bits/char",
         "train time", "chars/s"], rows)


def summary(runs: dict[str, dict]) -> str:
    m = runs[DEFAULT_MODEL]
    best_val = min(runs, key=lambda k: runs[k]["val_loss"])
    return (f"The default {DEFAULT_MODEL} ({m['params']:,} parameters) reached a test loss of "
            f"**{m['test_loss']:.3f} nats/char ({m['test_bits_per_char']:.3f} bits/char)** after "
            f"{m['steps']:,} steps in {m['train_seconds']:.0f} s of training on "
            f"{m.get('threads', 2)} CPU threads, against {m['test_uniform_loss']:.3f} for a uniform "
            f"guess and {m['test_bigram_counts_loss']:.3f} for counted bigrams. The test text is "
            f"{play_names()} ({m['test_chars']:,} characters), a whole play outside the training "
            f"and validation text; the checkpoint (step {m['best_step']:,}) was chosen on "
            f"validation, the last 10% of the `tiny` corpus ({m['val_chars']:,} characters), where "
            f"it scored {m['val_loss']:.3f} nats/char. Lowest validation loss in the default "
            f"budget: **{best_val}**; fastest per character: "
            f"{max(runs, key=lambda k: runs[k]['tokens_per_second'])}.")


def play_names() -> str:
    return " and ".join(text.TEST_PLAYS.values())


def difference(r: dict, a: str, b: str) -> str:
    """A - B in bits/char on the test text (`metrics.compare_runs`), in words, with its
    interval; "no significant difference" when the interval covers 0."""
    if not r["significant"]:
        return (f"there is no significant difference between {a} and {b} ({a} minus {b}: "
                f"{r['difference']:+.3f} bits/char, 95% interval {r['low']:+.3f} to {r['high']:+.3f})")
    low, high = sorted((abs(r["low"]), abs(r["high"])))
    return (f"{a} needs {abs(r['difference']):.3f} bits/char "
            f"{'fewer' if r['difference'] < 0 else 'more'} than {b} (95% interval {low:.3f} to "
            f"{high:.3f})")


def reading(runs: dict[str, dict]) -> str:
    """What the table shows, in sentences generated from the runs' per-block test losses."""
    parts, gates = [], []
    plain = runs.get("rnn")
    for cell in ("gru", "lstm"):
        if plain and cell in runs:
            share = runs[cell]["train_seconds"] / plain["train_seconds"]
            said = difference(metrics.compare_runs(runs[cell], plain), f"the {cell.upper()}",
                              "the plain RNN")
            gates.append(f"{said}, in {share:.1f}x its training time")
    if gates:
        parts.append("Gates: " + "; ".join(gates) + ".")
    if "gru" in runs and "lstm" in runs:
        said = difference(metrics.compare_runs(runs["gru"], runs["lstm"]), "the GRU", "the LSTM")
        parts.append(f"Between the two gated cells, {said}.")
    if "bigram" in runs:
        m = runs["bigram"]
        r = metrics.compare_runs(m, m, key_b="test_bigram_counts_block_nats")
        parts.append(f"The floor: {difference(r, 'the trained bigram', 'the counted one')}."
                     + (f" Counting fits a bigram in one pass; {m['steps']:,} small Adam steps had "
                        "not brought the trained table to it."
                        if r["significant"] and r["difference"] > 0 else ""))
    return ("Reading the table (differences in bits per character on the test text, with paired "
            f"block-bootstrap intervals over its {scoring.BLOCK_CHARS:,}-character blocks): "
            + " ".join(parts)) if parts else ""


def load_runs() -> dict[str, dict]:
    runs = {}
    for model in LADDER:
        path = STAGE_DIR / "results" / f"reference-{model}" / "metrics.json"
        if path.is_file():
            runs[model] = files.read_json(path)
            if missing := [k for k in NEEDED if k not in runs[model]]:
                raise UserError(f"{path} has no {missing[0]} (written before the test split "
                                "existed); run `make bench` to regenerate the reference runs")
            if runs[model]["test_text_sha256"] != scoring.fingerprint(text.shakespeare_test()):
                raise UserError(f"{path} was scored on another test text than shared/lm/text.py's; "
                                "run `make bench` to regenerate the reference runs")
    return runs


def target_line() -> str:
    """The stage's speed/accuracy target, as measured by `make bench` (results/bench.json)."""
    path = STAGE_DIR.parent / "results" / "bench.json"
    if not path.is_file():
        return ""
    bench = files.read_json(path)["tinyllm"]
    row = next((r for r in bench["rows"] if r["model"] == DEFAULT_MODEL), None)
    if row is None:
        return ""
    met = row["val_loss"] <= bench["target_val_loss"] and row["wall_seconds"] <= bench["target_seconds"]
    return (f"\n\nTarget (on validation, which tuning may chase): at most {bench['target_val_loss']} "
            f"nats/char within {bench['target_seconds'] / 60:.0f} minutes on 2 cores. "
            f"{'Met' if met else 'Not met'}: {row['val_loss']:.3f} nats/char, "
            f"{row['wall_seconds']:.0f} s for the whole run (start-up and final evaluation included) "
            f"on a {files.read_json(path)['machine']['cpu_count']}-core machine.")


GATES = STAGE_DIR / "results" / "reference-gates" / "metrics.json"
NAMES = {"rnn": "plain RNN", "gru": "GRU", "lstm": "LSTM", "gpt": "mini-GPT"}


def gates_section(g: dict) -> str:
    """The "Why gates" section, from gates.py's metrics.json: recall against distance, where
    each model falls to chance, where gates paid off and where they did not, and the target."""
    s, chance, goal = g["settings"], g["chance"], g["target"]["recall"]
    order = [m for m in ("rnn", "gru", "lstm", "gpt") if m in g["summary"]]
    at = {m: {x["distance"]: x for x in g["summary"][m]["by_distance"]} for m in order}
    distances = sorted(at["rnn"])
    cells = [c for c in ("rnn", "gru", "lstm") if c in at]

    def falls(model: str) -> str:
        d = g["summary"][model]["falls_to_chance_at"]
        return f"from d = {d}" if d else f"at no distance up to {distances[-1]}"

    def listed(ds) -> str:
        return ", ".join(map(str, ds))

    rows = [[NAMES[m], g["params"][m]]
            + [f"{at[m][d]['mean']:.0%} ({at[m][d]['min']:.0%}-{at[m][d]['max']:.0%})" for d in distances]
            + [falls(m).replace("from ", "").replace("at no distance", "never")] for m in order]
    paragraphs = [
        f"Every model was trained from scratch at each distance for {s['steps']} Adam steps of "
        f"{s['batch_size']} fresh random sequences ({s['seeds']} seeds; alphabet of {s['alphabet']}, so "
        f"chance is {chance:.1%}), and scored on {s['test_size']} held-out sequences per distance. "
        "Table: mean test recall over seeds (lowest-highest seed). A model counts as *at chance* at "
        "a distance when the 95% Wilson interval of its pooled test answers reaches down to chance.",
        reporting.markdown_table(["model", "params"] + [f"d = {d}" for d in distances]
                                 + ["at chance from"], rows),
        "Where each falls to chance: " + "; ".join(f"the {NAMES[m]} {falls(m)}" for m in order) + "."]
    easy = [d for d in distances if all(at[c][d]["mean"] > goal for c in cells)]
    if easy:
        paragraphs.append(f"Where gates did not matter: at d = {listed(easy)} every cell, the plain RNN "
                          f"included, recalled above {goal:.0%}; a short memory needs no gate.")
    paid = [f"the {NAMES[c]} at d = {listed(ds)}" for c in ("gru", "lstm") if c in at
            if (ds := [d for d in distances if at[c][d]["mean"] > goal >= at["rnn"][d]["mean"]])]
    if paid:
        paragraphs.append(f"Where gates paid off (above {goal:.0%} where the plain RNN was not): "
                          + "; ".join(paid) + ".")
    short = [f"the {NAMES[c]} at d = {listed(ds)}" for c in ("gru", "lstm") if c in at
             if (ds := [d for d in distances if at[c][d]["at_chance"]])]
    if short:
        failed = sorted({d for c in ("gru", "lstm") if c in at for d in distances if at[c][d]["at_chance"]})
        gpt_ok = "gpt" in at and all(at["gpt"][d]["mean"] > goal for d in failed)
        paragraphs.append("Where a gate was not enough in this budget (at chance): " + "; ".join(short)
                          + ". More steps, or a curriculum from short to long distances, would be "
                          "needed there" + ("; the mini-GPT, which attends straight back to the marked "
                                            "symbol, needed neither." if gpt_ok else "."))
    t = g["target"]
    paragraphs.append(
        f"Target (GRU and LSTM above {goal:.0%} at a distance where the plain RNN is at chance): "
        f"{'met at d = ' + listed(t['met_at']) if t['met'] else 'not met'}. Wall time "
        f"{g['wall_seconds']:.0f} s ({g['cells_wall_seconds']:.0f} s for the three cells in "
        f"{s['workers']} processes, {g['gpt_wall_seconds'] or 0:.0f} s for the mini-GPT) on 2 CPU cores.")
    fades = [f"{NAMES[c]} {g['gradients'][c]['init'][-1] / g['gradients'][c]['init'][0]:.0e} at "
             f"initialisation, {g['gradients'][c]['trained'][-1] / g['gradients'][c]['trained'][0]:.0e} "
             "trained" for c in cells if c in g["gradients"]]
    if fades:
        paragraphs.append(
            f"Vanishing gradients, at d = {g['gradient_distance']} (right panel): the gradient of the "
            "query's loss with respect to the marked symbol's input, as a fraction of the one with "
            "respect to the query's own input, was " + "; ".join(fades) + ".")
    paragraphs.append("![Recall against distance, and gradient norm against k]"
                      "(results/reference-gates/gates.png)")
    return "\n\n".join(paragraphs)


def write_gates_section(check: bool = False) -> bool:
    """Rewrite (or with `check`, compare) the README's why-gates section alone."""
    return reporting.update_section(STAGE_DIR / "README.md", "why-gates",
                                    gates_section(files.read_json(GATES)), check=check)


def sections() -> dict[str, str]:
    """Every generated section of the README, from the reference runs."""
    runs = load_runs()
    if DEFAULT_MODEL not in runs:
        raise UserError(f"no reference run of {DEFAULT_MODEL}; run `make bench` first")
    parts = {"why-gates": gates_section(files.read_json(GATES))} if GATES.is_file() else {}
    return {
        **parts,
        "results-summary": summary(runs) + target_line(),
        "results-table": results_table(runs),
        "reading": reading(runs),
        "sample": reporting.sample_section(STAGE_DIR / "results" / f"reference-{DEFAULT_MODEL}"),
    }


def redraw() -> None:
    """The reference runs' loss_curve.png from their history.json and metrics.json: the figures
    follow the plotting code, like the text, with no training."""
    for model in LADDER:
        run = STAGE_DIR / "results" / f"reference-{model}"
        if (run / "history.json").is_file() and (run / "metrics.json").is_file():
            loop.draw_loss_curve(run, f"TinyLLM {model}: loss per character")


def main(argv=None) -> int:
    args = reporting.report_parser(__doc__).parse_args(argv)
    if not args.check:
        redraw()
    return reporting.write_report(STAGE_DIR / "README.md", sections, check=args.check)


if __name__ == "__main__":
    sys.exit(main())
