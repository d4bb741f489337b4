"""The plain (deterministic) autoencoder: image -> code z -> image, trained on reconstruction alone.

    >>> model = Autoencoder(AEConfig(latent_dim=2))
    >>> out = model(images)                       # {"loss", "bce", "mse"}: batch means
    >>> model.fit_code_distribution(train_images) # done by training, before every save
    >>> samples = model.sample(64, seed=0)        # decoded draws from N(mean, cov) of the training codes

An autoencoder has no prior: nothing makes its codes fill a known region, so "sampling" needs a guess at where the
codes live. genlab fits a Gaussian (mean and covariance of the encoded training set, kept as buffers in the saved
model) and decodes draws from it. The holes and odd shapes of the code cloud (see ``genlab ae scatter``) are why
many of those samples look wrong: the gap that motivates the VAE.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch
from torch.utils.data import DataLoader

from ..core.config import cfg_field, check_choice
from ..core.errors import ConfigError
from ..core.model import GenlabModel, register_model
from ..latent.nets import build_decoder, build_encoder, check_arch_fields
from .losses import RECON_LOSSES, reconstruction_loss, squared_error


@dataclass
class AEConfig:
    arch: Literal["mlp", "conv"] = cfg_field("mlp", help="encoder/decoder architecture")
    latent_dim: int = cfg_field(32, help="size of the code z (2 allows the scatter/manifold plots without PCA)")
    hidden_dims: tuple[int, ...] = cfg_field((512, 256), help="MLP hidden layer widths (encoder; decoder mirrors)")
    conv_channels: tuple[int, ...] = cfg_field((32, 64), help="conv channels per stride-2 stage")
    recon_loss: Literal["bce", "mse"] = cfg_field(
        "bce", help="reconstruction loss: bce (binary cross-entropy, images in [0,1]) or mse (squared error)")
    image_channels: int = cfg_field(1, help="image channels (set from the data)", cli=False)
    image_size: int = cfg_field(28, help="image height = width (set from the data)", cli=False)

    def __post_init__(self) -> None:
        tuples = check_arch_fields(arch=self.arch, latent_dim=self.latent_dim, image_channels=self.image_channels,
                                   image_size=self.image_size, hidden_dims=self.hidden_dims,
                                   conv_channels=self.conv_channels)
        self.hidden_dims, self.conv_channels = tuples["hidden_dims"], tuples["conv_channels"]
        check_choice("recon_loss", self.recon_loss, RECON_LOSSES)


class LatentAutoencoderBase(GenlabModel):
    """Encoder, decoder and the latent-model protocol shared by the autoencoder and the adversarial autoencoder.

    Subclasses set ``self.encoder`` (x -> ``encoder_outputs * latent_dim`` features) and ``self.decoder`` through
    :meth:`_build_nets`.
    """

    encoder_outputs = 1  # 2 for an encoder that outputs (mean, log-variance)
    latent_prior: str | None = None  # "normal" where codes are pushed towards N(0, I)

    def _build_nets(self, config: AEConfig) -> None:
        kw = dict(hidden_dims=config.hidden_dims, conv_channels=config.conv_channels)
        self.encoder = build_encoder(config.arch, self.image_shape, out_features=self.encoder_outputs *
                                     config.latent_dim, **kw)
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

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """The code z of each image, (B, latent_dim) (the mean for a Gaussian encoder)."""
        return self.encoder(x)[:, : self.config.latent_dim]

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Pixel logits (B, C, H, W)."""
        return self.decoder(z)

    def reconstruction_terms(self, x: torch.Tensor, logits: torch.Tensor) -> dict[str, torch.Tensor]:
        """Batch means: ``bce`` (nats/image), ``mse`` (per pixel) and ``loss`` (the configured one, per image)."""
        bce = reconstruction_loss(logits, x, "bce")
        se = squared_error(logits, x)
        loss = bce if self.config.recon_loss == "bce" else se
        return {"loss": loss.mean(), "bce": bce.mean(), "mse": se.mean() / x[0].numel()}

    # ---- the latent-model protocol the latent tools (scatter, interpolate, attribute...) use -----------------------
    @torch.no_grad()
    def encode_latent(self, x: torch.Tensor) -> torch.Tensor:
        """A deterministic code for each image, (B, latent_dim)."""
        return self.encode(x.to(self.device))

    @torch.no_grad()
    def decode_images(self, z: torch.Tensor) -> torch.Tensor:
        """Images in [0, 1] for codes ``z`` (B, latent_dim), (B, C, H, W)."""
        return torch.sigmoid(self.decode(z.to(self.device)))

    @torch.no_grad()
    def reconstruct(self, x: torch.Tensor) -> torch.Tensor:
        return self.decode_images(self.encode_latent(x))

    def sample_latent(self, n: int, generator: torch.Generator) -> torch.Tensor:
        raise NotImplementedError

    @torch.no_grad()
    def sample(self, n: int, *, seed: int | None = None) -> torch.Tensor:
        """Decode ``n`` latent draws (see :meth:`sample_latent`): (n, C, H, W) in [0, 1]. Same seed, same images."""
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise ConfigError(f"--n must be >= 1 (got {n})")
        gen = torch.Generator().manual_seed(seed) if seed is not None else torch.Generator().manual_seed(
            int(torch.randint(0, 2**62, ()).item()))
        return self.decode_images(self.sample_latent(n, gen))


@register_model
class Autoencoder(LatentAutoencoderBase):
    """Deterministic autoencoder (Hinton & Salakhutdinov 2006 in spirit): reconstruction loss only."""

    model_type = "ae"
    family = "ae"
    config_class = AEConfig

    def __init__(self, config: AEConfig) -> None:
        super().__init__(config)
        self._build_nets(config)
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

    def sample_latent(self, n: int, generator: torch.Generator) -> torch.Tensor:
        """``n`` draws from N(code_mean, code_cov), the Gaussian fitted to the training codes."""
        if int(self.code_count) == 0:
            raise ConfigError("this autoencoder has no fitted code distribution (it was saved before training "
                              "finished); sample from a finished run or its checkpoints")
        cov = self.code_cov.double().cpu()
        jitter = 1e-6 * float(cov.diagonal().mean().clamp_min(1e-12))
        chol = torch.linalg.cholesky(cov + jitter * torch.eye(self.latent_dim, dtype=cov.dtype))
        eps = torch.randn(n, self.latent_dim, generator=generator, dtype=torch.float64)
        return (self.code_mean.double().cpu() + eps @ chol.T).float()


def build_autoencoder(config: AEConfig) -> Autoencoder:
    return Autoencoder(config)
