"""What pretraining buys: the mini-GPT pretrained as a character language model on 13 plays, then
fine-tuned to tell a passage's genre (comedy, history or tragedy), against the same classifier
trained from random weights, at several numbers of labelled passages.

    cd CodeLLM/minigpt
    python genre.py                                # pretraining + 30 fine-tunes: ~10 min on 2 idle cores
    python genre.py --run-name reference-genre     # the committed run; rewrites the README section
    python genre.py --sizes 30 100 300 1000 --seeds 3
    python genre.py --smoke                        # well under a minute: a tiny model, every artifact
    python genre.py --report                       # rewrite README.md's section from the reference run

Pretraining: train.py (this folder's mini-GPT, its loop and checkpoint) on the plays of the
folders problems, roman and romances, none of them labelled, through `--data`. Classification:
the 25 comedies, histories and tragedies, split by play into training, validation and test
plays, stratified by genre (genre_data.py), cut into non-overlapping passages. The classifier
is the mini-GPT's body, its final-norm outputs averaged over positions, then a linear layer to
the three genres; every weight is fine-tuned. Both arms run the same recipe (steps, batch,
learning rate, seed, labelled passages, head initialisation, selection of the step on
validation accuracy); the only difference is whether the body starts from the pretrained
checkpoint. Each seed draws its own balanced labelled set; the test passages are fixed and
balanced, so accuracy equals macro accuracy and chance is 1/3.

A run writes results/<run-name>/ (default genre): metrics.json (the recipes, every fine-tune
and the summaries with bootstrap 95% intervals), genre.png, and runs/: the pretraining run
(train.py's files, best.pt among them) and finetunes.json. The same command reuses the
pretraining and every finished fine-tune, so Ctrl-C loses at most the fine-tune in progress.
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

import genre_data
from CodeLLM.blocks import causal_mask
from config import GPTConfig  # this folder's settings: the default shape is the pretrained model's
from genre_data import GENRES, LABELS, PassageSet
from model import MiniGPT, build_model
from runs import GPT_SCRIPT, launch, machine, report_section

from shared import plotting
from shared.lm.tokens import CharVocab
from shared.runtime import devices, files
from shared.runtime.config import opt, parse_stage_args
from shared.runtime.errors import UserError, run_main
from shared.runtime.schedule import learning_rate

from tools import reporting

STAGE_DIR = Path(__file__).resolve().parent
PAGE, SECTION = STAGE_DIR / "README.md", "genre"
REFERENCE = STAGE_DIR / "results" / "reference-genre"
DEFAULT = GPTConfig()
INITS = ("pretrained", "random")
COLOURS = {"pretrained": "tab:orange", "random": "tab:blue"}
RESAMPLES = 4000  # bootstrap resamples of seeds x test passages


@dataclass
class GenreConfig:
    # labelled data
    sizes: list = opt([50, 200, 1000], "labelled training passages per fine-tune (balanced by genre)")
    seeds: int = opt(5, "fine-tunes per size and init (seeds 0, 1, ...): each draws its own labelled "
                        "passages and head initialisation")
    passage_chars: int = opt(256, "characters per passage (at most --seq-len)")
    val_per_genre: int = opt(100, "validation passages per genre (fixed; choose each fine-tune's step)")
    test_per_genre: int = opt(200, "test passages per genre (fixed; scored once per fine-tune)")
    test_plays: list = opt([2, 3, 2], "test plays of comedies, histories, tragedies")
    validation_plays: list = opt([1, 2, 1], "validation plays of comedies, histories, tragedies")
    split_seed: int = opt(0, "seed of the play split and of the fixed validation and test passages")
    # pretraining (train.py's model, on the unlabelled plays)
    d_model: int = opt(DEFAULT.d_model, "width of the mini-GPT")
    n_layer: int = opt(DEFAULT.n_layer, "transformer blocks")
    heads: int = opt(DEFAULT.heads, "attention heads per block")
    seq_len: int = opt(256, "context of the mini-GPT: its pretraining chunk and the longest passage")
    pretrain_steps: int = opt(1500, "pretraining steps (a step budget, so the run repeats exactly)")
    pretrain_batch_size: int = opt(16, "pretraining chunks per step (16 x 256: train.py's 4,096 "
                                       "characters per step)")
    pretrain_lr: float = opt(DEFAULT.lr, "pretraining peak learning rate")
    pretrain_seed: int = opt(DEFAULT.seed, "seed of the pretraining run")
    # fine-tuning: one recipe for both inits
    steps: int = opt(80, "fine-tuning steps (the same for every size: a fixed compute budget)")
    batch_size: int = opt(16, "labelled passages per fine-tuning step")
    # The learning rate had the best validation accuracy, averaged over both arms, among 1e-4, 3e-4,
    # 1e-3 and 3e-3 (sizes 50 and 1,000, two seeds): one rate that favours neither arm.
    lr: float = opt(3e-4, "fine-tuning peak learning rate (warm-up, then cosine decay to a tenth)")
    warmup_steps: int = opt(10, "fine-tuning warm-up steps")
    weight_decay: float = opt(0.1, "AdamW weight decay on the matrices")
    grad_clip: float = opt(1.0, "clip the gradient norm to this")
    eval_interval: int = opt(20, "evaluate on validation every N steps; the best of these is kept")
    device: str = opt("cpu", "where it runs", choices=["cpu", "cuda", "mps"])
    threads: int | None = opt(None, "CPU threads (default: PyTorch's, one per core)")
    out_dir: str = opt(str(STAGE_DIR / "results"), "folder that holds one sub-folder per run", metavar="DIR")
    run_name: str | None = opt(None, "sub-folder of --out-dir (default: genre, or smoke-genre)")


# --smoke: a tiny mini-GPT pretrained for 40 steps, short passages, two sizes, two seeds.
SMOKE_OVERRIDES = dict(sizes=[12, 30], seeds=2, passage_chars=64, val_per_genre=20, test_per_genre=30,
                       d_model=32, n_layer=1, heads=2, seq_len=64, pretrain_steps=40, steps=12,
                       batch_size=8, warmup_steps=2, eval_interval=4, threads=1)
# (A model this small gains nothing from a second thread, and loses much when the cores are busy.)


def check(cfg: GenreConfig) -> None:
    """Bad input, one line each, before anything trains."""
    if not cfg.sizes or min(cfg.sizes) < len(GENRES) or len(set(cfg.sizes)) != len(cfg.sizes):
        raise UserError(f"--sizes {cfg.sizes}: give distinct sizes of at least {len(GENRES)} (one per genre)")
    if cfg.seeds < 2:
        raise UserError(f"--seeds {cfg.seeds}: give at least 2, so the interval covers the seed")
    if cfg.passage_chars < 1 or cfg.passage_chars > cfg.seq_len:
        raise UserError(f"--passage-chars {cfg.passage_chars}: must be between 1 and the model's "
                        f"context, --seq-len {cfg.seq_len}")
    if cfg.d_model % cfg.heads:
        raise UserError(f"--d-model {cfg.d_model} must be a multiple of --heads {cfg.heads}")
    if len(cfg.test_plays) != len(GENRES) or len(cfg.validation_plays) != len(GENRES):
        raise UserError(f"--test-plays and --validation-plays: give {len(GENRES)} numbers, one per genre "
                        f"({', '.join(GENRES)})")
    for name in ("steps", "batch_size", "eval_interval", "pretrain_steps", "pretrain_batch_size",
                 "val_per_genre", "test_per_genre"):
        if getattr(cfg, name) < 1:
            raise UserError(f"--{name.replace('_', '-')} {getattr(cfg, name)}: must be at least 1")


def features(body: MiniGPT, ids: torch.Tensor) -> torch.Tensor:
    """(batch, time) -> (batch, time, d_model): MiniGPT.logits up to its final norm, before the
    read-out to characters (a test keeps the two equal)."""
    positions = torch.arange(ids.shape[1], device=ids.device)
    x = body.drop(body.embed(ids) + body.position(positions))  # (batch, time, d_model)
    mask = causal_mask(ids.shape[1], ids.device)
    for block in body.blocks:
        x, _ = block(x, mask, need_weights=False)
    return body.norm(x)


class GenreClassifier(nn.Module):
    """The mini-GPT's body, its outputs averaged over the passage, then a linear layer to the
    genres. The body keeps its read-out to characters (tied to the embedding) so that a
    pretrained checkpoint loads as it was saved; classification never calls it."""

    def __init__(self, model_config: dict, classes: int = len(GENRES)):
        super().__init__()
        self.body = build_model(model_config)
        self.classify = nn.Linear(model_config["d_model"], classes)
        MiniGPT._init(self.classify)  # the body's small initial weights: the first guess is near uniform

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        """ids (batch, time) -> genre logits (batch, classes)."""
        # Averaging every position (each has read the passage up to itself) rather than the
        # last position alone: every character votes, so a short passage still gives a signal.
        return self.classify(features(self.body, ids).mean(dim=1))  # (batch, d_model) -> (batch, classes)


def build_classifier(init: str, model_config: dict, pretrained: dict, seed: int) -> GenreClassifier:
    """The classifier of one fine-tune. The same constructor and seed for both inits, so the
    head starts the same; "pretrained" then loads the checkpoint's weights into the body."""
    if init not in INITS:
        raise ValueError(f"unknown init {init!r}")
    devices.seed_everything(seed)
    model = GenreClassifier(model_config)
    if init == "pretrained":
        model.body.load_state_dict(pretrained)
    return model


