"""The MDN-RNN's objective and sampler on numbers worked out by hand."""

from __future__ import annotations

import math

import pytest
import torch

from genlab.worldmodels.losses import bernoulli_bce, mdn_log_prob, mdn_nll, mdn_sample, mixture_weights


def test_one_gaussian_is_the_normal_nll():
    # x = 1.5, mu = 0.5, sigma = 2: 0.5 * (1 / 2)^2 + log 2 + 0.5 log(2 pi) = 0.125 + 0.693147 + 0.918939
    nll = mdn_nll(torch.zeros(1, 1), torch.tensor([[0.5]]), torch.tensor([[math.log(2.0)]]), torch.tensor([1.5]))
    assert float(nll) == pytest.approx(0.125 + math.log(2.0) + 0.5 * math.log(2 * math.pi), abs=1e-6)


def test_two_component_mixture_by_hand():
    # pi = (0.25, 0.75) (logits log 1, log 3), N(0; 0, 1) and N(0; 2, 1):
    # p = 0.25 * 0.398942 + 0.75 * 0.053991 = 0.140229; -log p = 1.964480
    logit = torch.tensor([[0.0, math.log(3.0)]])
    mu = torch.tensor([[0.0, 2.0]])
    log_sigma = torch.zeros(1, 2)
    p = 0.25 * math.exp(-0.0) / math.sqrt(2 * math.pi) + 0.75 * math.exp(-2.0) / math.sqrt(2 * math.pi)
    assert float(mdn_log_prob(logit, mu, log_sigma, torch.tensor([0.0]))) == pytest.approx(math.log(p), abs=1e-6)
    assert -math.log(p) == pytest.approx(1.964480, abs=1e-5)
    # a mask drops elements from the mean
    target = torch.tensor([0.0, 100.0])
    both = torch.cat([logit, logit]), torch.cat([mu, mu]), torch.cat([log_sigma, log_sigma])
    masked = mdn_nll(*both, target, mask=torch.tensor([1.0, 0.0]))
    assert float(masked) == pytest.approx(-math.log(p), abs=1e-5)


def test_mixture_weights_sum_to_one_at_any_temperature():
    logits = torch.randn(4, 6, 5) * 3
    for tau in (0.1, 1.0, 1.5, 10.0):
        w = mixture_weights(logits, tau)
        assert torch.allclose(w.sum(-1), torch.ones(4, 6), atol=1e-6)
        assert (w >= 0).all()
    # a higher temperature flattens the weights
    assert mixture_weights(logits, 10.0).max() < mixture_weights(logits, 0.5).max()


def test_sampling_at_zero_temperature_returns_the_most_likely_mean():
    logit = torch.tensor([[0.1, 2.0, -1.0]])
    mu = torch.tensor([[-3.0, 7.0, 1.0]])
    log_sigma = torch.zeros(1, 3)
    u, n = torch.rand(1), torch.randn(1)
    assert float(mdn_sample(logit, mu, log_sigma, 0.0, uniform=u, normal=n)) == 7.0
    # and tau -> 0 approaches it: the weights concentrate on component 1, the spread shrinks as sqrt(tau)
    near = mdn_sample(logit, mu, log_sigma, 1e-6, uniform=torch.tensor([0.5]), normal=torch.tensor([1.0]))
    assert float(near) == pytest.approx(7.0, abs=2e-3)


def test_sampling_picks_components_by_inverse_cdf():
    # pi = (0.25, 0.75): u < 0.25 picks component 0, u above picks 1; z = mu_k + sigma_k * sqrt(tau) * n
    logit = torch.tensor([[0.0, math.log(3.0)]])
    mu = torch.tensor([[10.0, 20.0]])
    log_sigma = torch.log(torch.tensor([[1.0, 2.0]]))
    z = mdn_sample(logit.expand(2, 2), mu.expand(2, 2), log_sigma.expand(2, 2), 1.0, uniform=torch.tensor([0.2, 0.3]), normal=torch.tensor([1.0, 1.0]))
    assert z.tolist() == pytest.approx([11.0, 22.0])
    # tau = 4: pi = softmax(logits / 4) = (1 / (1 + 3^0.25), ...) = (0.4318, 0.5682), so u = 0.3 now picks
    # component 0; the spread doubles (sqrt 4): 10 + 1 * 2 * (-1) = 8, 10 + 1 * 2 * 0.5 = 11, 20 + 2 * 2 * 0.5 = 22
    z4 = mdn_sample(logit.expand(3, 2), mu.expand(3, 2), log_sigma.expand(3, 2), 4.0,
                    uniform=torch.tensor([0.2, 0.3, 0.5]), normal=torch.tensor([-1.0, 0.5, 0.5]))
    assert z4.tolist() == pytest.approx([8.0, 11.0, 22.0])
    with pytest.raises(ValueError):
        mdn_sample(logit, mu, log_sigma, -0.5, uniform=torch.zeros(2), normal=torch.zeros(2))


def test_reward_bce_by_hand():
    # logit 0 -> p = 0.5: log 2 for either target; logit log 3 -> p = 0.75: -log 0.75 for target 1
    assert float(bernoulli_bce(torch.tensor([0.0]), torch.tensor([1.0]))) == pytest.approx(math.log(2.0))
    assert float(bernoulli_bce(torch.tensor([math.log(3.0)]), torch.tensor([1.0]))) == pytest.approx(-math.log(0.75))
    assert float(bernoulli_bce(torch.tensor([math.log(3.0)]), torch.tensor([0.0]))) == pytest.approx(-math.log(0.25))
