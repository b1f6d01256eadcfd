"""Settings of a TinyLLM run. The defaults are the CPU-sized default run (a few minutes on
2 cores); every field is also a command-line flag of train.py (`hidden_size` -> `--hidden-size`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from shared.config import RuntimeConfig

MODELS = ("bigram", "rnn", "gru", "lstm")  # the ladder, simplest first
STAGE_DIR = Path(__file__).resolve().parent


@dataclass
class TinyConfig(RuntimeConfig):
    # data
    corpus: str = field(default="tiny", metadata={
        "help": "Shakespeare corpus: 'tiny' (10 plays, 1.1 M chars) or 'full' (37 plays)",
        "choices": ["tiny", "full"]})
    data: str | None = field(default=None, metadata={
        "help": "train on your own UTF-8 text file instead of Shakespeare", "metavar": "PATH"})
    # model
    model: str = field(default="gru", metadata={
        "help": "which rung of the ladder to train", "choices": list(MODELS)})
    embed_size: int = field(default=64, metadata={"help": "character embedding width"})
    hidden_size: int = field(default=512, metadata={"help": "recurrent state width"})
    num_layers: int = field(default=1, metadata={"help": "stacked recurrent layers"})
    dropout: float = field(default=0.0, metadata={"help": "dropout on embeddings and outputs"})
    # optimisation
    seq_len: int = field(default=128, metadata={
        "help": "characters per chunk: how far back gradients flow (truncated BPTT)"})
    batch_size: int = field(default=64, metadata={"help": "parallel text streams per step"})
    lr: float = field(default=5e-3, metadata={"help": "peak Adam learning rate"})
    max_steps: int = field(default=650, metadata={"help": "optimizer steps in the run"})
    warmup_steps: int = field(default=50, metadata={"help": "linear learning-rate warm-up"})
    grad_clip: float = field(default=1.0, metadata={"help": "clip the gradient norm to this"})
    # evaluation and output
    eval_interval: int = field(default=130, metadata={
        "help": "evaluate on validation (and checkpoint) every N steps"})
    eval_tokens: int = field(default=40_000, metadata={
        "help": "validation characters used by the interval evaluations (the final one uses all)"})
    sample_length: int = field(default=600, metadata={"help": "characters in the results sample"})
    temperature: float = field(default=0.8, metadata={"help": "temperature of the results sample"})
    seed: int = field(default=1337, metadata={"help": "random seed"})
    out_dir: str = field(default=str(STAGE_DIR / "results"), metadata={
        "help": "folder that holds one sub-folder per run", "metavar": "DIR"})
    run_name: str | None = field(default=None, metadata={
        "help": "sub-folder of --out-dir for this run (default: the model name)"})

    def model_config(self, vocab_size: int) -> dict:
        """The settings that fix the network's shape; a checkpoint must match them."""
        config = {"model": self.model, "vocab_size": vocab_size}
        if self.model != "bigram":
            config.update(embed_size=self.embed_size, hidden_size=self.hidden_size,
                          num_layers=self.num_layers, dropout=self.dropout)
        return config


# --smoke: seconds, not minutes, yet every artifact is written.
SMOKE_OVERRIDES = dict(embed_size=16, hidden_size=64, seq_len=32, batch_size=16, max_steps=60,
                       warmup_steps=5, eval_interval=20, eval_tokens=5_000, sample_length=120)
