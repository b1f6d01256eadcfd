"""Fine-tune a pretrained encoder (the bundled MiniLM) to tell fresh from rotten review
sentences, with the Hugging Face Trainer, and score it beside two baselines on the same split.

    cd LLMind
    python train.py                          # 2 to 11 minutes on 2 cores (busy or not), offline
    python train.py --freeze-layers 0        # update every layer (slower, see README)
    python train.py --init random            # the same recipe from random weights: what pretraining buys
    python train.py --data my.csv --text-column review --label-column stars
    python train.py --model distilbert-base-uncased   # a hub model, when online
    python train.py --resume                 # continue the run from its last checkpoint
    python train.py --smoke                  # seconds: a tiny subset, writes every artifact
    accelerate launch train.py               # several processes or GPUs: see docs/scaling.md

A run writes results/<run-name>/: config.json, metrics.json (test accuracy with its bootstrap
interval, macro-F1, per-class report, train_seconds, the same for both baselines, and McNemar's
test of the fine-tune against each), predictions.csv (every test sentence, its label and each
model's prediction), history.json, confusion.png, validation.png, model/ (save_pretrained:
model.safetensors, tokenizer, label names; use it with predict.py), checkpoints/ (for
--resume) and tensorboard/ (live curves; --no-tensorboard skips them). The test split is
scored once, at the end (never with --no-score-test). With --init random the frozen-encoder
baseline is left out: it reads the pretrained weights, which that run is about doing without
(TF-IDF stays, and repeats the pretrained run's numbers).
"""

from __future__ import annotations

import dataclasses
import math
import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

import baselines
import data
import plots
import pretrained
import significance
from config import SMOKE_OVERRIDES, LLMindConfig

from shared.runtime import curves, devices, files, parallel
from shared.runtime.config import parse_stage_args
from shared.runtime.errors import UserError, run_main


class Sentences(torch.utils.data.Dataset):
    """Tokenized sentences, unpadded: DataCollatorWithPadding pads each batch to its longest."""

    def __init__(self, texts: list[str], labels: np.ndarray, tokenizer, max_length: int):
        self.encodings = tokenizer(texts, truncation=True, max_length=max_length)
        self.labels = labels

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, i: int) -> dict:
        return {**{k: v[i] for k, v in self.encodings.items()}, "labels": int(self.labels[i])}


def freeze_lower_layers(model, layers: int) -> None:
    """Freeze the embeddings and the `layers` lowest encoder layers: their general-purpose
    features stay as pretrained, and a step costs no backward pass through them."""
    if layers <= 0:
        return
    blocks = getattr(getattr(model.base_model, "encoder", None), "layer", None)
    if blocks is None:
        raise UserError(f"--freeze-layers works on BERT-style encoders; {type(model).__name__} is not "
                        "one: use --freeze-layers 0")
    if layers >= len(blocks):
        raise UserError(f"--freeze-layers {layers}: the model has only {len(blocks)} layers; "
                        f"give at most {len(blocks) - 1}")
    for module in [model.base_model.embeddings, *blocks[:layers]]:
        for param in module.parameters():
            param.requires_grad = False


def load_data(cfg: LLMindConfig) -> tuple[dict, dict]:
    """The splits (capped as asked, plus the uncapped training split) and what data.prepare
    dropped or linked so that no text reaches two splits."""
    frame = (data.load_csv(cfg.data, cfg.text_column, cfg.label_column, cfg.group_column)
             if cfg.data else data.load_bundled())
    frame, info = data.prepare(frame)
    parts = data.split(frame, seed=cfg.seed)
    parts["full_train"] = parts["train"]
    parts["train"] = data.cap(parts["train"], cfg.max_train_samples, cfg.seed)
    for name in ("validation", "test"):
        parts[name] = data.cap(parts[name], cfg.max_eval_samples, cfg.seed)
    data.check_labels(parts["train"], "the training split")
    return parts, info


def compute_metrics(prediction) -> dict:
    logits, labels = prediction
    predicted = np.argmax(logits, axis=-1)
    return {"accuracy": float((predicted == labels).mean()),
            "macro_f1": float(baselines.f1_score(labels, predicted, average="macro"))}


