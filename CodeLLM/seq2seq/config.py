"""The settings of seq2seq/train.py: one dataclass, each field a command-line flag."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from data import TASKS, TaskData

from shared.runtime.config import RuntimeConfig, opt

STAGE_DIR = Path(__file__).resolve().parent

@dataclass
class Seq2SeqConfig(RuntimeConfig):
    task: str = opt("reverse", "reverse: a sentence's words backwards; number-words: digits -> English words",
                    choices=list(TASKS))
    # data
    train_size: int = opt(20_000, "distinct training examples")
    val_size: int = opt(500, "validation examples (model selection)")
    test_size: int = opt(2_000, "held-out test examples, read once")
    min_words: int = opt(3, "reverse: fewest words in a sentence")
    max_words: int = opt(8, "reverse: most words in a sentence")
    data_seed: int = opt(0, "seed of the generated data; fixed so every run meets the same test set")
    # model
    d_model: int = opt(64, "width of every token's vector")
    heads: int = opt(4, "attention heads per layer")
    encoder_layers: int = opt(2, "encoder blocks")
    decoder_layers: int = opt(2, "decoder blocks")
    ff_size: int = opt(128, "feed-forward hidden width")
    dropout: float = opt(0.0, "dropout inside the blocks (fresh data every epoch makes it unnecessary)")
    pos_encoding: str = opt("sinusoidal", "how the model knows token order",
                            choices=["sinusoidal", "learned", "none"])
    # training
    steps: int = opt(2_000, "optimizer steps")
    batch_size: int = opt(64, "examples per step")
    lr: float = opt(1e-3, "peak AdamW learning rate")
    weight_decay: float = opt(0.01, "AdamW weight decay")
    warmup_steps: int = opt(200, "linear warm-up, then cosine decay to a tenth of --lr")
    grad_clip: float = opt(1.0, "clip the gradient norm to this")
    eval_every: int = opt(250, "steps between validation passes (the best one is kept)")
    seed: int = opt(42, "seed of the weights and the batch order")
    threads: int | None = opt(1, "CPU threads per process; one is fastest for a model "
                                 "this small (threads wait on each other, badly so "
                                 "when another program shares the cores); 0: PyTorch's")
    out_dir: str = opt(str(STAGE_DIR / "results"), "folder that holds one sub-folder per run", metavar="DIR")
    run_name: str | None = opt(None, "sub-folder of --out-dir for this run (default: seq2seq-<task>)")

    @property
    def model(self) -> str:  # parse_stage_args names default runs after it
        return f"seq2seq-{self.task}"

    def model_config(self, data: TaskData) -> dict:
        """What fixes the network's shape: Seq2SeqTransformer(**model_config) rebuilds it."""
        return {"source_vocab_size": len(data.source_vocab),
                "target_vocab_size": len(data.target_vocab),
                "max_source_len": data.max_source_len, "max_target_len": data.max_target_len,
                "d_model": self.d_model, "heads": self.heads,
                "encoder_layers": self.encoder_layers, "decoder_layers": self.decoder_layers,
                "ff_size": self.ff_size, "dropout": self.dropout,
                "pos_encoding": self.pos_encoding}


SMOKE_OVERRIDES = dict(train_size=400, val_size=50, test_size=50, d_model=16, heads=2,
                       encoder_layers=1, decoder_layers=1, ff_size=32, steps=100, batch_size=32,
                       lr=3e-3, warmup_steps=10, eval_every=50)
