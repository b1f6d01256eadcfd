"""Lesson 03: multi-head attention: several heads, each with its own question, in one layer.

Each token is embedded as [one-hot word | one-hot position] (d_model = 16). The weights are
written by hand in torch.nn.MultiheadAttention's layout (in_proj_weight rows [W_q; W_k; W_v],
head h owning rows h * d_head ... (h + 1) * d_head of each), with two heads of width 8:
  head 1 "same word"          queries and keys are the word one-hots: a word finds its copies;
                               its values are positions, so it reports *where* the word occurs;
  head 2 "previous position"  the query of position p is the one-hot of p - 1, the key of j is
                               the one-hot of j: each token finds its left neighbour; its values
                               are words, so it copies the *previous word* into this token.
The output projection (identity here) concatenates what the heads found.

    python CodeLLM/lessons/03_multi_head.py
    python CodeLLM/lessons/03_multi_head.py --out-dir /tmp/lessons --strength 2

Writes multi_head.png to --out-dir.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

import numpy_attention as attention

from shared import plotting

HERE = Path(__file__).resolve().parent

DEFAULT_OUT = HERE / "results" / "reference-lessons"
WORDS = ["the", "cat", "saw", "the", "dog", "and", "the", "bird"]
SLOTS = 8  # one-hot slots for words and for positions: d_model = 2 * SLOTS, d_head = SLOTS


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--out-dir", type=Path, default=DEFAULT_OUT, help="where the plot goes")
    parser.add_argument("--seed", type=int, default=0,
                        help="unused: the weights are written by hand (kept for a uniform command line)")
    parser.add_argument("--strength", type=float, default=4.0,
                        help="scale of the query and key weights: larger = sharper attention")
    return parser.parse_args(argv)


def embed(words: list[str]) -> tuple[np.ndarray, list[str]]:
    """(tokens, 2 * SLOTS): [one-hot of the word's id | one-hot of its position]."""
    vocabulary = list(dict.fromkeys(words))
    x = np.zeros((len(words), 2 * SLOTS))
    for position, word in enumerate(words):
        x[position, vocabulary.index(word)] = 1.0
        x[position, SLOTS + position] = 1.0
    return x, vocabulary


def hand_made_params(strength: float) -> dict:
    """nn.MultiheadAttention-layout weights for the two heads described in the docstring."""
    d_model, word, pos = 2 * SLOTS, slice(0, SLOTS), slice(SLOTS, 2 * SLOTS)
    w_q, w_k, w_v = (np.zeros((d_model, d_model)) for _ in range(3))  # (out, in) each
    head1, head2 = slice(0, SLOTS), slice(SLOTS, 2 * SLOTS)  # output rows owned by each head
    w_q[head1, word] = w_k[head1, word] = strength * np.eye(SLOTS)  # same word <-> same word
    w_v[head1, pos] = np.eye(SLOTS)  # head 1 reports positions
    w_q[head2, pos] = strength * np.eye(SLOTS, k=1)  # position p asks for slot p - 1
    w_k[head2, pos] = strength * np.eye(SLOTS)  # position j answers in slot j
    w_v[head2, word] = np.eye(SLOTS)  # head 2 reports words
    return {"in_proj_weight": np.vstack([w_q, w_k, w_v]), "in_proj_bias": np.zeros(3 * d_model),
            "out_proj_weight": np.eye(d_model), "out_proj_bias": np.zeros(d_model)}


def main(argv=None) -> dict[str, np.ndarray]:
    args = parse_args(argv)
    x, vocabulary = embed(WORDS)  # (tokens 8, d_model 16)
    params = hand_made_params(args.strength)
    out, weights = attention.multi_head_attention(x, x, params, heads=2)  # (8, 16), (2, 8, 8)
    labels = [f"{i}:{word}" for i, word in enumerate(WORDS)]
    print(f"sentence: {' '.join(WORDS)}; d_model {x.shape[1]}, 2 heads of width {SLOTS}")
    print(f"in_proj_weight {params['in_proj_weight'].shape}: rows [W_q; W_k; W_v], "
          f"head 1 = rows 0-{SLOTS - 1} of each, head 2 = rows {SLOTS}-{2 * SLOTS - 1}\n")
    with np.printoptions(precision=2, suppress=True, linewidth=120):
        for h, name in enumerate(["same word", "previous position"]):
            print(f"head {h + 1} ({name}) weights, row = query token, column = key token:\n"
                  f"{weights[h]}")
    print()
    # The output's two halves are the two heads' findings, concatenated by the output projection.
    print(f"{'token':>8}  {'head 1: where this word occurs':<36}  head 2: the previous word")
    for i, label in enumerate(labels):
        where = ", ".join(f"{p}" for p in np.flatnonzero(out[i, :SLOTS] > 0.1))
        mix = out[i, SLOTS:SLOTS + len(vocabulary)]  # a mixture of word one-hots
        found = vocabulary[int(mix.argmax())] if mix.max() > 0.5 else "(none: a zero query, even weights)"
        print(f"{label:>8}  {'positions ' + where:<36}  {found}")
    maps = {f"head {h + 1}: {name}": weights[h]
            for h, name in enumerate(["same word", "previous position"])}
    maps["mean of the heads (nn.MultiheadAttention's default weights)"] = weights.mean(axis=0)
    path = plotting.plot_heatmaps(maps, Path(args.out_dir) / "multi_head.png",
                                  "two hand-made heads, one layer", "key (looked at)",
                                  "query (looking)", xticks=labels, yticks=labels, even=True)
    print(f"plot written to {path}")
    return {"output": out, "weights": weights}


if __name__ == "__main__":
    main()
