"""Run folders shared by every family: reading back the configs of a run to resume it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .checkpoint import latest_checkpoint
from .config import from_dict, to_dict
from .engine import RUN_CONFIG, TrainConfig
from .errors import CheckpointError, ConfigError
from .io import read_json
from .model import model_class, read_model_config


def resumed_configs(run_dir: str | Path | None, *, family: str, data_class: type, overrides: dict[str, Any],
                    model_config: Any = None, data_config: Any = None,
                    train_config: TrainConfig | None = None) -> tuple[Any, Any, TrainConfig]:
    """The (model, data, train) configs of the run in ``run_dir``, with the user's overrides applied.

    The model config comes from the newest checkpoint and cannot change; data and training options may (``--max-steps``
    to train longer, say). ``overrides`` maps field names to values as typed on the command line.
    """
    if run_dir is None:
        raise ConfigError("--resume needs --out RUN_DIR (the run to continue)")
    run_dir = Path(run_dir)
    ckpt = latest_checkpoint(run_dir) if run_dir.is_dir() else None
    if ckpt is None:
        raise CheckpointError(f"nothing to resume in {run_dir}: no checkpoints/step_* folder; "
                              f"drop --resume to start a new run")
    saved_model = read_model_config(ckpt)
    if saved_model.get("family") != family:
        raise CheckpointError(f"cannot resume {run_dir} as a {family} run: it holds a "
                              f"{saved_model.get('family', '?')} model ({saved_model['model_type']})")
    model_cls = model_class(saved_model["model_type"], source=str(ckpt))
    saved = read_json(run_dir / RUN_CONFIG, what="run config")
    try:
        m = from_dict(model_cls.config_class, saved_model["config"])
        d = from_dict(data_class, saved["data"])
        t = from_dict(TrainConfig, saved["train"])
    except (KeyError, ConfigError) as e:
        raise CheckpointError(f"{run_dir / RUN_CONFIG} is corrupt or from another genlab ({e})") from None
    saved_m = to_dict(m)
    changed = [k for k, v in overrides.items() if k in saved_m and saved_m[k] != v]
    if changed or (model_config is not None and to_dict(model_config) != saved_m):
        names = ", ".join("--" + k.replace("_", "-") for k in changed) or "the model config"
        raise ConfigError(f"cannot change {names} when resuming; start a new run instead")

    def merged(cls: type, saved_cfg: Any) -> Any:
        fields = to_dict(saved_cfg)
        return from_dict(cls, {**fields, **{k: v for k, v in overrides.items() if k in fields}})

    return m, data_config or merged(data_class, d), train_config or merged(TrainConfig, t)
