"""Generated write-up sections must match the committed results files."""

import pytest
from conftest import run_script


@pytest.mark.parametrize("script", ["TinyLLM/report.py", "SmaLLM/report.py", "MemoryLLM/report.py",
                                    "CodeLLM/report.py", "LLMind/decoder/report.py", "docs/build.py"])
def test_generated_docs_match_reference_results(script):
    proc = run_script(script, "--check", check=False)
    assert proc.returncode == 0, proc.stderr


@pytest.mark.parametrize("ticker", ["GOOG", "MSFT"])
def test_stage3_vs_stage4_writeups_match_their_comparisons(ticker):
    proc = run_script("CodeLLM/compare/compare.py", "--report-only", "--check", "--ticker", ticker,
                      check=False)
    assert proc.returncode == 0, proc.stderr
