"""Tiny registered models for engine/checkpoint tests (importable by test scripts run under torchrun)."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torch.utils.data import TensorDataset

from genlab.core.config import cfg_field
from genlab.core.model import MODEL_REGISTRY, GenlabModel, register_model


@dataclass
class ToyConfig:
    dim: int = cfg_field(8, help="input size")
    noise: float = cfg_field(0.1, help="input noise std (makes the run depend on the RNG)")
    nan_after: int = cfg_field(-1, help="return a NaN loss from this forward call on (-1 = never)")


class ToyRegressor(GenlabModel):
    """A small MLP regressor; ``forward(x, y)`` returns ``{"loss": mse}``."""

    model_type = "test-toy"
    family = "toy"
    config_class = ToyConfig

    def __init__(self, config: ToyConfig) -> None:
        super().__init__(config)
        self.net = nn.Sequential(nn.Linear(config.dim, 32), nn.Tanh(), nn.Linear(32, 1))
        self.calls = 0

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> dict[str, torch.Tensor]:
        self.calls += 1
        x = x + self.config.noise * torch.randn_like(x)
        loss = (self.net(x).squeeze(-1) - y).pow(2).mean()
        if 0 <= self.config.nan_after < self.calls:
            loss = loss * float("nan")
        return {"loss": loss, "abs_err": (self.net(x).squeeze(-1) - y).abs().mean()}


@dataclass
class BlobConfig:
    numel: int = cfg_field(1_000_000, help="parameter size")


class Blob(GenlabModel):
    """One big parameter, for checkpoint-write tests."""

    model_type = "test-blob"
    family = "toy"
    config_class = BlobConfig

    def __init__(self, config: BlobConfig) -> None:
        super().__init__(config)
        self.weight = nn.Parameter(torch.zeros(config.numel))


for _cls in (ToyRegressor, Blob):
    if _cls.model_type not in MODEL_REGISTRY:
        register_model(_cls)


def toy_data(n: int = 40, dim: int = 8, seed: int = 0) -> TensorDataset:
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, dim, generator=g)
    w = torch.randn(dim, generator=g)
    return TensorDataset(x, torch.tanh(x @ w / 3))