def distance_to(body: nn.Module, state: dict) -> float:
    """Largest absolute difference between a body's weights and a checkpoint's: 0.0 exactly when
    the body holds the checkpoint."""
    return max(float((p.detach().cpu() - state[k].cpu()).abs().max()) for k, p in body.state_dict().items())


def recipe(cfg: GenreConfig, init: str, model_config: dict) -> dict:
    """Everything that defines a fine-tune but its size and seed; the two inits' differ in `init` only."""
    return {"init": init, "model_config": model_config, "passage_chars": cfg.passage_chars,
            "steps": cfg.steps, "batch_size": cfg.batch_size, "lr": cfg.lr, "warmup_steps": cfg.warmup_steps,
            "schedule": "linear warm-up, cosine decay to a tenth", "optimizer": "AdamW",
            "weight_decay": cfg.weight_decay, "grad_clip": cfg.grad_clip, "eval_interval": cfg.eval_interval,
            "trained": "every weight", "head": "mean over positions of the final norm's output, then linear",
            "selection": "highest validation accuracy among the evaluations (ties: lower validation loss)",
            "seeds": list(range(cfg.seeds)), "sizes": sorted(cfg.sizes)}


def encode(vocab: CharVocab, passages: PassageSet) -> tuple[torch.Tensor, torch.Tensor]:
    ids = torch.tensor([vocab.encode(t) for t in passages.texts], dtype=torch.long)  # (n, passage_chars)
    return ids, torch.tensor(passages.labels, dtype=torch.long)


