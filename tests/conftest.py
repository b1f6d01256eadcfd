"""Shared test helpers: run a stage script as a user would, in a subprocess."""

from __future__ import annotations

import contextlib
import functools
import importlib
import io
import json
import os
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# Caches inside the workspace, quiet TensorFlow, CPU only: the same for every test.
for name, sub in (("KERAS_HOME", "keras"), ("MPLCONFIGDIR", "matplotlib"),
                  ("HF_HOME", "huggingface"), ("XDG_CACHE_HOME", "")):
    os.environ.setdefault(name, str(ROOT / ".cache" / sub))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
os.environ["CUDA_VISIBLE_DEVICES"] = ""
# `make test` runs two pytest workers (pyproject's addopts: -n 2) on a 2-core machine: each
# script a test starts gets one thread, so two of them never fight over the same cores.
if os.environ.get("PYTEST_XDIST_WORKER"):
    for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ.setdefault(name, "1")


def run_script(script: str, *args: str, cwd: Path | None = None, check: bool = True,
               timeout: float = 600) -> subprocess.CompletedProcess:
    """`python <ROOT>/<script> args...`, capturing output; fail loudly with stderr if asked."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.run([sys.executable, str(ROOT / script), *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, timeout=timeout, env=env)
    if check and proc.returncode != 0:
        raise AssertionError(f"{script} {' '.join(map(str, args))} exited {proc.returncode}:\n"
                             f"{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return proc


@contextmanager
def project_folder(folder: Path):
    """Load a project's modules by path as its scripts see them: `folder` first on sys.path, and
    no other folder's module of the same name (several stages have a data.py, a model.py and
    a config.py) cached in sys.modules while they load. Afterwards sys.path and those names are
    as they were, so no test sees another folder's module under a shared name."""
    names = [p.stem for p in folder.glob("*.py")]
    saved = {n: sys.modules.pop(n) for n in names if n in sys.modules}
    sys.path.insert(0, str(folder))
    try:
        yield
    finally:
        sys.path.remove(str(folder))
        for n in names:
            sys.modules.pop(n, None)
        sys.modules.update(saved)


def read_json(path: Path) -> dict:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def assert_one_line_error(proc: subprocess.CompletedProcess, *fragments: str) -> None:
    """A user error: exit status 2, one line on stderr that names the problem, no traceback."""
    lines = [line for line in proc.stderr.strip().splitlines() if line.strip()]
    assert proc.returncode == 2, (proc.returncode, proc.stderr[-2000:])
    assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr[-2000:]
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])


def call_main(script: str, *args) -> int:
    """`<script>`'s main(args) called in this process, as its exit status: what main returns,
    or the code of the SystemExit it raises (None counts as 0). For scripts that train nothing
    (reports, --check), whose cost as a subprocess would be their imports alone."""
    path = ROOT / script
    with project_folder(path.parent):
        try:
            code = importlib.import_module(path.stem).main([str(a) for a in args])
        except SystemExit as end:
            code = end.code
    return code or 0


@functools.cache
def help_text(script: str) -> str:
    """What `python <script> --help` prints, from the script's main(["--help"]) called in this
    process, once per script and worker: the heavy imports (a TensorFlow script takes ten
    seconds just to import) are paid once per worker rather than once per check. That each
    script runs as a script is checked by the stages' own subprocess tests."""
    path, out = ROOT / script, io.StringIO()
    with project_folder(path.parent), contextlib.redirect_stdout(out), pytest.raises(SystemExit) as end:
        importlib.import_module(path.stem).main(["--help"])
    assert end.value.code in (0, None)
    return out.getvalue()


def assert_user_error(script: str, *args, fragments: tuple[str, ...] = ()) -> str:
    """`<script>`'s main(args) called in this process must stop with a UserError whose one-line
    message holds every fragment; returns the message. Cheaper than run_script for the many
    bad-input checks, because the heavy imports (torch, TensorFlow, transformers) happen once
    per worker instead of once per check. How run_main prints that error (one line on stderr,
    exit status 2) is checked once per script by a run_script test with assert_one_line_error."""
    from shared.runtime.errors import UserError

    path = ROOT / script
    with project_folder(path.parent):
        module = importlib.import_module(path.stem)
        with pytest.raises(UserError) as err:
            module.main([str(a) for a in args])
    message = str(err.value)
    assert "\n" not in message.strip(), message
    for fragment in fragments:
        assert fragment in message, (fragment, message)
    return message


@pytest.fixture
def shakespeare_snippet() -> str:
    return (Path(__file__).parent / "data" / "snippet.md").read_text(encoding="utf-8")
