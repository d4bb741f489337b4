"""One process per run folder: ``RUN/.lock``.

Two trainings writing into the same folder would interleave checkpoints, metrics and configs and silently keep a mix.
:class:`RunLock` creates ``RUN/.lock`` with ``O_CREAT | O_EXCL`` (exactly one process can succeed) holding a small
JSON record (pid, host, time, command); a second process gets one line saying who holds the folder. A lock whose
process is gone (same host, pid no longer running, e.g. after ``kill -9`` or a power cut) is taken over with a note.
A lock from another host is never taken over: genlab cannot tell whether that process still runs.
"""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import socket
import sys
import time
import uuid
from pathlib import Path
from typing import Any

from .errors import GenlabError

LOCK_NAME = ".lock"


def _start_ticks(pid: int) -> int | None:
    """When ``pid`` started (Linux clock ticks since boot), to tell a reused pid from the one that wrote a lock."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        return int(stat[stat.rindex(")") + 2:].split()[19])
    except (OSError, ValueError, IndexError):
        return None


def _command_line() -> str:
    """What this process was started as (``genlab vae train ...``, also for ``python -m genlab``), shortened."""
    prog = Path(sys.argv[0]) if sys.argv and sys.argv[0] else Path("python")
    name = prog.parent.name if prog.name == "__main__.py" else prog.name
    return shlex.join([name, *sys.argv[1:]])[:500]


def _pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    if os.name == "nt":  # os.kill(pid, 0) would send Ctrl-C there; never call a Windows lock stale by itself
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    except OSError:
        return True
    return True


class RunLock:
    """``with RunLock(run_dir): ...`` owns ``run_dir`` for the block (released on exceptions too).

    Re-entrant within one process (a second ``RunLock`` of the same folder in the same process just counts).
    """

    _held: dict[Path, int] = {}  # folder -> nesting depth, for this process

    def __init__(self, run_dir: str | os.PathLike, *, command: str | None = None, wait: float = 1.0) -> None:
        self.run_dir = Path(run_dir)
        self.path = self.run_dir / LOCK_NAME
        self.command = command if command is not None else _command_line()
        self.wait = wait  # how long to wait for a lock file that is being written right now
        self._token = uuid.uuid4().hex
        self._owned = False
        self._nested = False

    # ---- public ------------------------------------------------------------------------------------------------
    def acquire(self) -> RunLock:
        key = self.path.resolve()
        if RunLock._held.get(key):
            RunLock._held[key] += 1
            self._nested = True
            return self
        for _ in range(5):
            if self._create():
                RunLock._held[key] = 1
                self._owned = True
                return self
            info = self._read()
            if not self._is_stale(info):
                raise GenlabError(self._in_use_message(info))
            if self._take_over(info):
                continue
        raise GenlabError(f"{self.run_dir} is in use (its lock {self.path} keeps changing); wait for the other "
                          f"process or choose another --out")

    @classmethod
    def check(cls, run_dir: str | os.PathLike) -> None:
        """Raise the "in use" error now if a live process holds ``run_dir`` (takes nothing; a stale lock passes).

        For commands that do slow work before training starts (a GAN's FID reference), so that a second process
        fails at once rather than after it.
        """
        probe = cls(run_dir, wait=0.2)
        if not probe.path.exists() or probe.path.resolve() in cls._held:
            return
        info = probe._read()
        if info is not None and not probe._is_stale(info):
            raise GenlabError(probe._in_use_message(info))

    def release(self) -> None:
        key = self.path.resolve()
        if self._nested:
            RunLock._held[key] -= 1
            self._nested = False
            return
        if not self._owned:
            return
        self._owned = False
        RunLock._held.pop(key, None)
        with contextlib.suppress(OSError, ValueError):
            if json.loads(self.path.read_text(encoding="utf-8")).get("token") == self._token:
                self.path.unlink()

    def __enter__(self) -> RunLock:
        return self.acquire()

    def __exit__(self, *exc: Any) -> None:
        self.release()

    # ---- internals ---------------------------------------------------------------------------------------------
    def _record(self) -> dict[str, Any]:
        return {"pid": os.getpid(), "host": socket.gethostname(), "time": time.strftime("%Y-%m-%d %H:%M:%S"),
                "command": self.command, "start_ticks": _start_ticks(os.getpid()), "token": self._token}

    def _create(self) -> bool:
        try:
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            return False
        except OSError as e:
            raise GenlabError(f"cannot write {self.path}: {e.strerror or e}; choose another --out") from None
        try:
            os.write(fd, (json.dumps(self._record()) + "\n").encode())
            os.fsync(fd)
        finally:
            os.close(fd)
        return True

    def _read(self) -> dict[str, Any] | None:
        """The lock's record; None if it vanished; {} if it stays unreadable (not JSON) for ``wait`` seconds."""
        deadline = time.monotonic() + self.wait
        while True:
            try:
                info = json.loads(self.path.read_text(encoding="utf-8"))
                if isinstance(info, dict) and isinstance(info.get("pid"), int):
                    return info
            except FileNotFoundError:
                return None
            except (OSError, ValueError):
                pass
            if time.monotonic() >= deadline:  # a writer that just created it has had time to fill it in
                return {}
            time.sleep(0.05)

    def _is_stale(self, info: dict[str, Any] | None) -> bool:
        if info is None:  # released between our create and our read: try again
            return True
        if not info or info.get("host") != socket.gethostname():
            return False
        pid = info["pid"]
        if not _pid_alive(pid):
            return True
        ticks = info.get("start_ticks")
        now = _start_ticks(pid)
        if ticks is not None and now is not None and ticks != now:
            return True  # that pid number belongs to another process now
        return pid == os.getpid() and self.path.resolve() not in RunLock._held  # a previous life of our pid

    def _take_over(self, info: dict[str, Any] | None) -> bool:
        """Move the stale lock aside (only one of several racing processes can) and report it."""
        if info is None:
            return True
        aside = self.path.with_name(f"{LOCK_NAME}.stale-{os.getpid()}-{self._token[:8]}")
        try:
            os.rename(self.path, aside)
        except FileNotFoundError:
            return True  # another process took it over first; our next create decides
        try:
            moved = json.loads(aside.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            moved = {}
        if moved.get("token") != info.get("token") or moved.get("pid") != info.get("pid"):
            # We moved a fresh lock that someone created after we read the stale one: put it back.
            with contextlib.suppress(OSError):
                os.link(aside, self.path)
            with contextlib.suppress(OSError):
                aside.unlink()
            return True
        with contextlib.suppress(OSError):
            aside.unlink()
        print(f"note: {self.run_dir} was locked by pid {info['pid']} on {info.get('host')} since "
              f"{info.get('time', '?')}, which is no longer running; taking the folder over", file=sys.stderr,
              flush=True)
        return True

    def _in_use_message(self, info: dict[str, Any]) -> str:
        if not info:
            return (f"{self.run_dir} is in use: its lock file {self.path} is unreadable; if no genlab process uses "
                    f"this folder, delete it and retry")
        msg = (f"{self.run_dir} is in use by pid {info['pid']} on {info.get('host', '?')} since "
               f"{info.get('time', '?')}; wait for it or choose another --out")
        if info.get("host") != socket.gethostname():
            msg += f" (if nothing runs there any more, delete {self.path})"
        return msg
