"""What a unit responds to: maximise one channel of a layer (or one class logit) starting from noise.

Regularisers against high-frequency adversarial patterns (Olah et al. 2017, "Feature Visualization"): a random
roll (jitter) and random rescale every step, a periodic Gaussian blur, and optionally a decorrelated Fourier
parametrisation (``param="fft"``: the image is the inverse FFT of a spectrum scaled by 1/frequency). The blur acts
on the parameters before the sigmoid in both parametrisations: a Gaussian kernel on the pixels, its transfer function
``exp(-2 pi^2 sigma^2 f^2)`` on the spectrum (the same blur, periodic at the edges).

    >>> result = visualize("mixed4", VisualizeConfig(channels="0-15"), out="runs/visualize/mixed4")  # a grid
    >>> result = visualize("logits", VisualizeConfig(channels="130"))    # class visualisation: ImageNet flamingo
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import torch
import torch.nn.functional as F

from ..core.config import cfg_field, check_choice, check_int, check_non_negative, check_positive, to_dict
from ..core.device import resolve_device
from ..core.errors import ConfigError
from ..features import FeatureNetwork, load_feature_network
from ..features.output import check_size, save_labelled_grid, save_loss_curve, write_metadata
from .common import Progress, check_image_fits, graceful_stop, output_file, output_folder, stop_message


def parse_channels(text: str) -> list[int]:
    """``"0-7"`` -> 0..7, ``"3,5,9"`` -> [3, 5, 9]."""
    out: list[int] = []
    for part in str(text).split(","):
        part = part.strip()
        try:
            if "-" in part[1:]:
                lo, hi = part.split("-", 1)
                out.extend(range(int(lo), int(hi) + 1))
            elif part:
                out.append(int(part))
        except ValueError:
            raise ConfigError(f"--channels {text!r}: use indices like 5, 0-15 or 1,4,9") from None
    if not out or min(out) < 0:
        raise ConfigError(f"--channels {text!r} must list channel indices >= 0")
    return out


@dataclass
class VisualizeConfig:
    model: str = cfg_field("inception_v3", help="feature network (vgg16, vgg19, googlenet, inception_v3, a folder)")
    weights: str = cfg_field("imagenet", help="imagenet | random | a state_dict FILE (.pth/.safetensors)")
    channels: str = cfg_field("0", help="channel(s) to maximise: 5, 0-15 (a grid of the first 16 filters), 1,4,9; "
                                        "on the logits layer these are class indices")
    size: int = cfg_field(128, help="image side in pixels")
    iterations: int = cfg_field(128, help="Adam steps on the image parameters")
    lr: float = cfg_field(0.05, help="Adam learning rate")
    param: Literal["pixel", "fft"] = cfg_field("fft", help="pixel, or a decorrelated Fourier parametrisation")
    jitter: int = cfg_field(8, help="random roll of up to N pixels per step (0 = off)")
    scale: float = cfg_field(0.05, help="random rescale by up to +/- this fraction per step (0 = off)")
    blur_every: int = cfg_field(0, help="Gaussian-blur the image every N steps (0 = off)")
    blur_sigma: float = cfg_field(0.5, help="blur strength in pixels")
    seed: int = cfg_field(0, help="random seed (start noise, jitter, random weights)")
    device: str = cfg_field("auto", help="auto|cpu|cuda|mps (auto: CUDA, then MPS, then CPU)")

    def __post_init__(self) -> None:
        check_size(self.size)
        check_int("iterations", self.iterations, 0)
        check_positive("lr", self.lr)
        check_choice("param", self.param, ("pixel", "fft"))
        for name in ("jitter", "blur_every", "scale"):
            check_non_negative(name, getattr(self, name))
        check_positive("blur_sigma", self.blur_sigma)
        if self.scale >= 0.5:
            raise ConfigError(f"--scale must be below 0.5 (got {self.scale})")
        parse_channels(self.channels)


@dataclass
class VisualizeResult:
    images: torch.Tensor  # (N, C, size, size) in [0, 1]
    objectives: list[float]  # mean objective over the channels, per step
    channels: list[int]
    out_dir: Path | None
    path: Path | None = None  # the labelled grid written: --output FILE, else OUT/filters.png
    interrupted: str | None = None  # "SIGINT" / "SIGTERM" when a signal stopped it; the images so far are written


class ImageParam(torch.nn.Module):
    """A batch of images as free parameters: raw pixels (through a sigmoid) or a 1/f-scaled spectrum."""

    def __init__(self, n: int, channels: int, size: int, kind: str, gen: torch.Generator) -> None:
        super().__init__()
        self.kind, self.size = kind, size
        if kind == "pixel":
            self.p = torch.nn.Parameter(torch.randn(n, channels, size, size, generator=gen) * 0.1)
        else:
            fy = torch.fft.fftfreq(size)[:, None]
            fx = torch.fft.rfftfreq(size)[None, :]
            freq = torch.sqrt(fx * fx + fy * fy)  # cycles per pixel
            self.register_buffer("freq", freq)
            self.register_buffer("scale", 1.0 / freq.clamp_min(1.0 / size) / size)  # flatter, decorrelated landscape
            shape = (n, channels, size, size // 2 + 1, 2)
            self.p = torch.nn.Parameter(torch.randn(shape, generator=gen) * 0.01)

    def forward(self) -> torch.Tensor:
        if self.kind == "pixel":
            return torch.sigmoid(self.p)
        spectrum = torch.view_as_complex(self.p) * self.scale
        return torch.sigmoid(torch.fft.irfft2(spectrum, s=(self.size, self.size), norm="ortho") * 4.0)

    @torch.no_grad()
    def blur(self, sigma: float) -> None:
        if self.kind == "pixel":
            from torchvision.transforms.functional import gaussian_blur
            k = 2 * math.ceil(2 * sigma) + 1
            self.p.copy_(gaussian_blur(self.p, [k, k], [sigma, sigma]))
        else:  # the Gaussian's Fourier transform multiplies the spectrum (real and imaginary parts alike)
            self.p.mul_(torch.exp(-2 * math.pi**2 * sigma**2 * self.freq**2)[..., None])


def visualize(layer: str, config: VisualizeConfig | None = None, *, out: str | Path | None = None,
              output: str | Path | None = None, net: FeatureNetwork | None = None, progress: bool = True,
              write: bool = True) -> VisualizeResult:
    """Maximise each of ``config.channels`` of ``layer`` (one image per channel, optimised as one batch).

    Writes ``out/`` (filters.png: the images labelled with their channel numbers, objective.png, metadata.json;
    default ``runs/visualize/<model>-<layer>-<time>``) unless ``write=False``; ``output`` names the grid's file.
    """
    cfg = config or VisualizeConfig()
    channels = parse_channels(cfg.channels)
    out_dir = image_path = None
    if write:  # outputs first: a bad path fails before the work
        image_path = output_file(output)
        out_dir = output_folder(out, kind="visualize", stem=f"{cfg.model}-{layer}".replace("/", "_"))
    device = resolve_device(cfg.device)
    if net is None:
        net = load_feature_network(cfg.model, weights=cfg.weights, layers=[layer], seed=cfg.seed, device=device)
    layer = net.resolve(layer)
    net = net.truncated([layer]).to(device)
    smallest = min(cfg.size, _scaled_side(cfg, 1.0 - cfg.scale)) if cfg.scale else cfg.size
    check_image_fits(net, smallest, smallest, what="the image" + (" at its smallest random rescale" if
                     smallest < cfg.size else ""), hint="use a larger --size")
    with torch.no_grad():
        probe = net(net.normalize(torch.zeros(1, net.in_channels, cfg.size, cfg.size, device=device)), [layer])[layer]
    n_ch = probe.shape[1]
    if max(channels) >= n_ch:
        raise ConfigError(f"layer {layer} has {n_ch} channels (0-{n_ch - 1}); --channels {cfg.channels} is out of "
                          f"range")
    gen = torch.Generator().manual_seed(cfg.seed)
    param = ImageParam(len(channels), net.in_channels, cfg.size, cfg.param, gen).to(device)
    opt = torch.optim.Adam(param.parameters(), lr=cfg.lr)
    index = torch.tensor(channels, device=device)
    history: list[float] = []
    bar = Progress(cfg.iterations, f"visualize {layer}", "step", progress)
    with graceful_stop(message=stop_message("the visualisation")) as stop:
        for step in range(cfg.iterations):
            if stop:
                break
            img = _augment(param(), cfg, gen)
            act = net(net.normalize(img), [layer])[layer].float()
            per_image = act[torch.arange(len(channels), device=device), index]  # (N,) or (N, h, w)
            objective = per_image.reshape(len(channels), -1).mean(dim=1)
            opt.zero_grad(set_to_none=True)
            (-objective.sum()).backward()
            opt.step()
            history.append(float(objective.detach().mean()))
            bar.update(objective=history[-1])
            if cfg.blur_every and (step + 1) % cfg.blur_every == 0:
                param.blur(cfg.blur_sigma)
    bar.close()
    with torch.no_grad():
        images = param().detach().cpu()
    if write:
        out_dir.mkdir(parents=True, exist_ok=True)
        image_path = image_path or out_dir / "filters.png"
        image_path.parent.mkdir(parents=True, exist_ok=True)
        what = "class" if probe.ndim == 2 else "channel"
        save_labelled_grid(images, [f"{what} {c}" for c in channels], image_path, ncol=min(8, len(channels)),
                           title=f"{net.model_name} {layer}")
        if history:
            save_loss_curve(history, out_dir / "objective.png", title=f"mean activation of {layer}",
                            ylabel="objective")
        write_metadata(out_dir, {"kind": "visualize", "layer": layer, "channels": channels, "config": to_dict(cfg),
                                 "model": net.model_name, "weights": net.weights_info.to_dict(),
                                 "image": str(image_path), "objectives": history, "interrupted": stop.name or None,
                                 "device": str(device)})
    return VisualizeResult(images, history, channels, out_dir, image_path, stop.name or None)


def _scaled_side(cfg: VisualizeConfig, factor: float) -> int:
    return max(8, round(cfg.size * factor))


def _augment(img: torch.Tensor, cfg: VisualizeConfig, gen: torch.Generator) -> torch.Tensor:
    if cfg.jitter:
        dy, dx = (int(v) for v in torch.randint(-cfg.jitter, cfg.jitter + 1, (2,), generator=gen))
        img = torch.roll(img, (dy, dx), dims=(-2, -1))
    if cfg.scale:
        factor = 1.0 + (float(torch.rand((), generator=gen)) * 2 - 1) * cfg.scale
        side = _scaled_side(cfg, factor)
        img = F.interpolate(img, size=(side, side), mode="bilinear", align_corners=False)
    return img
