"""Settings of a CodeLLM forecaster run. The data, split, target and seed settings are stage 3's
(same names, same defaults), so the two stages train on exactly the same windows; every field
is also a command-line flag of train.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from shared.config import PriceDataConfig, RuntimeConfig

STAGE_DIR = Path(__file__).resolve().parent
ARCHS = ("transformer", "lstm")  # lstm: the framework-matched control for stage 3 vs 4


@dataclass
class ForecastConfig(PriceDataConfig, RuntimeConfig):
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


# --smoke for train.py: seconds, not minutes, yet every artifact is written.
SMOKE_OVERRIDES = dict(lookback=20, d_model=8, heads=2, encoder_layers=1, ff_size=16, units=8,
                       dense_units=4, epochs=2, seeds=1, patience=1, warmup_steps=5)


@dataclass
class GPTConfig(RuntimeConfig):
    """Settings of train_gpt.py: the mini-GPT on stage 1's text, with stage 1's conventions.

    The defaults fit stage 1's budget (5 minutes on 2 cores) and were chosen on the validation
    loss among a few runs of that budget: 4 blocks of width 128 (1,500 steps), width 96 (2,300
    steps), 2 blocks (3,400 steps), and 2 blocks with dropout 0.1. On a CPU budget a shallower
    model that takes more steps learned most."""

    # data (as stage 1: the same corpus and the same validation split, its last 10%)
    corpus: str = field(default="tiny", metadata={
        "help": "Shakespeare corpus: 'tiny' (10 plays, 1.1 M chars) or 'full' (38 plays)",
        "choices": ["tiny", "full"]})
    data: str | None = field(default=None, metadata={
        "help": "train on your own UTF-8 text file instead of Shakespeare", "metavar": "PATH"})
    # model
    model: str = field(default="gpt", metadata={"help": "the model's name in results",
                                                "choices": ["gpt"]})
    d_model: int = field(default=128, metadata={"help": "width of every position's vector"})
    n_layer: int = field(default=2, metadata={"help": "transformer blocks"})
    heads: int = field(default=4, metadata={"help": "attention heads per block"})
    dropout: float = field(default=0.0, metadata={"help": "dropout (a short run barely overfits)"})
    seq_len: int = field(default=128, metadata={
        "help": "context: characters each prediction can attend to (and the training chunk)"})
    # optimisation
    batch_size: int = field(default=32, metadata={"help": "chunks per step"})
    lr: float = field(default=3e-3, metadata={"help": "peak AdamW learning rate"})
    weight_decay: float = field(default=0.1, metadata={"help": "AdamW weight decay"})
    max_steps: int = field(default=3300, metadata={"help": "optimizer steps in the run"})
    warmup_steps: int = field(default=100, metadata={"help": "linear learning-rate warm-up"})
    grad_clip: float = field(default=1.0, metadata={"help": "clip the gradient norm to this"})
    # evaluation and output
    eval_interval: int = field(default=330, metadata={
        "help": "evaluate on validation (and checkpoint) every N steps"})
    eval_tokens: int = field(default=20_000, metadata={
        "help": "validation characters used by the interval evaluations (the final one uses all)"})
    sample_length: int = field(default=600, metadata={"help": "characters in the results sample"})
    temperature: float = field(default=0.8, metadata={"help": "temperature of the results sample"})
    seed: int = field(default=1337, metadata={"help": "random seed"})
    out_dir: str = field(default=str(STAGE_DIR / "results"), metadata={
        "help": "folder that holds one sub-folder per run", "metavar": "DIR"})
    run_name: str | None = field(default=None, metadata={
        "help": "sub-folder of --out-dir for this run (default: gpt)"})

    def model_config(self, vocab_size: int) -> dict:
        """The settings that fix the network's shape; a checkpoint must match them."""
        return {"vocab_size": vocab_size, "block_size": self.seq_len, "d_model": self.d_model,
                "n_layer": self.n_layer, "heads": self.heads, "dropout": self.dropout}


GPT_SMOKE_OVERRIDES = dict(d_model=32, n_layer=1, heads=2, seq_len=32, batch_size=16, max_steps=40,
                           warmup_steps=5, eval_interval=20, eval_tokens=4_000, sample_length=120)
