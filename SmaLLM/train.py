"""Train a word-level language model on Shakespeare (or your own text) on a CPU.

    cd SmaLLM
    python train.py                      # default LSTM run, a few minutes on 2 cores
    python train.py --model gru --vocab-size 4000
    python train.py --data my.txt        # your own UTF-8 text
    python train.py --smoke              # seconds: a tiny model, every artifact written
    python train.py --resume             # continue an interrupted run (Ctrl-C saves one)
    torchrun --nproc-per-node 2 train.py # several processes (DDP); see docs/scaling.md

A run writes results/<run-name>/: tokenizer.json, config.json, metrics.json, history.json,
loss_curve.png, embeddings.png (its points and groups in embeddings.json), neighbours.json,
sample.txt, best.pt, last.pt and tensorboard/ (live curves; --no-tensorboard skips them).
"""

from __future__ import annotations

import dataclasses

import torch

from config import MIN_VOCAB_SIZE, SMOKE_OVERRIDES, SmallConfig
from embeddings import write_embedding_views
from model import build_model
from tokenizer import UNK, SpellingModel, encode, train_tokenizer

from shared.lm import loop, metrics, sampling, scoring, text, tokens
from shared.runtime import devices, files, parallel
from shared.runtime.config import parse_stage_args
from shared.runtime.errors import UserError, run_main


def check_settings(cfg: SmallConfig) -> None:
    if cfg.vocab_size < MIN_VOCAB_SIZE:
        raise UserError(f"--vocab-size {cfg.vocab_size} is too small to be useful: almost every "
                        f"token would be {UNK}; use at least {MIN_VOCAB_SIZE}")
    if cfg.min_frequency < 1:
        raise UserError("--min-frequency must be at least 1")


def score(model, ids: list[int], pieces: list[str], spelling: SpellingModel, unk_id: int,
          cfg: SmallConfig, device) -> dict:
    """Nats of every piece after the first (the CONTEXT newline), read as the same streams,
    cut at the same characters, as the character models read the text; each `<unk>` also pays
    its spelling. Returns the totals, counts and the per-block nats of the text."""
    scored = pieces[1:]
    lengths = torch.tensor([len(p) for p in scored])
    starts = (torch.cumsum(lengths, 0) - lengths).tolist()  # first character of each piece
    n_chars = int(lengths.sum())
    model_nats = scoring.token_nats(model, torch.tensor(ids, dtype=torch.long), cfg.seq_len, device,
                                    scoring.aligned_starts(starts, n_chars))
    unk = [token == unk_id for token in ids[1:]]
    spell = torch.tensor([spelling.nats(p) if u else 0.0 for p, u in zip(scored, unk, strict=True)],
                         dtype=torch.float64)
    return {"model_nats": float(model_nats.sum()), "unk_nats": float(spell.sum()),
            "tokens": len(scored), "chars": n_chars, "unk_share": sum(unk) / len(scored),
            "block": scoring.block_metrics(model_nats + spell, starts, n_chars)}


def split_metrics(split: str, s: dict, unigram_nats: float, vocab_size: int) -> dict:
    """The keys of one scored text under the `split` prefix (val, test)."""
    n, chars = s["tokens"], s["chars"]
    uniform_nats = n * metrics.uniform_loss(vocab_size)
    return {
        f"{split}_loss": s["model_nats"] / n,  # nats per word token, <unk> counted as one token
        f"{split}_perplexity": metrics.perplexity(s["model_nats"] / n),
        f"{split}_bits_per_char": metrics.bits_per_char(s["model_nats"] + s["unk_nats"], chars),
        f"{split}_bits_per_char_without_unk_cost": metrics.bits_per_char(s["model_nats"], chars),
        f"{split}_unk_share": s["unk_share"], f"{split}_unk_spelling_bits": s["unk_nats"] / metrics.LN2,
        f"{split}_tokens": n, f"{split}_chars": chars, f"{split}_chars_per_token": chars / n,
        f"{split}_uniform_perplexity": float(vocab_size),
        f"{split}_uniform_bits_per_char": metrics.bits_per_char(uniform_nats + s["unk_nats"], chars),
        f"{split}_unigram_counts_perplexity": metrics.perplexity(unigram_nats / n),
        f"{split}_unigram_counts_bits_per_char":
            metrics.bits_per_char(unigram_nats + s["unk_nats"], chars),
    }


