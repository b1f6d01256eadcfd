"""Stage 4's "try this" exercises, one per project: the NumPy lessons, the seq2seq transformer,
the mini-GPT and the forecaster. Change one setting, predict, run, compare.

    cd CodeLLM
    python exercises.py --list                  # what to change, the command, the range to expect
    python exercises.py --solution 2            # the answer and why, then the run and its number
    python exercises.py --solution all --smoke  # every solution at --smoke sizes (seconds)
    python exercises.py --seeds                 # measure the ranges (minutes: the README times each command)
    python exercises.py --report                # write them into README.md's "Try this"

The training runs are short (about half a minute on one core each), so their numbers are worse
than the reference runs'; what an exercise compares is measured at one budget. The lessons'
notebook (lessons/walkthrough.ipynb) lists these too. The runner is tools/exercises.py.
"""

from __future__ import annotations

import re
from pathlib import Path

from shared.runtime.errors import UserError, run_main

from tools.exercises import Command, Exercise, Outcome, Runs, metric
from tools.exercises import main as run_exercises

STAGE_DIR = Path(__file__).resolve().parent
WIDEST = 512  # the last row of lesson 01's table
SEQ2SEQ = ("--steps", "600", "--train-size", "5000")
MINIGPT = ("--d-model", "64", "--max-steps", "500")
FORECASTER = ("--seeds", "1")


def largest_weight(name: str, column: int):
    """Lesson 01's mean largest softmax weight at d_k = 512, from its printed table:
    column 0 is the unscaled scores', 1 the scaled ones'."""
    row = re.compile(rf"^\s*{WIDEST}\s+[\d.]+ / [\d.]+\s+([\d.]+) / ([\d.]+)", re.M)

    def read(runs: Runs) -> float:
        found = row.search(runs.stdout(name))
        if not found:
            raise UserError(f"lesson 01 printed no row for d_k = {WIDEST}; has its table changed?")
        return float(found.group(column + 1))
    return read


def exact_match(name: str, label: str) -> Outcome:
    return Outcome(f"{name}-exact", label, metric(name, "val_exact_match"), digits=0, percent=True)


def val_bpc(name: str, label: str) -> Outcome:
    return Outcome(f"{name}-bpc", label, metric(name, "val_bits_per_char"), unit="bits/char")


def theil_u(name: str, label: str) -> Outcome:
    return Outcome(f"{name}-u", label, metric(name, "val_theil_u_mean"), digits=3)


LESSON = Command("ex1-keys", "lessons/01_scaled_dot_product.py",
                 ("--keys", "64", "--out-dir", "{results}/ex1-keys"), smoke=(),
                 run_name=False, out_dir=False)

