"""Link each glossary term the first time a page uses it.

    python tools/glossary.py           # link every page (part of `make docs`, via docs/build.py)
    python tools/glossary.py --check   # exit 1 naming a page whose links are missing or stale

docs/glossary.md is the source: each `### Term` heading is an entry, and the comment under it,
`<!-- also: spelling, other spelling -->`, lists the spellings that link to it. A page's first
use of any spelling becomes `[spelling](<relative path>/docs/glossary.md#term)`. Text inside
code, links, images, headings and HTML comments is never touched. Linking is idempotent: every
glossary link is removed first and placed again, so a page whose wording changed gets its links
moved to the new first use.

Spellings with a capital letter match exactly (RNN, LoRA); lower-case ones match any case
("Attention" at the start of a sentence). A spelling never matches inside a longer word or a
hyphenated one: "attention" does not link inside "self-attention", which has its own entry.

Imported by tools/reporting.py (every generated section is linked as it is written, so a report
script's --check sees the page as `make docs` leaves it) and docs/build.py (the pages that no
report script writes).
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GLOSSARY = ROOT / "docs" / "glossary.md"
# Pages the links are not placed on: the glossary itself, test data, the new-stage scaffold.
SKIP = ("docs/glossary.md", "tests/", "templates/")

# Spans that are never linked: fenced code, inline code, images and links, headings, HTML
# comments and tags, and bare URLs.
PROTECTED = re.compile(
    r"```.*?```"                       # fenced code block
    r"|`[^`\n]*`"                      # inline code
    r"|!?\[(?:[^\]\n]|\][^(\n])*\]\([^)\n]*\)"  # image or link, text and target
    r"|^#{1,6} [^\n]*$"                # heading
    r"|<!--.*?-->"                     # comment (generated-section markers)
    r"|<[^>\n]+>"                      # HTML tag
    r"|https?://\S+",                  # bare URL
    re.S | re.M)


@dataclass(frozen=True)
class Term:
    title: str
    anchor: str
    spellings: tuple[str, ...]


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


@lru_cache(maxsize=1)
def terms() -> tuple[Term, ...]:
    """The glossary's entries, longest spelling first (so "multi-head attention" claims its
    words before "attention" could)."""
    text = GLOSSARY.read_text(encoding="utf-8")
    found = []
    for match in re.finditer(r"^### (.+)\n<!-- also: (.+?) -->", text, re.M):
        title, also = match.group(1).strip(), match.group(2)
        found.append(Term(title, slug(title), tuple(s.strip() for s in also.split(",") if s.strip())))
    return tuple(found)


def _pattern(spelling: str) -> re.Pattern:
    flags = 0 if any(c.isupper() for c in spelling) else re.I
    # not inside a longer word, a hyphenated word, a path or a file name
    return re.compile(r"(?<![\w\-/.#])" + re.escape(spelling) + r"(?![\w\-])", flags)


def _link_target(page: Path) -> str:
    return Path(os.path.relpath(GLOSSARY, page.resolve().parent)).as_posix()


def unlink(text: str, page: Path) -> str:
    """The page without its glossary links."""
    target = re.escape(_link_target(page))
    return re.sub(r"(?<!!)\[([^\]\n]+)\]\(" + target + r"#[\w\-]+\)", r"\1", text)


def link(text: str, page: Path) -> str:
    """The page with each term linked at its first use (and nowhere else)."""
    text = unlink(text, page)
    taken = [m.span() for m in PROTECTED.finditer(text)]
    chosen = []  # (start, end, anchor)
    order = sorted(((t, s) for t in terms() for s in t.spellings), key=lambda ts: -len(ts[1]))
    first: dict[str, tuple[int, int]] = {}
    for term, spelling in order:
        for m in _pattern(spelling).finditer(text):
            span = m.span()
            if any(a < span[1] and span[0] < b for a, b in taken):
                continue
            if term.anchor not in first or span[0] < first[term.anchor][0]:
                first[term.anchor] = span
            break
    # Place the links, earliest first, skipping any that overlaps one already placed.
    for anchor, (start, end) in sorted(first.items(), key=lambda kv: kv[1]):
        if any(a < end and start < b for a, b, _ in chosen):
            continue
        chosen.append((start, end, anchor))
    target = _link_target(page)
    for start, end, anchor in sorted(chosen, reverse=True):
        text = f"{text[:start]}[{text[start:end]}]({target}#{anchor}){text[end:]}"
    return text


def managed(page: Path) -> bool:
    """Whether a page gets glossary links: a Markdown file of this repository outside SKIP."""
    try:
        relative = page.resolve().relative_to(ROOT).as_posix()
    except ValueError:
        return False
    return (relative.endswith(".md") and not relative.startswith(SKIP)
            and "/results/" not in relative and not relative.startswith("."))


def pages() -> list[Path]:
    """Every tracked Markdown page that gets links."""
    listed = subprocess.run(["git", "ls-files", "*.md"], cwd=ROOT, capture_output=True, text=True)
    names = listed.stdout.split() if listed.returncode == 0 else [
        p.relative_to(ROOT).as_posix() for p in ROOT.rglob("*.md")]
    return sorted(p for p in (ROOT / n for n in names) if p.is_file() and managed(p))


def link_pages(check: bool = False) -> list[Path]:
    """Link every page (or with `check`, only compare); the pages that were out of date."""
    stale = []
    for page in pages():
        old = page.read_text(encoding="utf-8")
        new = link(old, page)
        if new != old:
            stale.append(page)
            if not check:
                page.write_text(new, encoding="utf-8")
    return stale


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true",
                        help="do not write; exit 1 if a page's glossary links are missing or stale")
    args = parser.parse_args(argv)
    stale = link_pages(check=args.check)
    if args.check and stale:
        print(f"{stale[0].relative_to(ROOT)} has missing or stale glossary links; run `make docs`",
              file=sys.stderr)
        return 1
    if not args.check:
        print(f"glossary links: {len(pages())} pages, {len(stale)} updated")
    return 0


if __name__ == "__main__":
    sys.exit(main())
