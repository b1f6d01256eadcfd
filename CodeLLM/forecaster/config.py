"""Settings of a CodeLLM forecaster run. The data, split, target and seed settings are stage 3's
(same names, same defaults), so the two stages train on exactly the same windows; every field
is also a command-line flag of train.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from shared.prices.config import PriceDataConfig
from shared.runtime.config import RuntimeConfig, opt

STAGE_DIR = Path(__file__).resolve().parent
ARCHS = ("transformer", "lstm")  # lstm: the framework-matched control for stage 3 vs 4

# Each architecture's training recipe: what a training field left at None (its default) takes.
# lstm is stage 3's Keras recipe (MemoryLLM/config.py) in PyTorch terms, Keras's defaults
# included, so that the control differs from stage 3 in the framework alone;
# tests/test_recipes.py compares the two field by field. The transformer keeps its own.
RECIPES = {
    "transformer": dict(optimizer="adamw", lr=1e-3, adam_epsilon=1e-8, weight_decay=0.01,
                        warmup_steps=50, grad_clip=1.0, dropout=0.1),
    "lstm": dict(optimizer="adam", lr=1e-3, adam_epsilon=1e-7, weight_decay=0.0,
                 warmup_steps=0, grad_clip=0.0, dropout=0.2),
}
ADAM_BETAS = (0.9, 0.999)  # PyTorch's and Keras's defaults
# Keras's ReduceLROnPlateau defaults (min_delta 1e-4 absolute, cooldown 0, min lr 0), halving.
PLATEAU = dict(factor=0.5, min_delta=1e-4, cooldown=0, min_lr=0.0)
EARLY_STOPPING = dict(min_delta=0.0, restore_best_weights=True)  # train.py's loop does this
LOSS = "mse"  # the mean over the batch (and the horizon) of the squared error, as Keras's mse
INITIALISATION = {
    # LSTMForecaster.init_like_keras; the words are MemoryLLM/config.py's initialisation()
    "lstm": "LSTM kernel glorot_uniform on (features, 4 x units), recurrent kernel orthogonal on "
            "(units, 4 x units), bias zeros, forget-gate bias 1; Dense kernel glorot_uniform, "
            "bias zeros",
    "transformer": "PyTorch's defaults (nn.Linear kaiming_uniform(a=sqrt(5)) kernel and uniform "
                   "bias, LayerNorm 1 and 0); decoder start vector 0",
}


def plateau_schedule(patience: int, factor: float, min_delta: float, cooldown: int,
                     min_lr: float) -> str:
    """ReduceLROnPlateau's settings in words, as MemoryLLM/config.py words stage 3's."""
    return (f"ReduceLROnPlateau on val_loss: lr x {factor:g} after {patience} epoch(s) without a "
            f"fall of more than {min_delta:g} below the best (absolute), cooldown {cooldown}, "
            f"min lr {min_lr:g}")


@dataclass
class ForecastConfig(PriceDataConfig, RuntimeConfig):
    # data: stage 3's flags (PriceDataConfig: --ticker, --csv, --source, --lookback, --target,
    # ...), plus the horizon
    horizon: int = opt(1, "days forecast at once; metrics are on the first, per-day RMSE on all")
    # model
    arch: str = opt("transformer", "transformer, or lstm: stage 3's Keras LSTM and its recipe, in PyTorch",
                    choices=list(ARCHS))
    d_model: int = opt(16, "transformer: width of every day's vector")
    heads: int = opt(4, "transformer: attention heads per layer")
    encoder_layers: int = opt(2, "transformer: encoder blocks")
    decoder_layers: int = opt(1, "transformer: decoder blocks")
    ff_size: int = opt(32, "transformer: feed-forward hidden width")
    pos_encoding: str = opt("sinusoidal", "how the transformer knows the order of days",
                            choices=["sinusoidal", "learned", "none"])
    patch: int = opt(1, "transformer: days per token (as in PatchTST); 1 = one token per day")
    units: int = opt(32, "lstm: LSTM units (stage 3's default)")
    dense_units: int = opt(16, "lstm: width of the dense layer")
    # training. Fields left at None take the architecture's recipe (RECIPES above); a flag
    # overrides it. config.json records the values the run used.
    dropout: float | None = opt(None, "dropout inside the network (default: "
                                      "transformer 0.1, lstm 0.2 as stage 3)")
    epochs: int = opt(40, "most epochs per seed")
    batch_size: int = opt(64, "windows per gradient step")
    optimizer: str | None = opt(None, "adamw (transformer's default) or adam (lstm's, as stage 3's Keras "
                                      "Adam; with --weight-decay it adds an L2 term to the gradient)",
                                choices=["adam", "adamw"])
    lr: float | None = opt(None, "peak learning rate (default 1e-3)")
    adam_epsilon: float | None = opt(None, "Adam's epsilon (default: transformer "
                                           "1e-8, PyTorch's; lstm 1e-7, Keras's)")
    weight_decay: float | None = opt(None, "weight decay (default: transformer 0.01, lstm 0)")
    warmup_steps: int | None = opt(None, "linear learning-rate warm-up steps "
                                         "(default: transformer 50, lstm 0)")
    grad_clip: float | None = opt(None, "clip the gradient norm to this; 0 does not "
                                        "clip (default: transformer 1.0, lstm 0)")
    patience: int = opt(6, "early stopping: epochs without validation improvement")
    seeds: int = opt(3, "independent runs; results are mean +- std")
    seed: int = opt(42, "first seed; the others follow")
    out_dir: str = opt(str(STAGE_DIR / "results"), "folder that holds one sub-folder per run", metavar="DIR")
    run_name: str | None = opt(None, "sub-folder of --out-dir for this run (default: the architecture)")

    def __post_init__(self):
        """Fill the training fields left at None from the architecture's recipe: the one place
        where the per-architecture defaults apply."""
        if self.arch not in RECIPES:
            raise ValueError(f"arch must be one of {', '.join(ARCHS)}, got {self.arch!r}")
        for name, value in RECIPES[self.arch].items():
            if getattr(self, name) is None:
                setattr(self, name, value)

    @property
    def model(self) -> str:
        return self.arch

    @property
    def plateau_patience(self) -> int:
        """Epochs without improvement before the learning rate halves (stage 3's rule)."""
        return max(1, self.patience // 2)

    def recipe(self) -> dict:
        """How this run trains, flat, in the words stage 3 uses for its own
        (MemoryLLM's MemoryConfig.recipe); metrics.json keeps it as "recipe"."""
        schedule = plateau_schedule(self.plateau_patience, **PLATEAU)
        if self.warmup_steps:
            schedule += f"; not stepped during the {self.warmup_steps}-step linear warm-up"
        initialisation = INITIALISATION[self.arch]
        if self.arch == "transformer" and self.pos_encoding == "learned":
            initialisation += "; learned positions N(0, 0.02)"
        return {
            "optimizer": {"adam": "Adam", "adamw": "AdamW"}[self.optimizer],
            "learning_rate": self.lr, "adam_beta1": ADAM_BETAS[0], "adam_beta2": ADAM_BETAS[1],
            "adam_epsilon": self.adam_epsilon, "weight_decay": self.weight_decay,
            "lr_schedule": schedule, "warmup_steps": self.warmup_steps,
            "grad_clip": self.grad_clip or None, "dropout": self.dropout,
            "batch_size": self.batch_size, "max_epochs": self.epochs,
            "early_stopping_patience": self.patience,
            "early_stopping_min_delta": EARLY_STOPPING["min_delta"],
            "restore_best_weights": EARLY_STOPPING["restore_best_weights"],
            "initialisation": initialisation, "shuffle": True, "loss": LOSS,
        }

    def make_optimizer(self, parameters) -> torch.optim.Optimizer:
        """The recipe's optimizer. Keras's Adam adds epsilon to sqrt(v) before the bias
        correction, PyTorch's after it: with epsilon 1e-7 the two steps differ only while the
        squared gradients are as small as 1e-12."""
        kind = torch.optim.AdamW if self.optimizer == "adamw" else torch.optim.Adam
        return kind(parameters, lr=self.lr, betas=ADAM_BETAS, eps=self.adam_epsilon,
                    weight_decay=self.weight_decay)

    def make_plateau(self, optimizer) -> torch.optim.lr_scheduler.ReduceLROnPlateau:
        """Keras's ReduceLROnPlateau in PyTorch. Keras halves the rate once `plateau_patience`
        epochs in a row missed the best by more than min_delta; PyTorch's halves when that count
        *exceeds* its patience, hence the - 1."""
        return torch.optim.lr_scheduler.ReduceLROnPlateau(
            optimizer, mode="min", factor=PLATEAU["factor"], patience=self.plateau_patience - 1,
            threshold=PLATEAU["min_delta"], threshold_mode="abs", cooldown=PLATEAU["cooldown"],
            min_lr=PLATEAU["min_lr"])

    def model_config(self, n_features: int) -> dict:
        """The settings that fix the network's shape; predict.py rebuilds the model from them."""
        shared = {"arch": self.arch, "n_features": n_features, "horizon": self.horizon,
                  "dropout": self.dropout}
        if self.arch == "lstm":
            return {**shared, "units": self.units, "dense_units": self.dense_units}
        return {**shared, "lookback": self.lookback, "d_model": self.d_model, "heads": self.heads,
                "encoder_layers": self.encoder_layers, "decoder_layers": self.decoder_layers,
                "ff_size": self.ff_size, "pos_encoding": self.pos_encoding, "patch": self.patch}


# --smoke for train.py: seconds, not minutes, yet every artifact is written.
# The recipe stays the architecture's (the smoke transformer warms up over its 50 steps too).
SMOKE_OVERRIDES = dict(lookback=20, d_model=8, heads=2, encoder_layers=1, ff_size=16, units=8,
                       dense_units=4, epochs=2, seeds=1, patience=1)
