"""Warnings a GAN run needs: mode collapse (samples losing diversity) and divergence (one player winning outright).

Pure functions on numbers, so they are tested on synthetic inputs; the trainer calls them and prints what they return.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch


def feature_diversity(features: torch.Tensor) -> float:
    """Mean pairwise Euclidean distance between the rows of ``features`` ``(N, D)`` (N >= 2), in float64.

    Collapsed samples (many near-identical images) have far smaller spread than real data in feature space; this is
    the "watch for mode collapse" check of the seeds, made a number.
    """
    x = features.detach().to(torch.float64).flatten(1)
    n = x.shape[0]
    if n < 2:
        raise ValueError("feature_diversity needs at least 2 samples")
    d = torch.cdist(x, x)
    return float(d.sum() / (n * (n - 1)))


def mode_collapse_warning(fake_diversity: float, real_diversity: float, *, threshold: float = 0.5) -> str | None:
    """A warning when generated samples are less than ``threshold`` times as diverse as real images, else None."""
    if real_diversity <= 0 or not math.isfinite(fake_diversity):
        return None
    ratio = fake_diversity / real_diversity
    if ratio < threshold:
        return (f"possible mode collapse: samples are {ratio:.0%} as diverse as real images in feature space "
                f"(warning below {threshold:.0%}); look at the sample grid, lower --lr or try --loss hinge/wgan-gp")
    return None


def divergence_warning(loss: str, d_losses: Sequence[float], g_losses: Sequence[float], *,
                       window: int = 5) -> str | None:
    """A warning when the last ``window`` logged losses show training has stopped being a game, else None.

    - ns / hinge: the discriminator loss stuck near 0 (D separates real from fake perfectly, G gets no signal),
      or the generator loss exploding (> 10 for ns, where -log D(G(z)) = 10 means D(G(z)) ≈ 5e-5);
    - wgan / wgan-gp: the critic's loss magnitude growing by orders of magnitude (the Lipschitz constraint is lost).
    """
    d, g = list(d_losses)[-window:], list(g_losses)[-window:]
    if len(d) < window or len(g) < window:
        return None
    if not all(math.isfinite(v) for v in d + g):
        return "losses are not finite: training has diverged"
    if loss in ("ns", "hinge"):
        if max(d) < 0.01:
            return (f"possible divergence: the discriminator loss has stayed below 0.01 (last {d[-1]:.2g}): D wins "
                    f"outright and G gets no gradient; try label smoothing, instance noise or a lower D lr")
        if loss == "ns" and min(g) > 10:
            return f"possible divergence: the generator loss has stayed above 10 (last {g[-1]:.3g})"
        return None
    if min(abs(v) for v in d) > 1e3 or min(abs(v) for v in g) > 1e4:
        return (f"possible divergence: critic/generator losses are huge (D {d[-1]:.3g}, G {g[-1]:.3g}); "
                f"lower --lr or raise --n-critic")
    return None
