"""Stage 3's "try this" exercises: change one setting of train.py, predict, run, compare with
persistence (tomorrow = today) through Theil's U, the model's RMSE over persistence's.

    cd MemoryLLM
    python exercises.py --list                  # what to change, the command, the range to expect
    python exercises.py --solution 1            # the answer and why, then the run and its number
    python exercises.py --solution all --smoke  # every solution at --smoke sizes (seconds)
    python exercises.py --seeds                 # measure the ranges (minutes: the README times each command)
    python exercises.py --report                # write them into README.md's "Try this"

Each command trains one seed (`--seeds 1`; the reference runs average three) and the outcomes
are read on the validation period, where choices like these are made; the test period stays
for the reference runs. The runner is tools/exercises.py.
"""

from __future__ import annotations

from pathlib import Path

from shared.runtime.errors import run_main

from tools.exercises import Command, Exercise, Outcome, metric
from tools.exercises import main as run_exercises

STAGE_DIR = Path(__file__).resolve().parent
BUDGET = ("--seeds", "1")  # one seed: about 20 s on one core

# The stage's default recipe: what every exercise compares with.
BASE = Command("ex-base", "train.py", (), BUDGET)


def theil_u(name: str, label: str) -> Outcome:
    return Outcome(f"{name}-u", label, metric(name, "val_theil_u_mean"), digits=3)


EXERCISES = [
    Exercise(
        id="target-price",
        title="Predict the price itself",
        change="The network predicts tomorrow's return, and the forecast is today's close times "
               "(1 + return). Make it predict tomorrow's (scaled) close directly "
               "(`--target price`). Predict Theil's U on the validation period (1 = as good as "
               "persistence, below 1 = better).",
        commands=(Command("ex1-price", "train.py", ("--target", "price"), BUDGET), BASE),
        outcomes=(theil_u("ex1-price", "Theil's U, price target"),
                  theil_u("ex-base", "Theil's U, return target")),
        solution="The price target is clearly worse than persistence, while the return target "
                 "sits at about 1. A return model that has learned next to nothing predicts a "
                 "return near 0, which is persistence itself; a price model has to rebuild the "
                 "whole price level through a scaler fitted on the training years, and every "
                 "small error in scaled units becomes several dollars. A low RMSE on a price chart is "
                 "mostly the model copying today's price: always compare with persistence.",
        holds=lambda seed: seed["ex1-price-u"] > max(1.02, seed["ex-base-u"]),
        seeds=3,  # the price model's spread across seeds is wide
    ),
    Exercise(
        id="lookback",
        title="A week of history instead of three months",
        change="Shorten the input window from 60 trading days to 5 (`--lookback 5`). Predict "
               "Theil's U on the validation period against the 60-day model.",
        commands=(Command("ex2-lookback", "train.py", ("--lookback", "5"), BUDGET), BASE),
        outcomes=(theil_u("ex2-lookback", "Theil's U, 5 days"),
                  theil_u("ex-base", "Theil's U, 60 days")),
        solution="Both land within about a percent of 1: the window hardly matters. Daily returns "
                 "of a liquid stock are close to unpredictable from their own past, so three "
                 "months of history hold no more usable signal than a week, and the LSTM's long "
                 "memory has nothing to remember. The synthetic series of CodeLLM/compare, whose "
                 "signal sits at a known lag, show when a long window does pay.",
        holds=lambda seed: abs(seed["ex2-lookback-u"] - 1) < 0.015 and abs(seed["ex-base-u"] - 1) < 0.015,
    ),
    Exercise(
        id="capacity",
        title="A bigger network",
        change="Make the LSTM four times wider and two layers deep (`--units 128 --layers 2`). "
               "Predict Theil's U and the share of validation days whose direction (up or down) "
               "it calls right.",
        commands=(Command("ex3-big", "train.py", ("--units", "128", "--layers", "2"), BUDGET), BASE),
        outcomes=(theil_u("ex3-big", "Theil's U, 2 x 128 units"),
                  theil_u("ex-base", "Theil's U, 1 x 32 units"),
                  Outcome("ex3-big-direction", "direction right, 2 x 128 units",
                          metric("ex3-big", "val_directional_accuracy_mean"), digits=0,
                          percent=True)),
        solution="No better: Theil's U stays at about 1 and the direction is right about half "
                 "the time, no better than chance. More capacity helps when there is a pattern too "
                 "complex for the small model; here there is almost no pattern, and early stopping "
                 "on the validation loss keeps the big model from memorising noise, so it ends "
                 "where the small one does.",
        holds=lambda seed: abs(seed["ex3-big-u"] - 1) < 0.03 and 0.4 < seed["ex3-big-direction"] < 0.6,
    ),
]


def main(argv=None):
    return run_exercises(EXERCISES, argv, stage_dir=STAGE_DIR, doc=__doc__)


if __name__ == "__main__":
    run_main(main)
