"""The "what each step buys" summary of docs/language-models.md: one row per step of the
roadmap (gates, attention, transformers with data and compute, the transformer's shape), each
read from its experiment's committed results file and linked to the section that shows it.

Called by docs/build.py (`make docs`); nothing here is typed in by hand.
"""

from __future__ import annotations

from pathlib import Path

from shared.runtime import files
from shared.runtime.errors import UserError

from tools import reporting

ROOT = Path(__file__).resolve().parents[1]
GATES = ROOT / "TinyLLM" / "results" / "reference-gates" / "metrics.json"
ATTENTION = ROOT / "CodeLLM" / "seq2seq" / "results" / "reference-why-attention" / "metrics.json"
BUDGETS = ROOT / "CodeLLM" / "minigpt" / "results" / "reference-budgets" / "metrics.json"
SWEEP = ROOT / "CodeLLM" / "minigpt" / "results" / "reference-sweep" / "metrics.json"
CELLS = {"rnn": "plain RNN", "gru": "GRU", "lstm": "LSTM", "gpt": "mini-GPT"}
SEQ2SEQ = {"gru": "no attention", "bahdanau": "Bahdanau", "luong": "Luong", "transformer": "transformer"}
CORPORA = {"tiny": "10 plays", "full": "37 plays"}


def _read(path: Path) -> dict:
    if not path.is_file():
        raise UserError(f"{path.relative_to(ROOT)} is missing; run `make bench` (or that experiment's "
                        "command) to write it")
    return files.read_json(path)


def gates(g: dict) -> str:
    """Where the plain RNN falls to chance, and what the gated cells recall there."""
    rnn_falls = g["summary"]["rnn"]["falls_to_chance_at"]
    if rnn_falls is None:
        return "The plain RNN never fell to chance at these distances: no case for gates was made."
    at = {m: {x["distance"]: x["mean"] for x in s["by_distance"]} for m, s in g["summary"].items()}
    below = max(d for d in at["rnn"] if d < rnn_falls)
    held = [f"the {CELLS[m]} {at[m][below]:.0%}" for m in ("gru", "lstm") if m in at]
    there = [f"the {CELLS[m]} {at[m][rnn_falls]:.0%}" for m in ("gru", "lstm", "gpt") if m in at]
    return (f"The plain RNN recalled {at['rnn'][below]:.0%} at d = {below} ({', '.join(held)}) and was "
            f"at chance ({g['chance']:.1%}) from d = {rnn_falls}, where {', '.join(there)} recalled the "
            "symbol." + (" The gated cells met the target (above 90% where the RNN is at chance)."
                         if g["target"]["met"] else
                         " Not every gated cell held there: the target (both above 90% where the RNN "
                         "is at chance) was not met."))


def attention(a: dict) -> str:
    """Per task, exact match beyond the training lengths: no attention against the best attention."""
    parts = []
    for task, models in a["summary"].items():
        longer = {m: s["exact_match_longer"]["mean"] for m, s in models.items()
                  if s["exact_match_longer"]}
        if "gru" not in longer:
            continue
        best = max((m for m in longer if m != "gru"), key=lambda m: longer[m])
        parts.append(f"{task}: {SEQ2SEQ['gru']} {longer['gru']:.0%}, {SEQ2SEQ[best]} {longer[best]:.0%}")
    return ("Exact match on sources longer than any in training (GRU encoder-decoder without attention, "
            "and the best model with attention): " + "; ".join(parts) + ".")


def budgets(b: dict) -> str:
    """Per corpus, at the largest budget: the mini-GPT minus the GRU, and the verdict."""
    parts = []
    for corpus in b["settings"]["corpora"]:
        rows = [c for c in b["comparisons"] if c["corpus"] == corpus]
        groups = {"ahead": [c for c in rows if c["significant"] and c["difference"] < 0],
                  "behind": [c for c in rows if c["significant"] and c["difference"] > 0],
                  "level": [c for c in rows if not c["significant"]]}
        said = ", ".join(f"{word} at " + " and ".join(f"{c['seconds'] / 60:g}" for c in group) + " min"
                         for word, group in groups.items() if group)
        last = rows[-1]
        parts.append(f"on {CORPORA[corpus]} the mini-GPT was {said} (at {last['seconds'] / 60:g} min, "
                     f"GPT - GRU = {last['difference']:+.3f} bits/char, {last['low']:+.3f} to "
                     f"{last['high']:+.3f})")
    return "Same CPU time for both: " + "; ".join(parts) + "."


def sweep(s: dict) -> str:
    rows = {r["name"]: r for r in s["rows"]}
    best, centre = rows[s["chosen"]], rows[s["centre"]]
    blocks, heads = best["layers"], best["heads"]
    shape = f"{blocks} block{'s' * (blocks != 1)} x {heads} head{'s' * (heads != 1)}, width {best['width']}"
    if best is centre:
        return (f"In {s['settings']['seconds']:g} s the default shape ({shape}) had the lowest "
                "validation loss.")
    d = centre["minus_chosen"]
    return (f"In {s['settings']['seconds']:g} s, {shape} ({best['params']:,} parameters) had the lowest "
            f"validation loss; the default minus it on the test play: {d['difference']:+.3f} bits/char "
            f"({d['low']:+.3f} to {d['high']:+.3f}).")


def section() -> str:
    rows = [
        ["gates (GRU, LSTM)", "recall a symbol d steps back", gates(_read(GATES)),
         "[TinyLLM: why gates](../TinyLLM/README.md#why-gates)"],
        ["attention", "reverse, number-words, translate; longer test sources",
         attention(_read(ATTENTION)),
         "[seq2seq: why attention](../CodeLLM/seq2seq/README.md#why-attention)"],
        ["transformer vs recurrence, with data and compute", "GRU vs mini-GPT, same time budgets, "
         "10 or 37 plays", budgets(_read(BUDGETS)),
         "[mini-GPT: when transformers win](../CodeLLM/minigpt/README.md"
         "#when-transformers-win-the-mini-gpt-against-the-gru-by-budget-and-data)"],
        ["the transformer's shape", "heads, blocks and width under one budget", sweep(_read(SWEEP)),
         "[mini-GPT: heads, depth and width]"
         "(../CodeLLM/minigpt/README.md#heads-depth-and-width-under-one-budget)"],
    ]
    return reporting.markdown_table(["step", "experiment", "what it showed here", "evidence"], rows)
