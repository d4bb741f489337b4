"""Saved models: ``config.json`` + ``model.safetensors``, rebuilt by ``genlab.load(dir)``.

Every genlab network subclasses :class:`GenlabModel`, keeps its constructor arguments in one config dataclass, and is
registered under a ``model_type``. ``save_pretrained(dir)`` writes the config (with ``model_type`` and the genlab
version) and the weights; :func:`load` reads ``model_type`` and rebuilds the right class. Weights go through
safetensors, which stores tensors only: loading a model never executes code.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any, ClassVar

import torch
from torch import nn

from .config import from_dict, to_dict
from .errors import CheckpointError, ConfigError, a_or_an
from .io import atomic_write, read_json, write_json_atomic

CONFIG_NAME = "config.json"
WEIGHTS_NAME = "model.safetensors"

from .registry import MODEL_REGISTRY, model_class, register_model, set_model_table  # noqa: E402,F401


class GenlabModel(nn.Module):
    """Base of every genlab network: a config dataclass, a registered ``model_type``, save/load."""

    model_type: ClassVar[str]
    family: ClassVar[str]
    config_class: ClassVar[type]

    def __init__(self, config: Any) -> None:
        super().__init__()
        if not isinstance(config, self.config_class):
            raise TypeError(f"{type(self).__name__} needs a {self.config_class.__name__}, got {type(config).__name__}")
        self.config = config

    @property
    def device(self) -> torch.device:
        return next(self.parameters()).device

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())

    def config_dict(self) -> dict[str, Any]:
        from .. import __version__
        return {"model_type": self.model_type, "family": self.family, "genlab_version": __version__,
                "config": to_dict(self.config)}

    def save_pretrained(self, directory: str | os.PathLike, *, metadata: dict[str, str] | None = None) -> Path:
        """Write ``config.json`` and ``model.safetensors`` into ``directory`` (each atomically)."""
        from safetensors.torch import save_model

        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        meta = {"model_type": self.model_type, **(metadata or {})}
        with atomic_write(directory / WEIGHTS_NAME) as tmp:
            save_model(self, str(tmp), metadata=meta)
        write_json_atomic(directory / CONFIG_NAME, self.config_dict())
        return directory

    @classmethod
    def from_pretrained(cls, directory: str | os.PathLike, *, device: str | torch.device = "cpu") -> "GenlabModel":
        model = load(directory, device=device)
        if not isinstance(model, cls):
            raise CheckpointError(f"{directory} holds {a_or_an(model.model_type)} model, not {a_or_an(cls.model_type)}")
        return model


def read_model_config(directory: str | os.PathLike) -> dict[str, Any]:
    """Read and sanity-check a model folder's ``config.json``."""
    directory = Path(directory)
    try:
        cfg = read_json(directory / CONFIG_NAME, what="model config")
    except Exception as e:  # GenlabError from read_json -> the checkpoint flavour
        raise CheckpointError(str(e)) from None
    if "model_type" not in cfg or not isinstance(cfg.get("config"), dict):
        raise CheckpointError(f"{directory / CONFIG_NAME} is not a genlab model config (no model_type/config)")
    return cfg


def resolve_model_dir(path: str | os.PathLike) -> Path:
    """A folder with config.json + model.safetensors: the folder itself, or a run's newest checkpoint."""
    from .checkpoint import latest_checkpoint

    path = Path(path)
    if not path.exists():
        raise CheckpointError(f"{path} does not exist")
    if not path.is_dir():
        raise CheckpointError(f"{path} is not a folder; pass a run folder or a saved-model folder")
    if (path / CONFIG_NAME).exists() and (path / WEIGHTS_NAME).exists():
        return path
    latest = latest_checkpoint(path)
    if latest is not None:
        return latest
    raise CheckpointError(f"no saved model in {path} (expected {CONFIG_NAME} + {WEIGHTS_NAME}, "
                          f"or checkpoints/step_*/ from a training run)")


def build_model(cfg: dict[str, Any], *, source: str = "config") -> "GenlabModel":
    """Instantiate an (untrained) model from a ``config_dict()``-shaped dict."""
    model_type = cfg["model_type"]
    cls = model_class(model_type, source=source)
    try:
        config = from_dict(cls.config_class, cfg["config"], what=f"{model_type} config in {source}")
    except ConfigError as e:
        raise CheckpointError(str(e)) from None
    try:
        return cls(config)
    except (TypeError, ValueError) as e:  # a value __post_init__ does not check, e.g. a string where an int goes
        raise CheckpointError(f"{source}: config does not build a {model_type} ({e})") from None


def load_weights(model: nn.Module, weights_path: Path, *, device: str | torch.device = "cpu") -> None:
    from safetensors import SafetensorError
    from safetensors.torch import load_model

    if not weights_path.exists():
        raise CheckpointError(f"{weights_path} does not exist")
    try:
        missing, unexpected = load_model(model, str(weights_path), strict=False, device=str(device))
    except (SafetensorError, OSError, ValueError) as e:
        raise CheckpointError(f"{weights_path} is corrupt or truncated ({e}); "
                              f"retrain, or resume from an earlier checkpoint") from None
    except RuntimeError as e:  # shape mismatch
        first = str(e).strip().splitlines()[-1].strip()
        raise CheckpointError(f"{weights_path} does not fit the model in its config.json ({first})") from None
    if missing or unexpected:
        raise CheckpointError(f"{weights_path} does not fit the model in its config.json "
                              f"(missing: {sorted(missing)[:3]}, unexpected: {sorted(unexpected)[:3]})")


def load(path: str | os.PathLike, *, device: str | torch.device = "cpu", family: str | None = None) -> "GenlabModel":
    """Rebuild any registered genlab model from a saved-model folder or a run folder, in eval mode.

    >>> model = genlab.load("runs/vae/mnist")
    >>> images = model.sample(16)
    """
    directory = resolve_model_dir(path)
    cfg = read_model_config(directory)
    if family is not None and cfg.get("family") != family:
        raise CheckpointError(f"{path} holds {a_or_an(cfg.get('family', '?'))} model ({cfg['model_type']}), "
                              f"not {a_or_an(family)} model; use `genlab {cfg.get('family', '?')} ...` for it")
    model = build_model(cfg, source=str(directory / CONFIG_NAME))
    load_weights(model, directory / WEIGHTS_NAME, device="cpu")
    return model.to(device).eval()


def model_config_equal(a: Any, b: Any) -> bool:
    return dataclasses.asdict(a) == dataclasses.asdict(b)
