"""SmaLLM: the word tokenizer, the unknown-word spelling cost, and the scripts as a user runs them."""

import itertools
import math
import shutil
import unicodedata

import numpy as np
import pytest
from conftest import ROOT, assert_one_line_error, assert_user_error, read_json, run_script
from tensorboard_events import scalars

from shared.lm import metrics, scoring, text

from tools.loader import load_stage_config

TRAIN, SAMPLE = "SmaLLM/train.py", "SmaLLM/sample.py"
tok = load_stage_config(ROOT / "SmaLLM" / "tokenizer.py")  # by path: stages share module names
embeddings = load_stage_config(ROOT / "SmaLLM" / "embeddings.py")


def test_tokenizer_pieces_rebuild_the_text_exactly():
    text = "KING:\nWhy, what a wasp-stung fool!  'Tis\tnight.\n"
    tokenizer = tok.train_tokenizer(text, 100, 1)
    ids, pieces = tok.encode(tokenizer, text)
    assert "".join(pieces) == text
    assert pieces[:8] == ["KING", ":", "\n", "Why", ",", " what", " a", " wasp"]
    assert tokenizer.decode(ids) == text


def test_pieces_rebuild_text_with_combining_marks():
    """Decomposed accents (a letter + a combining mark): the pieces must rebuild the
    normalised text and count its characters, as the character models count them."""
    decomposed = "Cafe\u0301 noe\u0308l, na\u0303o \U0001F600 ok\n"
    tokenizer = tok.train_tokenizer(decomposed * 3, 100, 1)
    ids, pieces = tok.encode(tokenizer, decomposed)
    nfc = unicodedata.normalize("NFC", decomposed)
    assert pieces == ["Café", " noël", ",", " não", " 😀", " ok", "\n"]
    assert "".join(pieces) == nfc == text.normalize(decomposed)
    assert sum(map(len, pieces)) == len(nfc) == len(decomposed) - 3
    assert tokenizer.decode(ids) == nfc


def test_tokenizer_learns_from_training_split_only():
    train = "the king is dead . long live the king .\n" * 3
    tokenizer = tok.train_tokenizer(train, 100, 2)
    ids, pieces = tok.encode(tokenizer, "the queen is dead")
    unk = tokenizer.token_to_id(tok.UNK)
    assert [p for i, p in zip(ids, pieces, strict=True) if i == unk] == [" queen"]  # only in validation
    assert unk == 0 and tokenizer.token_to_id(" king") is not None


def test_vocabulary_cap_and_minimum_frequency():
    train = "a a a b b c\n"  # pieces: "a"x1, " a"x2, " b"x2, " c"x1, "\n"x1
    assert tok.train_tokenizer(train, 100, 2).get_vocab_size() == 3  # <unk>, " a", " b"
    assert tok.train_tokenizer(train, 2, 1).get_vocab_size() == 2  # the cap includes <unk>


def test_tokenizer_save_load_round_trip(tmp_path):
    tokenizer = tok.train_tokenizer("to be or not to be\n", 50, 1)
    tokenizer.save(str(tmp_path / "tokenizer.json"))
    loaded = tok.load_tokenizer(tmp_path / "tokenizer.json")
    assert loaded.get_vocab() == tokenizer.get_vocab()
    assert tok.encode(loaded, "not to be")[0] == tok.encode(tokenizer, "not to be")[0]


def test_spelling_cost_by_hand():
    # Fit on the two pieces "ab" and "b": symbols {a, b, END, OTHER} (4 of them).
    # Transition counts: START->a 1, START->b 1, a->b 1, b->END 2.
    spelling = tok.SpellingModel(["ab", "b"])
    # "ab": P(a|START) = (1+1)/(2+4), P(b|a) = (1+1)/(1+4), P(END|b) = (2+1)/(2+4)
    expected = -math.log(2 / 6) - math.log(2 / 5) - math.log(3 / 6)
    assert spelling.nats("ab") == pytest.approx(expected)
    # An unseen character is read as OTHER: P(OTHER|START) = 1/6, P(END|OTHER) = 1/4.
    assert spelling.nats("z") == pytest.approx(-math.log(1 / 6) - math.log(1 / 4))


