"""Train a character-level language model on Shakespeare (or your own text) on a CPU.

    cd TinyLLM
    python train.py                      # default GRU run, under 5 minutes on 2 cores
    python train.py --model lstm         # another rung of the ladder: bigram, rnn, gru, lstm
    python train.py --data my.txt        # your own UTF-8 text
    python train.py --smoke              # seconds: a tiny model, every artifact written
    python train.py --resume             # continue an interrupted run (Ctrl-C saves one)
    torchrun --nproc-per-node 2 train.py # several processes (DDP); see docs/scaling.md

A run writes results/<run-name>/: config.json, metrics.json, history.json, loss_curve.png,
sample.txt, best.pt (lowest validation loss, used by sample.py), last.pt (for --resume) and
tensorboard/ (live curves: `tensorboard --logdir results`; --no-tensorboard skips them).

The whole run is in main() below, top to bottom: the text as character ids, the model, the
training loop (batch, forward, loss, backward, clipping, optimizer step, evaluation,
checkpoints), then the final scores and a sample. The plain path is one process in float32.
What torchrun, --grad-accum, --dtype and --resume add is marked [scale-out] or [resume] and
kept short; the longer parts of it are the functions at the bottom of the file.
"""

from __future__ import annotations

import dataclasses
import math
import sys
import time

import torch
from torch.nn import functional as F
from tqdm import tqdm

from config import SMOKE_OVERRIDES, TinyConfig  # this folder: config.py and model.py
from model import build_model

from shared.lm import loop, metrics, sampling, scoring, tokens
from shared.runtime import devices, files, parallel, schedule
from shared.runtime.config import parse_stage_args
from shared.runtime.curves import event_writer
from shared.runtime.errors import run_main


