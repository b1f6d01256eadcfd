"""shared/runtime/config.py: settings dataclasses <-> argparse flags."""

import argparse
from dataclasses import dataclass, field

import pytest

from shared.runtime.config import add_dataclass_arguments, config_from_args, opt, parse_stage_args


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


@dataclass
class Sweep:
    budgets: list = opt([1.0, 3.0], "minutes")
    corpora: list = opt(["tiny"], "texts", choices=["tiny", "full"])
    run_name: str | None = opt(None, "folder")


def test_list_settings_take_one_or_more_values_of_the_defaults_type():
    cfg, _ = parse_stage_args(Sweep, "test", {"budgets": [0.1]}, ["--budgets", "2", "4.5"],
                              resumable=False)
    assert cfg.budgets == [2.0, 4.5] and cfg.corpora == ["tiny"] and cfg.run_name is None
    cfg, _ = parse_stage_args(Sweep, "test", {"budgets": [0.1]},
                              ["--smoke", "--corpora", "full", "tiny"], resumable=False)
    assert cfg.budgets == [0.1] and cfg.corpora == ["full", "tiny"]  # the smoke preset, and typed flags
    assert Sweep().budgets is not Sweep().budgets  # each settings object has its own list
    with pytest.raises(SystemExit):  # argparse refuses a value outside the choices
        parse_stage_args(Sweep, "test", {}, ["--corpora", "huge"], resumable=False)
