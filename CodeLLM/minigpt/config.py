"""The settings of minigpt/train.py and minigpt/sample.py: one dataclass, each field a flag."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from shared.runtime.config import RuntimeConfig, opt

STAGE_DIR = Path(__file__).resolve().parent


@dataclass
class GPTConfig(RuntimeConfig):
    """Settings of minigpt/train.py: the mini-GPT on stage 1's text, with stage 1's conventions.

    The defaults fit stage 1's budget (5 minutes on 2 cores) and were chosen on the validation
    loss among a few runs of that budget: 4 blocks of width 128 (1,500 steps), width 96 (2,300
    steps), 2 blocks (3,400 steps), and 2 blocks with dropout 0.1. On a CPU budget a shallower
    model that takes more steps learned most."""

    # data (as stage 1: the same corpus and the same validation split, its last 10%)
    corpus: str = opt("tiny", "Shakespeare corpus: 'tiny' (10 plays, 1.1 M chars) or 'full' (37 plays)",
                      choices=["tiny", "full"])
    data: str | None = opt(None, "train on your own UTF-8 text file instead of Shakespeare", metavar="PATH")
    # model
    model: str = opt("gpt", "the model's name in results", choices=["gpt"])
    d_model: int = opt(128, "width of every position's vector")
    n_layer: int = opt(2, "transformer blocks")
    heads: int = opt(4, "attention heads per block")
    dropout: float = opt(0.0, "dropout (a short run barely overfits)")
    seq_len: int = opt(128, "context: characters each prediction can attend to (and the training chunk)")
    # optimisation
    batch_size: int = opt(32, "chunks per step")
    lr: float = opt(3e-3, "peak AdamW learning rate")
    weight_decay: float = opt(0.1, "AdamW weight decay")
    max_steps: int = opt(3300, "optimizer steps in the run")
    time_budget: float = opt(0.0, "train for this many seconds instead (0: use --max-steps); "
                                  "evaluations do not count, and the learning rate decays over the time")
    warmup_steps: int = opt(100, "linear learning-rate warm-up")
    grad_clip: float = opt(1.0, "clip the gradient norm to this")
    # evaluation and output
    eval_interval: int = opt(330, "evaluate on validation (and checkpoint) every N steps")
    eval_tokens: int = opt(20_000, "validation characters used by the interval "
                                   "evaluations (the final one uses all)")
    sample_length: int = opt(600, "characters in the results sample")
    temperature: float = opt(0.8, "temperature of the results sample")
    seed: int = opt(1337, "random seed")
    out_dir: str = opt(str(STAGE_DIR / "results"), "folder that holds one sub-folder per run", metavar="DIR")
    run_name: str | None = opt(None, "sub-folder of --out-dir for this run (default: gpt)")

    def model_config(self, vocab_size: int) -> dict:
        """The settings that fix the network's shape; a checkpoint must match them."""
        return {"vocab_size": vocab_size, "block_size": self.seq_len, "d_model": self.d_model,
                "n_layer": self.n_layer, "heads": self.heads, "dropout": self.dropout}


GPT_SMOKE_OVERRIDES = dict(d_model=32, n_layer=1, heads=2, seq_len=32, batch_size=16, max_steps=40,
                           warmup_steps=5, eval_interval=20, eval_tokens=4_000, sample_length=120)
