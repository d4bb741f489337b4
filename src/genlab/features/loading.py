"""Building a :class:`~genlab.features.network.FeatureNetwork`: torchvision's classifiers with ImageNet, random
(seeded) or file weights, and genlab's own domain classifiers; the layer table of ``genlab features list``."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import torch
from torch import nn

from ..core.errors import CheckpointError, ConfigError
from .network import FeatureNetwork, _flatten, _init_random
from .specs import DOMAIN_ALIASES, HALF, MODEL_ALIASES, MODELS
from .weights import WeightsInfo, file_state_dict, imagenet_state_dict, sha256_of

def _load_state(model: nn.Module, state: dict[str, torch.Tensor], what: str, name: str) -> None:
    try:
        missing, unexpected = model.load_state_dict(state, strict=False, assign=True)
    except RuntimeError as e:  # size mismatch
        lines = [ln.strip() for ln in str(e).splitlines() if "size mismatch" in ln]
        detail = lines[0] if lines else " ".join(str(e).split())[:150]
        raise CheckpointError(f"{what} does not fit {name} ({detail[:200]}); is it a {name} state_dict?") from None
    if unexpected:
        raise CheckpointError(f"{what} does not fit {name}: {len(unexpected)} unexpected keys such as "
                              f"{sorted(unexpected)[:3]}; is it a {name} state_dict?")
    model._genlab_missing = set(missing)  # checked after truncation: keys of cut-off layers may be absent


def load_feature_network(model: str, *, weights: str = "imagenet", layers: Sequence[str] | None = None,
                         seed: int = 0, device: str | torch.device = "cpu") -> FeatureNetwork:
    """A :class:`FeatureNetwork` for ``model`` (vgg16, vgg19, googlenet, inception_v3, or a folder holding a
    genlab domain classifier), cut after the deepest of ``layers`` (all layers when None).

    ``weights``: ``imagenet`` (torchvision's weight enum, from the hub cache), ``random`` (seeded), or a path to a
    state_dict file (.pth read with ``weights_only=True``, or .safetensors).
    """
    if not isinstance(model, str) or not model:
        raise ConfigError("--model must name a feature network")
    key = MODEL_ALIASES.get(model.lower(), model.lower())
    if key not in MODELS:
        if os.path.isdir(model):
            net = _domain_network(model, weights, seed)
        else:
            raise ConfigError(f"unknown feature network {model!r}; use one of {', '.join(MODELS)} or a folder with "
                              f"a genlab classifier (config.json + model.safetensors)")
    else:
        net = _torchvision_network(key, weights, seed, layers)
    if layers:
        net = net.truncated(layers)
    return net.to(device)


def _torchvision_network(key: str, weights: str, seed: int, layers: Sequence[str] | None) -> FeatureNetwork:
    spec = MODELS[key]
    if weights is None or not str(weights):
        raise ConfigError("--weights must be imagenet, random or a state_dict FILE")
    with torch.device("meta"):  # no memory and no init cost: weights are assigned or initialised below
        full = spec.build()
    if weights == "imagenet":
        state, info = imagenet_state_dict(key, spec.weights_enum())
        _load_state(full, state, f"the ImageNet weights file for {key}", key)
    elif weights == "random":
        info = WeightsInfo("random", "random", False, seed=seed)
    else:
        state, info = file_state_dict(weights)
        _load_state(full, state, f"weights file {weights}", key)
    modules = _flatten(full, spec.drop, add_flatten=True)
    net = FeatureNetwork(key, modules, mean=spec.mean, std=spec.std, aliases=spec.aliases, weights=info)
    if layers:
        net = net.truncated(layers)
    kept = list(zip(net.names, net.body, strict=True))
    if weights == "random":
        for _, m in kept:
            m.to_empty(device="cpu")
        _init_random(kept, seed)
    else:
        missing = getattr(full, "_genlab_missing", set())
        # a kept module's state-dict keys start with its flattened name ("features.3.", "Mixed_5b.")
        needed = sorted(k for k in missing if k.startswith(tuple(n + "." for n in net.names)))
        if needed:
            raise CheckpointError(f"weights file {weights} lacks {len(needed)} weights the network needs, such as "
                                  f"{needed[:3]}; is it a {key} state_dict?")
    return net


def _domain_network(path: str, weights: str, seed: int) -> FeatureNetwork:
    """One of genlab's own classifiers (e.g. the MNIST / Fashion-MNIST domain classifier) as a feature network."""
    from ..core.model import load
    from .domain import DomainClassifier

    model = load(path)
    if not isinstance(model, DomainClassifier):
        raise CheckpointError(f"{path} holds a {model.model_type} model; feature networks are vgg16, vgg19, "
                              f"googlenet, inception_v3 or a genlab domain classifier")
    modules = _flatten(model, (), add_flatten=False)
    weights_file = Path(path) / "model.safetensors"
    sha = sha256_of(weights_file) if weights_file.exists() else None
    if weights == "random":
        info = WeightsInfo("random", "random", False, seed=seed)
        _init_random(modules, seed)
    else:
        info = WeightsInfo("genlab", f"genlab domain classifier {path}", True, sha)
    c = model.config.image_channels
    return FeatureNetwork(f"{path}", modules, mean=HALF, std=HALF, aliases=DOMAIN_ALIASES, weights=info,
                          in_channels=c)


def layer_names(model: str) -> list[tuple[str, list[str], tuple[int, ...]]]:
    """``(module name, aliases, output shape at 224 px)`` of every layer of ``model`` (no weights needed)."""
    key = MODEL_ALIASES.get(model.lower(), model.lower())
    if key in MODELS:
        spec = MODELS[key]
        with torch.device("meta"):
            full = spec.build()
        net = FeatureNetwork(key, _flatten(full, spec.drop, add_flatten=True), mean=spec.mean, std=spec.std,
                             aliases=spec.aliases, weights=WeightsInfo("none", "none", False))
        size = 299 if key == "inception_v3" else 224
    else:
        net = load_feature_network(model, weights="random")
        size = 28
    shapes = net.shapes(size)
    return [(n, a, shapes.get(n, ())) for n, a in net.layer_list()]
