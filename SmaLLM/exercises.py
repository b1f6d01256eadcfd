"""Stage 2's "try this" exercises: change one setting of train.py, predict, run, compare.

    cd SmaLLM
    python exercises.py --list                  # what to change, the command, the range to expect
    python exercises.py --solution 1            # the answer and why, then the run and its number
    python exercises.py --solution all --smoke  # every solution at --smoke sizes (seconds)
    python exercises.py --seeds                 # measure the ranges (minutes: the README times each command)
    python exercises.py --report                # write them into README.md's "Try this"

Every run is a short one (300 steps of 16 streams, a 128-wide LSTM, a 4,000-piece vocabulary:
under a minute on one core), so the numbers are worse than the README's reference run; what the
exercises compare is measured at that same budget. The runner is tools/exercises.py.
"""

from __future__ import annotations

from pathlib import Path

from shared.runtime.errors import run_main

from tools.exercises import Command, Exercise, Outcome, metric
from tools.exercises import main as run_exercises

STAGE_DIR = Path(__file__).resolve().parent
BUDGET = ("--embed-size", "128", "--hidden-size", "128", "--batch-size", "16", "--max-steps", "300")

# The short-budget model every exercise compares with: the stage's recipe, 4,000 pieces.
BASE = Command("ex-base", "train.py", ("--vocab-size", "4000"), BUDGET)


def val_bpc(name: str, label: str) -> Outcome:
    return Outcome(f"{name}-bpc", label, metric(name, "val_bits_per_char"))


EXERCISES = [
    Exercise(
        id="vocab-size",
        title="A smaller vocabulary: better or worse?",
        change="Cut the vocabulary from 4,000 word pieces to 500 (`--vocab-size 500`; every "
               "other word becomes `<unk>`). Predict two numbers for each run: the validation "
               "perplexity per word, and the validation bits per character (which prices every "
               "`<unk>` by spelling the word out).",
        commands=(Command("ex1-small-vocab", "train.py", ("--vocab-size", "500"), BUDGET), BASE),
        outcomes=(Outcome("ex1-small-vocab-ppl", "perplexity, 500 pieces",
                          metric("ex1-small-vocab", "val_perplexity"), digits=0),
                  Outcome("ex-base-ppl", "perplexity, 4,000 pieces",
                          metric("ex-base", "val_perplexity"), digits=0),
                  val_bpc("ex1-small-vocab", "bits/char, 500 pieces"),
                  val_bpc("ex-base", "bits/char, 4,000 pieces"),
                  Outcome("ex1-small-vocab-unk", "`<unk>` tokens, 500 pieces",
                          metric("ex1-small-vocab", "val_unk_share"), digits=0, percent=True)),
        solution="Perplexity falls a lot with 500 pieces, yet bits per character rise: the small "
                 "vocabulary is worse. Perplexity is per token, and with 500 pieces about a "
                 "large share of the tokens are `<unk>`, an easy guess that says nothing about which "
                 "word it was; perplexities over different vocabularies measure different "
                 "questions and cannot be compared. Bits per character charge for the missing "
                 "letters, so only they can rank tokenizers (and compare with stage 1).",
        holds=lambda seed: (seed["ex1-small-vocab-ppl"] < seed["ex-base-ppl"]
                            and seed["ex1-small-vocab-bpc"] > seed["ex-base-bpc"]),
    ),
    Exercise(
        id="tie-weights",
        title="Untie the embedding from the read-out",
        change="Give the output layer its own weights (`--no-tie-weights`) instead of reusing "
               "the embedding table. Predict the parameter count and the validation bits per "
               "character against the tied model.",
        commands=(Command("ex2-untied", "train.py", ("--vocab-size", "4000", "--no-tie-weights"),
                          BUDGET), BASE),
        outcomes=(Outcome("ex2-untied-params", "parameters, untied", metric("ex2-untied", "params"),
                          digits=0),
                  Outcome("ex-base-params", "parameters, tied", metric("ex-base", "params"), digits=0),
                  val_bpc("ex2-untied", "bits/char, untied"), val_bpc("ex-base", "bits/char, tied")),
        solution="Untied, the model has nearly twice the parameters (a second 4,000 x 128 table), "
                 "and in a 300-step run it is a little better, not worse. Every prediction sends "
                 "gradient to every row of the output layer, so a table of its own learns fast, "
                 "while a tied table must serve as input and output at once. Tying buys fewer "
                 "parameters to store and to overfit with, and a run this short does not overfit "
                 "yet (exercise 3); rerun both without the budget flags, at the stage's full "
                 "budget, to see whether the untied model keeps its lead.",
        holds=lambda seed: (seed["ex2-untied-params"] > seed["ex-base-params"]
                            and seed["ex2-untied-bpc"] < seed["ex-base-bpc"]),
    ),
    Exercise(
        id="dropout",
        title="Does dropout help a short run?",
        change="Turn dropout off (`--dropout 0`; the stage's recipe uses 0.3). Predict the "
               "validation bits per character of the 300-step run against the base model.",
        commands=(Command("ex3-no-dropout", "train.py", ("--vocab-size", "4000", "--dropout", "0"),
                          BUDGET), BASE),
        outcomes=(val_bpc("ex3-no-dropout", "bits/char, dropout 0"),
                  val_bpc("ex-base", "bits/char, dropout 0.3")),
        solution="Without dropout the short run does better. Dropout fights overfitting, and a "
                 "300-step run has seen the training text about once: its training and "
                 "validation losses are still falling together, so there is nothing to fight "
                 "yet and the noise only slows learning. Dropout is meant for long runs, where the "
                 "training loss pulls away from the validation loss; to see whether it pays there, "
                 "rerun both without the budget flags, at the stage's full budget.",
        holds=lambda seed: seed["ex3-no-dropout-bpc"] < seed["ex-base-bpc"],
    ),
]


def main(argv=None):
    return run_exercises(EXERCISES, argv, stage_dir=STAGE_DIR, doc=__doc__)


if __name__ == "__main__":
    run_main(main)
