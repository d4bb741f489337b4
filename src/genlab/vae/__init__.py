"""Variational autoencoders (MLP and conv VAE, beta-VAE): ``genlab.vae`` is the VAE's face of :mod:`genlab.latent`.

    >>> from genlab import vae
    >>> result = vae.train(vae.VAEConfig(latent_dim=2), out="runs/vae/z2")
    >>> vae.sample(result.run_dir, n=64); vae.evaluate(result.run_dir, iwae_k=5000)
"""

from ..latent.api import VAE_TRAIN as DEFAULT_TRAIN
from ..latent.api import elbo_metrics as evaluate_model
from ..latent.api import evaluate_vae as evaluate
from ..latent.api import evaluation_images
from ..latent.api import sample_vae as sample
from ..latent.api import train_vae as train
from ..latent.config import VAEConfig
from ..latent.losses import bernoulli_nll, kl_divergence, negative_elbo, reparameterize
from ..latent.models import VAE, ConvVAE, MLPVAE, build_vae
from ..latent.trainers import VAETrainer


def default_train_config(**overrides):
    """The VAE's engine defaults (:data:`DEFAULT_TRAIN`) with ``overrides``: a :class:`TrainConfig`."""
    from ..latent.api import default_train_config as make

    return make("vae", **overrides)


__all__ = ["VAE", "ConvVAE", "MLPVAE", "VAEConfig", "VAETrainer", "build_vae", "train", "sample", "evaluate",
           "evaluate_model", "evaluation_images", "default_train_config", "DEFAULT_TRAIN", "kl_divergence",
           "bernoulli_nll", "negative_elbo", "reparameterize"]


def __getattr__(name: str):
    if name == "manifold":  # the latent tool (``genlab vae manifold``); loads matplotlib on first use
        from ..latent.tools import manifold

        return manifold
    raise AttributeError(f"module 'genlab.vae' has no attribute {name!r}")
