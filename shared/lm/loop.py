"""The shared training loop of the word language model (stage 2) and the stage 4 mini-GPT, and
the end of a character model's run (`finish`). Stage 1 keeps the same loop written out in
TinyLLM/train.py, where a learner reads it, and uses the small pieces here (the streams of a
batch, the state cut between chunks, --resume); a test keeps the two loops equal to the last
digit.

Both stages turn their text into a 1-D tensor of token ids (characters or words) and train a
model with the interface `logits, state = model(ids, state)` by truncated backpropagation
through time:

    ckpt = resume_checkpoint(out, identity, device) if resume else None
    run = fit(model, optimizer, train_ids, val_ids, cfg, out, identity, ckpt, device)

`cfg` is the stage's settings dataclass; it must have the fields used below (batch_size,
seq_len, lr, warmup_steps, max_steps, time_budget, grad_clip, eval_interval, eval_tokens, model,
and RuntimeConfig's, tensorboard among them: the live curves of shared.runtime.curves).
`identity` is what a checkpoint must match to be resumed (model config, vocabulary). The
evaluations and final scores follow shared.lm.scoring.

Imported by TinyLLM/train.py (the pieces), SmaLLM/train.py, CodeLLM's mini-GPT train script and
the `make new-stage` template (`fit`, `finish`), and the tests.
"""

from __future__ import annotations

import math
import sys
import time
from pathlib import Path

import torch
from torch.nn import functional as F
from tqdm import tqdm

from shared import plotting
from shared.lm import metrics
from shared.lm.sampling import generate
from shared.lm.scoring import CONTEXT, SCORE_STREAMS, block_metrics, evaluate, token_nats
from shared.lm.tokens import CharData
from shared.runtime import devices, files
from shared.runtime.curves import event_writer
from shared.runtime.errors import UserError
from shared.runtime.schedule import budget_progress, learning_rate, more_steps


def detach_state(state):
    """Keep the state's values but cut the graph: truncated backpropagation through time."""
    if state is None:
        return None
    if isinstance(state, tuple):  # LSTM: (hidden, cell)
        return tuple(s.detach() for s in state)
    return state.detach()


