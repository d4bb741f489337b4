"""Variational autoencoders (MLP and conv VAE, beta-VAE) on MNIST, Fashion-MNIST or an image folder."""

from .losses import bernoulli_nll, kl_divergence, negative_elbo, reparameterize
from .model import VAE, ConvVAE, MLPVAE, VAEConfig, build_vae
from .train import DEFAULT_TRAIN, default_train_config, evaluate, evaluate_model, manifold, sample, train

__all__ = ["VAE", "ConvVAE", "MLPVAE", "VAEConfig", "build_vae", "train", "sample", "manifold", "evaluate",
           "evaluate_model", "default_train_config", "DEFAULT_TRAIN", "kl_divergence", "bernoulli_nll",
           "negative_elbo", "reparameterize"]
