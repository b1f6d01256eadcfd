"""Write the generated sections of LLMind/README.md from the committed reference runs.

    python LLMind/report.py           # after `make bench` (or the train/tune commands below)
    python LLMind/report.py --check   # exit 1 if the README is out of date (used by tests)

Sections: results (results/reference-minilm: `python LLMind/train.py --run-name
reference-minilm`), tuning (results/reference-tuning: `python LLMind/tune.py --run-name
reference-tuning`) and tokenizers (results/reference-tokenizers). A metrics file written before
the split de-duplication, the intervals and McNemar's tests existed renders without them, with
a one-line note to run `make bench`.
"""

from __future__ import annotations

import sys
from pathlib import Path

from shared.runtime import files
from shared.runtime.errors import UserError

from tools import reporting

STAGE_DIR = Path(__file__).resolve().parent

RUN = STAGE_DIR / "results" / "reference-minilm"
TUNING = STAGE_DIR / "results" / "reference-tuning" / "metrics.json"
TOKENIZERS = STAGE_DIR / "results" / "reference-tokenizers" / "metrics.json"
README = STAGE_DIR / "README.md"
BASELINES = {"tfidf_logreg": "TF-IDF + logistic regression",
             "frozen_encoder_logreg": "frozen MiniLM, mean-pooled + logistic regression",
             "tfidf_logreg_full_train": "TF-IDF + logistic regression, whole training split"}
STALE = "note: {what} missing from {path} (written by older code); run `make bench` to regenerate it"


def pct(x: float) -> str:
    return f"{x:.1%}"


def interval(ci: list[float] | None, scale: float = 100, unit: str = "") -> str:
    return f" [{scale * ci[0]:.1f}{unit}, {scale * ci[1]:.1f}{unit}]" if ci else ""


def results_table(m: dict) -> str:
    n, full = m["train_sentences"], m.get("full_train_sentences", m["train_sentences"])
    trained = "all 6" if not m["freeze_layers"] else f"top {6 - m['freeze_layers']} of 6"
    rows = [[f"**fine-tuned MiniLM** ({trained} layers + head)", f"{n:,}",
             pct(m["test_accuracy"]) + interval(m.get("test_accuracy_ci95"), unit="%"),
             f"{m['test_macro_f1']:.3f}", f"{m['train_seconds']:.0f}", "-"]]
    for key, name in BASELINES.items():
        b = m.get("baselines", {}).get(key)
        if b:
            rows.append([name, f"{full if key.endswith('full_train') else n:,}",
                         pct(b["test_accuracy"]) + interval(b.get("test_accuracy_ci95"), unit="%"),
                         f"{b['test_macro_f1']:.3f}", f"{b['train_seconds']:.0f}", f"{b['C']:g}"])
    accuracy = "test accuracy [95% interval]" if "test_accuracy_ci95" in m else "test accuracy"
    return reporting.markdown_table(
        ["model", "training sentences", accuracy, "test macro-F1", "training seconds",
         "C (chosen on validation)"], rows)


def split_sentence(m: dict) -> str:
    if "data_repeated_dropped" not in m:
        return f"Test split: {m['test_sentences']:,} sentences from movies that appear in no other split"
    linked = m["data_groups"] - m["data_split_groups"]
    return (f"Test split: {m['test_sentences']:,} sentences, none of which (after case and whitespace "
            f"are normalised) occurs in another split, from movies that appear in no other split: "
            f"of the corpus's {m['data_rows']:,} sentences, {m['data_repeated_dropped']} repeated "
            f"copies and {m['data_conflicting_dropped']} with contradictory labels were dropped, and "
            f"{linked} movie name(s) joined another movie's group because they share a sentence "
            f"({m['data_groups']:,} names, {m['data_split_groups']:,} groups)")


def summary(m: dict) -> str:
    tfidf = m["baselines"]["tfidf_logreg"]
    frozen = m["baselines"]["frozen_encoder_logreg"]
    lead = 100 * (m["test_accuracy"] - tfidf["test_accuracy"])
    return (f"{split_sentence(m)}; scored once. Fine-tuning ran {m['epochs_run']:g} epochs in "
            f"{m['train_seconds']:.0f} s on 2 CPU cores ({m['train_sentences_per_second']:.1f} "
            f"training sentences per second, {m['params_trained']:,} of {m['params']:,} parameters "
            f"updated); the best epoch by validation macro-F1 was {m['best_epoch']:g}. It is "
            f"{lead:+.1f} points of accuracy against TF-IDF + logistic regression on the same "
            f"sentences, and {100 * (m['test_accuracy'] - frozen['test_accuracy']):+.1f} against the "
            f"frozen encoder's features." + against_full(m) + c_sentence(m))


