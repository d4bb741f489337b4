"""Images made by optimising through a trained convnet: DeepDream, filter / class visualisation, Gatys style
transfer, and fast (feed-forward) style networks trained on the genlab Trainer.

    >>> from genlab import imageopt
    >>> imageopt.deepdream("photo.jpg", imageopt.DreamConfig(size=400), out="runs/dream/photo")
    >>> imageopt.visualize("mixed4", imageopt.VisualizeConfig(channels="0-15"), out="runs/visualize/mixed4")
    >>> imageopt.style_transfer("photo.jpg", ["starry.jpg"], imageopt.StyleConfig(), out="runs/style/photo")
    >>> run = imageopt.train_style(data_config=ImageDataConfig("photos/"),
    ...                            options=imageopt.StyleLossConfig(style_image="starry.jpg")).run_dir
    >>> imageopt.apply_style(run, "photo.jpg", out="runs/style/photo-fast")

Each ``fn(input, Config, *, out, output, net, progress, write) -> Result``; ``out`` is a folder, ``output`` the one
main image file, both checked before any work; Ctrl-C / SIGTERM stop cleanly and write what is done.
"""

from .dream import BOOK_LAYERS, DreamConfig, DreamResult, deepdream, octave_shapes
from .dream_losses import channel_objective, dream_loss, guide_score_map, normalize_gradient
from .fast_style import FastStyleConfig, FastStyleNet, FastStyleTrainer, StyleLossConfig
from .fast_style import apply as apply_style
from .fast_style import evaluate as evaluate_style
from .fast_style import train as train_style
from .gatys import StyleConfig, StyleObjective, StyleResult, style_transfer
from .style_losses import content_loss, gram_matrix, style_loss, total_variation_loss
from .visualize import VisualizeConfig, VisualizeResult, visualize

__all__ = ["BOOK_LAYERS", "DreamConfig", "DreamResult", "FastStyleConfig", "FastStyleNet", "FastStyleTrainer",
           "StyleConfig", "StyleLossConfig", "StyleObjective", "StyleResult", "VisualizeConfig", "VisualizeResult",
           "apply_style", "channel_objective", "content_loss", "deepdream", "dream_loss", "evaluate_style",
           "gram_matrix", "guide_score_map", "normalize_gradient", "octave_shapes", "style_loss", "style_transfer",
           "total_variation_loss", "train_style", "visualize"]
