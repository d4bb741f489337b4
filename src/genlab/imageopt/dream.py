"""DeepDream (Mordvintsev et al. 2015) as the seeds teach it, plus jitter, tiles and a guide image.

    >>> result = deepdream("photo.jpg", DreamConfig(weights="imagenet"), out="runs/dream/photo")
    >>> result.image            # (1, 3, H, W) in [0, 1]; OUT/ holds dream.png, octaves.png, loss.png, metadata.json

Per octave (3 octaves at scale 1.4, smallest first): ``steps_per_octave`` gradient-ascent steps on the network input of
``step_size`` times the gradient divided by its mean absolute value, stopping the octave when the loss passes
``max_loss``; then upscale and re-inject the detail lost by shrinking the original.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import torch

from ..core.config import cfg_field, check_int, check_non_negative, check_positive, to_dict
from ..core.device import resolve_device
from ..core.errors import ConfigError
from ..data.images import DEFAULT_MAX_PIXELS
from ..features import FeatureNetwork, load_feature_network, parse_layer_weights
from ..features.output import (check_size, load_input_image, resize, save_image, save_loss_curve, save_row_figure,
                               write_metadata)
from .common import (Progress, StopRequest, check_image_fits, graceful_stop, output_file, output_folder,
                     stop_message)
from .dream_losses import dream_score_map, guide_score_map, normalize_gradient
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
    steps_per_octave: int = cfg_field(20, help="gradient-ascent steps per octave")
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
    device: str = cfg_field("auto", help="auto|cpu|cuda|mps (auto: CUDA, then MPS, then CPU)")
    channels_last: bool = cfg_field(True, help="channels-last convolutions (~1.3x faster per step on CPU; results "
                                               "equal up to float rounding)")

    def __post_init__(self) -> None:
        check_int("octaves", self.octaves, 1)
        check_positive("octave_scale", self.octave_scale)
        check_int("steps_per_octave", self.steps_per_octave, 0)
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
    out_dir: Path | None  # the folder of the figures and metadata (None with write=False)
    seconds: float
    notes: list[str] = field(default_factory=list)  # why octaves ended early (--max-loss, Ctrl-C / SIGTERM)
    path: Path | None = None  # the dream image written: --output FILE, else OUT/dream.png
    interrupted: str | None = None  # "SIGINT" / "SIGTERM" when a signal stopped it; what was done is written


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


def gradient_ascent(net: FeatureNetwork, x: torch.Tensor, obj: Objective, cfg: DreamConfig, gen: torch.Generator,
                    losses: list[float], bar: Progress | None = None,
                    stop: StopRequest | None = None) -> tuple[torch.Tensor, str | None]:
    """One octave's steps; returns the image and why it ended early (None when it ran all its steps)."""
    for i in range(cfg.steps_per_octave):
        if stop:
            return x, f"stopped by {stop.name} after {len(losses)} steps"
        dy = dx = 0
        if cfg.jitter:
            dy, dx = (int(v) for v in torch.randint(-cfg.jitter, cfg.jitter + 1, (2,), generator=gen))
            x = torch.roll(x, (dy, dx), dims=(-2, -1))
        loss, grad = gradient(net, x, obj, cfg)
        if cfg.jitter:
            x, grad = torch.roll(x, (-dy, -dx), dims=(-2, -1)), torch.roll(grad, (-dy, -dx), dims=(-2, -1))
        losses.append(loss)
        if bar is not None:
            bar.update(loss=loss)
        if cfg.max_loss is not None and loss > cfg.max_loss:
            return x, (f"--max-loss {cfg.max_loss:g} reached at step {i + 1} of {cfg.steps_per_octave} "
                       f"(loss {loss:.4g})")
        x = x + cfg.step_size * normalize_gradient(grad)
    return x, None


