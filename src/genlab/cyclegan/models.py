"""CycleGAN (Zhu et al. 2017): two generators G: A -> B and F: B -> A, two PatchGAN discriminators D_A and D_B.

Generators: Foster's U-Net (Generative Deep Learning, ch. 5: strided 4x4 convs down, upsample + 4x4 conv up, skip
concatenations, instance norm) and the ResNet generator of Johnson et al. 2016 that the paper uses (c7s1-64, d128,
d256, 6 or 9 residual blocks, u128, u64, c7s1-C; reflection padding, instance norm). Discriminator: the 70x70
PatchGAN (C64-C128-C256-C512, 4x4 convs, LeakyReLU 0.2), with fewer stride-2 layers on images too small for three.
Weights are initialised N(0, 0.02) as in the paper's code. Images are in [-1, 1] inside; :meth:`CycleGAN.translate`
takes and returns [0, 1].
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch
from torch import nn

from ..core.config import cfg_field, check_choice, check_int
from ..core.errors import ConfigError
from ..core.model import GenlabModel

GENERATORS = ("unet", "resnet")


def unet_min_size(depth: int) -> int:
    """The smallest image side a U-Net of ``depth`` stride-2 levels takes: its bottleneck must stay at least 2x2
    (instance norm needs more than one pixel), so 2**(depth + 1)."""
    return 2 ** (depth + 1)


def patch_layers(size: int, wanted: int = 3) -> int:
    """Stride-2 layers of the PatchGAN for ``size`` px: the paper's 3 (70x70 receptive field) when the output patch
    map stays at least 2x2 (side / 2**n - 2 >= 2), else fewer (at least 1)."""
    n = wanted
    while n > 1 and size // 2 ** n - 2 < 2:
        n -= 1
    return n


@dataclass
class CycleGANConfig:
    image_size: int = cfg_field(32, help="side of the training crops (set from the data)", cli=False)
    channels_a: int = cfg_field(1, help="channels of domain A (set from the data)", cli=False)
    channels_b: int = cfg_field(3, help="channels of domain B (set from the data)", cli=False)
    generator: Literal["resnet", "unet"] = cfg_field("resnet", help="generator: resnet (Zhu et al., Johnson et al.) "
                                                                    "or unet (Foster ch. 5)")
    resnet_blocks: int = cfg_field(6, help="residual blocks of the ResNet generator (6 for 128 px, 9 for 256 px in "
                                           "the paper)", choices=(6, 9))
    ngf: int | None = cfg_field(None, help="generator width: filters of its first layer (none: 64 for resnet, 32 "
                                           "for unet as Foster)")
    ndf: int = cfg_field(64, help="discriminator width: filters of its first layer")
    unet_depth: int = cfg_field(4, help="stride-2 levels of the U-Net (Foster: 4); the image side must be a "
                                        "multiple of 2**depth")
    d_layers: int | None = cfg_field(None, help="stride-2 layers of the PatchGAN (none: 3, the 70x70 PatchGAN, "
                                                "fewer when the images are too small)")

    def __post_init__(self) -> None:
        check_choice("generator", self.generator, GENERATORS)
        if self.resnet_blocks not in (6, 9) or isinstance(self.resnet_blocks, bool):
            raise ConfigError(f"--resnet-blocks must be 6 or 9 (got {self.resnet_blocks})")
        check_int("image_size", self.image_size, 8)
        for name in ("channels_a", "channels_b"):
            if getattr(self, name) not in (1, 3):
                raise ConfigError(f"{name} must be 1 or 3 (got {getattr(self, name)})")
        check_int("ngf", self.ngf, 1, allow_none=True)
        check_int("ndf", self.ndf, 1)
        check_int("unet_depth", self.unet_depth, 2)
        check_int("d_layers", self.d_layers, 1, allow_none=True)
        if self.generator == "unet":
            m, step = unet_min_size(self.unet_depth), 2 ** self.unet_depth
            if self.image_size < m:
                raise ConfigError(f"--size/--crop {self.image_size} is too small for the U-Net with --unet-depth "
                                  f"{self.unet_depth}: its bottleneck needs a side of at least {m}; use a larger "
                                  f"--size or --unet-depth {max(2, self.image_size.bit_length() - 2)}")
            if self.image_size % step:
                raise ConfigError(f"the U-Net with --unet-depth {self.unet_depth} needs an image side that is a "
                                  f"multiple of {step} (got {self.image_size}); use --size/--crop "
                                  f"{max(m, self.image_size // step * step)} or a smaller --unet-depth")
        if self.generator == "resnet" and self.image_size % 4:
            raise ConfigError(f"the ResNet generator halves the image twice: its side must be a multiple of 4 "
                              f"(got {self.image_size})")
        if self.d_layers is not None and self.image_size // 2 ** self.d_layers - 2 < 1:
            raise ConfigError(f"--d-layers {self.d_layers} is too deep for {self.image_size} px images; use at most "
                              f"{patch_layers(self.image_size)}")

    @property
    def generator_width(self) -> int:
        return self.ngf if self.ngf is not None else (64 if self.generator == "resnet" else 32)

    @property
    def discriminator_layers(self) -> int:
        return self.d_layers if self.d_layers is not None else patch_layers(self.image_size)


def _same4(cin: int, cout: int) -> nn.Sequential:
    """Keras' 4x4, stride-1 ``padding='same'`` conv: pad 1 left/top and 2 right/bottom, as TensorFlow does."""
    return nn.Sequential(nn.ZeroPad2d((1, 2, 1, 2)), nn.Conv2d(cin, cout, 4))


