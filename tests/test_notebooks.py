"""The walkthrough notebooks and tools/notebooks.py: each notebook is committed without outputs,
ends with its stage's exercises, calls the stage's own code rather than defining models, and
runs from top to bottom in smoke mode (ROADMAP_SMOKE=1) without changing a tracked file."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import nbformat
import pytest

from tools import notebooks

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = notebooks.NOTEBOOKS
# Defining a model in a cell, instead of importing the stage's: what a walkthrough must not do.
MODEL_CODE = re.compile(r"^\s*class\s|nn\.Module|keras\.(Model|Sequential|layers)|def forward\(", re.M)


def read(name: str) -> nbformat.NotebookNode:
    return nbformat.read(ROOT / name, as_version=4)


def code_cells(notebook: nbformat.NotebookNode) -> list[str]:
    return [cell.source for cell in notebook.cells if cell.cell_type == "code"]


def stage_folder(name: str) -> str:
    """The stage a notebook belongs to (the lessons are stage 4's)."""
    return name.split("/")[0]


def git_status(folder: str) -> str:
    """Tracked files changed, and files git would pick up, in `folder` (ignored ones excluded)."""
    return subprocess.run(["git", "status", "--porcelain", "--untracked-files=all", "--", folder],
                          cwd=ROOT, capture_output=True, text=True, check=True).stdout


def test_every_stage_has_a_notebook():
    assert sorted({stage_folder(n) for n in NOTEBOOKS}) == ["CodeLLM", "LLMind", "MemoryLLM",
                                                            "SmaLLM", "TinyLLM"]
    assert all((ROOT / n).is_file() for n in NOTEBOOKS)


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_committed_without_outputs(name):
    assert notebooks.problem(ROOT / name) is None


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_ends_with_the_stage_exercises(name):
    notebook = read(name)
    last_code = max(i for i, cell in enumerate(notebook.cells) if cell.cell_type == "code")
    assert last_code == len(notebook.cells) - 1, "nothing may follow the exercises"
    assert 'exercises.main(["--list"])' in notebook.cells[last_code].source
    heading = notebook.cells[last_code - 1]
    assert heading.cell_type == "markdown" and heading.source.startswith("## Exercises")


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_calls_the_stage_code_instead_of_copying_it(name):
    cells = code_cells(read(name))
    for number, cell in enumerate(cells, 1):
        compile(cell, f"{name}, code cell {number}", "exec")  # plain Python, no shell magics
    source = "\n".join(cells)
    assert not MODEL_CODE.search(source), MODEL_CODE.search(source).group(0)
    # The set-up cell (after the Colab one): the repository root found from the working folder,
    # the stage's folder on the path and as the working folder, and the smoke switch.
    setup = next(c for c in cells if "ROADMAP_SMOKE" in c)
    assert "pyproject.toml" in setup and "os.chdir(STAGE)" in setup and "sys.path" in setup
    colab = cells[0]
    assert colab.count('if "google.colab" in sys.modules:') == 1
    if name == "CodeLLM/lessons/walkthrough.ipynb":
        assert "import numpy_attention" in source and "importlib.import_module" in source
    else:
        assert re.search(r"^import train$", source, re.M)
        # Every training call takes the stage's --smoke settings in smoke mode.
        assert source.count("train.main(") == source.count('"--smoke"')


def test_check_strip_and_run(tmp_path, capsys):
    """`check` names a notebook with outputs and exits 1; `strip` makes it pass and is idempotent;
    `run` executes from the notebook's folder with ROADMAP_SMOKE=1 and names the failing cell."""
    path = tmp_path / "walkthrough.ipynb"
    shutil.copy(ROOT / NOTEBOOKS[0], path)
    notebook = nbformat.read(path, as_version=4)
    cell = next(c for c in notebook.cells if c.cell_type == "code")
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="hello\n")]
    cell.execution_count = 3
    notebook.metadata["widgets"] = {"state": {}}
    nbformat.write(notebook, path)
    assert notebooks.main(["check", str(path)]) == 1
    message = capsys.readouterr().err.strip()
    assert "walkthrough.ipynb has outputs (cell 3)" in message and len(message.splitlines()) == 1
    assert notebooks.main(["strip", str(path)]) == 0
    assert notebooks.main(["check", str(path)]) == 0
    stripped = path.read_text(encoding="utf-8")
    assert notebooks.strip(path) is False and path.read_text(encoding="utf-8") == stripped
    assert path.read_bytes() == (ROOT / NOTEBOOKS[0]).read_bytes()

    failing = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("import os\nfrom pathlib import Path\n"
                                  "assert os.environ['ROADMAP_SMOKE'] == '1'\n"
                                  f"assert Path.cwd() == Path({str(tmp_path)!r})"),
        nbformat.v4.new_markdown_cell("text"),
        nbformat.v4.new_code_cell("# a comment first\nraise ValueError('boom')")])
    nbformat.write(failing, tmp_path / "failing.ipynb")
    with pytest.raises(notebooks.NotebookError) as error:
        notebooks.run(tmp_path / "failing.ipynb", smoke=True, timeout=120)
    assert "cell 3 (`raise ValueError('boom')`)" in str(error.value)
    assert "ValueError: boom" in str(error.value)


@pytest.mark.slow
@pytest.mark.parametrize("name", NOTEBOOKS)
def test_runs_in_smoke_mode_and_changes_no_tracked_file(name):
    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout: nothing to compare tracked files with")
    before = git_status(stage_folder(name))
    executed = notebooks.run(ROOT / name, smoke=True, timeout=300)
    assert all(cell.execution_count is not None for cell in executed.cells if cell.cell_type == "code")
    assert executed.cells[-1].outputs, "the exercises cell showed nothing"
    assert git_status(stage_folder(name)) == before