def against_full(m: dict) -> str:
    """The stronger baseline: TF-IDF fed every training sentence, which costs it seconds."""
    full = m["baselines"].get("tfidf_logreg_full_train")
    if not full:
        return ""
    lead = 100 * (m["test_accuracy"] - full["test_accuracy"])
    verdict = ("ahead" if lead > 0 else "**behind**") + f" by {abs(lead):.1f} points"
    return (f" TF-IDF is cheap enough to train on the whole training split "
            f"({m.get('full_train_sentences', 0):,} sentences), and against that stronger baseline "
            f"the capped fine-tune is {verdict}.")


def c_sentence(m: dict) -> str:
    """Where each baseline's C lies in the grid it searched (an end would mean the search was
    cut short)."""
    fits = {BASELINES[k]: b for k, b in m["baselines"].items() if "C_grid" in b}
    if not fits:
        return ""
    edge = [name for name, b in fits.items() if b["C_at_edge"]]
    grids = "; ".join(f"{name}: C = {b['C']:g} of {b['C_grid'][0]:g} to {b['C_grid'][-1]:g}"
                      for name, b in fits.items())
    where = (f"{' and '.join(edge)} stopped at an end of the grid (its limit), so a better C may lie "
             "beyond it" if edge else "every chosen C lies inside the grid it searched")
    return (f" Each baseline's C is the one of best validation macro-F1 on a grid of factors of 4, "
            f"extended past an end whenever the best lay there ({grids}): {where}.")


def verdict(c: dict) -> str:
    if not c["significant"]:
        return "no significant difference"
    return "fine-tune better" if c["accuracy_difference"] > 0 else "**baseline better**"


def significance_section(m: dict) -> str | None:
    """McNemar's test of the fine-tune against each baseline, Holm-corrected, with the paired
    bootstrap interval on each accuracy difference."""
    comparisons, method = m.get("comparisons"), m.get("significance")
    if not comparisons or not method:
        return None
    k, alpha = len(comparisons), method["alpha"]
    rows = [[BASELINES.get(name, name), f"{c['reference_only_correct']:,}", f"{c['baseline_only_correct']:,}",
             f"{100 * c['accuracy_difference']:+.1f}" + interval(c["difference_ci95"]),
             f"{c['mcnemar_p']:.2g}", f"{c['mcnemar_p_holm']:.2g}", verdict(c)]
            for name, c in comparisons.items()]
    table = reporting.markdown_table(
        ["fine-tune against", "sentences only the fine-tune gets right", "only the baseline gets right",
         "accuracy difference, points [95% interval]", "McNemar p", "Holm-adjusted p",
         f"verdict at {alpha:g}"], rows)
    return (f"Is the gap more than luck in which sentences the test split drew? On the same "
            f"{m['test_sentences']:,} test sentences: the {method['test']}; the Holm correction across "
            f"these {k} tests (a difference counts as significant when its adjusted p is below "
            f"{alpha:g}, that is when the i-th smallest raw p of {k} is below {alpha:g} / ({k} - i + 1) "
            f"and every smaller one passed too); and a {method['interval']} "
            f"({method['resamples']:,} resamples, seed {method['seed']}) for each interval.\n\n{table}")


def layers(freeze: int) -> str:
    return "all 6" if not freeze else f"top {6 - freeze} of 6"


