"""Write the pretrained decoder's sections of LLMind/README.md from its reference run.

    python LLMind/decoder/report.py           # after `python train.py --run-name reference-smollm2`
    python LLMind/decoder/report.py --check   # exit 1 if the README is out of date (used by tests)

Every number comes from results/reference-smollm2/metrics.json; the mini-GPT lines that the
block comparison links to are found in CodeLLM's source when the section is written, so the
links follow the code.
"""

from __future__ import annotations

import re
from pathlib import Path

import model as decoder

from shared.lm import metrics
from shared.runtime import files
from shared.runtime.errors import UserError

from tools import reporting

STAGE_DIR = Path(__file__).resolve().parent
ROOT = STAGE_DIR.parents[1]
RUN = STAGE_DIR / "results" / "reference-smollm2"
README = STAGE_DIR.parent / "README.md"
TARGET = 0.10  # the bench's target: fine-tuning cuts the zero-shot bits/char by at least 10%


def load() -> dict:
    path = RUN / "metrics.json"
    if not path.is_file():
        raise UserError(f"{path} is missing; run `python LLMind/decoder/train.py --run-name "
                        "reference-smollm2` first")
    return files.read_json(path)


def mb(n: float) -> str:
    return f"{n / 1e6:,.1f} MB"


def results_section(m: dict) -> str:
    zero, tuned = m["zero_shot"], m["finetuned"]
    d = metrics.compare_runs(tuned, zero)
    change = tuned["test_bits_per_char"] / zero["test_bits_per_char"] - 1
    rows = [["SmolLM2 pretrained (zero-shot)", f"{zero['test_tokens']:,}",
             f"{zero['test_chars_per_token']:.2f}", f"{zero['test_perplexity']:.2f}",
             f"**{zero['test_bits_per_char']:.3f}**", f"{zero['scoring_seconds']:.0f} s"],
            [f"SmolLM2 + LoRA ({m['steps_done']} steps)", f"{tuned['test_tokens']:,}",
             f"{tuned['test_chars_per_token']:.2f}", f"{tuned['test_perplexity']:.2f}",
             f"**{tuned['test_bits_per_char']:.3f}**", f"{tuned['scoring_seconds']:.0f} s"]]
    table = reporting.markdown_table(["model", "test tokens", "characters per token",
                                      "perplexity per token", "test bits/char", "scoring time"], rows)
    met = "met" if -change >= TARGET and m["train_seconds"] <= 600 else "**not met**"
    return (f"{table}\n\nThe test text is the play every language model of the roadmap is scored on "
            f"(Henry IV Part 2, {zero['test_chars']:,} characters), read with the same protocol "
            f"(16 streams, each chunk of {m['config']['chunk']} tokens seeing the {m['config']['context']} "
            f"before it). Fine-tuning changed the cost by **{change:+.1%}** "
            f"({d['difference']:+.3f} bits/char, paired block-bootstrap 95% interval "
            f"{d['low']:+.3f} to {d['high']:+.3f}), after {m['steps_done']} steps "
            f"({m['tokens_trained']:,} training tokens, "
            f"{m['tokens_trained'] / m['train_tokens_available']:.0%} of stage 1's training text once) "
            f"in {m['train_seconds']:.0f} s of training. The bench's "
            f"target, at least {TARGET:.0%} fewer bits/char within 10 minutes, is {met}. Where this "
            "sits beside the models trained from scratch: [every model on the same test text]"
            "(../docs/language-models.md#every-model-on-the-same-test-text).")


def curve_section(m: dict) -> str:
    rows = [[p["step"], f"{p['train_seconds']:.0f} s", f"{p['bits_per_char']:.3f}"] for p in m["curve"]]
    table = reporting.markdown_table(["step", "training time", "bits/char (curve text)"], rows)
    return (f"![Learning curve](decoder/results/reference-smollm2/learning_curve.png)\n\n{table}\n\n"
            f"The curve text is the first {m['curve_chars']:,} characters of the test play, scored "
            f"every {m['config']['curve_every']} steps (step 0 is the pretrained model). Nothing is "
            "chosen on it: the number of steps is fixed before the run and the last step's adapter "
            "is the one scored and saved.")


def params_section(m: dict) -> str:
    total = m["params_total"]
    q = m.get("quantization", {})
    rows = [["pretrained weights (frozen)", f"{m['params_frozen']:,}", f"{m['params_frozen'] / total:.2%}",
             f"{mb(m['gguf_bytes'])} as Q4_1/Q8_0 GGUF; {mb(4 * m['params_frozen'])} in float32"],
            [f"LoRA adapters (r = {m['config']['lora_rank']} on {', '.join(m['config']['lora_targets'])})",
             f"{m['params_trainable']:,}", f"{m['params_trainable'] / total:.2%}",
             f"{mb(m['adapter_bytes'])} (adapter_model.safetensors)"]]
    table = reporting.markdown_table(["part", "parameters", "share", "size on disk / in memory"], rows)
    return (f"{table}\n\nOnly the adapters train and only they are saved: `adapter/` holds "
            f"{mb(m['adapter_bytes'])}, {m['adapter_bytes'] / m['gguf_bytes']:.1%} of the base model's "
            "file, and `sample.py --adapter` puts them back on the bundled model. A full fine-tune would "
            f"update all {total:,} parameters and need AdamW's two running averages for each "
            f"({mb(3 * 4 * total)} in float32 beside the weights)." if q else table)


