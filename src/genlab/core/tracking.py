"""Metrics: one JSON line per log step in ``metrics.jsonl`` (easy to grep, plot, diff) plus TensorBoard."""

from __future__ import annotations

import json
import math
import os
import sys
import time
from pathlib import Path
from typing import Any

from .io import write_bytes_atomic

METRICS_FILE = "metrics.jsonl"


def _clean(value: Any) -> Any:
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)  # JSON has no NaN; keep it visible as a string
    return value


def read_metrics(run_dir: str | os.PathLike) -> list[dict[str, Any]]:
    path = Path(run_dir) / METRICS_FILE
    if not path.exists():
        return []
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:
            continue  # a line cut by a kill -9
    return rows


class MetricsLogger:
    """Writes metrics of rank 0. On resume, rows logged after the resumed step (by a killed run) are dropped."""

    def __init__(self, run_dir: str | os.PathLike, *, enabled: bool = True, tensorboard: bool = True,
                 start_step: int = 0) -> None:
        self.enabled = enabled
        self.path = Path(run_dir) / METRICS_FILE
        self.writer = None
        if not enabled:
            return
        if start_step > 0:
            kept = [r for r in read_metrics(run_dir) if r.get("step", 0) <= start_step]
            # Atomically: a kill during this rewrite must not lose the rows of the earlier segments.
            write_bytes_atomic(self.path, "".join(json.dumps(r) + "\n" for r in kept).encode("utf-8"))
        elif self.path.exists():
            self.path.unlink()
        self._file = open(self.path, "a", encoding="utf-8")
        if tensorboard:
            try:
                from torch.utils.tensorboard import SummaryWriter
            except ImportError:  # an optional extra: metrics.jsonl always has everything
                SummaryWriter = None
                print("note: TensorBoard is not installed (pip install 'genlab[tensorboard]'); metrics go to "
                      f"{self.path} only", file=sys.stderr, flush=True)
            if SummaryWriter is not None:
                self.writer = SummaryWriter(str(Path(run_dir) / "tensorboard"), purge_step=start_step or None)

    def log(self, step: int, metrics: dict[str, Any]) -> None:
        if not self.enabled:
            return
        row = {"step": step, "time": round(time.time(), 3), **{k: _clean(v) for k, v in metrics.items()}}
        self._file.write(json.dumps(row) + "\n")
        self._file.flush()
        if self.writer is not None:
            for k, v in row.items():
                if k not in ("step", "time") and isinstance(v, (int, float)):
                    self.writer.add_scalar(k, v, step)

    def close(self) -> None:
        if not self.enabled:
            return
        self._file.close()
        if self.writer is not None:
            self.writer.close()
