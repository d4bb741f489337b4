"""Named-layer feature networks built from torchvision's classifiers (and genlab's small domain classifiers).

A network is flattened into an ordered list of ``(name, module)`` using torchvision's own module names
(``features.36``, ``Mixed_6b``, ``inception4c``) so it can be cut right after the last layer an objective uses.
The Keras names the seeds use are aliases: ``block5_conv2`` (Keras' conv *includes* its ReLU, so it maps to the
ReLU after torchvision's conv), ``mixed4`` (InceptionV3's ``Mixed_6b``), ``mixed4c`` (GoogLeNet), ``logits``.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn

from ..core.errors import CheckpointError, ConfigError
from .weights import WeightsInfo, file_state_dict, imagenet_state_dict, sha256_of

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


def _flatten(model: nn.Module, drop: Sequence[str], *, add_flatten: bool) -> list[tuple[str, nn.Module]]:
    """The model's modules in forward order; ``nn.Sequential`` children are expanded as ``name.i``."""
    out: list[tuple[str, nn.Module]] = []
    for name, child in model.named_children():
        if name in drop:
            continue
        if isinstance(child, nn.Sequential):
            out.extend((f"{name}.{i}", m) for i, m in child.named_children())
        else:
            out.append((name, child))
        if add_flatten and name == "avgpool":
            out.append(("flatten", nn.Flatten(1)))
    for _, m in out:
        for sub in m.modules():
            if isinstance(sub, nn.ReLU):
                sub.inplace = False  # an in-place ReLU would overwrite the conv output we hand back
    return out