def quantization_section(m: dict) -> str:
    q = m["quantization"]
    bits = q["bits_per_weight"]
    return (f"The file stores {q['weights']['Q4_1']:,} weights (the {q['tensors']['Q4_1']} linear layers of "
            f"the blocks) as **Q4_1**: blocks of 32 weights, each block with a 16-bit scale d and a "
            f"16-bit minimum m, and a 4-bit code q per weight, so w = d x q + m and a weight costs "
            f"{bits['Q4_1']:.1f} bits. The embedding ({q['weights']['Q8_0']:,} weights, shared with the "
            f"output layer) is Q8_0 ({bits['Q8_0']:.1f} bits each) and the {q['tensors']['F32']} norm "
            f"vectors stay float32. transformers de-quantizes everything to float32 on load: "
            f"{mb(m['gguf_bytes'])} on disk become {mb(4 * m['base']['params'])} in memory, and "
            f"{load_words(m)}. De-quantizing restores the format, not the "
            "original weights: every value is still one of a block's 16 levels. In "
            f"`{q['probe_matrix']}` the {q['probe_blocks']:,} blocks hold at most "
            f"{q['probe_max_distinct_per_block']} distinct values ({q['probe_mean_distinct_per_block']:.1f} "
            "on average). The rounding error stays in the weights; what float32 buys is arithmetic "
            "that PyTorch's CPU kernels and LoRA's gradients can use.")


def tokenizer_section(m: dict) -> str:
    ex = m["tokenizer_example"]
    pieces = " | ".join(f"`{p.replace(' ', '␣')}`" for p in ex["pieces"])
    whole = {p.strip() for p in ex["pieces"]}
    split = [f'"{w}"' for w in ex["line"].replace(",", "").split() if w not in whole]
    return (f"SmolLM2 reads **byte-level BPE** tokens: the text as UTF-8 bytes, merged into "
            f"{m['base']['vocab_size']:,} pieces learned from its training data, so no character is "
            f"ever unknown (stage 2's word model needs an `<unk>` and a spelling model for that). "
            f"On the test play a token covers {m['zero_shot']['test_chars_per_token']:.2f} characters. "
            f"The line \"{ex['line']}\" becomes {len(ex['pieces'])} tokens (␣ is a space):\n\n"
            f"{pieces}\n\nA space belongs to the word after it and common words are one piece; "
            + (f"{', '.join(split)} {'is' if len(split) == 1 else 'are'} cut into pieces that the text "
               "it learned from made common." if split else "no word of it is cut."))


def architecture() -> dict:
    """SmolLM2's shape as its GGUF file's header states it (read without loading the weights)."""
    import gguf

    fields = gguf.GGUFReader(str(decoder.bundled_file())).fields

    def value(key: str):
        return fields[f"llama.{key}"].contents()

    return {"rope_theta": value("rope.freq_base"), "heads": value("attention.head_count"),
            "kv_heads": value("attention.head_count_kv"), "intermediate_size": value("feed_forward_length"),
            "max_positions": value("context_length")}


def link(path: str, pattern: str) -> str:
    """A Markdown link to the first line of `path` (from the repository root) matching `pattern`."""
    lines = (ROOT / path).read_text(encoding="utf-8").splitlines()
    number = next((i for i, line in enumerate(lines, 1) if re.search(pattern, line)), None)
    if number is None:
        raise UserError(f"{path} has no line matching {pattern!r}; update LLMind/decoder/report.py")
    return f"[`{path}` line {number}](../{path}#L{number})"


