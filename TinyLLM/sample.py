"""Generate text from a trained TinyLLM checkpoint.

    cd TinyLLM
    python sample.py                                  # from results/gru/best.pt
    python sample.py --prompt "ROMEO:" --length 400 --temperature 0.7 --top-k 20
    python sample.py --checkpoint results/gru/best.pt --seed 3

Lower temperatures give safer, more repetitive text; --top-k keeps only the k likeliest
characters at each step.
"""

from __future__ import annotations

import argparse

from config import STAGE_DIR, TinyConfig
from model import build_model

from shared.lm import sampling
from shared.runtime.errors import run_main

DEFAULT_RUN = TinyConfig().model  # train.py's default run name


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--checkpoint", default=str(STAGE_DIR / "results" / DEFAULT_RUN / "best.pt"),
                        help="checkpoint written by train.py")
    sampling.add_sampling_arguments(parser, unit="character", length=500)
    return parser.parse_args(argv)


def main(argv=None) -> str:
    return sampling.sample_characters(parse_args(argv), build_model)


if __name__ == "__main__":
    run_main(main)
