"""Keep the stages' walkthrough notebooks committed clean, and check that they still run.

    python tools/notebooks.py strip                      # every walkthrough notebook, in place
    python tools/notebooks.py strip TinyLLM/walkthrough.ipynb
    python tools/notebooks.py check                      # exit 1 naming a notebook with outputs
    python tools/notebooks.py run TinyLLM/walkthrough.ipynb --smoke   # seconds: tiny runs
    python tools/notebooks.py run TinyLLM/walkthrough.ipynb           # the learner's runs (minutes)

The notebooks are committed without outputs, so that a diff shows only what a person changed
and a clone opens the same in Jupyter, VS Code and Colab. `strip` removes outputs, execution
counts and the metadata that editors add (kernel versions, timings, widget state), and writes
the file in nbformat's own sorted, indented JSON, so stripping twice changes nothing. `run`
executes a notebook with nbclient on the `python3` kernel, from the notebook's own folder, and
never writes the notebook back; `--smoke` sets ROADMAP_SMOKE=1, which every walkthrough reads
to train with its stage's `--smoke` settings. The first failing cell stops the run with an
error that names the notebook, the cell and its first line.

Imported by tests/test_notebooks.py, which runs every notebook in smoke mode.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
# In the order a learner meets them.
NOTEBOOKS = ("TinyLLM/walkthrough.ipynb", "SmaLLM/walkthrough.ipynb", "MemoryLLM/walkthrough.ipynb",
             "CodeLLM/lessons/walkthrough.ipynb", "CodeLLM/walkthrough.ipynb",
             "LLMind/walkthrough.ipynb")
KEEP_CELL_METADATA = ("tags",)  # everything else in a cell's metadata is an editor's state
ANSI_COLOUR = re.compile(r"\x1b\[[0-9;]*m")  # IPython colours its tracebacks
KERNELSPEC = {"display_name": "Python 3", "language": "python", "name": "python3"}


class NotebookError(RuntimeError):
    """A cell of a notebook failed; the message names the notebook, the cell and its first line."""


def notebook_paths(names: list[str] | None = None) -> list[Path]:
    """The notebooks named (relative to the working folder), or every walkthrough notebook."""
    return [Path(n) for n in names] if names else [ROOT / n for n in NOTEBOOKS]


def stripped(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A copy without outputs, execution counts or editors' metadata (cell ids are kept: they
    stay the same from one save to the next)."""
    notebook = nbformat.from_dict(notebook)
    notebook.metadata = nbformat.from_dict({"kernelspec": KERNELSPEC, "language_info": {"name": "python"}})
    for cell in notebook.cells:
        cell.metadata = nbformat.from_dict({k: v for k, v in cell.metadata.items()
                                            if k in KEEP_CELL_METADATA})
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    return notebook


def strip(path: Path) -> bool:
    """Strip the notebook at `path` in place; True if the file changed."""
    old = path.read_text(encoding="utf-8")
    new = nbformat.writes(stripped(nbformat.reads(old, as_version=4))) + "\n"
    if new != old:
        path.write_text(new, encoding="utf-8")
    return new != old


def problem(path: Path) -> str | None:
    """Why the committed file at `path` is not clean, in one line; None when it is."""
    shown = relative(path.resolve())
    if not path.is_file():
        return f"{shown} does not exist"
    old = path.read_text(encoding="utf-8")
    notebook = nbformat.reads(old, as_version=4)
    for number, cell in enumerate(notebook.cells, 1):
        if cell.cell_type == "code" and (cell.outputs or cell.execution_count is not None):
            return f"{shown} has outputs (cell {number}); run `python tools/notebooks.py strip {shown}`"
    if nbformat.writes(stripped(notebook)) + "\n" != old:
        return (f"{shown} holds editor metadata or is not in nbformat's layout; "
                f"run `python tools/notebooks.py strip {shown}`")
    return None


def first_line(source: str) -> str:
    lines = [line for line in source.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    return (lines or [source.strip()])[0].strip()


def run(path: str | Path, smoke: bool = True, timeout: float = 600,
        output: str | Path | None = None) -> nbformat.NotebookNode:
    """Execute the notebook at `path` from its own folder on the python3 kernel (`timeout`
    seconds per cell at most); return the executed copy, which is saved only to `output`.
    Raises NotebookError at the first failing cell."""
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError

    path = Path(path).resolve()
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(notebook, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    saved = os.environ.get("ROADMAP_SMOKE")
    os.environ["ROADMAP_SMOKE"] = "1" if smoke else "0"  # the kernel inherits this process's variables
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    try:
        client.execute()
    except (CellExecutionError, CellTimeoutError) as error:
        number, cell = failed_cell(notebook)
        message = ANSI_COLOUR.sub("", str(error)).strip()
        detail = message.splitlines()[-1] if message else type(error).__name__
        if isinstance(error, CellTimeoutError):
            detail = f"no result within {timeout:g} s"
        raise NotebookError(f"{relative(path)}: cell {number} (`{first_line(cell.source)}`) failed: "
                            f"{detail}") from None
    finally:
        if saved is None:
            os.environ.pop("ROADMAP_SMOKE", None)
        else:
            os.environ["ROADMAP_SMOKE"] = saved
        if output is not None:
            nbformat.write(notebook, str(output))
    return notebook


def failed_cell(notebook: nbformat.NotebookNode) -> tuple[int, nbformat.NotebookNode]:
    """The first code cell with an error output, or else the last one that started running."""
    started = None
    for number, cell in enumerate(notebook.cells, 1):
        if cell.cell_type != "code":
            continue
        if any(out.get("output_type") == "error" for out in cell.get("outputs", [])):
            return number, cell
        if cell.get("execution_count") is not None or cell.get("outputs"):
            started = (number, cell)
    if started is None:
        started = next((n, c) for n, c in enumerate(notebook.cells, 1) if c.cell_type == "code")
    return started


def relative(path: Path) -> Path:
    try:
        return path.relative_to(ROOT)
    except ValueError:
        return path


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    for name, text in (("strip", "remove outputs and editor metadata, in place"),
                       ("check", "exit 1 if a notebook has outputs or editor metadata")):
        sub = commands.add_parser(name, help=text)
        sub.add_argument("notebooks", nargs="*", help="default: every walkthrough notebook")
    sub = commands.add_parser("run", help="execute a notebook from its folder")
    sub.add_argument("notebook")
    sub.add_argument("--smoke", action="store_true", help="ROADMAP_SMOKE=1: the stages' --smoke runs")
    sub.add_argument("--timeout", type=float, default=600, help="seconds per cell at most")
    sub.add_argument("--output", help="also save the executed notebook here (never over the original)")
    args = parser.parse_args(argv)

    if args.command == "strip":
        for path in notebook_paths(args.notebooks):
            if strip(path):
                print(f"stripped {relative(path.resolve())}")
        return 0
    if args.command == "check":
        for path in notebook_paths(args.notebooks):
            if (message := problem(path)) is not None:
                print(f"error: {message}", file=sys.stderr)
                return 1
        return 0
    if args.output and Path(args.output).resolve() == Path(args.notebook).resolve():
        parser.error("--output must not be the notebook itself: the committed file stays stripped")
    try:
        run(args.notebook, smoke=args.smoke, timeout=args.timeout, output=args.output)
    except NotebookError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"ran {args.notebook}{' (smoke)' if args.smoke else ''}: every cell succeeded")
    return 0


if __name__ == "__main__":
    sys.exit(main())
