"""The configs of the latent models: one base for the networks every latent model shares, one subclass per model.

Field names are saved in every run's ``config.json``: they never change, so old runs keep loading.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ..core.config import cfg_field, check_choice, check_int, check_non_negative, check_positive
from ..core.errors import ConfigError
from .losses import RECON_LOSSES
from .nets import check_arch_fields

PRIORS = ("normal", "mixture")
ENCODERS = ("deterministic", "gaussian")
LIKELIHOODS = ("bernoulli", "gaussian")


@dataclass
class LatentNetConfig:
    """The encoder / decoder of every latent model (:mod:`genlab.latent.nets`)."""

    arch: Literal["mlp", "conv"] = cfg_field("mlp", help="encoder/decoder architecture")
    latent_dim: int = cfg_field(32, help="size of the code z (2 allows the scatter/manifold plots without PCA)")
    hidden_dims: tuple[int, ...] = cfg_field((512, 256), help="MLP hidden layer widths (encoder; decoder mirrors)")
    conv_channels: tuple[int, ...] = cfg_field((32, 64), help="conv channels per stride-2 stage")
    image_channels: int = cfg_field(1, help="image channels (set from the data)", cli=False)
    image_size: int = cfg_field(28, help="image height = width (set from the data)", cli=False)

    def __post_init__(self) -> None:
        tuples = check_arch_fields(arch=self.arch, latent_dim=self.latent_dim, image_channels=self.image_channels,
                                   image_size=self.image_size, hidden_dims=self.hidden_dims,
                                   conv_channels=self.conv_channels)
        self.hidden_dims, self.conv_channels = tuples["hidden_dims"], tuples["conv_channels"]


@dataclass
class VAEConfig(LatentNetConfig):
    beta: float = cfg_field(1.0, help="weight of the KL term (1 = VAE, >1 = beta-VAE)")
    kl_warmup_steps: int = cfg_field(0, help="ramp the KL weight linearly from 0 to --beta over N steps (0 = off)")
    likelihood: Literal["bernoulli", "gaussian"] = cfg_field(
        "bernoulli", help="p(x|z): bernoulli (pixels as probabilities) or gaussian (learned global sigma, sigma-VAE)")
    binarize: bool = cfg_field(False, help="train on dynamically binarised images (a fresh Bernoulli draw per batch), "
                                           "the standard setting for MNIST log-likelihoods; evaluation then uses one "
                                           "seeded binarisation of the test set")

    def __post_init__(self) -> None:
        super().__post_init__()
        check_non_negative("beta", self.beta)
        check_int("kl_warmup_steps", self.kl_warmup_steps, 0)
        check_choice("likelihood", self.likelihood, LIKELIHOODS)
        if self.binarize and self.likelihood != "bernoulli":
            raise ConfigError("--binarize goes with --likelihood bernoulli (binary pixels have no Gaussian density)")


@dataclass
class AEConfig(LatentNetConfig):
    recon_loss: Literal["bce", "mse"] = cfg_field(
        "bce", help="reconstruction loss: bce (binary cross-entropy, images in [0,1]) or mse (squared error)")

    def __post_init__(self) -> None:
        super().__post_init__()
        check_choice("recon_loss", self.recon_loss, RECON_LOSSES)


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
        check_int("mixture_components", self.mixture_components, 1)
        if self.prior == "mixture" and self.latent_dim != 2:
            raise ConfigError(f"--prior mixture is a 2-D prior; use it with --latent-dim 2 (got {self.latent_dim}) "
                              f"or use --prior normal")


__all__ = ["LatentNetConfig", "VAEConfig", "AEConfig", "AAEConfig", "PRIORS", "ENCODERS", "LIKELIHOODS"]
