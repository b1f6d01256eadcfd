"""Why attention: GRU encoder-decoders without attention, with additive (Bahdanau) and with
multiplicative (Luong) attention, and the transformer, trained with one budget on three toy
tasks (reverse, number-words, translate), on short sources, then tested on every length up to
longer ones.

    python CodeLLM/seq2seq/why_attention.py            # the default experiment (minutes, 2 cores)
    python CodeLLM/seq2seq/why_attention.py --smoke    # seconds: tiny models, every artifact
    python CodeLLM/seq2seq/why_attention.py --report   # rewrite README.md's "why attention" section
    python CodeLLM/seq2seq/why_attention.py --help     # every setting, with its default

A run writes results/<run-name>/ (default why-attention): config.json, metrics.json (every
run's exact match by source length, chrF for the translator, and the summary over seeds),
exact_match_by_length.png and attention.png (the recurrent models' attention beside the
transformer's cross-attention, on one long test source per task). The reference run is
results/reference-why-attention (`--run-name reference-why-attention`), the one README.md shows.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import multiprocessing
import time
from dataclasses import dataclass
from pathlib import Path

import matplotlib
import numpy as np
import sacrebleu
import torch
from recurrent import RecurrentSeq2Seq

from config import Seq2SeqConfig
from data import LENGTH_TASKS, TaskData, length_range, make_length_data
from model import Seq2SeqTransformer
from train import evaluate, train

from shared.runtime import devices, files, parallel
from shared.runtime.config import opt, parse_stage_args
from shared.runtime.errors import UserError, run_main

from tools import reporting

matplotlib.use("Agg")
import matplotlib.pyplot as plt

STAGE_DIR = Path(__file__).resolve().parent
PAGE = STAGE_DIR / "README.md"
SECTION = "why-attention"
REFERENCE = "reference-why-attention"
MODELS = {"gru": "GRU, no attention", "bahdanau": "GRU + additive (Bahdanau)",
          "luong": "GRU + multiplicative (Luong)", "transformer": "transformer"}
COLORS = {"gru": "tab:gray", "bahdanau": "tab:blue", "luong": "tab:green", "transformer": "tab:red"}


@dataclass
class WhyAttentionConfig:
    tasks: str = opt(",".join(LENGTH_TASKS), "comma-separated tasks to run")
    models: str = opt(",".join(MODELS), "comma-separated models: " + ", ".join(MODELS))
    seeds: int = opt(2, "training seeds per task and model (the spread is the interval shown)")
    # lengths: training sees sources up to the first, the test every length up to the second
    reverse_train_words: int = opt(8, "reverse: longest training sentence, in words")
    reverse_test_words: int = opt(11, "reverse: longest test sentence")
    number_train_digits: int = opt(5, "number-words: most digits in training")
    number_test_digits: int = opt(6, "number-words: most digits in the test (at most 6)")
    translate_train_words: int = opt(9, "translate: longest training sentence (5..14)")
    translate_test_words: int = opt(14, "translate: longest test sentence (at most 14)")
    train_size: int = opt(20_000, "distinct training sources per task")
    val_size: int = opt(500, "validation sources (training lengths; they pick the checkpoint)")
    test_per_length: int = opt(200, "test sources at each length (fewer where fewer exist)")
    data_seed: int = opt(0, "seed of the generated data")
    # one budget for every model
    d_model: int = opt(64, "embedding width, the GRUs' hidden size and the transformer's d_model")
    heads: int = opt(4, "transformer: attention heads")
    layers: int = opt(2, "transformer: encoder blocks and decoder blocks (each)")
    ff_size: int = opt(128, "transformer: feed-forward width")
    steps: int = opt(1_500, "optimizer steps, every model")
    batch_size: int = opt(64, "examples per step, every model")
    lr: float = opt(1e-3, "transformer: peak AdamW learning rate (warm-up, cosine decay)")
    rnn_lr: float = opt(3e-3, "GRUs: peak learning rate (same schedule)")
    eval_every: int = opt(500, "steps between validation passes (the best one is kept)")
    workers: int = opt(2, "runs trained at once, one process and one thread each")
    out_dir: str = opt(str(STAGE_DIR / "results"), "folder that holds one sub-folder per run", metavar="DIR")
    run_name: str | None = opt(None, "sub-folder of --out-dir (default: why-attention)")

    @property
    def model(self) -> str:  # parse_stage_args names default runs after it
        return "why-attention"

    def lengths(self, task: str) -> tuple[int, int]:
        return {"reverse": (self.reverse_train_words, self.reverse_test_words),
                "number-words": (self.number_train_digits, self.number_test_digits),
                "translate": (self.translate_train_words, self.translate_test_words)}[task]

    def task_list(self) -> list[str]:
        return _names(self.tasks, LENGTH_TASKS, "--tasks")

    def model_list(self) -> list[str]:
        return _names(self.models, MODELS, "--models")


SMOKE_OVERRIDES = dict(seeds=1, train_size=300, val_size=30, test_per_length=5, d_model=16,
                       heads=2, layers=1, ff_size=32, steps=40, batch_size=32, eval_every=20)


def _names(text: str, known, flag: str) -> list[str]:
    names = [n.strip() for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n not in known]
    if unknown or not names:
        raise UserError(f"{flag} {text!r}: choose from {', '.join(known)}")
    return names


def check(cfg: WhyAttentionConfig) -> None:
    """Every mistake a user can make, before any data is drawn or any model trained."""
    tasks, _ = cfg.task_list(), cfg.model_list()
    for task in tasks:
        train_len, test_len = cfg.lengths(task)
        if train_len > test_len:
            raise UserError(f"{task}: the training length {train_len} is longer than the test "
                            f"length {test_len}; make the test reach at least as far")
        shortest, longest = length_range(task)
        if not (shortest <= train_len and test_len <= longest):
            raise UserError(f"{task}: lengths must lie in {shortest}..{longest} tokens, got "
                            f"training {train_len} and test {test_len}")
    for name in ("seeds", "steps", "batch_size", "eval_every", "workers", "layers"):
        if getattr(cfg, name) < 1:
            raise UserError(f"--{name.replace('_', '-')} must be at least 1")
    if cfg.d_model % cfg.heads or cfg.d_model % 2:
        raise UserError(f"--d-model {cfg.d_model} must be even and a multiple of --heads {cfg.heads}")
    if cfg.batch_size > cfg.train_size:
        raise UserError(f"--batch-size {cfg.batch_size} is larger than --train-size {cfg.train_size}")


def build(cfg: WhyAttentionConfig, data: TaskData, name: str):
    if name == "transformer":
        return Seq2SeqTransformer(**transformer_config(cfg).model_config(data))
    return RecurrentSeq2Seq(len(data.source_vocab), len(data.target_vocab), data.max_target_len,
                            d_model=cfg.d_model, hidden_size=cfg.d_model,
                            attention="none" if name == "gru" else name)


def transformer_config(cfg: WhyAttentionConfig, name: str = "transformer", seed: int = 0) -> Seq2SeqConfig:
    """train.py's settings for one run: the shared budget, the model's learning rate."""
    return Seq2SeqConfig(d_model=cfg.d_model, heads=cfg.heads, encoder_layers=cfg.layers,
                         decoder_layers=cfg.layers, ff_size=cfg.ff_size, steps=cfg.steps,
                         batch_size=cfg.batch_size, lr=cfg.lr if name == "transformer" else cfg.rnn_lr,
                         warmup_steps=max(1, cfg.steps // 10), eval_every=cfg.eval_every,
                         seed=seed, threads=1, device="cpu")


_DATA: dict[str, TaskData] = {}  # drawn once in the parent; the forked workers read it


def run_one(cfg: WhyAttentionConfig, task: str, name: str, seed: int) -> dict:
    """Train one model on one task with one seed; score the test set by source length."""
    data = _DATA[task]
    settings = transformer_config(cfg, name, seed)
    rt = parallel.Runtime(device=torch.device("cpu"), threads=devices.set_threads(1))
    model, _, best_step, seconds = train(settings, data, rt, build=lambda: build(cfg, data, name))
    src, tgt = data.tensors(data.test)
    test = evaluate(model, src, tgt, rt.device)
    right = (test["predicted"] == tgt[:, 1:]).all(dim=1).numpy()
    lengths = np.array([len(s) for s in data.test.sources])
    by_length = {int(n): float(right[lengths == n].mean()) for n in sorted(set(lengths))}
    train_len = cfg.lengths(task)[0]
    written = [" ".join(data.target_vocab.decode(p)) for p in test["predicted"]]
    wanted = [" ".join(t) for t in data.test.targets]
    beyond = lengths > train_len
    result = {"task": task, "model": name, "seed": seed, "params": devices.count_params(model),
              "train_seconds": round(seconds, 1), "best_step": best_step,
              "exact_match_by_length": by_length,
              "exact_match_seen": float(right[~beyond].mean()),
              "exact_match_longer": float(right[beyond].mean()) if beyond.any() else None,
              "token_accuracy": test["token_accuracy"]}
    if task == "translate":  # chrF: partial credit by character n-grams, the usual MT score
        result["chrf_seen"] = _chrf(written, wanted, ~beyond)
        result["chrf_longer"] = _chrf(written, wanted, beyond) if beyond.any() else None
    if seed == 0 and name != "gru":
        result["attention"] = attention_example(model, data, train_len + 1)
    return result


def _chrf(written: list[str], wanted: list[str], keep: np.ndarray) -> float:
    hyps = [w for w, k in zip(written, keep, strict=True) if k]
    refs = [w for w, k in zip(wanted, keep, strict=True) if k]
    return sacrebleu.corpus_chrf(hyps, [refs]).score


def attention_example(model, data: TaskData, length: int) -> dict:
    """Where the model looks while it decodes the first test source of `length` tokens (one
    more than any in training; the longest if the test stops sooner): the recurrent model's one
    map, the transformer's last decoder block averaged over heads."""
    longest = min(length, max(len(s) for s in data.test.sources))
    i = next(i for i, s in enumerate(data.test.sources) if len(s) == longest)
    src, _ = data.tensors(data.test)
    ids, weights = model.greedy_decode(src[i : i + 1])
    written = data.target_vocab.decode(ids[0])
    rows = len(written) + 1  # the words and <eos>
    matrix = weights[-1][0].mean(0)[:rows, : longest + 1]
    return {"source": [*data.test.sources[i], "<eos>"], "written": [*written, "<eos>"][: ids.shape[1]],
            "right": written == data.test.targets[i], "weights": matrix.tolist()}


