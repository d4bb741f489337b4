"""Adversarial autoencoders (Makhzani et al. 2016): codes matched to a prior by a discriminator on z."""

from .losses import discriminator_loss, generator_loss
from .model import AAEConfig, AdversarialAutoencoder, build_aae, sample_mixture_prior
from .train import DEFAULT_TRAIN, AAETrainer, default_train_config, evaluate, sample, train

__all__ = ["AAEConfig", "AdversarialAutoencoder", "build_aae", "sample_mixture_prior", "AAETrainer", "train",
           "sample", "evaluate", "default_train_config", "DEFAULT_TRAIN", "discriminator_loss", "generator_loss"]