def _norm(channels: int) -> nn.Module:
    return nn.InstanceNorm2d(channels, affine=False, track_running_stats=False)


class UNetGenerator(nn.Module):
    """Foster's U-Net: ``depth`` x [conv 4x4 stride 2 -> instance norm -> ReLU], then ``depth - 1`` x [upsample x2
    -> conv 4x4 -> instance norm -> ReLU -> concat the skip], upsample x2 -> conv 4x4 -> tanh."""

    def __init__(self, in_channels: int, out_channels: int, width: int = 32, depth: int = 4) -> None:
        super().__init__()
        filters = [width * min(2 ** i, 8) for i in range(depth)]
        self.down = nn.ModuleList()
        prev = in_channels
        for f in filters:
            self.down.append(nn.Sequential(nn.Conv2d(prev, f, 4, stride=2, padding=1), _norm(f), nn.ReLU(True)))
            prev = f
        self.up = nn.ModuleList()
        for i in range(depth - 2, -1, -1):  # to the resolution of down[i], concatenated with it
            f = filters[i]
            self.up.append(nn.Sequential(nn.Upsample(scale_factor=2, mode="nearest"),
                                         _same4(prev, f), _norm(f), nn.ReLU(True)))
            prev = f + filters[i]
        self.out = nn.Sequential(nn.Upsample(scale_factor=2, mode="nearest"),
                                 _same4(prev, out_channels), nn.Tanh())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        skips = []
        for layer in self.down:
            x = layer(x)
            skips.append(x)
        skips.pop()  # the bottleneck itself
        for layer in self.up:
            x = torch.cat([layer(x), skips.pop()], dim=1)
        return self.out(x)


