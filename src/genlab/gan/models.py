"""DCGAN generator and discriminator for 28, 32 and 64 px (grey or RGB), with optional SAGAN self-attention, spectral
norm and class-conditioning, held together (with an EMA copy of the generator) in one saveable :class:`GAN`.

    >>> gan = GAN(GANConfig(size=32, image_channels=3, loss="hinge", spectral_norm=True))
    >>> images = gan.sample(64, seed=0)          # (64, 3, 32, 32) in [0, 1], from the EMA generator
    >>> scores = gan.discriminate(images * 2 - 1) # (64,) logits / critic scores
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm as _sn

from ..core.config import cfg_field, check_choice
from ..core.errors import ConfigError
from ..core.model import GenlabModel, register_model

SIZES = (28, 32, 64)
LOSSES = ("ns", "wgan", "wgan-gp", "hinge")
# size -> (side of the first feature map, width multipliers of the stages from coarse to fine)
_PLAN = {28: (7, (4, 2)), 32: (4, (4, 2, 1)), 64: (4, (8, 4, 2, 1))}
# where the self-attention block goes: the feature map of this side (the finest one of at most 16x16)
_ATTENTION_SIDE = {28: 14, 32: 16, 64: 16}


@dataclass
class GANConfig:
    size: int = cfg_field(28, help="image side the GAN makes, in pixels: 28, 32 or 64; the training images are "
                                   "padded (28 -> 32) or resized to it (a folder's --image-size follows it)")
    latent_dim: int = cfg_field(100, help="size of the noise vector z")
    g_channels: int = cfg_field(32, help="generator width (channels of its last stage; earlier stages are multiples)")
    d_channels: int = cfg_field(32, help="discriminator width (channels of its first stage)")
    loss: Literal["ns", "wgan", "wgan-gp", "hinge"] = cfg_field(
        "hinge", help="objective: ns (non-saturating), wgan (weight clipping), wgan-gp (gradient penalty), hinge")
    d_norm: Literal["auto", "batch", "layer", "none"] = cfg_field(
        "auto", help="discriminator normalisation; auto: none with spectral norm, layer for wgan-gp, else batch")
    spectral_norm: bool = cfg_field(True, help="spectral norm on every discriminator layer (Miyato et al. 2018)")
    attention: bool = cfg_field(False, help="SAGAN self-attention block in G and D at the second-finest resolution")
    conditional: bool = cfg_field(False, help="class-conditional G (label embedding) and projection D (needs labels)")
    num_classes: int = cfg_field(0, help="number of classes (set from the data when --conditional)", cli=False)
    image_channels: int = cfg_field(1, help="image channels (set from the data)", cli=False)

    def __post_init__(self) -> None:
        if self.size not in SIZES:
            raise ConfigError(f"--size {self.size} is not supported by the DCGAN architecture; use one of "
                              f"{', '.join(map(str, SIZES))}")
        check_choice("loss", self.loss, LOSSES)
        check_choice("d_norm", self.d_norm, ("auto", "batch", "layer", "none"))
        for name in ("latent_dim", "g_channels", "d_channels"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(f"--{name.replace('_', '-')} must be a whole number >= 1 (got {value})")
        if self.image_channels not in (1, 3):
            raise ConfigError(f"images must have 1 or 3 channels (got {self.image_channels})")
        if isinstance(self.num_classes, bool) or not isinstance(self.num_classes, int) or self.num_classes < 0:
            raise ConfigError(f"num_classes must be a whole number >= 0 (got {self.num_classes})")
        if self.loss == "wgan-gp" and self.resolved_d_norm == "batch":
            raise ConfigError("--loss wgan-gp penalises each example's gradient; batch norm in D mixes examples: "
                              "use --d-norm layer or none")

    @property
    def resolved_d_norm(self) -> str:
        if self.d_norm != "auto":
            return self.d_norm
        if self.spectral_norm:
            return "none"
        return "layer" if self.loss == "wgan-gp" else "batch"


class SelfAttention(nn.Module):
    """Self-attention over all positions of a feature map (Zhang et al. 2019, "Self-Attention GANs"):
    x + γ · softmax(Q Kᵀ) V with 1x1-conv projections (C/8 for Q, K) and γ starting at 0."""

    def __init__(self, channels: int, *, sn: bool = False) -> None:
        super().__init__()
        wrap = _sn if sn else (lambda m: m)
        inner = max(1, channels // 8)
        self.query = wrap(nn.Conv2d(channels, inner, 1, bias=False))
        self.key = wrap(nn.Conv2d(channels, inner, 1, bias=False))
        self.value = wrap(nn.Conv2d(channels, channels, 1, bias=False))
        self.gamma = nn.Parameter(torch.zeros(1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, h, w = x.shape
        q = self.query(x).flatten(2).transpose(1, 2)  # (B, HW, C')
        k = self.key(x).flatten(2).transpose(1, 2)    # (B, HW, C')
        v = self.value(x).flatten(2).transpose(1, 2)  # (B, HW, C)
        out = F.scaled_dot_product_attention(q, k, v, scale=1.0)  # SAGAN uses unscaled dot products
        return x + self.gamma * out.transpose(1, 2).reshape(b, c, h, w)


class Generator(nn.Module):
    """DCGAN generator (Radford et al. 2016): z -> linear to a 7x7 (28 px) or 4x4 map -> stride-2 transposed convs
    with BatchNorm + ReLU -> tanh. Class labels (conditional) are embedded and concatenated to z."""

    def __init__(self, cfg: GANConfig) -> None:
        super().__init__()
        side, mults = _PLAN[cfg.size]
        widths = [cfg.g_channels * m for m in mults]
        self.side, self.first = side, widths[0]
        z_in = cfg.latent_dim + (cfg.latent_dim if cfg.conditional else 0)
        self.embed = nn.Embedding(cfg.num_classes, cfg.latent_dim) if cfg.conditional else None
        self.project = nn.Sequential(nn.Linear(z_in, widths[0] * side * side, bias=False))
        self.stem = nn.Sequential(nn.BatchNorm2d(widths[0]), nn.ReLU(inplace=True))
        layers: list[nn.Module] = []
        for c_in, c_out in zip(widths[:-1], widths[1:], strict=True):
            layers += [nn.ConvTranspose2d(c_in, c_out, 4, 2, 1, bias=False), nn.BatchNorm2d(c_out),
                       nn.ReLU(inplace=True)]
            side *= 2
            if cfg.attention and side == _ATTENTION_SIDE[cfg.size]:
                layers.append(SelfAttention(c_out))
        layers += [nn.ConvTranspose2d(widths[-1], cfg.image_channels, 4, 2, 1), nn.Tanh()]
        self.body = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        if self.embed is not None:
            if labels is None:
                raise ConfigError("this GAN is class-conditional: give labels")
            z = torch.cat([z, self.embed(labels)], dim=1)
        h = self.project(z).view(z.shape[0], self.first, self.side, self.side)
        return self.body(self.stem(h))  # (B, C, size, size) in [-1, 1]


def _norm(kind: str, channels: int) -> nn.Module:
    if kind == "batch":
        return nn.BatchNorm2d(channels)
    if kind == "layer":
        return nn.GroupNorm(1, channels)  # layer norm over (C, H, W), per example
    return nn.Identity()


class Discriminator(nn.Module):
    """DCGAN discriminator: stride-2 4x4 convs with LeakyReLU(0.2) (no pooling, no norm on the first layer) down to
    the generator's first map size, then a linear score. With labels: a projection term (Miyato & Koyama 2018)."""

    def __init__(self, cfg: GANConfig) -> None:
        super().__init__()
        side, mults = _PLAN[cfg.size]
        widths = [cfg.d_channels * m // mults[-1] for m in reversed(mults)]
        wrap = _sn if cfg.spectral_norm else (lambda m: m)
        norm = cfg.resolved_d_norm
        layers: list[nn.Module] = [wrap(nn.Conv2d(cfg.image_channels, widths[0], 4, 2, 1)), nn.LeakyReLU(0.2, True)]
        at = cfg.size // 2
        if cfg.attention and at == _ATTENTION_SIDE[cfg.size]:
            layers.append(SelfAttention(widths[0], sn=cfg.spectral_norm))
        for c_in, c_out in zip(widths[:-1], widths[1:], strict=True):
            layers += [wrap(nn.Conv2d(c_in, c_out, 4, 2, 1, bias=norm == "none")), _norm(norm, c_out),
                       nn.LeakyReLU(0.2, True)]
            at //= 2
            if cfg.attention and at == _ATTENTION_SIDE[cfg.size]:
                layers.append(SelfAttention(c_out, sn=cfg.spectral_norm))
        self.body = nn.Sequential(*layers)
        flat = widths[-1] * side * side
        self.head = wrap(nn.Linear(flat, 1))
        self.embed = wrap(nn.Embedding(cfg.num_classes, flat)) if cfg.conditional else None

    def forward(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        h = self.body(x).flatten(1)  # (B, flat)
        out = self.head(h).squeeze(1)  # (B,)
        if self.embed is not None:
            if labels is None:
                raise ConfigError("this GAN is class-conditional: give labels")
            out = out + (self.embed(labels) * h).sum(dim=1)
        return out


@register_model
class GAN(GenlabModel):
    """Generator, discriminator and an exponential moving average of the generator's weights (``generator_ema``,
    not trained by gradients; Yazıcı et al. 2019, "The Unusual Effectiveness of Averaging in GAN Training").
    Saved and resumed as one model, so the EMA copy travels with the checkpoints."""

    model_type = "gan-dcgan"
    family = "gan"
    config_class = GANConfig

    def __init__(self, config: GANConfig) -> None:
        super().__init__(config)
        if config.conditional and config.num_classes < 2:  # train() sets num_classes from the data
            raise ConfigError("a conditional GAN needs num_classes >= 2 (labelled data with at least 2 classes)")
        self.generator = Generator(config)
        self.discriminator = Discriminator(config)
        self.generator_ema = copy.deepcopy(self.generator).requires_grad_(False).eval()
        # update_ema() moves the EMA weights; their BatchNorm statistics are then recomputed (refresh_ema_batchnorm)
        # before the EMA generator is next used or saved. Loaded models keep the statistics they were saved with.
        self._ema_updates = 0
        self._ema_bn_at = 0

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return (self.config.image_channels, self.config.size, self.config.size)

    @property
    def latent_dim(self) -> int:
        return self.config.latent_dim

    def train(self, mode: bool = True) -> "GAN":
        super().train(mode)
        self.generator_ema.eval()  # always inference mode, with the standing statistics of its own weights
        return self

    def discriminate(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """D's logits / critic scores ``(B,)`` for images in [-1, 1]."""
        if tuple(x.shape[1:]) != self.image_shape:
            raise ConfigError(f"this GAN takes images shaped {self.image_shape}, got {tuple(x.shape[1:])}")
        return self.discriminator(x, labels)

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """The (training) generator: images in [-1, 1] for noise ``z`` (B, latent_dim)."""
        return self.generator(z, labels)

    @torch.no_grad()
    def update_ema(self, decay: float) -> None:
        """ema ← decay · ema + (1 - decay) · G for the weights. The BatchNorm statistics are *not* copied from G (they
        are running averages of batch statistics of other weights): they are recomputed for the EMA weights by
        :meth:`refresh_ema_batchnorm`, which sampling and saving call when the weights have moved."""
        for p_ema, p in zip(self.generator_ema.parameters(), self.generator.parameters(), strict=True):
            p_ema.lerp_(p, 1.0 - decay)
        self._ema_updates += 1

    def ema_batchnorm_batches(self, *, batches: int = 10, batch_size: int = 200, seed: int = 0):
        """The fixed noise batches (z, labels) the EMA generator's BatchNorm statistics are measured on."""
        gen = torch.Generator().manual_seed(seed)
        for _ in range(batches):
            z = torch.randn(batch_size, self.config.latent_dim, generator=gen).to(self.device)
            labels = self.sample_labels(batch_size)
            yield z, (labels.to(self.device) if labels is not None else None)

    @torch.no_grad()
    def refresh_ema_batchnorm(self, *, batches: int = 10, batch_size: int = 200, seed: int = 0) -> None:
        """Standing statistics (Brock et al. 2019, BigGAN; ``torch.optim.swa_utils.update_bn``): forward ``batches``
        seeded noise batches through the EMA generator in train mode with cumulative averaging (momentum None), so
        its running mean/var are those of its own activations. Touches neither the global RNG nor G."""
        bns = [m for m in self.generator_ema.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
        self._ema_bn_at = self._ema_updates
        if not bns:
            return
        momenta = [m.momentum for m in bns]
        for m in bns:
            m.reset_running_stats()
            m.momentum = None  # cumulative average over the batches
        devices = [self.device] if self.device.type == "cuda" else []
        try:
            with torch.random.fork_rng(devices=devices):
                self.generator_ema.train()
                for z, labels in self.ema_batchnorm_batches(batches=batches, batch_size=batch_size, seed=seed):
                    self.generator_ema(z, labels)
        finally:
            for m, momentum in zip(bns, momenta, strict=True):
                m.momentum = momentum
            self.generator_ema.eval()

    def _fresh_ema(self) -> None:
        if self._ema_bn_at != self._ema_updates:
            self.refresh_ema_batchnorm()

    def save_pretrained(self, directory, *, metadata=None):
        self._fresh_ema()  # a saved GAN holds the EMA weights' own BatchNorm statistics
        return super().save_pretrained(directory, metadata=metadata)

    def noise(self, n: int, *, seed: int | None = None) -> torch.Tensor:
        gen = torch.Generator().manual_seed(seed) if seed is not None else None
        return torch.randn(n, self.config.latent_dim, generator=gen)

    def sample_labels(self, n: int) -> torch.Tensor | None:
        """Balanced labels 0, 1, ..., K-1, 0, ... for a conditional GAN (None otherwise)."""
        return torch.arange(n) % self.config.num_classes if self.config.conditional else None

    @torch.no_grad()
    def decode_images(self, z: torch.Tensor, labels: torch.Tensor | None = None, *, ema: bool = True,
                      batch_size: int = 500) -> torch.Tensor:
        """Images in [0, 1] ``(N, C, H, W)`` for noise ``z``, from the EMA generator (or the trained one), in eval mode."""
        if ema:
            self._fresh_ema()
        net = self.generator_ema if ema else self.generator
        was_training = net.training
        net.eval()
        if self.config.conditional and labels is None:
            labels = self.sample_labels(z.shape[0])
        out = []
        for start in range(0, z.shape[0], batch_size):
            y = labels[start:start + batch_size].to(self.device) if labels is not None else None
            out.append(((net(z[start:start + batch_size].to(self.device), y) + 1) / 2).clamp(0, 1))
        net.train(was_training)
        return torch.cat(out)

    @torch.no_grad()
    def sample(self, n: int, *, seed: int | None = None, ema: bool = True,
               labels: torch.Tensor | None = None) -> torch.Tensor:
        """``n`` images in [0, 1]; the same seed gives the same images. Conditional GANs cycle through the classes
        unless ``labels`` are given."""
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise ConfigError(f"--n must be a whole number >= 1 (got {n})")
        return self.decode_images(self.noise(n, seed=seed), labels, ema=ema)

    @torch.no_grad()
    def interpolate(self, *, steps: int = 10, rows: int = 4, seed: int = 0, ema: bool = True) -> torch.Tensor:
        """``rows`` straight lines between pairs of noise vectors, ``steps`` images each: ``(rows * steps, C, H, W)``."""
        ends = self.noise(2 * rows, seed=seed).view(rows, 2, -1)
        t = torch.linspace(0, 1, steps).view(1, steps, 1)
        z = ends[:, :1] * (1 - t) + ends[:, 1:] * t  # (rows, steps, latent)
        labels = None
        if self.config.conditional:
            labels = (torch.arange(rows) % self.config.num_classes).repeat_interleave(steps)
        return self.decode_images(z.reshape(rows * steps, -1), labels, ema=ema)