def test_spelling_model_is_a_probability_distribution_over_spellings():
    """Summed over every string of its symbols (a, b and OTHER, the slot of every unseen
    character) up to length L, the spelling probabilities plus the probability of not having
    ended after L symbols give exactly 1; the partial sums rise towards it."""
    spelling = tok.SpellingModel(["ab", "b"])  # the model of test_spelling_cost_by_hand
    # Its transitions by hand, to the symbols a, b, OTHER (index 0, 1, 2) and END:
    start = np.array([2 / 6, 2 / 6, 1 / 6])  # from START: END 1/6
    go_on = np.array([[1 / 5, 2 / 5, 1 / 5],  # from a: END 1/5
                      [1 / 6, 1 / 6, 1 / 6],  # from b: END 3/6
                      [1 / 4, 1 / 4, 1 / 4]])  # from OTHER (never a context in training): END 1/4
    symbols = "abz"  # z: a character never seen, spelled as OTHER
    totals = []
    for longest in range(9):
        mass = sum(math.exp(-spelling.nats("".join(chars)))
                   for n in range(longest + 1) for chars in itertools.product(symbols, repeat=n))
        not_ended = start @ np.linalg.matrix_power(go_on, longest) @ np.ones(3)
        assert mass + not_ended == pytest.approx(1.0, abs=1e-12)
        totals.append(mass)
    assert totals == sorted(totals) and 0.9 < totals[-1] < 1.0


def test_bits_per_char_with_unknown_word_cost_by_hand():
    # Three tokens covering 12 characters; the model gives each probability 1/8 (3 bits), and
    # one of them is <unk> whose spelling costs 6 bits: (9 + 6) bits / 12 chars = 1.25.
    model_nats = 3 * math.log(8)
    unk_nats = 6 * math.log(2)
    assert metrics.bits_per_char(model_nats + unk_nats, 12) == pytest.approx(1.25)
    assert metrics.unigram_baseline_nats([0, 1, 1], [1], 2) == pytest.approx(-math.log(3 / 5))


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("smallm")
    proc = run_script(TRAIN, "--smoke", "--out-dir", out, "--run-name", "smoke")
    return out / "smoke", proc


@pytest.mark.slow
def test_smoke_writes_every_artifact(smoke_run):
    run, proc = smoke_run
    for name in ("tokenizer.json", "config.json", "metrics.json", "history.json", "loss_curve.png",
                 "embeddings.png", "embeddings.json", "neighbours.json", "sample.txt", "best.pt",
                 "last.pt"):
        assert (run / name).is_file(), name
    m = read_json(run / "metrics.json")
    for key in ("val_loss", "val_perplexity", "val_bits_per_char", "test_bits_per_char", "params",
                "tokens_per_second"):
        assert math.isfinite(m[key]) and m[key] > 0, key
    assert m["test_perplexity"] < m["test_uniform_perplexity"]  # it learned something
    assert m["test_bits_per_char"] > m["test_bits_per_char_without_unk_cost"]  # unknowns cost
    assert m["vocab_size"] == 500 and len(read_json(run / "neighbours.json")) >= 1
    # Every character of the validation and test text is scored, as stage 1 scores them.
    parts = text.splits("tiny")
    assert (m["val_chars"], m["test_chars"]) == (len(parts.validation), len(parts.test))
    assert m["test_text_sha256"] == scoring.fingerprint(parts.test)
    # The unknown share and the token count, recounted from the run's own tokenizer.
    tokenizer = tok.load_tokenizer(run / "tokenizer.json")
    ids = tok.encode(tokenizer, scoring.CONTEXT + parts.test)[0][1:]
    assert m["test_tokens"] == len(ids)
    assert m["test_unk_share"] == pytest.approx(ids.count(tokenizer.token_to_id(tok.UNK)) / len(ids))
    # The blocks hold the whole test cost: model and spelling, in nats.
    assert len(m["test_block_nats"]) == math.ceil(m["test_chars"] / m["test_block_chars"])
    assert sum(m["test_block_nats"]) == pytest.approx(
        m["test_bits_per_char"] * m["test_chars"] * math.log(2), rel=1e-6)
    assert "bits/char with unknown words spelled out" in proc.stdout
    # Live curves (shared.lm.loop.fit): the loss of every step, each evaluation's
    curves = scalars(run)
    assert set(curves) == {"loss/train", "learning_rate", "loss/val", "bits_per_token/val"}
    assert [step for step, _ in curves["loss/val"]] == read_json(run / "history.json")["val_step"]


