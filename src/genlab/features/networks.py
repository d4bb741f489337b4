"""Named-layer feature networks (torchvision's classifiers and genlab's small domain classifiers), in three parts:
:mod:`.specs` (which networks, their weights and Keras aliases), :mod:`.network` (:class:`FeatureNetwork`: named
activations, truncation, BatchNorm folding, shapes on the meta device) and :mod:`.loading`
(:func:`load_feature_network`, :func:`layer_names`). This module keeps the names importable from one place."""

from .loading import _domain_network, _load_state, _torchvision_network, layer_names, load_feature_network
from .network import FeatureNetwork, _flatten, _init_random, parse_layer_weights
from .specs import (DOMAIN_ALIASES, GOOGLENET_MIXED, HALF, IMAGENET_MEAN, IMAGENET_STD, INCEPTION_MIXED, MODEL_ALIASES,
                    MODELS, VGG_BLOCKS, ModelSpec)

__all__ = ["DOMAIN_ALIASES", "GOOGLENET_MIXED", "HALF", "IMAGENET_MEAN", "IMAGENET_STD", "INCEPTION_MIXED",
           "MODEL_ALIASES", "MODELS", "VGG_BLOCKS", "FeatureNetwork", "ModelSpec", "layer_names",
           "load_feature_network", "parse_layer_weights", "_domain_network", "_flatten", "_init_random", "_load_state",
           "_torchvision_network"]