def summarise(runs: list[dict], key: str, task: str, name: str) -> dict | None:
    values = [r[key] for r in runs if r["task"] == task and r["model"] == name and r.get(key) is not None]
    if not values:
        return None
    return {"mean": float(np.mean(values)), "min": float(min(values)), "max": float(max(values)),
            "n": len(values)}


def summary(runs: list[dict], cfg: WhyAttentionConfig) -> dict:
    out = {}
    for task in cfg.task_list():
        out[task] = {}
        for name in cfg.model_list():
            mine = [r for r in runs if r["task"] == task and r["model"] == name]
            lengths = sorted({int(n) for r in mine for n in r["exact_match_by_length"]})
            out[task][name] = {
                key: summarise(runs, key, task, name)
                for key in ("exact_match_seen", "exact_match_longer", "chrf_seen", "chrf_longer",
                            "train_seconds", "token_accuracy")}
            out[task][name]["params"] = mine[0]["params"]
            out[task][name]["by_length"] = {
                n: [r["exact_match_by_length"][n] for r in mine] for n in lengths}
    return out


def plot_by_length(summ: dict, cfg: WhyAttentionConfig, path: Path) -> Path:
    tasks = list(summ)
    fig, axes = plt.subplots(1, len(tasks), figsize=(4.6 * len(tasks), 3.8), dpi=110,
                             squeeze=False, layout="constrained")
    for ax, task in zip(axes[0], tasks, strict=True):
        for name, s in summ[task].items():
            n = sorted(s["by_length"])
            values = np.array([s["by_length"][k] for k in n])  # (lengths, seeds)
            ax.plot(n, values.mean(1), marker="o", ms=3, color=COLORS[name], label=MODELS[name])
            ax.fill_between(n, values.min(1), values.max(1), color=COLORS[name], alpha=0.18)
        ax.axvline(cfg.lengths(task)[0] + 0.5, color="black", ls="--", lw=0.8)
        ax.text(cfg.lengths(task)[0] + 0.6, 0.5, "longer than\nany in training", fontsize=7)
        unit = "digits" if task == "number-words" else "words"
        ax.set(title=task, xlabel=f"source length ({unit})", ylabel="test exact match", ylim=(-0.03, 1.03))
        ax.grid(alpha=0.3)
    axes[0, 0].legend(fontsize=7, loc="lower left")
    fig.suptitle(f"Exact match by source length (mean of {cfg.seeds} seeds, band: min to max)")
    fig.savefig(path)
    plt.close(fig)
    return path


