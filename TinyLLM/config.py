"""Settings of a TinyLLM run. The defaults are the CPU-sized default run (a few minutes on
2 cores); every field is also a command-line flag of train.py (`hidden_size` -> `--hidden-size`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from shared.runtime.config import RuntimeConfig, opt

MODELS = ("bigram", "rnn", "gru", "lstm")  # the ladder, simplest first
STAGE_DIR = Path(__file__).resolve().parent


@dataclass
class TinyConfig(RuntimeConfig):
    # data
    corpus: str = opt("tiny", "Shakespeare corpus: 'tiny' (10 plays, 1.1 M chars) or 'full' (37 plays)",
                      choices=["tiny", "full"])
    data: str | None = opt(None, "train on your own UTF-8 text file instead of Shakespeare", metavar="PATH")
    # model
    model: str = opt("gru", "which rung of the ladder to train", choices=list(MODELS))
    embed_size: int = opt(64, "character embedding width")
    hidden_size: int = opt(512, "recurrent state width")
    num_layers: int = opt(1, "stacked recurrent layers")
    dropout: float = opt(0.0, "dropout on embeddings and outputs")
    # optimisation
    seq_len: int = opt(128, "characters per chunk: how far back gradients flow (truncated BPTT)")
    batch_size: int = opt(64, "parallel text streams per step")
    lr: float = opt(5e-3, "peak Adam learning rate")
    max_steps: int = opt(650, "optimizer steps in the run")
    time_budget: float = opt(0.0, "train for this many seconds instead (0: use --max-steps); "
                                  "evaluations do not count, and the learning rate decays over the time")
    warmup_steps: int = opt(50, "linear learning-rate warm-up")
    grad_clip: float = opt(1.0, "clip the gradient norm to this")
    # evaluation and output
    eval_interval: int = opt(130, "evaluate on validation (and checkpoint) every N steps")
    eval_tokens: int = opt(40_000, "validation characters used by the interval "
                                   "evaluations (the final one uses all)")
    sample_length: int = opt(600, "characters in the results sample")
    temperature: float = opt(0.8, "temperature of the results sample")
    seed: int = opt(1337, "random seed")
    out_dir: str = opt(str(STAGE_DIR / "results"), "folder that holds one sub-folder per run", metavar="DIR")
    run_name: str | None = opt(None, "sub-folder of --out-dir for this run (default: the model name)")

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