def main(argv=None) -> dict:
    cfg, args = parse_stage_args(TinyConfig, __doc__.split("\n\n")[0], SMOKE_OVERRIDES, argv)
    # [scale-out] This process (alone, or one of torchrun's), its device and its precision.
    rt = parallel.setup(cfg)
    device = rt.device
    out = files.run_dir(cfg.out_dir, cfg.run_name)

    # ---- 1. The text, as character ids ------------------------------------------------------
    # Training, validation and test text cut by shared/lm/text.py, and a vocabulary of the
    # characters of the training text; val_ids and test_ids begin with a newline of context.
    data = tokens.character_data(cfg)
    vocab, train_ids, val_ids = data.vocab, data.train_ids, data.val_ids

    # ---- 2. The model and its optimizer -----------------------------------------------------
    model_config = cfg.model_config(len(vocab))
    devices.seed_everything(cfg.seed)  # the same seed, the same initial weights and run
    model = build_model(model_config).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    rt.print(f"{cfg.model}: {devices.count_params(model):,} parameters | vocab {len(vocab)} | "
             f"train {len(train_ids):,} / val {len(val_ids) - 1:,} / test "
             f"{len(data.test_ids) - 1:,} chars | {rt.describe()}")
    identity = {"model_config": model_config, "vocab": vocab.chars}  # what a checkpoint must match
    # [resume] Read last.pt before anything is written, so that a refused --resume changes nothing.
    ckpt = loop.resume_checkpoint(out, identity, device) if args.resume else None
    if rt.main:
        files.write_json(out / "config.json", {**dataclasses.asdict(cfg), "smoke": args.smoke,
                                               "model_config": model_config})

    # ---- 3. The training loop ---------------------------------------------------------------
    # [scale-out] The rows of each batch this process trains on, one slice per micro-batch:
    # the whole batch in one slice unless torchrun or --grad-accum shares it out.
    parts = loop.split_batch(rt, cfg.batch_size, cfg.grad_accum)
    scaled = rt.distributed or len(parts) > 1 or rt.dtype != torch.float32
    history = {"step": [], "train_loss": [], "val_step": [], "val_loss": []}
    step, best_val, train_seconds = 0, math.inf, 0.0
    states = [None] * len(parts)  # the recurrent state of every stream (one per micro-batch)
    if ckpt is not None:  # [resume] continue where last.pt stopped (resume() at the bottom)
        step, states, best_val, history, train_seconds = resume(ckpt, model, optimizer, rt,
                                                                len(parts), out)
    elif (out / "last.pt").exists() and rt.main:
        print(f"note: starting afresh in {out} (pass --resume to continue the run there)")

    def save(path, together: bool = True) -> None:
        """A checkpoint: the weights, and (for --resume) the optimizer, the step, every stream's
        recurrent state, the history so far and the random-number generator's state."""
        mine = [loop.detach_state(s) for s in states]
        # [scale-out] Every process's states, in rank order; only this one's after Ctrl-C
        # (`together=False`), when the other processes are stopping too.
        everyone = rt.gather(mine) if together else [mine]
        if rt.main:
            files.save_checkpoint(path, {
                **identity, "model": model.state_dict(), "optimizer": optimizer.state_dict(),
                "step": step, "states": everyone, "best_val": best_val, "history": history,
                "train_seconds": train_seconds, "rng": torch.get_rng_state()})

    # [scale-out] The module to train with: `model` itself, compiled (--compile) and/or wrapped
    # for DDP (torchrun). `model` is what is evaluated and saved (no wrapper in its names).
    net = rt.prepare(model, cfg.compile)
    # Live curves: TensorBoard event files in <run>/tensorboard/, written as the run goes
    # (`tensorboard --logdir results` to watch them; --no-tensorboard writes none).
    curves = event_writer(out, cfg.tensorboard, rt.main)
    # The training text is read as batch_size long streams side by side, seq_len characters of
    # each per step; `chunks` steps make one pass (an epoch) over the text.
    chunks = loop.steps_per_epoch(len(train_ids), cfg.batch_size, cfg.seq_len)
    tokens_per_step = cfg.batch_size * cfg.seq_len
    epoch, inputs, targets = -1, None, None
    model.train()
    bar = tqdm(total=None if cfg.time_budget else cfg.max_steps, initial=step,
               desc=f"train {cfg.model}", unit="step", dynamic_ncols=True,
               disable=None if rt.main else True)
    started = time.perf_counter()
    seconds = train_seconds  # training time; evaluations and checkpoints do not count
    try:  # [resume] Ctrl-C saves last.pt (the `except` below)
        # Until --max-steps, or with --time-budget until that many seconds of training.
        while schedule.more_steps(step, seconds, cfg.max_steps, cfg.time_budget):
            if step // chunks != epoch:  # a new epoch: the streams start at another offset
                epoch = step // chunks
                inputs, targets = loop.epoch_streams(train_ids, cfg.batch_size, cfg.seq_len, epoch)
            position = (step % chunks) * cfg.seq_len
            if position == 0:
                states = [None] * len(parts)  # the streams start over: no state to carry
            # Learning rate: a linear warm-up, then a cosine decay to a tenth of the peak (over
            # the steps, or over the time budget's seconds when the run has one).
            progress = schedule.budget_progress(seconds, cfg.time_budget)
            for group in optimizer.param_groups:
                group["lr"] = schedule.learning_rate(step, cfg.lr, cfg.warmup_steps, cfg.max_steps,
                                                     progress)
            if scaled:  # [scale-out] the same step, shared out (scaled_step() at the bottom)
                batch_loss = scaled_step(rt, net, model, optimizer, inputs, targets, position,
                                         parts, states, cfg)
            else:
                # The batch: the next seq_len characters of every stream, and the character
                # that follows each of them (the target).
                x = inputs[:, position : position + cfg.seq_len].to(device)  # (batch, seq_len)
                y = targets[:, position : position + cfg.seq_len].to(device)  # (batch, seq_len)
                optimizer.zero_grad(set_to_none=True)
                # Forward: the state carries on from the previous chunk of each stream.
                logits, state = net(x, states[0])  # (batch, seq_len, vocab)
                # Loss: the mean cross-entropy per character, written as a sum over the batch
                # divided by its size because scaled_step() adds up parts of it that way.
                loss = F.cross_entropy(logits.flatten(0, 1), y.flatten(),
                                       reduction="sum") / tokens_per_step
                loss.backward()  # backward: the gradient of the loss for every weight
                # Keep the state's values but cut its graph: truncated backpropagation through
                # time, so the next step's gradients stop at this chunk.
                states[0] = loop.detach_state(state)
                batch_loss = loss.item()
                if cfg.grad_clip:  # clip the gradient norm, against an RNN's exploding gradients
                    torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
                optimizer.step()  # Adam moves every weight against its gradient
            step += 1
            # Training time so far ([scale-out] rank 0's clock, so every process stops together).
            seconds = rt.agree(train_seconds + time.perf_counter() - started)
            history["step"].append(step)
            history["train_loss"].append(round(batch_loss, 5))
            curves.scalar("loss/train", batch_loss, step)
            curves.scalar("learning_rate", optimizer.param_groups[0]["lr"], step)
            bar.update(1)
            bar.set_postfix(loss=f"{batch_loss:.3f}",
                            best_val=f"{best_val:.3f}" if best_val < math.inf else "-")
            # Every eval_interval steps, and at the last: the loss on the first eval_tokens
            # validation characters (shared/lm/scoring.py scores every character, as the final
            # scores do), then checkpoints. The clock stops meanwhile.
            if step % cfg.eval_interval == 0 or not schedule.more_steps(
                    step, seconds, cfg.max_steps, cfg.time_budget):
                train_seconds = seconds
                with rt.autocast():  # [scale-out] --dtype; every process scores the same text
                    val_nats, val_n = scoring.evaluate(model, val_ids[: cfg.eval_tokens + 1],
                                                       cfg.seq_len, device)
                history["val_step"].append(step)
                history["val_loss"].append(round(val_nats / val_n, 5))
                curves.scalar("loss/val", val_nats / val_n, step)
                curves.scalar("bits_per_token/val", val_nats / val_n / math.log(2), step)  # = bits/char
                if val_nats / val_n < best_val:  # best.pt: the lowest validation loss so far
                    best_val = val_nats / val_n
                    save(out / "best.pt")
                save(out / "last.pt")  # last.pt: where --resume continues
                if rt.main:
                    bar.write(f"step {step:5d} | train {batch_loss:.4f} | val "
                              f"{val_nats / val_n:.4f} nats/token | {train_seconds:.0f}s")
                started = time.perf_counter()
    except KeyboardInterrupt:  # [resume] Ctrl-C: save last.pt, exit with status 130
        train_seconds = seconds
        curves.close()
        if rt.main:
            save(out / "last.pt", together=not rt.distributed)
            bar.close()
            print(f"\ninterrupted at step {step}; saved {out / 'last.pt'}. To continue, run the "
                  "same command again with --resume")
        sys.exit(130)
    bar.close()
    curves.close()
    rt.close()  # [scale-out] the processes part here: rank 0 alone scores and writes the results
    if not rt.main:
        return {}

    # ---- 4. Final scores, files and a sample ------------------------------------------------
    return final_scores(model, data, history, train_seconds, cfg, out, device, rt)


