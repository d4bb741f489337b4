"""genlab: train, sample and inspect classic generative models on your own data.

    >>> import genlab
    >>> result = genlab.vae.train(genlab.vae.VAEConfig(latent_dim=2), out="runs/vae/z2")
    >>> model = genlab.load("runs/vae/z2")
    >>> images = model.sample(16, seed=0)

Every family (``genlab.vae``, ``genlab.gan``, ``genlab.text`` ...) is listed in :mod:`genlab.families` and loads on
first use, so ``import genlab`` stays light.
"""

from __future__ import annotations

__version__ = "0.1.0"

import importlib
from typing import Any

from .core.errors import CheckpointError, ConfigError, DataError, GenlabError, NonFiniteLossError
from .core.registry import set_model_table
from .families import MODEL_TYPES, PACKAGES

set_model_table(MODEL_TYPES)  # genlab.load imports only the module of the model_type it reads


def load(path: Any, *, device: Any = "cpu", family: str | None = None) -> Any:
    """Rebuild any saved genlab model (a run folder or a saved-model folder), in eval mode. See core.model.load."""
    from .core.model import load as _load
    return _load(path, device=device, family=family)


__all__ = ["__version__", "load", "GenlabError", "ConfigError", "DataError", "CheckpointError",
           "NonFiniteLossError", "TrainConfig", "Trainer", "TrainResult", *PACKAGES]


def __getattr__(name: str) -> Any:
    # Families and the engine load on first use.
    if name in PACKAGES:
        return importlib.import_module(f".{name}", __name__)
    if name in ("TrainConfig", "Trainer", "TrainResult"):
        return getattr(importlib.import_module(".core.engine", __name__), name)
    raise AttributeError(f"module 'genlab' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
