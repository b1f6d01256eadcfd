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

import argparse
import dataclasses
import math
import sys
import time
from pathlib import Path

import torch
from torch.nn import functional as F
from tqdm import tqdm

sys.path.insert(0, str(Path(__file__).resolve().parent))  # run from any folder

from config import SMOKE_OVERRIDES, TinyConfig  # noqa: E402
from model import build_model, detach_state, generate  # noqa: E402

from shared import metrics, plotting, text, training  # noqa: E402
from shared.config import add_dataclass_arguments, config_from_args  # noqa: E402
from shared.errors import UserError, run_main  # noqa: E402


def parse_args(argv=None) -> tuple[TinyConfig, argparse.Namespace]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    add_dataclass_arguments(parser, TinyConfig)
    parser.add_argument("--smoke", action="store_true",
                        help="tiny model and step count: finishes in seconds, writes everything")
    parser.add_argument("--resume", action="store_true",
                        help="continue the run in --out-dir/--run-name from its last.pt")
    args = parser.parse_args(argv)
    overrides = dict(SMOKE_OVERRIDES) if args.smoke else {}
    # Flags typed on the command line beat the smoke preset.
    typed = sys.argv[1:] if argv is None else argv
    given = {a.lstrip("-").split("=")[0].replace("-", "_") for a in typed if a.startswith("--")}
    overrides = {k: v for k, v in overrides.items() if k not in given}
    config = config_from_args(TinyConfig, args, **overrides)
    if config.run_name is None:
        config.run_name = f"smoke-{config.model}" if args.smoke else config.model
    return config, args


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


def steps_per_epoch(n_train: int, batch_size: int, seq_len: int) -> int:
    """Chunks per stream; the same for every epoch whatever its offset (below)."""
    return ((n_train - seq_len - 1) // batch_size) // seq_len


def epoch_streams(train_ids: torch.Tensor, batch_size: int, seq_len: int, epoch: int):
    """Cut the training text into `batch_size` contiguous streams, read side by side.

    Each step reads the next `seq_len` characters of every stream and the recurrent state
    carries over, so the model sees context far beyond one chunk. Each epoch starts the
    streams at a different offset so chunk boundaries move.
    """
    offset = (epoch * 37) % seq_len
    length = steps_per_epoch(len(train_ids), batch_size, seq_len) * seq_len
    ids = train_ids[offset : offset + batch_size * length + 1]
    inputs = ids[:-1].view(batch_size, length)  # (batch, length)
    targets = ids[1:].view(batch_size, length)  # the next character of each input
    return inputs, targets


@torch.no_grad()
def evaluate(model, ids: torch.Tensor, batch_size: int, seq_len: int, device) -> tuple[float, int]:
    """Total negative log-likelihood (nats) of every character of `ids` after the first.

    The text is cut into `batch_size` streams read in parallel with the state carried
    along; padding at the end of the last stream is masked out, so every character counts
    exactly once.
    """
    model.eval()
    n_targets = len(ids) - 1
    streams = min(batch_size, max(1, n_targets // seq_len))
    length = math.ceil(n_targets / streams)
    inputs = torch.zeros(streams * length, dtype=torch.long)
    targets = torch.full((streams * length,), -100, dtype=torch.long)  # -100: ignored
    inputs[:n_targets], targets[:n_targets] = ids[:-1], ids[1:]
    inputs, targets = inputs.view(streams, length).to(device), targets.view(streams, length).to(device)
    total, state = 0.0, None
    for pos in range(0, length, seq_len):
        logits, state = model(inputs[:, pos : pos + seq_len], state)
        total += F.cross_entropy(logits.flatten(0, 1), targets[:, pos : pos + seq_len].flatten(),
                                 ignore_index=-100, reduction="sum").item()
    model.train()
    return total, n_targets


def learning_rate(step: int, cfg: TinyConfig) -> float:
    """Linear warm-up, then cosine decay to a tenth of the peak."""
    if step < cfg.warmup_steps:
        return cfg.lr * (step + 1) / cfg.warmup_steps
    progress = (step - cfg.warmup_steps) / max(1, cfg.max_steps - cfg.warmup_steps)
    return cfg.lr * (0.1 + 0.9 * 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress))))