def tuning_section(t: dict | None) -> str:
    """The candidates' validation numbers and what they say about the default."""
    if t is None:
        return ("Not measured yet: run `python LLMind/tune.py --run-name reference-tuning` (about 13 "
                "minutes on 2 CPU cores), then `python LLMind/report.py`.")
    rows = []
    for name in t["order"]:
        r = t["candidates"][name]
        s = r["settings"]
        rows.append([f"`{name}`" + (" (default)" if name == t["default"] else ""), r["description"],
                     f"{r['train_sentences']:,}", layers(s["freeze_layers"]), f"{s['epochs']:g}",
                     pct(r["val_accuracy"]), f"{r['val_macro_f1']:.3f}",
                     ", ".join(f"{x:.3f}" for x in r["val_macro_f1_by_epoch"]),
                     f"{r['train_seconds']:.0f}"])
    table = reporting.markdown_table(
        ["candidate", "settings", "training sentences", "layers trained", "epochs",
         "val accuracy (best epoch)", "val macro-F1 (best epoch)", "val macro-F1 after each epoch",
         "training seconds"], rows)
    best, default = t["candidates"][t["best"]], t["candidates"].get(t["default"] or "")
    text = [f"Each candidate fine-tuned with seed {t['seed']} and scored on the validation split "
            f"only ({best['validation_sentences']:,} sentences; the test split was not scored). "
            f"Highest validation macro-F1: `{t['best']}` ({best['val_macro_f1']:.3f})."]
    if default is None:
        text.append("None of the candidates is config.py's current default.")
    elif t["default"] == t["best"]:
        text.append("That is config.py's default.")
    elif (gap := best["val_macro_f1"] - default["val_macro_f1"]) < 0.0005:
        text.append(f"config.py's default, `{t['default']}`, scored the same to three decimals.")
    else:
        text.append(f"config.py's default, `{t['default']}`, scored {default['val_macro_f1']:.3f}, "
                    f"{gap:.3f} below it.")
    if default is not None and default["best_epoch"] == default["epochs_run"]:
        text.append(f"The default's best validation epoch was its last ({default['best_epoch']:g}).")
    if t.get("smoke"):
        text.append("**This is a smoke run on a tiny subset: its numbers say nothing.**")
    return table + "\n\n" + " ".join(text)


def tokenizer_section(t: dict) -> str:
    """Coverage of both vocabularies on the validation words, and how they cut a few sentences."""
    rows = []
    for key, name in (("trained", f"WordPiece trained here ({t['vocab_size_trained']:,} pieces)"),
                      ("pretrained", f"MiniLM's pretrained ({t['vocab_size_pretrained']:,} pieces)")):
        c = t[key]
        rows.append([name, f"{c['whole_word_share_running']:.1%}", f"{c['whole_word_share_distinct']:.1%}",
                     f"{c['pieces_per_word']:.2f}", f"{c['unknown_per_word']:.2%}"])
    table = reporting.markdown_table(["tokenizer", "running words kept whole",
                                      "distinct words kept whole", "pieces per word",
                                      "unknown pieces per word"], rows)
    examples = "\n".join(f"- {e['text']}\n  - trained here: `{' '.join(e['trained'])}`\n"
                         f"  - pretrained: `{' '.join(e['pretrained'])}`" for e in t["examples"])
    return (f"On the {t['validation_words']:,} running words ({t['validation_distinct_words']:,} "
            f"distinct) of the validation sentences:\n\n{table}\n\nHow each cuts the first "
            f"validation sentences (`##` marks a piece that continues a word):\n\n{examples}")


def sections() -> dict[str, str]:
    """Every generated section of the README, from the reference runs; a metrics file older
    than the tests it should hold is a note, not an error."""
    if not (RUN / "metrics.json").is_file():
        raise UserError(f"no reference run in {RUN}; run `make bench` (or "
                        "`python LLMind/train.py --run-name reference-minilm`) first")
    m = files.read_json(RUN / "metrics.json")
    m["freeze_layers"] = files.read_json(RUN / "config.json")["freeze_layers"]
    tests = significance_section(m)
    if tests is None or "data_repeated_dropped" not in m:
        print(STALE.format(what="the split's de-duplication counts, intervals or McNemar's tests",
                           path=RUN / "metrics.json"), file=sys.stderr)
    results = results_table(m) + "\n\n" + summary(m) + (f"\n\n{tests}" if tests else "")
    content = {"results": results,
               "tuning": tuning_section(files.read_json(TUNING) if TUNING.is_file() else None)}
    if TOKENIZERS.is_file():
        content["tokenizers"] = tokenizer_section(files.read_json(TOKENIZERS))
    return content


def main(argv=None) -> int:
    return reporting.report_main(__doc__, README, sections, argv)


if __name__ == "__main__":
    sys.exit(main())
