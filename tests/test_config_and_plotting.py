import argparse
from dataclasses import dataclass, field

from shared import plotting
from shared.runtime.config import add_dataclass_arguments, config_from_args


@dataclass
class Settings:
    hidden_size: int = field(default=32, metadata={"help": "width"})
    model: str = field(default="lstm", metadata={"help": "kind", "choices": ["rnn", "lstm"]})
    data: str | None = field(default=None, metadata={"help": "file"})
    tied: bool = field(default=False, metadata={"help": "tie weights"})


def test_dataclass_flags_round_trip():
    parser = add_dataclass_arguments(
        argparse.ArgumentParser(formatter_class=argparse.ArgumentDefaultsHelpFormatter), Settings)
    args = parser.parse_args(["--hidden-size", "64", "--data", "x.txt", "--tied"])
    settings = config_from_args(Settings, args, model="rnn")
    assert settings == Settings(hidden_size=64, model="rnn", data="x.txt", tied=True)
    assert config_from_args(Settings, parser.parse_args([])) == Settings()
    assert "width (default: 32)" in parser.format_help()


def test_loss_curve_png(tmp_path):
    history = {"step": [1, 2, 3], "train_loss": [3.0, 2.5, 2.2], "val_step": [3], "val_loss": [2.4]}
    path = plotting.plot_loss_curves(history, tmp_path / "plots" / "loss.png",
                                     baselines={"uniform": 4.2}, points={"final": (3, 2.3)})
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert path.stat().st_size > 5_000


def test_generated_section_replacement(tmp_path):
    from tools import reporting

    table = reporting.markdown_table(["model", "params"], [["lstm", 1221249]])
    assert table == "| model | params |\n|---|---|\n| lstm | 1,221,249 |"
    doc = tmp_path / "README.md"
    doc.write_text("intro\n<!-- begin: results -->\nold\n<!-- end: results -->\nmore\n")
    assert reporting.update_section(doc, "results", "new", check=True) is False
    assert "old" in doc.read_text()  # check mode changes nothing
    assert reporting.update_section(doc, "results", "new") is False
    assert doc.read_text() == "intro\n<!-- begin: results -->\nnew\n<!-- end: results -->\nmore\n"
    assert reporting.update_section(doc, "results", "new", check=True) is True


def test_load_stage_config_by_path():
    from conftest import ROOT

    from tools.loader import load_stage_config

    module = load_stage_config(ROOT / "TinyLLM" / "config.py")
    assert module.TinyConfig().model in module.MODELS
    assert module.TinyConfig(hidden_size=8).model_config(10)["hidden_size"] == 8