def final_scores(model, data: tokens.CharData, history: dict, train_seconds: float, cfg: TinyConfig,
                 out, device, rt) -> dict:
    """Score the checkpoint validation chose (best.pt) on the whole validation text, then once on
    the test text, beside two baselines (a uniform guess and a counted bigram table); write
    metrics.json, history.json and loss_curve.png; sample text from it into sample.txt."""
    vocab, train_ids = data.vocab, data.train_ids
    best = files.load_checkpoint(out / "best.pt", map_location=device)
    model.load_state_dict(best["model"])
    steps = history["step"][-1] if history["step"] else 0
    result = {}
    for split, ids in (("val", data.val_ids), ("test", data.test_ids)):
        nats = scoring.token_nats(model, ids, cfg.seq_len, device)  # every character's loss (nats)
        bigram = metrics.bigram_baseline_token_nats(train_ids.numpy(), ids.numpy(), len(vocab))
        n = len(nats)
        result.update({
            **metrics.lm_metrics(float(nats.sum()), n, n, prefix=split),  # loss, bits/char, ...
            f"{split}_uniform_loss": metrics.uniform_loss(len(vocab)),
            f"{split}_uniform_bits_per_char": metrics.uniform_loss(len(vocab)) / metrics.LN2,
            f"{split}_bigram_counts_loss": float(bigram.sum()) / n,
            f"{split}_bigram_counts_bits_per_char": metrics.bits_per_char(float(bigram.sum()), n)})
        if split == "test":  # per 2,000-character block, for the paired bootstrap of report.py
            result.update(scoring.block_metrics(nats, range(n), n))
            bigram_blocks = scoring.block_metrics(bigram, range(n), n)
            result["test_bigram_counts_block_nats"] = bigram_blocks["test_block_nats"]
    tokens_seen = steps * cfg.batch_size * cfg.seq_len
    result.update({
        "test_text_sha256": data.test_sha256, "score_streams": scoring.SCORE_STREAMS,
        "best_step": best["step"], "steps": steps,
        "params": devices.count_params(model), "vocab_size": len(vocab),
        "train_chars": len(train_ids), "train_seconds": round(train_seconds, 2),
        "tokens_per_second": round(tokens_seen / train_seconds, 1) if train_seconds else 0.0,
        "seed": cfg.seed, "model": cfg.model, "threads": torch.get_num_threads(),
        "processes": rt.world, "dtype": str(rt.dtype).removeprefix("torch."),
    })
    files.write_json(out / "metrics.json", result)
    files.write_json(out / "history.json", history)
    # The curves, the lowest validation loss ringed, the uniform and bigram levels (shared/lm/loop.py;
    # report.py redraws it from these files)
    loop.draw_loss_curve(out, f"TinyLLM {cfg.model}: loss per character")
    # A sample: continue a newline (a new speech begins), one character at a time.
    prompt = scoring.CONTEXT if scoring.CONTEXT in vocab.index else vocab.chars[1]
    generator = torch.Generator().manual_seed(cfg.seed)
    sample = vocab.decode(sampling.generate(model, vocab.encode(prompt), cfg.sample_length,
                                            cfg.temperature, generator=generator, device=device,
                                            never=(0,)))  # 0: the unknown-character slot
    (out / "sample.txt").write_text(sample + "\n", encoding="utf-8")
    print(f"\nval loss {result['val_loss']:.4f} nats/char = {result['val_bits_per_char']:.3f} "
          f"bits/char (best step {result['best_step']}) | test {result['test_bits_per_char']:.3f} "
          f"bits/char (uniform {result['test_uniform_bits_per_char']:.3f}, bigram counts "
          f"{result['test_bigram_counts_bits_per_char']:.3f}) | {train_seconds:.0f}s | "
          f"{result['tokens_per_second']:,.0f} chars/s")
    print(f"results in {out}\n--- sample (temperature {cfg.temperature}) ---\n{sample}")
    return result