def plot_attention(examples: dict, path: Path) -> Path:
    """Rows: tasks; columns: the models with attention."""
    tasks = list(examples)
    names = [n for n in ("bahdanau", "luong", "transformer") if any(n in examples[t] for t in tasks)]
    fig, axes = plt.subplots(len(tasks), len(names), figsize=(4.2 * len(names) + 1, 3.9 * len(tasks)),
                             dpi=110, squeeze=False, layout="constrained")
    image = None
    for row, task in enumerate(tasks):
        for col, name in enumerate(names):
            ax, e = axes[row, col], examples[task].get(name)
            if e is None:
                ax.axis("off")
                continue
            matrix = np.array(e["weights"])
            image = ax.imshow(matrix, aspect="auto", cmap="viridis", vmin=0, vmax=1, interpolation="nearest")
            ax.set_xticks(range(len(e["source"])), e["source"], rotation=70, fontsize=6)
            ax.set_yticks(range(len(e["written"][: len(matrix)])), e["written"][: len(matrix)], fontsize=6)
            where = "cross-attention, last block" if name == "transformer" else "attention"
            ax.set_title(f"{task}: {MODELS[name]}\n{where}{'' if e['right'] else ' (output wrong)'}",
                         fontsize=8)
    if image is not None:
        fig.colorbar(image, ax=axes, shrink=0.5, label="attention weight")
    fig.suptitle("Where each output word looks in a test source one word (digit) longer than any "
                 "in training")
    fig.savefig(path)
    plt.close(fig)
    return path


