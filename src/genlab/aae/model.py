"""The adversarial autoencoder (Makhzani et al. 2016): an autoencoder whose codes a discriminator pushes to a prior.

    >>> model = AdversarialAutoencoder(AAEConfig(latent_dim=2, prior="mixture"))
    >>> terms = model(images)               # reconstruction terms (the adversarial phases live in AAETrainer)
    >>> samples = model.sample(64, seed=0)  # decoded prior draws

Unlike the plain autoencoder, sampling needs no guess: after training the aggregate posterior q(z) matches the prior,
so decoded prior draws are the model's samples.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import torch
from torch import nn

from ..ae.model import AEConfig, LatentAutoencoderBase
from ..core.config import cfg_field, check_choice, check_positive
from ..core.errors import ConfigError
from ..core.model import register_model
from ..latent.nets import check_arch_fields, mlp
from ..vae.losses import reparameterize

PRIORS = ("normal", "mixture")
ENCODERS = ("deterministic", "gaussian")


@dataclass
class AAEConfig(AEConfig):
    prior: Literal["normal", "mixture"] = cfg_field(
        "normal", help="prior the codes are matched to: normal = N(0, I); mixture = 10 Gaussians on a circle "
                       "(the paper's 2-D figure; needs --latent-dim 2)")
    encoder_type: Literal["deterministic", "gaussian"] = cfg_field(
        "deterministic", help="deterministic q(z|x) or a Gaussian one (mean + log-variance, reparameterised)")
    disc_hidden_dims: tuple[int, ...] = cfg_field((512, 512), help="discriminator (on z) hidden layer widths")
    adversarial_lr_ratio: float = cfg_field(
        1.0, help="learning rate of the discriminator and of the encoder's adversarial phase, as a fraction of --lr")
    mixture_components: int = cfg_field(10, help="components of the mixture prior")
    mixture_radius: float = cfg_field(4.0, help="radius of the circle the mixture components' means lie on")
    mixture_std: float = cfg_field(0.5, help="standard deviation of each mixture component")

    def __post_init__(self) -> None:
        super().__post_init__()
        check_choice("prior", self.prior, PRIORS)
        check_choice("encoder_type", self.encoder_type, ENCODERS)
        self.disc_hidden_dims = check_arch_fields(arch=self.arch, latent_dim=self.latent_dim,
                                                  image_channels=self.image_channels, image_size=self.image_size,
                                                  disc_hidden_dims=self.disc_hidden_dims)["disc_hidden_dims"]
        for name in ("adversarial_lr_ratio", "mixture_radius", "mixture_std"):
            check_positive(name, getattr(self, name))
        if isinstance(self.mixture_components, bool) or not isinstance(self.mixture_components, int) \
                or self.mixture_components < 1:
            raise ConfigError(f"--mixture-components must be a whole number >= 1 (got {self.mixture_components})")
        if self.prior == "mixture" and self.latent_dim != 2:
            raise ConfigError(f"--prior mixture is a 2-D prior; use it with --latent-dim 2 (got {self.latent_dim}) "
                              f"or use --prior normal")


def sample_mixture_prior(n: int, *, components: int = 10, radius: float = 4.0, std: float = 0.5,
                         generator: torch.Generator | None = None) -> torch.Tensor:
    """``n`` draws (n, 2) from an equal-weight mixture of isotropic 2-D Gaussians with means evenly spaced on a
    circle of ``radius`` (the 10-component prior of Makhzani et al. 2016, fig. 2)."""
    k = torch.randint(0, components, (n,), generator=generator)
    angle = 2 * math.pi * k.double() / components
    means = radius * torch.stack([angle.cos(), angle.sin()], dim=1)
    return (means + std * torch.randn(n, 2, generator=generator, dtype=torch.float64)).float()


@register_model
class AdversarialAutoencoder(LatentAutoencoderBase):
    """Encoder q(z|x), decoder p(x|z) and a discriminator D(z) (trained by :class:`genlab.aae.AAETrainer`)."""

    model_type = "aae"
    family = "aae"
    config_class = AAEConfig

    def __init__(self, config: AAEConfig) -> None:
        super().__init__(config)
        self.encoder_outputs = 2 if config.encoder_type == "gaussian" else 1
        self._build_nets(config)
        self.discriminator = nn.Sequential(*mlp([config.latent_dim, *config.disc_hidden_dims, 1], negative_slope=0.2))

    @property
    def latent_prior(self) -> str | None:  # type: ignore[override]
        return "normal" if self.config.prior == "normal" else None

    def encode_sampled(self, x: torch.Tensor) -> torch.Tensor:
        """z ~ q(z|x): the code itself for a deterministic encoder, a reparameterised draw for a Gaussian one."""
        h = self.encoder(x)
        if self.encoder_outputs == 1:
            return h
        mu, logvar = h.chunk(2, dim=-1)
        return reparameterize(mu, logvar)

    def sample_prior(self, n: int, *, generator: torch.Generator | None = None) -> torch.Tensor:
        """``n`` draws (n, latent_dim) from p(z) on the model's device (global RNG unless ``generator``)."""
        c = self.config
        if c.prior == "mixture":
            z = sample_mixture_prior(n, components=c.mixture_components, radius=c.mixture_radius, std=c.mixture_std,
                                     generator=generator)
        else:
            z = torch.randn(n, c.latent_dim, generator=generator)
        return z.to(self.device)

    def sample_latent(self, n: int, generator: torch.Generator) -> torch.Tensor:
        return self.sample_prior(n, generator=generator)

    def forward(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        """Reconstruction terms (batch means) of ``x`` through a draw of q(z|x)."""
        self.check_images(x)
        return self.reconstruction_terms(x, self.decode(self.encode_sampled(x)))


def build_aae(config: AAEConfig) -> AdversarialAutoencoder:
    return AdversarialAutoencoder(config)
