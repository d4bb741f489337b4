"""Objectives of image optimisation through a trained convnet (pure functions, unit-tested on numbers).

Each layer objective is written as a *per-position score map* plus a normaliser, so the same code gives the
whole-image loss and the exact sum of per-tile losses (see :mod:`genlab.imageopt.tiling`).
"""

from __future__ import annotations

import torch


def dream_score_map(activation: torch.Tensor) -> torch.Tensor:
    """Sum over channels of act² at each position, ``(B, h, w)``: the DeepDream objective before its
    normalisation (Mordvintsev et al. 2015, "Inceptionism"; Chollet, *Deep Learning with Python* §8.2)."""
    return activation.float().pow(2).sum(dim=1)


def dream_loss(activation: torch.Tensor, *, border: int = 2, weight: float = 1.0) -> torch.Tensor:
    """``weight * sum(act[:, :, b:-b, b:-b]²) / act.numel()``: the seeds' layer loss (border pixels excluded from
    the sum, the scaling is the size of the whole activation, as in the book's first edition)."""
    scores = dream_score_map(activation)
    return weight * crop_border(scores, border).sum() / activation.numel()


def crop_border(scores: torch.Tensor, border: int) -> torch.Tensor:
    if border <= 0:
        return scores
    return scores[..., border:-border, border:-border]


def guide_score_map(activation: torch.Tensor, guide: torch.Tensor) -> torch.Tensor:
    """Guided dream (Google's DeepDream notebook, ``objective_guide``): at each position the largest dot product
    of the image's feature vector with any of the guide image's feature vectors, ``(B, h, w)``. Its gradient
    pulls every position towards the guide feature it already resembles most.

    ``guide``: the guide image's activation of the same layer, ``(1, C, h', w')``.
    """
    b, c, h, w = activation.shape
    x = activation.float().reshape(b, c, h * w)  # (B, C, N)
    y = guide.float().reshape(c, -1)  # (C, M)
    return torch.einsum("bcn,cm->bnm", x, y).amax(dim=2).reshape(b, h, w)


def channel_objective(activation: torch.Tensor, channel: int) -> torch.Tensor:
    """Mean activation of one channel (filter visualisation, Erhan et al. 2009; for a 2-D logits layer: one
    class logit, Simonyan et al. 2014)."""
    return activation[:, channel].float().mean()


def normalize_gradient(grad: torch.Tensor, eps: float = 1e-7) -> torch.Tensor:
    """The seeds' step normalisation: divide by the mean absolute gradient (so ``step_size`` is in pixel units)."""
    return grad / grad.abs().mean().clamp_min(eps)