@torch.no_grad()
def evaluate(model: GenreClassifier, ids: torch.Tensor, labels: torch.Tensor, device) -> tuple:
    """Mean cross-entropy and each passage's correctness (0/1)."""
    model.eval()
    logits = torch.cat([model(ids[i:i + 100].to(device)).float().cpu() for i in range(0, len(ids), 100)])
    model.train()
    return float(F.cross_entropy(logits, labels)), (logits.argmax(1) == labels).numpy().astype(np.int8)


def fine_tune(init: str, size: int, seed: int, cfg: GenreConfig, model_config: dict, pretrained: dict,
              train: tuple, val: tuple, test: tuple, device) -> dict:
    """One fine-tune: `cfg.steps` AdamW steps on `train`, validation every `cfg.eval_interval`
    steps, the best validation accuracy's weights scored once on `test`."""
    model = build_classifier(init, model_config, pretrained, seed)
    start_distance = distance_to(model.body, pretrained)
    model.to(device)
    decay = [p for p in model.parameters() if p.dim() >= 2]  # as train.py: no decay on norms and biases
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": cfg.weight_decay},
                                   {"params": no_decay, "weight_decay": 0.0}], lr=cfg.lr)
    ids, labels = train
    order = torch.Generator().manual_seed(seed)  # the same batches for both inits
    batch = min(cfg.batch_size, len(ids))
    queue: list[int] = []
    best, history, started = None, [], time.perf_counter()
    for step in range(1, cfg.steps + 1):
        if len(queue) < batch:  # a new pass over the labelled passages, shuffled
            queue += torch.randperm(len(ids), generator=order).tolist()
        rows, queue = queue[:batch], queue[batch:]
        for group in optimizer.param_groups:
            group["lr"] = learning_rate(step - 1, cfg.lr, cfg.warmup_steps, cfg.steps)
        loss = F.cross_entropy(model(ids[rows].to(device)), labels[rows].to(device))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
        optimizer.step()
        if step % cfg.eval_interval == 0 or step == cfg.steps:
            val_loss, val_correct = evaluate(model, *val, device)
            history.append({"step": step, "train_loss": round(loss.item(), 4), "val_loss": round(val_loss, 4),
                            "val_accuracy": round(float(val_correct.mean()), 4)})
            score = (val_correct.mean(), -val_loss)  # accuracy first; the loss breaks ties
            if best is None or score > best["score"]:
                best = {"step": step, "score": score, "val_loss": val_loss, "val_correct": val_correct,
                        "state": copy.deepcopy(model.state_dict())}
    model.load_state_dict(best["state"])
    test_loss, test_correct = evaluate(model, *test, device)  # the one look at the test passages
    return {"init": init, "size": size, "seed": seed, "best_step": best["step"],
            "val_accuracy": round(float(best["val_correct"].mean()), 4),
            "val_loss": round(best["val_loss"], 4),
            "test_accuracy": round(float(test_correct.mean()), 4), "test_loss": round(test_loss, 4),
            "val_correct": "".join(map(str, best["val_correct"])),  # per passage, for the intervals
            "test_correct": "".join(map(str, test_correct)),
            "start_distance_to_checkpoint": start_distance, "labelled_sha256": fingerprint(ids, labels),
            "history": history, "wall_seconds": round(time.perf_counter() - started, 2)}  # evaluations too


