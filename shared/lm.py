"""The shared training loop of the word language model (stage 2) and the stage 4 mini-GPT, and
the one protocol that scores every language model. Stage 1 keeps the same loop written out in
TinyLLM/train.py, where a learner reads it; a test keeps the two equal to the last digit.

Both stages turn their text into a 1-D tensor of token ids (characters or words) and train a
model with the interface `logits, state = model(ids, state)` by truncated backpropagation
through time:

    ckpt = resume_checkpoint(out, identity, device) if resume else None
    run = fit(model, optimizer, train_ids, val_ids, cfg, out, identity, ckpt, device)

`cfg` is the stage's settings dataclass; it must have the fields used below (batch_size,
seq_len, lr, warmup_steps, max_steps, grad_clip, eval_interval, eval_tokens, model).
`identity` is what a checkpoint must match to be resumed (model config, vocabulary).

Scoring (`evaluate`, `token_nats`), the same for every model whatever its batch size:

* the scored text is read after one character of context, CONTEXT (a newline, as if a new
  speech began), so every character of it is predicted, by character and word models alike;
* it is cut into SCORE_STREAMS contiguous streams read side by side, each starting from an
  empty state after the token before it; the state (an RNN's hidden state, the mini-GPT's
  last block of text) is carried from chunk to chunk along each stream, so a model sees up to
  a whole stream of context and only SCORE_STREAMS predictions start cold; a word model's
  streams are cut at the same characters as a character model's (`aligned_starts`);
* the final scores (validation, then test once) use the checkpoint with the lowest validation
  loss; the test text's nats are also stored per BLOCK_CHARS-character block, for the paired
  block bootstrap of shared.metrics.
"""

from __future__ import annotations

import hashlib
import math
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import torch
from torch.nn import functional as F
from tqdm import tqdm

from shared import metrics, plotting, text
from shared.runtime import devices, files
from shared.runtime.errors import UserError
from shared.runtime.schedule import learning_rate

CONTEXT = "\n"  # read before every scored text; its own prediction is not scored
SCORE_STREAMS = 16  # streams a scored text is cut into, whatever the model's batch size
BLOCK_CHARS = 2_000  # characters per block of the stored test losses (the bootstrap's unit)


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


def stream_starts(n_targets: int, streams: int = SCORE_STREAMS) -> list[int]:
    """Where each of `streams` equal streams of `n_targets` scored tokens begins (fewer streams
    for a text of fewer tokens)."""
    if n_targets < 1:
        raise ValueError("nothing to score")
    streams = min(streams, n_targets)
    return [round(k * n_targets / streams) for k in range(streams)]


def aligned_starts(token_chars, n_chars: int, streams: int = SCORE_STREAMS) -> list[int]:
    """`stream_starts` for tokens of several characters: the streams are cut at the same
    characters as a character model's, each beginning at the first token that starts at or
    after its cut. `token_chars[i]` is the first character of scored token i (increasing)."""
    cuts = torch.tensor(stream_starts(n_chars, streams))
    first = torch.searchsorted(torch.as_tensor(token_chars, dtype=torch.long), cuts)
    return sorted({int(i) for i in first if i < len(token_chars)})


