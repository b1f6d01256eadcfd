"""Characters as token ids: the vocabulary of a character model (`CharVocab`), stage 1's text
as id tensors ready to train and score (`character_data`), and the check that a text is long
enough for the chosen --batch-size and --seq-len (`check_lengths`, for word models too).

Imported by TinyLLM/train.py, CodeLLM's mini-GPT and the `make new-stage` template
(`character_data`), SmaLLM/train.py (`check_lengths`), shared.lm.sampling and shared.lm.loop,
and the tests. The text itself comes from shared.lm.text.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from shared.lm import text
from shared.lm.scoring import CONTEXT, fingerprint
from shared.runtime.errors import UserError


class CharVocab:
    """Characters <-> integer ids, built from the training split only.

    Id 0 is reserved for characters the training text never contained. When validation text
    holds such a character it is scored as `<unk>`, which the model (never having seen one
    in training) gives almost no probability: an honest, not a flattering, penalty.
    """

    UNK = "\ufffd"  # the replacement character stands for any unseen character

    def __init__(self, chars: str):
        if self.UNK in chars:
            raise ValueError("the vocabulary must not contain the unknown-character marker")
        self.chars = self.UNK + "".join(sorted(set(chars)))
        self.index = {c: i for i, c in enumerate(self.chars)}

    @classmethod
    def from_text(cls, text: str) -> CharVocab:
        return cls("".join(set(text)))

    @classmethod
    def from_saved(cls, chars: str) -> CharVocab:
        """Rebuild from `vocab.chars` as stored in a checkpoint."""
        return cls(chars[1:])

    def __len__(self) -> int:
        return len(self.chars)

    def unknown(self, text: str) -> list[str]:
        return sorted({c for c in text if c not in self.index})

    def encode(self, text: str, strict: bool = False) -> list[int]:
        """Ids for `text`; unseen characters become id 0, or a UserError if `strict`."""
        if strict and (missing := self.unknown(text)):
            raise UserError(
                f"the model never saw these characters in training: {''.join(missing)!r}; "
                "remove them from the prompt"
            )
        return self.ids(text).tolist()

    def ids(self, text: str) -> torch.Tensor:
        """encode(text) as a tensor of int64, through a table indexed by code point: the same
        ids, some ten times faster on the corpus's millions of characters."""
        size = max(map(ord, self.chars)) + 2  # the last entry stands for every larger code point
        table = np.zeros(size, dtype=np.int64)
        for c, i in self.index.items():
            table[ord(c)] = i
        codes = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
        return torch.from_numpy(table[np.minimum(codes, size - 1)])

    def decode(self, ids) -> str:
        return "".join(self.chars[i] for i in ids)


def check_lengths(n_train: int, n_val: int, n_test: int, batch_size: int, seq_len: int,
                  unit: str) -> None:
    """One-line errors for a text too short for the chosen --batch-size and --seq-len.
    `n_val` and `n_test` count the scored tokens of the validation and test texts."""
    need = (batch_size + 1) * seq_len + 1
    if n_train < need:
        raise UserError(
            f"the text is too short: its {n_train + n_val + n_test} {unit} leave "
            f"{n_train} for training, fewer than the {need} that --batch-size "
            f"{batch_size} x --seq-len {seq_len} needs; "
            "use a longer text or smaller --seq-len/--batch-size")
    for name, n in (("validation", n_val), ("test", n_test)):
        if n < seq_len:
            raise UserError(
                f"the {name} text has {n} {unit}, fewer than --seq-len {seq_len}; use a longer "
                "text or a smaller --seq-len")


@dataclass
class CharData:
    """A character model's text as ids. `val_ids` and `test_ids` begin with CONTEXT, so that
    every character of the validation and test text is scored."""

    vocab: CharVocab
    train_ids: torch.Tensor
    val_ids: torch.Tensor
    test_ids: torch.Tensor
    test_sha256: str  # `fingerprint` of the test text


def character_data(cfg) -> CharData:
    """Stage 1's text as character ids: the corpus (or `cfg.data`) cut by shared.text into
    training, validation and test text, with a vocabulary read from the training text only.
    Checks the lengths that `cfg.batch_size` and `cfg.seq_len` need."""
    parts = text.splits(cfg.corpus, cfg.data)
    vocab = CharVocab.from_text(parts.train)
    data = CharData(vocab, vocab.ids(parts.train), vocab.ids(CONTEXT + parts.validation),
                    vocab.ids(CONTEXT + parts.test), fingerprint(parts.test))
    check_lengths(len(data.train_ids), len(data.val_ids) - 1, len(data.test_ids) - 1,
                  cfg.batch_size, cfg.seq_len, "characters")
    return data
