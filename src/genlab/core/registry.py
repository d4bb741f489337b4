"""The model registry: ``model_type`` -> class, with a lazy table so that loading imports one module (no torch here)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .errors import CheckpointError

if TYPE_CHECKING:
    from .model import GenlabModel

MODEL_REGISTRY: dict[str, type[GenlabModel]] = {}

# Where a model_type lives when its module has not been imported yet: installed once by ``genlab/__init__.py`` from
# the table in ``genlab/families.py`` (core never imports a family; the dependency points the other way).
_MODEL_TABLE: dict[str, str] = {}


def set_model_table(table: dict[str, str]) -> None:
    """Install the lazy ``model_type -> "module:Class"`` table that :func:`model_class` falls back on."""
    _MODEL_TABLE.update(table)


def register_model(cls: type[GenlabModel]) -> type[GenlabModel]:
    """Class decorator: make ``cls`` loadable by :func:`load` under ``cls.model_type``."""
    if cls.model_type in MODEL_REGISTRY and MODEL_REGISTRY[cls.model_type] is not cls:
        raise RuntimeError(f"model_type {cls.model_type!r} registered twice")
    MODEL_REGISTRY[cls.model_type] = cls
    return cls


def model_class(model_type: str, *, source: str = "config") -> type[GenlabModel]:
    """The class saved as ``model_type``: imports only the module that defines it (as diffusers' lazy table does)."""
    cls = MODEL_REGISTRY.get(model_type)
    if cls is None and model_type in _MODEL_TABLE:
        import importlib

        module, _, name = _MODEL_TABLE[model_type].partition(":")
        cls = getattr(importlib.import_module(module), name)
        MODEL_REGISTRY.setdefault(model_type, cls)
    if cls is None:
        known = sorted(set(MODEL_REGISTRY) | set(_MODEL_TABLE))
        raise CheckpointError(f"{source}: unknown model_type {model_type!r}; this genlab knows {', '.join(known)}")
    return cls