def main(argv=None) -> dict:
    cfg, args = parse_args(argv)
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
    history = {"step": [], "train_loss": [], "val_step": [], "val_loss": []}
    step, state, best_val, train_seconds = 0, None, math.inf, 0.0

    if args.resume:
        ckpt = training.load_checkpoint(out / "last.pt", map_location=device,
                                        expect={"model_config": model_config, "vocab": vocab.chars})
        model.load_state_dict(ckpt["model"])
        optimizer.load_state_dict(ckpt["optimizer"])
        step, state, best_val = ckpt["step"], ckpt["state"], ckpt["best_val"]
        history, train_seconds = ckpt["history"], ckpt["train_seconds"]
        torch.set_rng_state(ckpt["rng"])
        print(f"resuming {out} at step {step}")
    elif (out / "last.pt").exists():
        print(f"note: starting afresh in {out} (pass --resume to continue the run there)")

    n_params = training.count_params(model)
    print(f"{cfg.model}: {n_params:,} parameters | vocab {len(vocab)} | "
          f"train {len(train_ids):,} / val {len(val_ids):,} chars | {device}, {threads} threads")
    training.write_json(out / "config.json", {**dataclasses.asdict(cfg), "smoke": args.smoke,
                                              "model_config": model_config})

    def save(path: Path) -> None:
        training.save_checkpoint(path, {
            "model": model.state_dict(), "optimizer": optimizer.state_dict(),
            "model_config": model_config, "vocab": vocab.chars, "step": step,
            "state": state, "best_val": best_val, "history": history,
            "train_seconds": train_seconds, "rng": torch.get_rng_state()})

    chunks = steps_per_epoch(len(train_ids), cfg.batch_size, cfg.seq_len)
    epoch, inputs, targets = -1, None, None
    model.train()
    bar = tqdm(total=cfg.max_steps, initial=step, desc=f"train {cfg.model}", unit="step",
               dynamic_ncols=True, disable=None)
    started = time.perf_counter()
    try:
        while step < cfg.max_steps:
            if step // chunks != epoch:
                epoch = step // chunks
                inputs, targets = epoch_streams(train_ids, cfg.batch_size, cfg.seq_len, epoch)
            position = (step % chunks) * cfg.seq_len
            if position == 0:
                state = None  # a new epoch: the streams start over
            x = inputs[:, position : position + cfg.seq_len].to(device)  # (batch, seq_len)
            y = targets[:, position : position + cfg.seq_len].to(device)
            for group in optimizer.param_groups:
                group["lr"] = learning_rate(step, cfg)
            logits, state = model(x, state)  # (batch, seq_len, vocab)
            state = detach_state(state)
            loss = F.cross_entropy(logits.flatten(0, 1), y.flatten())
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
            optimizer.step()
            step += 1
            history["step"].append(step)
            history["train_loss"].append(round(loss.item(), 5))
            bar.update(1)
            bar.set_postfix(loss=f"{loss.item():.3f}",
                            best_val=f"{best_val:.3f}" if best_val < math.inf else "-")
            if step % cfg.eval_interval == 0 or step == cfg.max_steps:
                val_nats, val_n = evaluate(model, val_ids[: cfg.eval_chars + 1], cfg.batch_size,
                                           cfg.seq_len, device)
                history["val_step"].append(step)
                history["val_loss"].append(round(val_nats / val_n, 5))
                train_seconds += time.perf_counter() - started
                started = time.perf_counter()
                if val_nats / val_n < best_val:
                    best_val = val_nats / val_n
                    save(out / "best.pt")
                save(out / "last.pt")
                bar.write(f"step {step:5d} | train {loss.item():.4f} | val {val_nats / val_n:.4f}"
                          f" nats/char | {train_seconds:.0f}s")
    except KeyboardInterrupt:
        train_seconds += time.perf_counter() - started
        save(out / "last.pt")
        bar.close()
        print(f"\ninterrupted at step {step}; saved {out / 'last.pt'}. "
              f"Continue with: python train.py --resume --run-name {cfg.run_name}")
        sys.exit(130)
    bar.close()
    train_seconds += time.perf_counter() - started
    return finish(cfg, model, vocab, train_ids, val_ids, history, n_params, train_seconds,
                  out, device)


def finish(cfg, model, vocab, train_ids, val_ids, history, n_params, train_seconds, out, device):
    """Score the best checkpoint on the whole validation text; write metrics, plot, sample."""
    best = training.load_checkpoint(out / "best.pt", map_location=device)
    model.load_state_dict(best["model"])
    val_nats, val_n = evaluate(model, val_ids, cfg.batch_size, cfg.seq_len, device)
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
                              val_label=f"validation (first {cfg.eval_chars:,} chars)",
                              points={"best checkpoint, whole validation":
                                      (result["best_step"], result["val_loss"])})
    prompt = "\n" if "\n" in vocab.index else vocab.chars[1]
    generator = torch.Generator().manual_seed(cfg.seed)
    sample = vocab.decode(generate(model, vocab.encode(prompt), cfg.sample_length,
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
