"""Neural style transfer by optimising pixels (Gatys, Ecker & Bethge 2016), as the seeds teach it, plus Adam,
several blended styles, luminance-only transfer and coarse-to-fine scales.

    >>> result = style_transfer("photo.jpg", ["starry.jpg"], StyleConfig(weights="imagenet"), out="runs/style/x")
    >>> result.image        # (1, 3, H, W) in [0, 1]; OUT/ holds result.png, figure.png, loss.png, metadata.json

What makes it fast (benchmarks/style_gatys.py): the style Gram matrices and the content features are computed once
per scale, not every step; only the generated image goes through the network (not a batch of three); the network
is cut after its deepest used layer (block5_conv2: no block5_conv3/4 or pool); channels-last convolutions.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import torch

from ..core.config import cfg_field, check_choice, check_int, check_non_negative, check_positive, to_dict
from ..core.device import resolve_device
from ..core.errors import ConfigError
from ..data.images import DEFAULT_MAX_PIXELS
from ..features import FeatureNetwork, load_feature_network, parse_layer_weights
from ..features.output import (check_size, load_input_image, resize, save_image, save_loss_curve, save_row_figure,
                               write_metadata)
from .common import (Progress, StopRequest, check_image_fits, graceful_stop, output_file, output_folder,
                     stop_message)
from .style_losses import (content_loss, gram_matrix, match_luminance, rgb_to_yiq, style_loss, total_variation_loss,
                     yiq_to_rgb)

BOOK_STYLE_LAYERS = "block1_conv1:0.2,block2_conv1:0.2,block3_conv1:0.2,block4_conv1:0.2,block5_conv1:0.2"


@dataclass
class StyleConfig:
    model: str = cfg_field("vgg19", help="feature network (vgg19 as in the seeds; vgg16, googlenet, inception_v3)")
    weights: str = cfg_field("imagenet", help="imagenet | random | a state_dict FILE (.pth/.safetensors)")
    content_layer: str = cfg_field("block5_conv2", help="layer whose features the result keeps from the content")
    style_layers: str = cfg_field(BOOK_STYLE_LAYERS, help="style layers with their weights NAME:WEIGHT,...")
    content_weight: float = cfg_field(1.0, help="weight of the content loss")
    style_weight: float = cfg_field(1e6, help="weight of the style loss (Grams normalised by C*H*W)")
    tv_weight: float = cfg_field(1.0, help="weight of the total-variation loss")
    style_blend: str | None = cfg_field(None, help="weights of several style images, e.g. 0.7,0.3 (default: equal)")
    optimizer: Literal["lbfgs", "adam"] = cfg_field("lbfgs", help="L-BFGS (the seeds) or Adam")
    lr: float = cfg_field(0.02, help="Adam learning rate (pixels in [0, 1]); L-BFGS uses 1 with a line search")
    init: Literal["content", "noise"] = cfg_field("content", help="start from the content image or from noise")
    preserve_color: bool = cfg_field(False, help="transfer luminance only and keep the content's colours")
    scales: int = cfg_field(1, help="coarse-to-fine: optimise at size/2**k, ..., size, each for --evaluations")
    size: int = cfg_field(256, help="longer side of the result in pixels")
    evaluations: int = cfg_field(300, help="loss evaluations (forward+backward passes) per scale; L-BFGS makes "
                                           "one or more per iteration (its line search), Adam exactly one")
    max_pixels: int = cfg_field(DEFAULT_MAX_PIXELS, help="refuse input images with more pixels than this")
    seed: int = cfg_field(0, help="random seed (noise init, random weights)")
    device: str = cfg_field("auto", help="auto|cpu|cuda|mps (auto: CUDA, then MPS, then CPU)")
    channels_last: bool = cfg_field(True, help="channels-last convolutions (faster on CPU)")

    def __post_init__(self) -> None:
        for name in ("content_weight", "style_weight", "tv_weight"):
            check_non_negative(name, getattr(self, name))
        check_choice("optimizer", self.optimizer, ("lbfgs", "adam"))
        check_choice("init", self.init, ("content", "noise"))
        check_positive("lr", self.lr)
        check_positive("scales", self.scales)
        check_size(self.size)
        check_positive("max_pixels", self.max_pixels)
        check_int("evaluations", self.evaluations, 0)
        parse_layer_weights(self.style_layers, what="--style-layers")
        if self.style_blend is not None:
            blend_weights(self.style_blend, None)
        if self.size / 2 ** (self.scales - 1) < 16:
            raise ConfigError(f"--scales {self.scales} at --size {self.size} makes the coarsest scale below 16 px")


def blend_weights(text: str | None, n: int | None) -> list[float]:
    if text is None:
        return [1.0 / n] * n if n else []
    try:
        values = [float(v) for v in str(text).split(",") if v.strip()]
    except ValueError:
        raise ConfigError(f"--style-blend {text!r} must be numbers like 0.7,0.3") from None
    if not values or any(not v >= 0 for v in values) or sum(values) <= 0:
        raise ConfigError(f"--style-blend {text!r} must be numbers >= 0 with a positive sum")
    if n is not None and len(values) != n:
        raise ConfigError(f"--style-blend has {len(values)} weights for {n} style images")
    total = sum(values)
    return [v / total for v in values]


@dataclass
class StyleResult:
    image: torch.Tensor
    losses: list[float]
    final_loss: float
    out_dir: Path | None
    seconds: float
    path: Path | None = None  # the result image written: --output FILE, else OUT/result.png
    interrupted: str | None = None  # "SIGINT" / "SIGTERM" when a signal stopped it; the best image so far is written


class StyleObjective:
    """content + style + TV loss of an image, with every target computed once (at construction)."""

    def __init__(self, net: FeatureNetwork, cfg: StyleConfig, content: torch.Tensor, styles: Sequence[torch.Tensor],
                 blend: Sequence[float]) -> None:
        self.net, self.cfg = net, cfg
        self.style_layers = {net.resolve(k): v for k, v in parse_layer_weights(
            cfg.style_layers, what="--style-layers").items() if v > 0}
        self.content_layer = net.resolve(cfg.content_layer)
        self.layers = list(dict.fromkeys([*self.style_layers, self.content_layer]))
        with torch.no_grad():
            self.content_target = self.features(content)[self.content_layer].detach()
            self.gram_targets = {k: 0.0 for k in self.style_layers}
            for s, w in zip(styles, blend, strict=True):  # several styles: a blend of their Gram matrices
                feats = self.features(s)
                for k in self.style_layers:
                    self.gram_targets[k] = self.gram_targets[k] + w * gram_matrix(feats[k]).detach()

    def features(self, image: torch.Tensor) -> dict[str, torch.Tensor]:
        x = self.net.normalize(image)
        if self.cfg.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        return self.net(x, self.layers)

    def __call__(self, image: torch.Tensor, content_target: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        """The losses of ``image``; ``content_target`` overrides the cached content features (fast style training
        compares each stylised batch with its own input)."""
        feats = self.features(image)
        target = self.content_target if content_target is None else content_target
        c = content_loss(feats[self.content_layer], target)
        s = sum(w * style_loss(feats[k], self.gram_targets[k]) for k, w in self.style_layers.items())
        tv = total_variation_loss(image)
        total = self.cfg.content_weight * c + self.cfg.style_weight * s + self.cfg.tv_weight * tv
        return {"loss": total, "content": c, "style": s, "tv": tv}


class _BudgetSpent(Exception):
    pass


def optimise(objective: StyleObjective, start: torch.Tensor, cfg: StyleConfig, losses: list[float],
             bar: Progress | None = None, stop: StopRequest | None = None) -> torch.Tensor:
    """Exactly ``cfg.evaluations`` loss evaluations of L-BFGS (strong-Wolfe line search) or Adam on the pixels
    (fewer when ``stop`` is requested); returns the best image evaluated (a line search's last trial point may be
    worse than its start)."""
    x = start.detach().clone().requires_grad_(True)
    best = {"loss": float("inf"), "x": x.detach().clone()}
    budget = cfg.evaluations
    if budget == 0:
        return best["x"]

    def closure() -> torch.Tensor:
        if len(losses) - first >= budget or stop:
            raise _BudgetSpent
        opt.zero_grad(set_to_none=True)
        loss = objective(x)["loss"]
        loss.backward()
        value = float(loss.detach())
        losses.append(value)
        if value < best["loss"]:
            best["loss"], best["x"] = value, x.detach().clone()
        if bar is not None:
            bar.update(loss=value)
        return loss

    first = len(losses)
    if cfg.optimizer == "lbfgs":
        opt = torch.optim.LBFGS([x], lr=1.0, max_iter=budget, max_eval=10 * budget, history_size=50,
                                tolerance_grad=0.0, tolerance_change=0.0, line_search_fn="strong_wolfe")
        try:
            while len(losses) - first < budget:  # L-BFGS may stop early on a flat spot: restart it
                before = len(losses)
                opt.step(closure)
                if len(losses) == before:
                    break
        except _BudgetSpent:
            pass
    else:
        opt = torch.optim.Adam([x], lr=cfg.lr)
        try:
            for _ in range(budget):
                opt.step(closure)
        except _BudgetSpent:
            pass
    return best["x"]


def _layers(cfg: StyleConfig) -> list[str]:
    return [cfg.content_layer, *parse_layer_weights(cfg.style_layers, what="--style-layers")]


def _load_net(cfg: StyleConfig, device: torch.device) -> FeatureNetwork:
    return load_feature_network(cfg.model, weights=cfg.weights, layers=_layers(cfg), seed=cfg.seed, device=device)


def style_transfer(content: str | Path | torch.Tensor, styles: Sequence[str | Path | torch.Tensor],
                   config: StyleConfig | None = None, *, out: str | Path | None = None,
                   output: str | Path | None = None, net: FeatureNetwork | None = None, progress: bool = True,
                   write: bool = True) -> StyleResult:
    """Render ``content`` in the style of ``styles`` (paths or ``(1, 3, H, W)`` [0, 1] tensors).

    Writes ``out/`` (result.png, figure.png: content | styles | result, loss.png, metadata.json; default
    ``runs/style/<content>-<time>``) unless ``write=False``; ``output`` names the result image's file. Both are
    checked before any work; Ctrl-C / SIGTERM stop after the current evaluation and write the best image so far.
    """
    cfg = config or StyleConfig()
    if not styles:
        raise ConfigError("give at least one style image")
    blend = blend_weights(cfg.style_blend, len(styles))
    t0 = time.perf_counter()
    out_dir = image_path = None
    if write:  # outputs first: a bad path fails before the work
        image_path = output_file(output)
        stem = Path(content).stem if not isinstance(content, torch.Tensor) else "image"
        out_dir = output_folder(out, kind="style", stem=stem)
    device = resolve_device(cfg.device)
    content_img = _as_image(content, cfg).to(device)  # images first: a bad file fails before the network is built
    style_imgs = [_as_image(s, cfg).to(device) for s in styles]
    net = (net or _load_net(cfg, device)).to(device)
    net = net.truncated(_layers(cfg))  # nothing after the deepest used layer (block5_conv2) is ever run
    if net.in_channels != 3:
        raise ConfigError("style transfer needs an RGB feature network (vgg16, vgg19, googlenet, inception_v3)")
    coarse = 2 ** (cfg.scales - 1)
    hint = "use a larger image or --size" + (", or fewer --scales" if cfg.scales > 1 else "")
    for what, img in (("the content image", content_img), *((f"style image {i + 1}", s) for i, s in
                                                           enumerate(style_imgs))):
        h, w = (max(1, round(d / coarse)) for d in img.shape[-2:])
        check_image_fits(net, h, w, what=what + (" at the coarsest scale" if coarse > 1 else ""), hint=hint)
    if cfg.channels_last:
        net = net.to(memory_format=torch.channels_last)
    if cfg.preserve_color:
        content_yiq = rgb_to_yiq(content_img)
        y = content_yiq[:, :1]
        content_work = y.expand(-1, 3, -1, -1)
        style_work = [match_luminance(rgb_to_yiq(s)[:, :1], y).expand(-1, 3, -1, -1) for s in style_imgs]
    else:
        content_work, style_work = content_img, style_imgs

    gen = torch.Generator().manual_seed(cfg.seed)
    losses: list[float] = []
    marks: list[int] = []
    bar = Progress(cfg.evaluations * cfg.scales, "style", "eval", progress)
    x = None
    final = {}
    with graceful_stop(message=stop_message("the style transfer")) as stop:
        for k in reversed(range(cfg.scales)):
            shape = [max(1, round(s / 2**k)) for s in content_work.shape[-2:]]
            c_k = resize(content_work, shape)
            s_k = [resize(s, [max(1, round(d / 2**k)) for d in s.shape[-2:]]) for s in style_work]
            objective = StyleObjective(net, cfg, c_k, s_k, blend)
            if x is None:
                x = c_k if cfg.init == "content" else torch.rand(c_k.shape, generator=gen).to(device)
            else:
                x = resize(x, shape)  # coarse-to-fine: the coarse result starts the finer scale
            x = optimise(objective, x, cfg, losses, bar, stop)
            marks.append(len(losses))
            with torch.no_grad():
                final = {k2: float(v) for k2, v in objective(x).items()}
            if stop:
                break
    bar.close()
    result = x.clamp(0, 1)
    if cfg.preserve_color:
        yiq = rgb_to_yiq(resize(content_img, result.shape[-2:]))
        result = yiq_to_rgb(torch.cat([result.mean(dim=1, keepdim=True), yiq[:, 1:]], dim=1)).clamp(0, 1)
    result = result.detach().cpu().contiguous()
    seconds = time.perf_counter() - t0
    if write:
        out_dir.mkdir(parents=True, exist_ok=True)
        image_path = image_path or out_dir / "result.png"
        image_path.parent.mkdir(parents=True, exist_ok=True)
        save_image(result, image_path)
        save_row_figure([content_img, *style_imgs, result], ["content", *[f"style {i + 1} ({w:.2f})" for i, w in
                        enumerate(blend)], "result"], out_dir / "figure.png")
        if losses:
            save_loss_curve(losses, out_dir / "loss.png", title="style transfer loss", marks=marks[:-1], log=True)
        write_metadata(out_dir, {
            "kind": "style", "content": _name(content), "styles": [_name(s) for s in styles], "blend": blend,
            "config": to_dict(cfg), "model": net.model_name, "weights": net.weights_info.to_dict(),
            "image": str(image_path), "final": final, "losses": losses, "interrupted": stop.name or None,
            "device": str(device), "seconds": round(seconds, 3)})
    return StyleResult(result, losses, final.get("loss", float("nan")), out_dir, seconds, image_path, stop.name or None)


def _name(x) -> str:
    return "tensor" if isinstance(x, torch.Tensor) else str(x)


def _as_image(x: str | Path | torch.Tensor, cfg: StyleConfig) -> torch.Tensor:
    if isinstance(x, torch.Tensor):
        return x.detach().float()
    return load_input_image(x, size=cfg.size, max_pixels=cfg.max_pixels)
