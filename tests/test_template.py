"""`make new-stage`: the scaffold writes a stage that follows the conventions, and its own smoke
test passes straight away, in a copy of the repository; bad names are one clear line."""

import shutil
import subprocess
import sys

import pytest
from conftest import ROOT, assert_one_line_error, run_script

SCAFFOLD = "templates/new_stage.py"


def repository_copy(tmp_path):
    """What a new stage needs from a clone: the shared package, the tooling (its test loads
    modules by path), the templates, the test helpers and pytest's settings."""
    copy = tmp_path / "repo"
    ignore = shutil.ignore_patterns("__pycache__", "results")
    for folder in ("shared", "tools", "templates"):
        shutil.copytree(ROOT / folder, copy / folder, ignore=ignore)
    (copy / "tests").mkdir()
    shutil.copy(ROOT / "tests" / "conftest.py", copy / "tests")
    shutil.copy(ROOT / "pyproject.toml", copy)
    return copy


@pytest.mark.slow
def test_new_stage_scaffold_passes_its_own_smoke_test(tmp_path):
    copy = repository_copy(tmp_path)
    proc = run_script(SCAFFOLD, "MyStage", "--root", copy)
    assert "wrote MyStage/train.py" in proc.stdout
    for name in ("README.md", "config.py", "model.py", "train.py"):
        text = (copy / "MyStage" / name).read_text(encoding="utf-8")
        assert "__NAME__" not in text and "__NUMBER__" not in text
    assert "class MyStageConfig(RuntimeConfig)" in (copy / "MyStage" / "config.py").read_text()
    # settings read like settings: one `name: type = opt(default, "what it does")` per field
    assert "= opt(" in (copy / "MyStage" / "config.py").read_text()
    assert "<!-- begin: results -->" in (copy / "MyStage" / "README.md").read_text()
    test = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           "tests/test_mystage.py"], cwd=copy, capture_output=True, text=True,
                          timeout=600)
    assert test.returncode == 0, test.stdout[-3000:] + test.stderr[-2000:]
    assert "3 passed" in test.stdout


def test_new_stage_refuses_bad_names_and_existing_folders(tmp_path):
    copy = repository_copy(tmp_path)
    assert_one_line_error(run_script(SCAFFOLD, "my-stage", "--root", copy, check=False),
                          "CamelCase")
    (copy / "Taken").mkdir()
    assert_one_line_error(run_script(SCAFFOLD, "Taken", "--root", copy, check=False),
                          "Taken already exists")
    assert not (copy / "tests" / "test_taken.py").exists()
