"""What every image-optimisation command shares: where its outputs go (checked before any work), progress that suits
a terminal and a log file alike, a clean stop on Ctrl-C / SIGTERM, and the smallest image a network can take."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from ..core.clikit import check_output_dir, check_output_file, stderr
from ..core.errors import ConfigError
from ..core.signals import StopRequest, graceful_stop  # noqa: F401 - re-exported for the loops here
from ..features.network import FeatureNetwork
from ..features.output import default_out_dir


def output_folder(out: str | Path | None, *, kind: str, stem: str) -> Path:
    """The folder a command writes into: ``out`` (checked now: a folder that can be created and written) or
    ``runs/<kind>/<stem>-<time>``. Called before the work, so a bad path never costs a result."""
    if out is None:
        return default_out_dir(kind, stem)
    folder = check_output_dir(out)
    probe_writable(folder, flag="--out")
    return folder


def output_file(output: str | Path | None) -> Path | None:
    """``--output FILE`` for the one main image (checked now), or None."""
    if output is None:
        return None
    path = check_output_file(output, suffixes=(".png",))
    probe_writable(path.parent if str(path.parent) else Path("."), flag="--output", of=path)
    return path


def probe_writable(folder: Path, *, flag: str, of: Path | None = None) -> None:
    """Really create (then remove) what is missing of ``folder`` and a file in it: permission bits say nothing to
    root, and ``/proc/d`` passes ``os.access`` yet cannot be made. Nothing is left behind."""
    made: list[Path] = []
    missing = folder
    while not missing.exists() and missing.parent != missing:
        made.append(missing)
        missing = missing.parent
    try:
        for d in reversed(made):
            d.mkdir()
        import tempfile
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as e:
        raise ConfigError(f"cannot write {flag} {of if of is not None else folder}: "
                          f"{e.strerror or e} ({e.filename or folder})") from None
    finally:
        for d in made:  # innermost first
            try:
                d.rmdir()
            except OSError:
                pass


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


# ---- a clean stop: core.signals.graceful_stop (the first SIGINT / SIGTERM sets a flag the loops check) -----------

def stop_message(what: str) -> str:
    return f"interrupt: stopping {what} after this step and writing what is done (Ctrl-C again to abort)"


# ---- image sizes ---------------------------------------------------------------------------------------------------

def check_image_fits(net: FeatureNetwork, height: int, width: int, *, what: str = "the image",
                     hint: str = "use a larger image or --size") -> None:
    """A one-line error when ``height x width`` is below the smallest input ``net`` (as truncated) can take."""
    minimum = net.min_input_size()
    if min(height, width) < minimum:
        upto = f" up to {net.names[-1]}" if net.names else ""
        raise ConfigError(f"image too small for {net.model_name}{upto} (min {minimum} px): {what} is "
                          f"{width}x{height} px; {hint}")
