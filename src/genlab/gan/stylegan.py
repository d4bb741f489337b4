"""StyleGAN-lite (Karras et al. 2019, "A Style-Based Generator Architecture for GANs"; with StyleGAN2's modulation,
Karras et al. 2020, "Analyzing and Improving the Image Quality of StyleGAN") at laptop scale.

- a mapping MLP z -> w (pixel norm on z, equalised-LR layers with the paper's 0.01 learning-rate multiplier);
- a synthesis network from a learned 4x4 constant, one style per layer: **StyleGAN2's modulated / demodulated
  convolution** (weight demodulation; :func:`modulated_conv2d`), not StyleGAN1's AdaIN, which StyleGAN2 replaced
  because AdaIN's per-feature-map normalisation causes the droplet artefacts;
- per-layer noise inputs (one learned strength per channel; ``noise_mode`` "const" (fixed per layer, the default for
  sampling, as StyleGAN2's generate.py), "random" or "none");
- StyleGAN2's skip generator (a toRGB per resolution, summed up the resolutions);
- style-mixing regularisation (with ``mixing_prob`` two z's, the styles switch from one w to the other at a random
  layer) and the truncation trick in w: w' = w_avg + ψ (w - w_avg), with w_avg a running mean of w during training.

The discriminator is ProGAN's (minibatch stddev, equalised LR) at the final side, not grown.

    >>> gan = StyleGAN(StyleGANConfig(size=32))
    >>> gan.sample(16, seed=0, truncation=0.7)            # (16, 1, 32, 32) in [0, 1]
    >>> gan.mix(seeds_a, seeds_b, layers=gan.layer_range("coarse"))
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

from ..core.config import cfg_field, check_choice
from ..core.errors import ConfigError
from ..core.model import register_model
from .progressive import (EqualLinear, ProDiscriminator, ProGANConfig, _ArchGAN, _check_common, _check_whole,
                          _lrelu, check_power_of_two_size, pixel_norm, stage_channels)

NOISE_MODES = ("const", "random", "none")
LAYER_GROUPS = ("coarse", "middle", "fine")


def modulated_conv2d(x: torch.Tensor, weight: torch.Tensor, styles: torch.Tensor, *, demodulate: bool = True,
                     padding: int = 0, eps: float = 1e-8) -> torch.Tensor:
    """StyleGAN2's modulated convolution (Karras et al. 2020, section 2.2, eqs. 1-3), one weight per example:

    w'_ijk = s_i · w_ijk (modulation: input channel i scaled by the style s), then with ``demodulate``
    w''_ijk = w'_ijk / sqrt(Σ_{i,k} w'_ijk² + ε) (each output channel j back to unit expected std), applied as a
    computed without per-example weights (StyleGAN2's non-fused path, the same numbers): conv(x · s, w) · d with
    d_bj = 1 / sqrt(Σ_i s_bi² Σ_k w_jik² + ε), so one batched convolution serves the whole batch (a grouped conv of
    per-example weights is ~5x slower on a CPU). ``x`` (B, I, H, W), ``weight`` (O, I, k, k), ``styles`` (B, I)
    -> (B, O, H', W')."""
    out = F.conv2d(x * styles[:, :, None, None], weight, padding=padding)
    if demodulate:
        d = torch.rsqrt(styles.pow(2) @ weight.pow(2).sum(dim=(2, 3)).t() + eps)  # (B, O)
        out = out * d[:, :, None, None]
    return out


@dataclass
class StyleGANConfig:
    arch: Literal["stylegan"] = cfg_field("stylegan", help="architecture (fixed for this config)", cli=False)
    size: int = cfg_field(32, help="image side: 8, 16, 32, 64 or 128 (28 px data is zero-padded to 32)")
    latent_dim: int = cfg_field(128, help="size of z")
    w_dim: int = cfg_field(128, help="size of w (the mapping network's output, the styles' input)")
    mapping_layers: int = cfg_field(4, help="layers of the mapping MLP (the paper: 8)")
    g_channels: int = cfg_field(16, help="channels of the finest synthesis stage (coarser stages double, to 8x)")
    d_channels: int = cfg_field(16, help="channels of the finest discriminator stage (coarser stages double, to 8x)")
    loss: Literal["ns", "wgan", "wgan-gp", "hinge"] = cfg_field("wgan-gp", help="objective")
    mixing_prob: float = cfg_field(0.9, help="style-mixing regularisation: probability of two z's per batch")
    w_avg_beta: float = cfg_field(0.995, help="decay of the running mean of w (the truncation centre)")
    drift: float = cfg_field(0.001, help="drift penalty eps_drift * E[D(x)^2] on the critic (0 = off)")
    mbstd_group: int = cfg_field(4, help="group size of the minibatch standard deviation layer")
    image_channels: int = cfg_field(1, help="image channels (set from the data)", cli=False)

    minibatch_stddev = True  # D sees real and fake images in separate batches
    conditional = False
    num_classes = 0

    def __post_init__(self) -> None:
        check_choice("arch", self.arch, ("stylegan",))
        check_power_of_two_size(self.size, "stylegan")
        _check_common(self)
        _check_whole("w_dim", self.w_dim, 1)
        _check_whole("mapping_layers", self.mapping_layers, 1)
        for name in ("mixing_prob", "w_avg_beta"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0.0 <= v <= 1.0:
                raise ConfigError(f"--{name.replace('_', '-')} must be in [0, 1] (got {v})")

    @property
    def levels(self) -> int:
        return int(math.log2(self.size)) - 1

    @property
    def num_ws(self) -> int:
        """One style per synthesis conv: one at 4x4, two at every later side."""
        return 1 + 2 * (self.levels - 1)


def layer_sides(cfg: StyleGANConfig) -> list[int]:
    """The side each style layer works at: [4, 8, 8, 16, 16, 32, 32] for 32 px."""
    return [4] + [4 * 2 ** k for k in range(1, cfg.levels) for _ in range(2)]


def layer_groups(cfg: StyleGANConfig) -> dict[str, range]:
    """Style layers by the paper's grouping (section 3.1): coarse 4²-8², middle 16²-32², fine 64² and up; at 32 px
    (no 64² layers) the 32² layers are the fine ones, and at 16 px or less the finest side is fine, the rest coarse."""
    sides = layer_sides(cfg)
    top = sides[-1]
    coarse = [i for i, s in enumerate(sides) if s <= 8 and s != top]
    fine = [i for i, s in enumerate(sides) if s >= 64 or s == top]
    middle = [i for i in range(len(sides)) if i not in coarse and i not in fine]
    out = {"coarse": coarse, "middle": middle, "fine": fine}
    return {k: range(v[0], v[-1] + 1) if v else range(0) for k, v in out.items()}


def parse_layers(spec: str, cfg: StyleGANConfig) -> range:
    """``coarse`` / ``middle`` / ``fine`` or ``I-J`` / ``I`` (style-layer indices, 0 = the 4x4 layer) -> a range;
    a one-line :class:`ConfigError` when out of range."""
    spec = str(spec).strip().lower()
    groups = layer_groups(cfg)
    n = cfg.num_ws
    if spec in groups:
        if not len(groups[spec]):
            raise ConfigError(f"this {cfg.size} px StyleGAN has no {spec} layers; use layer indices 0-{n - 1}")
        return groups[spec]
    parts = spec.split("-")
    try:
        lo, hi = (int(parts[0]), int(parts[-1])) if len(parts) in (1, 2) else (None, None)
    except ValueError:
        lo = hi = None
    if lo is None or hi is None:
        raise ConfigError(f"--layers must be coarse, middle, fine, I or I-J (got {spec!r})")
    if not 0 <= lo <= hi < n:
        raise ConfigError(f"--layers {spec} is out of range: this StyleGAN has style layers 0-{n - 1} "
                          f"({', '.join(f'{k} {r.start}-{r.stop - 1}' for k, r in groups.items() if len(r))})")
    return range(lo, hi + 1)


class MappingNetwork(nn.Module):
    """z -> pixel norm -> ``layers`` x (equalised linear, lr multiplier 0.01, LeakyReLU 0.2) -> w."""

    def __init__(self, z_dim: int, w_dim: int, layers: int, lr_mul: float = 0.01) -> None:
        super().__init__()
        dims = [z_dim] + [w_dim] * layers
        self.layers = nn.ModuleList([EqualLinear(a, b, lr_mul=lr_mul) for a, b in zip(dims[:-1], dims[1:],
                                                                                         strict=True)])

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        h = pixel_norm(z)
        for layer in self.layers:
            h = _lrelu(layer(h))
        return h


class StyleConv(nn.Module):
    """[nearest x2] -> modulated/demodulated 3x3 conv (style = affine(w), bias init 1) -> + strength · noise ->
    + bias -> LeakyReLU(0.2) (with StyleGAN2's gain sqrt 2)."""

    def __init__(self, c_in: int, c_out: int, w_dim: int, side: int, *, up: bool, noise_seed: int) -> None:
        super().__init__()
        self.up = up
        self.affine = EqualLinear(w_dim, c_in, bias_init=1.0, gain=1.0)
        self.weight = nn.Parameter(torch.randn(c_out, c_in, 3, 3))
        self.scale = 1.0 / math.sqrt(c_in * 9)
        self.bias = nn.Parameter(torch.zeros(c_out))
        self.noise_strength = nn.Parameter(torch.zeros(()))
        self.register_buffer("noise_const", torch.randn(1, 1, side, side,
                                                        generator=torch.Generator().manual_seed(noise_seed)))

    def forward(self, x: torch.Tensor, w: torch.Tensor, noise_mode: str = "random",
                noise: torch.Tensor | None = None) -> torch.Tensor:
        if self.up:
            x = F.interpolate(x, scale_factor=2, mode="nearest")
        x = modulated_conv2d(x, self.weight * self.scale, self.affine(w), demodulate=True, padding=1)
        if noise is None and noise_mode == "random":
            noise = torch.randn(x.shape[0], 1, x.shape[2], x.shape[3], device=x.device, dtype=x.dtype)
        elif noise is None and noise_mode == "const":
            noise = self.noise_const
        if noise is not None:
            x = x + self.noise_strength * noise
        return F.leaky_relu(x + self.bias.view(1, -1, 1, 1), 0.2) * math.sqrt(2)


class ToRGB(nn.Module):
    """Modulated 1x1 conv without demodulation (StyleGAN2), + bias."""

    def __init__(self, c_in: int, c_out: int, w_dim: int) -> None:
        super().__init__()
        self.affine = EqualLinear(w_dim, c_in, bias_init=1.0, gain=1.0)
        self.weight = nn.Parameter(torch.randn(c_out, c_in, 1, 1))
        self.scale = 1.0 / math.sqrt(c_in)
        self.bias = nn.Parameter(torch.zeros(c_out))

    def forward(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        out = modulated_conv2d(x, self.weight * self.scale, self.affine(w), demodulate=False)
        return out + self.bias.view(1, -1, 1, 1)


class StyleGenerator(nn.Module):
    """Mapping network + synthesis network. ``forward(z)`` in training mode applies style-mixing regularisation and
    updates w_avg; :meth:`synthesize` turns per-layer styles ``ws`` (B, num_ws, w_dim) into images."""

    def __init__(self, cfg: StyleGANConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.mapping = MappingNetwork(cfg.latent_dim, cfg.w_dim, cfg.mapping_layers)
        ch = stage_channels(cfg.g_channels, cfg.levels)
        self.const = nn.Parameter(torch.randn(1, ch[0], 4, 4))
        convs = [StyleConv(ch[0], ch[0], cfg.w_dim, 4, up=False, noise_seed=0)]
        rgbs = [ToRGB(ch[0], cfg.image_channels, cfg.w_dim)]
        for k in range(1, cfg.levels):
            side = 4 * 2 ** k
            convs += [StyleConv(ch[k - 1], ch[k], cfg.w_dim, side, up=True, noise_seed=2 * k - 1),
                      StyleConv(ch[k], ch[k], cfg.w_dim, side, up=False, noise_seed=2 * k)]
            rgbs.append(ToRGB(ch[k], cfg.image_channels, cfg.w_dim))
        self.convs = nn.ModuleList(convs)
        self.to_rgb = nn.ModuleList(rgbs)
        self.register_buffer("w_avg", torch.zeros(cfg.w_dim))

    @property
    def num_ws(self) -> int:
        return len(self.convs)

    def broadcast(self, w: torch.Tensor) -> torch.Tensor:
        return w.unsqueeze(1).expand(-1, self.num_ws, -1)

    def truncate(self, ws: torch.Tensor, psi: float) -> torch.Tensor:
        """The truncation trick in w (Karras et al. 2019, section 3.2 / appendix B): w_avg + ψ (w - w_avg)."""
        return torch.lerp(self.w_avg.to(ws.dtype).expand_as(ws), ws, psi)

    def synthesize(self, ws: torch.Tensor, *, noise_mode: str = "random",
                   noise: list[torch.Tensor | None] | None = None) -> torch.Tensor:
        """Images (B, C, size, size), about [-1, 1], from styles ``ws`` (B, num_ws, w_dim). ``noise`` may give each
        layer's noise map (None entries follow ``noise_mode``)."""
        if ws.ndim != 3 or ws.shape[1] != self.num_ws:
            raise ConfigError(f"styles must be (B, {self.num_ws}, w_dim), got {tuple(ws.shape)}")
        h = self.const.expand(ws.shape[0], -1, -1, -1)
        rgb = None
        for i, conv in enumerate(self.convs):
            h = conv(h, ws[:, i], noise_mode, noise[i] if noise is not None else None)
            if i == 0 or i % 2 == 0:  # the last conv of a side: its toRGB, added to the upsampled sum so far
                k = i // 2
                y = self.to_rgb[k](h, ws[:, i])
                rgb = y if rgb is None else F.interpolate(rgb, scale_factor=2, mode="bilinear",
                                                          align_corners=False) + y
        return rgb

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        w = self.mapping(z)
        ws = self.broadcast(w)
        if self.training:
            with torch.no_grad():
                self.w_avg.copy_(torch.lerp(w.detach().float().mean(0), self.w_avg, self.cfg.w_avg_beta))
            if self.cfg.mixing_prob > 0 and float(torch.rand(())) < self.cfg.mixing_prob:
                cut = int(torch.randint(1, self.num_ws, ()))
                w2 = self.mapping(torch.randn_like(z))
                ws = torch.cat([ws[:, :cut], self.broadcast(w2)[:, cut:]], dim=1)
        return self.synthesize(ws, noise_mode="random" if self.training else "const")


@register_model
class StyleGAN(_ArchGAN):
    """Style-based generator + ProGAN critic (with an EMA generator), saved as one model."""

    model_type = "gan-stylegan"
    family = "gan"
    config_class = StyleGANConfig

    def build_networks(self, config: StyleGANConfig):
        d_cfg = ProGANConfig(size=config.size, d_channels=config.d_channels, mbstd_group=config.mbstd_group,
                             image_channels=config.image_channels, loss=config.loss)
        d = ProDiscriminator(d_cfg)
        d.level.fill_(d_cfg.levels - 1)  # always the full side
        return StyleGenerator(config), d

    @property
    def num_ws(self) -> int:
        return self.config.num_ws

    def layer_groups(self) -> dict[str, range]:
        return layer_groups(self.config)

    def layer_range(self, spec: str) -> range:
        return parse_layers(spec, self.config)

    def _generate(self, net: StyleGenerator, z: torch.Tensor, *, truncation: float = 1.0,
                  noise_mode: str = "const") -> torch.Tensor:
        ws = net.broadcast(net.mapping(z))
        if truncation != 1.0:
            ws = net.truncate(ws, truncation)
        return net.synthesize(ws, noise_mode=noise_mode)

    @staticmethod
    def check_truncation(psi: float) -> str | None:
        """Refuse ψ < 0 (one line); a warning (returned) above 1, where truncation extrapolates away from w_avg."""
        if isinstance(psi, bool) or not isinstance(psi, (int, float)) or not math.isfinite(psi) or psi < 0:
            raise ConfigError(f"--truncation must be in [0, 1] (0 = the mean w's image, 1 = no truncation); "
                              f"got {psi}")
        if psi > 1:
            return (f"--truncation {psi} > 1 extrapolates away from the mean w (more variety, lower quality); "
                    f"the truncation trick uses psi in [0, 1]")
        return None

    @torch.no_grad()
    def sample(self, n: int, *, seed: int | None = None, ema: bool = True, labels=None, truncation: float = 1.0,
               noise_mode: str = "const") -> torch.Tensor:
        """``n`` images in [0, 1] with truncation ψ in w (1 = none) and the fixed per-layer noise by default."""
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise ConfigError(f"--n must be a whole number >= 1 (got {n})")
        self.check_truncation(truncation)
        check_choice("noise_mode", noise_mode, NOISE_MODES)
        return self.decode_images(self.noise(n, seed=seed), ema=ema, truncation=truncation, noise_mode=noise_mode)

    @torch.no_grad()
    def styles(self, z: torch.Tensor, *, ema: bool = True, truncation: float = 1.0) -> torch.Tensor:
        """Per-layer styles (B, num_ws, w_dim) of ``z`` (truncated with ψ)."""
        net = self.generator_ema if ema else self.generator
        ws = net.broadcast(net.mapping(z.to(self.device)))
        return net.truncate(ws, truncation) if truncation != 1.0 else ws

    @torch.no_grad()
    def images_from_styles(self, ws: torch.Tensor, *, ema: bool = True, noise_mode: str = "const",
                           noise: list | None = None) -> torch.Tensor:
        net = self.generator_ema if ema else self.generator
        was = net.training
        net.eval()
        try:
            return ((net.synthesize(ws.to(self.device), noise_mode=noise_mode, noise=noise) + 1) / 2).clamp(0, 1)
        finally:
            net.train(was)

    @torch.no_grad()
    def mix(self, z_a: torch.Tensor, z_b: torch.Tensor, layers: range, *, ema: bool = True,
            truncation: float = 1.0) -> torch.Tensor:
        """Style mixing (Karras et al. 2019, section 3.1, figure 3): A's styles with layers ``layers`` copied from B,
        one image per pair (z_a[i], z_b[i])."""
        ws = self.styles(z_a, ema=ema, truncation=truncation).clone()
        wb = self.styles(z_b, ema=ema, truncation=truncation)
        idx = list(layers)
        ws[:, idx] = wb[:, idx]
        return self.images_from_styles(ws, ema=ema)

    def noise_maps(self, n: int, *, seed: int) -> list[torch.Tensor]:
        """One seeded random noise map per style layer, (n, 1, side, side)."""
        gen = torch.Generator().manual_seed(seed)
        return [torch.randn(n, 1, s, s, generator=gen).to(self.device) for s in layer_sides(self.config)]
