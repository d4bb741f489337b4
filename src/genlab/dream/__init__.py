"""DeepDream and feature visualisation: images made by optimising pixels through a trained convnet.

    >>> from genlab.dream import DreamConfig, deepdream, VisualizeConfig, visualize
    >>> deepdream("photo.jpg", DreamConfig(weights="imagenet", size=400), out="runs/dream/photo")
    >>> visualize("mixed4", VisualizeConfig(channels="0-15"), out="runs/visualize/mixed4")
"""

from .deepdream import BOOK_LAYERS, DreamConfig, DreamResult, deepdream, octave_shapes
from .losses import channel_objective, dream_loss, guide_score_map, normalize_gradient
from .visualize import VisualizeConfig, VisualizeResult, visualize

__all__ = ["BOOK_LAYERS", "DreamConfig", "DreamResult", "VisualizeConfig", "VisualizeResult", "channel_objective",
           "deepdream", "dream_loss", "guide_score_map", "normalize_gradient", "octave_shapes", "visualize"]
