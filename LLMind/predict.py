"""Label sentences with a fine-tuned model folder written by train.py.

    cd LLMind
    python predict.py "A gorgeous, heartfelt film." "Two hours I will never get back."
    python predict.py --file sentences.txt            # one sentence per line
    python predict.py --file reviews.csv --text-column review --label-column label   # + accuracy
    python predict.py --model-dir results/smoke/model "Some sentence"

Prints one line per sentence: the label, its probability, the sentence (tab-separated).
With a CSV and --label-column it also prints the accuracy against those labels.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd
import torch

import data

from shared.runtime import devices
from shared.runtime.errors import UserError, run_main

STAGE_DIR = Path(__file__).resolve().parent

DEFAULT_MODEL = STAGE_DIR / "results" / "minilm" / "model"


def load_model(model_dir: str | Path):
    """The tokenizer, classifier and LabelMap saved by train.py; a folder that is not one
    is a one-line error."""
    from transformers import AutoModelForSequenceClassification, AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    path = Path(model_dir)
    if not (path / "config.json").is_file():
        raise UserError(f"--model-dir {path} is not a model folder (no config.json); train one with "
                        "train.py, which writes results/<run-name>/model/")
    if not any(path.glob("*.safetensors")):
        # A folder from an older transformers (pytorch_model.bin) or from elsewhere: loading
        # such a file can run code, so it is refused rather than opened.
        raise UserError(f"--model-dir {path} has no model.safetensors (a .bin file, which can run "
                        "code when loaded, is never read); retrain with train.py, which writes one")
    try:
        tokenizer = AutoTokenizer.from_pretrained(path)
        model = AutoModelForSequenceClassification.from_pretrained(path, use_safetensors=True).eval()
    except (OSError, ValueError) as err:
        reason = str(err).splitlines()[0][:160]
        raise UserError(f"--model-dir {path}: not a loadable model ({reason})") from None
    names = [model.config.id2label[i] for i in range(model.config.num_labels)]
    return tokenizer, model, data.LabelMap(names)


@torch.no_grad()
def predict(texts: list[str], tokenizer, model, batch_size: int = 64,
            max_length: int = 128) -> np.ndarray:
    """Class probabilities, (texts, labels)."""
    parts = []
    for start in range(0, len(texts), batch_size):
        batch = tokenizer(texts[start : start + batch_size], padding=True, truncation=True,
                          max_length=max_length, return_tensors="pt")
        parts.append(torch.softmax(model(**batch).logits, dim=-1))
    return torch.cat(parts).numpy()


def read_inputs(args) -> tuple[list[str], list[str] | None]:
    if args.file is None:
        texts, labels = args.sentences, None
    elif str(args.file).endswith(".csv"):
        frame = (data.load_csv(args.file, args.text_column, args.label_column, training=False,
                               flag="--file")
                 if args.label_column else _csv_texts(args.file, args.text_column))
        texts = frame["text"].tolist()
        labels = frame["label"].tolist() if args.label_column else None
    else:
        path = Path(args.file)
        if not path.is_file():
            raise UserError(f"--file {path}: no such file")
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except UnicodeDecodeError:
            raise UserError(f"--file {path} is not UTF-8 text; re-save it as UTF-8") from None
        texts, labels = [line.strip() for line in lines if line.strip()], None
    if not texts or any(not str(t).strip() for t in texts):
        raise UserError("nothing to label: give sentences as arguments or --file, none of them empty")
    return texts, labels


def _csv_texts(path, column: str) -> pd.DataFrame:
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    if column not in frame.columns:
        raise UserError(f"--file {path} has no column {column!r}; its columns are "
                        f"{', '.join(map(repr, frame.columns))} (choose with --text-column)")
    return pd.DataFrame({"text": frame[column].str.strip()})


def main(argv=None) -> list[tuple[str, float]]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("sentences", nargs="*", help="sentences to label")
    parser.add_argument("--file", help="a text file (one sentence per line) or a CSV")
    parser.add_argument("--text-column", default="text", help="--file CSV: column of texts")
    parser.add_argument("--label-column", default=None,
                        help="--file CSV: column of true labels; prints the accuracy")
    parser.add_argument("--model-dir", default=str(DEFAULT_MODEL), help="a model folder from train.py")
    parser.add_argument("--threads", type=int, default=None, help="CPU threads")
    args = parser.parse_args(argv)
    devices.set_threads(args.threads)
    texts, true_labels = read_inputs(args)
    tokenizer, model, labels = load_model(args.model_dir)
    true_ids = labels.encode(true_labels, f"--file {args.file}") if true_labels is not None else None
    probabilities = predict(texts, tokenizer, model)
    best = probabilities.argmax(axis=1)
    results = []
    for text, i, p in zip(texts, best, probabilities, strict=True):
        results.append((labels.names[i], float(p[i])))
        print(f"{labels.names[i]}\t{p[i]:.3f}\t{text}")
    if true_ids is not None:
        print(f"accuracy: {(best == true_ids).mean():.1%} on {len(texts):,} labelled sentences")
    return results


if __name__ == "__main__":
    run_main(main)
