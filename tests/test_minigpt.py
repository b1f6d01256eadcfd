"""The mini-GPT (CodeLLM/minigpt/model.py): causality, the carried context, and its train.py /
sample.py as a user runs them, in subprocesses with --smoke."""

import math

import pytest
import torch
from conftest import ROOT, assert_one_line_error, assert_user_error, read_json, run_script
from tensorboard_events import scalars

from shared.lm import scoring, text

from tools.loader import load_stage_config

TRAIN, SAMPLE = "CodeLLM/minigpt/train.py", "CodeLLM/minigpt/sample.py"
gpt = load_stage_config(ROOT / "CodeLLM" / "minigpt" / "model.py")  # by path: stages share module names


def model(block_size=16):
    torch.manual_seed(0)
    return gpt.MiniGPT(vocab_size=11, block_size=block_size, d_model=16, n_layer=2, heads=2).eval()


def test_a_character_never_sees_the_ones_after_it():
    m, ids = model(), torch.randint(0, 11, (2, 12))
    changed = ids.clone()
    changed[:, 7] = (changed[:, 7] + 1) % 11
    before, after = m(ids)[0], m(changed)[0]  # (batch, time, vocab)
    assert torch.allclose(before[:, :7], after[:, :7], atol=1e-6)
    assert not torch.allclose(before[:, 7], after[:, 7])


def test_carried_context_equals_reading_the_text_at_once():
    """Within a block, reading 12 characters in two chunks with the state carried gives the
    same predictions as reading them at once: the state is the text read so far."""
    m, ids = model(), torch.randint(0, 11, (2, 12))
    whole, _ = m(ids)
    first, state = m(ids[:, :5])
    second, _ = m(ids[:, 5:], state)
    assert torch.allclose(torch.cat([first, second], dim=1), whole, atol=1e-5)


def test_longer_than_a_block_uses_a_sliding_window():
    m, ids = model(block_size=8), torch.randint(0, 11, (1, 20))
    logits, state = m(ids)
    assert logits.shape == (1, 20, 11) and state.shape == (1, 7)
    # The last 4 ids are predicted from a window of the 8 ids ending with them.
    assert torch.allclose(logits[:, -4:], m.logits(ids[:, -8:])[:, -4:], atol=1e-5)
    m.train()
    assert m(ids[:, :8])[1] is None  # training chunks are samples of their own


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("minigpt")
    proc = run_script(TRAIN, "--smoke", "--out-dir", out, "--run-name", "smoke")
    return out / "smoke", proc


@pytest.mark.slow
def test_smoke_writes_every_artifact_and_beats_uniform(smoke_run):
    run, proc = smoke_run
    for name in ("config.json", "metrics.json", "history.json", "loss_curve.png", "sample.txt",
                 "best.pt", "last.pt"):
        assert (run / name).is_file(), name
    m = read_json(run / "metrics.json")
    assert m["test_loss"] < m["test_uniform_loss"] - 0.5
    assert m["test_bits_per_char"] == pytest.approx(m["test_loss"] / math.log(2))
    # Stage 1's validation and test text, every character of it scored
    parts = text.splits("tiny")
    assert (m["val_chars"], m["test_chars"]) == (len(parts.validation), len(parts.test))
    assert m["test_text_sha256"] == scoring.fingerprint(parts.test)
    assert sum(m["test_block_nats"]) == pytest.approx(m["test_loss"] * m["test_chars"], rel=1e-6)
    # Achieved FLOP/s = FLOPs per token x tokens per second, as a share of the matmul peak;
    # FLOPs per token = 6 x params + 12 x layers x width x context (smoke: 1 x 32 x 32).
    assert m["achieved_flops"] == pytest.approx(m["flops_per_token"] * m["tokens_per_second"])
    assert m["fraction_of_peak"] == pytest.approx(m["achieved_flops"] / m["matmul_peak_flops"])
    assert m["flops_per_token"] == 6 * m["params"] + 12 * 1 * 32 * 32
    assert "of the matmul peak" in proc.stdout
    # Live curves (shared.lm.loop.fit), one point per step
    assert len(scalars(run)["loss/train"]) == m["steps"] == 40


@pytest.mark.slow
def test_sample_and_bad_input(smoke_run, tmp_path):
    run, _ = smoke_run
    out = run_script(SAMPLE, "--checkpoint", run / "best.pt", "--prompt", "KING:", "--length", "30")
    assert out.stdout.startswith("KING:") and len(out.stdout.rstrip("\n")) >= 35
    assert_one_line_error(run_script(SAMPLE, "--checkpoint", run / "best.pt", "--temperature", "0",
                                     check=False), "--temperature")
    assert_one_line_error(run_script(TRAIN, "--smoke", "--d-model", "30", "--heads", "4",
                                     "--out-dir", tmp_path, check=False), "multiple of --heads")
    (tmp_path / "short.txt").write_text("too short", encoding="utf-8")
    assert_user_error(TRAIN, "--smoke", "--data", tmp_path / "short.txt", "--out-dir", tmp_path,
                      fragments=("too short",))
