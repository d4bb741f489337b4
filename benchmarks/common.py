"""Shared by the benchmark scripts: where the project's data is, and how results are written."""

from __future__ import annotations

import json
import platform
from pathlib import Path
from typing import Any

import torch

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
SHAKESPEARE = SHARED_DATA / "tinyshakespeare" / "input.txt"


def machine_info() -> dict[str, Any]:
    return {"python": platform.python_version(), "torch": torch.__version__, "threads": torch.get_num_threads(),
            "cpu": platform.processor() or platform.machine()}


def write_results(out: str | Path, summary: dict[str, Any]) -> Path:
    """Write a benchmark's summary as JSON (with the machine's facts) and say where."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({**summary, "machine": machine_info()}, indent=2) + "\n")
    print(f"written {out}")
    return out
