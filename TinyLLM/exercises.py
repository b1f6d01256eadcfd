"""Stage 1's "try this" exercises: change one setting of train.py or sample.py, predict, run, compare.

    cd TinyLLM
    python exercises.py --list                  # what to change, the command, the range to expect
    python exercises.py --solution 1            # the answer and why, then the run and its number
    python exercises.py --solution all --smoke  # every solution at --smoke sizes (seconds)
    python exercises.py --seeds                 # measure the ranges (minutes: the README times each command)
    python exercises.py --report                # write them into README.md's "Try this"

Every run is a short one (300 steps of a 128-wide model, about a minute on one core), so the
numbers are worse than the README's reference runs; what the exercises compare is measured at
that same budget. The runner is tools/exercises.py.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from shared.runtime.errors import run_main

from tools.exercises import Command, Exercise, Outcome, Runs, metric
from tools.exercises import main as run_exercises

STAGE_DIR = Path(__file__).resolve().parent
BUDGET = ("--hidden-size", "128", "--max-steps", "300")  # about a minute on one core
WORD = re.compile(r"[a-z]+(?:'[a-z]+)?")

# The GRU at the short budget: the baseline of exercises 1 and 2 and the model exercise 3 samples.
GRU = Command("ex-gru", "train.py", ("--model", "gru"), BUDGET)


@lru_cache(maxsize=1)
def training_words() -> frozenset[str]:
    from shared.lm import text  # reads the plays: only when an outcome is computed

    return frozenset(WORD.findall(text.splits("tiny").train.lower()))


def real_word_share(name: str):
    """Share of the sampled words (letters, with an apostrophe inside) that occur in the
    training text: a spelling check against Shakespeare's own vocabulary."""
    def read(runs: Runs) -> float:
        words = WORD.findall(runs.stdout(name).lower())
        known = training_words()
        return sum(w in known for w in words) / max(1, len(words))
    return read


def sample(name: str, temperature: str) -> Command:
    return Command(name, "sample.py",
                   ("--checkpoint", "{results}/ex-gru/best.pt", "--temperature", temperature),
                   budget=("--length", "5000"), smoke=("--length", "300"),
                   run_name=False, out_dir=False)


def val_bpc(name: str, label: str) -> Outcome:
    return Outcome(name, label, metric(name, "val_bits_per_char"), unit="bits/char")


EXERCISES = [
    Exercise(
        id="rnn-vs-gru",
        title="Plain RNN or GRU, at the same budget?",
        change="Train the plain RNN (`--model rnn`) and the GRU with the same width and the same "
               "300 steps. Predict which reaches the lower validation bits per character, and "
               "by roughly how much.",
        commands=(Command("ex1-rnn", "train.py", ("--model", "rnn"), BUDGET), GRU),
        outcomes=(val_bpc("ex1-rnn", "plain RNN"), val_bpc("ex-gru", "GRU")),
        solution="The GRU wins on every seed. Its update gate lets it keep a character's "
                 "information across many steps and pass gradients back along that path, while "
                 "the plain RNN squeezes everything through one tanh at every step, so its "
                 "gradients from far back vanish (the README's 'Why gates' measures this). At the "
                 "same width the GRU also has three times the recurrent weights, so part of the "
                 "gap is size: try `--model rnn --hidden-size 256` to see how much.",
        holds=lambda seed: seed["ex-gru"] < seed["ex1-rnn"],
    ),
    Exercise(
        id="bptt-chunk",
        title="Gradients that reach back only 4 characters",
        change="`--seq-len` is the truncated-BPTT chunk: the hidden state is carried from chunk "
               "to chunk, but gradients stop at the chunk's start. Cut it from 128 characters "
               "to 4 and raise `--batch-size` from 64 to 2,048, so each step still sees 8,192 "
               "characters. Predict the validation bits per character against the GRU of "
               "exercise 1.",
        commands=(Command("ex2-short", "train.py", ("--seq-len", "4", "--batch-size", "2048"),
                          BUDGET), GRU),
        outcomes=(val_bpc("ex2-short", "4-character chunks"),
                  val_bpc("ex-gru", "128-character chunks")),
        solution="Hardly any worse: the two land within a few hundredths of a bit of each other. "
                 "Truncation does not stop the model reading the past, since its state is carried "
                 "across chunks; it only stops training from teaching it what to store for longer "
                 "than 4 steps. In its first 300 steps a model learns spelling and common words, "
                 "which need little of that, so the cut costs almost nothing yet; the README's "
                 "'Why gates' task, which must recall a symbol 20 to 200 steps back, is where long "
                 "gradient paths matter.",
        holds=lambda seed: abs(seed["ex2-short"] - seed["ex-gru"]) < 0.05,
    ),
    Exercise(
        id="temperature",
        title="Cold or hot sampling?",
        change="Sample 5,000 characters from exercise 1's GRU at temperature 0.5 and at 1.5 "
               "(`sample.py` divides the logits by it). Predict the share of sampled words that "
               "are real words, i.e. that occur somewhere in the training text.",
        commands=(GRU, sample("ex3-cold", "0.5"), sample("ex3-hot", "1.5")),
        outcomes=(Outcome("ex3-cold", "real words at 0.5", real_word_share("ex3-cold"),
                          digits=0, percent=True),
                  Outcome("ex3-hot", "real words at 1.5", real_word_share("ex3-hot"),
                          digits=0, percent=True)),
        solution="At 0.5 most sampled words are real ones; at 1.5 most are not. Dividing the "
                 "logits by a temperature below 1 sharpens the distribution towards the likeliest "
                 "characters, and those spell the common words the model has learned (at the "
                 "price of repeating them); above 1 it flattens it, so unlikely letters get "
                 "sampled and words fall apart. Neither changes the model or its loss: temperature only "
                 "trades variety against correctness when generating.",
        holds=lambda seed: seed["ex3-cold"] > 0.5 > seed["ex3-hot"],
        seeds=3,
    ),
]


def main(argv=None):
    return run_exercises(EXERCISES, argv, stage_dir=STAGE_DIR, doc=__doc__)


if __name__ == "__main__":
    run_main(main)
