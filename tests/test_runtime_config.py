"""shared/runtime/config.py: settings dataclasses <-> argparse flags."""

import argparse
from dataclasses import dataclass, field

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
