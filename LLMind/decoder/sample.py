"""Generate text from SmolLM2, with or without the LoRA adapter a decoder run saved.

    cd LLMind/decoder
    python sample.py                                          # the pretrained model, prompt continued
    python sample.py --adapter results/smollm2/adapter        # after fine-tuning on Shakespeare
    python sample.py --chat --prompt "Write a sonnet about a cat."   # the instruct model's chat template
    python sample.py --temperature 1.1 --length 120 --seed 3

An adapter is refused (one line) if it was trained on another base model than --model.
"""

from __future__ import annotations

import argparse

import model as decoder
from config import PROMPT

from shared.runtime import devices
from shared.runtime.errors import UserError, run_main


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--model", default=decoder.BUNDLED,
                        help="'bundled' (offline SmolLM2), a local model folder, or a hub id (online)")
    parser.add_argument("--adapter", default=None, metavar="DIR",
                        help="a run's adapter/ folder (LoRA weights and base.json)")
    parser.add_argument("--prompt", default=PROMPT, help="text to continue (or, with --chat, the request)")
    parser.add_argument("--chat", action="store_true",
                        help="send the prompt through the instruct model's chat template")
    parser.add_argument("--length", type=int, default=100, help="tokens to generate")
    parser.add_argument("--temperature", type=float, default=0.8, help="divide the logits by this (> 0)")
    parser.add_argument("--top-p", type=float, default=0.95, help="nucleus sampling mass (0 to 1]")
    parser.add_argument("--seed", type=int, default=42, help="random seed")
    parser.add_argument("--threads", type=int, default=None, help="CPU threads")
    return parser.parse_args(argv)


def main(argv=None) -> str:
    args = parse_args(argv)
    if args.temperature <= 0 or not 0 < args.top_p <= 1 or args.length < 1:
        raise UserError("--temperature must be positive, --top-p in (0, 1] and --length at least 1")
    if not args.prompt:
        raise UserError("--prompt is empty; give at least one character")
    devices.set_threads(args.threads)
    tokenizer, lm, base = decoder.load(args.model)
    if args.adapter:
        lm = decoder.load_adapter(lm, args.adapter, base)
    if args.chat and not getattr(tokenizer, "chat_template", None):
        raise UserError(f"--chat: {base['base_model']} has no chat template; continue a prompt instead")
    completion = decoder.sample(lm, tokenizer, args.prompt, args.temperature, args.length, args.top_p,
                                args.seed, chat=args.chat)
    text = completion if args.chat else args.prompt + completion
    print(text)
    return text


if __name__ == "__main__":
    run_main(main)