def fingerprint(*tensors: torch.Tensor) -> str:
    digest = hashlib.sha256()
    for t in tensors:
        digest.update(t.numpy().tobytes())
    return digest.hexdigest()


def correct_matrix(rows: list[dict], split: str) -> np.ndarray:
    """(seeds, passages) of 0/1, seeds in order."""
    rows = sorted(rows, key=lambda r: r["seed"])
    return np.array([[int(c) for c in r[f"{split}_correct"]] for r in rows], dtype=float)


def bootstrap(values: np.ndarray, labels: np.ndarray, seed: int = 0) -> tuple[float, float]:
    """95% interval of the mean of `values` (seeds, passages), resampling seeds and, within each
    genre, passages: both the seed's luck (labelled set, head, batches) and the test passages'."""
    rng = np.random.default_rng(seed)
    by_genre = [np.flatnonzero(labels == g) for g in range(len(GENRES))]
    n_seeds = values.shape[0]
    means = np.empty(RESAMPLES)
    for b in range(RESAMPLES):
        seeds = rng.integers(0, n_seeds, n_seeds)
        passages = np.concatenate([idx[rng.integers(0, len(idx), len(idx))] for idx in by_genre])
        means[b] = values[np.ix_(seeds, passages)].mean()
    low, high = np.percentile(means, [2.5, 97.5])
    return float(low), float(high)


def summarise(rows: list[dict], sizes: list[int], labels: dict[str, np.ndarray]) -> list[dict]:
    """Per size and split: each init's mean accuracy with its interval, and pretrained minus random
    (paired: the same seeds, labelled passages and test passages) with its interval."""
    out = []
    for size in sizes:
        entry = {"size": size}
        for split in ("val", "test"):
            m = {init: correct_matrix([r for r in rows if r["init"] == init and r["size"] == size], split)
                 for init in INITS}
            for init in INITS:
                low, high = bootstrap(m[init], labels[split])
                entry[f"{split}_{init}"] = {"mean": round(float(m[init].mean()), 4), "low": round(low, 4),
                                            "high": round(high, 4),
                                            "per_seed": [round(float(x), 4) for x in m[init].mean(1)]}
            diff = m["pretrained"] - m["random"]
            low, high = bootstrap(diff, labels[split])
            entry[f"{split}_difference"] = {"mean": round(float(diff.mean()), 4), "low": round(low, 4),
                                            "high": round(high, 4), "significant": bool(low > 0 or high < 0)}
        for init in INITS:  # which genres each init gets right, on test
            m = correct_matrix([r for r in rows if r["init"] == init and r["size"] == size], "test")
            entry[f"test_recall_{init}"] = {LABELS[g]: round(float(m[:, labels["test"] == g].mean()), 4)
                                            for g in range(len(GENRES))}
        out.append(entry)
    return out


