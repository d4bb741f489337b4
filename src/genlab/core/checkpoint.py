"""Training checkpoints: ``RUN/checkpoints/step_00000500/{config.json, model.safetensors, trainer_state.pt}``.

A checkpoint is first written completely into a hidden temporary folder, fsynced, and only then renamed to its final
``step_*`` name (a rename is atomic). Readers only ever look at ``step_*`` folders, so a ``kill -9`` in the middle of a
write leaves the previous checkpoint untouched and the half-written one invisible (it is cleaned up next time).

``trainer_state.pt`` holds optimiser/scheduler state, the step, RNG states and the data position: plain tensors,
numbers, strings, lists and dicts, loaded with ``torch.load(weights_only=True)`` so that it can never run code.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path
from typing import Any

import torch

from .errors import CheckpointError
from .io import fsync_dir
from .model import CONFIG_NAME, WEIGHTS_NAME, GenlabModel, read_model_config

CHECKPOINTS = "checkpoints"
TRAINER_STATE = "trainer_state.pt"
_STEP_DIR = re.compile(r"^step_(\d{8,})$")


def checkpoint_dir(run_dir: str | os.PathLike, step: int) -> Path:
    return Path(run_dir) / CHECKPOINTS / f"step_{step:08d}"


def list_checkpoints(run_dir: str | os.PathLike) -> list[tuple[int, Path]]:
    """Complete checkpoints of a run, oldest first."""
    root = Path(run_dir) / CHECKPOINTS
    if not root.is_dir():
        return []
    found = []
    for entry in root.iterdir():
        m = _STEP_DIR.match(entry.name)
        if m and entry.is_dir() and all((entry / n).exists() for n in (CONFIG_NAME, WEIGHTS_NAME, TRAINER_STATE)):
            found.append((int(m.group(1)), entry))
    return sorted(found)


def latest_checkpoint(run_dir: str | os.PathLike) -> Path | None:
    found = list_checkpoints(run_dir)
    return found[-1][1] if found else None


def _fsync_tree(folder: Path) -> None:
    for f in folder.iterdir():
        with open(f, "rb") as fh:
            os.fsync(fh.fileno())
    fsync_dir(folder)


def save_checkpoint(run_dir: str | os.PathLike, step: int, model: GenlabModel, trainer_state: dict[str, Any], *,
                    keep_last: int = 2) -> Path:
    """Write a complete checkpoint for ``step`` atomically and prune all but the newest ``keep_last``."""
    root = Path(run_dir) / CHECKPOINTS
    root.mkdir(parents=True, exist_ok=True)
    final = checkpoint_dir(run_dir, step)
    tmp = root / f".tmp-step_{step:08d}-{os.getpid()}"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir()
    try:
        model.save_pretrained(tmp, metadata={"step": str(step)})
        torch.save(trainer_state, tmp / TRAINER_STATE)
        _fsync_tree(tmp)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if final.exists():
        # Same step saved twice (e.g. Ctrl-C right after a periodic save): move the old one aside first, since
        # rename() cannot replace a non-empty folder. A crash in between still leaves the older step_* folders.
        trash = root / f".trash-step_{step:08d}-{os.getpid()}"
        os.rename(final, trash)
        os.rename(tmp, final)
        shutil.rmtree(trash, ignore_errors=True)
    else:
        os.rename(tmp, final)
    fsync_dir(root)
    _prune(root, keep_last)
    return final


def _prune(root: Path, keep_last: int) -> None:
    complete = list_checkpoints(root.parent)
    for step, path in complete[:-keep_last] if keep_last > 0 else []:
        # Rename first (atomic), then delete: a kill mid-delete leaves a .trash folder that is cleaned up later,
        # never a half-deleted step_* folder.
        trash = root / f".trash-step_{step:08d}-{os.getpid()}"
        os.rename(path, trash)
        shutil.rmtree(trash, ignore_errors=True)
    # Leftovers of writes that were killed half-way.
    for entry in root.iterdir():
        if entry.name.startswith((".tmp-step_", ".trash-step_")) and not entry.name.endswith(f"-{os.getpid()}"):
            shutil.rmtree(entry, ignore_errors=True)


def load_trainer_state(checkpoint: str | os.PathLike) -> dict[str, Any]:
    """Load ``trainer_state.pt`` safely (tensors and plain Python values only)."""
    path = Path(checkpoint) / TRAINER_STATE
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise CheckpointError(f"{path} does not exist") from None
    except Exception as e:  # corrupt zip, truncated file, disallowed (code-carrying) pickle content ...
        msg = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise CheckpointError(f"{path} is corrupt, truncated or unsafe ({msg[:200]}); "
                              f"delete {Path(checkpoint).name} to resume from the checkpoint before it") from None
    if not isinstance(state, dict) or "step" not in state:
        raise CheckpointError(f"{path} is not a genlab trainer state")
    return state


def checkpoint_family(checkpoint: str | os.PathLike) -> str | None:
    return read_model_config(checkpoint).get("family")
