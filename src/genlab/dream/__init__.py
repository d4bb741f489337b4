"""DeepDream and feature visualisation (an alias: the code lives in :mod:`genlab.imageopt`).

    >>> from genlab.dream import DreamConfig, deepdream, VisualizeConfig, visualize
    >>> deepdream("photo.jpg", DreamConfig(weights="imagenet", size=400), out="runs/dream/photo")
    >>> visualize("mixed4", VisualizeConfig(channels="0-15"), out="runs/visualize/mixed4")
"""

from ..imageopt.dream import BOOK_LAYERS, DreamConfig, DreamResult, deepdream, octave_shapes
from ..imageopt.dream_losses import channel_objective, dream_loss, guide_score_map, normalize_gradient
from ..imageopt.visualize import VisualizeConfig, VisualizeResult, visualize

__all__ = ["BOOK_LAYERS", "DreamConfig", "DreamResult", "VisualizeConfig", "VisualizeResult", "channel_objective",
           "deepdream", "dream_loss", "guide_score_map", "normalize_gradient", "octave_shapes", "visualize"]
