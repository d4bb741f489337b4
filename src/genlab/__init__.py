"""genlab: train, sample and inspect classic generative models on your own data.

    >>> import genlab
    >>> result = genlab.vae.train(genlab.vae.VAEConfig(latent_dim=2), out="runs/vae/z2")
    >>> model = genlab.load("runs/vae/z2")
    >>> images = model.sample(16, seed=0)
"""

from __future__ import annotations

__version__ = "0.1.0"

import importlib
from typing import Any

from .core.errors import CheckpointError, ConfigError, DataError, GenlabError, NonFiniteLossError


def load(path: Any, *, device: Any = "cpu", family: str | None = None) -> Any:
    """Rebuild any saved genlab model (a run folder or a saved-model folder), in eval mode. See core.model.load."""
    from .core.model import load as _load
    return _load(path, device=device, family=family)

__all__ = ["__version__", "load", "GenlabError", "ConfigError", "DataError", "CheckpointError",
           "NonFiniteLossError", "TrainConfig", "Trainer", "vae", "text",
           "ae", "aae", "latent"]


def __getattr__(name: str) -> Any:
    # Families and the engine load on first use, so `import genlab` stays light.
    if name in ("vae", "text", "ae", "aae", "latent"):
        return importlib.import_module(f".{name}", __name__)
    if name in ("TrainConfig", "Trainer"):
        return getattr(importlib.import_module(".core.engine", __name__), name)
    raise AttributeError(f"module 'genlab' has no attribute {name!r}")