# ---- Additions to the plain path ------------------------------------------------------------

def scaled_step(rt, net, model, optimizer, inputs, targets, position: int, parts: list[slice],
                states: list, cfg: TinyConfig) -> float:
    """[scale-out] The plain step of main() for torchrun, --grad-accum and --dtype: this
    process trains on its rows of the batch, one micro-batch (`parts`) at a time, in mixed
    precision where --dtype asks, and DDP averages the gradients of the processes. Updates
    `states` in place; returns the whole batch's mean loss."""
    tokens_per_step = cfg.batch_size * cfg.seq_len
    optimizer.zero_grad(set_to_none=True)
    share = 0.0  # this process's part of the batch's mean loss
    for m, rows in enumerate(parts):
        x = inputs[rows, position : position + cfg.seq_len].to(rt.device)  # (micro, seq_len)
        y = targets[rows, position : position + cfg.seq_len].to(rt.device)
        with rt.no_sync(net, last=m == len(parts) - 1):  # all-reduce after the last one only
            with rt.autocast():
                logits, state = net(x, states[m])  # (micro, seq_len, vocab)
                # Summed, then divided by the whole batch's tokens (x the processes, whose
                # gradients DDP averages): the plain step's gradient, to rounding.
                loss = F.cross_entropy(logits.flatten(0, 1).float(), y.flatten(),
                                       reduction="sum") / tokens_per_step
            rt.backward(loss * rt.world)  # float16: scaled against underflow
        states[m] = loop.detach_state(state)
        share += loss.item()
    rt.step(optimizer, model.parameters(), cfg.grad_clip)  # unscale (float16), clip, step
    return rt.sum(share)


def resume(ckpt: dict, model, optimizer, rt, n_parts: int, out):
    """[resume] Load last.pt's weights and optimizer state; return where the run stopped: its
    step, this process's recurrent states, the best validation loss, the history and the
    training time. The random-number generator continues from its saved state too."""
    model.load_state_dict(ckpt["model"])
    optimizer.load_state_dict(ckpt["optimizer"])
    saved = ckpt["states"]  # every process's micro-batch states, in rank order
    if len(saved) == rt.world and all(len(s) == n_parts for s in saved):
        states = [loop.detach_state(s) for s in saved[rt.rank]]
    else:
        states = [None] * n_parts
        rt.print("note: the number of processes or --grad-accum changed; the recurrent state "
                 "restarts at the next chunk")
    torch.set_rng_state(ckpt["rng"])
    rt.print(f"resuming {out} at step {ckpt['step']}")
    return ckpt["step"], states, ckpt["best_val"], ckpt["history"], ckpt["train_seconds"]


if __name__ == "__main__":
    run_main(main)
