"""What a decoder run shows: its learning curve (PNG) and its samples (Markdown)."""

from __future__ import annotations

from pathlib import Path

from shared import plotting


def learning_curve(result: dict, path: Path) -> Path:
    """Curve-text bits/char against fine-tuning steps, the pretrained model at step 0, with the
    whole test play's score before and after as dashed levels."""
    curve = result["curve"]
    fig, ax = plotting.figure()
    ax.plot([p["step"] for p in curve], [p["bits_per_char"] for p in curve], "o-", color="C0",
            label=f"first {result['curve_chars']:,} characters of the test play")
    for key, color, what in (("zero_shot", "C7", "pretrained"), ("finetuned", "C3", "fine-tuned")):
        bits = result[key]["test_bits_per_char"]
        ax.axhline(bits, ls="--", color=color, lw=1, label=f"whole test play, {what}: {bits:.3f}")
    ax.set_xlabel(f"LoRA fine-tuning step ({result['tokens_trained'] // max(1, result['steps_done']):,} "
                  "tokens each)")
    ax.set_ylabel("bits per character (lower is better)")
    ax.set_title(f"{result['base']['base_model']}\nfine-tuned on stage 1's training text")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return plotting.save_figure(fig, path)


def samples_markdown(result: dict, path: Path) -> Path:
    lines = [f"# Samples of {result['base']['base_model']}", ""]
    for when, title in (("zero_shot", "Pretrained (zero-shot)"), ("finetuned", "After LoRA fine-tuning")):
        for s in result["samples"].get(when, []):
            how = "answering through the chat template" if s["mode"] == "chat" else "continuing the prompt"
            lines += [f"## {title}, {how}, temperature {s['temperature']:g}", "",
                      f"Prompt: `{s['prompt']!r}`", "", "```text", s["prompt"] + s["text"]
                      if s["mode"] == "continue" else s["text"], "```", ""]
    path.write_text("\n".join(lines), encoding="utf-8")
    return path
