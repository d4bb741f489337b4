"""DeepDream (Mordvintsev et al. 2015) as the seeds teach it, plus jitter, tiles and a guide image.

    >>> result = deepdream("photo.jpg", DreamConfig(weights="imagenet"), out="runs/dream/photo")
    >>> result.image            # (1, 3, H, W) in [0, 1]; OUT/ holds dream.png, octaves.png, loss.png, metadata.json

Per octave (3 octaves at scale 1.4, smallest first): ``steps`` gradient-ascent steps on the network input of
``step_size`` times the gradient divided by its mean absolute value, stopping the octave when the loss passes
``max_loss``; then upscale and re-inject the detail lost by shrinking the original.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import torch

from ..core.config import cfg_field, check_non_negative, check_positive, to_dict
from ..core.device import resolve_device
from ..core.errors import ConfigError
from ..data.images import DEFAULT_MAX_PIXELS
from ..features.networks import FeatureNetwork, load_feature_network, parse_layer_weights
from ..features.output import (check_size, default_out_dir, load_input_image, resize, save_image, save_loss_curve,
                               save_row_figure, write_metadata)
from .losses import dream_score_map, guide_score_map, normalize_gradient
from .tiling import Objective, full_gradient, tiled_gradient

BOOK_LAYERS = "mixed2:0.2,mixed3:3.0,mixed4:2.0,mixed5:1.5"


@dataclass
class DreamConfig:
    model: str = cfg_field("inception_v3", help="feature network: vgg16, vgg19, googlenet, inception_v3, or a genlab "
                                                "classifier folder")
    weights: str = cfg_field("imagenet", help="imagenet | random | a state_dict FILE (.pth/.safetensors)")
    layers: str = cfg_field(BOOK_LAYERS, help="layers and weights NAME:WEIGHT,... (Keras or torchvision names)")
    octaves: int = cfg_field(3, help="number of scales, processed smallest first")
    octave_scale: float = cfg_field(1.4, help="size ratio between successive octaves")
    steps: int = cfg_field(20, help="gradient-ascent steps per octave")
    step_size: float = cfg_field(0.01, help="step in network-input units (gradient divided by its mean |value|)")
    max_loss: float | None = cfg_field(10.0, help="stop an octave once the loss exceeds this (none = never)")
    border: int = cfg_field(2, help="activation pixels cut from each edge of the loss")
    jitter: int = cfg_field(0, help="random roll of up to N pixels per step (0 = off, as in the seeds)")
    tile_size: int = cfg_field(0, help="compute gradients tile by tile (memory bounded); 0 = whole image")
    tile_margin: int = cfg_field(64, help="context around each tile (exact when >= the receptive field)")
    guide: str | None = cfg_field(None, help="guide image: maximise similarity to its features instead")
    size: int | None = cfg_field(None, help="resize so the longer side is N px (the seeds: best at 300-400)")
    max_pixels: int = cfg_field(DEFAULT_MAX_PIXELS, help="refuse input images with more pixels than this")
    seed: int = cfg_field(0, help="random seed (jitter, random weights)")
    device: str = cfg_field("cpu", help="auto|cpu|cuda|mps")
    channels_last: bool = cfg_field(True, help="channels-last convolutions (~1.3x faster per step on CPU; results "
                                               "equal up to float rounding)")

    def __post_init__(self) -> None:
        check_positive("octaves", self.octaves)
        if isinstance(self.octaves, bool) or not isinstance(self.octaves, int):
            raise ConfigError(f"--octaves must be a whole number (got {self.octaves})")
        check_positive("octave_scale", self.octave_scale)
        check_non_negative("steps", self.steps)
        check_positive("step_size", self.step_size)
        check_positive("max_loss", self.max_loss, allow_none=True)
        for name in ("border", "jitter", "tile_size", "tile_margin"):
            check_non_negative(name, getattr(self, name))
        check_size(self.size)
        check_positive("max_pixels", self.max_pixels)
        parse_layer_weights(self.layers)


@dataclass
class DreamResult:
    image: torch.Tensor
    losses: list[float]
    octave_images: list[torch.Tensor]
    out_dir: Path | None
    seconds: float


def zoom(x: torch.Tensor, shape) -> torch.Tensor:
    """The seeds' octave resize: plain bilinear (``scipy.ndimage.zoom(order=1)``), no antialiasing."""
    return resize(x, shape, antialias=False)


def octave_shapes(height: int, width: int, octaves: int, scale: float) -> list[tuple[int, int]]:
    """The seeds' successive shapes, smallest first: original / scale**i for i = octaves-1 .. 0."""
    shapes = [(max(1, round(height / scale**i)), max(1, round(width / scale**i))) for i in range(octaves)]
    return shapes[::-1]


def make_objective(net: FeatureNetwork, weights: dict[str, float], border: int,
                   guide_feats: dict[str, torch.Tensor] | None = None) -> Objective:
    if guide_feats is None:
        return Objective(weights, lambda layer, act: dream_score_map(act), border,
                         lambda layer, act: float(act.numel()))
    return Objective(weights, lambda layer, act: guide_score_map(act, guide_feats[layer]), border,
                     lambda layer, act: float(act.shape[0] * act.shape[-2] * act.shape[-1]))


def gradient(net: FeatureNetwork, x: torch.Tensor, obj: Objective, cfg: DreamConfig) -> tuple[float, torch.Tensor]:
    if cfg.tile_size and (x.shape[-1] > cfg.tile_size or x.shape[-2] > cfg.tile_size):
        return tiled_gradient(net, x, obj, tile_size=cfg.tile_size, margin=cfg.tile_margin)
    return full_gradient(net, x, obj)


