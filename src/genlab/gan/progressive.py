"""ProGAN (Karras et al. 2018, "Progressive Growing of GANs for Improved Quality, Stability, and Variation") at
laptop scale: G and D grow from 4x4 to the final side (32 for Fashion-MNIST padded from 28, 64 for an image folder),
each new resolution faded in by ``alpha`` rising linearly with the images seen, with the paper's three tricks:
minibatch standard deviation (section 3), equalised learning rate and pixelwise feature normalisation (section 4).

    >>> gan = ProGAN(ProGANConfig(size=32))
    >>> gan.set_growth(images_seen=0)          # 4x4 phase; the trainer does this before every step
    >>> images = gan.sample(16, seed=0)        # (16, 1, 32, 32) in [0, 1], nearest-upsampled from the current side

The phase and alpha are buffers of the networks (saved in ``model.safetensors``), computed from the number of images
seen, which the trainer also keeps in its checkpoint: a resumed run continues the fade-in exactly where it stopped.
The fade-in coefficient is named ``alpha`` here only; the gradient penalty's interpolation weight is ``eps``
(:func:`genlab.gan.losses.gradient_penalty`), so the two can never shadow each other.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

from ..core.config import cfg_field, check_choice
from ..core.errors import ConfigError
from ..core.model import register_model
from .models import GAN, LOSSES

ARCH_SIZES = (8, 16, 32, 64, 128)


# ---- the three tricks -------------------------------------------------------------------------------------------------

def pixel_norm(x: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """Pixelwise feature vector normalisation (Karras et al. 2018, section 4.2): each pixel's feature vector divided by
    its root mean square over the channels, b = a / sqrt(mean_c a² + ε)."""
    return x * torch.rsqrt(x.pow(2).mean(dim=1, keepdim=True) + eps)


def minibatch_stddev(x: torch.Tensor, group_size: int = 4, eps: float = 1e-8) -> torch.Tensor:
    """Minibatch standard deviation (Karras et al. 2018, section 3): for groups of ``group_size`` examples, the std of
    each feature over the group, averaged over features and pixels into one number, appended as an extra constant
    channel: (B, C, H, W) -> (B, C + 1, H, W). The group is the whole batch when it does not divide the batch."""
    b, c, h, w = x.shape
    g = min(group_size, b)
    if b % g:
        g = b
    y = x.float().view(g, -1, c, h, w)  # (G, B/G, C, H, W): example i is in group i % (B/G), as in the paper's code
    y = (y - y.mean(dim=0)).pow(2).mean(dim=0).add(eps).sqrt()  # (B/G, C, H, W) std over each group
    y = y.mean(dim=(1, 2, 3)).to(x.dtype)  # (B/G,)
    y = y.repeat(g).view(b, 1, 1, 1).expand(b, 1, h, w)
    return torch.cat([x, y], dim=1)


class EqualLinear(nn.Module):
    """A linear layer with equalised learning rate (Karras et al. 2018, section 4.1): weights drawn from N(0, 1/lr_mul²)
    and scaled at run time by ``c = gain · lr_mul / sqrt(fan_in)`` (He's constant), so Adam's per-parameter steps move
    every layer at the same speed. ``lr_mul`` < 1 slows a layer (StyleGAN's mapping network uses 0.01)."""

    def __init__(self, in_features: int, out_features: int, *, bias: bool = True, bias_init: float = 0.0,
                 gain: float = math.sqrt(2), lr_mul: float = 1.0) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_features, in_features) / lr_mul)
        self.bias = nn.Parameter(torch.full((out_features,), float(bias_init) / lr_mul)) if bias else None
        self.scale = gain * lr_mul / math.sqrt(in_features)
        self.lr_mul = lr_mul

    def effective_weight(self) -> torch.Tensor:
        return self.weight * self.scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        bias = self.bias * self.lr_mul if self.bias is not None else None
        return F.linear(x, self.effective_weight(), bias)


