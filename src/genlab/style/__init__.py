"""Neural style transfer (an alias: the code lives in :mod:`genlab.imageopt`): Gatys et al. (optimise pixels) and
Johnson et al. (a fast feed-forward network: ``train`` / ``apply`` / ``evaluate``, as
``genlab style train|apply|evaluate``).

    >>> from genlab.style import StyleConfig, style_transfer, StyleLossConfig, train, apply
    >>> style_transfer("photo.jpg", ["starry.jpg"], StyleConfig(weights="imagenet"), out="runs/style/photo")
"""

from ..imageopt.fast_style import (FastStyleConfig, FastStyleNet, FastStyleTrainer, StyleLossConfig, apply,
                                   apply_fast, evaluate, train, train_fast)
from ..imageopt.gatys import StyleConfig, StyleObjective, StyleResult, style_transfer
from ..imageopt.style_losses import content_loss, gram_matrix, style_loss, total_variation_loss

__all__ = ["FastStyleConfig", "FastStyleNet", "FastStyleTrainer", "StyleConfig", "StyleLossConfig", "StyleObjective",
           "StyleResult", "apply", "apply_fast", "content_loss", "evaluate", "gram_matrix", "style_loss",
           "style_transfer", "total_variation_loss", "train", "train_fast"]
