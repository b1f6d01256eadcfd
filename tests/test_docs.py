"""Generated write-up sections must match the committed results files (each script's --check,
called in this process: no training, so a subprocess would only add its imports)."""

import pytest
from conftest import call_main


@pytest.mark.parametrize("script", ["TinyLLM/report.py", "SmaLLM/report.py", "MemoryLLM/report.py",
                                    "CodeLLM/report.py", "LLMind/decoder/report.py", "docs/build.py"])
def test_generated_docs_match_reference_results(script):
    assert call_main(script, "--check") == 0


@pytest.mark.parametrize("ticker", ["GOOG", "MSFT"])
def test_stage3_vs_stage4_writeups_match_their_comparisons(ticker):
    assert call_main("CodeLLM/compare/compare.py", "--report-only", "--check", "--ticker", ticker) == 0
