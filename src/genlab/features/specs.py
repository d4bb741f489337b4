"""Which torchvision classifiers genlab can use as feature networks: how to build each, its ImageNet weights, its
input normalisation, and the Keras layer names the seeds use as aliases of torchvision's module names.

The Keras names are aliases: ``block5_conv2`` (Keras' conv *includes* its ReLU, so it maps to the ReLU after
torchvision's conv), ``mixed4`` (InceptionV3's ``Mixed_6b``), ``mixed4c`` (GoogLeNet), ``logits``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from torch import nn

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
HALF = (0.5, 0.5, 0.5)  # Inception/GoogLeNet take [-1, 1] (torchvision's transform_input does the same maths)

VGG_BLOCKS = {"vgg16": (2, 2, 3, 3, 3), "vgg19": (2, 2, 4, 4, 4)}
INCEPTION_MIXED = ["Mixed_5b", "Mixed_5c", "Mixed_5d", "Mixed_6a", "Mixed_6b", "Mixed_6c", "Mixed_6d", "Mixed_6e",
                   "Mixed_7a", "Mixed_7b", "Mixed_7c"]
GOOGLENET_MIXED = ["3a", "3b", "4a", "4b", "4c", "4d", "4e", "5a", "5b"]


def _vgg_aliases(model: str) -> dict[str, str]:
    """Keras VGG names -> torchvision ``features.i``: block convs are the ReLU outputs (Keras' conv has the ReLU)."""
    aliases, i = {}, 0
    for b, n_conv in enumerate(VGG_BLOCKS[model], start=1):
        for c in range(1, n_conv + 1):
            aliases[f"block{b}_conv{c}"] = f"features.{i + 1}"  # features.i is the conv, i + 1 its ReLU
            i += 2
        aliases[f"block{b}_pool"] = f"features.{i}"
        i += 1
    aliases.update({"fc1": "classifier.1", "fc2": "classifier.4", "predictions": "classifier.6",
                    "logits": "classifier.6"})
    return aliases


@dataclass
class ModelSpec:
    build: Callable[[], nn.Module]
    weights_enum: Callable[[], object]
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    aliases: dict[str, str] = field(default_factory=dict)
    drop: tuple[str, ...] = ()  # children to discard (auxiliary classifiers)


def _tv():
    from torchvision import models
    return models


MODELS: dict[str, ModelSpec] = {
    "vgg16": ModelSpec(lambda: _tv().vgg16(weights=None), lambda: _tv().VGG16_Weights.IMAGENET1K_V1,
                       IMAGENET_MEAN, IMAGENET_STD, _vgg_aliases("vgg16")),
    "vgg19": ModelSpec(lambda: _tv().vgg19(weights=None), lambda: _tv().VGG19_Weights.IMAGENET1K_V1,
                       IMAGENET_MEAN, IMAGENET_STD, _vgg_aliases("vgg19")),
    "inception_v3": ModelSpec(
        lambda: _tv().inception_v3(weights=None, aux_logits=True, init_weights=False, transform_input=False),
        lambda: _tv().Inception_V3_Weights.IMAGENET1K_V1, HALF, HALF,
        {**{f"mixed{i}": name for i, name in enumerate(INCEPTION_MIXED)}, "logits": "fc", "predictions": "fc"},
        drop=("AuxLogits",)),
    "googlenet": ModelSpec(
        lambda: _tv().googlenet(weights=None, aux_logits=True, init_weights=False, transform_input=False),
        lambda: _tv().GoogLeNet_Weights.IMAGENET1K_V1, HALF, HALF,
        {**{f"mixed{s}": f"inception{s}" for s in GOOGLENET_MIXED}, "logits": "fc"}, drop=("aux1", "aux2")),
}
MODEL_ALIASES = {"inception": "inception_v3", "inceptionv3": "inception_v3", "inception_v1": "googlenet"}
DOMAIN_ALIASES = {"conv1": "body.2", "conv2": "body.5", "features": "body.10", "logits": "head.1"}