class FeatureNetwork(nn.Module):
    """An ordered stack of named modules; ``forward(x, layers)`` returns the named activations.

    ``x`` is already normalised (:meth:`normalize` maps [0, 1] images to the network's input space).
    """

    def __init__(self, name: str, modules: list[tuple[str, nn.Module]], *, mean: Sequence[float],
                 std: Sequence[float], aliases: dict[str, str], weights: WeightsInfo, in_channels: int = 3) -> None:
        super().__init__()
        self.model_name = name
        self.names = [n for n, _ in modules]
        self.body = nn.ModuleList([m for _, m in modules])
        self.aliases = {a: t for a, t in aliases.items() if t in self.names}
        self.weights_info = weights
        self.in_channels = in_channels
        mean, std = [float(v) for v in mean][:in_channels], [float(v) for v in std][:in_channels]
        self.register_buffer("mean", torch.tensor(mean).view(1, -1, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(std).view(1, -1, 1, 1), persistent=False)
        self.eval().requires_grad_(False)

    @property
    def image_mode(self) -> str:
        return "L" if self.in_channels == 1 else "RGB"

    def layer_list(self) -> list[tuple[str, list[str]]]:
        """Every layer name with its aliases."""
        back: dict[str, list[str]] = {}
        for a, t in self.aliases.items():
            back.setdefault(t, []).append(a)
        return [(n, back.get(n, [])) for n in self.names]

    def resolve(self, layer: str) -> str:
        """An alias or module name -> the module name; unknown names list the valid ones."""
        if layer in self.names:
            return layer
        if layer in self.aliases:
            return self.aliases[layer]
        valid = sorted(self.aliases) + [n for n in self.names if n not in self.aliases.values()]
        raise ConfigError(f"unknown layer {layer!r} for {self.model_name}; valid: {', '.join(valid)} "
                          f"(see `genlab features list --model {self.model_name}`)")

    def index(self, layer: str) -> int:
        return self.names.index(self.resolve(layer))

    def truncated(self, layers: Sequence[str]) -> FeatureNetwork:
        """The same network cut right after the deepest of ``layers`` (shares the modules)."""
        last = max(self.index(layer) for layer in layers)
        return FeatureNetwork(self.model_name, list(zip(self.names, self.body, strict=True))[: last + 1], mean=self.mean.flatten(),
                              std=self.std.flatten(), aliases=self.aliases, weights=self.weights_info,
                              in_channels=self.in_channels)

    def fold_batchnorm(self) -> FeatureNetwork:
        """A copy whose frozen (eval-mode) BatchNorms are folded into the convolution before them (Inception's and
        GoogLeNet's ``BasicConv2d``: conv -> BN -> ReLU), one pass less per layer forward and backward; the named
        layer outputs are unchanged up to float rounding. Networks without such pairs come back as they are."""
        import copy

        from torch.nn.utils.fusion import fuse_conv_bn_eval

        pairs = [m for m in self.body.modules() if isinstance(getattr(m, "conv", None), nn.Conv2d)
                 and isinstance(getattr(m, "bn", None), nn.BatchNorm2d)]
        if not pairs:
            return self
        net = copy.deepcopy(self)
        for m in net.body.modules():
            if isinstance(getattr(m, "conv", None), nn.Conv2d) and isinstance(getattr(m, "bn", None), nn.BatchNorm2d):
                m.conv = fuse_conv_bn_eval(m.conv.eval(), m.bn.eval()).requires_grad_(False)
                m.bn = nn.Identity()
        return net

    def normalize(self, images: torch.Tensor) -> torch.Tensor:
        return (images - self.mean) / self.std

    def denormalize(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.std + self.mean

    def forward(self, x: torch.Tensor, layers: Sequence[str]) -> dict[str, torch.Tensor]:
        wanted = {self.index(layer): layer for layer in layers}
        last = max(wanted)
        if last >= len(self.body):
            raise ConfigError(f"layer {wanted[last]!r} was cut off this truncated network")
        out: dict[str, torch.Tensor] = {}
        for i, module in enumerate(self.body[: last + 1]):
            x = module(x)
            if i in wanted:
                out[wanted[i]] = x
        return out

    def strides(self, layers: Sequence[str], *, probe: int = 512) -> dict[str, int]:
        """Each spatial layer's total stride (input pixels per activation pixel), from a shape-only forward."""
        with torch.device("meta"):
            x = torch.empty(1, self.in_channels, probe, probe)
        feats = self._meta_forward(x, layers)
        return {k: 2 ** round(math.log2(probe / v.shape[-1])) for k, v in feats.items() if v.ndim == 4}

    def shapes(self, size: int = 224) -> dict[str, tuple[int, ...]]:
        with torch.device("meta"):
            x = torch.empty(1, self.in_channels, size, size)
        return {k: tuple(v.shape[1:]) for k, v in self._meta_forward(x, self.names).items()}

    def min_input_size(self, *, limit: int = 1024) -> int:
        """The smallest square input side (px) this network, as truncated, runs on: found by shape-only forwards
        on the meta device (a binary search; every conv / pool of a deeper layer only raises the minimum)."""
        if getattr(self, "_min_size", None) is None:
            meta = self._meta_copy()

            def fits(side: int) -> bool:
                try:
                    with torch.no_grad():
                        meta(torch.empty(1, self.in_channels, side, side, device="meta"), [self.names[-1]])
                    return True
                except RuntimeError:  # "Calculated padded input size ... Kernel size", "Output size is too small"
                    return False

            lo, hi = 1, limit
            if not fits(hi):
                raise ConfigError(f"{self.model_name} does not run on {limit} px inputs")
            while lo < hi:
                mid = (lo + hi) // 2
                lo, hi = (lo, mid) if fits(mid) else (mid + 1, hi)
            self._min_size = lo
        return self._min_size

    def _meta_copy(self) -> FeatureNetwork:
        import copy
        return copy.deepcopy(self).to("meta")

    def _meta_forward(self, x: torch.Tensor, layers: Sequence[str]) -> dict[str, torch.Tensor]:
        meta = self._meta_copy()
        with torch.no_grad():
            return meta(x, layers)


def _init_random(modules: list[tuple[str, nn.Module]], seed: int) -> None:
    """Seeded Kaiming-normal (fan-in) init: keeps activation scale through deep random stacks (with BN at its
    identity running stats), so losses on random networks are well-scaled."""
    gen = torch.Generator().manual_seed(seed)
    for _, top in modules:
        for m in top.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                fan_in = m.weight[0].numel()
                with torch.no_grad():
                    m.weight.copy_(torch.randn(m.weight.shape, generator=gen) * math.sqrt(2.0 / fan_in))
                    if m.bias is not None:
                        m.bias.zero_()
            elif isinstance(m, nn.BatchNorm2d):
                m.reset_parameters()


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


def parse_layer_weights(text: str, *, what: str = "--layers") -> dict[str, float]:
    """``"mixed2:0.2,mixed3:3"`` -> ``{"mixed2": 0.2, "mixed3": 3.0}`` (a bare name weighs 1)."""
    out: dict[str, float] = {}
    for part in str(text).split(","):
        part = part.strip()
        if not part:
            continue
        name, _, weight = part.partition(":")
        try:
            value = float(weight) if weight else 1.0
        except ValueError:
            raise ConfigError(f"{what} entry {part!r} is not NAME:WEIGHT with a number as weight") from None
        if not value >= 0 or value == float("inf"):
            raise ConfigError(f"{what} weight of {name} must be a finite number >= 0 (got {weight})")
        out[name.strip()] = value
    if not out or not any(out.values()):
        raise ConfigError(f"{what} needs at least one NAME:WEIGHT with a weight > 0")
    return out
