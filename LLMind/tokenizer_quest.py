"""Side quest: train a WordPiece tokenizer on the training sentences and compare how it splits
words with the pretrained MiniLM tokenizer (trained on a large general corpus).

    cd LLMind
    python tokenizer_quest.py                    # a few seconds
    python tokenizer_quest.py --vocab-size 4000 "An unwatchable, overlong sequel."

Prints the splits of a few validation sentences side by side and the coverage numbers: the
share of validation words (running words and distinct words) that each tokenizer keeps whole,
tokens per word, and unknown tokens. Writes results/<run-name>/metrics.json; the README's side
quest section is generated (report.py) from the committed run, made with
`python tokenizer_quest.py --run-name reference-tokenizers`.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import data
import pretrained

from shared.runtime import files
from shared.runtime.errors import run_main

STAGE_DIR = Path(__file__).resolve().parent

WORD = re.compile(r"\w+|[^\w\s]")


def train_wordpiece(texts: list[str], vocab_size: int):
    """A BERT-style (lower-cased, ## continuation pieces) WordPiece tokenizer, training text only."""
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers

    tokenizer = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tokenizer.normalizer = normalizers.BertNormalizer(lowercase=True)
    tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tokenizer.decoder = decoders.WordPiece()
    trainer = trainers.WordPieceTrainer(vocab_size=vocab_size, special_tokens=["[UNK]", "[PAD]"])
    tokenizer.train_from_iterator(texts, trainer)
    return tokenizer


def coverage(words: list[str], split_word) -> dict:
    """How each word of `words` is cut: whole (one piece), pieces per word, unknown pieces."""
    pieces = {w: split_word(w) for w in set(words)}
    whole_types = sum(len(p) == 1 and p[0] != "[UNK]" for p in pieces.values()) / len(pieces)
    whole_tokens = sum(len(pieces[w]) == 1 and pieces[w][0] != "[UNK]" for w in words) / len(words)
    per_word = sum(len(pieces[w]) for w in words) / len(words)
    unknown = sum(pieces[w].count("[UNK]") for w in words) / len(words)
    return {"whole_word_share_running": whole_tokens, "whole_word_share_distinct": whole_types,
            "pieces_per_word": per_word, "unknown_per_word": unknown}


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("sentences", nargs="*", help="extra sentences to show split")
    parser.add_argument("--vocab-size", type=int, default=8000, help="size of the trained vocabulary")
    parser.add_argument("--seed", type=int, default=42, help="seed of the split (as train.py)")
    parser.add_argument("--out-dir", default=str(STAGE_DIR / "results"), help="results folder")
    parser.add_argument("--run-name", default="tokenizer-quest", help="sub-folder of --out-dir")
    args = parser.parse_args(argv)
    parts = data.split(data.load_bundled(), seed=args.seed)
    ours = train_wordpiece(parts["train"]["text"].tolist(), args.vocab_size)
    theirs = pretrained.load(pretrained.BUNDLED, "tokenizer")

    def split_ours(text: str) -> list[str]:
        return ours.encode(text, add_special_tokens=False).tokens

    def split_theirs(text: str) -> list[str]:
        return theirs.tokenize(text)

    shown = args.sentences or parts["validation"]["text"].tolist()[:4]
    examples = [{"text": t, "trained": split_ours(t), "pretrained": split_theirs(t)} for t in shown]
    for e in examples:
        print(f"\n{e['text']}\n  trained here ({ours.get_vocab_size():,}): {' '.join(e['trained'])}"
              f"\n  pretrained ({theirs.vocab_size:,}):   {' '.join(e['pretrained'])}")
    words = [w.lower() for t in parts["validation"]["text"] for w in WORD.findall(t)]
    result = {"vocab_size_trained": ours.get_vocab_size(), "vocab_size_pretrained": theirs.vocab_size,
              "validation_words": len(words), "validation_distinct_words": len(set(words)),
              "trained": coverage(words, split_ours), "pretrained": coverage(words, split_theirs),
              "examples": examples}
    print(f"\ncoverage of {len(words):,} validation words ({len(set(words)):,} distinct):")
    for name in ("trained", "pretrained"):
        c = result[name]
        print(f"  {name:10s} whole words {c['whole_word_share_running']:.1%} of running words, "
              f"{c['whole_word_share_distinct']:.1%} of distinct; {c['pieces_per_word']:.2f} pieces "
              f"per word; {c['unknown_per_word']:.2%} unknown")
    files.write_json(files.run_dir(args.out_dir, args.run_name) / "metrics.json", result)
    return result


if __name__ == "__main__":
    run_main(main)
