"""Settings dataclasses <-> argparse flags, so a stage declares each setting once, and the
runtime settings every PyTorch train script takes (RuntimeConfig).

A field `hidden_size: int = opt(512, "recurrent state width")` becomes the flag `--hidden-size`
with that help text and default; `choices=[...]` restricts values, `metavar=` names the value
in --help; booleans become `--flag / --no-flag`, and a list default takes one or more values
(`--budgets 1 3 9`).

Imported by every stage's config.py (`opt`, RuntimeConfig) and train.py (`parse_stage_args`),
by shared.prices.config (the forecasters' data settings), and by the `make new-stage` template.
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
import sys
import types
import typing
from dataclasses import dataclass, field


def opt(default, help: str, **argparse_kwargs):
    """One setting: its default, its --help text and any of argparse's `choices` or `metavar`,
    so that a settings class reads as a list of `name: type = opt(value, "what it does")`.
    The type is the annotation's; the flag's name is the field's."""
    metadata = {"help": help, **argparse_kwargs}
    if isinstance(default, (list, dict, set)):  # dataclasses refuse shared mutable defaults
        return field(default_factory=lambda: copy.copy(default), metadata=metadata)
    return field(default=default, metadata=metadata)


def _base_type(hint):
    """`int | None` -> int; `str` -> str."""
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        return args[0]
    return hint


def add_dataclass_arguments(parser: argparse.ArgumentParser, cls, skip: tuple[str, ...] = ()):
    """Add one flag per dataclass field (except those in `skip`).

    Use `formatter_class=argparse.ArgumentDefaultsHelpFormatter` to show the defaults."""
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        if f.name in skip or not f.init:
            continue
        flag = "--" + f.name.replace("_", "-")
        default = f.default if f.default is not dataclasses.MISSING else f.default_factory()
        kind = _base_type(hints[f.name])
        help_text = f.metadata.get("help", "")
        if kind is bool:
            parser.add_argument(flag, action=argparse.BooleanOptionalAction, default=default,
                                help=help_text)
        elif isinstance(default, list):  # `--budgets 1 3 9`: one or more values of the defaults' type
            parser.add_argument(flag, type=type(default[0]) if default else str, nargs="+",
                                default=default, metavar=f.metadata.get("metavar"),
                                choices=f.metadata.get("choices"), help=help_text)
        else:
            parser.add_argument(flag, type=kind, default=default, metavar=f.metadata.get("metavar"),
                                choices=f.metadata.get("choices"), help=help_text)
    return parser


def config_from_args(cls, args: argparse.Namespace, **overrides):
    """Build the dataclass from parsed flags; `overrides` win."""
    values = {f.name: getattr(args, f.name) for f in dataclasses.fields(cls) if hasattr(args, f.name)}
    values.update(overrides)
    return cls(**values)


def parse_stage_args(cls, description: str, smoke_overrides: dict, argv=None,
                     resumable: bool = True):
    """The command line of a stage's train.py: one flag per settings field, plus --smoke and
    (if `resumable`) --resume. With --smoke the stage's small preset applies, except for flags
    typed out."""
    parser = argparse.ArgumentParser(description=description,
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    add_dataclass_arguments(parser, cls)
    parser.add_argument("--smoke", action="store_true",
                        help="tiny model and step count: finishes in seconds, writes everything")
    if resumable:
        parser.add_argument("--resume", action="store_true",
                            help="continue the run in --out-dir/--run-name from its last.pt")
    args = parser.parse_args(argv)
    typed = sys.argv[1:] if argv is None else [str(a) for a in argv]
    given = {a.lstrip("-").split("=")[0].replace("-", "_") for a in typed if a.startswith("--")}
    overrides = {k: v for k, v in smoke_overrides.items() if k not in given} if args.smoke else {}
    config = config_from_args(cls, args, **overrides)
    if getattr(config, "run_name", "") is None and hasattr(config, "model"):
        config.run_name = f"smoke-{config.model}" if args.smoke else config.model
    return config, args


@dataclass
class RuntimeConfig:
    """The device, precision and parallelism flags every PyTorch train script takes; a stage's
    settings class inherits them (as the forecasting stages inherit
    shared.prices.config.PriceDataConfig). shared.runtime.parallel carries them out."""

    device: str = opt("auto", "auto picks cuda, then mps, then cpu", choices=["auto", "cpu", "cuda", "mps"])
    threads: int | None = opt(None, "CPU threads per process (default: the "
                                    "cores shared out among the processes)")
    dtype: str = opt("auto", "precision of the forward pass: auto is bfloat16 on GPUs that have "
                             "it, float16 (with a gradient scaler) on other GPUs, float32 on CPUs",
                     choices=["auto", "float32", "bfloat16", "float16"])
    compile: bool = opt(False, "torch.compile the model (a minute of compiling; pays off on long GPU runs)")
    grad_accum: int = opt(1, "split each batch into this many micro-batches, one "
                             "backward pass each (same effective batch, less memory)")
    tensorboard: bool = opt(True, "write TensorBoard event files to <run>/tensorboard/ "
                                  "(watch with `tensorboard --logdir results`)")
