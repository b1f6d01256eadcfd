"""Settings of a SmaLLM run. The defaults are the CPU-sized default run (a few minutes on
2 cores); every field is also a command-line flag of train.py (`vocab_size` -> `--vocab-size`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from shared.runtime.config import RuntimeConfig, opt

MODELS = ("lstm", "gru")
STAGE_DIR = Path(__file__).resolve().parent
MIN_VOCAB_SIZE = 100  # below this almost every token is <unk>: nothing left to learn


@dataclass
class SmallConfig(RuntimeConfig):
    # data and tokenizer
    corpus: str = opt("tiny", "Shakespeare corpus: 'tiny' (10 plays, 1.1 M chars) or 'full' (37 plays)",
                      choices=["tiny", "full"])
    data: str | None = opt(None, "train on your own UTF-8 text file instead of Shakespeare", metavar="PATH")
    vocab_size: int = opt(8000, "most word pieces in the vocabulary, <unk> included")
    min_frequency: int = opt(2, "a piece needs this many occurrences in the training split to get an id")
    # model
    model: str = opt("lstm", "recurrent cell", choices=list(MODELS))
    embed_size: int = opt(256, "word embedding width")
    hidden_size: int = opt(256, "recurrent state width")
    num_layers: int = opt(1, "stacked recurrent layers")
    dropout: float = opt(0.3, "dropout on embeddings and outputs")
    tie_weights: bool = opt(True, "share the embedding table with the output layer")
    # optimisation
    seq_len: int = opt(64, "tokens per chunk: how far back gradients flow (truncated BPTT)")
    batch_size: int = opt(32, "parallel text streams per step")
    lr: float = opt(3e-3, "peak Adam learning rate")
    max_steps: int = opt(800, "optimizer steps in the run")
    time_budget: float = opt(0.0, "train for this many seconds instead (0: use --max-steps); "
                                  "evaluations do not count, and the learning rate decays over the time")
    warmup_steps: int = opt(50, "linear learning-rate warm-up")
    grad_clip: float = opt(1.0, "clip the gradient norm to this")
    # evaluation and output
    eval_interval: int = opt(100, "evaluate on validation (and checkpoint) every N steps")
    eval_tokens: int = opt(12_000, "validation tokens used by the interval "
                                   "evaluations (the final one uses all)")
    sample_length: int = opt(150, "tokens in the results sample")
    temperature: float = opt(0.8, "temperature of the results sample")
    seed: int = opt(1337, "random seed")
    out_dir: str = opt(str(STAGE_DIR / "results"), "folder that holds one sub-folder per run", metavar="DIR")
    run_name: str | None = opt(None, "sub-folder of --out-dir for this run (default: the model name)")

    def model_config(self, vocab_size: int) -> dict:
        """The settings that fix the network's shape; a checkpoint must match them."""
        return {"model": self.model, "vocab_size": vocab_size, "embed_size": self.embed_size,
                "hidden_size": self.hidden_size, "num_layers": self.num_layers,
                "dropout": self.dropout, "tie_weights": self.tie_weights}


# --smoke: seconds, not minutes, yet every artifact is written.
SMOKE_OVERRIDES = dict(vocab_size=500, embed_size=32, hidden_size=32, seq_len=16, batch_size=16,
                       max_steps=40, warmup_steps=5, eval_interval=20, eval_tokens=2_000,
                       sample_length=30)
