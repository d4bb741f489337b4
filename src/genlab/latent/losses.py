"""The objectives of the latent models as small pure functions (per-example values in nats unless stated).

* VAE: :func:`kl_divergence`, :func:`bernoulli_nll`, :func:`gaussian_nll`, :func:`negative_elbo` (Kingma & Welling 2014;
  beta-VAE, Higgins et al. 2017; sigma-VAE, Rybkin et al. 2021). The IWAE bound (Burda et al. 2016) is a metric:
  :func:`genlab.metrics.likelihood.iwae_bound`.
* Autoencoder: :func:`reconstruction_loss` (Bernoulli NLL or squared error).
* Adversarial autoencoder: :func:`discriminator_loss`, :func:`generator_loss` (Makhzani et al. 2016; batch means).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

LOG_2PI = math.log(2.0 * math.pi)
RECON_LOSSES = ("bce", "mse")


# ---- VAE -----------------------------------------------------------------------------------------------------------

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


def gaussian_nll(mean: torch.Tensor, target: torch.Tensor, log_sigma: torch.Tensor) -> torch.Tensor:
    """-log N(x; mean, sigma^2 I) per example, summed over pixels: a continuous density, so it can be negative.

    With one learned ``log_sigma`` for the whole image this is the "sigma-VAE" of Rybkin, Daniilidis & Levine,
    "Simple and Effective VAE Training with Calibrated Decoders" (2021): the decoder's variance is learned instead of
    hand-tuning the weight of an MSE term.  (B, ...) -> (B,)
    """
    mean, target = mean.float(), target.float()
    log_sigma = log_sigma.float().expand_as(mean)
    per_pixel = 0.5 * ((target - mean) / log_sigma.exp()).pow(2) + log_sigma + 0.5 * LOG_2PI
    return per_pixel.flatten(1).sum(dim=1)


def log_normal(z: torch.Tensor, mu: torch.Tensor | None = None, logvar: torch.Tensor | None = None) -> torch.Tensor:
    """log N(z; mu, diag(exp(logvar))) summed over the last dim; standard normal when mu/logvar are None."""
    if mu is None:
        return -0.5 * (z.pow(2) + LOG_2PI).sum(dim=-1)
    return -0.5 * ((z - mu).pow(2) / logvar.exp() + logvar + LOG_2PI).sum(dim=-1)


def reparameterize(mu: torch.Tensor, logvar: torch.Tensor, *, generator: torch.Generator | None = None) -> torch.Tensor:
    """z = mu + sigma * eps, eps ~ N(0, I): a differentiable sample of q(z | x) (Kingma & Welling 2014, sec. 2.4)."""
    eps = torch.randn(mu.shape, generator=generator, device=mu.device, dtype=mu.dtype)
    return mu + torch.exp(0.5 * logvar) * eps


def negative_elbo(logits: torch.Tensor, target: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor, *,
                  beta: float = 1.0, recon: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
    """Per-example terms: ``recon`` = -log p(x|z), ``kl``, ``nelbo`` = recon + kl, ``loss`` = recon + beta * kl.

    beta = 1 is the VAE bound; beta > 1 is Higgins et al.'s beta-VAE (2017). ``recon`` may be given precomputed
    (another likelihood than Bernoulli); otherwise it is the Bernoulli NLL of ``target`` under ``logits``.
    """
    if recon is None:
        recon = bernoulli_nll(logits, target)
    kl = kl_divergence(mu.float(), logvar.float())
    return {"recon": recon, "kl": kl, "nelbo": recon + kl, "loss": recon + beta * kl}


# ---- autoencoder ---------------------------------------------------------------------------------------------------

def squared_error(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Sum over pixels of ``(sigmoid(logits) - target)^2`` per example: (B, ...) -> (B,).

    Up to a constant and a factor 1 / (2 sigma^2) this is the negative log-likelihood of a Gaussian decoder with a
    fixed variance (the "MSE autoencoder" of the Keras/"Generative Deep Learning" examples).
    """
    return (torch.sigmoid(logits.float()) - target.float()).pow(2).flatten(1).sum(dim=1)


def reconstruction_loss(logits: torch.Tensor, target: torch.Tensor, kind: str = "bce") -> torch.Tensor:
    """Per-example reconstruction loss: ``"bce"`` = Bernoulli NLL in nats (:func:`bernoulli_nll`, the binary
    cross-entropy summed over pixels, for images in [0, 1]); ``"mse"`` = :func:`squared_error`."""
    if kind == "bce":
        return bernoulli_nll(logits, target)
    if kind == "mse":
        return squared_error(logits, target)
    raise ValueError(f"unknown reconstruction loss {kind!r}; use one of {RECON_LOSSES}")


# ---- adversarial autoencoder ---------------------------------------------------------------------------------------
# Makhzani et al., "Adversarial Autoencoders" (ICLR workshop 2016), sec. 2: a discriminator D tells codes drawn from
# the prior p(z) ("real") from codes of the encoder q(z|x) ("fake"); the encoder, as the generator, learns to fool it,
# so the aggregate posterior q(z) = E_x q(z|x) is pushed towards p(z). The losses are the GAN ones of Goodfellow et
# al. (2014), with the usual non-saturating generator loss; batch means.

def discriminator_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """``-mean log D(z_prior) - mean log(1 - D(z_encoder))`` for D's logits (any shape)."""
    real = F.binary_cross_entropy_with_logits(real_logits.float(), torch.ones_like(real_logits, dtype=torch.float32))
    fake = F.binary_cross_entropy_with_logits(fake_logits.float(), torch.zeros_like(fake_logits, dtype=torch.float32))
    return real + fake


def generator_loss(fake_logits: torch.Tensor) -> torch.Tensor:
    """The encoder's (generator's) non-saturating loss ``-mean log D(z_encoder)``."""
    return F.binary_cross_entropy_with_logits(fake_logits.float(), torch.ones_like(fake_logits, dtype=torch.float32))


__all__ = ["kl_divergence", "bernoulli_nll", "gaussian_nll", "log_normal", "reparameterize", "negative_elbo",
           "squared_error", "reconstruction_loss", "RECON_LOSSES", "discriminator_loss",
           "generator_loss"]
