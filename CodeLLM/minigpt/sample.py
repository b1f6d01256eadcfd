"""Generate text from a trained mini-GPT checkpoint (minigpt/train.py).

    cd CodeLLM
    cd CodeLLM/minigpt
    python sample.py                              # from results/gpt/best.pt
    python sample.py --prompt "ROMEO:" --length 400 --temperature 0.7 --top-k 20

The same flags as stage 1's sample.py. The model sees at most its context (--seq-len at
training time) of the prompt and the text generated so far.
"""

from __future__ import annotations

import argparse

from config import STAGE_DIR, GPTConfig
from model import build_model

from shared.lm import sampling
from shared.runtime.errors import run_main


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--checkpoint",
                        default=str(STAGE_DIR / "results" / GPTConfig().model / "best.pt"),
                        help="checkpoint written by train.py")
    sampling.add_sampling_arguments(parser, unit="character", length=500)
    return parser.parse_args(argv)


def main(argv=None) -> str:
    return sampling.sample_characters(parse_args(argv), build_model)


if __name__ == "__main__":
    run_main(main)
