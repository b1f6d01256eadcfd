"""Train the encoder-decoder transformer of model.py on a toy task, then greedy-decode the
held-out test set and score whole sequences.

    python CodeLLM/seq2seq/train.py --task reverse        # reverse a sentence's words
    python CodeLLM/seq2seq/train.py --task number-words   # 245 -> "two hundred forty five"
    python CodeLLM/seq2seq/train.py --task reverse --smoke    # seconds: tiny model, every artifact
    python CodeLLM/seq2seq/train.py --report [--check]    # rewrite README.md's results section

Each default run takes a few minutes on a 2-core CPU. A run writes results/<run-name>/
(default seq2seq-<task>): config.json, metrics.json (test_exact_match, test_token_accuracy,
val_exact_match, params, train_seconds, ...), loss_curve.png, attention.png (cross-attention of
a few test examples), model.pt and tensorboard/ (live curves; --no-tensorboard skips them).
Exact match counts outputs right in every token (and in length); token accuracy counts target
tokens, <eos> included, predicted right at their position.
"""

from __future__ import annotations

import dataclasses
import math
import time
from pathlib import Path

import matplotlib
import torch
from torch.nn import functional as F

from config import SMOKE_OVERRIDES, Seq2SeqConfig
from data import TASKS, Split, TaskData, Vocab, make_data, show_source
from model import Seq2SeqTransformer

from shared import plotting
from shared.runtime import devices, files, parallel
from shared.runtime.config import parse_stage_args
from shared.runtime.curves import event_writer
from shared.runtime.errors import UserError, run_main
from shared.runtime.schedule import learning_rate

from tools import reporting

matplotlib.use("Agg")
import matplotlib.pyplot as plt

STAGE_DIR = Path(__file__).resolve().parent

PAGE = STAGE_DIR / "README.md"
SECTION = "seq2seq-results"


def sequence_loss(model, src: torch.Tensor, tgt: torch.Tensor) -> torch.Tensor:
    """Cross-entropy of each next target token given the true ones before it (padding ignored)."""
    logits = model(src, tgt[:, :-1])  # (batch, T - 1, vocab)
    return F.cross_entropy(logits.flatten(0, 1), tgt[:, 1:].flatten(), ignore_index=Vocab.PAD)


def trim(ids: torch.Tensor) -> torch.Tensor:
    """Drop the columns that are padding in every row: a batch of short sentences then costs
    what short sentences cost (the recurrent decoder steps through every column). Positions
    count from the start, so the result is the same."""
    used = int((ids != Vocab.PAD).any(0).nonzero().max()) + 1
    return ids[:, :used]


@torch.no_grad()
def evaluate(model, src: torch.Tensor, tgt: torch.Tensor, device, batch_size: int = 500) -> dict:
    """Teacher-forced loss, then greedy decoding scored against the targets: exact match and
    token accuracy. Also returns the predicted ids (N, T - 1), <pad> after <eos>."""
    model.eval()
    losses, predictions = [], []
    for i in range(0, len(src), batch_size):
        s, t = src[i : i + batch_size].to(device), tgt[i : i + batch_size].to(device)
        losses.append(sequence_loss(model, s, t).item() * len(s))
        ids, _ = model.greedy_decode(s)
        pad = t.shape[1] - 1 - ids.shape[1]  # decoding stops once every row has its <eos>
        predictions.append(F.pad(ids, (0, pad), value=Vocab.PAD).cpu())
    model.train()
    predicted, reference = torch.cat(predictions), tgt[:, 1:]  # both (N, T - 1)
    real = reference != Vocab.PAD  # the target's tokens and its <eos>
    return {"loss": sum(losses) / len(src),
            "exact_match": (predicted == reference).all(dim=1).float().mean().item(),
            "token_accuracy": ((predicted == reference) & real).sum().item() / real.sum().item(),
            "predicted": predicted}


