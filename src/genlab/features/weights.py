"""Where a feature network's weights come from: ``imagenet`` (torchvision's weight enums and hub cache),
``random`` (seeded Kaiming init, clearly marked), or a local state_dict file (``.pth`` / ``.safetensors``)."""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
from dataclasses import asdict, dataclass
from pathlib import Path

import torch

from ..core.errors import CheckpointError, ConfigError


@dataclass
class WeightsInfo:
    """What weights a feature network runs with; written into every output's metadata."""

    source: str  # "imagenet" | "random" | "file" | "genlab"
    name: str
    pretrained: bool
    sha256: str | None = None
    seed: int | None = None

    def describe(self) -> str:
        if self.source == "random":
            return (f"random (seed {self.seed}) — NOT pretrained, results show no learned features")
        return f"{self.name} (sha256 {self.sha256})" if self.sha256 else self.name

    def to_dict(self) -> dict:
        return {**asdict(self), "description": self.describe()}


def sha256_of(path: str | os.PathLike) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def hub_checkpoint_path(url: str) -> Path:
    """Where torchvision's ``load_state_dict_from_url`` keeps (and looks for) the file of ``url``."""
    return Path(torch.hub.get_dir()) / "checkpoints" / os.path.basename(url)


def _offline() -> bool:
    return os.environ.get("GENLAB_OFFLINE", "").strip().lower() not in ("", "0", "false", "no")


def imagenet_state_dict(model: str, weights_enum) -> tuple[dict[str, torch.Tensor], WeightsInfo]:
    """torchvision's real ImageNet weights: from the hub cache, else downloaded (unless offline)."""
    url = weights_enum.url
    path = hub_checkpoint_path(url)
    put_it = (f"put {path.name} (from {url}) at {path}, or use --weights random or --weights FILE")
    if not path.exists():
        if _offline():
            raise CheckpointError(f"ImageNet weights for {model} are not in the cache and GENLAB_OFFLINE is set; "
                                  f"{put_it}")
        try:
            # torch.hub says "Downloading: URL to PATH" on stdout; keep stderr for our one-line error
            with contextlib.redirect_stderr(io.StringIO()):
                torch.hub.load_state_dict_from_url(url, progress=False, check_hash=True, map_location="cpu")
        except Exception as e:  # noqa: BLE001 - URLError, timeouts, hash mismatch: all mean "no file"
            reason = " ".join(str(e).split())[:100] or type(e).__name__
            raise CheckpointError(f"cannot download ImageNet weights for {model} ({reason}); {put_it}") from None
    state = _read_state_dict(path)
    return state, WeightsInfo("imagenet", f"torchvision {weights_enum}", True, sha256_of(path))


def file_state_dict(path: str | os.PathLike) -> tuple[dict[str, torch.Tensor], WeightsInfo]:
    path = Path(path)
    if not path.exists():
        raise CheckpointError(f"weights file {path} does not exist; pass imagenet, random or a state_dict file")
    if path.is_dir():
        raise CheckpointError(f"weights file {path} is a folder; pass a .pth or .safetensors state_dict file")
    state = _read_state_dict(path)
    return state, WeightsInfo("file", str(path), True, sha256_of(path))


def _read_state_dict(path: Path) -> dict[str, torch.Tensor]:
    if path.suffix == ".safetensors":
        from safetensors import SafetensorError
        from safetensors.torch import load_file
        try:
            return load_file(str(path))
        except (SafetensorError, OSError, ValueError) as e:
            raise CheckpointError(f"{path} is not a readable safetensors file ({_short(e)})") from None
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # noqa: BLE001 - pickle/zip errors of many kinds all mean "not a state_dict file"
        raise CheckpointError(f"{path} is not a readable state_dict file ({_short(e)}); save one with "
                              f"torch.save(model.state_dict(), path)") from None
    if isinstance(state, dict) and isinstance(state.get("state_dict"), dict):
        state = state["state_dict"]
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise CheckpointError(f"{path} does not hold a state_dict (a dict of tensors)")
    return state


def _short(e: BaseException) -> str:
    text = " ".join(str(e).split()) or type(e).__name__
    return text if len(text) <= 120 else text[:117] + "..."


def check_weights_spec(weights: str) -> str:
    if not isinstance(weights, str) or not weights:
        raise ConfigError("--weights must be imagenet, random or a state_dict FILE")
    return weights
