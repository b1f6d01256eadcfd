"""Lesson 02: self-attention on a toy sentence with hand-made word embeddings.

Queries, keys and values all come from the same six words. Three versions of one head:
  similarity   W_q = W_k = identity: each word looks at the words whose embedding is like its own;
  grammar      hand-made W_q, W_k: nouns look for the verb, the verb looks for the nouns, and the
               words with no question (a zero query) spread their weight evenly;
  grammar, causal  the same with a causal mask: no word may look at a later one.

    python CodeLLM/lessons/02_self_attention.py
    python CodeLLM/lessons/02_self_attention.py --out-dir /tmp/lessons

Writes self_attention.png to --out-dir.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

import numpy_attention as attention

from shared import plotting

HERE = Path(__file__).resolve().parent

DEFAULT_OUT = HERE / "results" / "reference-lessons"
FEATURES = ["determiner", "animal", "object", "verb", "preposition"]
WORDS = ["the", "cat", "sat", "on", "the", "mat"]
# One row per word, one column per feature: a hand-made embedding (d_model = 5). A word may
# carry a little of a second feature, so that similar words are not all-or-nothing.
EMBEDDING = {"the": [2, 0, 0, 0, 0], "cat": [0, 2, 0.5, 0, 0], "sat": [0, 0, 0, 2, 0],
             "on": [0, 0, 0, 0, 2], "mat": [0, 0.3, 2, 0, 0]}


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--out-dir", type=Path, default=DEFAULT_OUT, help="where the plot goes")
    parser.add_argument("--seed", type=int, default=0,
                        help="unused: this lesson has no randomness (kept for a uniform command line)")
    return parser.parse_args(argv)


def grammar_projections(strength: float = 2.0) -> tuple[np.ndarray, np.ndarray]:
    """(d_model, 2) W_q and W_k: query/key dimension 0 is "noun looking for a verb", dimension 1
    "verb looking for a noun". A score is large only where a query's question matches a key's
    answer; determiners and prepositions ask nothing (zero query rows)."""
    f = {name: i for i, name in enumerate(FEATURES)}
    w_q, w_k = np.zeros((len(FEATURES), 2)), np.zeros((len(FEATURES), 2))
    w_q[f["animal"], 0] = w_q[f["object"], 0] = strength  # nouns ask: where is the verb?
    w_k[f["verb"], 0] = strength  # verbs answer that question
    w_q[f["verb"], 1] = strength  # the verb asks: who or what is involved?
    w_k[f["animal"], 1] = w_k[f["object"], 1] = strength  # nouns answer
    return w_q, w_k


def main(argv=None) -> dict[str, np.ndarray]:
    args = parse_args(argv)
    x = np.array([EMBEDDING[word] for word in WORDS], dtype=float)  # (tokens 6, d_model 5)
    identity = np.eye(len(FEATURES))
    w_q, w_k = grammar_projections()
    maps = {
        "similarity (W_q = W_k = I)": attention.self_attention(x, identity, identity, identity)[1],
        "grammar (hand-made W_q, W_k)": attention.self_attention(x, w_q, w_k, identity)[1],
        "grammar, causal mask": attention.self_attention(
            x, w_q, w_k, identity, mask=attention.causal_mask(len(WORDS)))[1],
    }
    labels = [f"{i}:{word}" for i, word in enumerate(WORDS)]
    with np.printoptions(precision=2, suppress=True, linewidth=120):
        print(f"sentence: {' '.join(WORDS)}   embedding features: {', '.join(FEATURES)}")
        print(f"embeddings x (tokens, d_model):\n{x}\n")
        for name, weights in maps.items():
            print(f"{name}: row = query word, column = key word, rows sum to 1")
            print(f"{'':>7}" + "".join(f"{label:>7}" for label in labels))
            for label, row in zip(labels, weights, strict=True):
                print(f"{label:>7}" + "".join(f"{w:7.2f}" for w in row))
            # A zero query (a word that asks nothing) scores every key 0: equal weights.
            top = [labels[row.argmax()] if np.ptp(row[row > 0]) > 1e-9 else "evenly"
                   for row in weights]
            print("most attended: " + ", ".join(f"{a} -> {b}" for a, b in zip(labels, top, strict=True)))
            print()
    # White: an even spread over the keys a word may see (1/6, or 1/(i + 1) under the mask).
    path = plotting.plot_heatmaps(maps, Path(args.out_dir) / "self_attention.png",
                                  f"self-attention over \"{' '.join(WORDS)}\"",
                                  "key (looked at)", "query (looking)", xticks=labels, yticks=labels,
                                  even=True,
                                  masks={"grammar, causal mask": attention.causal_mask(len(WORDS))})
    print(f"plot written to {path}")
    return maps


if __name__ == "__main__":
    main()
