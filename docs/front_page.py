"""The generated parts of the top README: the stage table (headline result of each stage's
reference run, wall time of its default command) and the times of the two commands.

Imported by docs/build.py (`make docs`); the numbers come from the committed reference runs
and from results/bench.json, which `make bench` writes while it retrains them.
"""

from __future__ import annotations

from pathlib import Path

from shared.runtime import files

from tools import reporting

ROOT = Path(__file__).resolve().parents[1]


def _read(relative: str) -> dict:
    return files.read_json(ROOT / relative)


def _minutes(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.0f} min"


def _compare(value: float, other: float) -> str:
    """'worse than' or 'better than' in bits per character (lower is better)."""
    return f"{abs(value - other):.2f} {'worse' if value > other else 'better'} than"


def _row(rows: list[dict], key: str, value: str) -> dict:
    return next(r for r in rows if r[key] == value)


def stage_rows(bench: dict) -> list[list[str]]:
    """One row per stage: folder, what it teaches, framework, default command, headline result
    beside its baseline, and the command's wall time on the benchmark machine."""
    gru = _read("TinyLLM/results/reference-gru/metrics.json")
    small = _read("SmaLLM/results/reference-lstm/metrics.json")
    memory = _read("MemoryLLM/results/reference-lstm/metrics.json")
    compare = _read("CodeLLM/compare/results/compare-goog/comparison.json")["models"]
    gpt = _read("CodeLLM/minigpt/results/reference-gpt/metrics.json")
    mind = _read("LLMind/results/reference-minilm/metrics.json")
    smol = _read("LLMind/decoder/results/reference-smollm2/metrics.json")
    tfidf = mind["baselines"]["tfidf_logreg"]
    transformer, lstm = compare["transformer"], compare["torch-lstm"]

    def u_words(u: float) -> str:
        side = "worse" if u > 1 else "better"
        return f"{abs(u - 1):.1%} {side} than \"tomorrow = today\""

    confusion = tfidf["test_confusion"]  # rows: true label; the commoner label's share of the test
    majority = max(sum(row) for row in confusion) / sum(map(sum, confusion))

    t_u, l_u = transformer["test_theil_u_mean"], lstm["test_theil_u_mean"]
    u_summary = ("neither beats persistence" if min(t_u, l_u) > 1 else
                 "both beat persistence" if max(t_u, l_u) < 1 else "below 1 beats persistence")

    return [
        ["1", "[`TinyLLM/`](TinyLLM/README.md)",
         "character-level language model: bigram, RNN, GRU, LSTM, truncated BPTT", "PyTorch",
         "`cd TinyLLM && python train.py`",
         f"GRU {gru['test_bits_per_char']:.2f} bits/char on a held-out test play: lower is "
         f"better; a uniform guess over its {gru['vocab_size']} characters costs "
         f"{gru['test_uniform_bits_per_char']:.2f}, counted bigrams "
         f"{gru['test_bigram_counts_bits_per_char']:.2f}",
         _minutes(_row(bench["tinyllm"]["rows"], "model", "gru")["wall_seconds"])],
        ["2", "[`SmaLLM/`](SmaLLM/README.md)",
         "word-level language model: tokenizer, embeddings, unknown words",
         "PyTorch, `tokenizers`", "`cd SmaLLM && python train.py`",
         f"{small['test_bits_per_char']:.2f} bits/char on the same test play, "
         f"{_compare(small['test_bits_per_char'], gru['test_bits_per_char'])} stage 1's GRU "
         f"({gru['test_bits_per_char']:.2f})",
         _minutes(bench["smallm"]["rows"][0]["wall_seconds"])],
        ["3", "[`MemoryLLM/`](MemoryLLM/README.md)",
         "LSTM forecaster of GOOG's next close, against naive baselines", "Keras 3",
         "`cd MemoryLLM && python train.py`",
         f"Theil's U {memory['test_theil_u_mean']:.3f}: {u_words(memory['test_theil_u_mean'])} "
         f"(below 1 would beat it; RMSE ${memory['test_rmse_mean']:.2f}, mean of "
         f"{memory['seeds']} seeds)",
         _minutes(bench["memoryllm"]["wall_seconds"])],
        ["4", "[`CodeLLM/`](CodeLLM/README.md)",
         "attention from scratch, a transformer forecaster vs stage 3, a mini-GPT, seq2seq toy "
         "tasks", "NumPy, PyTorch", "`make compare`",
         f"transformer Theil's U {t_u:.3f} ({u_words(t_u)}), PyTorch LSTM {l_u:.3f}: "
         f"{u_summary}; mini-GPT {gpt['test_bits_per_char']:.2f} bits/char, "
         f"{_compare(gpt['test_bits_per_char'], gru['test_bits_per_char'])} the GRU",
         _minutes(bench["codellm"]["wall_seconds"])],
        ["5", "[`LLMind/`](LLMind/README.md)",
         "fine-tuning a pretrained encoder (MiniLM) against TF-IDF and frozen features; a "
         "pretrained decoder (SmolLM2) on the test play, LoRA fine-tuning; a custom tokenizer",
         "`transformers`, `peft`, scikit-learn", "`cd LLMind && python train.py`",
         f"{mind['test_accuracy']:.1%} of test reviews labelled right (always the commoner "
         f"label: {majority:.1%}; TF-IDF + logistic regression: {tfidf['test_accuracy']:.1%}); "
         f"SmolLM2 {smol['zero_shot']['test_bits_per_char']:.2f} bits/char on the test play "
         f"before any Shakespeare, {smol['finetuned']['test_bits_per_char']:.2f} after LoRA "
         f"(stage 1's GRU: {gru['test_bits_per_char']:.2f})",
         _minutes(bench["llmind"]["wall_seconds"])],
    ]


def stage_table(bench: dict) -> str:
    machine = bench["machine"]
    note = (f"\n\nResults are the committed reference runs' (each stage's write-up has the full "
            f"table and its baselines); times are wall-clock on {machine['cpu_count']} CPU cores, "
            "from `make bench`, after the environment is installed. Stage 4's command is the "
            "stage 3 vs 4 comparison; its mini-GPT (`python CodeLLM/minigpt/train.py`) takes "
            f"{_minutes(bench['minigpt']['rows'][0]['wall_seconds'])}.")
    headers = ["stage", "folder", "what it teaches", "framework", "default command",
               "headline result", "time"]
    return reporting.markdown_table(headers, stage_rows(bench)) + note


def commands_section(bench: dict) -> str:
    tests = bench.get("tests")
    test_time = (f"{tests['passed']} tests in {_minutes(tests['wall_seconds'])}"
                 if tests else "run `make bench` to time it")
    return ("```bash\n"
            f"make compare   # stage 3 vs 4 on GOOG: {_minutes(bench['codellm']['wall_seconds'])}\n"
            f"make test      # the test suite: {test_time}\n"
            "```")