class EqualConv2d(nn.Module):
    """A conv layer with equalised learning rate: weights N(0, 1) scaled by ``gain / sqrt(in_channels · k · k)``."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, *, padding: int = 0,
                 bias: bool = True, gain: float = math.sqrt(2)) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_channels, in_channels, kernel_size, kernel_size))
        self.bias = nn.Parameter(torch.zeros(out_channels)) if bias else None
        self.scale = gain / math.sqrt(in_channels * kernel_size * kernel_size)
        self.padding = padding

    def effective_weight(self) -> torch.Tensor:
        return self.weight * self.scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.conv2d(x, self.effective_weight(), self.bias, padding=self.padding)


def _lrelu(x: torch.Tensor) -> torch.Tensor:
    return F.leaky_relu(x, 0.2)


# ---- the growth schedule ----------------------------------------------------------------------------------------------

def growth_schedule(images_seen: int, *, levels: int, fade_images: int, stable_images: int) -> tuple[int, float]:
    """``(level, alpha)`` after ``images_seen`` training images: level 0 is 4x4, level k is 4·2^k px.

    Level 0 trains for ``stable_images``; each later level first fades in over ``fade_images`` (alpha rising linearly
    from 0 to 1 with the images seen, so it is monotone within the phase and a pure function of the count), then
    trains stably for ``stable_images`` (alpha 1). The last level stays at alpha 1 forever.
    """
    if images_seen < 0:
        raise ValueError("images_seen must be >= 0")
    seen = images_seen - stable_images
    level = 0
    while level < levels - 1 and seen >= 0:
        level += 1
        if seen < fade_images:
            return level, seen / fade_images
        seen -= fade_images + stable_images
    return level, 1.0


def phase_name(level: int, alpha: float) -> str:
    side = 4 * 2 ** level
    return f"{side}px" if alpha >= 1.0 or level == 0 else f"{side}px-fade"


# ---- config -----------------------------------------------------------------------------------------------------------

def check_power_of_two_size(size: int, arch: str) -> None:
    if isinstance(size, bool) or not isinstance(size, int) or size not in ARCH_SIZES:
        hint = " (28 px MNIST-family images are zero-padded to 32: use --size 32)" if size == 28 else ""
        raise ConfigError(f"--arch {arch} grows by powers of two: --size must be one of "
                          f"{', '.join(map(str, ARCH_SIZES))}, got {size}{hint}")


def _check_whole(name: str, value, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ConfigError(f"--{name.replace('_', '-')} must be a whole number >= {minimum} (got {value})")


@dataclass
class ProGANConfig:
    arch: Literal["progan"] = cfg_field("progan", help="architecture (fixed for this config)", cli=False)
    size: int = cfg_field(32, help="final image side: 8, 16, 32, 64 or 128 (28 px data is zero-padded to 32)")
    latent_dim: int = cfg_field(128, help="size of z")
    g_channels: int = cfg_field(16, help="channels of the finest generator stage (coarser stages double, to 8x)")
    d_channels: int = cfg_field(16, help="channels of the finest discriminator stage (coarser stages double, to 8x)")
    loss: Literal["ns", "wgan", "wgan-gp", "hinge"] = cfg_field("wgan-gp", help="objective (the paper: wgan-gp)")
    fade_images: int = cfg_field(20000, help="images over which each new resolution fades in (alpha 0 -> 1)")
    stable_images: int = cfg_field(20000, help="images trained at each resolution after its fade-in (and at 4x4)")
    drift: float = cfg_field(0.001, help="ProGAN's drift penalty eps_drift * E[D(x)^2] on the critic (0 = off)")
    mbstd_group: int = cfg_field(4, help="group size of the minibatch standard deviation layer")
    image_channels: int = cfg_field(1, help="image channels (set from the data)", cli=False)

    minibatch_stddev = True  # D sees real and fake images in separate batches
    conditional = False  # no class-conditioning in the progressive architectures
    num_classes = 0

    def __post_init__(self) -> None:
        check_choice("arch", self.arch, ("progan",))
        check_power_of_two_size(self.size, "progan")
        _check_common(self)
        for name in ("fade_images", "stable_images"):
            _check_whole(name, getattr(self, name), 1)

    @property
    def levels(self) -> int:
        return int(math.log2(self.size)) - 1  # 4 -> 1 level, 32 -> 4 levels


def _check_common(cfg) -> None:
    check_choice("loss", cfg.loss, LOSSES)
    for name in ("latent_dim", "g_channels", "d_channels"):
        _check_whole(name, getattr(cfg, name), 1)
    _check_whole("mbstd_group", cfg.mbstd_group, 1)
    if isinstance(cfg.drift, bool) or not isinstance(cfg.drift, (int, float)) or not cfg.drift >= 0:
        raise ConfigError(f"--drift must be >= 0 (got {cfg.drift})")
    if cfg.image_channels not in (1, 3):
        raise ConfigError(f"images must have 1 or 3 channels (got {cfg.image_channels})")


def stage_channels(base: int, levels: int) -> list[int]:
    """Channels at each level from 4x4 (level 0) to the finest: the finest has ``base``, coarser ones double, to 8x
    (so every 3x3 conv costs about the same: [128, 64, 32, 16] for 32 px at base 16)."""
    return [base * min(8, 2 ** (levels - 1 - k)) for k in range(levels)]


# ---- networks ---------------------------------------------------------------------------------------------------------

class _GrowthState(nn.Module):
    """The current ``level`` and fade-in ``alpha`` as buffers (saved with the weights)."""

    def _init_growth(self) -> None:
        self.register_buffer("level", torch.zeros((), dtype=torch.int64))
        self.register_buffer("alpha", torch.ones(()))

    @property
    def current(self) -> tuple[int, float]:
        return int(self.level), float(self.alpha)


class ProGenerator(_GrowthState):
    """z -> pixel norm -> 4x4 (equalised dense layer, then conv 3x3) -> per level: nearest x2, two conv 3x3, each
    LeakyReLU(0.2) + pixel norm; a 1x1 toRGB per level (linear output). While a level fades in, the output is
    (1 - alpha) · upsample(toRGB_{k-1}(h_{k-1})) + alpha · toRGB_k(h_k)."""

    def __init__(self, cfg: ProGANConfig) -> None:
        super().__init__()
        self._init_growth()
        ch = stage_channels(cfg.g_channels, cfg.levels)
        self.first = ch[0]
        self.project = EqualLinear(cfg.latent_dim, ch[0] * 16, gain=math.sqrt(2) / 4)  # as the paper's 4x4 deconv
        self.blocks = nn.ModuleList([nn.ModuleList([EqualConv2d(ch[0], ch[0], 3, padding=1)])])
        for c_in, c_out in zip(ch[:-1], ch[1:], strict=True):
            self.blocks.append(nn.ModuleList([EqualConv2d(c_in, c_out, 3, padding=1),
                                              EqualConv2d(c_out, c_out, 3, padding=1)]))
        self.to_rgb = nn.ModuleList([EqualConv2d(c, cfg.image_channels, 1, gain=1.0) for c in ch])

    def _block(self, k: int, h: torch.Tensor) -> torch.Tensor:
        if k > 0:
            h = F.interpolate(h, scale_factor=2, mode="nearest")
        for conv in self.blocks[k]:
            h = pixel_norm(_lrelu(conv(h)))
        return h

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        level, alpha = self.current
        h = pixel_norm(_lrelu(self.project(pixel_norm(z)).view(z.shape[0], self.first, 4, 4)))
        prev = h
        for k in range(level + 1):
            prev = h
            h = self._block(k, h)
        out = self.to_rgb[level](h)
        if level > 0 and alpha < 1.0:
            skip = F.interpolate(self.to_rgb[level - 1](prev), scale_factor=2, mode="nearest")
            out = torch.lerp(skip, out, alpha)
        return out  # (B, C, 4·2^level, 4·2^level), about [-1, 1]


class ProDiscriminator(_GrowthState):
    """The mirror image: fromRGB 1x1 at the input's level, per level two conv 3x3 + average pool, then at 4x4 the
    minibatch-stddev channel, conv 3x3, a dense layer and the score. While a level fades in, its input is mixed with
    the fromRGB of the half-resolution image: (1 - alpha) · fromRGB_{k-1}(pool(x)) + alpha · block_k(fromRGB_k(x))."""

    def __init__(self, cfg: ProGANConfig) -> None:
        super().__init__()
        self._init_growth()
        ch = stage_channels(cfg.d_channels, cfg.levels)
        self.group = cfg.mbstd_group
        self.from_rgb = nn.ModuleList([EqualConv2d(cfg.image_channels, c, 1) for c in ch])
        self.blocks = nn.ModuleList([nn.ModuleList()])  # level 0's layers are the head below
        for c_coarse, c_fine in zip(ch[:-1], ch[1:], strict=True):
            self.blocks.append(nn.ModuleList([EqualConv2d(c_fine, c_fine, 3, padding=1),
                                              EqualConv2d(c_fine, c_coarse, 3, padding=1)]))
        self.head_conv = EqualConv2d(ch[0] + 1, ch[0], 3, padding=1)
        self.head_dense = EqualLinear(ch[0] * 16, ch[0])
        self.head_out = EqualLinear(ch[0], 1, gain=1.0)

    def _block(self, k: int, h: torch.Tensor) -> torch.Tensor:
        for conv in self.blocks[k]:
            h = _lrelu(conv(h))
        return F.avg_pool2d(h, 2)

    def forward(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        level, alpha = self.current
        h = _lrelu(self.from_rgb[level](x))
        if level > 0:
            h = self._block(level, h)
            if alpha < 1.0:
                skip = _lrelu(self.from_rgb[level - 1](F.avg_pool2d(x, 2)))
                h = torch.lerp(skip, h, alpha)
            for k in range(level - 1, 0, -1):
                h = self._block(k, h)
        h = _lrelu(self.head_conv(minibatch_stddev(h, self.group)))
        return self.head_out(_lrelu(self.head_dense(h.flatten(1)))).squeeze(1)


def fade_real_images(x: torch.Tensor, level: int, alpha: float) -> torch.Tensor:
    """The real images D sees at ``level`` (side 4·2^level) while it fades in: average-pooled to that side, and during
    a fade-in blended with their half-resolution version, (1 - alpha) · up(pool(x)) + alpha · x, as G's output is."""
    side = 4 * 2 ** level
    if x.shape[-1] != side:
        x = F.adaptive_avg_pool2d(x, side)
    if level > 0 and alpha < 1.0:
        x = torch.lerp(F.interpolate(F.avg_pool2d(x, 2), scale_factor=2, mode="nearest"), x, alpha)
    return x


