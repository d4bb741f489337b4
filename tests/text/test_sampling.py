"""Tests of genlab.text.sampling: temperature, top-k, top-p and the sampling step, with exact values."""

from __future__ import annotations

import math

import pytest
import torch
from helpers import one_line

from genlab.core.errors import ConfigError
from genlab.text.sampling import (
    check_sampling_options,
    reweight_distribution,
    sample_logits,
    top_k_filter,
    top_p_filter,
)

INF = float("inf")


def test_reweight_equals_softmax_over_t() -> None:
    logits = torch.tensor([[2.0, -1.0, 0.5, 3.0, 0.0], [0.1, 0.2, -4.0, 1.0, 1.5]], dtype=torch.float64)
    for t in (0.2, 0.5, 1.0, 1.7, 5.0):
        reweighted = reweight_distribution(torch.softmax(logits, -1), t)
        torch.testing.assert_close(reweighted, torch.softmax(logits / t, -1), rtol=1e-12, atol=1e-12)


def test_reweight_hand_example() -> None:
    p = torch.tensor([0.5, 0.25, 0.25], dtype=torch.float64)
    # T = 0.5 squares the probabilities: [1/4, 1/16, 1/16] / (6/16)
    torch.testing.assert_close(reweight_distribution(p, 0.5), torch.tensor([2 / 3, 1 / 6, 1 / 6],
                                                                           dtype=torch.float64))
    torch.testing.assert_close(reweight_distribution(p, 1.0), p)
    # a zero probability stays zero
    assert reweight_distribution(torch.tensor([0.0, 1.0]), 2.0).tolist() == [0.0, 1.0]
    with pytest.raises(ConfigError) as err:
        reweight_distribution(p, 0.0)
    one_line(err, "> 0", "got 0.0")


def test_greedy_at_zero_temperature() -> None:
    logits = torch.randn(6, 11, generator=torch.Generator().manual_seed(0))
    expected = logits.argmax(-1)
    for seed in range(4):
        out = sample_logits(logits, temperature=0.0, generator=torch.Generator().manual_seed(seed))
        assert out.dtype == torch.int64 and out.shape == (6,)
        assert torch.equal(out, expected)
    assert torch.equal(sample_logits(logits, temperature=0, top_k=3, top_p=0.5), expected)
    assert torch.equal(sample_logits(logits.bfloat16(), temperature=0), logits.bfloat16().float().argmax(-1))


def test_top_k_hand_example() -> None:
    logits = torch.tensor([[1.0, 3.0, 2.0, 0.5], [4.0, -1.0, 0.0, 5.0]])
    out = top_k_filter(logits, 2)
    assert out.tolist() == [[-INF, 3.0, 2.0, -INF], [4.0, -INF, -INF, 5.0]]
    assert top_k_filter(logits, 4) is logits and top_k_filter(logits, 10) is logits  # k >= V: unchanged
    assert top_k_filter(logits, 1).isfinite().sum(-1).tolist() == [1, 1]


def test_top_k_keeps_exactly_k() -> None:
    logits = torch.randn(3, 5, 50, generator=torch.Generator().manual_seed(1))  # any leading dims
    for k in (1, 7, 49):
        out = top_k_filter(logits, k)
        assert out.shape == logits.shape
        assert (out.isfinite().sum(-1) == k).all()
        kept = torch.where(out.isfinite(), logits, -INF)
        assert torch.equal(kept, out)  # kept entries are unchanged
        assert torch.equal(out.topk(k, -1).values, logits.topk(k, -1).values)


def test_top_p_hand_examples() -> None:
    logits = torch.tensor([[0.5, 0.3, 0.15, 0.05]]).log()

    def kept(p: float) -> list[bool]:
        return top_p_filter(logits, p).isfinite()[0].tolist()

    assert kept(0.8) == [True, True, False, False]  # 0.5 + 0.3 reaches 0.8 exactly
    assert kept(0.81) == [True, True, True, False]
    assert kept(0.4) == [True, False, False, False]  # the most probable token alone reaches 0.4
    assert kept(0.01) == [True, False, False, False]  # always keep the most probable token
    assert kept(0.96) == [True, True, True, True]
    assert top_p_filter(logits, 1.0) is logits
    # order in the vocabulary does not matter, and kept logits are unchanged
    shuffled = torch.tensor([[0.15, 0.5, 0.05, 0.3]]).log()
    out = top_p_filter(shuffled, 0.8)
    assert out.isfinite()[0].tolist() == [False, True, False, True]
    assert torch.equal(out[0, [1, 3]], shuffled[0, [1, 3]])


