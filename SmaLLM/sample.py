"""Generate text from a trained SmaLLM checkpoint, one word piece at a time.

    cd SmaLLM
    python sample.py                                   # from results/lstm/
    python sample.py --prompt "KING HENRY IV:" --length 120 --temperature 0.7 --top-k 40
    python sample.py --run-dir results/gru --seed 3

The run folder holds best.pt and the tokenizer.json it was trained with. Prompt words the
vocabulary lacks are read as <unk> (with a warning); <unk> is never generated.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

from config import STAGE_DIR, SmallConfig
from model import build_model
from tokenizer import UNK, encode, load_tokenizer

from shared.lm import sampling
from shared.runtime import devices, files
from shared.runtime.errors import UserError, run_main


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--run-dir", default=str(STAGE_DIR / "results" / SmallConfig().model),
                        help="run folder written by train.py (best.pt + tokenizer.json)")
    sampling.add_sampling_arguments(parser, unit="word piece", length=100)
    return parser.parse_args(argv)


def main(argv=None) -> str:
    args = parse_args(argv)
    prompt = sampling.check_sampling_arguments(args)
    run_dir = Path(args.run_dir)
    device = devices.pick_device(args.device)
    checkpoint = files.load_checkpoint(run_dir / "best.pt", map_location=device)
    if not (run_dir / "tokenizer.json").is_file():
        raise UserError(f"no tokenizer.json in {run_dir}; it is written by train.py beside best.pt")
    tokenizer = load_tokenizer(run_dir / "tokenizer.json")
    if tokenizer.get_vocab() != checkpoint["vocab"]:
        raise UserError(f"{run_dir / 'tokenizer.json'} is not the tokenizer best.pt was trained "
                        "with; retrain, or use the run folder both came from")
    unk_id = tokenizer.token_to_id(UNK)
    prompt_ids, pieces = encode(tokenizer, prompt)
    unknown = [piece for i, piece in zip(prompt_ids, pieces, strict=True) if i == unk_id]
    if unknown:
        print(f"warning: not in the vocabulary, read as {UNK}: {', '.join(map(repr, unknown))}",
              file=sys.stderr)
    model = sampling.restore_model(checkpoint, build_model, device)
    generator = torch.Generator().manual_seed(args.seed)
    ids = sampling.generate(model, prompt_ids, args.length, args.temperature, args.top_k,
                            generator=generator, device=device, never=(unk_id,))
    completion = prompt + tokenizer.decode(ids)
    print(completion)
    return completion


if __name__ == "__main__":
    run_main(main)
