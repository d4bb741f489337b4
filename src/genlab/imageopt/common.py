"""What every image-optimisation command shares: where its outputs go (checked before any work), progress that suits
a terminal and a log file alike, a clean stop on Ctrl-C / SIGTERM, and the smallest image a network can take."""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from ..core.clikit import check_output_dir, check_output_file, stderr
from ..core.errors import ConfigError
from ..features.networks import FeatureNetwork
from ..features.output import default_out_dir


def output_folder(out: str | Path | None, *, kind: str, stem: str) -> Path:
    """The folder a command writes into: ``out`` (checked now: a folder that can be created and written) or
    ``runs/<kind>/<stem>-<time>``. Called before the work, so a bad path never costs a result."""
    if out is None:
        return default_out_dir(kind, stem)
    return check_output_dir(out)


def output_file(output: str | Path | None) -> Path | None:
    """``--output FILE`` for the one main image (checked now), or None."""
    if output is None:
        return None
    return check_output_file(output, suffixes=(".png",))


# ---- progress ------------------------------------------------------------------------------------------------------

class Progress:
    """A tqdm bar when stderr is a terminal; otherwise five plain lines (at 20%, 40% ...) so a redirected log gets no
    ``\\r`` bar noise. ``update(loss=...)`` after each step."""

    def __init__(self, total: int, desc: str, unit: str, enabled: bool = True) -> None:
        self.total, self.desc, self.unit, self.n = total, desc, unit, 0
        self.enabled = bool(enabled) and total > 0
        self.bar = None
        self._t0 = time.perf_counter()
        self._every = max(1, -(-total // 5))
        if self.enabled and sys.stderr.isatty():
            from tqdm import tqdm
            self.bar = tqdm(total=total, desc=desc, unit=unit, leave=False)

    def update(self, **postfix: float) -> None:
        self.n += 1
        if not self.enabled:
            return
        if self.bar is not None:
            self.bar.update(1)
            if postfix:
                self.bar.set_postfix({k: f"{v:.4g}" for k, v in postfix.items()})
        elif self.n % self._every == 0 or self.n == self.total:
            extra = "".join(f", {k} {v:.4g}" for k, v in postfix.items())
            stderr(f"{self.desc}: {self.n}/{self.total} {self.unit}s ({time.perf_counter() - self._t0:.1f}s){extra}")

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


# ---- a clean stop --------------------------------------------------------------------------------------------------

class StopRequest:
    """Set by SIGINT / SIGTERM inside :func:`graceful_stop`; loops finish the step they are in and write what is done."""

    def __init__(self) -> None:
        self.signal: str | None = None

    @property
    def requested(self) -> bool:
        return self.signal is not None


@contextlib.contextmanager
def graceful_stop(what: str) -> Iterator[StopRequest]:
    """Within the block the first Ctrl-C (or SIGTERM) asks the loop to stop after its current step; a second one
    interrupts at once. Outside the main thread (no signal handlers there) it does nothing."""
    stop = StopRequest()
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return

    def handler(signum, frame) -> None:
        if stop.requested:
            raise KeyboardInterrupt
        stop.signal = signal.Signals(signum).name
        stderr(f"{stop.signal}: stopping {what} after this step and writing what is done (again to abort)")

    previous = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield stop
    finally:
        for s, h in previous.items():
            signal.signal(s, h)


# ---- image sizes ---------------------------------------------------------------------------------------------------

def check_image_fits(net: FeatureNetwork, height: int, width: int, *, what: str = "the image",
                     hint: str = "use a larger image or --size") -> None:
    """A one-line error when ``height x width`` is below the smallest input ``net`` (as truncated) can take."""
    minimum = net.min_input_size()
    if min(height, width) < minimum:
        upto = f" up to {net.names[-1]}" if net.names else ""
        raise ConfigError(f"image too small for {net.model_name}{upto} (min {minimum} px): {what} is "
                          f"{width}x{height} px; {hint}")
