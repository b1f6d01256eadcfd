"""Settings of a SmaLLM run. The defaults are the CPU-sized default run (a few minutes on
2 cores); every field is also a command-line flag of train.py (`vocab_size` -> `--vocab-size`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from shared.config import RuntimeConfig

MODELS = ("lstm", "gru")
STAGE_DIR = Path(__file__).resolve().parent
MIN_VOCAB_SIZE = 100  # below this almost every token is <unk>: nothing left to learn


@dataclass
class SmallConfig(RuntimeConfig):
    # data and tokenizer
    corpus: str = field(default="tiny", metadata={
        "help": "Shakespeare corpus: 'tiny' (10 plays, 1.1 M chars) or 'full' (37 plays)",
        "choices": ["tiny", "full"]})
    data: str | None = field(default=None, metadata={
        "help": "train on your own UTF-8 text file instead of Shakespeare", "metavar": "PATH"})
    vocab_size: int = field(default=8000, metadata={
        "help": "most word pieces in the vocabulary, <unk> included"})
    min_frequency: int = field(default=2, metadata={
        "help": "a piece needs this many occurrences in the training split to get an id"})
    # model
    model: str = field(default="lstm", metadata={
        "help": "recurrent cell", "choices": list(MODELS)})
    embed_size: int = field(default=256, metadata={"help": "word embedding width"})
    hidden_size: int = field(default=256, metadata={"help": "recurrent state width"})
    num_layers: int = field(default=1, metadata={"help": "stacked recurrent layers"})
    dropout: float = field(default=0.3, metadata={"help": "dropout on embeddings and outputs"})
    tie_weights: bool = field(default=True, metadata={
        "help": "share the embedding table with the output layer"})
    # optimisation
    seq_len: int = field(default=64, metadata={
        "help": "tokens per chunk: how far back gradients flow (truncated BPTT)"})
    batch_size: int = field(default=32, metadata={"help": "parallel text streams per step"})
    lr: float = field(default=3e-3, metadata={"help": "peak Adam learning rate"})
    max_steps: int = field(default=800, metadata={"help": "optimizer steps in the run"})
    warmup_steps: int = field(default=50, metadata={"help": "linear learning-rate warm-up"})
    grad_clip: float = field(default=1.0, metadata={"help": "clip the gradient norm to this"})
    # evaluation and output
    eval_interval: int = field(default=100, metadata={
        "help": "evaluate on validation (and checkpoint) every N steps"})
    eval_tokens: int = field(default=12_000, metadata={
        "help": "validation tokens used by the interval evaluations (the final one uses all)"})
    sample_length: int = field(default=150, metadata={"help": "tokens in the results sample"})
    temperature: float = field(default=0.8, metadata={"help": "temperature of the results sample"})
    seed: int = field(default=1337, metadata={"help": "random seed"})
    out_dir: str = field(default=str(STAGE_DIR / "results"), metadata={
        "help": "folder that holds one sub-folder per run", "metavar": "DIR"})
    run_name: str | None = field(default=None, metadata={
        "help": "sub-folder of --out-dir for this run (default: the model name)"})

    def model_config(self, vocab_size: int) -> dict:
        """The settings that fix the network's shape; a checkpoint must match them."""
        return {"model": self.model, "vocab_size": vocab_size, "embed_size": self.embed_size,
                "hidden_size": self.hidden_size, "num_layers": self.num_layers,
                "dropout": self.dropout, "tie_weights": self.tie_weights}


# --smoke: seconds, not minutes, yet every artifact is written.
SMOKE_OVERRIDES = dict(vocab_size=500, embed_size=32, hidden_size=32, seq_len=16, batch_size=16,
                       max_steps=40, warmup_steps=5, eval_interval=20, eval_tokens=2_000,
                       sample_length=30)
