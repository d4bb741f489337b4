"""GAN objectives on hand-computed numbers, the gradient penalty, weight clipping and instance noise."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from genlab.gan.losses import (
    OBJECTIVES,
    add_instance_noise,
    clip_weights_,
    gradient_penalty,
    r1_penalty,
    hinge_d_loss,
    hinge_g_loss,
    ns_d_loss,
    ns_g_loss,
    wgan_d_loss,
    wgan_g_loss,
)

REAL = torch.tensor([2.0, -1.0])
FAKE = torch.tensor([0.0, 3.0])


def softplus(x: float) -> float:
    return math.log1p(math.exp(x))


def test_non_saturating_losses_by_hand():
    # BCE(logit, 1) = softplus(-logit); BCE(logit, 0) = softplus(logit).
    d = (softplus(-2) + softplus(1)) / 2 + (softplus(0) + softplus(3)) / 2
    assert float(ns_d_loss(REAL, FAKE)) == pytest.approx(d, rel=1e-6)
    assert float(ns_g_loss(FAKE)) == pytest.approx((softplus(0) + softplus(-3)) / 2, rel=1e-6)
    # one-sided smoothing 0.9: BCE(l, t) = softplus(l) - t*l.
    smooth = (softplus(2) - 0.9 * 2 + softplus(-1) + 0.9) / 2 + (softplus(0) + softplus(3)) / 2
    assert float(ns_d_loss(REAL, FAKE, real_target=0.9)) == pytest.approx(smooth, rel=1e-6)
    # per-example targets (label noise): flip the first real and the second fake label.
    flipped = (softplus(2) + softplus(1)) / 2 + (softplus(0) + softplus(-3)) / 2
    got = ns_d_loss(REAL, FAKE, real_target=torch.tensor([0.0, 1.0]), fake_target=torch.tensor([0.0, 1.0]))
    assert float(got) == pytest.approx(flipped, rel=1e-6)


def test_wasserstein_and_hinge_losses_by_hand():
    assert float(wgan_d_loss(REAL, FAKE)) == pytest.approx(1.5 - 0.5)
    assert float(wgan_g_loss(FAKE)) == pytest.approx(-1.5)
    # relu(1 - [2, -1]) = [0, 2] -> 1; relu(1 + [0, 3]) = [1, 4] -> 2.5
    assert float(hinge_d_loss(REAL, FAKE)) == pytest.approx(3.5)
    assert float(hinge_g_loss(FAKE)) == pytest.approx(-1.5)
    assert set(OBJECTIVES) == {"ns", "wgan", "wgan-gp", "hinge"}


def test_gradient_penalty_zero_for_unit_norm_linear_critic_and_known_otherwise():
    torch.manual_seed(0)
    real, fake = torch.randn(8, 1, 4, 4), torch.randn(8, 1, 4, 4)
    w = torch.randn(16)
    unit = w / w.norm()
    assert float(gradient_penalty(lambda x: x.flatten(1) @ unit, real, fake)) == pytest.approx(0.0, abs=1e-10)
    # ||grad|| = 3 everywhere -> (3 - 1)^2 = 4; and the penalty is differentiable w.r.t. the critic's weights.
    weight = (3 * unit).clone().requires_grad_(True)
    gp = gradient_penalty(lambda x: x.flatten(1) @ weight, real, fake)
    assert float(gp.detach()) == pytest.approx(4.0, rel=1e-5)
    (g,) = torch.autograd.grad(gp, weight)
    # d/dw (||w|| - 1)^2 = 2 (||w|| - 1) w / ||w|| = 4 * unit
    torch.testing.assert_close(g, 4 * unit, rtol=1e-4, atol=1e-5)


def test_weight_clipping_keeps_every_weight_within_bounds():
    torch.manual_seed(0)
    d = nn.Sequential(nn.Conv2d(1, 4, 3), nn.BatchNorm2d(4), nn.Flatten(), nn.Linear(4 * 4 * 4, 1))
    with torch.no_grad():
        for p in d.parameters():
            p.mul_(10)
    assert max(float(p.detach().abs().max()) for p in d.parameters()) > 0.01
    clip_weights_(d, 0.01)
    assert all(float(p.detach().abs().max()) <= 0.01 for p in d.parameters())
    inside = d[0].weight.detach().clone()
    clip_weights_(d, 0.02)  # already inside: unchanged
    torch.testing.assert_close(d[0].weight, inside, rtol=0, atol=0)


def test_instance_noise():
    x = torch.zeros(2000, 8)
    assert add_instance_noise(x, 0.0) is x
    torch.manual_seed(0)
    noisy = add_instance_noise(x, 0.5)
    assert float(noisy.std()) == pytest.approx(0.5, rel=0.05)


def test_gradient_penalty_is_two_sided_and_takes_a_given_eps():
    torch.manual_seed(0)
    real, fake = torch.randn(8, 1, 4, 4), torch.randn(8, 1, 4, 4)
    unit = torch.randn(16)
    unit = unit / unit.norm()
    # ||grad|| = 0.5 < 1: WGAN-GP's two-sided penalty is (0.5 - 1)^2 = 0.25; a one-sided max(0, ||g|| - 1)^2 gives 0
    assert float(gradient_penalty(lambda x: x.flatten(1) @ (0.5 * unit), real, fake).detach()) == pytest.approx(0.25,
                                                                                               rel=1e-5)
    # the interpolation weights: eps = 1 puts x_hat on the real images, so a critic whose gradient norm is 2 at
    # the real points and 1 at the fakes is penalised (2 - 1)^2 = 1 there, and 0 with eps = 0 (x_hat on the fakes)
    def critic(x):  # D(x) = ||x||^2 / 2, whose gradient is x itself
        return (x.flatten(1) ** 2).sum(1) / 2

    real_u = real / real.flatten(1).norm(dim=1).view(-1, 1, 1, 1) * 2  # norm 2
    fake_u = fake / fake.flatten(1).norm(dim=1).view(-1, 1, 1, 1)  # norm 1
    assert float(gradient_penalty(critic, real_u, fake_u, eps=torch.ones(8)).detach()) == pytest.approx(1.0, rel=1e-5)
    assert float(gradient_penalty(critic, real_u, fake_u, eps=torch.zeros(8)).detach()) == pytest.approx(0.0, abs=1e-10)


def test_instance_noise_takes_given_noise():
    x = torch.zeros(3, 2)
    noise = torch.ones(3, 2)
    torch.testing.assert_close(add_instance_noise(x, 0.5, noise), torch.full((3, 2), 0.5))


def test_r1_penalty_is_the_squared_gradient_norm_on_real_images_and_reaches_the_weights():
    torch.manual_seed(0)
    real = torch.randn(8, 1, 4, 4)
    weight = torch.randn(16).requires_grad_(True)
    # D(x) = w . x: the gradient is w at every image, so R1 = ||w||^2, and dR1/dw = 2 w
    r1 = r1_penalty(lambda x: x.flatten(1) @ weight, real)
    assert float(r1.detach()) == pytest.approx(float(weight.detach().pow(2).sum()), rel=1e-5)
    (g,) = torch.autograd.grad(r1, weight)
    torch.testing.assert_close(g, 2 * weight.detach(), rtol=1e-5, atol=1e-6)

    # D(x) = ||x||^2 / 2 has gradient x: R1 = mean ||x||^2 over the batch (per-example, not over the batch sum)
    r1 = r1_penalty(lambda x: (x.flatten(1) ** 2).sum(1) / 2, real)
    assert float(r1.detach()) == pytest.approx(float(real.flatten(1).pow(2).sum(1).mean()), rel=1e-5)
    assert not real.requires_grad  # the caller's tensor is untouched
