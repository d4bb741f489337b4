"""Config dataclasses <-> JSON and argparse.

Each family keeps its knobs in ``@dataclass`` configs whose fields carry their help text (``cfg_field(..., help=)``).
The CLI is derived from them, so ``-h`` lists every knob with its default, and the same dataclass is what the Python
API takes. Validation lives in ``__post_init__`` (raising :class:`ConfigError`), so the API and the CLI check alike.
Configs are stored as JSON and parsed, never executed.
"""

from __future__ import annotations

import argparse
import dataclasses
import types
import typing
from typing import Any, Literal, TypeVar

from .errors import ConfigError

T = TypeVar("T")


def cfg_field(default: Any = dataclasses.MISSING, *, help: str, choices: tuple | None = None, cli: bool = True,
              metavar: str | None = None, default_factory: Any = dataclasses.MISSING) -> Any:
    """A dataclass field with the metadata the CLI needs (help text, optional choices, hidden from CLI)."""
    meta = {"help": help, "choices": choices, "cli": cli, "metavar": metavar}
    if default_factory is not dataclasses.MISSING:
        return dataclasses.field(default_factory=default_factory, metadata=meta)
    return dataclasses.field(default=default, metadata=meta)


def _unwrap_optional(tp: Any) -> tuple[Any, bool]:
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if len(args) == 1 and len(typing.get_args(tp)) == 2:
            return args[0], True
    return tp, False


def _field_types(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _default_of(f: dataclasses.Field) -> Any:
    if f.default is not dataclasses.MISSING:
        return f.default
    if f.default_factory is not dataclasses.MISSING:  # type: ignore[misc]
        return f.default_factory()  # type: ignore[misc]
    return dataclasses.MISSING


def _parse_optional(inner: type):
    def parse(text: str):
        if text.lower() in ("none", "null", ""):
            return None
        return inner(text)
    parse.__name__ = inner.__name__
    return parse


def add_dataclass_arguments(parser: argparse._ActionsContainer, cls: type, *, exclude: tuple[str, ...] = (),
                            defaults: dict[str, Any] | None = None) -> None:
    """Add one ``--flag`` per CLI-visible field of ``cls``.

    Defaults are ``argparse.SUPPRESS`` so that :func:`given_options` can tell which flags the user actually typed
    (``--resume`` keeps the saved config and applies only those). ``defaults`` overrides the defaults shown in
    ``-h`` where a family's own defaults differ from the dataclass's; the family applies them itself.
    """
    hints = _field_types(cls)
    for f in dataclasses.fields(cls):
        if f.name in exclude or not f.metadata.get("cli", True):
            continue
        tp, optional = _unwrap_optional(hints[f.name])
        flag = "--" + f.name.replace("_", "-")
        default = (defaults or {}).get(f.name, _default_of(f))
        help_text = f.metadata.get("help", "")
        shown = "none" if default is None else (" ".join(map(str, default)) if isinstance(default, tuple) else default)
        kwargs: dict[str, Any] = {"dest": f.name, "default": argparse.SUPPRESS,
                                  "help": f"{help_text} (default: {shown})"}
        if f.metadata.get("metavar"):
            kwargs["metavar"] = f.metadata["metavar"]
        origin = typing.get_origin(tp)
        if tp is bool:
            kwargs["action"] = argparse.BooleanOptionalAction
        elif origin is Literal:
            kwargs["choices"] = typing.get_args(tp)
            kwargs["type"] = type(typing.get_args(tp)[0])
        elif origin is tuple:
            inner = typing.get_args(tp)[0]
            kwargs["type"] = inner
            kwargs["nargs"] = "+"
        elif tp in (int, float, str):
            kwargs["type"] = _parse_optional(tp) if optional else tp
            if f.metadata.get("choices"):
                kwargs["choices"] = f.metadata["choices"]
        else:  # pragma: no cover - a genlab bug, not a user error
            raise TypeError(f"unsupported config field type {tp!r} for {cls.__name__}.{f.name}")
        parser.add_argument(flag, **kwargs)


def given_options(args: argparse.Namespace, cls: type) -> dict[str, Any]:
    """The fields of ``cls`` that the user set on the command line (tuples restored from argparse lists)."""
    # Fields hidden from the command line (cli=False) are never "typed": another group may have a flag of that name.
    names = {f.name for f in dataclasses.fields(cls) if f.metadata.get("cli", True)}
    out = {}
    for name, value in vars(args).items():
        if name in names:
            out[name] = tuple(value) if isinstance(value, list) else value
    return out


def from_dict(cls: type[T], data: dict[str, Any], *, what: str | None = None) -> T:
    """Build a config from a plain dict (e.g. JSON), with a clear error for unknown or ill-typed keys."""
    what = what or cls.__name__
    names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(data) - names)
    if unknown:
        raise ConfigError(f"unknown option(s) for {what}: {', '.join(unknown)}; valid: {', '.join(sorted(names))}")
    hints = _field_types(cls)
    clean = {}
    for key, value in data.items():
        tp, _ = _unwrap_optional(hints[key])
        if typing.get_origin(tp) is tuple and isinstance(value, list):
            value = tuple(value)
        clean[key] = value
    try:
        return cls(**clean)
    except TypeError as e:
        raise ConfigError(f"invalid {what}: {e}") from None


def to_dict(obj: Any) -> dict[str, Any]:
    """A plain dict of a config dataclass (tuples stay tuples; ``json.dumps`` writes them as lists)."""
    return dataclasses.asdict(obj)


def replace(obj: T, **changes: Any) -> T:
    """``dataclasses.replace`` that re-runs validation and reports unknown names as :class:`ConfigError`."""
    return from_dict(type(obj), {**to_dict(obj), **changes})


# ---- validation helpers used by the configs' __post_init__ -------------------------------------------------------

def check_positive(name: str, value: float | int | None, *, allow_none: bool = False) -> None:
    if value is None and allow_none:
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise ConfigError(f"--{name.replace('_', '-')} must be > 0 (got {value})")


def check_non_negative(name: str, value: float | int | None, *, allow_none: bool = False) -> None:
    if value is None and allow_none:
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0:
        raise ConfigError(f"--{name.replace('_', '-')} must be >= 0 (got {value})")


def check_choice(name: str, value: Any, choices: tuple) -> None:
    if value not in choices:
        raise ConfigError(f"--{name.replace('_', '-')} must be one of {', '.join(map(str, choices))} (got {value!r})")


def check_int(name: str, value: Any, minimum: int | None = None, *, allow_none: bool = False) -> None:
    """An integer (not a bool, not a float) of at least ``minimum``: the check 31 configs used to spell out."""
    if value is None and allow_none:
        return
    if isinstance(value, bool) or not isinstance(value, int) or (minimum is not None and value < minimum):
        bound = f" >= {minimum}" if minimum is not None else ""
        raise ConfigError(f"--{name.replace('_', '-')} must be an integer{bound} (got {value!r})")
