"""Every script a user runs answers --help with its description and its flags; every train
script takes the same common flags (the consistency the roadmap promises)."""

import pytest
from conftest import ROOT, help_text

SCRIPTS = ["TinyLLM/train.py", "TinyLLM/sample.py", "TinyLLM/report.py", "TinyLLM/gates.py",
           "SmaLLM/train.py", "SmaLLM/sample.py", "SmaLLM/report.py",
           "MemoryLLM/train.py", "MemoryLLM/predict.py", "MemoryLLM/report.py",
           "CodeLLM/forecaster/train.py", "CodeLLM/forecaster/predict.py", "CodeLLM/report.py",
           "CodeLLM/compare/compare.py", "CodeLLM/minigpt/train.py", "CodeLLM/minigpt/sample.py",
           "CodeLLM/minigpt/recall.py", "CodeLLM/minigpt/budgets.py", "CodeLLM/minigpt/sweep.py",
           "CodeLLM/minigpt/genre.py", "CodeLLM/compare/claims.py",
           "CodeLLM/seq2seq/train.py", "CodeLLM/seq2seq/why_attention.py",
           "LLMind/train.py", "LLMind/predict.py", "LLMind/report.py", "LLMind/tokenizer_quest.py",
           "LLMind/tune.py", "LLMind/decoder/train.py", "LLMind/decoder/sample.py",
           "LLMind/decoder/report.py",
           "TinyLLM/exercises.py", "SmaLLM/exercises.py", "MemoryLLM/exercises.py", "CodeLLM/exercises.py",
           "LLMind/exercises.py",
           "benchmarks/run.py", "docs/build.py", "templates/new_stage.py"]
TRAIN_SCRIPTS = [s for s in SCRIPTS if s.endswith("train.py")]
COMMON_FLAGS = ("--seed", "--device", "--out-dir", "--run-name", "--smoke")
PYTORCH_FLAGS = ("--threads", "--dtype", "--compile", "--grad-accum")  # shared/runtime/config.py
# Runs of several minutes resume; the forecasters and toy tasks train in about a minute.
RESUMABLE = ("TinyLLM/train.py", "SmaLLM/train.py", "CodeLLM/minigpt/train.py", "LLMind/train.py",
             "LLMind/decoder/train.py")


@pytest.mark.parametrize("script", SCRIPTS)
def test_every_script_answers_help(script):
    text = help_text(script)
    assert text.startswith("usage:") and "options:" in text
    assert "-h, --help" in text
    # and the file runs main through run_main (one-line errors) when it is run as a script
    assert 'if __name__ == "__main__":' in (ROOT / script).read_text(encoding="utf-8")


@pytest.mark.parametrize("script", TRAIN_SCRIPTS)
def test_train_scripts_share_the_common_flags(script):
    text = help_text(script)
    expected = (COMMON_FLAGS + (() if script.startswith("MemoryLLM") else PYTORCH_FLAGS)
                + (("--resume",) if script in RESUMABLE else ()))
    missing = [flag for flag in expected if flag not in text]
    assert not missing, f"{script} lacks {missing}"