def blocks_section(m: dict) -> str:
    b = m["base"]
    c = architecture()
    rows = [
        ["where a token is", f"RoPE: queries and keys rotated by an angle that grows with the position "
         f"(base {c['rope_theta']:,.0f}), so attention sees distances", "a learned vector per position, "
         "added to the token's", link("CodeLLM/minigpt/model.py", r"self\.position = nn\.Embedding")],
        ["attention heads", f"grouped-query: {c['heads']} query heads share {c['kv_heads']} key/value heads "
         "(a third of the key/value cache)", "every head has its own keys and values",
         link("CodeLLM/blocks.py", r"self\.query, self\.key, self\.value")],
        ["normalisation", "RMSNorm: divide by the root mean square, one learned scale, no mean "
         "subtracted, no bias", "LayerNorm: subtract the mean, divide by the deviation, scale and shift",
         link("CodeLLM/blocks.py", r"nn\.LayerNorm")],
        ["feed-forward", f"SwiGLU: SiLU(x W1) * (x W3), then W2; {b['hidden_size']} -> "
         f"{c['intermediate_size']} -> {b['hidden_size']}", "Linear, GELU, Linear, 4 x wider",
         link("CodeLLM/blocks.py", r"nn\.GELU")],
        ["embeddings", "tied: the output layer reuses the token embedding", "tied as well",
         link("CodeLLM/minigpt/model.py", r"self\.head\.weight = self\.embed\.weight")],
        ["size", f"{b['layers']} blocks of width {b['hidden_size']}, {b['params']:,} parameters, "
         f"context up to {c['max_positions']:,} tokens", "2 blocks of width 128, 421,504 parameters "
         "(the reference run), context 128 characters", link("CodeLLM/minigpt/config.py", r"n_layer: int")],
    ]
    return reporting.markdown_table(["", "SmolLM2 (2024)", "the mini-GPT (GPT-2's choices, 2019)",
                                     "the mini-GPT's line"], rows)


def probe_section(m: dict) -> str:
    p = m["causal_probe"]
    enc = p.get("encoder_first_token_change")
    encoder = ("" if enc is None else
               f" The same change moves MiniLM's first token by up to {enc:.3f}: the encoder's "
               "attention has no mask, every token sees the whole sentence, which is what a "
               "classifier of the whole sentence wants and what predicting the next word cannot have.")
    return (f"Change the last word of \"{p['line']}\" to \"beginning\" and compare each model's "
            f"last-layer vector for the first token. SmolLM2's moves by "
            f"{p['decoder_first_token_change']:.3g}: a causal decoder's position t attends to positions up "
            f"to t only, so nothing after the first token can reach it.{encoder}")


def load_words(m: dict) -> str:
    if m.get("loaded_from_copy"):  # the run read the float32 copy an earlier load kept
        return (f"the load took {m['load_seconds']:.0f} s from the float32 copy that an earlier "
                "load kept (de-quantizing takes about half a minute)")
    return (f"the load took {m['load_seconds']:.0f} s (it keeps a float32 copy, so later loads "
            "take about a second)")


def costs_section(m: dict) -> str:
    zero, tuned = m["zero_shot"], m["finetuned"]
    load = ("load the de-quantized copy (later runs)" if m.get("loaded_from_copy")
            else "load and de-quantize the GGUF file (the first run)")
    rows = [[load, f"{m['load_seconds']:.0f} s"],
            [f"score the test play ({zero['test_tokens']:,} tokens), pretrained",
             f"{zero['scoring_seconds']:.0f} s"],
            [f"LoRA fine-tune, {m['steps_done']} steps of {m['config']['batch_size']} x "
             f"{m['config']['seq_len']} tokens", f"{m['train_seconds']:.0f} s "
             f"({m['tokens_per_second']:,.0f} tokens/s)"],
            ["score the test play, fine-tuned", f"{tuned['scoring_seconds']:.0f} s"],
            ["peak memory of the process", f"{m['peak_memory_mb']:,.0f} MB"]]
    return (reporting.markdown_table(["step", f"{m['threads']} CPU threads"], rows) +
            f"\n\nThe fine-tune reads {m['tokens_per_second']:,.0f} tokens "
            f"({m['tokens_per_second'] * zero['test_chars_per_token']:,.0f} characters) per second: every "
            f"token passes through all {m['base']['params'] / 1e6:.1f} M weights, forward and backward, "
            "even though only the adapters change (the models trained from scratch read theirs at the "
            "speeds in [the cross-stage table]"
            "(../docs/language-models.md#every-model-on-the-same-test-text)).")


def samples_section(m: dict) -> str:
    out = []
    for when, title in (("zero_shot", "pretrained"), ("finetuned", "fine-tuned")):
        for s in m["samples"][when]:
            how = "asked through its chat template" if s["mode"] == "chat" else "continuing the prompt"
            body = s["text"] if s["mode"] == "chat" else s["prompt"] + s["text"]
            out.append(f"**{title}, {how}, temperature {s['temperature']:g}**\n\n"
                       f"```text\n{body.strip()}\n```")
    return "\n\n".join(out)


def sections() -> dict[str, str]:
    m = load()
    m["config"] = files.read_json(RUN / "config.json")
    return {"decoder-results": results_section(m), "decoder-curve": curve_section(m),
            "decoder-params": params_section(m), "decoder-quantization": quantization_section(m),
            "decoder-tokenizer": tokenizer_section(m), "decoder-blocks": blocks_section(m),
            "decoder-probe": probe_section(m), "decoder-costs": costs_section(m),
            "decoder-samples": samples_section(m)}


def main(argv=None) -> int:
    return reporting.report_main(__doc__, README, sections, argv)


if __name__ == "__main__":
    raise SystemExit(main())