def test_seeded_sampling_reproducible() -> None:
    logits = torch.randn(8, 30, generator=torch.Generator().manual_seed(2))
    a = sample_logits(logits, temperature=0.9, top_k=10, top_p=0.9, generator=torch.Generator().manual_seed(7))
    b = sample_logits(logits, temperature=0.9, top_k=10, top_p=0.9, generator=torch.Generator().manual_seed(7))
    assert torch.equal(a, b) and a.dtype == torch.int64 and a.shape == (8,)
    draws = sample_logits(logits.expand(50, 8, 30).reshape(400, 30), top_k=3,
                          generator=torch.Generator().manual_seed(0)).reshape(50, 8)
    allowed = logits.topk(3, -1).indices
    assert all(int(d) in allowed[j].tolist() for row in draws for j, d in enumerate(row))


def frequencies(logits: torch.Tensor, n: int, **kw) -> torch.Tensor:
    draws = sample_logits(logits.expand(n, -1), generator=torch.Generator().manual_seed(123), **kw)
    return torch.bincount(draws, minlength=logits.shape[-1]).double() / n


def test_empirical_frequencies_match() -> None:
    probs = torch.tensor([0.5, 0.3, 0.15, 0.05], dtype=torch.float64)
    logits = probs.log().float()[None]
    n = 20000
    assert (frequencies(logits, n, temperature=1.0) - probs).abs().max() < 0.02
    sharp = reweight_distribution(probs, 0.5)  # [25, 9, 2.25, 0.25] / 36.5
    torch.testing.assert_close(sharp, torch.tensor([25, 9, 2.25, 0.25], dtype=torch.float64) / 36.5)
    assert (frequencies(logits, n, temperature=0.5) - sharp).abs().max() < 0.02
    # top-p 0.8 renormalises over the first two: [0.625, 0.375, 0, 0]
    f = frequencies(logits, n, top_p=0.8)
    assert f[2] == f[3] == 0 and abs(f[0] - 0.625) < 0.02
    # bf16 logits are sampled in float32 with the same distribution
    assert (frequencies(logits.bfloat16(), n) - probs).abs().max() < 0.02


@pytest.mark.parametrize(("kwargs", "words"), [
    ({"temperature": -1.0}, ["--temperature must be >= 0 (got -1.0)"]),
    ({"temperature": [1.0, -0.5]}, ["--temperature must be >= 0 (got -0.5)"]),
    ({"temperature": []}, ["--temperature", "at least one"]),
    ({"temperature": math.inf}, ["--temperature must be finite"]),
    ({"temperature": math.nan}, ["--temperature", "got nan"]),
    ({"top_k": 0}, ["--top-k must be >= 1 (got 0)"]),
    ({"top_k": 2.5}, ["--top-k must be an integer"]),
    ({"top_p": 1.5}, ["--top-p must be in (0, 1] (got 1.5)"]),
    ({"top_p": 0.0}, ["--top-p must be in (0, 1] (got 0.0)"]),
    ({"length": -1}, ["--length must be >= 0"]),
    ({"n": 0}, ["--n must be >= 1"]),
])
def test_bad_options(kwargs: dict, words: list[str]) -> None:
    with pytest.raises(ConfigError) as err:
        check_sampling_options(**kwargs)
    one_line(err, *words)


def test_good_options_and_sampler_validation() -> None:
    check_sampling_options(temperature=[0.0, 0.2, 1.2], top_k=1, top_p=1.0, length=0, n=1)
    check_sampling_options()
    logits = torch.zeros(2, 5)
    for kw, flag in (({"temperature": -1.0}, "--temperature"), ({"top_k": 0}, "--top-k"),
                     ({"top_p": 2.0}, "--top-p")):
        with pytest.raises(ConfigError) as err:
            sample_logits(logits, **kw)
        one_line(err, flag)
    with pytest.raises(ConfigError) as err:
        top_k_filter(logits, 0)
    one_line(err, "--top-k")
    with pytest.raises(ConfigError) as err:
        top_p_filter(logits, 0.0)
    one_line(err, "--top-p")


def test_tiny_temperature_is_nearly_greedy_not_nan() -> None:
    logits = torch.tensor([[10.0, 9.999, -3.0], [1e30, 0.0, -1e30]])
    out = sample_logits(logits, temperature=1e-30, generator=torch.Generator().manual_seed(0))
    assert out.tolist() == [0, 0]
