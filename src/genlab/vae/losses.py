"""Alias of :mod:`genlab.latent.losses` (the VAE objective lives there; the IWAE bound in genlab.metrics)."""

from ..latent.losses import (LOG_2PI, bernoulli_nll, gaussian_nll, kl_divergence, log_normal,  # noqa: F401
                             negative_elbo, reparameterize)
from ..metrics.likelihood import iwae_bound  # noqa: F401