class ResidualBlock(nn.Module):
    def __init__(self, channels: int) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.ReflectionPad2d(1), nn.Conv2d(channels, channels, 3), _norm(channels),
                                  nn.ReLU(True), nn.ReflectionPad2d(1), nn.Conv2d(channels, channels, 3),
                                  _norm(channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class ResnetGenerator(nn.Module):
    """Johnson et al. / Zhu et al.: c7s1-w, d2w, d4w, ``blocks`` x R4w, u2w, uw, c7s1-C, tanh."""

    def __init__(self, in_channels: int, out_channels: int, width: int = 64, blocks: int = 6) -> None:
        super().__init__()
        layers: list[nn.Module] = [nn.ReflectionPad2d(3), nn.Conv2d(in_channels, width, 7), _norm(width),
                                   nn.ReLU(True)]
        c = width
        for _ in range(2):
            layers += [nn.Conv2d(c, c * 2, 3, stride=2, padding=1), _norm(c * 2), nn.ReLU(True)]
            c *= 2
        layers += [ResidualBlock(c) for _ in range(blocks)]
        for _ in range(2):
            layers += [nn.ConvTranspose2d(c, c // 2, 3, stride=2, padding=1, output_padding=1), _norm(c // 2),
                       nn.ReLU(True)]
            c //= 2
        layers += [nn.ReflectionPad2d(3), nn.Conv2d(c, out_channels, 7), nn.Tanh()]
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class PatchDiscriminator(nn.Module):
    """The PatchGAN of pix2pix / CycleGAN: one real/fake score per overlapping patch (70x70 with 3 layers)."""

    def __init__(self, in_channels: int, width: int = 64, layers: int = 3) -> None:
        super().__init__()
        seq: list[nn.Module] = [nn.Conv2d(in_channels, width, 4, stride=2, padding=1), nn.LeakyReLU(0.2, True)]
        c = width
        for n in range(1, layers):
            nc = width * min(2 ** n, 8)
            seq += [nn.Conv2d(c, nc, 4, stride=2, padding=1), _norm(nc), nn.LeakyReLU(0.2, True)]
            c = nc
        nc = width * min(2 ** layers, 8)
        seq += [nn.Conv2d(c, nc, 4, stride=1, padding=1), _norm(nc), nn.LeakyReLU(0.2, True),
                nn.Conv2d(nc, 1, 4, stride=1, padding=1)]
        self.net = nn.Sequential(*seq)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


def init_weights(module: nn.Module, std: float = 0.02) -> None:
    """The paper's code's init: conv weights N(0, 0.02), biases 0."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
            nn.init.normal_(m.weight, 0.0, std)
            if m.bias is not None:
                nn.init.zeros_(m.bias)


def build_generator(cfg: CycleGANConfig, in_channels: int, out_channels: int) -> nn.Module:
    if cfg.generator == "unet":
        return UNetGenerator(in_channels, out_channels, cfg.generator_width, cfg.unet_depth)
    return ResnetGenerator(in_channels, out_channels, cfg.generator_width, cfg.resnet_blocks)


class CycleGAN(GenlabModel):
    """``g_ab`` (G: A -> B), ``g_ba`` (F: B -> A), ``d_a`` (real A vs F(B)), ``d_b`` (real B vs G(A)).

    >>> fake_b = model.translate(images_a, "a2b")    # (N, C_A, H, W) in [0, 1] -> (N, C_B, H, W) in [0, 1]
    """

    model_type = "cyclegan"
    family = "cyclegan"
    config_class = CycleGANConfig

    def __init__(self, config: CycleGANConfig) -> None:
        super().__init__(config)
        c = config
        self.g_ab = build_generator(c, c.channels_a, c.channels_b)
        self.g_ba = build_generator(c, c.channels_b, c.channels_a)
        self.d_a = PatchDiscriminator(c.channels_a, c.ndf, c.discriminator_layers)
        self.d_b = PatchDiscriminator(c.channels_b, c.ndf, c.discriminator_layers)
        init_weights(self)

    def generators(self) -> list[nn.Parameter]:
        return [*self.g_ab.parameters(), *self.g_ba.parameters()]

    def discriminators(self) -> list[nn.Parameter]:
        return [*self.d_a.parameters(), *self.d_b.parameters()]

    def channels(self, domain: str) -> int:
        return self.config.channels_a if domain == "a" else self.config.channels_b

    def generator_for(self, direction: str) -> nn.Module:
        if direction not in ("a2b", "b2a"):
            raise ConfigError(f"--direction must be a2b or b2a (got {direction!r})")
        return self.g_ab if direction == "a2b" else self.g_ba

    @torch.no_grad()
    def translate(self, images: torch.Tensor, direction: str = "a2b", *, batch_size: int = 64) -> torch.Tensor:
        """Translate images (N, C, H, W) in [0, 1] with G (``a2b``) or F (``b2a``) in eval mode; returns [0, 1]."""
        g = self.generator_for(direction)
        want = self.channels("a" if direction == "a2b" else "b")
        if images.ndim != 4 or images.shape[1] != want:
            raise ConfigError(f"{direction} takes images with {want} channel(s), got shape {tuple(images.shape)}")
        was = self.training
        self.eval()
        try:
            out = [g(images[i:i + batch_size].to(self.device).float() * 2 - 1).add(1).div(2).clamp(0, 1).cpu()
                   for i in range(0, images.shape[0], batch_size)]
        finally:
            self.train(was)
        return torch.cat(out)
