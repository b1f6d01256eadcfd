"""Words as tokens: a word-level tokenizer (Hugging Face `tokenizers`) and the spelling model
that prices the words it does not know.

The tokenizer cuts text into pieces that, put back together, give the text exactly:

* a word, with the single space before it if there was one: `" love"`, `"Love"`;
* a punctuation mark, again with its space: `","`, `" '"`;
* any other whitespace character on its own: `"\\n"`.

Case is kept: bits per character are measured on the original text, and a model that had
lowercased it could not spell that text back. Every piece the training split saw at least
`min_frequency` times, up to `vocab_size` pieces, gets an id; every other piece is `<unk>`.
"""

from __future__ import annotations

import math
import unicodedata
from collections import Counter
from pathlib import Path

from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers

UNK = "<unk>"
PIECES = r" ?\w+| ?[^\w\s]|\s"  # every character falls in exactly one piece


def train_tokenizer(train_text: str, vocab_size: int, min_frequency: int) -> Tokenizer:
    """Learn the vocabulary from the training split only."""
    tokenizer = Tokenizer(models.WordLevel(unk_token=UNK))
    tokenizer.normalizer = normalizers.NFC()  # one code-point sequence per accented letter
    tokenizer.pre_tokenizer = pre_tokenizers.Split(Regex(PIECES), behavior="isolated")
    tokenizer.decoder = decoders.Fuse()  # pieces carry their own spaces: just concatenate
    trainer = trainers.WordLevelTrainer(vocab_size=vocab_size, min_frequency=min_frequency,
                                        special_tokens=[UNK], show_progress=False)
    tokenizer.train_from_iterator(train_text.splitlines(keepends=True), trainer)
    return tokenizer


def load_tokenizer(path: str | Path) -> Tokenizer:
    return Tokenizer.from_file(str(path))


def encode(tokenizer: Tokenizer, text: str) -> tuple[list[int], list[str]]:
    """Token ids and the exact text piece behind each id (so an `<unk>` keeps its spelling).

    The text is NFC-normalised first: the tokenizer's offsets index the string it is given,
    so they must be applied to that same string. The pieces then rebuild the normalised text
    exactly, and their lengths count its characters (as shared/lm/text.py, which normalises
    every text it reads, counts them for the character models)."""
    normalized = unicodedata.normalize("NFC", text)
    encoding = tokenizer.encode(normalized)
    return encoding.ids, [normalized[start:end] for start, end in encoding.offsets]


class SpellingModel:
    """A character bigram model of how unknown pieces are spelled, fit on the training split.

    P(piece) = P(c1 | start) x P(c2 | c1) x ... x P(end | cn), with add-one smoothing and one
    extra slot for characters never seen in training. A word model that predicts `<unk>` has
    not said which word; charging this spelling cost on top makes its bits per character
    comparable with a character model's. The model also gives a little probability to pieces
    that are in the vocabulary, so the charge is slightly pessimistic, never flattering.
    """

    START, END, OTHER = "\x02", "\x03", "\x04"

    def __init__(self, pieces: list[str]):
        self.counts: dict[str, Counter] = {}
        symbols = {self.END, self.OTHER}
        for piece in pieces:
            chain = [self.START, *piece, self.END]
            symbols.update(piece)
            for prev, nxt in zip(chain[:-1], chain[1:], strict=True):
                self.counts.setdefault(prev, Counter())[nxt] += 1
        self.symbols = symbols
        self.totals = {prev: sum(c.values()) for prev, c in self.counts.items()}

    @classmethod
    def fit(cls, train_pieces: list[str], train_ids: list[int], unk_id: int) -> SpellingModel:
        """Fit on the training pieces that are themselves unknown (rare words are what
        `<unk>` stands for); if there are too few of them, on all training pieces."""
        unknown = [p for p, i in zip(train_pieces, train_ids, strict=True) if i == unk_id]
        return cls(unknown if len(unknown) >= 100 else train_pieces)

    def nats(self, piece: str) -> float:
        """Negative log-probability of spelling `piece`, in nats."""
        total = 0.0
        chain = [self.START, *(c if c in self.symbols else self.OTHER for c in piece), self.END]
        for prev, nxt in zip(chain[:-1], chain[1:], strict=True):
            count = self.counts.get(prev, Counter())[nxt]
            total -= math.log((count + 1) / (self.totals.get(prev, 0) + len(self.symbols)))
        return total
