"""The latent models on one set of encoder/decoder builders (:mod:`genlab.latent.nets`): the variational autoencoder
(MLP and conv), the plain autoencoder and the adversarial autoencoder.

    >>> model = MLPVAE(VAEConfig(latent_dim=2))
    >>> out = model(images)              # {"loss", "recon", "kl", "nelbo"}: batch means in nats
    >>> samples = model.sample(64, seed=0)

Every model has the latent protocol the tools of :mod:`genlab.latent.tools` use: ``latent_dim``, ``image_shape``,
``encode_latent(x)`` (a deterministic code), ``decode_images(z)`` (images in [0, 1]), ``sample(n, seed=)``,
``latent_prior`` ("normal" where codes are pushed towards N(0, I)) and ``latent_plane(dims, grid_size)`` (the axis
values of the manifold figure). ``model_type`` strings and weight keys are those of every saved run.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.utils.data import DataLoader

from ..core.config import check_int
from ..core.errors import ConfigError
from ..core.model import GenlabModel, register_model
from .config import AAEConfig, AEConfig, LatentNetConfig, VAEConfig
from .losses import (bernoulli_nll, gaussian_nll, log_normal, negative_elbo, reconstruction_loss, reparameterize,
                     squared_error)
from .nets import build_decoder, build_encoder, mlp
from .ops import normal_quantiles


class LatentBase(GenlabModel):
    """Encoder, decoder and the latent protocol shared by every latent model.

    ``encoder`` maps images to ``encoder_outputs * latent_dim`` features (2 for a Gaussian q(z|x): mean, then
    log-variance); ``decoder`` maps codes to pixel logits (B, C, H, W).
    """

    encoder_outputs = 1
    latent_prior: str | None = None  # "normal" where the codes are pushed towards N(0, I)

    def __init__(self, config: LatentNetConfig) -> None:
        super().__init__(config)
        kw = dict(hidden_dims=config.hidden_dims, conv_channels=config.conv_channels)
        self.encoder = build_encoder(config.arch, self.image_shape,
                                     out_features=self.encoder_outputs * config.latent_dim, **kw)
        self.decoder = build_decoder(config.arch, self.image_shape, latent_dim=config.latent_dim, **kw)

    @property
    def image_shape(self) -> tuple[int, int, int]:
        c = self.config
        return (c.image_channels, c.image_size, c.image_size)

    @property
    def latent_dim(self) -> int:
        return self.config.latent_dim

    def check_images(self, x: torch.Tensor) -> None:
        if x.shape[1:] != self.image_shape:
            raise ConfigError(f"this {self.family} model takes images shaped {self.image_shape}, "
                              f"got {tuple(x.shape[1:])}")

    def code(self, x: torch.Tensor) -> torch.Tensor:
        """The deterministic code of each image (the mean of a Gaussian encoder): (B, latent_dim)."""
        return self.encoder(x)[:, : self.config.latent_dim]

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Pixel logits (B, C, H, W) for codes (B, latent_dim)."""
        return self.decoder(z)

    # ---- the latent protocol --------------------------------------------------------------------------------------
    @torch.no_grad()
    def encode_latent(self, x: torch.Tensor) -> torch.Tensor:
        """A deterministic code for each image, (B, latent_dim)."""
        return self.code(x.to(self.device))

    @torch.no_grad()
    def decode_images(self, z: torch.Tensor) -> torch.Tensor:
        """Images in [0, 1] for codes ``z`` (B, latent_dim): the decoder's mean, (B, C, H, W)."""
        return torch.sigmoid(self.decode(z.to(self.device)))

    @torch.no_grad()
    def reconstruct(self, x: torch.Tensor) -> torch.Tensor:
        return self.decode_images(self.encode_latent(x))

    def sample_latent(self, n: int, generator: torch.Generator) -> torch.Tensor:
        """``n`` codes (n, latent_dim) to decode into samples (on the CPU)."""
        raise NotImplementedError

    @torch.no_grad()
    def sample(self, n: int, *, seed: int | None = None) -> torch.Tensor:
        """Decode ``n`` latent draws (:meth:`sample_latent`): (n, C, H, W) in [0, 1]. Same seed, same images."""
        check_int("n", n, 1)
        gen = torch.Generator().manual_seed(seed if seed is not None else int(torch.randint(0, 2**62, ()).item()))
        return self.decode_images(self.sample_latent(n, gen))

    def fit_to_data(self, train_data) -> None:
        """Called before the training samples are drawn (the autoencoder fits its code Gaussian here)."""

    def latent_plane(self, dims: tuple[int, int], grid_size: int) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """The manifold figure's codes: (base code (D,), [values along dims[0], values along dims[1]]).

        Under a N(0, I) prior: standard-normal quantiles 0.05..0.95 with the other dims at 0."""
        if self.latent_prior != "normal":
            raise ConfigError(f"no known latent range for a {self.family} model")
        q = normal_quantiles(grid_size)
        return torch.zeros(self.latent_dim), [q, q]


