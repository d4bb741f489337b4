"""Variational autoencoders: an MLP VAE and a convolutional VAE sharing one config and one objective.

    >>> model = MLPVAE(VAEConfig(latent_dim=2))
    >>> out = model(images)            # {"loss", "recon", "kl", "nelbo"}, batch means in nats
    >>> samples = model.sample(64)     # (64, 1, 28, 28) in [0, 1]
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Literal

import torch
from torch import nn

from ..core.config import cfg_field, check_choice, check_non_negative, check_positive
from ..core.errors import ConfigError
from ..core.model import GenlabModel, register_model
from .losses import bernoulli_nll, gaussian_nll, log_normal, negative_elbo, reparameterize


@dataclass
class VAEConfig:
    arch: Literal["mlp", "conv"] = cfg_field("mlp", help="encoder/decoder architecture")
    latent_dim: int = cfg_field(32, help="size of the latent code z (2 allows --manifold plots)")
    hidden_dims: tuple[int, ...] = cfg_field((512, 256), help="MLP hidden layer widths (encoder; decoder mirrors)")
    conv_channels: tuple[int, ...] = cfg_field((32, 64), help="conv VAE channels per stride-2 stage")
    beta: float = cfg_field(1.0, help="weight of the KL term (1 = VAE, >1 = beta-VAE)")
    kl_warmup_steps: int = cfg_field(0, help="ramp the KL weight linearly from 0 to --beta over N steps (0 = off)")
    likelihood: Literal["bernoulli", "gaussian"] = cfg_field(
        "bernoulli", help="p(x|z): bernoulli (pixels as probabilities) or gaussian (learned global sigma, sigma-VAE)")
    binarize: bool = cfg_field(False, help="train on dynamically binarised images (a fresh Bernoulli draw per batch), "
                                           "the standard setting for MNIST log-likelihoods; evaluation then uses one "
                                           "seeded binarisation of the test set")
    image_channels: int = cfg_field(1, help="image channels (set from the data)", cli=False)
    image_size: int = cfg_field(28, help="image height = width (set from the data)", cli=False)

    def __post_init__(self) -> None:
        check_choice("arch", self.arch, ("mlp", "conv"))
        if isinstance(self.latent_dim, bool) or not isinstance(self.latent_dim, int) or self.latent_dim < 1:
            raise ConfigError(f"--latent-dim must be a whole number >= 1 (got {self.latent_dim})")
        for name in ("hidden_dims", "conv_channels"):
            values = tuple(getattr(self, name))
            if not values or any(not isinstance(v, int) or v < 1 for v in values):
                raise ConfigError(f"--{name.replace('_', '-')} must be one or more whole numbers >= 1 (got {values})")
            setattr(self, name, values)
        check_non_negative("beta", self.beta)
        check_non_negative("kl_warmup_steps", self.kl_warmup_steps)
        check_choice("likelihood", self.likelihood, ("bernoulli", "gaussian"))
        if self.binarize and self.likelihood != "bernoulli":
            raise ConfigError("--binarize goes with --likelihood bernoulli (binary pixels have no Gaussian density)")
        if self.image_channels not in (1, 3):
            raise ConfigError(f"images must have 1 or 3 channels (got {self.image_channels})")
        check_positive("image_size", self.image_size)
        if self.arch == "conv":
            stride = 2 ** len(self.conv_channels)
            if self.image_size % stride:
                raise ConfigError(f"the conv VAE with {len(self.conv_channels)} stages needs an image size divisible "
                                  f"by {stride} (got {self.image_size}); change --image-size or --conv-channels")


class VAE(GenlabModel):
    """Shared VAE logic; subclasses define ``encoder`` (x -> 2*latent features) and ``decoder`` (z -> logits)."""

    family = "vae"
    config_class = VAEConfig

    def __init__(self, config: VAEConfig) -> None:
        super().__init__(config)
        if config.likelihood == "gaussian":
            # One learned log sigma for every pixel: the decoder's variance is fitted, not a hand-set MSE weight.
            self.log_sigma = nn.Parameter(torch.zeros(1))

    @property
    def image_shape(self) -> tuple[int, int, int]:
        c = self.config
        return (c.image_channels, c.image_size, c.image_size)

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """q(z | x): mean and log-variance, each (B, latent_dim)."""
        mu, logvar = self.encoder(x).chunk(2, dim=-1)
        return mu, logvar

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """p(x | z): Bernoulli logits shaped like the images, (B, C, H, W)."""
        return self.decoder(z).view(z.shape[0], *self.image_shape)

    def reconstruction_nll(self, logits: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """-log p(x | z) per image in nats, for decoder outputs ``logits`` (B, C, H, W)."""
        if self.config.likelihood == "gaussian":
            return gaussian_nll(torch.sigmoid(logits.float()), x, self.log_sigma)
        return bernoulli_nll(logits, x)

    def check_images(self, x: torch.Tensor) -> None:
        if x.shape[1:] != self.image_shape:
            raise ConfigError(f"this VAE takes images shaped {self.image_shape}, got {tuple(x.shape[1:])}")

    def forward(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        self.check_images(x)
        if self.training and self.config.binarize:
            x = torch.bernoulli(x)  # dynamic binarisation: a fresh binary image every time it is seen
        mu, logvar = self.encode(x)
        logits = self.decode(reparameterize(mu, logvar))
        terms = negative_elbo(logits, x, mu, logvar, beta=self.config.beta, recon=self.reconstruction_nll(logits, x))
        return {k: v.mean() for k, v in terms.items()}

    @torch.no_grad()
    def log_importance_weights(self, x: torch.Tensor, k: int, *, generator: torch.Generator | None = None,
                               chunk: int = 500) -> torch.Tensor:
        """log w = log p(x|z) + log p(z) - log q(z|x) for k draws z ~ q(z|x) per image: (B, k), for the IWAE bound.

        q is evaluated once per image; the k draws are decoded ``chunk`` at a time to bound memory.
        """
        self.check_images(x)
        x = x.to(self.device)
        mu, logvar = (t.float() for t in self.encode(x))
        out = []
        for start in range(0, k, chunk):
            kk = min(chunk, k - start)
            eps = torch.randn((x.shape[0], kk, mu.shape[1]), generator=generator).to(mu.device)
            z = mu[:, None] + (0.5 * logvar[:, None]).exp() * eps                        # (B, kk, D)
            logits = self.decode(z.flatten(0, 1))                                       # (B*kk, C, H, W)
            x_rep = x[:, None].expand(-1, kk, *x.shape[1:]).flatten(0, 1)
            log_px = -self.reconstruction_nll(logits, x_rep).view(x.shape[0], kk)
            out.append(log_px + log_normal(z) - log_normal(z, mu[:, None], logvar[:, None]))
        return torch.cat(out, dim=1)

    # ---- the latent-model protocol the latent tools (scatter, interpolate, attribute...) use -----------------------
    @property
    def latent_dim(self) -> int:
        return self.config.latent_dim

    @torch.no_grad()
    def encode_latent(self, x: torch.Tensor) -> torch.Tensor:
        """A deterministic code for each image: the posterior mean, (B, latent_dim)."""
        mu, _ = self.encode(x.to(self.device))
        return mu

    @torch.no_grad()
    def decode_images(self, z: torch.Tensor) -> torch.Tensor:
        """Images in [0, 1] for latent codes ``z`` (B, latent_dim): the decoder's mean, (B, C, H, W)."""
        return torch.sigmoid(self.decode(z.to(self.device)))

    @torch.no_grad()
    def sample(self, n: int, *, seed: int | None = None, temperature: float = 1.0) -> torch.Tensor:
        """Decode ``n`` draws from the prior: (n, C, H, W) Bernoulli means in [0, 1]. Same seed, same images."""
        if n < 1:
            raise ConfigError(f"--n must be >= 1 (got {n})")
        gen = torch.Generator().manual_seed(seed) if seed is not None else None
        z = torch.randn(n, self.config.latent_dim, generator=gen) * temperature
        return self.decode_images(z)

    @torch.no_grad()
    def reconstruct(self, x: torch.Tensor) -> torch.Tensor:
        return self.decode_images(self.encode_latent(x))