def main(argv=None) -> dict:
    cfg, args = parse_stage_args(SmallConfig, __doc__.split("\n\n")[0], SMOKE_OVERRIDES, argv)
    check_settings(cfg)
    rt = parallel.setup(cfg)  # this process (alone, or one of torchrun's), device, precision
    device = rt.device
    out = files.run_dir(cfg.out_dir, cfg.run_name)

    parts = text.splits(cfg.corpus, cfg.data)  # training, validation and test text
    tokenizer = train_tokenizer(parts.train, cfg.vocab_size, cfg.min_frequency)  # train only
    unk_id = tokenizer.token_to_id(UNK)
    train_list, train_pieces = encode(tokenizer, parts.train)
    # CONTEXT first, so that every character of the held-out texts is scored (shared/lm/scoring.py)
    val_list, val_pieces = encode(tokenizer, scoring.CONTEXT + parts.validation)
    test_list, test_pieces = encode(tokenizer, scoring.CONTEXT + parts.test)
    tokens.check_lengths(len(train_list), len(val_list) - 1, len(test_list) - 1, cfg.batch_size,
                         cfg.seq_len, "tokens")
    train_ids = torch.tensor(train_list, dtype=torch.long)
    val_ids = torch.tensor(val_list, dtype=torch.long)
    vocab_size = tokenizer.get_vocab_size()
    model_config = cfg.model_config(vocab_size)

    devices.seed_everything(cfg.seed)
    model = build_model(model_config).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    n_params = devices.count_params(model)
    unk_share = float((val_ids[1:] == unk_id).float().mean())
    rt.print(f"{cfg.model}: {n_params:,} parameters | vocabulary {vocab_size:,} words | "
             f"{unk_share:.1%} of validation tokens unknown | train {len(train_ids):,} / "
             f"val {len(val_ids) - 1:,} / test {len(test_list) - 1:,} tokens | {rt.describe()}")
    identity = {"model_config": model_config, "vocab": tokenizer.get_vocab()}
    ckpt = loop.resume_checkpoint(out, identity, device) if args.resume else None
    if rt.main:
        tokenizer.save(str(out / "tokenizer.json"))
        files.write_json(out / "config.json", {**dataclasses.asdict(cfg), "smoke": args.smoke,
                                               "model_config": model_config})
    run = loop.fit(model, optimizer, train_ids, val_ids, cfg, out, identity, ckpt, rt)
    rt.close()  # the processes part here: rank 0 alone scores, plots and writes the results
    if not rt.main:
        return {}

    # Score the best (validation-chosen) checkpoint on the whole validation text, then once
    # on the test text.
    best = files.load_checkpoint(out / "best.pt", map_location=device)
    model.load_state_dict(best["model"])
    spelling = SpellingModel.fit(train_pieces, train_list, unk_id)
    val = score(model, val_list, val_pieces, spelling, unk_id, cfg, device)
    test = score(model, test_list, test_pieces, spelling, unk_id, cfg, device)
    val_unigram = metrics.unigram_baseline_nats(train_list, val_list[1:], vocab_size)
    test_unigram = metrics.unigram_baseline_nats(train_list, test_list[1:], vocab_size)
    history, train_seconds = run["history"], run["train_seconds"]
    steps = history["step"][-1] if history["step"] else 0
    result = {
        **split_metrics("val", val, val_unigram, vocab_size),
        **split_metrics("test", test, test_unigram, vocab_size),
        **test["block"], "test_text_sha256": scoring.fingerprint(parts.test),
        "score_streams": scoring.SCORE_STREAMS,
        "best_step": best["step"], "steps": steps, "params": n_params, "vocab_size": vocab_size,
        "train_tokens": len(train_ids), "train_seconds": round(train_seconds, 2),
        "tokens_per_second": round(steps * cfg.batch_size * cfg.seq_len / train_seconds, 1)
        if train_seconds else 0.0,
        "seed": cfg.seed, "model": cfg.model, "threads": rt.threads, "processes": rt.world,
        "dtype": run["dtype"],
    }
    files.write_json(out / "metrics.json", result)
    files.write_json(out / "history.json", history)
    loop.draw_loss_curve(out, f"SmaLLM {cfg.model}: loss per word token")  # report.py redraws it too
    write_embedding_views(model.embed.weight.detach().cpu(), tokenizer, train_list, out)
    prompt = encode(tokenizer, "\n")[0] if "\n" in tokenizer.get_vocab() else [train_list[0]]
    generator = torch.Generator().manual_seed(cfg.seed)
    sample = tokenizer.decode(sampling.generate(model, prompt, cfg.sample_length, cfg.temperature,
                                                generator=generator, device=device, never=(unk_id,)))
    (out / "sample.txt").write_text(sample + "\n", encoding="utf-8")
    print(f"\nval perplexity {result['val_perplexity']:.1f} per word, "
          f"{result['val_bits_per_char']:.3f} bits/char (best step {result['best_step']}) | test "
          f"{result['test_bits_per_char']:.3f} bits/char with unknown words spelled out "
          f"({result['test_bits_per_char_without_unk_cost']:.3f} without) | unigram "
          f"{result['test_unigram_counts_bits_per_char']:.3f} | {train_seconds:.0f}s")
    print(f"results in {out}\n--- sample (temperature {cfg.temperature}) ---\n{sample}")
    return result


if __name__ == "__main__":
    run_main(main)
