"""The "what each step buys" summary of docs/language-models.md: one row per step of the
roadmap (gates, attention, transformers with data and compute, the transformer's shape,
pretraining), each
read from its experiment's committed results file and linked to the section that shows it.

Called by docs/build.py (`make docs`); nothing here is typed in by hand.
"""

from __future__ import annotations

from pathlib import Path

from shared.lm import metrics
from shared.runtime import files
from shared.runtime.errors import UserError

from tools import reporting
from tools.loader import load_stage_config

ROOT = Path(__file__).resolve().parents[1]
GATES = ROOT / "TinyLLM" / "results" / "reference-gates" / "metrics.json"
ATTENTION = ROOT / "CodeLLM" / "seq2seq" / "results" / "reference-why-attention" / "metrics.json"
BUDGETS = ROOT / "CodeLLM" / "minigpt" / "results" / "reference-budgets" / "metrics.json"
SWEEP = ROOT / "CodeLLM" / "minigpt" / "results" / "reference-sweep" / "metrics.json"
DECODER = ROOT / "LLMind" / "decoder" / "results" / "reference-smollm2" / "metrics.json"
GRU = ROOT / "TinyLLM" / "results" / "reference-gru" / "metrics.json"
GENRE = ROOT / "CodeLLM" / "minigpt" / "results" / "reference-genre" / "metrics.json"
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


def decoder(d: dict, gru: dict) -> str:
    """SmolLM2 before and after LoRA against stage 1's GRU, on the same test characters."""
    zero, tuned = d["zero_shot"], d["finetuned"]
    before, after = metrics.compare_runs(zero, gru), metrics.compare_runs(tuned, gru)
    return (f"Decoder: SmolLM2 (pretrained elsewhere) {zero['test_bits_per_char']:.3f} bits/char on the "
            f"test play before any Shakespeare, {tuned['test_bits_per_char']:.3f} after "
            f"{d['train_seconds'] / 60:.0f} min of LoRA; the GRU trained here from scratch "
            f"{gru['test_bits_per_char']:.3f} (pretrained - GRU = {before['difference']:+.3f}, "
            f"{before['low']:+.3f} to {before['high']:+.3f}; fine-tuned - GRU = {after['difference']:+.3f}, "
            f"{after['low']:+.3f} to {after['high']:+.3f}).")


def encoder() -> str:
    """MiniLM fine-tuned from its pretrained weights against the same recipe from random ones."""
    report = load_stage_config(ROOT / "LLMind" / "report.py")
    runs = report.init_runs()
    if runs is None:
        raise UserError("LLMind/results/reference-minilm-random is missing; run `python LLMind/train.py "
                        "--init random --run-name reference-minilm-random`")
    pre, rnd, _, _, pairs = runs
    tests = report.init_tests(pairs, pre["seed"])["tests"]
    gain, versus_tfidf = tests["pretrained-random"], tests["random-tfidf"]
    low, high = gain["difference_ci95"]
    return (f"Encoder: MiniLM fine-tuned from pretrained weights {pre['test_accuracy']:.1%}, from random "
            f"weights with the same recipe {rnd['test_accuracy']:.1%} "
            f"({100 * gain['accuracy_difference']:+.1f} points, {100 * low:+.1f} to {100 * high:+.1f}); "
            "random-init against TF-IDF "
            f"{100 * versus_tfidf['accuracy_difference']:+.1f} points"
            + (" (no significant difference)." if not versus_tfidf["significant"] else "."))


def genre(g: dict) -> str:
    """The mini-GPT pretrained on other plays, then a genre classifier, against random weights."""
    parts = []
    for row in (g["summary"][0], g["summary"][-1]):
        d = row["test_difference"]
        parts.append(f"{row['size']:,} labelled passages {100 * row['test_pretrained']['mean']:.0f}% "
                     f"against {100 * row['test_random']['mean']:.0f}% ({100 * d['mean']:+.1f} points, "
                     f"{100 * d['low']:+.1f} to {100 * d['high']:+.1f})")
    helped = [r["size"] for r in g["summary"] if r["test_difference"]["significant"]]
    verdict = (f"significant at {', '.join(f'{s:,}' for s in helped)}" if helped else
               "not significant at any size")
    return (f"The mini-GPT's genre classifier (3 genres: chance 33%), pretrained against random weights: "
            f"{'; '.join(parts)}: {verdict}.")


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
        ["pretraining", "a pretrained decoder, encoder and mini-GPT against the same task from scratch "
         "or from random weights",
         " ".join([decoder(_read(DECODER), _read(GRU)), encoder(), genre(_read(GENRE))]),
         "[LLMind: part 2](../LLMind/README.md#part-2-a-pretrained-decoder-on-the-roadmaps-own-text), "
         "[LLMind: random weights]"
         "(../LLMind/README.md#what-pretraining-buys-the-same-encoder-from-random-weights), "
         "[mini-GPT: genre](../CodeLLM/minigpt/README.md#what-pretraining-buys-a-genre-classifier)"],
    ]
    return reporting.markdown_table(["step", "experiment", "what it showed here", "evidence"], rows)
