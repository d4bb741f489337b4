"""Plain (deterministic) autoencoders, MLP and conv: ``genlab.ae`` is the autoencoder's face of :mod:`genlab.latent`.

    >>> from genlab import ae
    >>> result = ae.train(ae.AEConfig(latent_dim=2), out="runs/ae/z2")
    >>> ae.sample(result.run_dir, n=64)   # decoded draws from the Gaussian fitted to the training codes
"""

from ..latent.api import AE_TRAIN as DEFAULT_TRAIN
from ..latent.api import evaluate_ae as evaluate
from ..latent.api import sample_ae as sample
from ..latent.api import train_ae as train
from ..latent.config import AEConfig
from ..latent.losses import reconstruction_loss, squared_error
from ..latent.models import Autoencoder, LatentAutoencoderBase, build_autoencoder
from ..latent.trainers import AETrainer


def default_train_config(**overrides):
    """The autoencoder's engine defaults (:data:`DEFAULT_TRAIN`) with ``overrides``: a :class:`TrainConfig`."""
    from ..latent.api import default_train_config as make

    return make("ae", **overrides)


__all__ = ["AEConfig", "Autoencoder", "LatentAutoencoderBase", "build_autoencoder", "AETrainer", "train", "sample",
           "evaluate", "default_train_config", "DEFAULT_TRAIN", "reconstruction_loss", "squared_error"]