def _jobs(cfg: WhyAttentionConfig) -> list[tuple[str, str, int]]:
    # The slowest first (the transformer, the translator's long targets), so that two workers
    # finish together.
    cost = {"transformer": 3, "bahdanau": 2, "luong": 1, "gru": 0}
    jobs = [(t, m, s) for t in cfg.task_list() for m in cfg.model_list() for s in range(cfg.seeds)]
    return sorted(jobs, key=lambda j: (-cost[j[1]], j[0] != "translate"))


def experiment(cfg: WhyAttentionConfig, smoke: bool = False) -> dict:
    check(cfg)
    started = time.perf_counter()
    for task in cfg.task_list():
        train_len, test_len = cfg.lengths(task)
        _DATA[task] = make_length_data(task, train_len, test_len, cfg.train_size, cfg.val_size,
                                       cfg.test_per_length, cfg.data_seed)
    out = files.run_dir(cfg.out_dir, cfg.run_name)
    files.write_json(out / "config.json", {**dataclasses.asdict(cfg), "smoke": smoke})
    jobs = _jobs(cfg)
    print(f"{len(jobs)} runs ({len(cfg.task_list())} tasks x {len(cfg.model_list())} models x "
          f"{cfg.seeds} seeds), {cfg.steps:,} steps x {cfg.batch_size} each, {cfg.workers} at once",
          flush=True)
    runs = []
    # fork: the workers inherit the drawn data and the imported modules.
    context = multiprocessing.get_context("fork")
    with concurrent.futures.ProcessPoolExecutor(cfg.workers, mp_context=context) as pool:
        futures = [pool.submit(run_one, cfg, *job) for job in jobs]
        for future in concurrent.futures.as_completed(futures):
            r = future.result()
            runs.append(r)
            longer = r["exact_match_longer"]
            print(f"{r['task']:12} {r['model']:11} seed {r['seed']}: exact match {r['exact_match_seen']:.1%} "
                  f"at training lengths, {'-' if longer is None else f'{longer:.1%}'} longer; "
                  f"{r['train_seconds']:.0f}s ({len(runs)}/{len(jobs)}, "
                  f"{time.perf_counter() - started:.0f}s)", flush=True)
    runs.sort(key=lambda r: (cfg.task_list().index(r["task"]), cfg.model_list().index(r["model"]), r["seed"]))
    examples = {t: {r["model"]: r.pop("attention") for r in runs if r["task"] == t and "attention" in r}
                for t in cfg.task_list()}
    summ = summary(runs, cfg)
    plot_by_length(summ, cfg, out / "exact_match_by_length.png")
    plot_attention(examples, out / "attention.png")
    wall = time.perf_counter() - started
    data_sizes = {t: {"train": len(d.train), "val": len(d.val), "test": len(d.test),
                      "lengths": list(cfg.lengths(t))} for t, d in _DATA.items()}
    metrics = {"wall_seconds": round(wall, 1), "cpu_count": _cpus(), "data": data_sizes,
               "summary": summ, "runs": runs, "attention_examples": examples}
    files.write_json(out / "metrics.json", metrics)
    for line in conclusions(metrics):
        print(line)
    print(f"wrote {out} in {wall:.0f}s")
    return metrics


