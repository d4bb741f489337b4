"""Gradients of a sum-over-positions objective, whole or tile by tile with bounded memory.

The objective is ``sum_l w_l / N_l * sum_{positions p of layer l inside the border} score_l(act_l)[p]``. Tiles
partition the *activation positions*: a tile owns the positions whose input coordinate (``index * stride``) falls
in its core, and is computed on its core plus a ``margin`` of context (crop starts aligned to the largest stride so
activation grids line up). When the margin covers the receptive field of the deepest layer, every owned activation
equals the whole-image one and the tiled gradient is exactly the untiled one; with a smaller margin (large images,
deep layers) positions near tile edges see less context — the approximation TF's DeepDream tutorial makes, whose
seams the random roll per step hides.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

from ..features.network import FeatureNetwork
from .dream_losses import crop_border

ScoreFn = Callable[[str, torch.Tensor], torch.Tensor]  # (layer, activation) -> (B, h, w) per-position scores


@dataclass
class Objective:
    """Layer weights, a score map per layer, the border cut and each layer's normaliser (``N_l``)."""

    weights: dict[str, float]
    score: ScoreFn
    border: int
    normalizer: Callable[[str, torch.Tensor], float]  # (layer, whole-image activation shape as a meta tensor)


def full_gradient(net: FeatureNetwork, x: torch.Tensor, obj: Objective) -> tuple[float, torch.Tensor]:
    """Objective and its gradient for the whole image at once."""
    x = x.detach().requires_grad_(True)
    feats = net(x, list(obj.weights))
    loss = x.new_zeros((), dtype=torch.float32)
    for layer, w in obj.weights.items():
        act = feats[layer]
        loss = loss + w * crop_border(obj.score(layer, act), obj.border).sum() / obj.normalizer(layer, act)
    (grad,) = torch.autograd.grad(loss, x)
    return float(loss.detach()), grad


def tiled_gradient(net: FeatureNetwork, x: torch.Tensor, obj: Objective, *, tile_size: int,
                   margin: int) -> tuple[float, torch.Tensor]:
    """Same objective and gradient as :func:`full_gradient`, one tile (plus ``margin`` of context) at a time."""
    layers = list(obj.weights)
    strides = net.strides(layers)
    align = max(strides.values())
    tile = max(align, tile_size // align * align)
    margin = -(-margin // align) * align
    H, W = x.shape[-2:]
    with torch.device("meta"):
        shapes = net._meta_forward(torch.empty(x.shape, dtype=x.dtype), layers)
    grad = torch.zeros_like(x)
    total = 0.0
    for y0 in range(0, H, tile):
        y1 = H if y0 + tile >= H else y0 + tile
        for x0 in range(0, W, tile):
            x1 = W if x0 + tile >= W else x0 + tile
            cy0, cx0 = max(0, y0 - margin), max(0, x0 - margin)  # multiples of align
            cy1, cx1 = min(H, y1 + margin), min(W, x1 + margin)
            crop = x[..., cy0:cy1, cx0:cx1].detach().requires_grad_(True)
            feats = net(crop, layers)
            loss = crop.new_zeros((), dtype=torch.float32)
            for layer, w in obj.weights.items():
                s = strides[layer]
                h, wd = shapes[layer].shape[-2:]
                # global activation rows/cols this tile owns, intersected with the border cut
                gy0, gy1 = max(-(-y0 // s), obj.border), min(h if y1 == H else -(-y1 // s), h - obj.border)
                gx0, gx1 = max(-(-x0 // s), obj.border), min(wd if x1 == W else -(-x1 // s), wd - obj.border)
                if gy0 >= gy1 or gx0 >= gx1:
                    continue
                scores = obj.score(layer, feats[layer])
                oy, ox = cy0 // s, cx0 // s
                part = scores[..., gy0 - oy:gy1 - oy, gx0 - ox:gx1 - ox].sum()
                loss = loss + w * part / obj.normalizer(layer, shapes[layer])
            if loss.requires_grad:
                (g,) = torch.autograd.grad(loss, crop)
                grad[..., cy0:cy1, cx0:cx1] += g
            total += float(loss.detach())
    return total, grad