EXERCISES = [
    Exercise(
        id="scaling-keys",
        title="Can more keys rescue an unscaled softmax?",
        change="Lesson 01 gives each query 16 keys. Give it 64 (`--keys 64`) and predict the "
               "mean largest softmax weight at d_k = 512, with and without the 1/sqrt(d_k) "
               "scaling (even weights would give 1/64, about 0.016).",
        commands=(LESSON,),
        outcomes=(Outcome("unscaled", "largest weight, unscaled", largest_weight("ex1-keys", 0),
                          digits=3),
                  Outcome("scaled", "largest weight, scaled", largest_weight("ex1-keys", 1),
                          digits=3)),
        solution="Unscaled, one key still takes nearly all the weight; scaled, the weight stays "
                 "spread over many keys. Unscaled scores at d_k = 512 have a standard deviation "
                 "of about sqrt(512), so the best key's score is usually far ahead of the second "
                 "best, and softmax turns that gap into almost all of the weight however many "
                 "keys compete; its gradient vanishes with it. Dividing by sqrt(d_k) brings the "
                 "scores back to unit spread, whatever the width.",
        holds=lambda seed: seed["unscaled"] > 0.8 and seed["scaled"] < 0.2,
    ),
    Exercise(
        id="no-positions",
        title="A transformer without positions",
        change="The seq2seq transformer learns to write a sentence's words backwards. Train it "
               "without positional encoding (`--pos-encoding none`) and predict the share of "
               "validation sentences it reverses exactly, against the same budget with "
               "sinusoidal positions.",
        commands=(Command("ex2-no-positions", "seq2seq/train.py", ("--pos-encoding", "none"),
                          SEQ2SEQ),
                  Command("ex2-positions", "seq2seq/train.py", ("--pos-encoding", "sinusoidal"),
                          SEQ2SEQ)),
        outcomes=(exact_match("ex2-no-positions", "exact, no positions"),
                  exact_match("ex2-positions", "exact, sinusoidal")),
        solution="With positions it reverses (almost) every sentence; without, almost none. "
                 "Attention compares every token with every other one and sums the values, so "
                 "shuffling the source words gives the decoder exactly the same information: "
                 "without positions the encoder sees a bag of words, and no amount of training "
                 "can tell it which word came last. Order has to be put into the vectors.",
        holds=lambda seed: seed["ex2-no-positions-exact"] < 0.1 and seed["ex2-positions-exact"] > 0.9,
    ),
    Exercise(
        id="context",
        title="The mini-GPT's context at a short budget",
        change="`--seq-len` is how many characters the mini-GPT can attend to. Train one with "
               "8 characters of context and one with 64, each step seeing the same 8,192 "
               "characters (`--batch-size 256` and `32`), for 500 steps. Predict which has "
               "the lower validation bits per character.",
        commands=(Command("ex3-context-8", "minigpt/train.py",
                          ("--seq-len", "8", "--batch-size", "256"), MINIGPT),
                  Command("ex3-context-64", "minigpt/train.py",
                          ("--seq-len", "64", "--batch-size", "32"), MINIGPT)),
        outcomes=(val_bpc("ex3-context-8", "8 characters"),
                  val_bpc("ex3-context-64", "64 characters")),
        solution="The 8-character context wins at this budget. Early in training what a model "
                 "learns is spelling, and spelling needs only the last few characters; the "
                 "64-character model must first learn to ignore most of what it can see (and 64 "
                 "position vectors instead of 8), and it gets 32 text chunks per step instead of "
                 "256, a noisier gradient. A long context pays once the short-range patterns are "
                 "learned: the reference run (128 characters, 3,300 steps) beats both by far.",
        holds=lambda seed: seed["ex3-context-8-bpc"] < seed["ex3-context-64-bpc"],
    ),
    Exercise(
        id="attention-vs-lstm",
        title="Attention or recurrence on GOOG?",
        change="Train the forecaster as a transformer (its default) and as stage 3's LSTM "
               "recipe in PyTorch (`--arch lstm`), one seed each. Predict Theil's U on the "
               "validation period (1 = as good as tomorrow = today).",
        commands=(Command("ex4-transformer", "forecaster/train.py", ("--arch", "transformer"),
                          FORECASTER),
                  Command("ex4-lstm", "forecaster/train.py", ("--arch", "lstm"), FORECASTER)),
        outcomes=(theil_u("ex4-transformer", "Theil's U, transformer"),
                  theil_u("ex4-lstm", "Theil's U, LSTM")),
        solution="Both sit within a couple of per cent of 1: neither forecasts much better than "
                 "tomorrow = today, whatever the architecture. A model can only use a pattern "
                 "that is there, and daily returns of a liquid stock carry almost none. The "
                 "stage 3 vs 4 comparison (compare/) runs this properly, with several seeds and "
                 "significance tests, and compare/claims.py builds series with a signal at a known "
                 "lag, where attention's straight path back to any day can show.",
        holds=lambda seed: abs(seed["ex4-transformer-u"] - 1) < 0.02 and abs(seed["ex4-lstm-u"] - 1) < 0.02,
    ),
]


def main(argv=None):
    return run_exercises(EXERCISES, argv, stage_dir=STAGE_DIR, doc=__doc__)


if __name__ == "__main__":
    run_main(main)