def score_test(cfg, trainer, test_set, texts, y, labels, full_train, parts, device,
               out: Path) -> dict | None:
    """The test split, read once: the fine-tune's and the baselines' scores, every test
    prediction in predictions.csv, and McNemar's test of the fine-tune against each baseline.
    Every process takes part in the Trainer's prediction; only the main one goes on (None
    elsewhere)."""
    # In the sentences' own order, so each prediction pairs with the baselines' on the same
    # sentence: the length-grouped sampler that saves padding in training would reorder them.
    trainer.args.train_sampling_strategy = "sequential"
    test = trainer.predict(test_set)
    if not trainer.is_world_process_zero():
        return None
    if not np.array_equal(test.label_ids, y["test"]):
        raise RuntimeError("the Trainer returned the test predictions in another order than the "
                           "test sentences; they cannot be paired with the baselines'")
    predicted = {"finetuned": np.argmax(test.predictions, axis=-1)}
    metrics = baselines.score(y["test"], predicted["finetuned"], labels.names)
    print(f"fine-tuned: test accuracy {metrics['test_accuracy']:.1%}, macro-F1 "
          f"{metrics['test_macro_f1']:.3f}")
    if cfg.baselines:
        metrics["baselines"] = {}
        metrics["baselines"]["tfidf_logreg"], predicted["tfidf_logreg"] = baselines.tfidf_logreg(
            texts, y, labels.names, cfg.seed)
        # The frozen-encoder baseline reads the pretrained weights: beside a fine-tune from
        # random ones it would repeat the pretrained run's row, not describe this run.
        if cfg.init == "pretrained":
            (metrics["baselines"]["frozen_encoder_logreg"],
             predicted["frozen_encoder_logreg"]) = baselines.frozen_encoder_logreg(
                texts, y, labels.names, cfg.model, cfg.max_length, cfg.seed, device)
        if len(full_train) > len(parts["train"]):  # what the cheap baseline does with every sentence
            (metrics["baselines"]["tfidf_logreg_full_train"],
             predicted["tfidf_logreg_full_train"]) = baselines.tfidf_logreg(
                {**texts, "train": full_train["text"].tolist()},
                {**y, "train": labels.encode(full_train["label"], "the training split")},
                labels.names, cfg.seed)
            metrics["full_train_sentences"] = len(full_train)
    table = pd.DataFrame({"text": texts["test"], "label": labels.decode(y["test"]),
                          **{name: labels.decode(p) for name, p in predicted.items()}})
    files.write_csv(out / "predictions.csv", table)
    if len(predicted) > 1:
        tests = significance.compare(y["test"], predicted, "finetuned", seed=cfg.seed)
        metrics["test_accuracy_ci95"] = tests["accuracy_ci95"]["finetuned"]
        for name, b in metrics["baselines"].items():
            b["test_accuracy_ci95"] = tests["accuracy_ci95"][name]
        metrics["comparisons"], metrics["significance"] = tests["comparisons"], tests["method"]
        for name, b in metrics["baselines"].items():
            c = tests["comparisons"][name]
            print(f"{name}: test accuracy {b['test_accuracy']:.1%}, macro-F1 {b['test_macro_f1']:.3f} "
                  f"({b['train_seconds']:.0f} s, C {b['C']:g}); fine-tune "
                  f"{100 * c['accuracy_difference']:+.1f} points, McNemar p {c['mcnemar_p']:.2g} "
                  f"(Holm {c['mcnemar_p_holm']:.2g})")
    return metrics


def live_curves(out: Path, on: bool) -> list[str]:
    """The Trainer's `report_to`: TensorBoard event files in <run>/tensorboard/
    (shared.runtime.curves.event_folder), or nothing when off or without tensorboard.
    transformers 5 has no logging_dir setting; its TensorBoard logger reads the folder from
    TENSORBOARD_LOGGING_DIR when the Trainer is built."""
    if not (on and curves.tensorboard_available()):
        return ["none"]
    curves._without_tensorflow()  # tensorboard would import TensorFlow (when installed) for nothing
    os.environ["TENSORBOARD_LOGGING_DIR"] = str(curves.event_folder(out))
    return ["tensorboard"]


