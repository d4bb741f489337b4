"""The feature network: a classifier flattened into an ordered list of ``(name, module)`` with torchvision's own
module names (``features.36``, ``Mixed_6b``, ``inception4c``), so it can be cut right after the last layer an
objective uses and asked for named activations, shapes, strides and its smallest input on the meta device."""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn

from ..core.errors import ConfigError
from .weights import WeightsInfo

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
        kept = list(zip(self.names, self.body, strict=True))[: last + 1]
        return FeatureNetwork(self.model_name, kept, mean=self.mean.flatten(), std=self.std.flatten(),
                              aliases=self.aliases, weights=self.weights_info, in_channels=self.in_channels)

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
