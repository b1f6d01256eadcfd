"""Import a stage's module by its path, for the scripts and tests that live outside the stage.

Imported by the tests, the report scripts that read another stage's settings (TinyLLM/report.py,
SmaLLM/report.py), docs/build.py and benchmarks/run.py. A stage's own scripts never need it:
Python puts a script's folder first on sys.path, so `from config import ...` is its config.py.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path


def load_stage_config(path: str | Path):
    """Import a stage's config.py (or another of its modules) by path, for reports, benchmarks
    and tests outside the stage, without putting the stage folder on sys.path: stages' module
    names overlap."""
    path = Path(path)
    spec = importlib.util.spec_from_file_location(f"_{path.parent.name}_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module
