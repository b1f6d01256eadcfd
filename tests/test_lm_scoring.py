"""The scoring protocol of every language model (shared/lm/scoring.py) against naive implementations,
and the block bootstrap (shared/lm/metrics.py) against hand-computed intervals."""

import math

import numpy as np
import pytest
import torch
from conftest import ROOT
from torch.nn import functional as F

from shared.lm import metrics, scoring

from tools.loader import load_stage_config

tiny_model = load_stage_config(ROOT / "TinyLLM" / "model.py")  # by path: stages share names
gpt = load_stage_config(ROOT / "CodeLLM" / "gpt.py")
VOCAB = 7


def plain_pass_nats(model, inputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """One forward call over the whole sequence from an empty state, -log softmax of each
    target: what streaming in chunks with a carried state must reproduce."""
    with torch.no_grad():
        logits, _ = model(inputs[None])
    return -F.log_softmax(logits[0].double(), dim=-1).gather(1, targets[:, None])[:, 0]


def rnn(cell: str):
    torch.manual_seed(0)
    config = {"model": cell, "vocab_size": VOCAB, "embed_size": 5, "hidden_size": 8,
              "num_layers": 2, "dropout": 0.0}
    return tiny_model.build_model(config).eval()


def test_stream_cuts_by_hand():
    assert scoring.stream_starts(160) == list(range(0, 160, 10))  # 16 streams of 10
    assert scoring.stream_starts(3) == [0, 1, 2]  # fewer tokens than streams: one token each
    # Word pieces starting at characters 0, 3, 5, 9, 12 of a 16-character text, 4 streams cut
    # at characters 0, 4, 8, 12: each begins at the first piece starting at or after its cut.
    assert scoring.aligned_starts([0, 3, 5, 9, 12], 16, streams=4) == [0, 2, 3, 4]
    assert scoring.aligned_starts(list(range(16)), 16, streams=4) == scoring.stream_starts(16, 4)


@pytest.mark.parametrize("cell", ["rnn", "gru", "lstm", "bigram"])
def test_streaming_scores_equal_one_plain_pass_per_stream(cell):
    model = rnn(cell)
    ids = torch.randint(0, VOCAB, (250,), generator=torch.Generator().manual_seed(1))
    # One stream: 249 targets read 7 at a time with the state carried = one pass over them all.
    streamed = scoring.token_nats(model, ids, seq_len=7, device="cpu", starts=[0])
    assert torch.allclose(streamed, plain_pass_nats(model, ids[:-1], ids[1:]), atol=1e-6)
    # The default protocol: SCORE_STREAMS equal streams, each from an empty state.
    starts = [round(k * 249 / 16) for k in range(16)]
    expected = torch.cat([plain_pass_nats(model, ids[a:b], ids[a + 1 : b + 1])
                          for a, b in zip(starts, [*starts[1:], 249], strict=True)])
    streamed = scoring.token_nats(model, ids, seq_len=5, device="cpu")
    assert torch.allclose(streamed, expected, atol=1e-6)
    total, n = scoring.evaluate(model, ids, seq_len=11, device="cpu")
    assert n == 249 and total == pytest.approx(float(expected.sum()), rel=1e-6)


def test_the_mini_gpt_is_scored_by_its_context_protocol():
    """Position t of a stream is predicted from the window of at most a block that ends where
    t's half block ends (CodeLLM/gpt.py), whatever the other streams' lengths."""
    block, half = 8, 4
    torch.manual_seed(0)
    model = gpt.MiniGPT(vocab_size=VOCAB, block_size=block, d_model=16, n_layer=2, heads=2).eval()
    ids = torch.randint(0, VOCAB, (90,), generator=torch.Generator().manual_seed(2))
    starts = [0, 37, 50]  # streams of 37, 13 and 39 targets
    expected = []
    for a, b in zip(starts, [*starts[1:], 89], strict=True):
        inputs, targets = ids[a:b], ids[a + 1 : b + 1]
        for t in range(len(inputs)):
            first = max(0, (t // half + 1) * half - block)
            with torch.no_grad():
                logits = model.logits(inputs[None, first : t + 1])[0, -1].double()
            expected.append(-F.log_softmax(logits, dim=-1)[targets[t]])
    streamed = scoring.token_nats(model, ids, seq_len=block, device="cpu", starts=starts)
    assert torch.allclose(streamed, torch.stack(expected), atol=1e-5)


def test_blocks_by_hand():
    # Tokens starting at characters 0, 1, 2000 and 4000 of a 4,001-character text: blocks of
    # characters 0-1999, 2000-3999 and the last one.
    assert metrics.block_sums([1, 2, 3, 4], [0, 1, 2000, 4000], 4001, 2000) == [3, 3, 4]
    assert metrics.block_sums([1, 2], [1999, 2000], 4001, 2000) == [1, 2, 0]
    assert metrics.block_lengths(4001, 2000) == [2000, 2000, 1]
    assert metrics.block_lengths(4000, 2000) == [2000, 2000]
    with pytest.raises(ValueError, match="outside"):
        metrics.block_sums([1], [4001], 4001, 2000)


def test_paired_bootstrap_by_hand():
    # Two blocks of 1,000 characters where A costs 1 and 3 bits/char more than B. A resample
    # of two blocks averages to 1 (p 1/4), 2 (p 1/2) or 3 (p 1/4): the 95% interval is [1, 3].
    b = np.array([500.0, 800.0])
    a = b + np.array([1.0, 3.0]) * 1000 * math.log(2)
    r = metrics.paired_block_bootstrap(a, b, [1000, 1000])
    assert (r["difference"], r["low"], r["high"], r["significant"]) == \
        (pytest.approx(2.0), pytest.approx(1.0), pytest.approx(3.0), True)
    # +1 and -1 bit/char: the interval [-1, 1] covers 0.
    r = metrics.paired_block_bootstrap(b + np.array([1.0, -1.0]) * 1000 * math.log(2), b, [1000, 1000])
    assert (r["low"], r["high"], r["significant"]) == (pytest.approx(-1.0), pytest.approx(1.0), False)
    # Blocks of unequal length: the difference is a ratio of totals, not a mean of ratios.
    r = metrics.paired_block_bootstrap([3 * math.log(2), 0.0], [0.0, 0.0], [1, 3])
    assert r["difference"] == pytest.approx(3 / 4)


def test_pairing_removes_what_both_models_share():
    """B = A plus half a bit per character, on blocks of very different difficulty: paired, the
    interval is exactly 0.5; resampling each model on its own would spread it widely."""
    rng = np.random.default_rng(0)
    chars = np.full(40, 2000)
    a = rng.uniform(1000, 6000, size=40)
    r = metrics.paired_block_bootstrap(a, a + 0.5 * math.log(2) * chars, chars, seed=3)
    assert r["low"] == pytest.approx(-0.5) and r["high"] == pytest.approx(-0.5)
    again = metrics.paired_block_bootstrap(a, a + 0.5 * math.log(2) * chars, chars, seed=3)
    assert again == r  # a fixed seed: the same interval every time
