"""Scaffold a new stage that follows the project's conventions, with a smoke test that passes.

    make new-stage NAME=MyStage          # or: python templates/new_stage.py MyStage

Writes MyStage/ (README.md write-up skeleton, config.py, model.py, train.py with --smoke) and
tests/test_mystage.py. The placeholder model is a next-character MLP trained by shared/lm/loop.py
on stage 1's text, so `python MyStage/train.py --smoke` and the new test work at once; then
replace the model and the data with your own. See docs/template.md.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from shared.runtime.errors import UserError, run_main

ROOT = Path(__file__).resolve().parents[1]

TEMPLATES = Path(__file__).resolve().parent / "stage"
# template file -> where it goes, relative to the repository root
FILES = {"README.md.tmpl": "{name}/README.md", "config.py.tmpl": "{name}/config.py",
         "model.py.tmpl": "{name}/model.py", "train.py.tmpl": "{name}/train.py",
         "test.py.tmpl": "tests/test_{slug}.py"}


def stage_count(root: Path) -> int:
    """Stages so far: top-level folders with a train.py."""
    return sum(1 for p in root.iterdir() if (p / "train.py").is_file())


def scaffold(name: str, root: Path = ROOT) -> list[Path]:
    if not re.fullmatch(r"[A-Z][A-Za-z0-9]*", name):
        raise UserError(f"NAME must be a CamelCase Python identifier such as MyStage, got {name!r}")
    slug = name.lower()
    targets = {t: root / pattern.format(name=name, slug=slug) for t, pattern in FILES.items()}
    taken = [str(p.relative_to(root)) for p in targets.values() if p.exists()]
    if (root / name).exists() or taken:
        raise UserError(f"{name} already exists in {root} ({', '.join(taken) or name + '/'}); "
                        "pick another NAME")
    number = str(stage_count(root) + 1)
    for template, target in targets.items():
        text = (TEMPLATES / template).read_text(encoding="utf-8")
        text = text.replace("__NAME__", name).replace("__SLUG__", slug).replace("__NUMBER__", number)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    return list(targets.values())


def main(argv=None) -> list[Path]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("name", help="the stage's folder and class prefix, CamelCase (MyStage)")
    parser.add_argument("--root", default=str(ROOT), metavar="DIR",
                        help="repository to add the stage to (default: this one)")
    args = parser.parse_args(argv)
    written = scaffold(args.name, Path(args.root).resolve())
    root = Path(args.root).resolve()
    for path in written:
        print(f"wrote {path.relative_to(root)}")
    slug = args.name.lower()
    print(f"\nnext: python {args.name}/train.py --smoke, then "
          f"python -m pytest tests/test_{slug}.py; docs/template.md lists what else to change")
    return written


if __name__ == "__main__":
    run_main(main)
