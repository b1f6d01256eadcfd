"""docs/figures.py: the architecture figures redraw byte for byte, --check tells a stale one, and
every figure is shown somewhere in the write-ups."""

import re
import shutil

from conftest import ROOT, run_script

from tools.loader import load_stage_config

IMG = ROOT / "docs" / "img"
NAMES = ["arch-rnn-unrolled.png", "arch-gru-lstm.png", "arch-qkv.png", "arch-transformer-block.png",
         "arch-encoder-decoder.png", "arch-gpt-vs-bert.png", "arch-forecaster-flow.png",
         "arch-lora.png"]


def test_figures_regenerate_unchanged(tmp_path):
    run_script("docs/figures.py", "--out", tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(NAMES)
    assert sorted(p.name for p in IMG.glob("arch-*.png")) == sorted(NAMES)
    changed = [name for name in NAMES if (tmp_path / name).read_bytes() != (IMG / name).read_bytes()]
    assert not changed, f"{changed} differ from docs/img: run `python docs/figures.py`"


def test_check_passes_on_the_committed_figures_and_names_an_altered_one(tmp_path, capsys):
    # In this process (main(), not a subprocess): the drawing is what costs, and the first test
    # already runs the script as a user does.
    figures = load_stage_config(ROOT / "docs" / "figures.py")
    assert figures.main(["--check"]) == 0
    for name in NAMES:
        shutil.copy(IMG / name, tmp_path / name)
    altered = tmp_path / "arch-qkv.png"
    altered.write_bytes(altered.read_bytes() + b"\0")
    capsys.readouterr()
    assert figures.main(["--check", "--out", str(tmp_path)]) != 0
    lines = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(lines) == 1 and "arch-qkv.png" in lines[0], lines
    assert "arch-lora.png" not in lines[0]  # only what differs is named


def test_every_figure_is_shown_in_a_write_up():
    pages = [p for p in ROOT.rglob("*.md") if not {".venv", ".cache", "node_modules"} & set(p.parts)]
    shown = set()
    for page in pages:
        for target in re.findall(r"!\[[^\]]*\]\(([^)\s]+)\)", page.read_text(encoding="utf-8")):
            image = (page.parent / target).resolve()
            if image.parent == IMG:
                shown.add(image.name)
    assert not set(NAMES) - shown, f"not shown in any .md page: {sorted(set(NAMES) - shown)}"
