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
