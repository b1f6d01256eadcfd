"""Write the results section of LLMind/README.md from the committed reference run.

    python LLMind/report.py           # after `python LLMind/train.py --run-name reference-minilm`
    python LLMind/report.py --check   # exit 1 if the README is out of date (used by tests)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

STAGE_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(STAGE_DIR.parent))

from shared import reporting, training  # noqa: E402

RUN = STAGE_DIR / "results" / "reference-minilm"
TOKENIZERS = STAGE_DIR / "results" / "reference-tokenizers" / "metrics.json"
README = STAGE_DIR / "README.md"
BASELINES = {"tfidf_logreg": "TF-IDF + logistic regression",
             "frozen_encoder_logreg": "frozen MiniLM, mean-pooled + logistic regression",
             "tfidf_logreg_full_train": "TF-IDF + logistic regression, whole training split"}


def results_table(m: dict) -> str:
    n, full = m["train_sentences"], m.get("full_train_sentences", m["train_sentences"])
    trained = "all 6" if not m["freeze_layers"] else f"top {6 - m['freeze_layers']} of 6"
    rows = [[f"**fine-tuned MiniLM** ({trained} layers + head)", f"{n:,}",
             f"{m['test_accuracy']:.1%}", f"{m['test_macro_f1']:.3f}", f"{m['train_seconds']:.0f}"]]
    for key, name in BASELINES.items():
        b = m.get("baselines", {}).get(key)
        if b:
            rows.append([name, f"{full if key.endswith('full_train') else n:,}",
                         f"{b['test_accuracy']:.1%}", f"{b['test_macro_f1']:.3f}",
                         f"{b['train_seconds']:.0f}"])
    return reporting.markdown_table(
        ["model", "training sentences", "test accuracy", "test macro-F1", "training seconds"], rows)


def summary(m: dict) -> str:
    tfidf = m["baselines"]["tfidf_logreg"]
    frozen = m["baselines"]["frozen_encoder_logreg"]
    lead = 100 * (m["test_accuracy"] - tfidf["test_accuracy"])
    return (f"Test split: {m['test_sentences']:,} sentences from movies that appear in no other split, "
            f"scored once. Fine-tuning ran {m['epochs_run']:g} epochs in {m['train_seconds']:.0f} s "
            f"on 2 CPU cores ({m['train_sentences_per_second']:.1f} training sentences per second, "
            f"{m['params_trained']:,} of {m['params']:,} parameters updated); the best epoch by "
            f"validation macro-F1 was {m['best_epoch']:g}. It is {lead:+.1f} points of accuracy "
            f"against TF-IDF + logistic regression on the same sentences, and "
            f"{100 * (m['test_accuracy'] - frozen['test_accuracy']):+.1f} against the frozen "
            f"encoder's features." + against_full(m))


def against_full(m: dict) -> str:
    """The stronger baseline: TF-IDF fed every training sentence, which costs it seconds."""
    full = m["baselines"].get("tfidf_logreg_full_train")
    if not full:
        return ""
    lead = 100 * (m["test_accuracy"] - full["test_accuracy"])
    verdict = ("still ahead" if lead > 0 else "**behind**") + f" by {abs(lead):.1f} points"
    return (f" TF-IDF is cheap enough to train on the whole training split "
            f"({m.get('full_train_sentences', 0):,} sentences), and against that stronger baseline "
            f"the capped fine-tune is {verdict}.")


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


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true",
                        help="do not write; exit 1 if the README differs from the results")
    args = parser.parse_args(argv)
    if not (RUN / "metrics.json").is_file():
        print(f"error: no reference run in {RUN}; run "
              "`python LLMind/train.py --run-name reference-minilm` first", file=sys.stderr)
        return 2
    m = training.read_json(RUN / "metrics.json")
    m["freeze_layers"] = training.read_json(RUN / "config.json")["freeze_layers"]
    sections = {"results": results_table(m) + "\n\n" + summary(m)}
    if TOKENIZERS.is_file():
        sections["tokenizers"] = tokenizer_section(training.read_json(TOKENIZERS))
    return reporting.write_sections(README, sections, check=args.check)


if __name__ == "__main__":
    sys.exit(main())
