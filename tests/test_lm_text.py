"""shared/lm/text.py: the Shakespeare corpus and test play, a --data file's split, NFC reading."""

import pytest

from shared.lm import text
from shared.runtime.errors import UserError

EXPECTED_SNIPPET = """ORSINO:
If music be the food of love, play on;
Give me excess of it.

VIOLA:
What country, friends, is this?--None.
A letter here.
Yet I remain.

CURIO:
Will you go hunt, my lord?

ALL & BOTH:
Away!
"""


def test_markdown_conversion_of_a_snippet(shakespeare_snippet):
    # Headings (even over two lines), whole-paragraph and inline stage directions, Markdown
    # escapes and the speaker-less orphan paragraph go; the em dash becomes "--"; the
    # paragraph after "_Exit VIOLA_" continues Viola's speech; CURIO starts mid-paragraph.
    assert text.markdown_to_text(shakespeare_snippet) == EXPECTED_SNIPPET


def test_tiny_corpus_is_the_first_ten_plays_and_deterministic():
    paths = text.play_paths()
    assert len(paths) == 38
    tiny = text.shakespeare("tiny")
    assert len(tiny) == 1_113_184  # the ten plays every committed run trained and validated on
    assert tiny == text.shakespeare("tiny")
    assert tiny.startswith("THESEUS:\nNow, fair Hippolyta")  # A Midsummer Night's Dream
    assert "FALSTAFF:" in tiny  # Henry IV Part 1 is the tenth play
    assert "HAMLET:" not in tiny
    assert not set("_*[]#\\") & set(tiny)  # no Markdown left over


def test_test_text_is_a_whole_play_outside_both_corpora():
    tiny, full = text.splits("tiny"), text.splits("full")
    assert tiny.test == full.test  # one test text for both corpora
    assert tiny.test.startswith("RUMOUR:\nOpen your ears")  # Henry IV Part 2, from its start
    assert tiny.test.endswith("to pray for the queen.\n")  # ... to its epilogue
    assert 100_000 < len(tiny.test) < 200_000
    corpus = text.shakespeare("full")
    assert "PROSPERO:" in corpus and "HAMLET:" in corpus  # every other play
    assert "RUMOUR:" not in corpus and tiny.test[:5_000] not in corpus  # the test play is not
    assert tiny.train + tiny.validation == text.shakespeare("tiny")
    assert len(tiny.validation) == round(len(tiny.train + tiny.validation) * 0.1)


def test_full_corpus_adds_training_text_and_keeps_the_validation_text():
    tiny, full = text.splits("tiny"), text.splits("full")
    assert full.validation == tiny.validation  # runs on either corpus are chosen on the same text
    assert full.train.startswith(tiny.train) and len(full.train) > 4 * len(tiny.train)
    assert "HAMLET:" in full.train and "PROSPERO:" in full.train  # the other plays train
    # No validation text leaks into training: every 200-character piece of it is absent.
    pieces = [tiny.validation[i : i + 200] for i in range(0, len(tiny.validation) - 200, 5_000)]
    assert pieces and not any(piece in full.train for piece in pieces)
    assert tiny.test[:5_000] not in full.train


def test_unknown_corpus_is_a_user_error():
    with pytest.raises(UserError, match="unknown corpus"):
        text.shakespeare("huge")


def test_a_data_file_is_cut_80_10_10_in_reading_order(tmp_path):
    parts = text.split_chronological("abcdefghij" * 10)  # 100 characters
    assert (len(parts.train), len(parts.validation), len(parts.test)) == (80, 10, 10)
    assert parts.train + parts.validation + parts.test == "abcdefghij" * 10
    assert parts.test == "abcdefghij" and parts.validation == "abcdefghij"
    mine = tmp_path / "mine.txt"
    mine.write_text("".join(map(str, range(10))) * 2, encoding="utf-8")  # 20 characters
    assert text.splits("tiny", mine) == ("0123456789012345", "67", "89")
    with pytest.raises(UserError, match="5 characters: too few"):
        text.split_chronological("abcde", source="--data x")


def test_text_is_nfc_normalised_when_read(tmp_path):
    decomposed = "Cafe\u0301 noe\u0308l. " * 10  # e + combining acute, e + combining diaeresis
    path = tmp_path / "accents.txt"
    path.write_text(decomposed, encoding="utf-8")
    parts = text.splits(data=path)
    joined = "".join(parts)
    assert joined == "Café noël. " * 10 and len(joined) == len(decomposed) - 20


def test_read_text_file_errors(tmp_path):
    with pytest.raises(UserError, match="no such file"):
        text.read_text_file(tmp_path / "missing.txt")
    empty = tmp_path / "empty.txt"
    empty.write_text("  \n\n", encoding="utf-8")
    with pytest.raises(UserError, match="empty"):
        text.read_text_file(empty)
    latin = tmp_path / "latin1.txt"
    latin.write_bytes("caf\xe9 au lait".encode("latin-1"))
    with pytest.raises(UserError, match="not UTF-8"):
        text.read_text_file(latin)
    good = tmp_path / "good.txt"
    good.write_text("héllo\n", encoding="utf-8")
    assert text.read_text_file(good) == "héllo\n"
