"""Training checkpoints: ``RUN/checkpoints/step_00000500/{config.json, model.safetensors, trainer_state.pt}``.

A checkpoint is first written completely into a hidden temporary folder, fsynced, and only then renamed to its final
``step_*`` name (a rename is atomic). Readers only ever look at ``step_*`` folders, so a ``kill -9`` in the middle of a
write leaves the previous checkpoint untouched and the half-written one invisible (it is cleaned up next time).

``trainer_state.pt`` holds optimiser/scheduler state, the step, RNG states and the data position: plain tensors,
numbers, strings, lists and dicts, loaded with ``torch.load(weights_only=True)`` so that it can never run code.
"""

from __future__ import annotations

import os
import pickle
import re
import shutil
import zipfile
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
    return [(step, entry) for step, entry, missing in _step_folders(run_dir) if not missing]


def _step_folders(run_dir: str | os.PathLike) -> list[tuple[int, Path, list[str]]]:
    """Every ``checkpoints/step_*`` folder with the names of the checkpoint files it lacks, oldest first."""
    root = Path(run_dir) / CHECKPOINTS
    if not root.is_dir():
        return []
    found = []
    for entry in root.iterdir():
        m = _STEP_DIR.match(entry.name)
        if m and entry.is_dir():
            missing = [n for n in (CONFIG_NAME, WEIGHTS_NAME, TRAINER_STATE) if not (entry / n).exists()]
            found.append((int(m.group(1)), entry, missing))
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


def incomplete_checkpoints(run_dir: str | os.PathLike) -> list[tuple[int, Path, list[str]]]:
    """``step_*`` folders that lack some of their files (a user deleted one?), with the missing names; oldest first.

    genlab never leaves these (a checkpoint becomes ``step_*`` only once complete), so they are reported, not used.
    """
    return [f for f in _step_folders(run_dir) if f[2]]


def _what_to_do(checkpoint: Path) -> str:
    """The way out when ``checkpoint`` cannot be resumed: the checkpoint before it, or a new run."""
    earlier = [path for step, path in list_checkpoints(checkpoint.parent.parent) if path.name < checkpoint.name]
    if earlier:
        return f"delete {checkpoint} to resume from {earlier[-1].name}"
    return ("it is the only checkpoint of this run, so the run cannot be resumed: start a new run "
            "(another --out, or drop --resume); its weights still load if model.safetensors is intact")


def resumable_checkpoint(run_dir: str | os.PathLike) -> Path:
    """The newest complete checkpoint of ``run_dir``, or a :class:`CheckpointError` saying exactly what is missing."""
    run_dir = Path(run_dir)
    latest = latest_checkpoint(run_dir) if run_dir.is_dir() else None
    broken = [b for b in incomplete_checkpoints(run_dir) if latest is None or b[1].name > latest.name]
    if broken:
        step, path, missing = broken[-1]
        raise CheckpointError(f"checkpoint {path} is incomplete: {' and '.join(missing)} "
                              f"{'is' if len(missing) == 1 else 'are'} missing; {_what_to_do(path)}")
    if latest is None:
        raise CheckpointError(f"nothing to resume in {run_dir}: it has no checkpoints/step_* folder; "
                              f"drop --resume to start a new run")
    return latest


def _damage(path: Path) -> str:
    """What is wrong with a trainer_state.pt that torch.load refused, in genlab's words (never PyTorch's)."""
    try:
        with open(path, "rb") as f:
            head = f.read(4)
        size = path.stat().st_size
    except OSError as e:
        return f"cannot be read ({e.strerror or e})"
    if size == 0:
        return "is empty (0 bytes)"
    if head != b"PK\x03\x04":
        return f"is not a PyTorch file (its {size} bytes are not a checkpoint archive: overwritten or garbage)"
    if not zipfile.is_zipfile(path):
        return f"is truncated (the archive ends early at {size} bytes: a copy or a disk write was cut short)"
    return "is damaged (the archive is complete but its contents do not read back)"


def load_trainer_state(checkpoint: str | os.PathLike) -> dict[str, Any]:
    """Load ``trainer_state.pt`` safely (tensors and plain Python values only)."""
    checkpoint = Path(checkpoint)
    path = checkpoint / TRAINER_STATE
    if not path.exists():
        raise CheckpointError(f"{path} is missing (the checkpoint folder {checkpoint.name} is incomplete); "
                              f"{_what_to_do(checkpoint)}")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError:
        # weights_only refused the content. The reason PyTorch gives is cut off and suggests weights_only=False,
        # which would run whatever code the file carries: say it in our words instead.
        what = _damage(path)
        if what.startswith("is damaged"):
            what = ("holds Python objects other than tensors and plain values (genlab never writes those); it was "
                    "not loaded, because loading it could run code")
        raise CheckpointError(f"{path} {what}; {_what_to_do(checkpoint)}") from None
    except Exception:  # noqa: BLE001 - corrupt zip, truncated file ...: torch raises many types
        raise CheckpointError(f"{path} {_damage(path)}; {_what_to_do(checkpoint)}") from None
    if not isinstance(state, dict) or "step" not in state:
        raise CheckpointError(f"{path} is not a genlab trainer state (no step in it); {_what_to_do(checkpoint)}")
    return state


def checkpoint_family(checkpoint: str | os.PathLike) -> str | None:
    return read_model_config(checkpoint).get("family")
