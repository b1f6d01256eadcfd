"""Stage 5's "try this" exercises: fewer labels for the fine-tune and its baselines, a tokenizer
trained on the stage's own sentences, and the pretrained decoder's sampling temperature.

    cd LLMind
    python exercises.py --list                  # what to change, the command, the range to expect
    python exercises.py --solution 1            # the answer and why, then the run and its number
    python exercises.py --solution all --smoke  # every solution at --smoke sizes (about a minute)
    python exercises.py --seeds                 # measure the ranges (minutes: the README times each command)
    python exercises.py --report                # write them into README.md's "Try this"

A full fine-tune takes minutes, so the exercises keep to what fits in about a minute on one core:
200 labelled sentences scored on 300, the tokenizer side quest, and sampling without training.
Outcomes are read on the validation split. The runner is tools/exercises.py.
"""

from __future__ import annotations

import re
from pathlib import Path

from shared.runtime.errors import run_main

from tools.exercises import Command, Exercise, Outcome, Runs, metric
from tools.exercises import main as run_exercises

STAGE_DIR = Path(__file__).resolve().parent
FEW = ("--max-eval-samples", "300", "--epochs", "2")  # about a minute on one core
WORD = re.compile(r"\w+")


def macro_f1(key: str, label: str, path: str) -> Outcome:
    return Outcome(key, label, metric("ex1-few-labels", path))


def repeated_trigrams(name: str):
    """Share of the sample's word trigrams that already occurred earlier in it: how much of the
    text is the model going round in a loop."""
    def read(runs: Runs) -> float:
        words = WORD.findall(runs.stdout(name).lower())
        trigrams = [tuple(words[i:i + 3]) for i in range(len(words) - 2)]
        return 1 - len(set(trigrams)) / max(1, len(trigrams))
    return read


def sample(name: str, temperature: str) -> Command:
    return Command(name, "decoder/sample.py", ("--temperature", temperature),
                   budget=("--length", "150"), smoke=("--length", "12"), run_name=False,
                   out_dir=False)


EXERCISES = [
    Exercise(
        id="few-labels",
        title="Only 200 labelled sentences",
        change="Give the fine-tune and both baselines only 200 training sentences "
               "(`--max-train-samples 200`; scored on 300 validation sentences, 2 epochs). "
               "Predict the validation macro-F1 of the fine-tuned MiniLM, of the frozen-encoder "
               "probe (logistic regression on MiniLM's sentence vectors) and of TF-IDF; the run "
               "also fits TF-IDF on all the training sentences for comparison.",
        commands=(Command("ex1-few-labels", "train.py", ("--max-train-samples", "200"), FEW),),
        outcomes=(macro_f1("finetune", "fine-tuned", "val_macro_f1"),
                  macro_f1("probe", "frozen probe", "baselines.frozen_encoder_logreg.val_macro_f1"),
                  macro_f1("tfidf", "TF-IDF", "baselines.tfidf_logreg.val_macro_f1"),
                  macro_f1("tfidf-all", "TF-IDF on all sentences",
                           "baselines.tfidf_logreg_full_train.val_macro_f1")),
        solution="The frozen probe wins by a wide margin. Its sentence vectors come from a model "
                 "pretrained to place sentences of similar meaning near each other, so 200 labels "
                 "only have to fit the 385 weights of a linear classifier; TF-IDF must learn "
                 "every word's sentiment from those 200 sentences, and the fine-tune has had two "
                 "epochs of 7 small optimizer steps, too few to move 22.7 M weights off "
                 "predicting one class (its macro-F1 is what always answering 'fresh' scores). "
                 "With all the labels TF-IDF overtakes the probe: labelled data and pretraining "
                 "substitute for each other.",
        holds=lambda seed: (seed["probe"] > max(seed["tfidf"], seed["finetune"])
                            and seed["tfidf-all"] > seed["probe"] and seed["finetune"] < 0.4),
    ),
    Exercise(
        id="own-tokenizer",
        title="A tokenizer of the stage's own",
        change="The side quest trains a WordPiece tokenizer on the training sentences. Give it "
               "as large a vocabulary as MiniLM's (`--vocab-size 30522`) and predict the share "
               "of distinct validation words each tokenizer keeps whole.",
        commands=(Command("ex2-tokenizer", "tokenizer_quest.py", ("--vocab-size", "30522"),
                          smoke=()),),
        outcomes=(Outcome("trained", "whole words, trained here",
                          metric("ex2-tokenizer", "trained.whole_word_share_distinct"),
                          digits=0, percent=True),
                  Outcome("pretrained", "whole words, MiniLM's",
                          metric("ex2-tokenizer", "pretrained.whole_word_share_distinct"),
                          digits=0, percent=True),
                  Outcome("size", "vocabulary it reached",
                          metric("ex2-tokenizer", "vocab_size_trained"), digits=0)),
        solution="The tokenizer trained here keeps more of the validation words whole, and it "
                 "stops short of 30,522 pieces: the training sentences do not hold that many "
                 "distinct pieces. It fits the movie-review vocabulary better, yet the fine-tune "
                 "cannot use it: MiniLM's embedding table is indexed by its own 30,522 pieces, and "
                 "new pieces would have new ids with untrained vectors. A pretrained model and its "
                 "tokenizer come as a pair.",
        holds=lambda seed: seed["trained"] > seed["pretrained"] and seed["size"] < 30522,
    ),
    Exercise(
        id="decoder-temperature",
        title="A pretrained decoder, cold and warm",
        change="Sample 150 tokens from SmolLM2 (no training: `decoder/sample.py` continues the "
               "prompt 'KING HENRY IV:') at temperature 0.2 and at 1.0. Predict the share of "
               "word trigrams that repeat one already written: how much of the text goes round "
               "in a loop.",
        commands=(sample("ex3-cold", "0.2"), sample("ex3-warm", "1.0")),
        outcomes=(Outcome("cold", "repeated at 0.2", repeated_trigrams("ex3-cold"), digits=0,
                          percent=True),
                  Outcome("warm", "repeated at 1.0", repeated_trigrams("ex3-warm"), digits=0,
                          percent=True)),
        solution="At 0.2 a large part of the text repeats itself; at 1.0 almost none of it does. "
                 "A low temperature makes sampling nearly greedy, and a greedy language model "
                 "falls into loops: once a phrase is likely, repeating it makes it likelier "
                 "still. That is why chat models sample at a temperature near 1 with a top-p cut "
                 "(here 0.95) rather than take the likeliest token.",
        holds=lambda seed: seed["cold"] > seed["warm"],
        seeds=3,
    ),
]


def main(argv=None):
    return run_exercises(EXERCISES, argv, stage_dir=STAGE_DIR, doc=__doc__)


if __name__ == "__main__":
    run_main(main)
