"""Train a word-level language model on Shakespeare (or your own text) on a CPU.

    cd SmaLLM
    python train.py                      # default LSTM run, a few minutes on 2 cores
    python train.py --model gru --vocab-size 4000
    python train.py --data my.txt        # your own UTF-8 text
    python train.py --smoke              # seconds: a tiny model, every artifact written
    python train.py --resume             # continue an interrupted run (Ctrl-C saves one)
    torchrun --nproc-per-node 2 train.py # several processes (DDP); see docs/scaling.md

A run writes results/<run-name>/: tokenizer.json, config.json, metrics.json, history.json,
loss_curve.png, embeddings.png, neighbours.json, sample.txt, best.pt and last.pt.
"""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))  # run from any folder

from config import MIN_VOCAB_SIZE, SMOKE_OVERRIDES, SmallConfig  # noqa: E402
from embeddings import write_embedding_views  # noqa: E402
from model import build_model  # noqa: E402
from tokenizer import UNK, SpellingModel, encode, train_tokenizer  # noqa: E402

from shared import lm, metrics, parallel, plotting, text, training  # noqa: E402
from shared.config import parse_stage_args  # noqa: E402
from shared.errors import UserError, run_main  # noqa: E402


def check_settings(cfg: SmallConfig) -> None:
    if cfg.vocab_size < MIN_VOCAB_SIZE:
        raise UserError(f"--vocab-size {cfg.vocab_size} is too small to be useful: almost every "
                        f"token would be {UNK}; use at least {MIN_VOCAB_SIZE}")
    if cfg.min_frequency < 1:
        raise UserError("--min-frequency must be at least 1")


def check_lengths(n_train: int, n_val: int, cfg: SmallConfig) -> None:
    need = (cfg.batch_size + 1) * cfg.seq_len + 1
    if n_train < need:
        raise UserError(
            f"the text is too short: it gives {n_train} training tokens, fewer than the {need} "
            f"that --batch-size {cfg.batch_size} x --seq-len {cfg.seq_len} needs; "
            "use a longer text or smaller --seq-len/--batch-size")
    if n_val < cfg.seq_len + 1:
        raise UserError(
            f"the validation text (last 10%) has {n_val} tokens, fewer than --seq-len "
            f"{cfg.seq_len} + 1; use a longer text or a smaller --seq-len")