def pretrain(cfg: GenreConfig, runs_dir: Path) -> tuple[dict, dict]:
    """train.py on the unlabelled plays (reused when the same flags ran before); its
    validation-chosen checkpoint and the part of its metrics that the write-up shows."""
    corpus = genre_data.pretraining_text()
    digest = hashlib.sha256(corpus.encode("utf-8")).hexdigest()[:12]
    data = runs_dir / f"pretraining-text-{digest}.txt"  # a new text, a new name: never reused by mistake
    if not data.is_file() or data.read_text(encoding="utf-8") != corpus:  # a half-written one: again
        runs_dir.mkdir(parents=True, exist_ok=True)
        data.write_text(corpus, encoding="utf-8")
    flags = ["--data", data, "--seq-len", cfg.seq_len, "--batch-size", cfg.pretrain_batch_size,
             "--d-model", cfg.d_model, "--n-layer", cfg.n_layer, "--heads", cfg.heads, "--dropout", 0.0,
             "--max-steps", cfg.pretrain_steps, "--warmup-steps", min(100, max(1, cfg.pretrain_steps // 10)),
             "--eval-interval", max(1, cfg.pretrain_steps // 5), "--lr", cfg.pretrain_lr,
             "--seed", cfg.pretrain_seed, "--device", cfg.device, "--sample-length", 300,
             *(["--threads", cfg.threads] if cfg.threads else [])]
    kept = launch(GPT_SCRIPT, flags, runs_dir, "pretrain", f"pretraining the mini-GPT on "
                  f"{len(genre_data.pretraining_paths())} unlabelled plays ({len(corpus):,} characters), "
                  f"{cfg.pretrain_steps:,} steps")
    checkpoint = files.load_checkpoint(runs_dir / "pretrain" / "best.pt")
    shape = {"block_size": cfg.seq_len, "d_model": cfg.d_model, "n_layer": cfg.n_layer, "heads": cfg.heads}
    if {k: checkpoint["model_config"][k] for k in shape} != shape:
        raise UserError(f"{runs_dir / 'pretrain' / 'best.pt'} has another shape than asked; "
                        "use a new --run-name")
    shown = ("params", "steps", "best_step", "train_seconds", "tokens_per_second", "train_chars",
             "val_bits_per_char", "test_bits_per_char", "test_uniform_bits_per_char", "wall_seconds")
    pretraining = {**{k: kept[k] for k in shown if k in kept},
                   "plays": [p.stem for p in genre_data.pretraining_paths()], "chars": len(corpus),
                   "text_sha256": digest, "batch_size": cfg.pretrain_batch_size, "seq_len": cfg.seq_len,
                   "seed": cfg.pretrain_seed}
    return checkpoint, pretraining


def experiment(cfg: GenreConfig, smoke: bool) -> dict:
    check(cfg)
    device = devices.pick_device(cfg.device)
    threads = devices.set_threads(cfg.threads)
    started, at_start = time.perf_counter(), machine()
    splits = genre_data.split_plays(cfg.split_seed, cfg.test_plays, cfg.validation_plays)
    sets = genre_data.passage_sets(splits, cfg.passage_chars, cfg.val_per_genre, cfg.test_per_genre,
                                   cfg.split_seed)
    for size in cfg.sizes:  # a size too large fails here, before anything is written or trained
        genre_data.labelled_subset(sets.train_pool, size, 0)
    out = files.run_dir(cfg.out_dir, cfg.run_name)
    runs_dir = out / "runs"
    prepared = time.perf_counter()
    checkpoint, pretraining = pretrain(cfg, runs_dir)
    vocab, model_config, weights = (CharVocab.from_saved(checkpoint["vocab"]), checkpoint["model_config"],
                                    checkpoint["model"])
    val, test = encode(vocab, sets.validation), encode(vocab, sets.test)
    recipes = {init: recipe(cfg, init, model_config) for init in INITS}
    # A fine-tune is reused only if everything it depends on is the same.
    shared_recipe = {k: v for k, v in recipes["pretrained"].items() if k not in ("init", "seeds", "sizes")}
    identity = {"recipe": shared_recipe,
                "checkpoint": fingerprint(*(t.cpu() for t in weights.values())),
                "validation": fingerprint(*val), "test": fingerprint(*test),
                "pool": hashlib.sha256(repr(sorted(sets.train_pool.items())).encode()).hexdigest()}
    cache_path = runs_dir / "finetunes.json"
    cache = files.read_json(cache_path) if cache_path.is_file() else {}
    done = cache.get("rows", {}) if cache.get("identity") == identity else {}
    rows, total = [], len(cfg.sizes) * cfg.seeds * len(INITS)
    print(f"\n{total} fine-tunes of {cfg.steps} steps: sizes {sorted(cfg.sizes)}, {cfg.seeds} seeds, "
          f"{' and '.join(INITS)} | validation {len(sets.validation)} / test {len(sets.test)} passages of "
          f"{cfg.passage_chars} characters | training pool {sets.pool_size():,} passages")
    for size in sorted(cfg.sizes):
        for seed in range(cfg.seeds):
            train = encode(vocab, genre_data.labelled_subset(sets.train_pool, size, seed))
            for init in INITS:
                key = f"{init}-{size}-{seed}"
                if key not in done:
                    done[key] = fine_tune(init, size, seed, cfg, model_config, weights, train, val, test,
                                          device)
                    files.write_json(cache_path, {"identity": identity, "rows": done})
                    note = ""
                else:
                    note = " (finished earlier, reused)"
                r = done[key]
                rows.append(r)
                print(f"[{len(rows)}/{total}] {init:>10}, {size:>5} labelled, seed {seed}: validation "
                      f"{r['val_accuracy']:.1%} at step {r['best_step']} ({r['wall_seconds']:.0f} s){note}")
    trained = time.perf_counter()
    labels = {"val": np.array(sets.validation.labels), "test": np.array(sets.test.labels)}
    result = {"settings": {**dataclasses.asdict(cfg), "sizes": sorted(cfg.sizes), "smoke": smoke},
              "recipes": recipes, "pretraining": pretraining,
              "plays": {split: {g: [p.stem for p in plays] for g, plays in by_genre.items()}
                        for split, by_genre in splits.items()},
              "passages": {"train_pool": {g: len(v) for g, v in sets.train_pool.items()},
                           "validation": sets.validation.per_genre(), "test": sets.test.per_genre(),
                           "test_plays": sorted(set(sets.test.plays)), "chars": cfg.passage_chars},
              "fine_tunes": rows, "summary": summarise(rows, sorted(cfg.sizes), labels),
              # measured fine-tune by fine-tune: a rerun that reuses them still reports their time
              "finetune_seconds": round(sum(r["wall_seconds"] for r in rows), 1),
              "machine": {**at_start, "torch_threads": threads,
                          "load_average_1min_end": machine()["load_average_1min"]},
              "wall_seconds": round(time.perf_counter() - started, 1)}
    # The experiment's time as if run in one sitting: this sitting's data and statistics, plus the
    # pretraining and the fine-tunes as each was measured when it ran (a rerun reuses them).
    overhead = (prepared - started) + (time.perf_counter() - trained)
    result["runs_wall_seconds"] = round(overhead + (pretraining.get("wall_seconds") or 0)
                                        + result["finetune_seconds"], 1)
    files.write_json(out / "metrics.json", result)
    plot(result, out / "genre.png")
    for line in conclusions(result):
        print(line)
    print(f"wrote {out} in {result['wall_seconds']:.0f}s")
    if out.resolve() == REFERENCE.resolve():
        report()
    return result


def plot(result: dict, path: Path) -> None:
    """Left: test accuracy against labelled passages, each seed a dot, the mean with its 95%
    interval, chance as a line. Right: pretrained minus random with its interval."""
    fig, (left, right) = plotting.figure(2, width=11.5)
    summary = result["summary"]
    sizes = [s["size"] for s in summary]
    for init, shift in (("pretrained", 1.05), ("random", 1 / 1.05)):  # side by side on a log axis
        x = [s * shift for s in sizes]
        for xi, s in zip(x, summary, strict=True):  # the seeds just outside their interval's bar
            seeds = [100 * v for v in s[f"test_{init}"]["per_seed"]]
            left.scatter([xi * shift] * len(seeds), seeds, s=16, color=COLOURS[init], alpha=0.5, lw=0)
        mean = [100 * s[f"test_{init}"]["mean"] for s in summary]
        errors = [[m - 100 * s[f"test_{init}"]["low"] for m, s in zip(mean, summary, strict=True)],
                  [100 * s[f"test_{init}"]["high"] - m for m, s in zip(mean, summary, strict=True)]]
        label = "pretrained, then fine-tuned" if init == "pretrained" else "random weights, same recipe"
        left.errorbar(x, mean, yerr=errors, fmt="-o", capsize=4, color=COLOURS[init], label=label)
    left.axhline(100 / len(GENRES), color="grey", ls="--", lw=1, label="chance (1/3)")
    left.set_ylabel("test accuracy, % (balanced: 3 genres)")
    left.set_title("Genre of a passage: dots are seeds, bars 95% intervals")
    d = [100 * s["test_difference"]["mean"] for s in summary]
    errors = [[v - 100 * s["test_difference"]["low"] for v, s in zip(d, summary, strict=True)],
              [100 * s["test_difference"]["high"] - v for v, s in zip(d, summary, strict=True)]]
    right.errorbar(sizes, d, yerr=errors, fmt="-o", capsize=4, color="black")
    right.axhline(0, color="grey", lw=1)
    right.set_ylabel("pretrained minus random, points (95% interval)")
    right.set_title("Above zero: pretraining helped (test)")
    for ax in (left, right):
        ax.set_xscale("log")
        ax.set_xticks(sizes, [f"{v:,}" for v in sizes])  # the sizes themselves, not powers of ten
        ax.minorticks_off()
        ax.set_xlabel("labelled training passages (log scale)")
        ax.grid(alpha=0.3)
    left.legend(fontsize=8)
    plotting.save_figure(fig, path)


def points(d: dict) -> str:
    return f"{100 * d['mean']:+.1f} points (95% interval {100 * d['low']:+.1f} to {100 * d['high']:+.1f})"


def difference(d: dict) -> str:
    return f"{100 * d['mean']:+.1f} ({100 * d['low']:+.1f} to {100 * d['high']:+.1f})"


def accuracy(d: dict) -> str:
    return f"{100 * d['mean']:.1f}% ({100 * d['low']:.1f} to {100 * d['high']:.1f})"


def sizes_text(sizes: list[int]) -> str:
    names = [f"{s:,}" for s in sizes]
    return " and ".join([", ".join(names[:-1]), names[-1]] if len(names) > 1 else names)


def conclusions(result: dict) -> list[str]:
    """What the numbers say: where pretraining helped, where it did not, and how the gap moved."""
    summary = result["summary"]
    diff = {s["size"]: s["test_difference"] for s in summary}
    helped = [s for s, d in diff.items() if d["significant"] and d["mean"] > 0]
    hurt = [s for s, d in diff.items() if d["significant"] and d["mean"] < 0]
    level = [s for s, d in diff.items() if not d["significant"]]
    first, last = summary[0], summary[-1]
    lines = []
    if helped:
        lines.append(f"On the test plays, pretraining helped at {sizes_text(helped)} labelled passages.")
    if level:
        lines.append(f"On the test plays, pretraining did NOT help significantly at {sizes_text(level)} "
                     "labelled passages (the interval of the difference includes zero).")
    if hurt:
        lines.append(f"On the test plays, pretraining HURT at {sizes_text(hurt)} labelled passages.")
    lines.append(f"With {first['size']:,} labelled passages the pretrained classifier scored "
                 f"{accuracy(first['test_pretrained'])} on the test passages against "
                 f"{accuracy(first['test_random'])} from random weights: {points(first['test_difference'])}.")
    if len(summary) > 1:
        d0, d1 = diff[first["size"]], diff[last["size"]]
        ahead0, ahead1 = d0["significant"] and d0["mean"] > 0, d1["significant"] and d1["mean"] > 0
        # Only a significant advantage has a trend worth naming; level differences are noise.
        trend = ("" if not ahead0 else f"; the advantage at {first['size']:,} was gone" if not ahead1
                 else f"; the advantage {'shrank' if d1['mean'] < d0['mean'] else 'grew'} with more labels")
        lines.append(f"With {last['size']:,}: {accuracy(last['test_pretrained'])} against "
                     f"{accuracy(last['test_random'])}, {points(last['test_difference'])}{trend}.")
    for init in INITS:
        at_chance = [s["size"] for s in summary if s[f"test_{init}"]["low"] <= 1 / len(GENRES)]
        if at_chance:
            lines.append(f"The {init} classifier was not above chance (33.3% inside its interval) at "
                         f"{sizes_text(at_chance)} labelled passages.")
    return lines


def title(stem: str) -> str:
    """`love-s-labours-lost` -> Love's Labours Lost, `henry-iv-part-2` -> Henry IV Part 2."""
    words = stem.replace("-s-", "'s-").split("-")
    small = {"of", "the", "and", "for", "in"}
    return " ".join(w.upper() if set(w) <= set("ivx") else w if i and w in small else w.capitalize()
                    for i, w in enumerate(words))


def play_list(by_genre: dict) -> str:
    return "; ".join(f"{g}: {', '.join(title(p) for p in plays)}" for g, plays in by_genre.items())


def plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def section(result: dict) -> str:
    """The README section, from a results file."""
    s, p, m, plays = result["settings"], result["pretraining"], result["machine"], result["plays"]
    n_labelled = sum(len(v) for by_genre in plays.values() for v in by_genre.values())
    n_test_plays = sum(len(v) for v in plays["test"].values())
    pool = ", ".join(f"{n:,} {g}" for g, n in result["passages"]["train_pool"].items())
    rows = []
    for x in result["summary"]:
        d = x["test_difference"]
        verdict = ("pretraining helped" if d["significant"] and d["mean"] > 0 else
                   "pretraining hurt" if d["significant"] else "no significant difference")
        rows.append([f"{x['size']:,}", accuracy(x["test_pretrained"]), accuracy(x["test_random"]),
                     difference(d), verdict, f"{100 * x['val_pretrained']['mean']:.1f}% / "
                     f"{100 * x['val_random']['mean']:.1f}%, {difference(x['val_difference'])}"])
    last = result["summary"][-1]
    recall = {init: last[f"test_recall_{init}"] for init in INITS}
    steps = {init: int(np.median([r["best_step"] for r in result["fine_tunes"] if r["init"] == init]))
             for init in INITS}
    text = [
        f"**Pretraining.** The mini-GPT ({p['params']:,} parameters: {plural(s['n_layer'], 'block')} x "
        f"{plural(s['heads'], 'head')}, width {s['d_model']}, context {s['seq_len']}) trained by "
        f"[train.py](train.py) for {p['steps']:,} steps of {p['batch_size']} x {p['seq_len']} characters "
        f"on the {len(p['plays'])} plays of the folders problems, roman and romances "
        f"({p['chars'] / 1e6:.2f} M characters, cut "
        f"80/10/10 by `--data`; validation chose step {p['best_step']:,}): validation "
        f"**{p['val_bits_per_char']:.3f} bits/char**, test {p['test_bits_per_char']:.3f} (uniform "
        f"{p['test_uniform_bits_per_char']:.3f}).",
        f"**Classification.** Passages of {s['passage_chars']} characters from the {n_labelled} labelled "
        f"plays, none of them in the pretraining text, split by play (seed {s['split_seed']}). Validation "
        f"plays: {play_list(plays['validation'])}. Test plays: {play_list(plays['test'])}. The other "
        f"labelled plays train ({pool} passages). Each fine-tune draws its labelled passages balanced by "
        f"genre; validation ({sum(result['passages']['validation']):,} passages) and test "
        f"({sum(result['passages']['test']):,}) are fixed and balanced, so accuracy is macro accuracy and "
        f"chance is 33.3%. Both arms: {s['steps']} AdamW steps of {s['batch_size']} passages (learning "
        f"rate {s['lr']:g}, warm-up {s['warmup_steps']}, cosine decay, weight decay {s['weight_decay']:g}), "
        f"every weight trained, the step chosen on validation accuracy every {s['eval_interval']} steps, "
        f"and per seed the same labelled passages, head initialisation and batch order ({s['seeds']} "
        "seeds per size). Only the body's starting weights differ (`recipes` in metrics.json).",
        "Table: test accuracy, the mean over seeds with a bootstrap 95% interval (seeds and test "
        "passages resampled), and pretrained minus random in percentage points (paired: the same seeds "
        "and passages). Beside it the same on validation, which chose each fine-tune's step and so "
        "flatters both arms a little.",
        reporting.markdown_table(["labelled passages", "pretrained", "random init",
                                  "difference (95% interval)", "verdict",
                                  "validation: pretrained / random, difference"], rows),
        " ".join(conclusions(result)),
        f"Test accuracy by genre with {last['size']:,} labelled passages: " + "; ".join(
            f"{init} " + ", ".join(f"{label} {100 * v:.0f}%" for label, v in recall[init].items())
            for init in INITS) + ".",
        f"Validation chose step {steps['pretrained']} (median) of {s['steps']} for the pretrained "
        f"classifier, {steps['random']} for the random one. The intervals cover the seeds and the test "
        f"passages, not the choice of plays: {n_test_plays} test plays are few, and a genre is partly "
        "told by its plays' recurring names (the histories share kings and dukes).",
        f"Wall time {result['runs_wall_seconds'] / 60:.1f} min on {m['cpu_count']} CPU cores with "
        f"{plural(m['torch_threads'], 'thread')}: pretraining {p['wall_seconds']:.0f} s, the "
        f"{len(result['fine_tunes'])} fine-tunes {result['finetune_seconds']:.0f} s, each measured as it "
        f"ran; load average {m['load_average_1min']} at the start and {m['load_average_1min_end']} at the "
        "end (other work on the machine slows a run; the step budgets keep its numbers the same).",
        "![Test accuracy against labelled passages](results/reference-genre/genre.png)",
    ]
    return "\n\n".join(text)


def report(check: bool = False) -> int:
    return report_section(REFERENCE, PAGE, SECTION, section, plot, "genre.png", check)


def main(argv=None) -> dict | int:
    return reporting.report_or_run(argv, report, run)  # --report, or the experiment


def run(argv) -> dict:
    description = (__doc__.split("\n\n")[0] + " --report rewrites README.md's section from the "
                   "reference run (--report --check: exit 1 if it is stale).")
    cfg, args = parse_stage_args(GenreConfig, description, SMOKE_OVERRIDES, argv, resumable=False)
    cfg.run_name = cfg.run_name or ("smoke-genre" if args.smoke else "genre")
    return experiment(cfg, args.smoke)


if __name__ == "__main__":
    run_main(main)
