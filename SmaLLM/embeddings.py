"""Looking inside the embedding table: a 2-D map of frequent words, grouped, and nearest neighbours.

Words used in similar contexts get similar vectors, so after training `king` should sit near
`duke` and `prince`, and `thou` near `thee`. PCA keeps the two directions along which the
vectors vary most; cosine similarity compares directions, ignoring vector length. The groups on
the map are found, not chosen: k-means on the words' unit vectors (the same cosine geometry as
the neighbours, in all the embedding's dimensions, not the map's two), with the number of groups
the one of 3 to 8 whose silhouette is highest; each group is named by its most frequent words.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import numpy as np
import torch
from sklearn.cluster import KMeans
from sklearn.decomposition import PCA
from sklearn.metrics import silhouette_score

from shared import plotting
from shared.runtime import files

PROBE_WORDS = ("king", "love", "good", "night", "sword", "thou", "father", "speak")
GROUPS = range(3, 9)  # the numbers of groups k-means tries
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


def group_words(vectors: np.ndarray, seed: int = 0) -> tuple[np.ndarray, dict[int, float]]:
    """k-means on unit vectors for each k in GROUPS; the labels of the k with the highest
    silhouette (cosine), and every k's silhouette."""
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    tried = {}
    for k in [k for k in GROUPS if k < len(unit)] or [2]:  # a silhouette needs 2 <= k < points
        labels = KMeans(k, n_init=10, random_state=seed).fit_predict(unit)
        tried[k] = (float(silhouette_score(unit, labels, metric="cosine")), labels)
    best = max(tried, key=lambda k: tried[k][0])
    return tried[best][1], {k: round(score, 4) for k, (score, _) in tried.items()}


def embedding_map(weight: torch.Tensor, words: list[int], names: list[str], counts: Counter) -> dict:
    """What embeddings.png shows, as JSON: each word's 2-D point, count and group, and each
    group's name (its three most frequent words)."""
    vectors = weight[words].numpy().astype(np.float64)
    pca = PCA(n_components=2).fit(vectors)
    points = pca.transform(vectors)
    labels, silhouettes = group_words(vectors)
    groups = []
    for g in range(int(labels.max()) + 1):
        members = [i for i in range(len(words)) if labels[i] == g]  # most frequent first
        groups.append({"name": ", ".join(names[i] for i in members[:3]), "size": len(members)})
    order = sorted(range(len(groups)), key=lambda g: -groups[g]["size"])  # largest first
    rank = {g: r for r, g in enumerate(order)}
    return {
        "method": "PCA to 2-D; groups: k-means on unit vectors (all dimensions), k by silhouette",
        "explained_variance": [round(float(v), 4) for v in pca.explained_variance_ratio_],
        "silhouette_by_k": silhouettes,
        "groups": [groups[g] for g in order],
        "words": [{"word": names[i], "count": counts[w], "x": round(float(points[i, 0]), 4),
                   "y": round(float(points[i, 1]), 4), "group": rank[int(labels[i])]}
                  for i, w in enumerate(words)],
    }


def draw_embeddings(run: Path) -> Path:
    """embeddings.png from the run's embeddings.json (report.py redraws it with no model)."""
    m = files.read_json(run / "embeddings.json")
    points = np.array([[w["x"], w["y"]] for w in m["words"]])
    share = sum(m["explained_variance"])
    return plotting.plot_points_2d(
        points, [w["word"] for w in m["words"]], run / "embeddings.png",
        title=f"Word embeddings of the {len(points)} most frequent words (PCA: {share:.0%} of the "
              "variance)", groups=[w["group"] for w in m["words"]],
        group_names=[f"{g['name']} ... ({g['size']} words)" for g in m["groups"]],
        legend_title="groups (k-means in all dimensions), named by their most frequent words")


def write_embedding_views(weight: torch.Tensor, tokenizer, train_ids: list[int], out: Path,
                          n_plot: int = 120, k: int = 6) -> dict:
    """Write embeddings.json and embeddings.png (the grouped PCA map of frequent words) and
    neighbours.json."""
    vocab = {i: piece for piece, i in tokenizer.get_vocab().items()}
    words = frequent_words(tokenizer, train_ids, n_plot)
    if len(words) >= 3:
        files.write_json(out / "embeddings.json", embedding_map(
            weight, words, [vocab[i].strip() for i in words], Counter(train_ids)))
        draw_embeddings(out)
    unk = tokenizer.token_to_id("<unk>")
    probes = [tokenizer.token_to_id(" " + w) for w in PROBE_WORDS]
    probes = [i for i in probes if i is not None] or words[:len(PROBE_WORDS)]
    neighbours = {vocab[i].strip(): [[vocab[j], round(s, 3)] for j, s in
                                     nearest_neighbours(weight, i, k, exclude=(unk,))]
                  for i in probes}
    files.write_json(out / "neighbours.json", neighbours)
    return neighbours