def train(cfg: Seq2SeqConfig, data: TaskData, rt: parallel.Runtime, build=None, curves=None):
    """Train a fresh model with cfg's budget; keep the weights of the best validation pass.
    `build()` makes the model (default: the transformer of cfg; why_attention.py passes the
    recurrent ones), after the seed is set so that its weights follow cfg.seed. `curves` (a
    shared.runtime.curves writer) gets the losses as they come; why_attention.py's many inner
    runs pass none."""
    curves = curves or event_writer("", enabled=False)
    device = rt.device
    devices.seed_everything(cfg.seed)
    model = (build() if build else Seq2SeqTransformer(**cfg.model_config(data))).to(device)
    net = rt.prepare(model, cfg.compile)  # trains; `model` (the same weights) decodes
    optimizer = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    src, tgt = data.tensors(data.train)
    val_src, val_tgt = data.tensors(data.val)
    generator = torch.Generator().manual_seed(cfg.seed)
    order, position = torch.randperm(len(src), generator=generator), 0
    history = {"step": [], "train_loss": [], "val_step": [], "val_loss": [], "val_exact_match": []}
    best, running, started = None, [], time.perf_counter()
    log_every = max(1, cfg.eval_every // 10)  # the training curve, ten points per evaluation

    def loss_of(net, idx):  # a micro-batch's mean token loss, weighted by its examples
        s, t = trim(src[idx]), trim(tgt[idx])
        return sequence_loss(net, s.to(device), t.to(device)) * len(idx)
    for step in range(cfg.steps):
        if position + cfg.batch_size > len(order):  # a new epoch, in a new order
            order, position = torch.randperm(len(src), generator=generator), 0
        batch = order[position : position + cfg.batch_size]
        position += cfg.batch_size
        for group in optimizer.param_groups:  # warm-up: big first steps upset attention
            group["lr"] = learning_rate(step, cfg.lr, cfg.warmup_steps, cfg.steps)
        running.append(rt.train_step(net, model, optimizer, batch, loss_of, cfg.grad_clip,
                                     cfg.grad_accum))
        done = step + 1
        if done % log_every == 0 or done == cfg.steps:
            history["step"].append(done)
            history["train_loss"].append(sum(running) / len(running))  # mean since the last point
            curves.scalar("loss/train", history["train_loss"][-1], done)
            curves.scalar("learning_rate", optimizer.param_groups[0]["lr"], done)
            running = []
        if done % cfg.eval_every and done != cfg.steps:
            continue
        with rt.autocast():  # every process scores validation alike: they choose alike
            val = evaluate(model, val_src, val_tgt, device)
        history["val_step"].append(done)
        history["val_loss"].append(val["loss"])
        history["val_exact_match"].append(val["exact_match"])
        curves.scalar("loss/val", val["loss"], done)
        curves.scalar("exact_match/val", val["exact_match"], done)
        rt.print(f"step {done}/{cfg.steps}: loss {history['train_loss'][-1]:.4f}, val_loss "
                 f"{val['loss']:.4f}, val exact match {val['exact_match']:.1%}, "
                 f"{time.perf_counter() - started:.0f}s")
        # Model selection on validation only: the most exact matches, then the lower loss.
        score = (val["exact_match"], -val["loss"])
        if best is None or score > best[0]:
            state = {k: v.detach().clone() for k, v in model.state_dict().items()}
            best = (score, state, done)
    seconds = time.perf_counter() - started
    model.load_state_dict(best[1])
    return model.eval(), history, best[2], seconds


def pick_examples(split: Split, count: int = 3) -> list[int]:
    """The first test example of each of the `count` longest source lengths."""
    lengths = sorted({len(s) for s in split.sources}, reverse=True)[:count]
    return [next(i for i, s in enumerate(split.sources) if len(s) == n) for n in lengths]


def plot_attention(model, data: TaskData, src: torch.Tensor, indices: list[int], device,
                   path: Path, title: str) -> Path:
    """Cross-attention (mean over heads) of each decoder block, one row per example: source
    tokens across, the tokens the model wrote down."""
    ids, weights = model.greedy_decode(src[indices].to(device))
    blocks = len(weights)
    fig, axes = plt.subplots(len(indices), blocks, figsize=(3.8 * blocks + 1, 3.4 * len(indices)),
                             dpi=110, squeeze=False, layout="constrained")
    for row, i in enumerate(indices):
        xticks = [*data.test.sources[i], "<eos>"]
        written = data.target_vocab.decode(ids[row])
        yticks = [*written, "<eos>"][: ids.shape[1]]
        wrong = "" if written == data.test.targets[i] else " (wrong)"
        for block in range(blocks):
            matrix = weights[block][row].mean(0)[: len(yticks), : len(xticks)].cpu().numpy()
            ax = axes[row, block]
            image = ax.imshow(matrix, aspect="auto", cmap="viridis", vmin=0, vmax=1,
                              interpolation="nearest")
            ax.set_xticks(range(len(xticks)), xticks, rotation=60, fontsize=7)
            ax.set_yticks(range(len(yticks)), yticks, fontsize=7)
            ax.set_title(f"{show_source(data.task, data.test.sources[i])}{wrong}: "
                         f"decoder block {block + 1}", fontsize=8)
            ax.set_xlabel("source token", fontsize=8)
            ax.set_ylabel("output token", fontsize=8)
    fig.colorbar(image, ax=axes, shrink=0.6, label="cross-attention weight (mean over heads)")
    fig.suptitle(title)
    fig.savefig(path)
    plt.close(fig)
    return path


def draw_loss_curve(metrics: dict, outputs: int, path: Path) -> Path:
    """loss_curve.png from a run's metrics.json (which holds its history), so that --report
    redraws the reference runs' figures without training: the losses, the checkpoint validation
    chose (most exact matches, then the lower loss) ringed, and a uniform guess over the
    decoder's `outputs` tokens (log of their number, in nats) for scale."""
    return plotting.plot_loss_curves(
        metrics["history"], path, title=f"seq2seq {metrics['task']}",
        ylabel="cross-entropy (nats per token)",
        baselines={f"uniform guess over {outputs} output tokens": math.log(outputs)},
        best_step=metrics["best_step"], best_label="chosen checkpoint")


def examples(data: TaskData, predicted: torch.Tensor, shown: int = 6, wrong: int = 3) -> list[dict]:
    """The first `shown` test examples, then up to `wrong` mistakes from the rest."""
    rows = []
    for i, (source, target) in enumerate(zip(data.test.sources, data.test.targets, strict=True)):
        prediction = data.target_vocab.decode(predicted[i])
        if i < shown or (prediction != target and sum(not r["correct"] for r in rows) < wrong):
            rows.append({"source": show_source(data.task, source), "target": " ".join(target),
                         "prediction": " ".join(prediction), "correct": prediction == target})
    return rows


def results_section(results_dir: str | Path) -> str:
    """The Markdown between README.md's markers, from the reference runs' files."""
    results_dir = Path(results_dir)
    runs = {}
    for task in TASKS:
        run = results_dir / f"reference-seq2seq-{task}"
        if not (run / "metrics.json").is_file():
            raise UserError(f"no reference run in {run}; train it first with `python "
                            f"CodeLLM/seq2seq/train.py --task {task} --run-name {run.name}`")
        runs[task] = (files.read_json(run / "metrics.json"), files.read_json(run / "config.json"))
    results = reporting.markdown_table(
        ["task", "params", "train seconds", "test exact match", "test token accuracy", "test size"],
        [[task, m["params"], f"{m['train_seconds']:.0f}", f"{m['test_exact_match']:.2%}",
          f"{m['test_token_accuracy']:.2%}", m["test_size"]] for task, (m, _) in runs.items()])
    settings = reporting.markdown_table(
        ["task", "train / val / test examples", "d_model, heads", "encoder / decoder blocks",
         "steps x batch", "peak lr", "best step (validation)"],
        [[task, f"{m['train_size']:,} / {m['val_size']:,} / {m['test_size']:,}",
          f"{c['d_model']}, {c['heads']}", f"{c['encoder_layers']} / {c['decoder_layers']}",
          f"{m['steps']:,} x {c['batch_size']}", f"{c['lr']:g}", f"{m['best_step']:,}"]
         for task, (m, c) in runs.items()])
    threads = ", ".join(sorted({str(m.get("threads", "?")) for m, _ in runs.values()}))
    lines = [results, "", f"Train seconds include the validation passes; CPU threads: {threads}.",
             "", "Settings of the reference runs (their config.json):", "", settings, "",
             "The first held-out test examples of each run (x marks a wrong output):", "", "```"]
    for task, (m, _) in runs.items():
        for e in m["examples"]:
            mark = "  " if e["correct"] else "x "
            lines.append(f"{mark}{task:12} {e['source']:45} -> {e['prediction']}")
    lines.append("```")
    return "\n".join(lines)


def report(check: bool = False, results_dir: Path = STAGE_DIR / "results", page: Path = PAGE) -> int:
    """Rewrite the page's generated sections, this script's and why_attention.py's (so that
    `make docs`, which runs this one, refreshes both), or with `check`, exit status 1 if stale."""
    import why_attention  # here, not at the top: it imports this module

    if not check:  # the figures follow the code, like the text: no training needed
        for task in TASKS:
            run = results_dir / f"reference-seq2seq-{task}"
            if (run / "metrics.json").is_file():
                # The task fixes the target vocabulary, whatever the number of examples.
                outputs = len(make_data(task, 1, 1, 1).target_vocab)
                draw_loss_curve(files.read_json(run / "metrics.json"), outputs, run / "loss_curve.png")
    sections = {SECTION: results_section(results_dir)}
    if f"<!-- begin: {why_attention.SECTION} -->" in Path(page).read_text(encoding="utf-8"):
        sections[why_attention.SECTION] = why_attention.section(results_dir)
    return reporting.write_sections(page, sections, check=check)


def main(argv=None) -> dict | int:
    return reporting.report_or_run(argv, report, run)  # --report, or train with the other flags


def run(argv) -> dict:
    description = (__doc__.split("\n\n")[0] + " Also: --report rewrites README.md's results "
                   "section from the reference runs; --report --check exits 1 if it is stale.")
    cfg, args = parse_stage_args(Seq2SeqConfig, description, SMOKE_OVERRIDES, argv, resumable=False)
    if cfg.d_model % cfg.heads:
        raise UserError(f"--d-model {cfg.d_model} must be a multiple of --heads {cfg.heads}")
    if cfg.pos_encoding == "sinusoidal" and cfg.d_model % 2:
        raise UserError(f"--d-model {cfg.d_model} must be even for sinusoidal positions")
    for name in ("steps", "batch_size", "eval_every", "warmup_steps", "encoder_layers",
                 "decoder_layers"):
        if getattr(cfg, name) < 1:
            raise UserError(f"--{name.replace('_', '-')} must be at least 1")
    data = make_data(cfg.task, cfg.train_size, cfg.val_size, cfg.test_size, cfg.data_seed,
                     cfg.min_words, cfg.max_words)
    if cfg.batch_size > len(data.train):
        raise UserError(f"--batch-size {cfg.batch_size} is larger than --train-size "
                        f"{len(data.train)}")
    rt = parallel.setup(cfg)  # this process (alone, or one of torchrun's), device, precision
    device, threads = rt.device, rt.threads
    if cfg.batch_size < rt.world * cfg.grad_accum:
        raise UserError(f"--batch-size {cfg.batch_size} is smaller than processes x --grad-accum "
                        f"({rt.world} x {cfg.grad_accum})")
    out = files.run_dir(cfg.out_dir, cfg.run_name)
    if rt.main:
        files.write_json(out / "config.json", {**dataclasses.asdict(cfg), "smoke": args.smoke})
    rt.print(f"{cfg.task}: {len(data.train):,} train / {len(data.val):,} val / {len(data.test):,} "
             f"test examples, {cfg.steps:,} steps on {rt.describe()}")

    curves = event_writer(out, cfg.tensorboard, rt.main)  # live curves in <run>/tensorboard/
    model, history, best_step, seconds = train(cfg, data, rt, curves=curves)
    curves.close()
    rt.close()  # the processes part here: rank 0 alone scores, plots and writes the results
    if not rt.main:
        return {}
    # The test split, read once, after the model is chosen.
    test_src, test_tgt = data.tensors(data.test)
    test = evaluate(model, test_src, test_tgt, device)
    val = evaluate(model, *data.tensors(data.val), device)
    shown = examples(data, test["predicted"])
    for e in shown:
        mark = "  " if e["correct"] else "x "
        print(f"{mark}{e['source']} -> {e['prediction']}"
              + ("" if e["correct"] else f"   (right: {e['target']})"))
    metrics = {"task": cfg.task, "params": devices.count_params(model), "steps": cfg.steps,
               "best_step": best_step, "train_seconds": round(seconds, 1), "seed": cfg.seed,
               "threads": threads,
               "train_size": len(data.train), "val_size": len(data.val), "test_size": len(data.test),
               "val_loss": val["loss"], "val_exact_match": val["exact_match"],
               "val_token_accuracy": val["token_accuracy"], "test_loss": test["loss"],
               "test_exact_match": test["exact_match"],
               "test_token_accuracy": test["token_accuracy"], "examples": shown,
               "history": history}
    print(f"test: exact match {test['exact_match']:.2%}, token accuracy "
          f"{test['token_accuracy']:.2%} ({len(data.test):,} held-out examples); "
          f"{metrics['params']:,} params, trained in {seconds:.0f}s")

    draw_loss_curve(metrics, len(data.target_vocab), out / "loss_curve.png")
    plot_attention(model, data, test_src, pick_examples(data.test), device, out / "attention.png",
                   f"{cfg.task}: cross-attention on held-out test examples")
    files.save_checkpoint(out / "model.pt", {
        "model_state": model.state_dict(), "model_config": cfg.model_config(data),
        "source_vocab": data.source_vocab.itos, "target_vocab": data.target_vocab.itos,
        "task": cfg.task, "step": best_step})
    files.write_json(out / "metrics.json", metrics)
    print(f"wrote {out}")
    return metrics


if __name__ == "__main__":
    run_main(main)