def _cpus() -> int:
    import os
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()


# --- the README section, from metrics.json ---------------------------------------------------

def _interval(s: dict | None, scale: float = 100.0, unit: str = "%") -> str:
    if s is None:
        return "-"
    if s["n"] == 1:
        return f"{s['mean'] * scale:.1f}{unit}"
    return f"{s['mean'] * scale:.1f}{unit} [{s['min'] * scale:.1f}, {s['max'] * scale:.1f}]"


def _ordered(summ: dict) -> dict:
    """Tasks and models in the order of LENGTH_TASKS and MODELS (the JSON file sorts its keys)."""
    return {t: {n: summ[t][n] for n in MODELS if n in summ[t]} for t in LENGTH_TASKS if t in summ}


def conclusions(metrics: dict) -> list[str]:
    """Sentences derived from the numbers: per task, the attention models against the
    bottleneck beyond the training lengths, and whether the seeds' ranges overlap."""
    lines = []
    for task, models in _ordered(metrics["summary"]).items():
        if "gru" not in models:
            continue
        base = models["gru"]["exact_match_longer"]
        base_seen = models["gru"]["exact_match_seen"]
        if base is None:
            lines.append(f"- {task}: no test length beyond training, so no length comparison.")
            continue
        if all(m["exact_match_longer"]["max"] == 0 for m in models.values()):
            lines.append(f"- **{task}**: no model gets a single source longer than the training "
                         f"ones right, with or without attention; at the training lengths they "
                         f"get " + ", ".join(f"{MODELS[n]} {m['exact_match_seen']['mean']:.1%}"
                                             for n, m in models.items()) + ".")
            continue
        others = {n: m["exact_match_longer"] for n, m in models.items() if n != "gru"}
        if not others:
            continue
        best = max(others, key=lambda n: others[n]["mean"])
        gap = (others[best]["mean"] - base["mean"]) * 100
        apart = others[best]["min"] > base["max"]
        verdict = ("clearly ahead (every seed above every no-attention seed)" if apart and gap > 0
                   else "ahead, but the seeds' ranges overlap" if gap > 0 else "not ahead")
        seen_gap = (models[best]["exact_match_seen"]["mean"] - base_seen["mean"]) * 100
        lines.append(
            f"- **{task}**: beyond the training lengths the best attention model, {MODELS[best]}, "
            f"gets {others[best]['mean']:.1%} exact match against {base['mean']:.1%} for the GRU "
            f"without attention ({gap:+.1f} points: {verdict}); at the training lengths the gap is "
            f"{seen_gap:+.1f} points.")
        recurrent = [n for n in ("bahdanau", "luong") if n in others]
        if "transformer" in others and recurrent:
            r = max(recurrent, key=lambda n: others[n]["mean"])
            t = others["transformer"]["mean"]
            side = ("the same as" if abs(t - others[r]["mean"]) < 5e-4
                    else "above" if t > others[r]["mean"] else "below")
            lines.append(f"  The transformer gets {t:.1%} there, {side} the better recurrent "
                         f"attention model ({MODELS[r]}, {others[r]['mean']:.1%}).")
    return lines


