"""Looking inside the embedding table: a 2-D map of frequent words and nearest neighbours.

Words used in similar contexts get similar vectors, so after training `king` should sit near
`duke` and `prince`, and `thou` near `thee`. PCA keeps the two directions along which the
vectors vary most; cosine similarity compares directions, ignoring vector length.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import numpy as np
import torch
from sklearn.decomposition import PCA

from shared import plotting
from shared.runtime import files

PROBE_WORDS = ("king", "love", "good", "night", "sword", "thou", "father", "speak")
_WORD = re.compile(r"^ ?[A-Za-z]+$")


def frequent_words(tokenizer, train_ids: list[int], n: int) -> list[int]:
    """Ids of the `n` most frequent training pieces that are words (not punctuation)."""
    vocab = {i: piece for piece, i in tokenizer.get_vocab().items()}
    counts = Counter(train_ids)
    words = [i for i, _ in counts.most_common() if _WORD.match(vocab.get(i, ""))]
    return words[:n]


def nearest_neighbours(weight: torch.Tensor, query: int, k: int,
                       exclude: tuple[int, ...] = ()) -> list[tuple[int, float]]:
    """The `k` ids whose vectors point most nearly the same way as `query`'s."""
    unit = torch.nn.functional.normalize(weight, dim=1)  # (vocab, embed)
    similarity = unit @ unit[query]  # (vocab,)
    similarity[[query, *exclude]] = -2.0  # never the word itself or <unk>
    top = torch.topk(similarity, k)
    return [(int(i), float(s)) for s, i in zip(top.values, top.indices, strict=True)]


def write_embedding_views(weight: torch.Tensor, tokenizer, train_ids: list[int], out: Path,
                          n_plot: int = 120, k: int = 6) -> dict:
    """Write embeddings.png (PCA of frequent words) and neighbours.json."""
    vocab = {i: piece for piece, i in tokenizer.get_vocab().items()}
    words = frequent_words(tokenizer, train_ids, n_plot)
    if len(words) >= 3:
        points = PCA(n_components=2).fit_transform(weight[words].numpy().astype(np.float64))
        plotting.plot_points_2d(points, [vocab[i].strip() for i in words], out / "embeddings.png",
                                title=f"Word embeddings of the {len(words)} most frequent words (PCA)")
    unk = tokenizer.token_to_id("<unk>")
    probes = [tokenizer.token_to_id(" " + w) for w in PROBE_WORDS]
    probes = [i for i in probes if i is not None] or words[:len(PROBE_WORDS)]
    neighbours = {vocab[i].strip(): [[vocab[j], round(s, 3)] for j, s in
                                     nearest_neighbours(weight, i, k, exclude=(unk,))]
                  for i in probes}
    files.write_json(out / "neighbours.json", neighbours)
    return neighbours
