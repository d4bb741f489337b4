"""Run folders shared by every family: reading back the configs of a run to resume it."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from .checkpoint import resumable_checkpoint
from .config import from_dict, to_dict
from .distributed import dist_info_from_env
from .engine import RUN_CONFIG, TrainConfig
from .errors import CheckpointError, ConfigError, a_or_an
from .io import read_json
from .model import model_class, read_model_config


def _shown(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, (tuple, list)):
        return ",".join(map(str, value))
    return str(value)


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def option_changes(before: dict[str, Any], after: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    """``{field: (saved, new)}`` for the fields whose value differs (tuples and lists compare equal)."""
    def norm(v: Any) -> Any:
        return list(v) if isinstance(v, tuple) else v
    return {k: (before[k], v) for k, v in after.items() if k in before and norm(before[k]) != norm(v)}


def resumed_configs(run_dir: str | Path | None, *, family: str, data_class: type, overrides: dict[str, Any],
                    model_config: Any = None, data_config: Any = None,
                    train_config: TrainConfig | None = None,
                    extra_saved: dict[str, Any] | None = None) -> tuple[Any, Any, TrainConfig]:
    """The (model, data, train) configs of the run in ``run_dir``, with the user's overrides applied.

    The model config comes from the newest checkpoint and cannot change (a :class:`ConfigError` names the options);
    data and training options may (``--max-steps`` to train longer, a new ``--lr`` ...). ``overrides`` maps field
    names to values as typed on the command line. What changes is said once, on one stderr line (rank 0), and the
    engine records it in ``train_config.json``'s history. ``extra_saved`` (a family's own saved options, e.g. the
    GAN's) lets the line include the family options among ``overrides`` too.
    """
    if run_dir is None:
        raise ConfigError("--resume needs --out RUN_DIR (the run to continue)")
    run_dir = Path(run_dir)
    ckpt = resumable_checkpoint(run_dir)
    saved_model = read_model_config(ckpt)
    if saved_model.get("family") != family:
        raise CheckpointError(f"cannot resume {run_dir} as {a_or_an(family)} run: it holds "
                              f"{a_or_an(saved_model.get('family', '?'))} model ({saved_model['model_type']})")
    model_cls = model_class(saved_model["model_type"], source=str(ckpt))
    saved = read_json(run_dir / RUN_CONFIG, what="run config")
    try:
        m = from_dict(model_cls.config_class, saved_model["config"])
        d = from_dict(data_class, saved["data"])
        t = from_dict(TrainConfig, saved["train"])
    except (KeyError, ConfigError) as e:
        raise CheckpointError(f"{run_dir / RUN_CONFIG} is corrupt or from another genlab ({e})") from None
    saved_m = to_dict(m)
    refused = option_changes(saved_m, {k: v for k, v in overrides.items() if k in saved_m})
    if refused or (model_config is not None and to_dict(model_config) != saved_m):
        names = ", ".join(_flag(k) for k in refused) or "the model config"
        details = ", ".join(f"{_flag(k)} {_shown(a)} -> {_shown(b)}" for k, (a, b) in refused.items())
        raise ConfigError(f"cannot change {names} when resuming{f' ({details})' if details else ''}: the model is "
                          f"fixed by its checkpoint; start a new run instead")

    def merged(cls: type, saved_cfg: Any) -> Any:
        fields = to_dict(saved_cfg)
        return from_dict(cls, {**fields, **{k: v for k, v in overrides.items() if k in fields}})

    data_out = data_config or merged(data_class, d)
    train_out = train_config or merged(TrainConfig, t)
    applied = {**option_changes(to_dict(d), to_dict(data_out)), **option_changes(to_dict(t), to_dict(train_out))}
    if extra_saved:
        applied.update(option_changes(extra_saved, {k: v for k, v in overrides.items() if k in extra_saved}))
    if applied and dist_info_from_env().is_main:
        listed = ", ".join(f"{_flag(k)} {_shown(a)} -> {_shown(b)}" for k, (a, b) in applied.items())
        print(f"resume: options changed from the saved run, applied from step {_step(ckpt)} on: {listed}",
              file=sys.stderr, flush=True)
    return m, data_out, train_out


def _step(checkpoint: Path) -> int:
    return int(checkpoint.name.removeprefix("step_"))
