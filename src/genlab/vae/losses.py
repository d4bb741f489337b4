"""Alias of :mod:`genlab.latent.losses` (the VAE objective lives there)."""

from ..latent.losses import (LOG_2PI, bernoulli_nll, gaussian_nll, iwae_bound, kl_divergence, log_normal,  # noqa: F401
                             negative_elbo, reparameterize)
