"""Lesson 05: a whole transformer block, and why it needs positional encoding.

One pre-norm block (layer norm -> multi-head self-attention -> residual, layer norm ->
GELU feed-forward -> residual) with random weights, run on a few random token vectors and on
the same vectors shuffled. Without positions the block is permutation-equivariant: shuffling
the inputs shuffles the outputs the same way and changes nothing else, so word order is
invisible to it. Adding the sinusoidal encoding (positions stay 0, 1, 2, ... while the
contents move) breaks that; so does a causal mask, which is itself a statement about order.

    python CodeLLM/lessons/05_transformer_block.py
    python CodeLLM/lessons/05_transformer_block.py --seed 3 --tokens 8 --out-dir /tmp/lessons

Writes block_permutation.png to --out-dir.
"""

from __future__ import annotations

import argparse
import string
from pathlib import Path

import numpy as np

import numpy_attention as attention

from shared import plotting

HERE = Path(__file__).resolve().parent

DEFAULT_OUT = HERE / "results" / "reference-lessons"


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--out-dir", type=Path, default=DEFAULT_OUT, help="where the plot goes")
    parser.add_argument("--seed", type=int, default=0, help="seed of the weights, tokens and shuffle")
    parser.add_argument("--tokens", type=int, default=6, help="sequence length (at most 26)")
    parser.add_argument("--d-model", type=int, default=16, help="width of the block")
    parser.add_argument("--heads", type=int, default=2, help="attention heads (must divide --d-model)")
    return parser.parse_args(argv)


def permutation_test(params: dict, x: np.ndarray, perm: np.ndarray, positions: np.ndarray | None,
                     mask: np.ndarray | None = None) -> tuple[float, np.ndarray, np.ndarray]:
    """Run the block on x and on x[perm] (positions, if any, added after shuffling: the slots
    keep their place, the contents move). Returns the largest |block(x)[perm] - block(x[perm])|
    and the two runs' attention weights (heads, tokens, tokens), the shuffled run's put back in
    the original token order."""
    extra = 0.0 if positions is None else positions
    out, weights = attention.transformer_block(x + extra, params, mask)  # (tokens, d_model)
    out_perm, weights_perm = attention.transformer_block(x[perm] + extra, params, mask)
    inverse = np.argsort(perm)  # row a of the shuffled run is token perm[a]
    back = weights_perm[:, inverse][:, :, inverse]  # (heads, tokens, tokens), original order
    return float(np.abs(out[perm] - out_perm).max()), weights, back


def main(argv=None) -> dict[str, float]:
    args = parse_args(argv)
    if not 2 <= args.tokens <= 26:
        raise SystemExit("error: --tokens must be between 2 and 26")
    if args.d_model % args.heads:
        raise SystemExit(f"error: --heads {args.heads} does not divide --d-model {args.d_model}")
    rng = np.random.default_rng(args.seed)
    params = attention.random_block_params(args.d_model, args.heads, 4 * args.d_model, rng)
    x = rng.standard_normal((args.tokens, args.d_model))  # (tokens, d_model): the contents
    perm = rng.permutation(args.tokens)
    while np.all(perm == np.arange(args.tokens)):  # a "shuffle" that moves nothing proves nothing
        perm = rng.permutation(args.tokens)
    pe = attention.sinusoidal_positional_encoding(args.tokens, args.d_model)
    labels = list(string.ascii_uppercase[: args.tokens])
    print(f"block: d_model {args.d_model}, {args.heads} heads, feed-forward {4 * args.d_model}, "
          f"pre-norm; {args.tokens} random tokens {' '.join(labels)}")
    print(f"shuffled order: {' '.join(labels[i] for i in perm)}\n")

    cases = {"no positional encoding": (None, None),
             "sinusoidal encoding added": (pe, None),
             "no encoding, causal mask": (None, attention.causal_mask(args.tokens))}
    differences, maps = {}, {}
    print("largest |block(x)[perm] - block(x[perm])| (0 up to rounding = equivariant):")
    for name, (positions, mask) in cases.items():
        diff, weights, back = permutation_test(params, x, perm, positions, mask)
        differences[name] = diff
        verdict = "equivariant: order is invisible" if diff < 1e-9 else "NOT equivariant: order matters"
        print(f"  {name:<28} {diff:10.2e}   {verdict}")
        if mask is None:  # the heatmaps compare the first two cases
            maps[f"{name}: original order"] = weights[0]
            maps[f"{name}: shuffled, put back"] = back[0]
            change = back[0] - weights[0]
            maps[f"{name}: shuffled minus original\n(largest |change| {np.abs(change).max():.0e})"] = change
    pooled = np.abs(attention.transformer_block(x, params)[0].mean(axis=0)
                    - attention.transformer_block(x[perm], params)[0].mean(axis=0)).max()
    print(f"\nwithout positions, the mean over tokens changes only by rounding ({pooled:.1e}): the block "
          "sees a bag of vectors")
    # The weights on a scale centred on an even spread (1 / tokens); the changes on their own
    # scale, centred on 0: a change of 0.1 would vanish on the weights' scale.
    path = plotting.plot_heatmaps(
        maps, Path(args.out_dir) / "block_permutation.png",
        "head 1 weights; the shuffled run put back in the original order", "key token",
        "query token", xticks=labels, yticks=labels, columns=3, even=True,
        differences=tuple(name for name in maps if "minus" in name),
        difference_label="change in weight: shuffled run minus original (0: none)")
    print(f"plot written to {path}")
    return differences


if __name__ == "__main__":
    main()
