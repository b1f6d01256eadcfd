"""shared/plotting.py: a PNG is written; the same call writes the same bytes; attention colours
are centred on an even spread."""

import numpy as np
import pytest

from shared import plotting


def test_loss_curve_png(tmp_path):
    history = {"step": [1, 2, 3], "train_loss": [3.0, 2.5, 2.2], "val_step": [3], "val_loss": [2.4]}
    path = plotting.plot_loss_curves(history, tmp_path / "plots" / "loss.png",
                                     baselines={"uniform": 4.2}, points={"final": (3, 2.3)})
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert path.stat().st_size > 5_000


def test_loss_curve_marks_the_best_step_and_labels_baselines_and_redraws_identically(tmp_path):
    history = {"step": [1, 2, 3, 4], "train_loss": [3.0, 2.5, 2.2, 2.1], "val_step": [2, 4],
               "val_loss": [2.4, 2.45]}
    kwargs = {"baselines": {"uniform guess": 4.2}, "mark_best": True}
    first = plotting.plot_loss_curves(history, tmp_path / "a.png", **kwargs).read_bytes()
    assert plotting.plot_loss_curves(history, tmp_path / "b.png", **kwargs).read_bytes() == first
    assert first != plotting.plot_loss_curves(history, tmp_path / "c.png").read_bytes()
    # best_step rings a chosen evaluation that need not be the lowest; an unknown step is an error
    plotting.plot_loss_curves(history, tmp_path / "d.png", best_step=4, best_label="chosen")
    with pytest.raises(ValueError):
        plotting.plot_loss_curves(history, tmp_path / "e.png", best_step=3)


def test_attention_colours_are_centred_on_an_even_spread():
    weights = np.array([[1.0, 0.0, 0.0], [0.5, 0.5, 0.0], [0.2, 0.3, 0.5]])  # causal rows
    causal = np.tril(np.ones((3, 3), dtype=bool))
    shown, style, label = plotting._weight_style({"m": weights}, {"m": causal}, even=True)
    # Rows see 1, 2 and 3 keys: each weight minus 1/1, 1/2, 1/3; hidden keys are blank (grey)
    expected = np.array([[0.0, np.nan, np.nan], [0.0, 0.0, np.nan], [0.2 - 1 / 3, 0.3 - 1 / 3, 0.5 - 1 / 3]])
    np.testing.assert_allclose(shown["m"], expected)
    assert style["norm"].vcenter == 0 and "even spread" in label and "masked" in label
    # Every row seeing the same 4 keys: the weights themselves, white at 1/4
    even = np.full((2, 4), 0.25)
    shown, style, label = plotting._weight_style({"m": even}, {}, even=True)
    np.testing.assert_array_equal(shown["m"], even)
    assert style["norm"].vcenter == 0.25 and "1/4 = 0.25" in label
    assert style["norm"](0.25) == pytest.approx(0.5)  # the middle of the colour map: white
    # Without `even`, the old scale: 0 to the largest weight
    _, style, _ = plotting._weight_style({"m": weights}, {}, even=False)
    assert (style["vmin"], style["vmax"]) == (0, 1.0)


def test_heatmaps_with_a_difference_panel_and_lines_told_apart(tmp_path):
    a = np.array([[0.7, 0.3], [0.4, 0.6]])
    path = plotting.plot_heatmaps({"a": a, "b": a[::-1], "b minus a": a[::-1] - a}, tmp_path / "h.png",
                                  "t", "key", "query", even=True, differences=("b minus a",))
    assert path.stat().st_size > 5_000
    lines = plotting.plot_lines(np.arange(5), {"one": np.arange(5), "two": np.arange(5)},
                                tmp_path / "l.png", "t", "x", "y", distinct=True)
    assert lines.stat().st_size > 5_000
    points = plotting.plot_points_2d(np.array([[0, 0], [1, 1], [2, 0]]), ["a", "b", "c"],
                                     tmp_path / "p.png", "t", groups=[0, 1, 1],
                                     group_names=["first", "second"])
    assert points.stat().st_size > 5_000
