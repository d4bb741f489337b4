"""Device choice, seeding and mixed precision."""

from __future__ import annotations

import contextlib
import os
import random

import numpy as np
import torch

from .errors import ConfigError

DEVICES = ("auto", "cpu", "cuda", "mps")
PRECISIONS = ("fp32", "bf16", "fp16")


def resolve_device(name: str = "auto", *, local_rank: int = 0) -> torch.device:
    """``auto`` picks CUDA, then Apple MPS, then CPU. ``cuda:1`` style names are accepted too."""
    base = name.split(":")[0]
    if base not in DEVICES:
        raise ConfigError(f"--device must be one of {', '.join(DEVICES)} (got {name!r})")
    if base == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda", local_rank % torch.cuda.device_count())
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if base == "cuda":
        if not torch.cuda.is_available():
            raise ConfigError("--device cuda was asked for, but PyTorch sees no CUDA GPU here; use --device cpu")
        if ":" in name:
            return torch.device(name)
        return torch.device("cuda", local_rank % torch.cuda.device_count())
    if base == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        raise ConfigError("--device mps was asked for, but Apple MPS is not available here; use --device cpu")
    return torch.device(base)


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and PyTorch (all devices). Same seed + config => same result on CPU."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def autocast(device: torch.device, precision: str) -> contextlib.AbstractContextManager:
    """Autocast context for ``precision``: fp32 (none), bf16 (CPU/CUDA/MPS) or fp16 (CUDA/MPS)."""
    if precision == "fp32":
        return contextlib.nullcontext()
    if precision not in PRECISIONS:
        raise ConfigError(f"--precision must be one of {', '.join(PRECISIONS)} (got {precision!r})")
    if precision == "fp16" and device.type == "cpu":
        raise ConfigError("--precision fp16 needs a GPU; on CPU use --precision bf16 or fp32")
    dtype = torch.bfloat16 if precision == "bf16" else torch.float16
    return torch.autocast(device_type=device.type, dtype=dtype)


def rng_state() -> dict:
    """All RNG states as tensors/lists (safe for ``torch.load(weights_only=True)``)."""
    np_state = np.random.get_state()
    state = {
        "python": random.getstate(),
        "numpy": [np_state[0], torch.from_numpy(np_state[1].astype(np.int64)), int(np_state[2]), int(np_state[3]),
                  float(np_state[4])],
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict) -> None:
    py = state["python"]
    random.setstate((py[0], tuple(py[1]), py[2]))
    kind, keys, pos, has_gauss, gauss = state["numpy"]
    np.random.set_state((kind, keys.numpy().astype(np.uint32), pos, has_gauss, gauss))
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        with contextlib.suppress(Exception):
            torch.cuda.set_rng_state_all(state["cuda"])


def default_num_threads() -> int:
    return int(os.environ.get("OMP_NUM_THREADS", 0)) or torch.get_num_threads()
