"""Stopping cleanly on Ctrl-C (SIGINT) and SIGTERM (``kill``, ``timeout``, ``docker stop``, Slurm, systemd).

:func:`graceful_stop` turns the first signal into a flag that a long loop checks between steps, so it can finish the
step, save what it has and exit with the conventional code (130 for SIGINT, 143 for SIGTERM); a second Ctrl-C aborts
at once. The training engine uses it; so can any long command (DeepDream, style transfer)::

    with graceful_stop(message="stopping after this octave (Ctrl-C again to abort)") as stop:
        for step in range(steps):
            ...
            if stop:
                save_partial_result()
                stop.raise_if_requested(f"stopped at step {step}; partial result saved to {path}")
"""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
from collections.abc import Callable, Iterator

from .errors import GenlabError

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Interrupted(GenlabError):
    """Stopped by a signal after saving what could be saved; ``exit_code`` is 128 + the signal (130 / 143)."""

    exit_code = 130

    def __init__(self, message: str, *, signum: int = signal.SIGINT) -> None:
        super().__init__(message)
        self.signum = signum
        self.exit_code = 128 + int(signum)


class StopRequest:
    """True once SIGINT or SIGTERM arrived inside :func:`graceful_stop` (``signum`` says which)."""

    def __init__(self) -> None:
        self.signum: int | None = None

    def __bool__(self) -> bool:
        return self.signum is not None

    @property
    def exit_code(self) -> int:
        return 128 + int(self.signum if self.signum is not None else signal.SIGINT)

    @property
    def name(self) -> str:
        return signal.Signals(self.signum).name if self.signum is not None else ""

    def request(self, signum: int = signal.SIGINT) -> None:
        """Ask the loop to stop as if ``signum`` had arrived (also usable from code)."""
        if self.signum is None:
            self.signum = int(signum)

    def raise_if_requested(self, message: str, error: type[Interrupted] = Interrupted) -> None:
        """Raise ``error(message)`` with the signal's exit code when a stop was requested."""
        if self.signum is not None:
            raise error(message, signum=self.signum)


@contextlib.contextmanager
def graceful_stop(*, message: str | Callable[[int], str] | None = "interrupt: finishing this step (Ctrl-C again "
                                                                  "to abort)") -> Iterator[StopRequest]:
    """Within the block, the first SIGINT/SIGTERM sets the yielded flag (and prints ``message`` on stderr, once;
    a callable gets the signal number and returns the text).

    A second SIGINT raises ``KeyboardInterrupt`` (abort); a second SIGTERM exits with 143 at once. The previous
    handlers are restored when the block ends. Off the main thread (where Python cannot install handlers) the flag
    simply never turns on.
    """
    stop = StopRequest()

    def handler(signum, frame) -> None:
        if stop:
            if signum == signal.SIGINT:
                raise KeyboardInterrupt
            raise SystemExit(128 + signum)
        stop.request(signum)
        text = message(signum) if callable(message) else message
        if text:
            print(("\n" if signum == signal.SIGINT and sys.stderr.isatty() else "") + text, file=sys.stderr,
                  flush=True)

    old = {}
    if threading.current_thread() is threading.main_thread():
        for sig in SIGNALS:
            old[sig] = signal.signal(sig, handler)
    try:
        yield stop
    finally:
        for sig, previous in old.items():
            signal.signal(sig, previous)
