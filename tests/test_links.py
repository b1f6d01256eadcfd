"""Every relative link and image in the README and docs resolves, and the glossary's links
(tools/glossary.py) land on entries that exist, at each term's first use."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from conftest import ROOT

from tools import glossary

LINK = re.compile(r"!?\[(?:[^\]\n]|\][^(\n])*\]\(([^)\s]+)\)")
FENCE = re.compile(r"```.*?```", re.S)


def tracked_pages() -> list[Path]:
    names = subprocess.run(["git", "ls-files", "*.md"], cwd=ROOT, capture_output=True,
                           text=True, check=True).stdout.split()
    return [ROOT / n for n in names if not n.startswith(("tests/", ".")) and (ROOT / n).is_file()]


def anchors(page: Path) -> set[str]:
    """The anchors GitHub gives a page's headings (a repeated heading gets -1, -2...)."""
    seen: dict[str, int] = {}
    text = FENCE.sub("", page.read_text(encoding="utf-8"))
    out = set(re.findall(r'<a id="([^"]+)"', text))  # explicit anchors
    for heading in re.findall(r"^#{1,6} (.+)$", text, re.M):
        text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading).replace("`", "").replace("*", "")
        base = glossary.slug(text)
        n = seen.get(base, 0)
        out.add(base if n == 0 else f"{base}-{n}")
        seen[base] = n + 1
    return out


def relative_links(page: Path) -> list[str]:
    text = FENCE.sub("", page.read_text(encoding="utf-8"))
    text = re.sub(r"`[^`\n]*`", "", text)
    return [t for t in LINK.findall(text) if not re.match(r"[a-z]+:", t)]


@pytest.mark.parametrize("page", tracked_pages(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_relative_link_and_image_resolves(page):
    broken = []
    for target in relative_links(page):
        path, _, anchor = target.partition("#")
        resolved = (page.parent / path).resolve() if path else page
        if not resolved.exists():
            broken.append(target)
        elif anchor and resolved.suffix == ".md" and anchor not in anchors(resolved):
            broken.append(target)
    assert not broken, broken


def test_every_glossary_link_names_an_entry():
    """The glossary covers every term a page links to it."""
    entries = {t.anchor for t in glossary.terms()}
    assert entries <= anchors(glossary.GLOSSARY)  # each entry's anchor is a real heading
    linked = set()
    for page in tracked_pages():
        for target in relative_links(page):
            if target.split("#")[0].endswith("glossary.md") and "#" in target:
                linked.add(target.split("#")[1])
    assert linked, "no page links the glossary"
    assert linked <= entries, sorted(linked - entries)


def test_first_use_is_linked_and_code_headings_and_links_are_not(tmp_path):
    page = glossary.ROOT / "docs" / "example.md"  # a path inside the repository: links are relative
    text = ("# Attention\n\nUse `attention` in code. [attention maps](x.md) are links.\n"
            "```\nattention\n```\nSelf-attention first; then Attention, and attention again.\n")
    linked = glossary.link(text, page)
    assert linked.count("(glossary.md#attention)") == 1
    assert "then [Attention](glossary.md#attention), and attention again" in linked
    assert "[Self-attention](glossary.md#self-attention) first" in linked
    assert linked.startswith("# Attention\n\nUse `attention` in code. [attention maps](x.md)")
    assert "```\nattention\n```" in linked
    assert glossary.link(linked, page) == linked  # idempotent
    assert glossary.unlink(linked, page) == text


def test_links_follow_the_first_use_when_the_wording_changes():
    page = glossary.ROOT / "README.md"
    linked = glossary.link("A GRU here.\n\nA GRU there.\n", page)
    moved = glossary.link(linked.replace("A [GRU](docs/glossary.md#gru) here.", "Nothing here."), page)
    assert moved == "Nothing here.\n\nA [GRU](docs/glossary.md#gru) there.\n"


def test_a_word_inside_a_longer_word_or_path_is_not_linked():
    page = glossary.ROOT / "README.md"
    text = "The mini-GPT, LSTMs-like, grus, a/LSTM path and LSTM.\n"
    expected = "The mini-GPT, LSTMs-like, grus, a/LSTM path and [LSTM](docs/glossary.md#lstm).\n"
    assert glossary.link(text, page) == expected


def test_every_page_is_linked_as_make_docs_leaves_it():
    assert glossary.main(["--check"]) == 0
