"""Generated write-up sections must match the committed results files."""

import pytest
from conftest import run_script


@pytest.mark.parametrize("script", ["TinyLLM/report.py", "SmaLLM/report.py", "MemoryLLM/report.py",
                                    "docs/build.py"])
def test_generated_docs_match_reference_results(script):
    proc = run_script(script, "--check", check=False)
    assert proc.returncode == 0, proc.stderr
