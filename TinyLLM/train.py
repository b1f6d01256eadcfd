"""Train a character-level language model on Shakespeare (or your own text) on a CPU.

    cd TinyLLM
    python train.py                      # default GRU run, under 5 minutes on 2 cores
    python train.py --model lstm         # another rung of the ladder: bigram, rnn, gru, lstm
    python train.py --data my.txt        # your own UTF-8 text
    python train.py --smoke              # seconds: a tiny model, every artifact written
    python train.py --resume             # continue an interrupted run (Ctrl-C saves one)

A run writes results/<run-name>/: config.json, metrics.json, history.json, loss_curve.png,
sample.txt, best.pt (lowest validation loss, used by sample.py) and last.pt (for --resume).
"""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))  # run from any folder

from config import SMOKE_OVERRIDES, TinyConfig  # noqa: E402
from model import build_model  # noqa: E402

from shared import lm, metrics, plotting, text, training  # noqa: E402
from shared.config import parse_stage_args  # noqa: E402
from shared.errors import UserError, run_main  # noqa: E402


def check_lengths(train_ids: torch.Tensor, val_ids: torch.Tensor, cfg: TinyConfig) -> None:
    need = (cfg.batch_size + 1) * cfg.seq_len + 1
    if len(train_ids) < need:
        raise UserError(
            f"the text is too short: its {len(train_ids) + len(val_ids)} characters leave "
            f"{len(train_ids)} for training, fewer than the {need} that --batch-size "
            f"{cfg.batch_size} x --seq-len {cfg.seq_len} needs; "
            "use a longer text or smaller --seq-len/--batch-size")
    if len(val_ids) < cfg.seq_len + 1:
        raise UserError(
            f"the validation text (last 10%) has {len(val_ids)} characters, shorter than "
            f"--seq-len {cfg.seq_len} + 1; use a longer text or a smaller --seq-len")


def main(argv=None) -> dict:
    cfg, args = parse_stage_args(TinyConfig, __doc__.split("\n\n")[0], SMOKE_OVERRIDES, argv)
    device = training.pick_device(cfg.device)
    threads = training.set_threads(cfg.threads)
    out = training.run_dir(cfg.out_dir, cfg.run_name)

    corpus = text.load_corpus(cfg.corpus, cfg.data)
    train_text, val_text = text.split_train_val(corpus)
    vocab = text.CharVocab.from_text(train_text)
    train_ids = torch.tensor(vocab.encode(train_text), dtype=torch.long)
    val_ids = torch.tensor(vocab.encode(val_text), dtype=torch.long)
    check_lengths(train_ids, val_ids, cfg)
    model_config = cfg.model_config(len(vocab))

    training.seed_everything(cfg.seed)
    model = build_model(model_config).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    n_params = training.count_params(model)
    print(f"{cfg.model}: {n_params:,} parameters | vocab {len(vocab)} | "
          f"train {len(train_ids):,} / val {len(val_ids):,} chars | {device}, {threads} threads")
    identity = {"model_config": model_config, "vocab": vocab.chars}
    ckpt = lm.resume_checkpoint(out, identity, device) if args.resume else None
    training.write_json(out / "config.json", {**dataclasses.asdict(cfg), "smoke": args.smoke,
                                              "model_config": model_config})
    run = lm.fit(model, optimizer, train_ids, val_ids, cfg, out, identity, ckpt, device)
    return finish(cfg, model, vocab, train_ids, val_ids, run["history"], n_params,
                  run["train_seconds"], out, device)


def finish(cfg, model, vocab, train_ids, val_ids, history, n_params, train_seconds, out, device):
    """Score the best checkpoint on the whole validation text; write metrics, plot, sample."""
    best = training.load_checkpoint(out / "best.pt", map_location=device)
    model.load_state_dict(best["model"])
    val_nats, val_n = lm.evaluate(model, val_ids, cfg.batch_size, cfg.seq_len, device)
    bigram_nats = metrics.bigram_baseline_nats(train_ids.numpy(), val_ids.numpy(), len(vocab))
    tokens_seen = history["step"][-1] * cfg.batch_size * cfg.seq_len if history["step"] else 0
    result = {
        **metrics.lm_metrics(val_nats, val_n, val_n, prefix="val"),
        "val_uniform_loss": metrics.uniform_loss(len(vocab)),
        "val_uniform_bits_per_char": metrics.uniform_loss(len(vocab)) / metrics.LN2,
        "val_bigram_counts_loss": bigram_nats / val_n,
        "val_bigram_counts_bits_per_char": metrics.bits_per_char(bigram_nats, val_n),
        "best_step": best["step"], "steps": history["step"][-1] if history["step"] else 0,
        "params": n_params, "vocab_size": len(vocab), "train_chars": len(train_ids),
        "train_seconds": round(train_seconds, 2),
        "tokens_per_second": round(tokens_seen / train_seconds, 1) if train_seconds else 0.0,
        "seed": cfg.seed, "model": cfg.model, "threads": torch.get_num_threads(),
    }
    training.write_json(out / "metrics.json", result)
    training.write_json(out / "history.json", history)
    plotting.plot_loss_curves(history, out / "loss_curve.png",
                              title=f"TinyLLM {cfg.model}: loss per character",
                              ylabel="loss (nats per character)",
                              baselines={"uniform": result["val_uniform_loss"],
                                         "bigram (counts)": result["val_bigram_counts_loss"]},
                              val_label=f"validation (first {cfg.eval_tokens:,} chars)",
                              points={"best checkpoint, whole validation":
                                      (result["best_step"], result["val_loss"])})
    prompt = "\n" if "\n" in vocab.index else vocab.chars[1]
    generator = torch.Generator().manual_seed(cfg.seed)
    sample = vocab.decode(lm.generate(model, vocab.encode(prompt), cfg.sample_length,
                                   cfg.temperature, generator=generator, device=device, never=(0,)))
    (out / "sample.txt").write_text(sample + "\n", encoding="utf-8")
    print(f"\nval loss {result['val_loss']:.4f} nats/char = {result['val_bits_per_char']:.3f} "
          f"bits/char (uniform {result['val_uniform_bits_per_char']:.3f}, bigram counts "
          f"{result['val_bigram_counts_bits_per_char']:.3f}) | {train_seconds:.0f}s | "
          f"{result['tokens_per_second']:,.0f} chars/s")
    print(f"results in {out}\n--- sample (temperature {cfg.temperature}) ---\n{sample}")
    return result


if __name__ == "__main__":
    run_main(main)
