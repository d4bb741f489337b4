"""Optional heavy dependencies (music21, gymnasium, gradio ...): imported inside the functions that need them.

``require("music21", extra="music", what="parsing MusicXML")`` returns the module, or raises a one-line
:class:`~genlab.core.errors.GenlabError` that says what to install. ``available(name)`` tells without importing.
"""

from __future__ import annotations

import importlib
import importlib.util
from types import ModuleType

from .errors import GenlabError


class MissingExtraError(GenlabError):
    """An optional package is not installed (the message says which extra to install)."""


def available(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def require(module: str, *, extra: str, what: str = "", package: str | None = None) -> ModuleType:
    """Import ``module`` or say, in one line, what to install (``pip install 'genlab[EXTRA]'`` or the package)."""
    try:
        return importlib.import_module(module)
    except ImportError as e:
        need = f" for {what}" if what else ""
        alone = f" (or: pip install {package})" if package else ""
        raise MissingExtraError(f"{module} is needed{need} but is not installed ({e.msg}): "
                                f"pip install 'genlab[{extra}]'{alone}") from None
