"""Inputs and outputs shared by the pixel-optimisation tools (DeepDream, visualisation, style transfer):
loading a user image at a working size, and writing an output folder (image, metadata JSON, loss curve, figures)."""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F

from ..core.errors import ConfigError
from ..core.io import ensure_dir, write_json_atomic
from ..data.images import DEFAULT_MAX_PIXELS, image_to_tensor, load_image
from ..viz.grid import save_image_grid


def check_size(size: int | None, *, what: str = "--size", minimum: int = 8) -> None:
    if size is None:
        return
    if isinstance(size, bool) or not isinstance(size, int) or size < minimum:
        raise ConfigError(f"{what} must be an integer >= {minimum} (got {size})")


def load_input_image(path: str | os.PathLike, *, size: int | None = None, mode: str = "RGB",
                     max_pixels: int | None = DEFAULT_MAX_PIXELS) -> torch.Tensor:
    """``path`` as a ``(1, C, H, W)`` float image in [0, 1], resized (aspect kept) so its longer side is ``size``."""
    img = load_image(path, mode=mode, max_pixels=max_pixels)
    x = image_to_tensor(img).unsqueeze(0)
    return resize_longer_side(x, size) if size else x


def resize_longer_side(x: torch.Tensor, size: int) -> torch.Tensor:
    h, w = x.shape[-2:]
    scale = size / max(h, w)
    shape = (max(1, round(h * scale)), max(1, round(w * scale)))
    return resize(x, shape)


def resize(x: torch.Tensor, shape: Sequence[int], *, antialias: bool | None = None) -> torch.Tensor:
    """Bilinear resize; antialiased when shrinking unless ``antialias=False`` (the seeds'
    ``scipy.ndimage.zoom(order=1)``, which DeepDream's octaves follow)."""
    shape = tuple(int(s) for s in shape)
    if tuple(x.shape[-2:]) == shape:
        return x
    shrink = shape[0] < x.shape[-2] or shape[1] < x.shape[-1]
    aa = shrink if antialias is None else (antialias and shrink)
    return F.interpolate(x, size=shape, mode="bilinear", align_corners=False, antialias=aa)


def default_out_dir(kind: str, stem: str) -> Path:
    return Path("runs") / kind / f"{stem}-{time.strftime('%Y%m%d-%H%M%S')}"


def save_image(image: torch.Tensor, path: str | os.PathLike) -> Path:
    """One ``(1, C, H, W)`` or ``(C, H, W)`` [0, 1] image as a PNG (atomically)."""
    if image.ndim == 3:
        image = image.unsqueeze(0)
    return save_image_grid(image[:1], path, nrow=1, padding=0)


def save_loss_curve(losses: Sequence[float], path: str | os.PathLike, *, title: str, ylabel: str = "loss",
                    marks: Sequence[int] = (), log: bool = False) -> Path:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.plot(range(1, len(losses) + 1), list(losses))
    for m in marks:
        ax.axvline(m + 0.5, color="grey", lw=0.8, ls="--")
    ax.set_xlabel("step")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    if log and all(v > 0 for v in losses):
        ax.set_yscale("log")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return Path(path)


def save_row_figure(images: Sequence[torch.Tensor], titles: Sequence[str], path: str | os.PathLike) -> Path:
    """Images side by side with titles (the seeds' content | style | result figure, or each octave)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(images), figsize=(3.2 * len(images), 3.4), squeeze=False)
    for ax, img, title in zip(axes[0], images, titles, strict=True):
        img = img.detach().float().cpu().clamp(0, 1)
        img = img[0] if img.ndim == 4 else img
        if img.shape[0] == 1:
            ax.imshow(img[0].numpy(), cmap="gray", vmin=0, vmax=1)
        else:
            ax.imshow(img.permute(1, 2, 0).numpy())
        ax.set_title(title, fontsize=9)
        ax.axis("off")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return Path(path)


def write_metadata(out_dir: str | os.PathLike, meta: dict[str, Any], *, quiet: bool = False) -> Path:
    """``OUT/metadata.json`` (config, weights with sha256 or the 'random' mark, losses, timings); prints the weights."""
    path = write_json_atomic(Path(ensure_dir(out_dir)) / "metadata.json", meta)
    if not quiet and "weights" in meta:
        print(f"weights: {meta['weights'].get('description', meta['weights'])}")
    return path


def save_labelled_grid(images: torch.Tensor, labels: Sequence[str], path: str | os.PathLike, *, ncol: int = 8,
                       title: str | None = None) -> Path:
    """``(N, C, H, W)`` [0, 1] images in a grid, each with its label above it (e.g. "channel 5"), as a PNG."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = len(images)
    ncol = max(1, min(ncol, n))
    nrow = -(-n // ncol)
    fig, axes = plt.subplots(nrow, ncol, figsize=(1.6 * ncol, 1.6 * nrow + (0.3 if title else 0)), squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i >= n:
            continue
        img = images[i].detach().float().cpu().clamp(0, 1)
        if img.shape[0] == 1:
            ax.imshow(img[0].numpy(), cmap="gray", vmin=0, vmax=1)
        else:
            ax.imshow(img.permute(1, 2, 0).numpy())
        ax.set_title(labels[i], fontsize=8)
    if title:
        fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return Path(path)
