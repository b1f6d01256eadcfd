"""Text from a trained language model: `generate` samples one token at a time, and the pieces
every sample.py shares (its flags, their checks, the model rebuilt from a checkpoint, and the
whole sample.py of a character model, `sample_characters`).

Imported by TinyLLM/sample.py, SmaLLM/sample.py and train.py, CodeLLM's mini-GPT sample script,
TinyLLM/train.py and shared.lm.loop (the sample written at the end of a run).
"""

from __future__ import annotations

import torch
from torch.nn import functional as F

from shared.lm.tokens import CharVocab
from shared.runtime import devices, files
from shared.runtime.errors import UserError


@torch.no_grad()
def generate(model: torch.nn.Module, prompt_ids: list[int], length: int, temperature: float = 1.0,
             top_k: int | None = None, generator: torch.Generator | None = None,
             device: torch.device | str = "cpu", never: tuple[int, ...] = ()) -> list[int]:
    """Feed the prompt, then sample `length` tokens one at a time.

    `never` lists ids that must not be sampled (the unknown-token slot)."""
    if temperature <= 0:
        raise ValueError("temperature must be positive")
    model.eval()
    logits, state = model(torch.tensor([prompt_ids], dtype=torch.long, device=device))
    out: list[int] = []
    for _ in range(length):
        last = logits[0, -1] / temperature  # (vocab,)
        last[list(never)] = float("-inf")
        if top_k:
            kth = torch.topk(last, min(top_k, last.numel())).values[-1]
            last = last.masked_fill(last < kth, float("-inf"))
        next_id = int(torch.multinomial(F.softmax(last.float(), dim=-1).cpu(), 1,
                                        generator=generator))
        out.append(next_id)
        logits, state = model(torch.tensor([[next_id]], device=device), state)
    return out


def add_sampling_arguments(parser, unit: str, length: int) -> None:
    """The flags every sample.py shares: prompt, length, temperature, top-k, seed, device."""
    parser.add_argument("--prompt", default=None,
                        help="text to continue; if not given, a newline (a new speech begins)")
    parser.add_argument("--length", type=int, default=length, help=f"{unit}s to generate")
    parser.add_argument("--temperature", type=float, default=0.8,
                        help="divide the logits by this before sampling (> 0)")
    parser.add_argument("--top-k", type=int, default=None,
                        help=f"sample only among the k likeliest {unit}s")
    parser.add_argument("--seed", type=int, default=1337, help="random seed")
    parser.add_argument("--device", default="auto", choices=list(devices.DEVICES),
                        help="auto picks cuda, then mps, then cpu")


def check_sampling_arguments(args) -> str:
    """One-line errors for impossible settings; returns the prompt (a newline by default)."""
    if args.temperature <= 0:
        raise UserError(f"--temperature must be positive, got {args.temperature}")
    if args.length < 1 or (args.top_k is not None and args.top_k < 1):
        raise UserError("--length and --top-k must be at least 1")
    prompt = "\n" if args.prompt is None else args.prompt
    if not prompt:
        raise UserError("--prompt is empty; give at least one character")
    return prompt


def restore_model(checkpoint: dict, build_model, device) -> torch.nn.Module:
    """The model a train.py checkpoint holds: rebuilt by the stage's `build_model(model_config)`
    on `device`, with the trained weights (what every sample.py samples from)."""
    model = build_model(checkpoint["model_config"]).to(device)
    model.load_state_dict(checkpoint["model"])
    return model


def sample_characters(args, build_model) -> str:
    """sample.py of a character model: load `args.checkpoint` (model state, model config and
    vocabulary), continue `args.prompt` and print the text. `build_model(model_config)` is the
    stage's constructor."""
    prompt = check_sampling_arguments(args)
    device = devices.pick_device(args.device)
    checkpoint = files.load_checkpoint(args.checkpoint, map_location=device)
    vocab = CharVocab.from_saved(checkpoint["vocab"])
    prompt_ids = vocab.encode(prompt, strict=True)
    model = restore_model(checkpoint, build_model, device)
    generator = torch.Generator().manual_seed(args.seed)
    ids = generate(model, prompt_ids, args.length, args.temperature, args.top_k,
                   generator=generator, device=device, never=(0,))
    completion = prompt + vocab.decode(ids)
    print(completion)
    return completion