def main(argv=None) -> dict:
    cfg, args = parse_stage_args(SmallConfig, __doc__.split("\n\n")[0], SMOKE_OVERRIDES, argv)
    check_settings(cfg)
    rt = parallel.setup(cfg)  # this process (alone, or one of torchrun's), device, precision
    device = rt.device
    out = training.run_dir(cfg.out_dir, cfg.run_name)

    train_text, val_text = text.split_train_val(text.load_corpus(cfg.corpus, cfg.data))
    tokenizer = train_tokenizer(train_text, cfg.vocab_size, cfg.min_frequency)  # train split only
    unk_id = tokenizer.token_to_id(UNK)
    train_list, train_pieces = encode(tokenizer, train_text)
    val_list, val_pieces = encode(tokenizer, val_text)
    check_lengths(len(train_list), len(val_list), cfg)
    train_ids = torch.tensor(train_list, dtype=torch.long)
    val_ids = torch.tensor(val_list, dtype=torch.long)
    vocab_size = tokenizer.get_vocab_size()
    model_config = cfg.model_config(vocab_size)

    training.seed_everything(cfg.seed)
    model = build_model(model_config).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    n_params = training.count_params(model)
    unk_share = float((val_ids == unk_id).float().mean())
    rt.print(f"{cfg.model}: {n_params:,} parameters | vocabulary {vocab_size:,} words | "
          f"{unk_share:.1%} of validation tokens unknown | train {len(train_ids):,} / "
          f"val {len(val_ids):,} tokens | {rt.describe()}")
    identity = {"model_config": model_config, "vocab": tokenizer.get_vocab()}
    ckpt = lm.resume_checkpoint(out, identity, device) if args.resume else None
    if rt.main:
        tokenizer.save(str(out / "tokenizer.json"))
        training.write_json(out / "config.json", {**dataclasses.asdict(cfg), "smoke": args.smoke,
                                                  "model_config": model_config})
    run = lm.fit(model, optimizer, train_ids, val_ids, cfg, out, identity, ckpt, rt)
    rt.close()  # the processes part here: rank 0 alone scores, plots and writes the results
    if not rt.main:
        return {}

    # Score the best checkpoint on the whole validation text.
    best = training.load_checkpoint(out / "best.pt", map_location=device)
    model.load_state_dict(best["model"])
    model_nats, n_tokens = lm.evaluate(model, val_ids, cfg.batch_size, cfg.seq_len, device)
    spelling = SpellingModel.fit(train_pieces, train_list, unk_id)
    scored = list(zip(val_list[1:], val_pieces[1:], strict=True))  # every token after the first
    unk_nats = sum(spelling.nats(piece) for token, piece in scored if token == unk_id)
    n_chars = sum(len(piece) for _, piece in scored)
    uniform_nats = n_tokens * metrics.uniform_loss(vocab_size)
    unigram_nats = metrics.unigram_baseline_nats(train_list, val_list[1:], vocab_size)
    history, train_seconds = run["history"], run["train_seconds"]
    steps = history["step"][-1] if history["step"] else 0
    result = {
        "val_loss": model_nats / n_tokens,  # nats per word token, <unk> counted as one token
        "val_perplexity": metrics.perplexity(model_nats / n_tokens),
        "val_bits_per_char": metrics.bits_per_char(model_nats + unk_nats, n_chars),
        "val_bits_per_char_without_unk_cost": metrics.bits_per_char(model_nats, n_chars),
        "val_unk_share": unk_share, "val_unk_spelling_bits": unk_nats / metrics.LN2,
        "val_tokens": n_tokens, "val_chars": n_chars, "chars_per_token": n_chars / n_tokens,
        "val_uniform_perplexity": float(vocab_size),
        "val_uniform_bits_per_char": metrics.bits_per_char(uniform_nats + unk_nats, n_chars),
        "val_unigram_counts_perplexity": metrics.perplexity(unigram_nats / n_tokens),
        "val_unigram_counts_bits_per_char": metrics.bits_per_char(unigram_nats + unk_nats, n_chars),
        "best_step": best["step"], "steps": steps, "params": n_params, "vocab_size": vocab_size,
        "train_tokens": len(train_ids), "train_seconds": round(train_seconds, 2),
        "tokens_per_second": round(steps * cfg.batch_size * cfg.seq_len / train_seconds, 1)
        if train_seconds else 0.0,
        "seed": cfg.seed, "model": cfg.model, "threads": rt.threads, "processes": rt.world,
        "dtype": run["dtype"],
    }
    training.write_json(out / "metrics.json", result)
    training.write_json(out / "history.json", history)
    plotting.plot_loss_curves(
        history, out / "loss_curve.png", title=f"SmaLLM {cfg.model}: loss per word token",
        ylabel="loss (nats per token)", val_label=f"validation (first {cfg.eval_tokens:,} tokens)",
        baselines={"unigram (counts)": unigram_nats / n_tokens},
        points={"best checkpoint, whole validation": (result["best_step"], result["val_loss"])})
    write_embedding_views(model.embed.weight.detach().cpu(), tokenizer, train_list, out)
    prompt = encode(tokenizer, "\n")[0] if "\n" in tokenizer.get_vocab() else [train_list[0]]
    generator = torch.Generator().manual_seed(cfg.seed)
    sample = tokenizer.decode(lm.generate(model, prompt, cfg.sample_length, cfg.temperature,
                                          generator=generator, device=device, never=(unk_id,)))
    (out / "sample.txt").write_text(sample + "\n", encoding="utf-8")
    print(f"\nval perplexity {result['val_perplexity']:.1f} per word | "
          f"{result['val_bits_per_char']:.3f} bits/char with unknown words spelled out "
          f"({result['val_bits_per_char_without_unk_cost']:.3f} without) | unigram "
          f"{result['val_unigram_counts_bits_per_char']:.3f} | {train_seconds:.0f}s")
    print(f"results in {out}\n--- sample (temperature {cfg.temperature}) ---\n{sample}")
    return result


if __name__ == "__main__":
    run_main(main)
