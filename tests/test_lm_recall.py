"""shared/lm/recall.py by hand: the recall task of TinyLLM's "why gates" experiment (the answer is
the marked symbol, d steps before the query), its fixed test sets, and the Wilson interval."""

import pytest
import torch

from shared.lm import recall


def test_the_answer_is_the_marked_symbol_d_steps_before_the_query():
    generator = torch.Generator().manual_seed(0)
    for distance in (1, 2, 7, 30):
        ids, answers = recall.recall_batch(generator, 64, distance, alphabet=5)
        assert ids.shape == (64, distance + 1) and answers.shape == (64,)
        query = (ids == 10).nonzero()  # 2 * alphabet: the query token, once, at the end
        assert query[:, 1].tolist() == [distance] * 64
        marked = ((ids >= 5) & (ids < 10)).nonzero()  # marked symbols: one per sequence, first
        assert marked[:, 0].tolist() == list(range(64)) and marked[:, 1].tolist() == [0] * 64
        assert (ids[:, 0] - 5).tolist() == answers.tolist()  # the answer is the marked symbol
        assert bool((ids[:, 1:-1] < 5).all())  # distractors are plain symbols
    # Distractors and answers are spread over the whole alphabet (chance is 1 / alphabet).
    ids, answers = recall.recall_batch(generator, 4000, 10, alphabet=5)
    assert torch.bincount(answers, minlength=5).min() > 700
    assert torch.bincount(ids[:, 1:-1].flatten(), minlength=5).min() > 7000
    assert recall.vocab_size(5) == 11


def test_test_sets_are_fixed_per_distance_and_apart_from_training():
    a, b = recall.test_set(20, 8, 100), recall.test_set(20, 8, 100)
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    trained, _ = recall.recall_batch(torch.Generator().manual_seed(0), 100, 20, 8)
    assert not torch.equal(trained, a[0])
    with pytest.raises(ValueError):
        recall.recall_batch(torch.Generator(), 4, 0, 8)


def test_wilson_interval_by_hand():
    low, high = recall.wilson_interval(50, 100)  # p = 0.5, n = 100: 0.5 -+ 0.0962
    assert low == pytest.approx(0.4038, abs=1e-4) and high == pytest.approx(0.5962, abs=1e-4)
    low, high = recall.wilson_interval(0, 100)
    assert low == 0.0 and high == pytest.approx(0.0370, abs=1e-4)