def gradient_ascent(net: FeatureNetwork, x: torch.Tensor, obj: Objective, cfg: DreamConfig,
                    gen: torch.Generator, losses: list[float], bar=None) -> torch.Tensor:
    for _ in range(cfg.steps):
        dy = dx = 0
        if cfg.jitter:
            dy, dx = (int(v) for v in torch.randint(-cfg.jitter, cfg.jitter + 1, (2,), generator=gen))
            x = torch.roll(x, (dy, dx), dims=(-2, -1))
        loss, grad = gradient(net, x, obj, cfg)
        if cfg.jitter:
            x, grad = torch.roll(x, (-dy, -dx), dims=(-2, -1)), torch.roll(grad, (-dy, -dx), dims=(-2, -1))
        losses.append(loss)
        if bar is not None:
            bar.update(1)
            bar.set_postfix(loss=f"{loss:.4g}")
        if cfg.max_loss is not None and loss > cfg.max_loss:
            break
        x = x + cfg.step_size * normalize_gradient(grad)
    return x


def deepdream(image: str | Path | torch.Tensor, config: DreamConfig | None = None, *, out: str | Path | None = None,
              net: FeatureNetwork | None = None, progress: bool = True, write: bool = True) -> DreamResult:
    """Dream on ``image`` (a path or a ``(1, C, H, W)`` [0, 1] tensor); writes ``out`` unless ``write=False``."""
    cfg = config or DreamConfig()
    t0 = time.perf_counter()
    weights = parse_layer_weights(cfg.layers)
    device = resolve_device(cfg.device)
    # images first: a bad file fails before the network is built
    if isinstance(image, torch.Tensor):
        original, source = image.detach().float(), "tensor"
    else:
        original, source = load_input_image(image, size=cfg.size, max_pixels=cfg.max_pixels), str(image)
    guide = None
    if cfg.guide:
        guide = load_input_image(cfg.guide, size=cfg.size or max(original.shape[-2:]), max_pixels=cfg.max_pixels)
    if net is None:
        net = load_feature_network(cfg.model, weights=cfg.weights, layers=list(weights), seed=cfg.seed, device=device)
    weights = {net.resolve(k): v for k, v in weights.items() if v > 0}
    # nothing after the deepest used layer is ever run; frozen BatchNorms are folded into their convolutions
    net = net.truncated(list(weights)).fold_batchnorm().to(device)
    if cfg.channels_last:
        net = net.to(memory_format=torch.channels_last)
    original = _to_channels(original, net.in_channels).to(device)
    guide_feats = None
    if guide is not None:
        g = _to_channels(guide, net.in_channels).to(device)
        with torch.no_grad():
            guide_feats = {k: v.detach() for k, v in net(net.normalize(g), list(weights)).items()}
    obj = make_objective(net, weights, cfg.border, guide_feats)

    gen = torch.Generator().manual_seed(cfg.seed)
    x_orig = net.normalize(original)  # the seeds dream in the network's input space (Inception: [-1, 1])
    shapes = octave_shapes(*x_orig.shape[-2:], cfg.octaves, cfg.octave_scale)
    losses: list[float] = []
    octave_images: list[torch.Tensor] = []
    marks: list[int] = []
    x = zoom(x_orig, shapes[0])
    shrunk_original = x.clone()
    bar = _progress(cfg.steps * len(shapes), progress)
    for shape in shapes:
        x = zoom(x, shape)
        if cfg.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        x = gradient_ascent(net, x, obj, cfg, gen, losses, bar)
        # re-inject the detail lost when the original was shrunk to the smallest octave
        lost_detail = zoom(x_orig, shape) - zoom(shrunk_original, shape)
        x = x + lost_detail
        shrunk_original = zoom(x_orig, shape)
        octave_images.append(net.denormalize(x).clamp(0, 1).detach().cpu())
        marks.append(len(losses))
    if bar is not None:
        bar.close()
    result_img = net.denormalize(x).clamp(0, 1).detach().cpu().contiguous()
    seconds = time.perf_counter() - t0
    out_dir = None
    if write:
        out_dir = Path(out) if out else default_out_dir("dream", Path(source).stem or "image")
        _write(out_dir, result_img, octave_images, losses, marks[:-1], cfg, net, source, seconds, shapes)
    return DreamResult(result_img, losses, octave_images, out_dir, seconds)


def _to_channels(x: torch.Tensor, channels: int) -> torch.Tensor:
    """RGB -> grey (ITU-R 601 luma) for a one-channel network, e.g. genlab's MNIST classifier."""
    if channels == 1 and x.shape[1] == 3:
        return (x * torch.tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1)).sum(dim=1, keepdim=True)
    if channels == 3 and x.shape[1] == 1:
        return x.expand(-1, 3, -1, -1)
    return x


def _progress(total: int, enabled: bool):
    if not enabled or total == 0:
        return None
    from tqdm import tqdm
    return tqdm(total=total, desc="dream", unit="step", leave=False)


def _write(out_dir: Path, image, octave_images, losses, marks, cfg, net, source, seconds, shapes) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    save_image(image, out_dir / "dream.png")
    final = image.shape[-2:]
    save_row_figure([resize(o, final) for o in octave_images],
                    [f"octave {i + 1}: {s[1]}x{s[0]}" for i, s in enumerate(shapes)], out_dir / "octaves.png")
    if losses:
        save_loss_curve(losses, out_dir / "loss.png", title="DeepDream objective (octaves split by dashes)",
                        marks=marks)
    write_metadata(out_dir, {"kind": "deepdream", "input": source, "config": to_dict(cfg),
                             "weights": net.weights_info.to_dict(), "model": net.model_name,
                             "layers": parse_layer_weights(cfg.layers), "octave_shapes": shapes, "losses": losses,
                             "final_loss": losses[-1] if losses else None, "seconds": round(seconds, 3)})
