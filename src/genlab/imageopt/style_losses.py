"""Neural style transfer losses (pure functions, unit-tested on hand-computed numbers)."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def gram_matrix(features: torch.Tensor) -> torch.Tensor:
    """Gram matrix of feature maps divided by their size: ``G[b] = F F^T / (C H W)`` with ``F`` the ``(C, H*W)``
    features of image ``b``.

    Gatys, Ecker & Bethge (2016) define the Gram matrix *unnormalised* (eq. 3: ``G = F F^T``) and put the scale in
    the layer's style loss, ``E_l = sum (G - A)^2 / (4 C^2 M^2)`` with ``M = H W`` (eq. 4). This is the PyTorch
    tutorial's convention instead: with :func:`style_loss`'s mean over the ``C^2`` entries, a layer's loss is
    ``sum (G - A)^2 / (C^4 M^2)``, i.e. Gatys' ``E_l`` times ``4 / C^2``. That factor is *not* the same for every
    layer: at equal layer weights, block1 (C = 64) weighs 64x more relative to block5 (C = 512) than in the paper,
    so layer weights (and ``style_weight``) from the paper or the book do not carry over unchanged."""
    b, c, h, w = features.shape
    f = features.float().reshape(b, c, h * w)
    return torch.bmm(f, f.transpose(1, 2)) / (c * h * w)


def content_loss(features: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean squared difference of feature maps (Gatys et al. 2016, eq. 1)."""
    return F.mse_loss(features.float(), target.float())


def style_loss(features: torch.Tensor, target_gram: torch.Tensor) -> torch.Tensor:
    """Mean squared difference between the size-normalised Gram matrix of ``features`` and a target one: Gatys et
    al. 2016's layer loss ``E_l`` (eq. 4) times ``4 / C^2`` (see :func:`gram_matrix`)."""
    return F.mse_loss(gram_matrix(features), target_gram.float().expand(features.shape[0], -1, -1))


def total_variation_loss(image: torch.Tensor) -> torch.Tensor:
    """The book's total-variation loss, averaged per pixel: mean of ``((x[i,j]-x[i+1,j])² + (x[i,j]-x[i,j+1])²)^1.25``
    over the ``(H-1) x (W-1)`` positions and channels (Mahendran & Vedaldi 2015)."""
    a = (image[..., :-1, :-1] - image[..., 1:, :-1]).pow(2)
    b = (image[..., :-1, :-1] - image[..., :-1, 1:]).pow(2)
    return (a + b).pow(1.25).mean()


# ---- colour: luminance-only transfer (Gatys, Bethge, Hertzmann & Shechtman 2016, "Preserving color") ----------

_RGB_TO_YIQ = torch.tensor([[0.299, 0.587, 0.114], [0.596, -0.274, -0.322], [0.211, -0.523, 0.312]])


def rgb_to_yiq(image: torch.Tensor) -> torch.Tensor:
    return torch.einsum("ij,bjhw->bihw", _RGB_TO_YIQ.to(image), image)


def yiq_to_rgb(image: torch.Tensor) -> torch.Tensor:
    return torch.einsum("ij,bjhw->bihw", torch.linalg.inv(_RGB_TO_YIQ).to(image), image)


def match_luminance(style_y: torch.Tensor, content_y: torch.Tensor) -> torch.Tensor:
    """Shift and scale the style's luminance to the content's mean and standard deviation (the paper's
    luminance histogram matching, to first and second moments)."""
    return (style_y - style_y.mean()) / style_y.std().clamp_min(1e-6) * content_y.std() + content_y.mean()