@torch.no_grad()
def token_nats(model, ids: torch.Tensor, seq_len: int, device,
               starts: list[int] | None = None) -> torch.Tensor:
    """Negative log-likelihood (nats, float64, on the CPU) of every token of `ids` after the
    first, in order: `ids[i + 1]` predicted from `ids[: i + 1]` as the protocol above allows.

    The targets are cut into streams beginning at `starts` (default: `stream_starts`), which
    are read side by side, `seq_len` tokens per call, with the state carried along each one;
    the streams are padded at their end to whole chunks and the padding is not scored."""
    n_targets = len(ids) - 1
    starts = stream_starts(n_targets) if starts is None else sorted(set(starts))
    if starts[0] != 0 or starts[-1] >= n_targets:
        raise ValueError("streams must start at 0 and inside the text")
    lengths = [end - start for start, end in zip(starts, [*starts[1:], n_targets], strict=True)]
    # Whole chunks: every call gets seq_len tokens, so what a row's model sees never depends on
    # where another row ends (the mini-GPT's windows: CodeLLM/gpt.py).
    width = -(-max(lengths) // seq_len) * seq_len
    inputs = torch.zeros(len(starts), width, dtype=torch.long)
    targets = torch.full((len(starts), width), -100, dtype=torch.long)  # -100: not scored
    for row, (start, length) in enumerate(zip(starts, lengths, strict=True)):
        inputs[row, :length] = ids[start : start + length]
        targets[row, :length] = ids[start + 1 : start + length + 1]
    inputs, targets = inputs.to(device), targets.to(device)
    nats = torch.zeros(len(starts), width, dtype=torch.float64)
    was_training, state = model.training, None
    model.eval()
    for pos in range(0, width, seq_len):
        logits, state = model(inputs[:, pos : pos + seq_len], state)  # (streams, chunk, vocab)
        chunk = targets[:, pos : pos + seq_len]
        nats[:, pos : pos + seq_len] = F.cross_entropy(
            logits.float().flatten(0, 1), chunk.flatten(), ignore_index=-100,
            reduction="none").view(chunk.shape).double().cpu()
    model.train(was_training)
    return torch.cat([nats[row, :length] for row, length in enumerate(lengths)])


def evaluate(model, ids: torch.Tensor, seq_len: int, device,
             starts: list[int] | None = None) -> tuple[float, int]:
    """Total negative log-likelihood (nats) of every token of `ids` after the first, and the
    number of those tokens (see `token_nats`)."""
    nats = token_nats(model, ids, seq_len, device, starts)
    return float(nats.sum()), len(nats)


def fingerprint(text_: str) -> str:
    """SHA-256 of a scored text: two runs can be paired only if theirs are equal."""
    return hashlib.sha256(text_.encode("utf-8")).hexdigest()


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


def resume_checkpoint(out: Path, identity: dict, device) -> dict:
    """The run's `last.pt`, refused (UserError) unless it matches `identity`. Call it before
    writing anything into the run folder, so a refused --resume leaves the run as it was."""
    return files.load_checkpoint(out / "last.pt", map_location=device, expect=identity)


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
    """Train until `cfg.max_steps`, evaluating every `cfg.eval_interval` steps on the first
    `cfg.eval_tokens` validation tokens, keeping `best.pt` (lowest validation loss) and
    `last.pt` (for --resume). Ctrl-C saves `last.pt` and exits with status 130.

    `rt` is the shared.parallel runtime: under torchrun each process trains on its share of
    every batch's streams, DDP averages the gradients, and rank 0 alone writes checkpoints.
    `ckpt` (from `resume_checkpoint`) continues a run. Returns the history (losses per step
    and per evaluation) and the training time.
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
    chunks = steps_per_epoch(len(train_ids), cfg.batch_size, cfg.seq_len)
    tokens_per_step = cfg.batch_size * cfg.seq_len
    epoch, inputs, targets = -1, None, None
    model.train()
    bar = tqdm(total=cfg.max_steps, initial=step, desc=f"train {cfg.model}", unit="step",
               dynamic_ncols=True, disable=None if rt.main else True)
    started = time.perf_counter()
    try:
        while step < cfg.max_steps:
            if step // chunks != epoch:
                epoch = step // chunks
                inputs, targets = epoch_streams(train_ids, cfg.batch_size, cfg.seq_len, epoch)
            position = (step % chunks) * cfg.seq_len
            if position == 0:
                states = [None] * len(parts)  # a new epoch: the streams start over
            for group in optimizer.param_groups:
                group["lr"] = learning_rate(step, cfg.lr, cfg.warmup_steps, cfg.max_steps)
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
            batch_loss = rt.sum(share)
            history["step"].append(step)
            history["train_loss"].append(round(batch_loss, 5))
            bar.update(1)
            bar.set_postfix(loss=f"{batch_loss:.3f}",
                            best_val=f"{best_val:.3f}" if best_val < math.inf else "-")
            if step % cfg.eval_interval == 0 or step == cfg.max_steps:
                with rt.autocast():  # every process scores the same tokens: no messages needed
                    val_nats, val_n = evaluate(model, val_ids[: cfg.eval_tokens + 1],
                                               cfg.seq_len, rt.device)
                history["val_step"].append(step)
                history["val_loss"].append(round(val_nats / val_n, 5))
                train_seconds += time.perf_counter() - started
                started = time.perf_counter()
                if val_nats / val_n < best_val:
                    best_val = val_nats / val_n
                    save(out / "best.pt")
                save(out / "last.pt")
                if rt.main:
                    bar.write(f"step {step:5d} | train {batch_loss:.4f} | val "
                              f"{val_nats / val_n:.4f} nats/token | {train_seconds:.0f}s")
    except KeyboardInterrupt:
        train_seconds += time.perf_counter() - started
        if rt.main:
            save(out / "last.pt", together=not rt.distributed)
            bar.close()
            print(f"\ninterrupted at step {step}; saved {out / 'last.pt'}. To continue, run the "
                  "same command again with --resume")
        sys.exit(130)
    bar.close()
    train_seconds += time.perf_counter() - started
    return {"history": history, "train_seconds": train_seconds, "processes": rt.world,
            "dtype": str(rt.dtype).removeprefix("torch.")}


def check_lengths(n_train: int, n_val: int, n_test: int, batch_size: int, seq_len: int,
                  unit: str) -> None:
    """One-line errors for a text too short for the chosen --batch-size and --seq-len.
    `n_val` and `n_test` count the scored tokens of the validation and test texts."""
    need = (batch_size + 1) * seq_len + 1
    if n_train < need:
        raise UserError(
            f"the text is too short: its {n_train + n_val + n_test} {unit} leave "
            f"{n_train} for training, fewer than the {need} that --batch-size "
            f"{batch_size} x --seq-len {seq_len} needs; "
            "use a longer text or smaller --seq-len/--batch-size")
    for name, n in (("validation", n_val), ("test", n_test)):
        if n < seq_len:
            raise UserError(
                f"the {name} text has {n} {unit}, fewer than --seq-len {seq_len}; use a longer "
                "text or a smaller --seq-len")


@dataclass
class CharData:
    """A character model's text as ids. `val_ids` and `test_ids` begin with CONTEXT, so that
    every character of the validation and test text is scored."""

    vocab: text.CharVocab
    train_ids: torch.Tensor
    val_ids: torch.Tensor
    test_ids: torch.Tensor
    test_sha256: str  # `fingerprint` of the test text


def block_metrics(nats: torch.Tensor | list[float], starts, n_chars: int, prefix: str = "test") -> dict:
    """`<prefix>_block_nats`: nats per BLOCK_CHARS characters, the first character of each
    token deciding its block (see metrics.block_sums), rounded to keep metrics.json small."""
    blocks = metrics.block_sums(nats, starts, n_chars, BLOCK_CHARS)
    return {f"{prefix}_block_nats": [round(x, 4) for x in blocks], f"{prefix}_block_chars": BLOCK_CHARS}


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
    plotting.plot_loss_curves(history, out / "loss_curve.png",
                              title=f"{title}: loss per character",
                              ylabel="loss (nats per character)",
                              baselines={"uniform": result["val_uniform_loss"],
                                         "bigram (counts)": result["val_bigram_counts_loss"]},
                              val_label=f"validation (first {cfg.eval_tokens:,} chars)",
                              points={"best checkpoint, whole validation":
                                      (result["best_step"], result["val_loss"])})
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
    vocab = text.CharVocab.from_saved(checkpoint["vocab"])
    prompt_ids = vocab.encode(prompt, strict=True)
    model = restore_model(checkpoint, build_model, device)
    generator = torch.Generator().manual_seed(args.seed)
    ids = generate(model, prompt_ids, args.length, args.temperature, args.top_k,
                   generator=generator, device=device, never=(0,))
    completion = prompt + vocab.decode(ids)
    print(completion)
    return completion


def character_data(cfg) -> CharData:
    """Stage 1's text as character ids: the corpus (or `cfg.data`) cut by shared.text into
    training, validation and test text, with a vocabulary read from the training text only.
    Checks the lengths that `cfg.batch_size` and `cfg.seq_len` need."""
    parts = text.splits(cfg.corpus, cfg.data)
    vocab = text.CharVocab.from_text(parts.train)
    data = CharData(vocab, torch.tensor(vocab.encode(parts.train), dtype=torch.long),
                    torch.tensor(vocab.encode(CONTEXT + parts.validation), dtype=torch.long),
                    torch.tensor(vocab.encode(CONTEXT + parts.test), dtype=torch.long),
                    fingerprint(parts.test))
    check_lengths(len(data.train_ids), len(data.val_ids) - 1, len(data.test_ids) - 1,
                  cfg.batch_size, cfg.seq_len, "characters")
    return data
