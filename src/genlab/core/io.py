"""Atomic file writes: a reader (or a crash) never sees a half-written file.

Every file genlab writes that a later run relies on (checkpoints, configs, images, JSON, the rewrite of
``metrics.jsonl`` on resume) goes through :func:`atomic_write`: write to a temporary file in the same folder, flush
and fsync, then ``os.replace`` it over the target (appending a line to ``metrics.jsonl`` does not: a line cut by a kill
is skipped when the file is read back). ``os.replace`` is atomic on POSIX and Windows, so after a ``kill -9`` the target is either the old file or the
new one, never a mix. The file gets the mode any other new file would (``0o666 & ~umask``), not mkstemp's 0600.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .errors import DataError, GenlabError


def ensure_dir(path: str | os.PathLike) -> Path:
    """Create ``path`` (and parents) or raise a one-line :class:`GenlabError` saying why it cannot be written."""
    path = Path(path)
    try:
        path.mkdir(parents=True, exist_ok=True)
        # mkdir succeeds on an existing read-only dir: prove we can create a file there.
        fd, probe = tempfile.mkstemp(dir=path, prefix=".genlab-write-test-")
        os.close(fd)
        os.unlink(probe)
    except OSError as e:
        reason = e.strerror or str(e)
        raise GenlabError(f"cannot write to output folder {path}: {reason}; choose another --out") from None
    return path


def current_umask() -> int:
    """The process umask, read without changing it where the OS allows (``/proc``), else by setting it back."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def fsync_dir(path: Path) -> None:
    """Flush a directory entry (so a rename survives power loss). A no-op where directories cannot be opened."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike, *, fsync: bool = True) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success it replaces ``path`` atomically, on error it is removed.

    >>> with atomic_write("out/model.safetensors") as tmp:
    ...     save_file(tensors, tmp)
    """
    path = Path(path)
    parent = path.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(dir=parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as e:
        raise GenlabError(f"cannot write {path}: {e.strerror or e}") from None
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        # mkstemp creates 0600 files and os.replace keeps the mode: give the file what open() would (0666 & ~umask),
        # so run folders stay readable by TensorBoard, web galleries and colleagues like any other file.
        with contextlib.suppress(OSError):
            os.chmod(tmp, 0o666 & ~current_umask())
        if fsync:
            with open(tmp, "rb+") as f:
                os.fsync(f.fileno())
        os.replace(tmp, path)
        if fsync:
            fsync_dir(parent)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def write_bytes_atomic(path: str | os.PathLike, data: bytes) -> Path:
    with atomic_write(path) as tmp:
        tmp.write_bytes(data)
    return Path(path)


def write_json_atomic(path: str | os.PathLike, obj: Any) -> Path:
    return write_bytes_atomic(path, (json.dumps(obj, indent=2, sort_keys=True) + "\n").encode())


def read_json(path: str | os.PathLike, *, what: str = "file") -> dict:
    """Read a JSON object, turning missing/corrupt files into a one-line :class:`GenlabError`."""
    path = Path(path)
    try:
        obj = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise GenlabError(f"{what} {path} does not exist") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise GenlabError(f"{what} {path} is unreadable or corrupt ({type(e).__name__}: {e})") from None
    if not isinstance(obj, dict):
        raise GenlabError(f"{what} {path} is corrupt (expected a JSON object)")
    return obj


def read_user_file(path: str | os.PathLike, *, what: str, fix: str = "check the path") -> bytes:
    """The bytes of a file a user pointed us at, or a one-line :class:`DataError` (missing, a folder, unreadable)."""
    path = Path(path)
    if not path.exists():
        raise DataError(f"{what} {path} does not exist; {fix}")
    if path.is_dir():
        raise DataError(f"{what} {path} is a directory, not a file; point genlab at the file itself")
    try:
        return path.read_bytes()
    except PermissionError:
        raise DataError(f"{what} {path} is not readable (permission denied); fix its permissions") from None
    except OSError as e:
        raise DataError(f"{what} {path} could not be read ({e.strerror or e}); {fix}") from None