# ---- variational autoencoder ---------------------------------------------------------------------------------------

class VAE(LatentBase):
    """Kingma & Welling (2014): a Gaussian q(z|x) (mean, log-variance), p(z) = N(0, I), a Bernoulli (or sigma-VAE
    Gaussian) p(x|z); ``forward`` returns the (beta-)ELBO terms."""

    family = "vae"
    config_class = VAEConfig
    encoder_outputs = 2
    latent_prior = "normal"

    def __init__(self, config: VAEConfig) -> None:
        super().__init__(config)
        if config.likelihood == "gaussian":
            # One learned log sigma for every pixel: the decoder's variance is fitted, not a hand-set MSE weight.
            self.log_sigma = nn.Parameter(torch.zeros(1))

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """q(z | x): mean and log-variance, each (B, latent_dim)."""
        mu, logvar = self.encoder(x).chunk(2, dim=-1)
        return mu, logvar

    def reconstruction_nll(self, logits: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """-log p(x | z) per image in nats, for decoder outputs ``logits`` (B, C, H, W)."""
        if self.config.likelihood == "gaussian":
            return gaussian_nll(torch.sigmoid(logits.float()), x, self.log_sigma)
        return bernoulli_nll(logits, x)

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

    def sample_latent(self, n: int, generator: torch.Generator | None) -> torch.Tensor:
        return torch.randn(n, self.config.latent_dim, generator=generator)

    @torch.no_grad()
    def sample(self, n: int, *, seed: int | None = None, temperature: float = 1.0) -> torch.Tensor:
        """Decode ``n`` draws from the prior (scaled by ``temperature``): (n, C, H, W) Bernoulli means in [0, 1]."""
        check_int("n", n, 1)
        gen = torch.Generator().manual_seed(seed) if seed is not None else None
        return self.decode_images(self.sample_latent(n, gen) * temperature)


@register_model
class MLPVAE(VAE):
    """Fully connected VAE: image -> hidden_dims -> (mu, logvar); z -> reversed hidden_dims -> logits."""

    model_type = "vae-mlp"


@register_model
class ConvVAE(VAE):
    """Convolutional VAE: stride-2 convs down to size / 2^stages, a linear bottleneck, transposed convs back up."""

    model_type = "vae-conv"


VAE_CLASSES = {"mlp": MLPVAE, "conv": ConvVAE}


def build_vae(config: VAEConfig) -> VAE:
    return VAE_CLASSES[config.arch](config)


# ---- plain autoencoder ---------------------------------------------------------------------------------------------

class LatentAutoencoderBase(LatentBase):
    """The deterministic autoencoders (AE, AAE): reconstruction terms (:attr:`AEConfig.recon_loss`)."""

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """The code z of each image, (B, latent_dim) (the mean for a Gaussian encoder)."""
        return self.code(x)

    def reconstruction_terms(self, x: torch.Tensor, logits: torch.Tensor) -> dict[str, torch.Tensor]:
        """Batch means: ``bce`` (nats/image), ``mse`` (per pixel) and ``loss`` (the configured one, per image)."""
        bce = reconstruction_loss(logits, x, "bce")
        se = squared_error(logits, x)
        loss = bce if self.config.recon_loss == "bce" else se
        return {"loss": loss.mean(), "bce": bce.mean(), "mse": se.mean() / x[0].numel()}


@register_model
class Autoencoder(LatentAutoencoderBase):
    """Deterministic autoencoder (Hinton & Salakhutdinov 2006 in spirit): reconstruction loss only.

    An autoencoder has no prior: nothing makes its codes fill a known region, so sampling needs a guess at where they
    live. It keeps a Gaussian fitted to its training codes (buffers in the saved model) and decodes draws from it; the
    holes of the code cloud (``genlab ae scatter``) are why many of those samples look wrong, the gap that motivates
    the VAE.
    """

    model_type = "ae"
    family = "ae"
    config_class = AEConfig

    def __init__(self, config: AEConfig) -> None:
        super().__init__(config)
        d = config.latent_dim
        # The Gaussian fitted to the training codes (what `sample` draws from); code_count 0 = not fitted yet.
        self.register_buffer("code_mean", torch.zeros(d))
        self.register_buffer("code_cov", torch.eye(d))
        self.register_buffer("code_count", torch.zeros((), dtype=torch.int64))

    def forward(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        self.check_images(x)
        return self.reconstruction_terms(x, self.decode(self.encode(x)))

    @torch.no_grad()
    def fit_code_distribution(self, images, *, batch_size: int = 1000) -> None:
        """Set ``code_mean`` / ``code_cov`` to the mean and covariance of the codes of ``images`` (a dataset of
        (image, label) batches or a float tensor (N, C, H, W) in [0, 1]); run in eval mode."""
        was_training = self.training
        self.eval()
        if isinstance(images, torch.Tensor):
            batches = (images[i:i + batch_size] for i in range(0, len(images), batch_size))
        else:
            loader = DataLoader(images, batch_size=batch_size, collate_fn=getattr(images, "collate_fn", None))
            batches = (x for x, _ in loader)
        codes = torch.cat([self.encode(x.to(self.device)).double().cpu() for x in batches])
        self.train(was_training)
        mean = codes.mean(0)
        cov = torch.cov(codes.T).reshape(self.latent_dim, self.latent_dim) if len(codes) > 1 else \
            torch.zeros(self.latent_dim, self.latent_dim, dtype=torch.float64)
        self.code_mean.copy_(mean)
        self.code_cov.copy_(cov)
        self.code_count.fill_(len(codes))

    def fit_to_data(self, train_data) -> None:
        self.fit_code_distribution(train_data)

    def _check_fitted(self) -> None:
        if int(self.code_count) == 0:
            raise ConfigError("this autoencoder has no fitted code distribution (it was saved before training "
                              "finished); sample from a finished run or its checkpoints")

    def sample_latent(self, n: int, generator: torch.Generator) -> torch.Tensor:
        """``n`` draws from N(code_mean, code_cov), the Gaussian fitted to the training codes."""
        self._check_fitted()
        cov = self.code_cov.double().cpu()
        jitter = 1e-6 * float(cov.diagonal().mean().clamp_min(1e-12))
        chol = torch.linalg.cholesky(cov + jitter * torch.eye(self.latent_dim, dtype=cov.dtype))
        eps = torch.randn(n, self.latent_dim, generator=generator, dtype=torch.float64)
        return (self.code_mean.double().cpu() + eps @ chol.T).float()

    def latent_plane(self, dims: tuple[int, int], grid_size: int) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """The normal quantiles 0.05..0.95 of the fitted code Gaussian along ``dims``, the rest at its mean."""
        self._check_fitted()
        base = self.code_mean.float().cpu()
        std = self.code_cov.float().cpu().diagonal().clamp_min(0).sqrt()
        q = normal_quantiles(grid_size)
        return base, [base[i] + std[i] * q for i in dims]


def build_autoencoder(config: AEConfig) -> Autoencoder:
    return Autoencoder(config)


# ---- adversarial autoencoder ---------------------------------------------------------------------------------------

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
    """Makhzani et al. (2016): encoder q(z|x), decoder p(x|z) and a discriminator D(z) that pushes the aggregate
    posterior to the prior (trained by :class:`genlab.latent.trainers.AAETrainer`). After training q(z) matches the
    prior, so decoded prior draws are the model's samples."""

    model_type = "aae"
    family = "aae"
    config_class = AAEConfig

    def __init__(self, config: AAEConfig) -> None:
        self.encoder_outputs = 2 if config.encoder_type == "gaussian" else 1
        super().__init__(config)
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

    def latent_plane(self, dims: tuple[int, int], grid_size: int) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """Normal prior: as the VAE's; mixture prior: +-(radius + 2 std) on both axes."""
        if self.config.prior == "normal":
            return super().latent_plane(dims, grid_size)
        r = self.config.mixture_radius + 2 * self.config.mixture_std
        return torch.zeros(self.latent_dim), [torch.linspace(-r, r, grid_size)] * 2


def build_aae(config: AAEConfig) -> AdversarialAutoencoder:
    return AdversarialAutoencoder(config)


BUILDERS = {"vae": build_vae, "ae": build_autoencoder, "aae": build_aae}

__all__ = ["LatentBase", "LatentAutoencoderBase", "VAE", "MLPVAE", "ConvVAE", "Autoencoder",
           "AdversarialAutoencoder", "build_vae", "build_autoencoder", "build_aae", "sample_mixture_prior",
           "VAE_CLASSES", "BUILDERS"]