def deepdream(image: str | Path | torch.Tensor, config: DreamConfig | None = None, *, out: str | Path | None = None,
              output: str | Path | None = None, net: FeatureNetwork | None = None, progress: bool = True,
              write: bool = True) -> DreamResult:
    """Dream on ``image`` (a path or a ``(1, C, H, W)`` [0, 1] tensor).

    Writes ``out/`` (dream.png, octaves.png, loss.png, metadata.json; default ``runs/dream/<image>-<time>``) unless
    ``write=False``; ``output`` puts the dream image at exactly that file (the figures still go to ``out``). Both are
    checked before any work. Ctrl-C / SIGTERM stop after the current step and write what is done.
    """
    cfg = config or DreamConfig()
    t0 = time.perf_counter()
    weights = parse_layer_weights(cfg.layers)
    source = "tensor" if isinstance(image, torch.Tensor) else str(image)
    out_dir = image_path = None
    if write:  # outputs first: a bad path fails before the work, not after it
        image_path = output_file(output)
        out_dir = output_folder(out, kind="dream", stem=Path(source).stem or "image")
    device = resolve_device(cfg.device)
    # images next: a bad file fails before the network is built
    if isinstance(image, torch.Tensor):
        original = image.detach().float()
    else:
        original = load_input_image(image, size=cfg.size, max_pixels=cfg.max_pixels)
    guide = None
    if cfg.guide:
        guide = load_input_image(cfg.guide, size=cfg.size or max(original.shape[-2:]), max_pixels=cfg.max_pixels)
    if net is None:
        net = load_feature_network(cfg.model, weights=cfg.weights, layers=list(weights), seed=cfg.seed, device=device)
    weights = {net.resolve(k): v for k, v in weights.items() if v > 0}
    # nothing after the deepest used layer is ever run; frozen BatchNorms are folded into their convolutions
    net = net.truncated(list(weights)).fold_batchnorm().to(device)
    shapes = octave_shapes(*original.shape[-2:], cfg.octaves, cfg.octave_scale)
    check_image_fits(net, *shapes[0], what="the smallest octave" if cfg.octaves > 1 else "the image",
                     hint="use a larger image or --size" + (", or fewer --octaves" if cfg.octaves > 1 else ""))
    if guide is not None:
        check_image_fits(net, *guide.shape[-2:], what="the guide image", hint="use a larger guide image")
    if cfg.tile_size and max(shapes[-1]) > cfg.tile_size:
        _check_tile_margin(net, list(weights), cfg)
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
    losses: list[float] = []
    octave_images: list[torch.Tensor] = []
    marks: list[int] = []
    notes: list[str] = []
    x = zoom(x_orig, shapes[0])
    shrunk_original = x.clone()
    bar = Progress(cfg.steps_per_octave * len(shapes), "dream", "step", progress)
    with graceful_stop(message=stop_message("the dream")) as stop:
        for k, shape in enumerate(shapes):
            x = zoom(x, shape)
            if cfg.channels_last:
                x = x.contiguous(memory_format=torch.channels_last)
            # once stopped, the remaining octaves take no steps: only the upscaling and the detail re-injection,
            # so what is written is the partial dream at the full size
            if not stop:
                x, why = gradient_ascent(net, x, obj, cfg, gen, losses, bar, stop)
                if why:
                    notes.append(f"octave {k + 1} ({shape[1]}x{shape[0]}): {why}")
            # re-inject the detail lost when the original was shrunk to the smallest octave
            lost_detail = zoom(x_orig, shape) - zoom(shrunk_original, shape)
            x = x + lost_detail
            shrunk_original = zoom(x_orig, shape)
            octave_images.append(net.denormalize(x).clamp(0, 1).detach().cpu())
            marks.append(len(losses))
    bar.close()
    result_img = net.denormalize(x).clamp(0, 1).detach().cpu().contiguous()
    seconds = time.perf_counter() - t0
    if write:
        image_path = image_path or out_dir / "dream.png"
        _write(out_dir, image_path, result_img, octave_images, losses, marks[:-1], cfg, net, source, seconds,
               shapes, notes, stop.name or None)
    return DreamResult(result_img, losses, octave_images, out_dir, seconds, notes, image_path, stop.name or None)


def _check_tile_margin(net: FeatureNetwork, layers: list[str], cfg: DreamConfig) -> None:
    """A tile at the image's far edge is computed on its margin plus as little as one pixel of core, so the margin
    (rounded up to the deepest stride, as :func:`tiled_gradient` does) must cover the network's smallest input."""
    minimum = net.min_input_size()
    align = max(net.strides(layers).values())
    margin = -(-cfg.tile_margin // align) * align
    if margin + 1 < minimum:
        raise ConfigError(f"--tile-margin {cfg.tile_margin} is too small for {net.model_name} up to {net.names[-1]}: "
                          f"edge tiles are computed on the margin plus >= 1 px and the network needs {minimum} px; "
                          f"use --tile-margin {minimum} or more")


def _to_channels(x: torch.Tensor, channels: int) -> torch.Tensor:
    """RGB -> grey (ITU-R 601 luma) for a one-channel network, e.g. genlab's MNIST classifier."""
    if channels == 1 and x.shape[1] == 3:
        return (x * torch.tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1)).sum(dim=1, keepdim=True)
    if channels == 3 and x.shape[1] == 1:
        return x.expand(-1, 3, -1, -1)
    return x


def _write(out_dir: Path, image_path: Path, image, octave_images, losses, marks, cfg, net, source, seconds, shapes,
           notes, interrupted) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    image_path.parent.mkdir(parents=True, exist_ok=True)
    save_image(image, image_path)
    final = image.shape[-2:]
    if octave_images:
        save_row_figure([resize(o, final) for o in octave_images],
                        [f"octave {i + 1}: {s[1]}x{s[0]}" for i, s in zip(range(len(octave_images)), shapes)],
                        out_dir / "octaves.png")
    if losses:
        save_loss_curve(losses, out_dir / "loss.png", title="DeepDream objective (octaves split by dashes)",
                        marks=marks)
    write_metadata(out_dir, {"kind": "deepdream", "input": source, "image": str(image_path), "config": to_dict(cfg),
                             "weights": net.weights_info.to_dict(), "model": net.model_name,
                             "layers": parse_layer_weights(cfg.layers), "octave_shapes": shapes, "losses": losses,
                             "final_loss": losses[-1] if losses else None, "notes": notes,
                             "interrupted": interrupted, "device": str(net.mean.device),
                             "seconds": round(seconds, 3)})
