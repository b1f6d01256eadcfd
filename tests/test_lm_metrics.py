"""shared/lm/metrics.py by hand: bits per character, perplexity, the counted baselines, the
blocks of the test text and the paired block bootstrap."""

import math

import numpy as np
import pytest

from shared.lm import metrics


def test_bits_per_char_by_hand():
    # 10 characters, each given probability 1/4: 10 * ln 4 nats = 20 bits -> 2 bits/char.
    assert metrics.bits_per_char(10 * math.log(4), 10) == pytest.approx(2.0)
    # A word model: 3 tokens covering 12 characters with total NLL 6 ln 2 nats = 6 bits.
    assert metrics.bits_per_char(6 * math.log(2), 12) == pytest.approx(0.5)
    with pytest.raises(ValueError):
        metrics.bits_per_char(1.0, 0)


def test_lm_metrics_by_hand():
    result = metrics.lm_metrics(total_nats=6 * math.log(2), n_tokens=3, n_chars=12, prefix="val")
    assert result["val_loss"] == pytest.approx(2 * math.log(2))
    assert result["val_perplexity"] == pytest.approx(4.0)
    assert result["val_bits_per_char"] == pytest.approx(0.5)
    with pytest.raises(ValueError):
        metrics.lm_metrics(total_nats=1.0, n_tokens=0, n_chars=12)


def test_perplexity_and_uniform():
    assert metrics.perplexity(0.0) == 1.0
    assert metrics.perplexity(math.log(7)) == pytest.approx(7.0)  # as unsure as a 7-way choice
    assert metrics.perplexity(1e6) == math.inf  # no OverflowError for a hopeless model
    # A uniform choice among 256 tokens costs 8 bits per token, whose perplexity is 256.
    assert metrics.uniform_loss(256) / math.log(2) == pytest.approx(8.0)
    assert metrics.perplexity(metrics.uniform_loss(256)) == pytest.approx(256.0)


def test_bigram_baseline_by_hand():
    # Vocabulary {0, 1}; training text 0 0 1 0: pairs (0,0), (0,1), (1,0).
    # Add-one: P(0|0) = (1+1)/(2+2) = 1/2, P(1|0) = 1/2, P(0|1) = (1+1)/(1+2) = 2/3,
    # P(1|1) = 1/3. Validation 1 1 0 scores P(1|1) * P(0|1) = 1/3 * 2/3.
    nats = metrics.bigram_baseline_nats(np.array([0, 0, 1, 0]), np.array([1, 1, 0]), 2)
    assert nats == pytest.approx(-math.log(1 / 3) - math.log(2 / 3))


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
