"""A pretrained decoder on the roadmap's own text: score SmolLM2 (135 M parameters, trained
elsewhere on trillions of tokens) on the test play that stages 1, 2 and 4 are scored on, sample
it, fine-tune LoRA adapters on stage 1's training text, then score and sample it again.

    cd LLMind/decoder
    python train.py                  # about 15 minutes on 2 cores, offline (6 of them fine-tuning)
    python train.py --steps 0        # the pretrained model only: scores and samples (about 4 minutes)
    python train.py --resume         # continue an interrupted fine-tune (Ctrl-C saves one)
    python train.py --smoke          # under a minute: a few characters, two steps, every artifact
    python sample.py --adapter results/smollm2/adapter --temperature 0.8

A run writes results/<run-name>/: config.json, zero_shot.json (the pretrained model's scores and
samples, kept for --resume), metrics.json (test bits/char before and after fine-tuning with the
per-block nats docs/language-models.md pairs, the learning curve, parameter counts and sizes,
times and memory, samples), samples.md, learning_curve.png, adapter/ (the LoRA weights alone,
adapter_model.safetensors, with base.json naming the model they belong to), checkpoint/ (for
--resume) and tensorboard/ (live curves; --no-tensorboard skips them). Nothing is chosen on
the test text: --steps is fixed before the run.
"""

from __future__ import annotations

import dataclasses
import resource
import shutil
import sys
import time
import warnings
from pathlib import Path

import facts
import torch
from tqdm import tqdm

import model as decoder
import plots
from config import SMOKE_OVERRIDES, DecoderConfig

from shared.lm import text
from shared.runtime import devices, files, parallel
from shared.runtime.config import parse_stage_args
from shared.runtime.curves import event_writer
from shared.runtime.errors import UserError, run_main
from shared.runtime.schedule import learning_rate

# peft cannot find a config.json beside a GGUF file and says so at every save; transformers warns
# about a renamed method that peft calls. Neither concerns a learner.
warnings.filterwarnings("ignore", message="Could not find a config file")
warnings.filterwarnings("ignore", category=FutureWarning, module="transformers")

CHAT_PROMPT = ("Write the opening lines of a scene from a Shakespeare history play, as a script: "
               "each speech starts with the speaker's name in capitals and a colon.")


def check(cfg: DecoderConfig) -> None:
    if cfg.minutes <= 0 or cfg.steps < 0:
        raise UserError("--minutes must be positive and --steps at least 0")
    if min(cfg.chunk, cfg.batch_size, cfg.seq_len, cfg.curve_every, cfg.sample_tokens) < 1 or cfg.context < 0:
        raise UserError("--chunk, --batch-size, --seq-len, --curve-every and --sample-tokens must be "
                        "at least 1, --context at least 0")
    if cfg.grad_accum < 1 or cfg.batch_size % cfg.grad_accum:
        raise UserError(f"--batch-size {cfg.batch_size} must be a multiple of --grad-accum {cfg.grad_accum}")
    if cfg.dtype == "float16":
        raise UserError("--dtype float16 needs a gradient scaler that this script does not have; "
                        "use bfloat16 (or float32)")
    if any(t <= 0 for t in cfg.temperatures):
        raise UserError("--temperatures must be positive (greedy decoding repeats itself; use 0.3 "
                        "for nearly greedy)")