# ---- the model --------------------------------------------------------------------------------------------------------

class _ArchGAN(GAN):
    """What ProGAN and StyleGAN share on top of :class:`GAN` (EMA generator, sampling, interpolation): no BatchNorm,
    EMA also of the generator's buffers, and samples at the final side."""

    def __init__(self, config) -> None:  # noqa: D401 - GAN.__init__ builds DCGAN nets; these build their own
        super(GAN, self).__init__(config)
        self.generator, self.discriminator = self.build_networks(config)
        self.generator_ema = copy.deepcopy(self.generator).requires_grad_(False).eval()
        self._ema_updates = 0
        self._ema_bn_at = 0

    def build_networks(self, config):  # pragma: no cover - abstract
        raise NotImplementedError

    @property
    def arch(self) -> str:
        return self.config.arch

    @torch.no_grad()
    def update_ema(self, decay: float) -> None:
        super().update_ema(decay)
        for b_ema, b in zip(self.generator_ema.buffers(), self.generator.buffers(), strict=True):
            b_ema.copy_(b)

    def discriminate(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        if x.ndim != 4 or x.shape[1] != self.config.image_channels:
            raise ConfigError(f"this GAN takes images with {self.config.image_channels} channel(s), got "
                              f"{tuple(x.shape[1:])}")
        return self.discriminator(x)

    def to_full_size(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[-1] != self.config.size:
            x = F.interpolate(x, size=(self.config.size, self.config.size), mode="nearest")
        return x

    def _generate(self, net: nn.Module, z: torch.Tensor, **kwargs) -> torch.Tensor:
        return net(z)

    @torch.no_grad()
    def decode_images(self, z: torch.Tensor, labels: torch.Tensor | None = None, *, ema: bool = True,
                      batch_size: int = 500, **kwargs) -> torch.Tensor:
        """Images in [0, 1] at the final side for noise ``z`` (EMA generator unless ``ema=False``), in eval mode."""
        net = self.generator_ema if ema else self.generator
        was_training = net.training
        net.eval()
        out = []
        try:
            for start in range(0, z.shape[0], batch_size):
                x = self._generate(net, z[start:start + batch_size].to(self.device), **kwargs)
                out.append(((self.to_full_size(x) + 1) / 2).clamp(0, 1))
        finally:
            net.train(was_training)
        return torch.cat(out)


@register_model
class ProGAN(_ArchGAN):
    """Progressively grown generator and critic (with an EMA generator), saved as one model."""

    model_type = "gan-progan"
    family = "gan"
    config_class = ProGANConfig

    def build_networks(self, config: ProGANConfig):
        return ProGenerator(config), ProDiscriminator(config)

    @property
    def growth(self) -> tuple[int, float]:
        """``(level, alpha)`` the networks run at now."""
        return self.generator.current

    def schedule(self, images_seen: int) -> tuple[int, float]:
        c = self.config
        return growth_schedule(images_seen, levels=c.levels, fade_images=c.fade_images, stable_images=c.stable_images)

    @torch.no_grad()
    def set_growth(self, level: int | None = None, alpha: float | None = None, *,
                   images_seen: int | None = None) -> tuple[int, float]:
        """Set every network (G, D, EMA G) to ``level``/``alpha``, or to the schedule's values after ``images_seen``."""
        if images_seen is not None:
            level, alpha = self.schedule(images_seen)
        if level is None or alpha is None:
            raise ValueError("give level and alpha, or images_seen")
        if not 0 <= level < self.config.levels or not 0.0 <= alpha <= 1.0:
            raise ConfigError(f"level must be in [0, {self.config.levels - 1}] and alpha in [0, 1] "
                              f"(got {level}, {alpha})")
        for net in (self.generator, self.discriminator, self.generator_ema):
            net.level.fill_(int(level))
            net.alpha.fill_(float(alpha))
        return int(level), float(alpha)
