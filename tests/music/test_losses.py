"""Frame NLL, the piano-roll baselines, the n-gram baselines and the memorisation check, on numbers by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from genlab.music.losses import (WittenBellNGram, bernoulli_frame_nll, independent_bernoulli_fit,
                                 independent_bernoulli_nll, longest_copied_ngram, markov_fit, markov_nll, masked_mean)


def test_frame_nll_of_a_two_step_roll_by_hand():
    frames = torch.tensor([[[1.0, 0.0], [0.0, 1.0]]])
    logits = torch.tensor([[[0.0, 0.0], [math.log(3), -math.log(3)]]])
    nll = bernoulli_frame_nll(logits, frames)
    # step 1: -log s(0) - log(1 - s(0)) = 2 ln 2; step 2: p(key0 on) = 3/4 but off, p(key1 on) = 1/4 and on: 2 ln 4
    assert torch.allclose(nll, torch.tensor([[2 * math.log(2), 2 * math.log(4)]]), atol=1e-6)
    assert masked_mean(nll, torch.ones(1, 2)).item() == pytest.approx(3 * math.log(2), abs=1e-6)
    # a padded third step does not count
    padded = torch.cat([nll, torch.tensor([[100.0]])], dim=1)
    assert masked_mean(padded, torch.tensor([[1.0, 1.0, 0.0]])).item() == pytest.approx(3 * math.log(2), abs=1e-6)


def test_independent_bernoulli_and_markov_baselines_on_a_toy_roll():
    roll = np.array([[1], [1], [0], [1]], dtype=bool)
    p = independent_bernoulli_fit([roll], alpha=0.5)
    assert p[0] == pytest.approx((3 + 0.5) / (4 + 1))  # 0.7
    assert independent_bernoulli_nll(p, [roll]) == pytest.approx((-3 * math.log(0.7) - math.log(0.3)) / 4)
    trans, first = markov_fit([roll], alpha=0.5)
    # after "on": on once, off once -> (1 + .5) / (2 + 1); after "off": on once -> (1 + .5) / (1 + 1)
    assert trans[0, 1] == pytest.approx(0.5) and trans[0, 0] == pytest.approx(0.75) and first[0] == pytest.approx(0.7)
    expected = (-math.log(0.7) - 2 * math.log(0.5) - math.log(0.75)) / 4
    assert markov_nll(trans, first, [roll]) == pytest.approx(expected)


def test_witten_bell_bigram_by_hand():
    lm = WittenBellNGram(2, ["a", "b"]).fit([["a", "b", "a"]])
    # unigram add-one: a 3/5, b 2/5; each bigram history seen once with one continuation
    assert lm.prob(["a"], "b") == pytest.approx((1 + 0.4) / 2)
    assert lm.prob(["a"], "a") == pytest.approx(0.6 / 2)
    assert lm.prob(["a"], "a") + lm.prob(["a"], "b") == pytest.approx(1.0)
    ce, n = lm.cross_entropy([["a", "b"]])
    assert n == 2 and ce == pytest.approx((-math.log(0.8) - math.log(0.7)) / 2)


def test_longest_copied_ngram():
    assert longest_copied_ngram([1, 2, 3, 9, 4, 5, 6, 7], [[0, 4, 5, 6, 7, 8], [1, 2, 3]]) == (4, 4)
    # a run split across two training tunes is not a copy
    assert longest_copied_ngram([5, 6, 1, 2], [[5, 6], [1, 2]]) == (2, 0)
    assert longest_copied_ngram([42], [[1, 2]]) == (0, 0)
