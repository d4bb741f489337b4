"""GAN objectives as small pure functions on the discriminator's raw outputs (logits / critic scores).

Each pair ``*_d_loss(real, fake)`` / ``*_g_loss(fake)`` takes ``D``'s outputs of shape ``(B,)`` or ``(B, 1)`` and returns
a scalar to *minimise*. The trainer picks one pair by name (:data:`OBJECTIVES`).

    >>> d = hinge_d_loss(d_real, d_fake); g = hinge_g_loss(d_fake_for_g)
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn


def ns_d_loss(real: torch.Tensor, fake: torch.Tensor, *, real_target: float | torch.Tensor = 1.0,
              fake_target: float | torch.Tensor = 0.0) -> torch.Tensor:
    """Discriminator cross-entropy of Goodfellow et al. 2014, "Generative Adversarial Nets":
    BCE(D(x), 1) + BCE(D(G(z)), 0), on logits. ``real_target`` < 1 is one-sided label smoothing (Salimans et al.
    2016, "Improved Techniques for Training GANs"); per-example targets carry label noise (flipped labels)."""
    real_t = torch.as_tensor(real_target, dtype=real.dtype, device=real.device).expand_as(real)
    fake_t = torch.as_tensor(fake_target, dtype=fake.dtype, device=fake.device).expand_as(fake)
    return (F.binary_cross_entropy_with_logits(real, real_t) + F.binary_cross_entropy_with_logits(fake, fake_t))


def ns_g_loss(fake: torch.Tensor) -> torch.Tensor:
    """The non-saturating generator loss of Goodfellow et al. 2014: -log D(G(z)) = softplus(-logit), averaged."""
    return F.softplus(-fake).mean()


def wgan_d_loss(real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """Wasserstein critic loss of Arjovsky et al. 2017, "Wasserstein GAN": E[D(G(z))] - E[D(x)]."""
    return fake.mean() - real.mean()


def wgan_g_loss(fake: torch.Tensor) -> torch.Tensor:
    """Wasserstein generator loss (Arjovsky et al. 2017): -E[D(G(z))]."""
    return -fake.mean()


def hinge_d_loss(real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """Hinge discriminator loss (Lim & Ye 2017 "Geometric GAN"; Miyato et al. 2018; SAGAN, BigGAN):
    E[max(0, 1 - D(x))] + E[max(0, 1 + D(G(z)))]."""
    return F.relu(1.0 - real).mean() + F.relu(1.0 + fake).mean()


def hinge_g_loss(fake: torch.Tensor) -> torch.Tensor:
    """Hinge generator loss (Lim & Ye 2017): -E[D(G(z))]."""
    return -fake.mean()


# name -> (D loss, G loss). "wgan" and "wgan-gp" share the Wasserstein losses; they differ in how the critic is kept
# 1-Lipschitz (weight clipping vs. the gradient penalty), which the trainer applies.
OBJECTIVES: dict[str, tuple[Callable[..., torch.Tensor], Callable[[torch.Tensor], torch.Tensor]]] = {
    "ns": (ns_d_loss, ns_g_loss),
    "wgan": (wgan_d_loss, wgan_g_loss),
    "wgan-gp": (wgan_d_loss, wgan_g_loss),
    "hinge": (hinge_d_loss, hinge_g_loss),
}


def gradient_penalty(critic: Callable[[torch.Tensor], torch.Tensor], real: torch.Tensor,
                     fake: torch.Tensor, *, eps: torch.Tensor | None = None) -> torch.Tensor:
    """Two-sided gradient penalty of Gulrajani et al. 2017, "Improved Training of Wasserstein GANs":
    E[(||∇_x̂ D(x̂)||₂ - 1)²] at x̂ = ε x + (1 - ε) G(z), ε ~ U[0, 1] per example. Multiply by λ (10 in the paper).
    Two-sided: a gradient norm below 1 is penalised as much as one above (the one-sided max(0, ||∇|| - 1)² is not).

    ``eps`` (B,) may be given (the trainer draws it from its per-step stream); otherwise it comes from the global RNG.
    The graph is kept (``create_graph``), so the penalty's own gradient reaches the critic's weights.
    """
    eps_shape = (real.shape[0],) + (1,) * (real.ndim - 1)
    if eps is None:
        eps = torch.rand(eps_shape, device=real.device, dtype=real.dtype)
    else:
        eps = eps.to(device=real.device, dtype=real.dtype).view(eps_shape)
    mixed = (eps * real.detach() + (1.0 - eps) * fake.detach()).requires_grad_(True)
    scores = critic(mixed)
    (grad,) = torch.autograd.grad(scores.sum(), mixed, create_graph=True)
    norms = grad.flatten(1).norm(2, dim=1)  # (B,)
    return ((norms - 1.0) ** 2).mean()


def r1_penalty(critic: Callable[[torch.Tensor], torch.Tensor], real: torch.Tensor) -> torch.Tensor:
    """R1 of Mescheder, Geiger & Nowozin 2018, "Which Training Methods for GANs do actually Converge?":
    E[||∇_x D(x)||²] on real images only (multiply by γ/2; StyleGAN's regulariser, with the non-saturating loss).
    The graph is kept, so the penalty's gradient reaches the discriminator's weights."""
    x = real.detach().requires_grad_(True)
    (grad,) = torch.autograd.grad(critic(x).float().sum(), x, create_graph=True)
    return grad.flatten(1).pow(2).sum(dim=1).mean()


@torch.no_grad()
def clip_weights_(module: nn.Module, clip_value: float) -> None:
    """Weight clipping of Arjovsky et al. 2017: every parameter of the critic into [-c, c], in place (c = 0.01)."""
    for p in module.parameters():
        p.clamp_(-clip_value, clip_value)


def add_instance_noise(x: torch.Tensor, std: float, noise: torch.Tensor | None = None) -> torch.Tensor:
    """Instance noise (Sønderby et al. 2017, "Amortised MAP Inference for Image Super-resolution"; Arjovsky & Bottou
    2017): Gaussian noise of ``std`` on the discriminator's inputs, real and fake alike, so their supports overlap.
    ``noise`` (standard normal, shaped like ``x``) may be given; otherwise it is drawn from the global RNG."""
    if std <= 0:
        return x
    return x + std * (torch.randn_like(x) if noise is None else noise.to(device=x.device, dtype=x.dtype))
