"""Lesson 04: sinusoidal positional encoding, the signature added to each token's embedding.

PE[pos, 2i] = sin(pos / 10000^(2i/d)), PE[pos, 2i+1] = cos(same). The lesson prints the first
rows, then shows two properties that make it useful: every position gets its own pattern, and
the dot product of two positions depends only on how far apart they are, not where they are.

    python CodeLLM/lessons/04_positional_encoding.py
    python CodeLLM/lessons/04_positional_encoding.py --length 200 --d-model 128 --out-dir /tmp/lessons

Writes positional_encoding.png (the table and the position-to-position dot products) and
positional_similarity.png (dot product against offset, seen from several positions).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import matplotlib
import numpy as np

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # the backend must be chosen first

import numpy_attention as attention

from shared import plotting

HERE = Path(__file__).resolve().parent

DEFAULT_OUT = HERE / "results" / "reference-lessons"


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--out-dir", type=Path, default=DEFAULT_OUT, help="where the plots go")
    parser.add_argument("--seed", type=int, default=0,
                        help="unused: the encoding is fixed (kept for a uniform command line)")
    parser.add_argument("--length", type=int, default=100, help="number of positions")
    parser.add_argument("--d-model", type=int, default=64, help="width of the encoding")
    return parser.parse_args(argv)


def plot_table_and_similarity(table: np.ndarray, path: Path) -> Path:
    """Left: the encoding (positions x dimensions), in a diverging colour map centred on 0
    since it takes values in [-1, 1] (plot_heatmaps' scale starts at 0, for attention weights);
    right: PE PE^T (positions x positions), on its own scale."""
    similarity = table @ table.T  # (length, length)
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.8), dpi=110, layout="constrained")
    for ax, matrix, title, xlabel, style in (
            (left, table, "PE: one row per position", "dimension",
             {"cmap": "RdBu_r", "vmin": -1, "vmax": 1}),
            (right, similarity, "PE[i] . PE[j]: dot product between positions", "position j",
             {"cmap": "viridis"})):
        image = ax.imshow(matrix, aspect="auto", interpolation="nearest", **style)
        ax.set_title(title, fontsize=10)
        ax.set_xlabel(xlabel)
        ax.set_ylabel("position" if ax is left else "position i")
        fig.colorbar(image, ax=ax, shrink=0.85)
    fig.suptitle(f"sinusoidal positional encoding, {table.shape[0]} positions x {table.shape[1]} dims")
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path


def main(argv=None) -> np.ndarray:
    args = parse_args(argv)
    if args.length < 4 or args.d_model < 2:
        raise SystemExit("error: --length must be at least 4 and --d-model at least 2")
    table = attention.sinusoidal_positional_encoding(args.length, args.d_model)  # (length, d_model)
    with np.printoptions(precision=3, suppress=True, linewidth=120):
        print(f"PE table {table.shape} (positions, dimensions); first 8 dimensions of the first rows:")
        for pos in range(4):
            print(f"  PE[{pos}, :8] = {table[pos, :8]}")
        print("  column 0 is sin(pos): one radian per position; the last two columns barely move:")
        prefix = "  PE[:4, -2:] = "
        print(prefix + np.array2string(table[:4, -2:], precision=6, prefix=prefix) + "\n")

    # sin(a)sin(b) + cos(a)cos(b) = cos(a - b): each pair of columns contributes the cosine of
    # (offset x its frequency), so PE[p] . PE[p + k] depends on k alone.
    starts, offsets = [0, args.length // 4, args.length // 2], [0, 1, 2, 5, 10]
    print("PE[p] . PE[p + k]: the same in every row, because it depends on the offset k only")
    print(f"{'':>8}" + "".join(f"{'k = ' + str(k):>10}" for k in offsets))
    for p in starts:
        print(f"{'p = ' + str(p):>8}" + "".join(f"{table[p] @ table[p + k]:10.3f}" for k in offsets))
    nearest = [int(np.argsort(-table @ table[p])[1]) for p in range(args.length)]
    neighbours = sum(abs(n - p) == 1 for p, n in enumerate(nearest))
    print(f"\nfor {neighbours} of {args.length} positions the most similar other position is a "
          "direct neighbour (p - 1 or p + 1)")

    out = Path(args.out_dir)
    plot_table_and_similarity(table, out / "positional_encoding.png")
    reach = args.length // 4
    lags = np.arange(-reach, reach + 1)
    centres = [reach, args.length // 2, args.length - 1 - reach]
    series = {f"seen from position {c}": [table[c] @ table[c + k] for k in lags] for c in centres}
    plotting.plot_lines(lags, series, out / "positional_similarity.png",
                        "PE[p] . PE[p + k]: the curves coincide, only the offset matters",
                        "offset k", "dot product", distinct=True)
    print(f"plots written to {out}")
    return table


if __name__ == "__main__":
    main()
