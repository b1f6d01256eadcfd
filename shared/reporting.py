"""Write generated sections of Markdown files from results files, so no number is typed in.

A generated section sits between two markers in a README:

    <!-- begin: results -->
    ...replaced by the script...
    <!-- end: results -->

`update_section` rewrites what lies between them; with `check=True` it only reports whether
the committed text is out of date (the test suite uses that).
"""

from __future__ import annotations

import sys
from pathlib import Path


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
    if not check and new != old:
        path.write_text(new, encoding="utf-8")
    return new == old


def write_sections(path: str | Path, sections: dict[str, str], check: bool = False) -> int:
    """Update (or with `check`, only compare) several sections of one file; the exit status
    for a report script: 0 when written or up to date, 1 when `check` finds it stale."""
    fresh = [update_section(path, name, content, check=check) for name, content in sections.items()]
    if check and not all(fresh):
        print(f"{path} is out of date with its results files; run `make docs`", file=sys.stderr)
        return 1
    return 0
