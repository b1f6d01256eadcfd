"""The toy sequence-to-sequence tasks: their words, vocabularies and train / validation / test
splits. seq2seq/train.py and seq2seq/model.py import it.

Tasks: `reverse` writes a sentence's words in reverse order; `number-words` spells an integer
from 0 to 999,999, read digit by digit, in English words; `translate` (why_attention.py only)
turns a templated English sentence into Lexish, a small invented language of this repository
whose word order differs (verb last, adjectives after the noun in mirrored order, postpositions).
Every source sequence is unique, and the train / validation / test split is made on the
sources, so no test input is ever trained on. `make_data` splits at random (train.py);
`make_length_data` trains on short sources and tests on every length up to longer ones
(why_attention.py, the length-generalisation experiment).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from shared.runtime.errors import UserError

TASKS = ("reverse", "number-words")  # train.py's tasks
LENGTH_TASKS = (*TASKS, "translate")  # why_attention.py's

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




# --- The translator: English -> Lexish -------------------------------------------------------
# A lexicon written for this repository: 35 word pairs. Lexish puts the verb last (subject,
# object, verb), the adjectives after their noun in mirrored order and the preposition after its
# noun phrase, so the word that comes next in the output is often far back or far ahead in the
# source: the alignment is not monotonic.
#   the big red dog sees a cat near the old tree -> lo hundo roso granda un kato lo arbo vetra apud vidas
DETERMINERS = {"the": "lo", "a": "un"}
ADJECTIVES = {"red": "roso", "blue": "bleva", "green": "verda", "old": "vetra", "young": "juna",
              "small": "peta", "big": "granda", "quick": "rapa", "slow": "lenta", "happy": "gaja"}
NOUNS = {"dog": "hundo", "cat": "kato", "fox": "vulpo", "bird": "birdo", "horse": "kevalo",
         "king": "rego", "queen": "regina", "child": "kido", "farmer": "farmo", "tree": "arbo",
         "house": "domo", "river": "rivo"}
VERBS = {"sees": "vidas", "likes": "amas", "finds": "trovas", "follows": "sekvas",
         "chases": "kasas", "helps": "helpas", "hears": "audas", "watches": "rigardas"}
PREPOSITIONS = {"near": "apud", "behind": "posta", "under": "sub"}
LEXICON = {**DETERMINERS, **ADJECTIVES, **NOUNS, **VERBS, **PREPOSITIONS}
MOST_ADJECTIVES = 2  # per noun phrase
# A structure: (adjectives of the subject, of the object, of the prepositional phrase's noun,
# or None when the sentence has no prepositional phrase).
STRUCTURES = [(a, b, c) for a in range(MOST_ADJECTIVES + 1) for b in range(MOST_ADJECTIVES + 1)
              for c in (None, *range(MOST_ADJECTIVES + 1))]


def structure_length(structure: tuple) -> int:
    """Words of an English sentence: noun phrase = determiner, adjectives, noun."""
    subject, obj, pp = structure
    return 2 + subject + 1 + 2 + obj + (0 if pp is None else 1 + 2 + pp)


TRANSLATE_LENGTHS = (min(map(structure_length, STRUCTURES)), max(map(structure_length, STRUCTURES)))


def _noun_phrase_lexish(phrase: list[str]) -> list[str]:
    """the big red dog -> lo hundo roso granda: the noun first, then the adjectives mirrored."""
    det, *adjectives, noun = phrase
    return [LEXICON[det], LEXICON[noun], *(LEXICON[a] for a in reversed(adjectives))]


def translate(sentence: list[str]) -> list[str]:
    """An English sentence of the templates (see STRUCTURES) in Lexish, word by word."""
    cut = next(i for i, w in enumerate(sentence) if w in VERBS)
    subject, verb, rest = sentence[:cut], sentence[cut], sentence[cut + 1 :]
    pp_at = next((i for i, w in enumerate(rest) if w in PREPOSITIONS), len(rest))
    obj, pp = rest[:pp_at], rest[pp_at:]
    out = _noun_phrase_lexish(subject) + _noun_phrase_lexish(obj)
    if pp:  # near the tree -> lo arbo apud
        out += _noun_phrase_lexish(pp[1:]) + [LEXICON[pp[0]]]
    return out + [LEXICON[verb]]


def _draw_sentence(rng, structure: tuple) -> tuple[str, ...]:
    def phrase(adjectives: int) -> list[str]:
        picked = rng.choice(len(ADJECTIVES), adjectives, replace=False)  # no "big big dog"
        return [_pick(rng, DETERMINERS), *(list(ADJECTIVES)[i] for i in picked), _pick(rng, NOUNS)]
    subject, obj, pp = structure
    words = phrase(subject) + [_pick(rng, VERBS)] + phrase(obj)
    if pp is not None:
        words += [_pick(rng, PREPOSITIONS)] + phrase(pp)
    return tuple(words)


def _pick(rng, words: dict) -> str:
    return list(words)[int(rng.integers(len(words)))]


def _phrases(adjectives: int) -> int:
    """Distinct noun phrases with this many (distinct, ordered) adjectives."""
    return len(DETERMINERS) * math.perm(len(ADJECTIVES), adjectives) * len(NOUNS)


def sources_of_length(task: str, length: int) -> int:
    """How many distinct sources of `length` tokens a task has (0 if none)."""
    if task == "reverse":
        return len(WORDS) ** length
    if task == "number-words":
        return 0 if not 1 <= length <= NUMBER_DIGITS else 10 if length == 1 else 9 * 10 ** (length - 1)
    total = 0
    for s in STRUCTURES:
        if structure_length(s) == length:
            n = _phrases(s[0]) * len(VERBS) * _phrases(s[1])
            total += n if s[2] is None else n * len(PREPOSITIONS) * _phrases(s[2])
    return total


def draw_source(task: str, length: int, rng) -> tuple[str, ...]:
    """One random source of exactly `length` tokens."""
    if task == "reverse":
        return tuple(WORDS[i] for i in rng.integers(0, len(WORDS), length))
    if task == "number-words":
        low = 0 if length == 1 else 10 ** (length - 1)
        return tuple(str(int(rng.integers(low, 10**length))))
    fitting = [s for s in STRUCTURES if structure_length(s) == length]
    return _draw_sentence(rng, fitting[int(rng.integers(len(fitting)))])


def target_of(task: str, source) -> list[str]:
    if task == "reverse":
        return list(reversed(source))
    if task == "number-words":
        return number_to_words(int("".join(source))).split()
    return translate(list(source))


def length_range(task: str, min_words: int = 3) -> tuple[int, int]:
    """The shortest and longest source a task can have (reverse: from `min_words`, no limit)."""
    if task == "reverse":
        return min_words, 10**6
    if task == "number-words":
        return 1, NUMBER_DIGITS
    return TRANSLATE_LENGTHS


def make_length_data(task: str, train_length: int, test_length: int, train_size: int,
                     val_size: int, test_per_length: int, seed: int = 0,
                     min_words: int = 3) -> TaskData:
    """Train and validate on sources up to `train_length` tokens; test on every length up to
    `test_length`, about `test_per_length` sources at each (fewer where few exist: there are
    ten one-digit numbers). Test sources are drawn first and never trained on, whatever their
    length, so the test reads both "held-out, seen length" and "longer than any in training"."""
    if task not in LENGTH_TASKS:
        raise UserError(f"task {task}: choose one of {', '.join(LENGTH_TASKS)}")
    shortest, longest = length_range(task, min_words)
    if train_length > test_length:
        raise UserError(f"{task}: training length {train_length} is longer than the test length "
                        f"{test_length}; the test must reach at least as far as training")
    if not (shortest <= train_length and test_length <= longest):
        raise UserError(f"{task}: lengths must lie in {shortest}..{longest} tokens, got training "
                        f"{train_length} and test {test_length}")
    if min(train_size, val_size, test_per_length) < 1:
        raise UserError("train, validation and per-length test sizes must each be at least 1")
    rng = np.random.default_rng(seed)
    lengths = [n for n in range(shortest, test_length + 1) if sources_of_length(task, n)]
    test: dict[tuple, None] = {}
    for n in lengths:
        # Leave most sources of a seen length to training (a fifth at most is held out).
        share = 5 if n <= train_length else 2
        count = min(test_per_length, sources_of_length(task, n) // share)
        before = len(test)
        while len(test) < before + count:
            test[draw_source(task, n, rng)] = None
    seen_lengths = [n for n in lengths if n <= train_length]
    room = sum(sources_of_length(task, n) for n in seen_lengths) - len(test)
    if train_size + val_size > room // 2:
        raise UserError(f"{task}: {train_size + val_size:,} training and validation sources asked "
                        f"for, but only {room:,} of up to {train_length} tokens are not in the "
                        f"test; ask for at most {room // 2:,}")
    pool: dict[tuple, None] = {}
    while len(pool) < train_size + val_size:
        # Every length equally often, so the short ones are not drowned out by the long ones.
        source = draw_source(task, seen_lengths[int(rng.integers(len(seen_lengths)))], rng)
        if source not in test:
            pool[source] = None
    pool_sources = list(pool)
    pool_sources = [pool_sources[i] for i in rng.permutation(len(pool_sources))]

    def split(sources) -> Split:
        return Split([list(s) for s in sources], [target_of(task, s) for s in sources])

    train, val, test_split = split(pool_sources[val_size:]), split(pool_sources[:val_size]), split(list(test))
    if task == "translate":
        source_tokens = list(LEXICON)
        target_tokens = list(LEXICON.values())
    elif task == "reverse":
        source_tokens = target_tokens = WORDS
    else:
        source_tokens, target_tokens = "0123456789", [*ONES, *TENS[2:], "hundred", "thousand"]
    longest_target = max(len(t) for part in (train, val, test_split) for t in part.targets)
    return TaskData(task, Vocab(source_tokens), Vocab(target_tokens), test_length + 1,
                    longest_target + 2, train=train, val=val, test=test_split)
