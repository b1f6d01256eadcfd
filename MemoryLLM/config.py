"""Settings of a MemoryLLM run. The defaults are the CPU-sized default run (all seeds in a few
minutes on 2 cores); every field is also a command-line flag of train.py."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from shared.prices.config import PriceDataConfig
from shared.runtime.config import opt

STAGE_DIR = Path(__file__).resolve().parent

# Stage 3's training recipe beyond its flags. Each value is Keras's own default, written out so
# that model.py builds the optimizer, callbacks and layers from these very numbers and recipe()
# reports them: the recipe in metrics.json cannot drift from the code that trained.
ADAM = dict(beta_1=0.9, beta_2=0.999, epsilon=1e-7)  # keras.optimizers.Adam; no decay, no clipping
PLATEAU = dict(monitor="val_loss", factor=0.5, min_delta=1e-4, cooldown=0, min_lr=0.0)
EARLY_STOPPING = dict(monitor="val_loss", min_delta=0.0, restore_best_weights=True)
INITIALISERS = dict(kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                    bias_initializer="zeros", unit_forget_bias=True)  # keras.layers.LSTM's
DENSE_INITIALISERS = dict(kernel_initializer="glorot_uniform", bias_initializer="zeros")
LOSS = "mse"  # Keras's mean squared error: the mean over the batch


def plateau_schedule(patience: int, factor: float, min_delta: float, cooldown: int,
                     min_lr: float) -> str:
    """ReduceLROnPlateau's settings in words (CodeLLM/forecaster/config.py words a schedule the same way)."""
    return (f"ReduceLROnPlateau on val_loss: lr x {factor:g} after {patience} epoch(s) without a "
            f"fall of more than {min_delta:g} below the best (absolute), cooldown {cooldown}, "
            f"min lr {min_lr:g}")


def initialisation(lstm: dict, dense: dict) -> str:
    forget = ", forget-gate bias 1" if lstm["unit_forget_bias"] else ""
    return (f"LSTM kernel {lstm['kernel_initializer']} on (features, 4 x units), recurrent kernel "
            f"{lstm['recurrent_initializer']} on (units, 4 x units), bias {lstm['bias_initializer']}"
            f"{forget}; Dense kernel {dense['kernel_initializer']}, bias {dense['bias_initializer']}")


def run_label(bidirectional: bool, attention: bool) -> str:
    """What the plots call a run's network ("bidirectional LSTM + attention"); report.py
    rebuilds it from a run's config.json to redraw the run's plots."""
    return f"{'bidirectional ' if bidirectional else ''}LSTM{' + attention' if attention else ''}"


@dataclass
class MemoryConfig(PriceDataConfig):
    # data: the flags of PriceDataConfig (--ticker, --csv, --source, --lookback, --target, ...)
    # model
    layers: int = opt(1, "stacked LSTM layers")
    units: int = opt(32, "LSTM units per layer")
    dense_units: int = opt(16, "width of the dense layer")
    dropout: float = opt(0.2, "dropout after each LSTM layer")
    bidirectional: bool = opt(False, "read each window forwards and backwards")
    attention: bool = opt(False, "additive attention over all LSTM outputs instead of the last one")
    # training
    epochs: int = opt(40, "most epochs per seed")
    batch_size: int = opt(64, "windows per gradient step")
    lr: float = opt(1e-3, "Adam learning rate (the other Adam settings are Keras's defaults: see ADAM)")
    patience: int = opt(6, "early stopping: epochs without validation improvement")
    seeds: int = opt(3, "independent runs; results are mean +- std")
    seed: int = opt(42, "first seed; the others follow")
    device: str = opt("auto", "auto: a GPU when TensorFlow sees one (make setup installs "
                              "tensorflow-cpu, which sees none), else the CPU; cpu hides any GPU",
                      choices=["auto", "cpu", "gpu"])
    distribute: str = opt("none", "mirrored: tf.distribute.MirroredStrategy, one model replica per visible "
                                  "GPU (the CPU when there is none), each batch split between them",
                          choices=["none", "mirrored"])
    tensorboard: bool = opt(True, "write TensorBoard event files to <run>/tensorboard/seed-<seed>/ "
                                  "(Keras's TensorBoard callback; watch with `tensorboard --logdir results`)")
    out_dir: str = opt(str(STAGE_DIR / "results"), "folder that holds one sub-folder per run", metavar="DIR")
    run_name: str | None = opt(None, "sub-folder of --out-dir for this run "
                                     "(default: lstm, or lstm-attention)")

    @property
    def model(self) -> str:
        return "lstm-attention" if self.attention else "lstm"

    @property
    def plateau_patience(self) -> int:
        """Epochs without improvement before ReduceLROnPlateau halves the learning rate."""
        return max(1, self.patience // 2)

    def optimizer_settings(self) -> dict:
        """keras.optimizers.Adam's arguments."""
        return {"learning_rate": self.lr, **ADAM}

    def callback_settings(self) -> dict:
        """The arguments of the EarlyStopping and ReduceLROnPlateau callbacks."""
        return {"early_stopping": {**EARLY_STOPPING, "patience": self.patience},
                "plateau": {**PLATEAU, "patience": self.plateau_patience}}

    def recipe(self) -> dict:
        """How this run trains, flat, in the words the PyTorch control uses for its own
        (CodeLLM's ForecastConfig.recipe); metrics.json keeps it as "recipe"."""
        callbacks = self.callback_settings()
        plateau, stopping = callbacks["plateau"], callbacks["early_stopping"]
        return {
            "optimizer": "Adam", "learning_rate": self.lr, "adam_beta1": ADAM["beta_1"],
            "adam_beta2": ADAM["beta_2"], "adam_epsilon": ADAM["epsilon"], "weight_decay": 0.0,
            "lr_schedule": plateau_schedule(plateau["patience"], plateau["factor"],
                                            plateau["min_delta"], plateau["cooldown"],
                                            plateau["min_lr"]),
            "warmup_steps": 0, "grad_clip": None, "dropout": self.dropout,
            "batch_size": self.batch_size, "max_epochs": self.epochs,
            "early_stopping_patience": stopping["patience"],
            "early_stopping_min_delta": stopping["min_delta"],
            "restore_best_weights": stopping["restore_best_weights"],
            "initialisation": initialisation(INITIALISERS, DENSE_INITIALISERS),
            "shuffle": True, "loss": LOSS,
        }


SMOKE_OVERRIDES = dict(lookback=20, units=8, dense_units=4, epochs=2, seeds=1, patience=1)
