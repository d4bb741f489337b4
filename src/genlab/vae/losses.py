"""The VAE objective as small pure functions (per-example values, in nats)."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def kl_divergence(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL( N(mu, exp(logvar)) || N(0, I) ) per example, summed over latent dims.

    Closed form from Kingma & Welling, "Auto-Encoding Variational Bayes" (2014), appendix B:
    ``-0.5 * sum(1 + logvar - mu^2 - exp(logvar))``.  mu, logvar: (B, D) -> (B,)
    """
    return -0.5 * torch.sum(1.0 + logvar - mu.pow(2) - logvar.exp(), dim=-1)


def bernoulli_nll(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """-log p(x | z) per example under independent Bernoulli pixels with the given logits.

    ``target`` may be grey levels in [0, 1] (the usual MNIST practice, as in pytorch/examples' VAE): the value is
    then the binary cross-entropy summed over pixels.  (B, ...) -> (B,)
    """
    bce = F.binary_cross_entropy_with_logits(logits.float(), target.float(), reduction="none")
    return bce.flatten(1).sum(dim=1)


def reparameterize(mu: torch.Tensor, logvar: torch.Tensor, *, generator: torch.Generator | None = None) -> torch.Tensor:
    """z = mu + sigma * eps, eps ~ N(0, I): a differentiable sample of q(z | x)."""
    eps = torch.randn(mu.shape, generator=generator, device=mu.device, dtype=mu.dtype)
    return mu + torch.exp(0.5 * logvar) * eps


def negative_elbo(logits: torch.Tensor, target: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor, *,
                  beta: float = 1.0) -> dict[str, torch.Tensor]:
    """Per-example terms: ``recon`` = -log p(x|z), ``kl``, ``nelbo`` = recon + kl, ``loss`` = recon + beta * kl.

    beta = 1 is the VAE bound; beta > 1 is Higgins et al.'s beta-VAE (2017).
    """
    recon = bernoulli_nll(logits, target)
    kl = kl_divergence(mu.float(), logvar.float())
    return {"recon": recon, "kl": kl, "nelbo": recon + kl, "loss": recon + beta * kl}