@register_model
class MLPVAE(VAE):
    """Fully connected VAE (Kingma & Welling 2014): image -> hidden_dims -> (mu, logvar); z -> reversed -> logits."""

    model_type = "vae-mlp"

    def __init__(self, config: VAEConfig) -> None:
        super().__init__(config)
        d_in = config.image_channels * config.image_size ** 2
        layers: list[nn.Module] = [nn.Flatten()]
        prev = d_in
        for width in config.hidden_dims:
            layers += [nn.Linear(prev, width), nn.ReLU()]
            prev = width
        layers.append(nn.Linear(prev, 2 * config.latent_dim))
        self.encoder = nn.Sequential(*layers)
        layers, prev = [], config.latent_dim
        for width in reversed(config.hidden_dims):
            layers += [nn.Linear(prev, width), nn.ReLU()]
            prev = width
        layers.append(nn.Linear(prev, d_in))
        self.decoder = nn.Sequential(*layers)


@register_model
class ConvVAE(VAE):
    """Convolutional VAE: stride-2 convs down to size / 2^stages, a linear bottleneck, transposed convs back up."""

    model_type = "vae-conv"

    def __init__(self, config: VAEConfig) -> None:
        super().__init__(config)
        chans = config.conv_channels
        self.bottom = config.image_size // 2 ** len(chans)
        flat = chans[-1] * self.bottom ** 2
        enc: list[nn.Module] = []
        prev = config.image_channels
        for c in chans:
            enc += [nn.Conv2d(prev, c, 4, stride=2, padding=1), nn.BatchNorm2d(c), nn.LeakyReLU(0.2)]
            prev = c
        enc += [nn.Flatten(), nn.Linear(flat, 2 * config.latent_dim)]
        self.encoder = nn.Sequential(*enc)
        dec: list[nn.Module] = [nn.Linear(config.latent_dim, flat), nn.Unflatten(1, (chans[-1], self.bottom, self.bottom))]
        rev = list(reversed(chans))
        for c_in, c_out in itertools.pairwise(rev):
            dec += [nn.BatchNorm2d(c_in), nn.LeakyReLU(0.2), nn.ConvTranspose2d(c_in, c_out, 4, stride=2, padding=1)]
        dec += [nn.BatchNorm2d(rev[-1]), nn.LeakyReLU(0.2),
                nn.ConvTranspose2d(rev[-1], config.image_channels, 4, stride=2, padding=1)]
        self.decoder = nn.Sequential(*dec)


VAE_CLASSES = {"mlp": MLPVAE, "conv": ConvVAE}


def build_vae(config: VAEConfig) -> VAE:
    return VAE_CLASSES[config.arch](config)