def samples(lm, tokenizer, cfg: DecoderConfig, chat: bool) -> list[dict]:
    """The prompt continued at each temperature (and, for the instruction-tuned model, one answer
    to a request through its chat template)."""
    lm.eval()
    out = [{"temperature": t, "mode": "continue", "prompt": cfg.prompt,
            "text": decoder.sample(lm, tokenizer, cfg.prompt, t, cfg.sample_tokens, cfg.top_p, cfg.seed)}
           for t in cfg.temperatures]
    if chat and getattr(tokenizer, "chat_template", None):
        t = cfg.temperatures[len(cfg.temperatures) // 2]
        out.append({"temperature": t, "mode": "chat", "prompt": CHAT_PROMPT,
                    "text": decoder.sample(lm, tokenizer, CHAT_PROMPT, t, 2 * cfg.sample_tokens,
                                           cfg.top_p, cfg.seed, chat=True)})
    return out


def timed_score(lm, tokenizer, test: str, cfg: DecoderConfig, device, what: str) -> dict:
    print(f"scoring {what} on {len(test):,} test characters ...")
    started = time.perf_counter()
    result = decoder.score(decoder.ContextLM(lm, cfg.context), tokenizer, test, cfg.chunk, device)
    result["scoring_seconds"] = time.perf_counter() - started
    print(f"{what}: {result['test_bits_per_char']:.3f} bits/char ({result['test_tokens']:,} tokens, "
          f"{result['test_chars_per_token']:.2f} characters each) in {result['scoring_seconds']:.0f} s")
    return result


def batch(train_ids: torch.Tensor, step: int, cfg: DecoderConfig) -> torch.Tensor:
    """Step `step`'s chunks (batch, seq_len + 1) at random places of the training text; the
    places depend on the seed and the step alone, so a resumed run reads what it would have."""
    g = torch.Generator().manual_seed(cfg.seed * 100_003 + step)
    starts = torch.randint(0, len(train_ids) - cfg.seq_len - 1, (cfg.batch_size,), generator=g)
    return torch.stack([train_ids[s : s + cfg.seq_len + 1] for s in starts.tolist()])


def curve_point(lm, tokenizer, curve_text: str, cfg, device, step: int, seconds: float) -> dict:
    bits = decoder.score(decoder.ContextLM(lm, cfg.context), tokenizer, curve_text, cfg.chunk, device)
    return {"step": step, "train_seconds": round(seconds, 1), "bits_per_char": bits["test_bits_per_char"]}


def autocast(device, dtype: torch.dtype):
    """Mixed precision for --dtype bfloat16; nothing for float32 (the CPU default)."""
    return torch.autocast(torch.device(device).type, dtype=dtype, enabled=dtype != torch.float32)


def fine_tune(lm, tokenizer, train_ids, curve_text, cfg, out: Path, base: dict, resume: bool,
              start_point: dict, device, dtype: torch.dtype = torch.float32) -> dict:
    """LoRA fine-tuning for cfg.steps steps (or cfg.minutes of training), scoring the curve text
    and saving checkpoint/ every cfg.curve_every steps. Ctrl-C saves checkpoint/ and exits 130."""
    ckpt_dir, state_path = out / "checkpoint", out / "checkpoint" / "state.pt"
    if resume and not state_path.is_file():
        print(f"note: no fine-tuning checkpoint in {ckpt_dir} yet; fine-tuning from the start")
        resume = False
    if resume:
        lm = decoder.load_adapter(lm, ckpt_dir, base, trainable=True)
        state = files.load_checkpoint(state_path, {"settings": settings_identity(cfg)})
    else:
        torch.manual_seed(cfg.seed)  # LoRA's A matrices
        lm = decoder.add_lora(lm, cfg)
        state = {"step": 0, "train_seconds": 0.0, "curve": [start_point], "losses": []}
    params = [p for p in lm.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=cfg.lr, weight_decay=0.0)
    if resume:
        optimizer.load_state_dict(state["optimizer"])
        torch.set_rng_state(state["rng"])
        print(f"resuming {out} at step {state['step']}")
    step, seconds, curve, losses = state["step"], state["train_seconds"], state["curve"], state["losses"]

    def save() -> None:
        decoder.save_adapter(lm, ckpt_dir, base)
        files.save_checkpoint(state_path, {"settings": settings_identity(cfg), "step": step,
                                           "train_seconds": seconds, "curve": curve, "losses": losses,
                                           "optimizer": optimizer.state_dict(),
                                           "rng": torch.get_rng_state()})  # LoRA's dropout masks

    budget = 60.0 * cfg.minutes
    # Live curves in <run>/tensorboard/: the training loss and learning rate every step, the
    # curve text's bits per character at every curve point (--no-tensorboard: none)
    curves = event_writer(out, cfg.tensorboard)
    if not resume:
        curves.scalar("bits_per_char/curve_text", start_point["bits_per_char"], 0)
    net = torch.compile(lm) if cfg.compile else lm  # the module to train; `lm` to score and save
    micro = cfg.batch_size // cfg.grad_accum
    bar = tqdm(total=cfg.steps, initial=step, desc="LoRA fine-tune", unit="step", dynamic_ncols=True,
               disable=None)  # off when the output is not a terminal (a log file, a test)
    lm.train()
    try:
        while step < cfg.steps and seconds < budget:
            started = time.perf_counter()
            for group in optimizer.param_groups:
                group["lr"] = learning_rate(step, cfg.lr, cfg.warmup_steps, cfg.steps)
            chunk = batch(train_ids, step, cfg).to(device)  # (batch, seq_len + 1)
            optimizer.zero_grad(set_to_none=True)
            loss = 0.0
            for part in chunk.split(micro):  # --grad-accum: the same batch, less memory per pass
                with autocast(device, dtype):
                    logits = net(input_ids=part[:, :-1], use_cache=False).logits  # (micro, seq_len, vocab)
                    part_loss = torch.nn.functional.cross_entropy(logits.flatten(0, 1).float(),
                                                                  part[:, 1:].flatten()) / cfg.grad_accum
                part_loss.backward()
                loss += part_loss.detach()
            torch.nn.utils.clip_grad_norm_(params, cfg.grad_clip)
            optimizer.step()
            step += 1
            seconds += time.perf_counter() - started  # training only: the curve's scoring is not counted
            losses.append(round(loss.item(), 4))
            curves.scalar("loss/train", loss.item(), step)
            curves.scalar("learning_rate", optimizer.param_groups[0]["lr"], step)
            if step == 1 and seconds >= budget:
                raise UserError(f"--minutes {cfg.minutes:g} is less than one fine-tuning step "
                                f"({seconds:.1f} s here); give at least {seconds / 30:.2f}")
            bar.update(1)
            bar.set_postfix(loss=f"{loss.item():.3f}")
            if step % cfg.curve_every == 0 or step == cfg.steps or seconds >= budget:
                curve.append(curve_point(lm, tokenizer, curve_text, cfg, device, step, seconds))
                curves.scalar("bits_per_char/curve_text", curve[-1]["bits_per_char"], step)
                bar.write(f"step {step:4d} | train loss {loss.item():.3f} nats/token | curve text "
                          f"{curve[-1]['bits_per_char']:.3f} bits/char | {seconds:.0f} s")
                save()
                lm.train()
    except KeyboardInterrupt:
        save()
        curves.close()
        bar.close()
        print(f"\ninterrupted at step {step}; saved {ckpt_dir}. To continue, run the same command "
              "again with --resume")
        sys.exit(130)
    bar.close()
    curves.close()
    return {"lm": lm, "steps_done": step, "train_seconds": seconds, "curve": curve, "losses": losses,
            "stopped_by": "steps" if step >= cfg.steps else "minutes"}


def settings_identity(cfg: DecoderConfig) -> dict:
    """What a checkpoint must match to be resumed: everything that shapes the fine-tune."""
    keys = ("model", "data", "lora_rank", "lora_alpha", "lora_dropout", "lora_targets", "steps",
            "batch_size", "seq_len", "lr", "warmup_steps", "seed", "curve_chars", "test_chars")
    return {k: getattr(cfg, k) for k in keys}


def main(argv=None) -> dict:
    cfg, args = parse_stage_args(DecoderConfig, __doc__.split("\n\n")[0], SMOKE_OVERRIDES, argv)
    check(cfg)
    device = devices.pick_device(cfg.device)
    threads = devices.set_threads(cfg.threads)
    dtype = parallel.resolve_dtype(cfg.dtype, device)
    out = files.run_dir(cfg.out_dir, cfg.run_name)
    parts = text.splits("tiny", cfg.data)
    test = parts.test[: cfg.test_chars] if cfg.test_chars else parts.test
    curve_text = parts.test[: cfg.curve_chars]
    files.write_json(out / "config.json", {**dataclasses.asdict(cfg), "smoke": args.smoke})

    started = time.perf_counter()
    # the bundled model's first load de-quantizes the GGUF file; later ones read its float32 copy
    from_copy = cfg.model == decoder.BUNDLED and decoder.has_float32_copy()
    tokenizer, lm, base = decoder.load(cfg.model)
    lm.to(device)
    load_seconds = time.perf_counter() - started
    print(f"loaded {base['base_model']}: {base['params']:,} parameters in {load_seconds:.0f} s "
          f"({threads} threads on {device})")
    train_ids, _ = decoder.encode(tokenizer, parts.train)
    if len(train_ids) <= cfg.seq_len + 1:
        raise UserError(f"the training text has {len(train_ids)} tokens: too few for --seq-len {cfg.seq_len}")

    zero_path = out / "zero_shot.json"
    if args.resume and not zero_path.is_file():
        raise UserError(f"--resume: nothing to resume in {out}; run without --resume first")
    if args.resume:
        zero = files.read_json(zero_path)
    else:
        zero = {"score": timed_score(lm, tokenizer, test, cfg, device, "pretrained (zero-shot)"),
                "curve_point": curve_point(lm, tokenizer, curve_text, cfg, device, 0, 0.0),
                "samples": samples(lm, tokenizer, cfg, chat=True), "load_seconds": load_seconds,
                "loaded_from_copy": from_copy}
        files.write_json(zero_path, zero)
    result = {"base": base, "zero_shot": zero["score"], "samples": {"zero_shot": zero["samples"]},
              "load_seconds": zero["load_seconds"], "loaded_from_copy": zero.get("loaded_from_copy", False),
              "threads": threads, "smoke": args.smoke,
              "curve_chars": len(curve_text), "train_tokens_available": len(train_ids) - 1}
    result["tokenizer_example"] = facts.tokenizer_example(tokenizer)
    result["causal_probe"] = facts.causal_probe(lm, tokenizer)
    if cfg.model == decoder.BUNDLED:
        result["gguf_bytes"] = decoder.bundled_file().stat().st_size
        result["quantization"] = facts.quantization(decoder.bundled_file(), lm)
    if cfg.steps:
        run = fine_tune(lm, tokenizer, train_ids, curve_text, cfg, out, base, args.resume,
                        zero["curve_point"], device, dtype)
        lm = run.pop("lm")
        result.update(run, tokens_trained=run["steps_done"] * cfg.batch_size * cfg.seq_len,
                      **decoder.param_counts(lm))
        result["tokens_per_second"] = result["tokens_trained"] / max(run["train_seconds"], 1e-9)
        result["finetuned"] = timed_score(lm, tokenizer, test, cfg, device, "fine-tuned")
        result["samples"]["finetuned"] = samples(lm, tokenizer, cfg, chat=False)
        if (out / "adapter").exists():
            shutil.rmtree(out / "adapter")
        result["adapter_bytes"] = decoder.save_adapter(lm, out / "adapter", base)
        zero_bits = result["zero_shot"]["test_bits_per_char"]
        tuned_bits = result["finetuned"]["test_bits_per_char"]
        print(f"test bits/char: {zero_bits:.3f} pretrained -> {tuned_bits:.3f} fine-tuned "
              f"({tuned_bits / zero_bits - 1:+.1%}) after {run['steps_done']} steps in "
              f"{run['train_seconds']:.0f} s; adapter {result['adapter_bytes'] / 1e6:.1f} MB")
    else:
        result.update(decoder.param_counts(lm))
    result["peak_memory_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    files.write_json(out / "metrics.json", result)
    plots.samples_markdown(result, out / "samples.md")
    if cfg.steps:
        plots.learning_curve(result, out / "learning_curve.png")
    print(f"wrote {out}")
    return result


if __name__ == "__main__":
    run_main(main)
