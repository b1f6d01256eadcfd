import pytest

from shared import text
from shared.errors import UserError

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
    assert 1_050_000 < len(tiny) < 1_200_000
    assert tiny == text.shakespeare("tiny")
    assert tiny.startswith("THESEUS:\nNow, fair Hippolyta")  # A Midsummer Night's Dream
    assert "FALSTAFF:" in tiny  # Henry IV Part 1 is the tenth play
    assert "HAMLET:" not in tiny
    assert not set("_*[]#\\") & set(tiny)  # no Markdown left over


def test_full_corpus_holds_all_plays():
    full = text.shakespeare("full")
    assert len(full) > 4 * len(text.shakespeare("tiny"))
    assert "HAMLET:" in full and "PROSPERO:" in full


def test_unknown_corpus_is_a_user_error():
    with pytest.raises(UserError, match="unknown corpus"):
        text.shakespeare("huge")


def test_split_is_chronological_last_tenth():
    corpus = "abcdefghij" * 10  # 100 characters
    train, val = text.split_train_val(corpus)
    assert (len(train), len(val)) == (90, 10)
    assert train + val == corpus
    assert val == corpus[90:]
    train, val = text.split_train_val("0123456789", val_fraction=0.3)
    assert (train, val) == ("0123456", "789")


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
    assert text.load_corpus("tiny", good) == "héllo\n"


def test_char_vocab_round_trip_and_unknowns():
    vocab = text.CharVocab.from_text("hello world")
    assert vocab.chars == text.CharVocab.UNK + " dehlorw"
    ids = vocab.encode("hold")
    assert ids == [4, 6, 5, 2] and vocab.decode(ids) == "hold"
    assert vocab.encode("hex") == [4, 3, 0]  # unseen 'x' -> the unknown slot
    with pytest.raises(UserError, match="never saw these characters in training: 'xz'"):
        vocab.encode("zox", strict=True)
    rebuilt = text.CharVocab.from_saved(vocab.chars)
    assert rebuilt.chars == vocab.chars
