"""Reading back the TensorBoard event files a train script wrote (shared.runtime.curves), for
the tests of each stage's live curves."""

from __future__ import annotations

from pathlib import Path

from shared.runtime import curves


def scalars(run: str | Path) -> dict[str, list[tuple[int, float]]]:
    """{tag: [(step, value), ...]} of every scalar in `<run>/tensorboard/`; {} when the run
    wrote no event file."""
    folder = curves.event_folder(run)
    if not folder.is_dir() or not any(folder.glob("events.out.tfevents.*")):
        return {}
    curves._without_tensorflow()  # tensorboard imports TensorFlow, when installed, for nothing
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(folder), size_guidance={"scalars": 0})  # 0: keep every point
    events.Reload()
    return {tag: [(e.step, e.value) for e in events.Scalars(tag)] for tag in events.Tags()["scalars"]}