def main(argv=None) -> dict:
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    cfg, args = parse_stage_args(LLMindConfig, __doc__.split("\n\n")[0], SMOKE_OVERRIDES, argv)
    if cfg.init == "random" and cfg.freeze_layers:
        raise UserError(f"--freeze-layers {cfg.freeze_layers} with --init random would keep random "
                        "layers as they are, which holds nothing; use --freeze-layers 0")
    from transformers import DataCollatorWithPadding, EarlyStoppingCallback, Trainer, TrainingArguments
    from transformers.trainer_utils import get_last_checkpoint
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()  # the "newly initialized classifier" notice is expected
    hf_logging.disable_progress_bar()  # loading bars; the Trainer's own follows disable_tqdm
    device = devices.pick_device(cfg.device)
    threads = devices.set_threads(cfg.threads)
    dtype = parallel.resolve_dtype(cfg.dtype, device)
    devices.seed_everything(cfg.seed)
    out = files.run_dir(cfg.out_dir, cfg.run_name)
    checkpoints = out / "checkpoints"
    last = get_last_checkpoint(str(checkpoints)) if checkpoints.is_dir() else None
    if args.resume and last is None:
        raise UserError(f"--resume: no checkpoint in {checkpoints}; run without --resume first")

    parts, data_info = load_data(cfg)
    full_train = parts.pop("full_train")
    labels = data.LabelMap(parts["train"]["label"])
    texts = {name: part["text"].tolist() for name, part in parts.items()}
    y = {name: labels.encode(part["label"], f"the {name} split") for name, part in parts.items()}
    sizes = {f"{name}_sentences": len(part) for name, part in parts.items()}
    print(f"data: {', '.join(f'{len(p):,} {n}' for n, p in parts.items())} sentences; "
          f"labels {labels.names}; {threads} threads on {device}")
    print(f"split: {data_info['data_repeated_dropped']} repeated and "
          f"{data_info['data_conflicting_dropped']} contradictory sentence(s) dropped; "
          f"{data_info['data_groups']:,} groups linked into {data_info['data_split_groups']:,} by "
          "shared sentences, so no sentence is in two splits")
    # Under `accelerate launch` / torchrun every process runs this script; rank 0 writes.
    main_process = int(os.environ.get("RANK", "0")) == 0
    if main_process:
        files.write_json(out / "config.json", {**dataclasses.asdict(cfg), "smoke": args.smoke,
                                               "labels": labels.names, **sizes})

    tokenizer = pretrained.load(cfg.model, "tokenizer")
    # --init random: the same config.json and tokenizer, random weights (pretrained.classifier)
    model = pretrained.classifier(cfg.model, cfg.init, cfg.seed, num_labels=len(labels.names),
                                  id2label=dict(enumerate(labels.names)), label2id=labels.ids)
    freeze_lower_layers(model, cfg.freeze_layers)
    # The classifier's forward takes **kwargs, so the Trainer assumes its loss is already a sum
    # over the accumulated batch divided by its token count, and skips dividing by --grad-accum:
    # with --grad-accum 2 the gradients (before clipping) and the logged loss came out doubled.
    # Its loss is a plain mean over the micro-batch, so let the Trainer do the division.
    model.accepts_loss_kwargs = False
    trainable = devices.count_params(model)
    total = sum(p.numel() for p in model.parameters())
    print(f"model: {cfg.model}, {cfg.init} weights ({total:,} parameters, {trainable:,} trained)")
    datasets = {name: Sentences(texts[name], y[name], tokenizer, cfg.max_length) for name in parts}

    if cfg.grad_accum < 1 or cfg.batch_size % cfg.grad_accum:
        raise UserError(f"--batch-size {cfg.batch_size} must be a multiple of --grad-accum "
                        f"{cfg.grad_accum} (at least 1)")
    steps_per_epoch = math.ceil(len(datasets["train"]) / cfg.batch_size)
    # Live curves: the Trainer's own TensorBoard logger (train loss and learning rate every
    # logging step, validation loss, accuracy and macro-F1 every epoch) into <run>/tensorboard/.
    report_to = live_curves(out, cfg.tensorboard and main_process)
    arguments = TrainingArguments(
        output_dir=str(checkpoints), num_train_epochs=cfg.epochs, learning_rate=cfg.lr,
        # --grad-accum keeps the batch and splits it into micro-batches, as in the other stages
        per_device_train_batch_size=cfg.batch_size // cfg.grad_accum,
        per_device_eval_batch_size=2 * cfg.batch_size,
        weight_decay=cfg.weight_decay, warmup_steps=cfg.warmup, lr_scheduler_type="linear",
        eval_strategy="epoch", save_strategy="epoch", load_best_model_at_end=True,
        metric_for_best_model="macro_f1", greater_is_better=True, save_total_limit=2,
        logging_steps=max(1, steps_per_epoch // 10), report_to=report_to, seed=cfg.seed,
        use_cpu=device.type == "cpu", disable_tqdm=not sys.stdout.isatty(),
        bf16=dtype == torch.bfloat16, fp16=dtype == torch.float16,
        gradient_accumulation_steps=cfg.grad_accum, torch_compile=cfg.compile,
        train_sampling_strategy="group_by_length",  # similar lengths per batch: less padding
        # One label per sentence: the classifier's loss is already a per-sentence mean. Left on,
        # the Trainer would multiply it by the number of processes under torchrun/accelerate
        # (meant for token-count losses) and double the gradients of a 2-process run.
        average_tokens_across_devices=False,
        dataloader_num_workers=0)
    trainer = Trainer(model=model, args=arguments, train_dataset=datasets["train"],
                      eval_dataset=datasets["validation"], processing_class=tokenizer,
                      data_collator=DataCollatorWithPadding(tokenizer),
                      compute_metrics=compute_metrics,
                      callbacks=[EarlyStoppingCallback(early_stopping_patience=cfg.patience)])
    os.environ.pop("TENSORBOARD_LOGGING_DIR", None)  # read by the Trainer above; no later run's
    # Epochs already done before a --resume: the speed below counts only this invocation's work.
    start_epoch = (files.read_json(Path(last) / "trainer_state.json").get("epoch") or 0.0
                   if args.resume else 0.0)
    started = time.perf_counter()
    trainer.train(resume_from_checkpoint=last if args.resume else None)
    train_seconds = time.perf_counter() - started
    # The best epoch's weights as model.safetensors (transformers 5 writes no other format),
    # tokenizer and label names: loading it back runs no code.
    trainer.save_model(str(out / "model"))
    # save_model also writes the Trainer's settings as training_args.bin (torch.save of a Python
    # object, a format whose loading can run code). Nothing reads it and config.json holds the
    # same settings, so the folder a learner shares keeps only safe files.
    (out / "model" / "training_args.bin").unlink(missing_ok=True)

    history = [e for e in trainer.state.log_history if "eval_macro_f1" in e or "loss" in e]
    files.write_json(out / "history.json", {"log": history})
    best = max((e for e in history if "eval_macro_f1" in e), key=lambda e: e["eval_macro_f1"])
    epochs_run = trainer.state.epoch or 0.0
    metrics = {
        "val_accuracy": best["eval_accuracy"], "val_macro_f1": best["eval_macro_f1"],
        "best_epoch": best["epoch"], "epochs_run": epochs_run, "train_seconds": train_seconds,
        "train_sentences_per_second": len(datasets["train"]) * (epochs_run - start_epoch)
                                      / train_seconds,
        "params": total, "params_trained": trainable, "labels": labels.names, "seed": cfg.seed,
        "model": cfg.model, "init": cfg.init, "resumed": bool(args.resume), "smoke": args.smoke,
        **sizes, **data_info,
    }
    if trainer.is_world_process_zero():
        print(f"fine-tuned in {train_seconds:.0f} s: best epoch {best['epoch']:g}, validation "
              f"accuracy {best['eval_accuracy']:.1%}, macro-F1 {best['eval_macro_f1']:.3f}")
    if cfg.score_test:
        test_metrics = score_test(cfg, trainer, datasets["test"], texts, y, labels, full_train,
                                  parts, device, out)
        if test_metrics is None:  # not the main process
            return {}
        metrics.update(test_metrics)
    elif not trainer.is_world_process_zero():
        return {}
    files.write_json(out / "metrics.json", metrics)
    if cfg.score_test:
        plots.confusion(metrics, labels.names, out / "confusion.png")
    plots.validation_curves(history, metrics, out / "validation.png")
    print(f"wrote {out}")
    return metrics


if __name__ == "__main__":
    run_main(main)
