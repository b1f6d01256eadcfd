"""SmaLLM: the word tokenizer, the unknown-word spelling cost, and the scripts as a user runs them."""

import math
import shutil

import pytest
from conftest import ROOT, assert_one_line_error, read_json, run_script

from shared import metrics
from shared.config import load_stage_config

TRAIN, SAMPLE = "SmaLLM/train.py", "SmaLLM/sample.py"
tok = load_stage_config(ROOT / "SmaLLM" / "tokenizer.py")  # by path: stages share module names


def test_tokenizer_pieces_rebuild_the_text_exactly():
    text = "KING:\nWhy, what a wasp-stung fool!  'Tis\tnight.\n"
    tokenizer = tok.train_tokenizer(text, 100, 1)
    ids, pieces = tok.encode(tokenizer, text)
    assert "".join(pieces) == text
    assert pieces[:8] == ["KING", ":", "\n", "Why", ",", " what", " a", " wasp"]
    assert tokenizer.decode(ids) == text


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
                 "embeddings.png", "neighbours.json", "sample.txt", "best.pt", "last.pt"):
        assert (run / name).is_file(), name
    m = read_json(run / "metrics.json")
    for key in ("val_loss", "val_perplexity", "val_bits_per_char", "params", "tokens_per_second"):
        assert math.isfinite(m[key]) and m[key] > 0, key
    assert m["val_perplexity"] < m["val_uniform_perplexity"]  # it learned something
    assert m["val_bits_per_char"] > m["val_bits_per_char_without_unk_cost"]  # unknowns cost
    assert 0 < m["val_unk_share"] < 1 and m["vocab_size"] == 500
    assert m["val_chars"] > 100_000  # the whole validation split, in characters
    assert len(read_json(run / "neighbours.json")) >= 1
    assert "bits/char with unknown words spelled out" in proc.stdout


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
    assert_one_line_error(run_script(TRAIN, "--smoke", "--data", tmp_path / "latin.txt",
                                     "--out-dir", tmp_path, check=False), "not UTF-8")
    (tmp_path / "short.txt").write_text("To be, or not to be.\n", encoding="utf-8")
    assert_one_line_error(run_script(TRAIN, "--smoke", "--data", tmp_path / "short.txt",
                                     "--out-dir", tmp_path, check=False), "too short")
    assert_one_line_error(run_script(TRAIN, "--smoke", "--vocab-size", "10", "--out-dir",
                                     tmp_path, check=False), "too small to be useful")
    run, _ = smoke_run
    assert_one_line_error(run_script(TRAIN, "--smoke", "--resume", "--hidden-size", "48",
                                     "--out-dir", run.parent, "--run-name", "smoke", check=False),
                          "different model config")
    assert_one_line_error(run_script(TRAIN, "--smoke", "--resume", "--corpus", "full",
                                     "--out-dir", run.parent, "--run-name", "smoke", check=False),
                          "different vocab")
    # A refused resume leaves the run as it was: its own tokenizer and settings.
    assert read_json(run / "config.json")["corpus"] == "tiny"
    assert "tokenizer best.pt was trained with" not in run_script(
        SAMPLE, "--run-dir", run, "--length", "5", check=False).stderr
    assert_one_line_error(run_script(SAMPLE, "--run-dir", tmp_path, check=False), "no checkpoint")
    mixed = tmp_path / "mixed"  # a checkpoint beside another run's tokenizer
    mixed.mkdir()
    shutil.copy(run / "best.pt", mixed / "best.pt")
    tok.train_tokenizer("something else entirely\n", 50, 1).save(str(mixed / "tokenizer.json"))
    assert_one_line_error(run_script(SAMPLE, "--run-dir", mixed, check=False),
                          "not the tokenizer best.pt was trained with")