def section(results_dir: Path = STAGE_DIR / "results") -> str:
    run = Path(results_dir) / REFERENCE
    if not (run / "metrics.json").is_file():
        raise UserError(f"no reference run in {run}; make it with `python "
                        f"CodeLLM/seq2seq/why_attention.py --run-name {REFERENCE}`")
    m, c = files.read_json(run / "metrics.json"), files.read_json(run / "config.json")
    rows = []
    for task, models in _ordered(m["summary"]).items():
        for name, s in models.items():
            chrf = ("-" if s.get("chrf_seen") is None else
                    f"{_interval(s['chrf_seen'], 1, '')} / {_interval(s['chrf_longer'], 1, '')}")
            rows.append([task, MODELS[name], s["params"], f"{s['train_seconds']['mean']:.0f}",
                         _interval(s["exact_match_seen"]), _interval(s["exact_match_longer"]), chrf])
    table = reporting.markdown_table(
        ["task", "model", "params", "train s", "exact match, training lengths",
         "exact match, longer", "chrF, training lengths / longer"], rows)
    sizes = "; ".join(f"{t}: train up to {d['lengths'][0]}, test up to {d['lengths'][1]} "
                      f"({d['train']:,} / {d['val']:,} / {d['test']:,} train / val / test)"
                      for t in LENGTH_TASKS if (d := m["data"].get(t)))
    return "\n".join([
        f"{c['seeds']} seeds per model and task; each cell is the mean over seeds, with the lowest "
        f"and highest seed in brackets. Every model: {c['steps']:,} steps x {c['batch_size']}, "
        f"width {c['d_model']}. Lengths and examples: {sizes}.", "", table, "",
        f"The whole experiment took {m['wall_seconds'] / 60:.1f} minutes of wall time "
        f"({m['cpu_count']} CPU cores, {c['workers']} runs at once, one thread each).", "",
        "What the numbers say:", "", *conclusions(m)])


def report(check: bool = False, results_dir: Path = STAGE_DIR / "results", page: Path = PAGE) -> int:
    return reporting.write_sections(page, {SECTION: section(results_dir)}, check=check)


def main(argv=None) -> dict | int:
    return reporting.report_or_run(argv, report, run)  # --report, or the experiment


def run(argv) -> dict:
    description = (__doc__.split("\n\n")[0] + " Also: --report rewrites README.md's section "
                   "from the reference run; --report --check exits 1 if it is stale.")
    cfg, args = parse_stage_args(WhyAttentionConfig, description, SMOKE_OVERRIDES, argv, resumable=False)
    return experiment(cfg, smoke=args.smoke)


if __name__ == "__main__":
    run_main(main)