@pytest.mark.slow
def test_embedding_map_is_saved_and_redrawn_without_the_model(smoke_run, tmp_path):
    """embeddings.json holds what embeddings.png shows: each word's point, count and group, the
    groups named by their most frequent members; the report redraws the PNG from it alone."""
    run, _ = smoke_run
    m = read_json(run / "embeddings.json")
    words, groups = m["words"], m["groups"]
    assert len(words) >= 3 and all({"word", "count", "x", "y", "group"} <= set(w) for w in words)
    assert [w["count"] for w in words] == sorted((w["count"] for w in words), reverse=True)
    assert sum(g["size"] for g in groups) == len(words)
    for number, group in enumerate(groups):  # named by its three most frequent members
        members = [w["word"] for w in words if w["group"] == number]
        assert group["size"] == len(members) and group["name"] == ", ".join(members[:3])
    assert str(len(groups)) in m["silhouette_by_k"]
    assert m["silhouette_by_k"][str(len(groups))] == max(m["silhouette_by_k"].values())
    copy = tmp_path / "copy"
    copy.mkdir()
    (copy / "embeddings.json").write_bytes((run / "embeddings.json").read_bytes())
    embeddings.draw_embeddings(copy)
    first = (copy / "embeddings.png").read_bytes()
    embeddings.draw_embeddings(copy)
    assert (copy / "embeddings.png").read_bytes() == first  # the same file every time
    assert first == (run / "embeddings.png").read_bytes()  # and the one train.py drew


@pytest.mark.slow
def test_decomposed_accents_count_as_the_character_models_count_them(tmp_path):
    """A --data file typed with combining marks: the word model scores exactly the characters
    of the normalised validation and test text."""
    path = tmp_path / "accents.txt"
    words = ["cafe\u0301", "noe\u0308l", "na\u0303o", "the", "and", "a", "to", "of"]
    rng = np.random.default_rng(0)
    path.write_text(" ".join(rng.choice(words, size=6000)) + "\n", encoding="utf-8")
    run_script(TRAIN, "--smoke", "--max-steps", "5", "--vocab-size", "100", "--data", path,
               "--out-dir", tmp_path, "--run-name", "accents")
    m = read_json(tmp_path / "accents" / "metrics.json")
    parts = text.splits(data=path)
    assert (m["val_chars"], m["test_chars"]) == (len(parts.validation), len(parts.test))
    assert "e\u0301" not in "".join(parts) and "é" in parts.test


@pytest.mark.slow
def test_sample_warns_on_unknown_prompt_words(smoke_run):
    run, _ = smoke_run
    proc = run_script(SAMPLE, "--run-dir", run, "--prompt", "KING Zorbulon:", "--length", "20")
    assert proc.stdout.startswith("KING Zorbulon:")
    assert "warning: not in the vocabulary" in proc.stderr and "Zorbulon" in proc.stderr


@pytest.mark.slow
def test_bad_inputs(tmp_path, smoke_run):
    (tmp_path / "empty.txt").write_text("", encoding="utf-8")
    assert_one_line_error(run_script(TRAIN, "--smoke", "--data", tmp_path / "empty.txt",
                                     "--out-dir", tmp_path, check=False), "empty")
    (tmp_path / "latin.txt").write_bytes("se\xf1or ".encode("latin-1") * 100)
    assert_user_error(TRAIN, "--smoke", "--data", tmp_path / "latin.txt", "--out-dir", tmp_path,
                      fragments=("not UTF-8",))
    (tmp_path / "short.txt").write_text("To be, or not to be.\n", encoding="utf-8")
    assert_user_error(TRAIN, "--smoke", "--data", tmp_path / "short.txt", "--out-dir", tmp_path,
                      fragments=("too short",))
    assert_user_error(TRAIN, "--smoke", "--vocab-size", "10", "--out-dir", tmp_path,
                      fragments=("too small to be useful",))
    run, _ = smoke_run
    assert_user_error(TRAIN, "--smoke", "--resume", "--hidden-size", "48", "--out-dir", run.parent,
                      "--run-name", "smoke", fragments=("different model config",))
    assert_user_error(TRAIN, "--smoke", "--resume", "--corpus", "full", "--out-dir", run.parent,
                      "--run-name", "smoke", fragments=("different vocab",))
    # A refused resume leaves the run as it was: its own tokenizer and settings.
    assert read_json(run / "config.json")["corpus"] == "tiny"
    assert "tokenizer best.pt was trained with" not in run_script(
        SAMPLE, "--run-dir", run, "--length", "5", check=False).stderr
    assert_one_line_error(run_script(SAMPLE, "--run-dir", tmp_path, check=False), "no checkpoint")
    mixed = tmp_path / "mixed"  # a checkpoint beside another run's tokenizer
    mixed.mkdir()
    shutil.copy(run / "best.pt", mixed / "best.pt")
    tok.train_tokenizer("something else entirely\n", 50, 1).save(str(mixed / "tokenizer.json"))
    assert_user_error(SAMPLE, "--run-dir", mixed, fragments=("not the tokenizer best.pt was trained with",))