def steps_per_epoch(n_train: int, batch_size: int, seq_len: int) -> int:
    """Chunks per stream; the same for every epoch whatever its offset (below)."""
    return ((n_train - seq_len - 1) // batch_size) // seq_len


def epoch_streams(train_ids: torch.Tensor, batch_size: int, seq_len: int, epoch: int):
    """Cut the training ids into `batch_size` contiguous streams, read side by side.

    Each step reads the next `seq_len` tokens of every stream and the recurrent state carries
    over, so the model sees context far beyond one chunk. Each epoch starts the streams at a
    different offset so that chunk boundaries move.
    """
    offset = (epoch * 37) % seq_len
    length = steps_per_epoch(len(train_ids), batch_size, seq_len) * seq_len
    ids = train_ids[offset : offset + batch_size * length + 1]
    inputs = ids[:-1].view(batch_size, length)  # (batch, length)
    targets = ids[1:].view(batch_size, length)  # the next token of each input
    return inputs, targets


def resume_checkpoint(out: Path, identity: dict, device) -> dict:
    """The run's `last.pt`, refused (UserError) unless it matches `identity`. Call it before
    writing anything into the run folder, so a refused --resume leaves the run as it was."""
    return files.load_checkpoint(out / "last.pt", map_location=device, expect=identity)


def split_batch(rt, batch_size: int, grad_accum: int) -> list[slice]:
    """The rows of a `batch_size` batch this process trains on, as one slice per micro-batch:
    rank r of W takes the r-th W-th of the rows, cut into `grad_accum` micro-batches. The
    effective batch (what one optimizer step averages over) stays `batch_size` whatever W."""
    if batch_size % (rt.world * grad_accum):
        raise UserError(f"--batch-size {batch_size} must be a multiple of processes x --grad-accum "
                        f"({rt.world} x {grad_accum})")
    rows = batch_size // rt.world
    micro = rows // grad_accum
    return [slice(rt.rank * rows + m * micro, rt.rank * rows + (m + 1) * micro)
            for m in range(grad_accum)]


def fit(model, optimizer, train_ids: torch.Tensor, val_ids: torch.Tensor, cfg, out: Path,
        identity: dict, ckpt: dict | None, rt) -> dict:
    """Train until `cfg.max_steps` (or `cfg.time_budget` seconds of training), evaluating
    every `cfg.eval_interval` steps on the first `cfg.eval_tokens` validation tokens, keeping
    `best.pt` (lowest validation loss) and `last.pt` (for --resume). Ctrl-C saves `last.pt`
    and exits with status 130.

    `rt` is the shared.parallel runtime: under torchrun each process trains on its share of
    every batch's streams, DDP averages the gradients, and rank 0 alone writes checkpoints.
    `ckpt` (from `resume_checkpoint`) continues a run. Returns the history (losses per step
    and per evaluation) and the training time. With `cfg.tensorboard` rank 0 also writes the
    curves as TensorBoard event files into `out/tensorboard/` as it goes (shared.runtime.curves).
    """
    history = {"step": [], "train_loss": [], "val_step": [], "val_loss": []}
    parts = split_batch(rt, cfg.batch_size, cfg.grad_accum)
    step, states, best_val, train_seconds = 0, [None] * len(parts), math.inf, 0.0
    if ckpt is not None:
        model.load_state_dict(ckpt["model"])
        optimizer.load_state_dict(ckpt["optimizer"])
        step, best_val = ckpt["step"], ckpt["best_val"]
        history, train_seconds = ckpt["history"], ckpt["train_seconds"]
        saved = ckpt["states"]  # every process's micro-batch states, in rank order
        if len(saved) == rt.world and all(len(s) == len(parts) for s in saved):
            states = [detach_state(s) for s in saved[rt.rank]]
        elif rt.main:
            print("note: the number of processes or --grad-accum changed; the recurrent state "
                  "restarts at the next chunk")
        torch.set_rng_state(ckpt["rng"])
        if rt.main:
            print(f"resuming {out} at step {step}")
    elif (out / "last.pt").exists() and rt.main:
        print(f"note: starting afresh in {out} (pass --resume to continue the run there)")

    def save(path: Path, together: bool = True) -> None:
        # Every process's recurrent states, so that --resume continues each stream exactly;
        # `together=False` (Ctrl-C: the other processes are stopping too) keeps only this one's.
        mine = [detach_state(s) for s in states]
        everyone = rt.gather(mine) if together else [mine]
        if rt.main:
            files.save_checkpoint(path, {
                **identity, "model": model.state_dict(), "optimizer": optimizer.state_dict(),
                "step": step, "states": everyone, "best_val": best_val, "history": history,
                "train_seconds": train_seconds, "rng": torch.get_rng_state()})

    net = rt.prepare(model, cfg.compile)  # the module to train with; `model` to evaluate and save
    curves = event_writer(out, cfg.tensorboard, rt.main)  # live curves (no-op when off)
    chunks = steps_per_epoch(len(train_ids), cfg.batch_size, cfg.seq_len)
    tokens_per_step = cfg.batch_size * cfg.seq_len
    epoch, inputs, targets = -1, None, None
    model.train()
    bar = tqdm(total=None if cfg.time_budget else cfg.max_steps, initial=step,
               desc=f"train {cfg.model}", unit="step", dynamic_ncols=True,
               disable=None if rt.main else True)
    started = time.perf_counter()
    seconds = train_seconds  # training time; evaluations and checkpoints do not count
    try:
        while more_steps(step, seconds, cfg.max_steps, cfg.time_budget):
            if step // chunks != epoch:
                epoch = step // chunks
                inputs, targets = epoch_streams(train_ids, cfg.batch_size, cfg.seq_len, epoch)
            position = (step % chunks) * cfg.seq_len
            if position == 0:
                states = [None] * len(parts)  # a new epoch: the streams start over
            progress = budget_progress(seconds, cfg.time_budget)  # None: decay over the steps
            for group in optimizer.param_groups:
                group["lr"] = learning_rate(step, cfg.lr, cfg.warmup_steps, cfg.max_steps, progress)
            optimizer.zero_grad(set_to_none=True)
            share = 0.0  # this process's part of the batch's mean loss
            for m, rows in enumerate(parts):
                x = inputs[rows, position : position + cfg.seq_len].to(rt.device)  # (micro, seq_len)
                y = targets[rows, position : position + cfg.seq_len].to(rt.device)
                with rt.no_sync(net, last=m == len(parts) - 1):
                    with rt.autocast():
                        logits, state = net(x, states[m])  # (micro, seq_len, vocab)
                        # Summed, then divided by the whole batch's tokens (x the processes,
                        # whose gradients DDP averages): one process's gradient, to rounding.
                        loss = F.cross_entropy(logits.flatten(0, 1).float(), y.flatten(),
                                               reduction="sum") / tokens_per_step
                    rt.backward(loss * rt.world)
                states[m] = detach_state(state)
                share += loss.item()
            rt.step(optimizer, model.parameters(), cfg.grad_clip)
            step += 1
            seconds = rt.agree(train_seconds + time.perf_counter() - started)  # rank 0's clock
            batch_loss = rt.sum(share)
            history["step"].append(step)
            history["train_loss"].append(round(batch_loss, 5))
            curves.scalar("loss/train", batch_loss, step)
            curves.scalar("learning_rate", optimizer.param_groups[0]["lr"], step)
            bar.update(1)
            bar.set_postfix(loss=f"{batch_loss:.3f}",
                            best_val=f"{best_val:.3f}" if best_val < math.inf else "-")
            if step % cfg.eval_interval == 0 or not more_steps(step, seconds, cfg.max_steps,
                                                               cfg.time_budget):
                train_seconds = seconds  # the clock stops while evaluating and saving
                with rt.autocast():  # every process scores the same tokens: no messages needed
                    val_nats, val_n = evaluate(model, val_ids[: cfg.eval_tokens + 1],
                                               cfg.seq_len, rt.device)
                history["val_step"].append(step)
                history["val_loss"].append(round(val_nats / val_n, 5))
                curves.scalar("loss/val", val_nats / val_n, step)
                curves.scalar("bits_per_token/val", val_nats / val_n / math.log(2), step)
                if val_nats / val_n < best_val:
                    best_val = val_nats / val_n
                    save(out / "best.pt")
                save(out / "last.pt")
                if rt.main:
                    bar.write(f"step {step:5d} | train {batch_loss:.4f} | val "
                              f"{val_nats / val_n:.4f} nats/token | {train_seconds:.0f}s")
                started = time.perf_counter()
    except KeyboardInterrupt:
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
    return {"history": history, "train_seconds": train_seconds, "processes": rt.world,
            "dtype": str(rt.dtype).removeprefix("torch.")}


def finish(model, data: CharData, run: dict, cfg, out: Path, device, title: str) -> dict:
    """After `fit`, for a character model: score the best (validation-chosen) checkpoint on
    the whole validation text, then once on the test text, beside the uniform and
    counted-bigram baselines; write metrics.json, history.json, loss_curve.png and a sample.
    `cfg` needs seq_len, batch_size, eval_tokens, sample_length, temperature, seed and model."""
    vocab, train_ids = data.vocab, data.train_ids
    history, train_seconds = run["history"], run["train_seconds"]
    best = files.load_checkpoint(out / "best.pt", map_location=device)
    model.load_state_dict(best["model"])
    tokens_seen = history["step"][-1] * cfg.batch_size * cfg.seq_len if history["step"] else 0
    result = {}
    for split, ids in (("val", data.val_ids), ("test", data.test_ids)):
        nats = token_nats(model, ids, cfg.seq_len, device)
        bigram = metrics.bigram_baseline_token_nats(train_ids.numpy(), ids.numpy(), len(vocab))
        n = len(nats)
        result.update({
            **metrics.lm_metrics(float(nats.sum()), n, n, prefix=split),
            f"{split}_uniform_loss": metrics.uniform_loss(len(vocab)),
            f"{split}_uniform_bits_per_char": metrics.uniform_loss(len(vocab)) / metrics.LN2,
            f"{split}_bigram_counts_loss": float(bigram.sum()) / n,
            f"{split}_bigram_counts_bits_per_char": metrics.bits_per_char(float(bigram.sum()), n)})
        if split == "test":  # one character per token: token i starts at character i
            result.update(block_metrics(nats, range(n), n))
            result["test_bigram_counts_block_nats"] = block_metrics(bigram, range(n), n)["test_block_nats"]
    result.update({
        "test_text_sha256": data.test_sha256, "score_streams": SCORE_STREAMS,
        "best_step": best["step"], "steps": history["step"][-1] if history["step"] else 0,
        "params": devices.count_params(model), "vocab_size": len(vocab),
        "train_chars": len(train_ids), "train_seconds": round(train_seconds, 2),
        "tokens_per_second": round(tokens_seen / train_seconds, 1) if train_seconds else 0.0,
        "seed": cfg.seed, "model": cfg.model, "threads": torch.get_num_threads(),
        "processes": run.get("processes", 1), "dtype": run.get("dtype", "float32"),
    })
    files.write_json(out / "metrics.json", result)
    files.write_json(out / "history.json", history)
    draw_loss_curve(out, f"{title}: loss per character")
    prompt = CONTEXT if CONTEXT in vocab.index else vocab.chars[1]
    generator = torch.Generator().manual_seed(cfg.seed)
    sample = vocab.decode(generate(model, vocab.encode(prompt), cfg.sample_length,
                                   cfg.temperature, generator=generator, device=device, never=(0,)))
    (out / "sample.txt").write_text(sample + "\n", encoding="utf-8")
    print(f"\nval loss {result['val_loss']:.4f} nats/char = {result['val_bits_per_char']:.3f} "
          f"bits/char (best step {result['best_step']}) | test {result['test_bits_per_char']:.3f} "
          f"bits/char (uniform {result['test_uniform_bits_per_char']:.3f}, bigram counts "
          f"{result['test_bigram_counts_bits_per_char']:.3f}) | {train_seconds:.0f}s | "
          f"{result['tokens_per_second']:,.0f} chars/s")
    print(f"results in {out}\n--- sample (temperature {cfg.temperature}) ---\n{sample}")
    return result


def draw_loss_curve(run: Path, title: str) -> Path:
    """<run>/loss_curve.png from the files the run wrote (history.json, metrics.json,
    config.json), so that a report script redraws a committed run's figure without training it
    again. The training loss, the interval validation losses with the lowest ringed (best.pt),
    the best checkpoint's score on the whole validation text, and two levels a model must beat
    there: a uniform guess over the vocabulary (log V nats) and the counted baseline (bigram
    for characters, unigram for word tokens)."""
    history = files.read_json(run / "history.json")
    m = files.read_json(run / "metrics.json")
    config = files.read_json(run / "config.json")
    if "val_uniform_loss" in m:  # a character model (shared.lm.loop.finish, TinyLLM)
        unit = "character"
        levels = {f"uniform guess over {m['vocab_size']} characters": m["val_uniform_loss"],
                  "bigram (counts)": m["val_bigram_counts_loss"]}
    else:  # a word model (SmaLLM): nats per token, <unk> one token
        unit = "token"
        levels = {f"uniform guess over {m['vocab_size']:,} tokens": math.log(m["val_uniform_perplexity"]),
                  "unigram (counts)": math.log(m["val_unigram_counts_perplexity"])}
    return plotting.plot_loss_curves(
        history, run / "loss_curve.png", title=title, ylabel=f"loss (nats per {unit})",
        baselines=levels, val_label=f"validation (first {config['eval_tokens']:,} {unit}s)",
        points={"best checkpoint, whole validation": (m["best_step"], m["val_loss"])},
        mark_best=True)
