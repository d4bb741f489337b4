"""Plain (deterministic) autoencoders, MLP and conv, on MNIST, Fashion-MNIST or an image folder."""

from .losses import reconstruction_loss, squared_error
from .model import AEConfig, Autoencoder, LatentAutoencoderBase, build_autoencoder
from .train import DEFAULT_TRAIN, AETrainer, default_train_config, evaluate, sample, train

__all__ = ["AEConfig", "Autoencoder", "LatentAutoencoderBase", "build_autoencoder", "AETrainer", "train", "sample",
           "evaluate", "default_train_config", "DEFAULT_TRAIN", "reconstruction_loss", "squared_error"]
