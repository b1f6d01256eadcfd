"""shared/plotting.py: a PNG is written."""

from shared import plotting


def test_loss_curve_png(tmp_path):
    history = {"step": [1, 2, 3], "train_loss": [3.0, 2.5, 2.2], "val_step": [3], "val_loss": [2.4]}
    path = plotting.plot_loss_curves(history, tmp_path / "plots" / "loss.png",
                                     baselines={"uniform": 4.2}, points={"final": (3, 2.3)})
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert path.stat().st_size > 5_000
