"""Image grids (torchvision's ``make_grid``), saved as PNG atomically."""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from ..core.errors import ConfigError
from ..core.io import atomic_write


def tensor_to_pil(image: torch.Tensor) -> Image.Image:
    """A (C, H, W) float image in [0, 1] (C = 1 or 3) as a PIL image."""
    array = (image.detach().float().clamp(0, 1) * 255).round().to(torch.uint8).cpu()
    if array.shape[0] == 1:
        return Image.fromarray(array[0].numpy(), mode="L")
    return Image.fromarray(np.ascontiguousarray(array.permute(1, 2, 0).numpy()), mode="RGB")


def save_image_grid(images: torch.Tensor, path: str | os.PathLike, *, nrow: int | None = None, padding: int = 2,
                    pad_value: float = 1.0) -> Path:
    """Save a batch (N, C, H, W) of [0, 1] images as one PNG grid, ``nrow`` per row (default: square-ish)."""
    from torchvision.utils import make_grid

    if images.ndim != 4 or images.shape[1] not in (1, 3):
        raise ConfigError(f"expected images shaped (N, 1 or 3, H, W), got {tuple(images.shape)}")
    nrow = nrow or max(1, math.ceil(math.sqrt(images.shape[0])))
    grid = make_grid(images.detach().float().cpu().clamp(0, 1), nrow=nrow, padding=padding, pad_value=pad_value)
    if images.shape[1] == 1:
        grid = grid[:1]  # make_grid repeats grey to 3 channels; keep the file grey
    path = Path(path)
    with atomic_write(path) as tmp:
        fmt = Image.registered_extensions().get(path.suffix.lower(), "PNG")
        tensor_to_pil(grid).save(tmp, format=fmt)
    return path
