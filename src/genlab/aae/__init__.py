"""Adversarial autoencoders (Makhzani et al. 2016): ``genlab.aae`` is the AAE's face of :mod:`genlab.latent`.

    >>> from genlab import aae
    >>> result = aae.train(aae.AAEConfig(latent_dim=2, prior="mixture"), out="runs/aae/mix")
    >>> aae.sample(result.run_dir, n=64)   # decoded prior draws
"""

from ..latent.api import AAE_TRAIN as DEFAULT_TRAIN
from ..latent.api import evaluate_aae as evaluate
from ..latent.api import sample_aae as sample
from ..latent.api import train_aae as train
from ..latent.config import AAEConfig
from ..latent.losses import discriminator_loss, generator_loss
from ..latent.models import AdversarialAutoencoder, build_aae, sample_mixture_prior
from ..latent.trainers import AAETrainer


def default_train_config(**overrides):
    """The AAE's engine defaults (:data:`DEFAULT_TRAIN`) with ``overrides``: a :class:`TrainConfig`."""
    from ..latent.api import default_train_config as make

    return make("aae", **overrides)


__all__ = ["AAEConfig", "AdversarialAutoencoder", "build_aae", "sample_mixture_prior", "AAETrainer", "train",
           "sample", "evaluate", "default_train_config", "DEFAULT_TRAIN", "discriminator_loss", "generator_loss"]
