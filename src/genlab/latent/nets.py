"""The encoder / decoder builders of every latent model (VAE, autoencoder, adversarial autoencoder).

    >>> enc = build_encoder("conv", (3, 64, 64), out_features=32, hidden_dims=(512,), conv_channels=(32, 64, 128))
    >>> dec = build_decoder("conv", (3, 64, 64), latent_dim=32, hidden_dims=(512,), conv_channels=(32, 64, 128))
    >>> logits = dec(enc(images))      # (B, 3, 64, 64)

An MLP over flattened pixels, or stride-2 4x4 convolutions with BatchNorm + LeakyReLU down to ``size / 2**stages``, a
linear bottleneck, and transposed convolutions back up. The module indices are part of the saved weights' keys
(``encoder.1.weight`` ...): changing the layer order breaks every saved run.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

from torch import nn

from ..core.config import check_int
from ..core.errors import ConfigError

ARCHS = ("mlp", "conv")


def check_arch_fields(*, arch: str, latent_dim: int, image_channels: int, image_size: int,
                      **int_tuples: Sequence[int]) -> dict[str, tuple[int, ...]]:
    """Validate the network fields of a latent-model config (one-line :class:`ConfigError`s); returns the tuples."""
    if arch not in ARCHS:
        raise ConfigError(f"--arch must be one of {', '.join(ARCHS)} (got {arch!r})")
    check_int("latent_dim", latent_dim, 1)
    out = {}
    for name, values in int_tuples.items():
        values = tuple(values)
        if not values or any(isinstance(v, bool) or not isinstance(v, int) or v < 1 for v in values):
            raise ConfigError(f"--{name.replace('_', '-')} must be one or more integers >= 1 (got {values})")
        out[name] = values
    if image_channels not in (1, 3):
        raise ConfigError(f"images must have 1 or 3 channels (got {image_channels})")
    check_int("image_size", image_size, 1)
    if arch == "conv":
        stride = 2 ** len(out.get("conv_channels", ()))
        if image_size % stride:
            raise ConfigError(f"the conv network with {len(out['conv_channels'])} stages needs an image size divisible "
                              f"by {stride} (got {image_size}); change --image-size or --conv-channels")
    return out


def mlp(sizes: Sequence[int], *, final_activation: bool = False, negative_slope: float = 0.0) -> list[nn.Module]:
    """Linear layers ``sizes[0] -> sizes[1] -> ...`` with (Leaky)ReLU between them (and after the last if asked)."""
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(itertools.pairwise(sizes)):
        layers.append(nn.Linear(a, b))
        if final_activation or i < len(sizes) - 2:
            layers.append(nn.LeakyReLU(negative_slope) if negative_slope else nn.ReLU())
    return layers


def build_encoder(arch: str, image_shape: tuple[int, int, int], *, out_features: int, hidden_dims: Sequence[int],
                  conv_channels: Sequence[int]) -> nn.Sequential:
    """Images ``(B, C, H, W)`` -> features ``(B, out_features)``."""
    c, h, w = image_shape
    if arch == "mlp":
        return nn.Sequential(nn.Flatten(), *mlp([c * h * w, *hidden_dims, out_features]))
    layers: list[nn.Module] = []
    prev = c
    for ch in conv_channels:
        layers += [nn.Conv2d(prev, ch, 4, stride=2, padding=1), nn.BatchNorm2d(ch), nn.LeakyReLU(0.2)]
        prev = ch
    bottom = h // 2 ** len(conv_channels)
    return nn.Sequential(*layers, nn.Flatten(), nn.Linear(prev * bottom * bottom, out_features))


def build_decoder(arch: str, image_shape: tuple[int, int, int], *, latent_dim: int, hidden_dims: Sequence[int],
                  conv_channels: Sequence[int]) -> nn.Sequential:
    """Codes ``(B, latent_dim)`` -> pixel logits ``(B, C, H, W)`` (the mirror image of :func:`build_encoder`)."""
    c, h, w = image_shape
    if arch == "mlp":
        return nn.Sequential(*mlp([latent_dim, *reversed(hidden_dims), c * h * w]), nn.Unflatten(1, (c, h, w)))
    rev = list(reversed(conv_channels))
    bottom = h // 2 ** len(conv_channels)
    layers: list[nn.Module] = [nn.Linear(latent_dim, rev[0] * bottom * bottom), nn.Unflatten(1, (rev[0], bottom, bottom))]
    for c_in, c_out in itertools.pairwise([*rev, c]):
        layers += [nn.BatchNorm2d(c_in), nn.LeakyReLU(0.2), nn.ConvTranspose2d(c_in, c_out, 4, stride=2, padding=1)]
    return nn.Sequential(*layers)
