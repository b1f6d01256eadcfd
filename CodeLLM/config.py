"""Settings of a CodeLLM forecaster run. The data, split, target and seed settings are stage 3's
(same names, same defaults), so the two stages train on exactly the same windows; every field
is also a command-line flag of train.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from shared.config import PriceDataConfig

STAGE_DIR = Path(__file__).resolve().parent
ARCHS = ("transformer", "lstm")  # lstm: the framework-matched control for stage 3 vs 4


@dataclass
class ForecastConfig(PriceDataConfig):
    # data: stage 3's flags (PriceDataConfig: --ticker, --csv, --source, --lookback, --target,
    # ...), plus the horizon
    horizon: int = field(default=1, metadata={
        "help": "days forecast at once; metrics are on the first, per-day RMSE on all"})
    # model
    arch: str = field(default="transformer", metadata={
        "help": "transformer, or lstm: a PyTorch twin of stage 3's Keras LSTM",
        "choices": list(ARCHS)})
    d_model: int = field(default=16, metadata={"help": "transformer: width of every day's vector"})
    heads: int = field(default=4, metadata={"help": "transformer: attention heads per layer"})
    encoder_layers: int = field(default=2, metadata={"help": "transformer: encoder blocks"})
    decoder_layers: int = field(default=1, metadata={"help": "transformer: decoder blocks"})
    ff_size: int = field(default=32, metadata={"help": "transformer: feed-forward hidden width"})
    pos_encoding: str = field(default="sinusoidal", metadata={
        "help": "how the transformer knows the order of days",
        "choices": ["sinusoidal", "learned", "none"]})
    units: int = field(default=32, metadata={"help": "lstm: LSTM units (stage 3's default)"})
    dense_units: int = field(default=16, metadata={"help": "lstm: width of the dense layer"})
    dropout: float = field(default=0.1, metadata={"help": "dropout inside the network"})
    # training
    epochs: int = field(default=40, metadata={"help": "most epochs per seed"})
    batch_size: int = field(default=64, metadata={"help": "windows per gradient step"})
    lr: float = field(default=1e-3, metadata={"help": "peak AdamW learning rate"})
    weight_decay: float = field(default=0.01, metadata={"help": "AdamW weight decay"})
    warmup_steps: int = field(default=50, metadata={"help": "linear learning-rate warm-up"})
    grad_clip: float = field(default=1.0, metadata={"help": "clip the gradient norm to this"})
    patience: int = field(default=6, metadata={
        "help": "early stopping: epochs without validation improvement"})
    seeds: int = field(default=3, metadata={"help": "independent runs; results are mean +- std"})
    seed: int = field(default=42, metadata={"help": "first seed; the others follow"})
    device: str = field(default="auto", metadata={
        "help": "auto picks cuda, then mps, then cpu", "choices": ["auto", "cpu", "cuda", "mps"]})
    out_dir: str = field(default=str(STAGE_DIR / "results"), metadata={
        "help": "folder that holds one sub-folder per run", "metavar": "DIR"})
    run_name: str | None = field(default=None, metadata={
        "help": "sub-folder of --out-dir for this run (default: the architecture)"})

    @property
    def model(self) -> str:
        return self.arch

    def model_config(self, n_features: int) -> dict:
        """The settings that fix the network's shape; predict.py rebuilds the model from them."""
        shared = {"arch": self.arch, "n_features": n_features, "horizon": self.horizon,
                  "dropout": self.dropout}
        if self.arch == "lstm":
            return {**shared, "units": self.units, "dense_units": self.dense_units}
        return {**shared, "lookback": self.lookback, "d_model": self.d_model, "heads": self.heads,
                "encoder_layers": self.encoder_layers, "decoder_layers": self.decoder_layers,
                "ff_size": self.ff_size, "pos_encoding": self.pos_encoding}


SMOKE_OVERRIDES = dict(lookback=20, d_model=8, heads=2, encoder_layers=1, ff_size=16, units=8,
                       dense_units=4, epochs=2, seeds=1, patience=1, warmup_steps=5)
