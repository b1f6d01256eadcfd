"""Generated write-up sections must match the committed results files."""

from conftest import run_script


def test_tinyllm_readme_matches_reference_results():
    proc = run_script("TinyLLM/report.py", "--check", check=False)
    assert proc.returncode == 0, proc.stderr
