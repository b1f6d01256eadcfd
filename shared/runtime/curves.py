"""Live curves: TensorBoard event files for a run, so a learner can watch loss fall while a
stage trains (`tensorboard --logdir <stage>/results`, then open http://localhost:6006).

Every PyTorch train script opens one writer per run with `event_writer(run_folder, enabled)`
and calls `writer.scalar("loss/train", value, step)`; the Keras stage uses Keras's own
TensorBoard callback and the Hugging Face stage the Trainer's `report_to`, both pointed at the
same `<run>/tensorboard/` folder (`event_folder`). `--no-tensorboard` (a RuntimeConfig flag)
turns the files off; without the `tensorboard` package the writer is a silent no-op, so a run
never fails for want of its live curves. The files are not committed (.gitignore).
"""

from __future__ import annotations

import sys
import types
from pathlib import Path

FOLDER = "tensorboard"


def event_folder(run_folder: str | Path) -> Path:
    """Where a run's event files go: `<run>/tensorboard/`."""
    return Path(run_folder) / FOLDER


class _Off:
    """The writer when curves are off (or tensorboard is missing): every call does nothing."""

    enabled = False

    def scalar(self, tag: str, value: float, step: int) -> None:
        pass

    def text(self, tag: str, value: str, step: int = 0) -> None:
        pass

    def close(self) -> None:
        pass


class _Writer:
    """A thin wrapper over torch's SummaryWriter: floats only, flushed on every scalar so that a
    run stopped with Ctrl-C keeps its curve up to the last logged step."""

    enabled = True

    def __init__(self, folder: Path):
        _without_tensorflow()
        from torch.utils.tensorboard import SummaryWriter  # imports tensorboard: only when on

        self.folder = folder
        self._writer = SummaryWriter(log_dir=str(folder))

    def scalar(self, tag: str, value: float, step: int) -> None:
        self._writer.add_scalar(tag, float(value), int(step))
        self._writer.flush()

    def text(self, tag: str, value: str, step: int = 0) -> None:
        self._writer.add_text(tag, value, int(step))
        self._writer.flush()

    def close(self) -> None:
        self._writer.close()


def _without_tensorflow() -> None:
    """Writing event files needs none of TensorFlow, but tensorboard imports it when it is
    installed (5 s and a page of start-up logs in every PyTorch script). tensorboard's own
    switch for its TensorFlow stub is the presence of a module `tensorboard.compat.notf`."""
    if "tensorflow" not in sys.modules:
        sys.modules.setdefault("tensorboard.compat.notf", types.ModuleType("tensorboard.compat.notf"))


def tensorboard_available() -> bool:
    try:
        import tensorboard  # noqa: F401
    except ImportError:
        return False
    return True


def event_writer(run_folder: str | Path, enabled: bool = True, main: bool = True):
    """A writer for `<run>/tensorboard/`, or a no-op one when `enabled` is False, on ranks other
    than 0 (`main` False: one curve per run, not one per process), or when tensorboard is not
    installed."""
    if not (enabled and main and tensorboard_available()):
        return _Off()
    folder = event_folder(run_folder)
    folder.mkdir(parents=True, exist_ok=True)
    return _Writer(folder)
