"""Neural style transfer: Gatys et al. (optimise pixels) and Johnson et al. (a fast feed-forward network).

    >>> from genlab.style import StyleConfig, style_transfer, FastStyleConfig, train_fast, apply_fast
    >>> style_transfer("photo.jpg", ["starry.jpg"], StyleConfig(weights="imagenet"), out="runs/style/photo")
"""

from .fast import FastStyleConfig, FastStyleNet, apply_fast, train_fast
from .gatys import StyleConfig, StyleObjective, StyleResult, style_transfer
from .losses import content_loss, gram_matrix, style_loss, total_variation_loss

__all__ = ["FastStyleConfig", "FastStyleNet", "StyleConfig", "StyleObjective", "StyleResult", "apply_fast",
           "content_loss", "gram_matrix", "style_loss", "style_transfer", "total_variation_loss", "train_fast"]
