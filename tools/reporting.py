"""Write generated sections of Markdown files from results files, so no number is typed in.

A generated section sits between two markers in a README:

    <!-- begin: results -->
    ...replaced by the script...
    <!-- end: results -->

`update_section` rewrites what lies between them; with `check=True` it only reports whether
the committed text is out of date (the test suite uses that). Either way the page's glossary
terms are linked at their first use (tools/glossary.py), as `make docs` leaves them. Every
stage's report.py is the same command (`python Stage/report.py [--check]`): `report_parser`
and `write_report` are that command, so a report script holds only what its sections say.

Imported by every stage's report.py, CodeLLM's comparison and seq2seq pages, docs/build.py and
docs/front_page.py (`make docs`) and benchmarks/run.py (its printed tables).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path

from shared.runtime.errors import UserError

from tools import glossary


def markdown_table(headers: list[str], rows: list[list[object]]) -> str:
    def cell(value: object) -> str:
        return f"{value:,}" if isinstance(value, int) else str(value)

    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def replace_section(document: str, name: str, content: str) -> str:
    begin, end = f"<!-- begin: {name} -->", f"<!-- end: {name} -->"
    if begin not in document or end not in document:
        raise ValueError(f"markers for section {name!r} are missing")
    head, rest = document.split(begin, 1)
    _, tail = rest.split(end, 1)
    return f"{head}{begin}\n{content.strip()}\n{end}{tail}"


def update_section(path: str | Path, name: str, content: str, check: bool = False) -> bool:
    """Replace section `name` of the file at `path`; return True if it was up to date."""
    path = Path(path)
    old = path.read_text(encoding="utf-8")
    new = replace_section(old, name, content)
    if glossary.managed(path):  # link glossary terms now, so --check sees what `make docs` leaves
        new = glossary.link(new, path)
    if not check and new != old:
        path.write_text(new, encoding="utf-8")
    return new == old


def write_page(path: str | Path, text: str, check: bool = False) -> bool:
    """Write a whole generated page (a comparison write-up), its glossary terms linked; True if
    it was up to date. With `check`, only compare."""
    path = Path(path)
    if glossary.managed(path):
        text = glossary.link(text, path)
    fresh = path.is_file() and path.read_text(encoding="utf-8") == text
    if not check and not fresh:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return fresh


def write_sections(path: str | Path, sections: dict[str, str], check: bool = False) -> int:
    """Update (or with `check`, only compare) several sections of one file; the exit status
    for a report script: 0 when written or up to date, 1 when `check` finds it stale."""
    fresh = [update_section(path, name, content, check=check) for name, content in sections.items()]
    if check and not all(fresh):
        print(f"{path} is out of date with its results files; run `make docs`", file=sys.stderr)
        return 1
    return 0


def report_parser(doc: str) -> argparse.ArgumentParser:
    """A report script's command line: its docstring's first paragraph as the description,
    and --check. A stage with more flags adds them to the parser this returns."""
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    parser.add_argument("--check", action="store_true",
                        help="do not write; exit 1 if the README differs from the results")
    return parser


def report_or_run(argv, report: Callable[..., int], run: Callable[[list[str]], object]):
    """The command line of a script that runs an experiment and also writes its README section
    from the reference run: `--report` rewrites the section, `--report --check` (or `--check`)
    exits 1 if it is stale; otherwise `run` gets the other flags. --report is no setting of the
    experiment, so it is read before the settings' own parser."""
    pre = argparse.ArgumentParser(add_help=False)
    pre.add_argument("--report", action="store_true")
    pre.add_argument("--check", action="store_true")
    asked, rest = pre.parse_known_args(argv)
    if asked.report or asked.check:
        status = report(check=asked.check)
        if status:
            raise SystemExit(status)
        return status
    return run(rest)


def write_report(path: str | Path, sections: Callable[[], dict[str, str]], check: bool = False) -> int:
    """Compute `sections()` ({section name: Markdown}) and write them into `path` (with
    `check`, only compare). The exit status of a report script: 0 when written or up to date,
    1 when `check` finds it stale, 2 when `sections` raises a UserError (a results file missing
    or written by older code), whose message is printed as one line."""
    try:
        content = sections()
    except UserError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return write_sections(path, content, check=check)


def report_main(doc: str, path: str | Path, sections: Callable[[], dict[str, str]],
                argv=None) -> int:
    """The whole `main` of a report script that has no flags but --check."""
    args = report_parser(doc).parse_args(argv)
    return write_report(path, sections, check=args.check)


def sample_section(run_dir: str | Path) -> str:
    """The "sample" section of a language model's README: the run's sample.txt, with the
    temperature from its config.json (the prompt of `make bench` is a newline)."""
    run_dir = Path(run_dir)
    sample = (run_dir / "sample.txt").read_text(encoding="utf-8").strip("\n")
    config = json.loads((run_dir / "config.json").read_text(encoding="utf-8"))
    return f"Temperature {config['temperature']}, prompt: a newline.\n\n```text\n{sample}\n```"
