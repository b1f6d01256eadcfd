"""The toy sequence-to-sequence tasks: their words, vocabularies and train / validation / test
splits. seq2seq/train.py and seq2seq/model.py import it.

Tasks: `reverse` writes a sentence's words in reverse order; `number-words` spells an integer
from 0 to 999,999, read digit by digit, in English words. Every source sequence is unique, and
the train / validation / test split is made on the sources, so no test input is ever trained on.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from shared.runtime.errors import UserError

TASKS = ("reverse", "number-words")

WORDS = ("red", "blue", "green", "old", "young", "small", "big", "quick", "slow", "happy",
         "fox", "dog", "cat", "bird", "fish", "horse", "king", "queen", "child", "farmer",
         "runs", "jumps", "sees", "eats", "likes", "finds", "sings", "sleeps",
         "the", "a", "near", "over")
ONES = ("zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
        "fifteen sixteen seventeen eighteen nineteen").split()
TENS = ("", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")
LARGEST_NUMBER = 999_999
NUMBER_DIGITS = len(str(LARGEST_NUMBER))
LONGEST_NUMBER_WORDS = 9  # 777,777: "seven hundred seventy seven thousand seven hundred seventy seven"


def _below_thousand(n: int) -> list[str]:
    words = []
    if n >= 100:
        words += [ONES[n // 100], "hundred"]
        n %= 100
    if n >= 20:
        words.append(TENS[n // 10])
        n %= 10
    if n:  # 1..19 (the teens have their own words)
        words.append(ONES[n])
    return words


def number_to_words(n: int) -> str:
    """245 -> "two hundred forty five"; 1007 -> "one thousand seven"; 0 -> "zero"."""
    if not 0 <= n <= LARGEST_NUMBER:
        raise ValueError(f"{n} is outside 0..{LARGEST_NUMBER}")
    if n == 0:
        return "zero"
    thousands, rest = divmod(n, 1000)
    words = _below_thousand(thousands) + ["thousand"] if thousands else []
    return " ".join(words + _below_thousand(rest))


class Vocab:
    """Tokens <-> ids, with the three special ids every sequence model here needs."""

    PAD, BOS, EOS = 0, 1, 2
    SPECIALS = ("<pad>", "<bos>", "<eos>")

    def __init__(self, tokens):
        self.itos = [*self.SPECIALS, *dict.fromkeys(tokens)]  # dict: unique, order kept
        self.stoi = {token: i for i, token in enumerate(self.itos)}

    def __len__(self) -> int:
        return len(self.itos)

    def encode(self, tokens: list[str]) -> list[int]:
        return [self.stoi[t] for t in tokens]

    def decode(self, ids) -> list[str]:
        """Ids -> tokens, up to the first <eos>; <pad> and <bos> are dropped."""
        tokens = []
        for i in ids:
            if int(i) == self.EOS:
                break
            if int(i) not in (self.PAD, self.BOS):
                tokens.append(self.itos[int(i)])
        return tokens


@dataclass
class Split:
    sources: list[list[str]]  # token lists
    targets: list[list[str]]

    def __len__(self) -> int:
        return len(self.sources)


@dataclass
class TaskData:
    task: str
    source_vocab: Vocab
    target_vocab: Vocab
    max_source_len: int  # tokens, <eos> included
    max_target_len: int  # tokens, <bos> and <eos> included
    train: Split
    val: Split
    test: Split

    def tensors(self, split: Split) -> tuple[torch.Tensor, torch.Tensor]:
        """Padded ids: sources `w1 .. wn <eos>` (N, S), targets `<bos> v1 .. vm <eos>` (N, T)."""
        src = torch.full((len(split), self.max_source_len), Vocab.PAD, dtype=torch.long)
        tgt = torch.full((len(split), self.max_target_len), Vocab.PAD, dtype=torch.long)
        for i, (source, target) in enumerate(zip(split.sources, split.targets, strict=True)):
            # The source's <eos> gives the encoder a fixed landmark: "the last word" is the one
            # just before it, which is where reversal starts.
            ids = self.source_vocab.encode(source) + [Vocab.EOS]
            src[i, : len(ids)] = torch.tensor(ids)
            ids = [Vocab.BOS, *self.target_vocab.encode(target), Vocab.EOS]
            tgt[i, : len(ids)] = torch.tensor(ids)
        return src, tgt


def _unique_draws(draw, count: int) -> list[tuple]:
    """Call `draw()` (one random source) until `count` distinct sources are found, in order."""
    seen: dict[tuple, None] = {}
    while len(seen) < count:
        seen[draw()] = None
    return list(seen)


def make_data(task: str, train_size: int, val_size: int, test_size: int, seed: int = 0,
              min_words: int = 3, max_words: int = 8) -> TaskData:
    """Distinct random sources split into train / validation / test: the split is on the
    source, so no held-out input appears in training (a test checks it)."""
    if task not in TASKS:
        raise UserError(f"--task {task}: choose one of {', '.join(TASKS)}")
    if min(train_size, val_size, test_size) < 1:
        raise UserError("--train-size, --val-size and --test-size must each be at least 1")
    rng = np.random.default_rng(seed)
    total = train_size + val_size + test_size
    if task == "reverse":
        if not 1 <= min_words <= max_words:
            raise UserError(f"--min-words {min_words} and --max-words {max_words}: need "
                            "1 <= min-words <= max-words")
        possible = sum(len(WORDS) ** n for n in range(min_words, max_words + 1))

        def draw():
            length = int(rng.integers(min_words, max_words + 1))
            return tuple(WORDS[i] for i in rng.integers(0, len(WORDS), length))

        source_tokens, longest_source, longest_target = WORDS, max_words, max_words
    else:
        possible = LARGEST_NUMBER + 1

        def draw():
            # Uniform over the number of digits, not over the numbers: otherwise nine draws in
            # ten have six digits and short numbers are almost never seen.
            digits = int(rng.integers(1, NUMBER_DIGITS + 1))
            low = 0 if digits == 1 else 10 ** (digits - 1)
            return tuple(str(int(rng.integers(low, 10**digits))))

        source_tokens, longest_source, longest_target = "0123456789", NUMBER_DIGITS, LONGEST_NUMBER_WORDS
    if total > possible // 2:  # beyond that, drawing distinct sources at random crawls
        raise UserError(f"{task}: {total:,} examples asked for (train + val + test), but only "
                        f"{possible:,} distinct sources exist; ask for at most {possible // 2:,}")
    sources = _unique_draws(draw, total)
    # Shuffle: the first draws hold most of the short sources (there are few of them, so they
    # repeat and stop being new), and the test split must not be the short ones.
    sources = [sources[i] for i in rng.permutation(total)]
    if task == "reverse":
        targets = [list(reversed(s)) for s in sources]
    else:
        targets = [number_to_words(int("".join(s))).split() for s in sources]
    sources = [list(s) for s in sources]
    target_tokens = WORDS if task == "reverse" else [*ONES, *TENS[2:], "hundred", "thousand"]
    cut1, cut2 = test_size, test_size + val_size
    return TaskData(task, Vocab(source_tokens), Vocab(target_tokens), longest_source + 1,
                    longest_target + 2, train=Split(sources[cut2:], targets[cut2:]),
                    val=Split(sources[cut1:cut2], targets[cut1:cut2]),
                    test=Split(sources[:cut1], targets[:cut1]))


def show_source(task: str, tokens: list[str]) -> str:
    """Digits read as a number, words as a sentence."""
    return "".join(tokens) if task == "number-words" else " ".join(tokens)


