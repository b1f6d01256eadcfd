"""Lesson 01: scaled dot-product attention, and why the scores are divided by sqrt(d_k).

First a worked example small enough to check by hand (3 tokens, d_k = 2); then random queries
and keys of growing width d_k, with and without the 1/sqrt(d_k) scaling: unscaled, the
softmax saturates (one key takes nearly all the weight) and its gradient vanishes.

    python CodeLLM/lessons/01_scaled_dot_product.py
    python CodeLLM/lessons/01_scaled_dot_product.py --out-dir /tmp/lessons --seed 1

Writes scaling_max_weight.png and scaling_gradient.png to --out-dir.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import numpy as np

import numpy_attention as attention

from shared import plotting

HERE = Path(__file__).resolve().parent

DEFAULT_OUT = HERE / "results" / "reference-lessons"
WIDTHS = [1, 4, 16, 64, 256, 512]


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--out-dir", type=Path, default=DEFAULT_OUT, help="where the plots go")
    parser.add_argument("--seed", type=int, default=0, help="seed of the random queries and keys")
    parser.add_argument("--keys", type=int, default=16, help="keys each query chooses between")
    parser.add_argument("--queries", type=int, default=2000, help="random queries averaged over")
    return parser.parse_args(argv)


def worked_example() -> None:
    q = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])  # (3 tokens, d_k = 2)
    k = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0]])
    v = np.array([[10.0, 0.0], [0.0, 10.0], [5.0, 5.0]])
    out, weights = attention.scaled_dot_product_attention(q, k, v)
    with np.printoptions(precision=3, suppress=True):
        print("worked example: 3 queries, 3 keys, d_k = 2")
        print(f"scores q k^T / sqrt(2):\n{q @ k.T / math.sqrt(2)}")
        print(f"weights (softmax of each row, rows sum to 1):\n{weights}")
        print(f"output = weights @ v (a weighted average of the value rows):\n{out}\n")


def softmax_statistics(scores: np.ndarray) -> dict[str, float]:
    """Averages over queries of: largest weight, entropy (bits), norm of the softmax Jacobian.

    The Jacobian of softmax is diag(p) - p p^T; its size is how much a change in the scores can
    move the weights, i.e. how much gradient reaches the queries and keys in training.
    """
    p = attention.softmax(scores)  # (queries, keys)
    entropy = -np.sum(p * np.log2(np.clip(p, 1e-300, None)), axis=-1)  # (queries,)
    jacobian = p[:, :, None] * np.eye(p.shape[1]) - p[:, :, None] * p[:, None, :]  # (q, keys, keys)
    return {"max_weight": float(p.max(axis=-1).mean()), "entropy": float(entropy.mean()),
            "gradient": float(np.linalg.norm(jacobian, axis=(1, 2)).mean())}


def main(argv=None) -> dict:
    args = parse_args(argv)
    rng = np.random.default_rng(args.seed)
    worked_example()

    results = {"unscaled": [], "scaled by 1/sqrt(d_k)": []}
    print(f"random q, k with unit-variance entries; {args.queries} queries, {args.keys} keys each")
    print(f"{'d_k':>5} {'score std':>20} {'largest weight':>20} {'entropy (bits)':>20} "
          f"{'softmax gradient':>20}")
    print(f"{'':>5}" + f" {'unscaled / scaled':>20}" * 4)
    for d_k in WIDTHS:
        q = rng.standard_normal((args.queries, d_k))
        k = rng.standard_normal((args.keys, d_k))
        raw = q @ k.T  # (queries, keys): variance d_k
        scaled = raw / math.sqrt(d_k)  # variance 1 again
        unscaled_stats, scaled_stats = softmax_statistics(raw), softmax_statistics(scaled)
        results["unscaled"].append(unscaled_stats)
        results["scaled by 1/sqrt(d_k)"].append(scaled_stats)
        cells = [f"{raw.std():9.2f} / {scaled.std():<8.2f}"]
        cells += [f"{unscaled_stats[key]:9.3f} / {scaled_stats[key]:<8.3f}"
                  for key in ("max_weight", "entropy", "gradient")]
        print(f"{d_k:>5} " + " ".join(f"{cell:>20}" for cell in cells))
    print(f"uniform weights would give largest weight {1 / args.keys:.3f} and entropy "
          f"{math.log2(args.keys):.2f} bits")

    x = np.log2(WIDTHS)
    out = Path(args.out_dir)
    for key, name, label, reference in (
            ("max_weight", "scaling_max_weight.png", "mean largest weight",
             ("uniform weights (1 / keys)", 1 / args.keys)),
            ("gradient", "scaling_gradient.png", "mean norm of the softmax Jacobian", None)):
        series = {name_: [s[key] for s in stats] for name_, stats in results.items()}
        plotting.plot_lines(x, series, out / name, f"softmax over {args.keys} keys: {label}",
                            "log2(d_k)  (0 = 1 dim, 9 = 512 dims)", label, reference=reference)
    print(f"plots written to {out}")
    return results


if __name__ == "__main__":
    main()
