"""Train, sample and evaluate the plain autoencoder: the functions behind ``genlab ae ...``.

    >>> from genlab import ae
    >>> result = ae.train(ae.AEConfig(latent_dim=2), train_config=ae.default_train_config(epochs=5), out="runs/ae/z2")
    >>> ae.sample(result.run_dir, n=64)   # decoded draws from the Gaussian fitted to the training codes
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..core.engine import TrainConfig, Trainer, TrainResult
from ..data.datasets import ImageDataConfig
from ..latent import training
from .model import AEConfig, build_autoencoder

FAMILY = "ae"

DEFAULT_TRAIN = dict(epochs=10, batch_size=128, lr=1e-3, lr_schedule="cosine", min_lr_ratio=0.05,
                     warmup_steps=200, sample_every=1000, checkpoint_every=2000, log_every=100)


def default_train_config(**overrides: Any) -> TrainConfig:
    return TrainConfig(**{**DEFAULT_TRAIN, **overrides})


class AETrainer(Trainer):
    """The engine's single-optimiser loop; every saved model carries the Gaussian fitted to its training codes."""

    def save(self, epoch: int) -> Path | None:
        self.model.fit_code_distribution(self.train_data)  # eval mode, no RNG use: training is not disturbed
        return super().save(epoch)


def train(model_config: AEConfig | None = None, data_config: ImageDataConfig | None = None,
          train_config: TrainConfig | None = None, *, out: str | Path | None = None, resume: bool = False,
          overrides: dict[str, Any] | None = None) -> TrainResult:
    """Train an autoencoder; returns the run's :class:`TrainResult` (``result.run_dir`` holds everything)."""
    return training.train_latent_model(
        family=FAMILY, config_class=AEConfig, build=build_autoencoder, trainer_class=AETrainer,
        default_train=DEFAULT_TRAIN, model_config=model_config, data_config=data_config, train_config=train_config,
        out=out, resume=resume, overrides=overrides)


def sample(run: str | Path, *, n: int = 64, out: str | Path | None = None, seed: int = 0, nrow: int | None = None,
           device: str = "cpu") -> Path:
    """Decode ``n`` draws from N(mean, cov) of the training codes (an AE has no prior); returns the PNG's path."""
    return training.sample(run, family=FAMILY, n=n, out=out, seed=seed, nrow=nrow, device=device)


def evaluate(run: str | Path, **kwargs: Any) -> dict[str, Any]:
    """Test reconstruction error (BCE nats/image, MSE per pixel); see :func:`genlab.latent.training.evaluate`."""
    return training.evaluate(run, family=FAMILY, **kwargs)
