"""shared/lm/tokens.py: the character vocabulary."""

import pytest

from shared.lm import tokens
from shared.runtime.errors import UserError


def test_char_vocab_round_trip_and_unknowns():
    vocab = tokens.CharVocab.from_text("hello world")
    assert vocab.chars == tokens.CharVocab.UNK + " dehlorw"
    ids = vocab.encode("hold")
    assert ids == [4, 6, 5, 2] and vocab.decode(ids) == "hold"
    assert vocab.encode("hex") == [4, 3, 0]  # unseen 'x' -> the unknown slot
    with pytest.raises(UserError, match="never saw these characters in training: 'xz'"):
        vocab.encode("zox", strict=True)
    rebuilt = tokens.CharVocab.from_saved(vocab.chars)
    assert rebuilt.chars == vocab.chars
