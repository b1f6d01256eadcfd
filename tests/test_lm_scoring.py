"""The scoring protocol of every language model (shared/lm/scoring.py) against naive implementations,
and the block bootstrap (shared/lm/metrics.py) against hand-computed intervals."""


import pytest
import torch
from conftest import ROOT
from torch.nn import functional as F

from shared.lm import scoring

from tools.loader import load_stage_config

tiny_model = load_stage_config(ROOT / "TinyLLM" / "model.py")  # by path: stages share names
gpt = load_stage_config(ROOT / "CodeLLM" / "minigpt" / "model.py")
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
    t's half block ends (CodeLLM/minigpt/model.py), whatever the other streams' lengths."""
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
