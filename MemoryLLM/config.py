"""Settings of a MemoryLLM run. The defaults are the CPU-sized default run (all seeds in a few
minutes on 2 cores); every field is also a command-line flag of train.py."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from shared.config import PriceDataConfig

STAGE_DIR = Path(__file__).resolve().parent


@dataclass
class MemoryConfig(PriceDataConfig):
    # data: the flags of PriceDataConfig (--ticker, --csv, --source, --lookback, --target, ...)
    # model
    layers: int = field(default=1, metadata={"help": "stacked LSTM layers"})
    units: int = field(default=32, metadata={"help": "LSTM units per layer"})
    dense_units: int = field(default=16, metadata={"help": "width of the dense layer"})
    dropout: float = field(default=0.2, metadata={"help": "dropout after each LSTM layer"})
    bidirectional: bool = field(default=False, metadata={
        "help": "read each window forwards and backwards"})
    attention: bool = field(default=False, metadata={
        "help": "additive attention over all LSTM outputs instead of the last one"})
    # training
    epochs: int = field(default=40, metadata={"help": "most epochs per seed"})
    batch_size: int = field(default=64, metadata={"help": "windows per gradient step"})
    lr: float = field(default=1e-3, metadata={"help": "Adam learning rate"})
    patience: int = field(default=6, metadata={
        "help": "early stopping: epochs without validation improvement"})
    seeds: int = field(default=3, metadata={"help": "independent runs; results are mean +- std"})
    seed: int = field(default=42, metadata={"help": "first seed; the others follow"})
    device: str = field(default="auto", metadata={
        "help": "auto: a GPU when TensorFlow sees one (make setup installs tensorflow-cpu, which "
                "sees none), else the CPU; cpu hides any GPU", "choices": ["auto", "cpu", "gpu"]})
    distribute: str = field(default="none", metadata={
        "help": "mirrored: tf.distribute.MirroredStrategy, one model replica per visible GPU "
                "(the CPU when there is none), each batch split between them",
        "choices": ["none", "mirrored"]})
    out_dir: str = field(default=str(STAGE_DIR / "results"), metadata={
        "help": "folder that holds one sub-folder per run", "metavar": "DIR"})
    run_name: str | None = field(default=None, metadata={
        "help": "sub-folder of --out-dir for this run (default: lstm, or lstm-attention)"})

    @property
    def model(self) -> str:
        return "lstm-attention" if self.attention else "lstm"


SMOKE_OVERRIDES = dict(lookback=20, units=8, dense_units=4, epochs=2, seeds=1, patience=1)
