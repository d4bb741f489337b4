"""CycleGAN's objective as pure functions (Zhu et al. 2017, "Unpaired Image-to-Image Translation using
Cycle-Consistent Adversarial Networks", eqs. 1-3 and section 5.2).

* Adversarial: least squares (Mao et al. 2017, LSGAN), which the paper uses instead of the log-likelihood for a
  stabler training, or the original binary cross-entropy (Goodfellow et al. 2014, non-saturating for G).
* Cycle consistency: ``||F(G(a)) - a||_1 + ||G(F(b)) - b||_1`` (eq. 2), weighted by lambda (10 in the paper).
* Identity (Taigman et al. 2017, used by the paper for photo <-> painting): ``||G(b) - b||_1 + ||F(a) - a||_1``;
  it needs G's input and output to have the same channels.

Discriminator outputs are PatchGAN score maps (any shape); every loss is a mean over all of its elements.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def lsgan_d_loss(real_scores: torch.Tensor, fake_scores: torch.Tensor) -> torch.Tensor:
    """LSGAN discriminator: ``0.5 * (mean((D(real) - 1)^2) + mean(D(fake)^2))`` (the 0.5 as in the paper's code,
    which halves D's objective to slow it relative to G)."""
    return 0.5 * (((real_scores - 1.0) ** 2).mean() + (fake_scores ** 2).mean())


def lsgan_g_loss(fake_scores: torch.Tensor) -> torch.Tensor:
    """LSGAN generator: ``mean((D(G(x)) - 1)^2)``."""
    return ((fake_scores - 1.0) ** 2).mean()


def bce_d_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """Cross-entropy discriminator on logits: ``0.5 * (-log sigmoid(D(real)) - log(1 - sigmoid(D(fake))))``."""
    return 0.5 * (F.binary_cross_entropy_with_logits(real_logits, torch.ones_like(real_logits))
                  + F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits)))


def bce_g_loss(fake_logits: torch.Tensor) -> torch.Tensor:
    """Non-saturating generator: ``-log sigmoid(D(G(x)))``."""
    return F.binary_cross_entropy_with_logits(fake_logits, torch.ones_like(fake_logits))


def cycle_loss(reconstructed: torch.Tensor, original: torch.Tensor) -> torch.Tensor:
    """Cycle consistency of one direction: ``mean(|F(G(x)) - x|)`` (L1, eq. 2)."""
    return (reconstructed - original).abs().mean()


def identity_loss(mapped: torch.Tensor, original: torch.Tensor) -> torch.Tensor:
    """Identity mapping of one generator on its target domain: ``mean(|G(b) - b|)``."""
    if mapped.shape != original.shape:
        raise ValueError(f"identity loss needs equal shapes (got {tuple(mapped.shape)} and {tuple(original.shape)}): "
                         f"the generator's input and output channels must match")
    return (mapped - original).abs().mean()


OBJECTIVES = {"lsgan": (lsgan_d_loss, lsgan_g_loss), "bce": (bce_d_loss, bce_g_loss)}
