"""The contract between the app (``genlab app``) and the families' tabs.

A family shows itself in the app with ``src/genlab/<family>/app_tab.py``::

    TITLE = "VAE / AE / AAE"          # the tab's label
    REQUIRES = ()                      # optional modules the tab needs (missing -> the tab says what to install)

    def build_tab(gr, ctx: AppContext) -> None:
        run = ctx.run_picker(gr, prefix="vae", label="run folder", elem_id="vae-run")
        n = gr.Slider(1, 64, value=16, step=1, label="n")
        out = gr.Image(label="samples", type="pil", elem_id="vae-samples")
        gr.Button("Sample", elem_id="vae-sample-btn").click(ctx.guard(_sample, ctx), [run, n], out)

and its ``"genlab.<family>.app_tab:build_tab"`` line in ``genlab.families.APP_TABS``. ``build_tab`` is called inside
``with gr.Tab(TITLE):`` with the ``gradio`` module (the tab never imports it itself, so ``import genlab`` stays light)
and this :class:`AppContext`. Rules a tab keeps:

* Run folders come from ``ctx.resolve_run(value)`` only: it refuses anything outside ``--runs-dir`` (``../``,
  absolute paths elsewhere, symlinks that lead out) and anything that is not a saved genlab model.
* Uploads come from ``ctx.load_upload(file)`` (the image loader's pixel limit plus a byte limit: decompression bombs,
  truncated or non-image files become a one-line message) and ``ctx.upload_path(file, suffixes=...)`` for other files.
* Handlers are wrapped with ``ctx.guard(fn, ...)``: a :class:`~genlab.core.errors.GenlabError` (and any other
  exception, as "internal error") is shown in the page as a message; the server never goes down for a bad input.
* Anything long (training) goes through ``ctx.jobs`` (one background ``python -m genlab ...`` subprocess at a time,
  queued, Cancel = SIGINT, so the run keeps a resumable checkpoint); never inside a request handler.
* ``elem_id``s start with the family's name (``vae-...``): the browser tests find components by them.
"""

from __future__ import annotations

import functools
import json
import os
import shlex
import signal
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..core.errors import GenlabError

DEFAULT_MAX_UPLOAD_BYTES = 50 * 1024 * 1024  # also given to gradio's launch(max_file_size=...)


class AppError(GenlabError):
    """A request the app refuses (a run folder outside --runs-dir, a bad upload ...); shown in the page."""


# ---- runs --------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class RunInfo:
    path: Path  # absolute, resolved, inside runs_dir
    rel: str  # relative to runs_dir, as shown in the page and accepted back by resolve_run
    model_type: str
    family: str
    mtime: float


def _read_config(folder: Path) -> dict | None:
    try:
        cfg = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return cfg if isinstance(cfg, dict) and isinstance(cfg.get("model_type"), str) else None


# ---- jobs (the Train tab) ------------------------------------------------------------------------------------------

@dataclass
class Job:
    id: int
    argv: list[str]  # genlab arguments (without "genlab")
    run_dir: Path
    log_path: Path
    state: str = "queued"  # queued | running | finished | failed | cancelled
    returncode: int | None = None
    submitted: float = field(default_factory=time.time)
    started: float | None = None
    ended: float | None = None
    cancel_requested: bool = False
    process: subprocess.Popen | None = field(default=None, repr=False)

    @property
    def command(self) -> str:
        return "genlab " + shlex.join(self.argv)

    def metrics(self) -> list[dict]:
        """The run's metrics.jsonl rows so far (a half-written last line is skipped)."""
        rows = []
        try:
            text = (self.run_dir / "metrics.jsonl").read_text(encoding="utf-8")
        except OSError:
            return rows
        for line in text.splitlines():
            try:
                row = json.loads(line)
            except ValueError:
                continue
            if isinstance(row, dict):
                rows.append(row)
        return rows

    def log_tail(self, lines: int = 12) -> str:
        try:
            data = self.log_path.read_bytes()[-20000:].decode("utf-8", "replace")
        except OSError:
            return ""
        # progress bars rewrite one line with \r: keep the last state of each line
        return "\n".join(part.split("\r")[-1] for part in data.splitlines()[-lines:])

    def describe(self) -> str:
        if self.state == "queued":
            return f"job {self.id}: queued — {self.command}"
        if self.state == "running":
            return f"job {self.id}: running for {time.time() - (self.started or time.time()):.0f} s — {self.command}"
        took = f" after {(self.ended or 0) - (self.started or self.ended or 0):.0f} s" if self.started else ""
        extra = ""
        if self.state == "cancelled" and self.started:
            extra = f"; resume with: {self.command} --resume" if "--resume" not in self.argv else ""
        return f"job {self.id}: {self.state}{took} (exit {self.returncode}) — {self.command}{extra}"


class JobQueue:
    """One background ``python -m genlab ...`` subprocess at a time; the rest wait in order.

    Cancel sends SIGINT: the engine finishes the step, saves a checkpoint and exits 130, so the run can be resumed.
    """

    def __init__(self, log_dir: Path, *, python: str | None = None, env: dict[str, str] | None = None) -> None:
        self.log_dir = Path(log_dir)
        self.python = python or sys.executable
        self.env = env
        self._jobs: list[Job] = []
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._closed = False
        self._thread = threading.Thread(target=self._worker, name="genlab-app-jobs", daemon=True)
        self._thread.start()

    def submit(self, argv: Sequence[str], run_dir: str | Path) -> Job:
        with self._lock:
            if self._closed:
                raise AppError("the job queue is shut down")
            job = Job(len(self._jobs) + 1, [str(a) for a in argv], Path(run_dir),
                      self.log_dir / f"job-{len(self._jobs) + 1:03d}.log")
            self._jobs.append(job)
        self._wake.set()
        return job

    def jobs(self) -> list[Job]:
        with self._lock:
            return list(self._jobs)

    def get(self, job_id: int) -> Job:
        with self._lock:
            for job in self._jobs:
                if job.id == job_id:
                    return job
        raise AppError(f"there is no job {job_id}")

    def cancel(self, job_id: int) -> Job:
        job = self.get(job_id)
        with self._lock:
            if job.state == "queued":
                job.state, job.ended = "cancelled", time.time()
                return job
            if job.state != "running" or job.process is None:
                return job
            job.cancel_requested = True
            try:
                job.process.send_signal(signal.SIGINT)
            except ProcessLookupError:
                pass
        return job

    def wait(self, job_id: int, timeout: float | None = None) -> Job:
        deadline = None if timeout is None else time.time() + timeout
        job = self.get(job_id)
        while job.state in ("queued", "running"):
            if deadline is not None and time.time() > deadline:
                break
            time.sleep(0.1)
        return job

    def shutdown(self, timeout: float = 30.0) -> None:
        """Cancel what is queued, SIGINT what runs (it saves a checkpoint) and wait for it."""
        with self._lock:
            self._closed = True
            running = [j for j in self._jobs if j.state == "running"]
            for j in self._jobs:
                if j.state == "queued":
                    j.state, j.ended = "cancelled", time.time()
        for j in running:
            self.cancel(j.id)
        self._wake.set()
        for j in running:
            self.wait(j.id, timeout)
            if j.process is not None and j.process.poll() is None:
                j.process.kill()

    def _next(self) -> Job | None:
        with self._lock:
            return next((j for j in self._jobs if j.state == "queued"), None)

    def _worker(self) -> None:
        while True:
            job = self._next()
            if job is None:
                if self._closed:
                    return
                self._wake.wait(0.5)
                self._wake.clear()
                continue
            self._run(job)

    def _run(self, job: Job) -> None:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        env = dict(os.environ if self.env is None else self.env)
        env.setdefault("PYTHONUNBUFFERED", "1")
        with open(job.log_path, "wb") as log:
            with self._lock:
                if job.state != "queued":  # cancelled meanwhile
                    return
                try:
                    job.process = subprocess.Popen([self.python, "-m", "genlab", *job.argv], stdout=log,
                                                   stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env)
                except OSError as e:
                    job.state, job.returncode, job.ended = "failed", -1, time.time()
                    log.write(f"genlab: error: cannot start {self.python}: {e}\n".encode())
                    return
                job.state, job.started = "running", time.time()
            code = job.process.wait()
        with self._lock:
            job.returncode, job.ended = code, time.time()
            job.state = "finished" if code == 0 else ("cancelled" if job.cancel_requested else "failed")


# ---- the context every tab gets ------------------------------------------------------------------------------------

class AppContext:
    """What a tab may use: the runs it may read, the upload loaders, the job queue and the error guard."""

    def __init__(self, runs_dir: str | Path, *, max_upload_bytes: int = DEFAULT_MAX_UPLOAD_BYTES,
                 max_pixels: int | None = None, work_dir: str | Path | None = None,
                 device: str = "cpu", start_jobs: bool = True) -> None:
        from ..data.images import DEFAULT_MAX_PIXELS

        self.runs_dir = Path(runs_dir).expanduser().resolve()
        if not self.runs_dir.is_dir():
            raise AppError(f"--runs-dir {runs_dir} is not a folder; create it or point --runs-dir at your runs")
        self.max_upload_bytes = int(max_upload_bytes)
        self.max_pixels = DEFAULT_MAX_PIXELS if max_pixels is None else int(max_pixels)
        self.device = device
        # outputs of requests (images, audio): a private folder gradio may serve (allowed_paths)
        self._own_work_dir = work_dir is None
        if work_dir is None:
            import tempfile
            work_dir = tempfile.mkdtemp(prefix="genlab-app-")
        self.work_dir = Path(work_dir).resolve()
        self.work_dir.mkdir(parents=True, exist_ok=True)
        self.jobs = JobQueue(self.work_dir / "jobs") if start_jobs else None
        self._counter = 0
        self._counter_lock = threading.Lock()

    # -- runs --
    def list_runs(self, prefix: str | Sequence[str] = "") -> list[RunInfo]:
        """Saved models under runs_dir whose model_type starts with ``prefix`` (or whose family is ``prefix``),
        newest first. Checkpoint folders and symlinks are not walked."""
        prefixes = (prefix,) if isinstance(prefix, str) else tuple(prefix)
        found: list[RunInfo] = []
        for root, dirs, files in os.walk(self.runs_dir, followlinks=False):
            dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d != "checkpoints"
                             and not os.path.islink(os.path.join(root, d)))
            if "config.json" not in files:
                continue
            folder = Path(root)
            cfg = _read_config(folder)
            if cfg is None or not (folder / "model.safetensors").is_file():
                continue
            model_type, fam = cfg["model_type"], str(cfg.get("family", ""))
            if prefixes and not any(model_type.startswith(p) or fam == p for p in prefixes):
                continue
            found.append(RunInfo(folder, folder.relative_to(self.runs_dir).as_posix() or ".", model_type, fam,
                                 (folder / "model.safetensors").stat().st_mtime))
        return sorted(found, key=lambda r: (-r.mtime, r.rel))

    def run_choices(self, prefix: str | Sequence[str] = "") -> list[str]:
        return [r.rel for r in self.list_runs(prefix)]

    def resolve_run(self, value: Any, *, prefix: str | Sequence[str] = "") -> Path:
        """The run folder a user picked or typed, or :class:`AppError`: only saved genlab models under runs_dir.

        Relative values are taken under runs_dir; ``..``, absolute paths elsewhere and symlinks that lead out of
        runs_dir are refused (the check is on the fully resolved path)."""
        text = "" if value is None else str(value).strip()
        if not text:
            raise AppError("pick a run folder first (train one in the Train tab, or with `genlab ... train`)")
        if "\x00" in text:
            raise AppError("that run folder name is not valid")
        raw = Path(text).expanduser()
        candidate = raw if raw.is_absolute() else self.runs_dir / raw
        try:
            resolved = candidate.resolve(strict=False)
        except (OSError, RuntimeError):  # symlink loops
            raise AppError(f"run folder {text!r} cannot be resolved") from None
        if resolved != self.runs_dir and not resolved.is_relative_to(self.runs_dir):
            raise AppError(f"run folder {text!r} is outside the runs folder {self.runs_dir}; "
                           f"the app only reads runs under --runs-dir")
        if not resolved.is_dir():
            raise AppError(f"run folder {text!r} does not exist under {self.runs_dir}")
        cfg = _read_config(resolved)
        if cfg is None:
            raise AppError(f"{text!r} is not a genlab run or saved model (no readable config.json)")
        prefixes = (prefix,) if isinstance(prefix, str) else tuple(prefix)
        if prefixes and prefixes != ("",) and not any(cfg["model_type"].startswith(p) or cfg.get("family") == p
                                                      for p in prefixes):
            raise AppError(f"{text!r} holds a {cfg['model_type']} model; this tab takes "
                           f"{' / '.join(p for p in prefixes if p)} runs")
        return resolved

    def load_model(self, value: Any, *, prefix: str | Sequence[str] = "") -> Any:
        """genlab.load of a checked run folder (safetensors + JSON: loading never runs code)."""
        from ..core.model import load

        return load(self.resolve_run(value, prefix=prefix), device="cpu")

    # -- uploads --
    def upload_path(self, file: Any, *, what: str = "upload", suffixes: Sequence[str] | None = None) -> Path:
        """The local path of a gradio upload (str, dict or FileData), checked for size and suffix."""
        if file is None:
            raise AppError(f"upload a file for the {what} first")
        if isinstance(file, dict):
            file = file.get("path") or file.get("name")
        path = Path(str(getattr(file, "path", None) or getattr(file, "name", None) or file))
        try:
            size = path.stat().st_size
        except OSError:
            raise AppError(f"the {what} could not be read; upload it again") from None
        if size > self.max_upload_bytes:
            raise AppError(f"the {what} is {size / 1e6:.1f} MB, above the app's limit of "
                           f"{self.max_upload_bytes / 1e6:.0f} MB")
        if size == 0:
            raise AppError(f"the {what} is empty")
        if suffixes and path.suffix.lower() not in suffixes:
            raise AppError(f"the {what} must be a {' or '.join(suffixes)} file, not {path.suffix or 'no suffix'}")
        return path

    def load_upload(self, file: Any, *, mode: str = "RGB", what: str = "image") -> Any:
        """An uploaded image as a PIL image through genlab's image loader (pixel limit checked from the header
        before decoding: decompression bombs, truncated and non-image files become one message)."""
        from ..core.errors import DataError
        from ..data.images import load_image

        path = self.upload_path(file, what=what)
        try:
            return load_image(path, mode=mode, max_pixels=self.max_pixels)
        except DataError as e:
            name = getattr(file, "orig_name", None) or path.name
            raise AppError(f"the uploaded {what} {name!r} was refused: {_without_path(str(e), path)}") from None

    def new_output(self, suffix: str, stem: str = "out") -> Path:
        """A fresh file path under the app's private work folder (for images/audio a handler returns)."""
        with self._counter_lock:
            self._counter += 1
            n = self._counter
        folder = self.work_dir / "outputs"
        folder.mkdir(parents=True, exist_ok=True)
        return folder / f"{stem}-{n:05d}{suffix}"

    # -- widgets and handlers --
    def run_picker(self, gr: Any, *, prefix: str | Sequence[str] = "", label: str = "run folder",
                   elem_id: str | None = None) -> Any:
        """A dropdown of the runs under runs_dir (custom values allowed, checked by resolve_run) + a refresh button."""
        choices = self.run_choices(prefix)
        with gr.Row():
            dd = gr.Dropdown(choices=choices, value=choices[0] if choices else None, label=label,
                             allow_custom_value=True, elem_id=elem_id, scale=4,
                             info=f"folders under {self.runs_dir} only")
            refresh = gr.Button("↻ refresh", size="sm", scale=1,
                                elem_id=f"{elem_id}-refresh" if elem_id else None)
        refresh.click(lambda: gr.update(choices=self.run_choices(prefix)), None, dd)
        return dd

    def guard(self, fn: Callable[..., Any], *bound: Any) -> Callable[..., Any]:
        """Wrap a handler: errors become a message in the page (gradio's Error), never a dead server.

        ``bound`` arguments are passed first (``ctx.guard(_sample, ctx)``). Generator handlers (streaming text,
        progress) are wrapped too.
        """
        import inspect

        def to_gr_error(e: BaseException) -> BaseException:
            import gradio as gr

            if isinstance(e, gr.Error):
                return e
            if isinstance(e, GenlabError):
                return gr.Error(str(e), duration=None)
            traceback.print_exc()
            return gr.Error(f"internal error ({type(e).__name__}: {e}); see the server's log", duration=None)

        # gradio reads the handler's signature (inputs, a gr.Progress default): show it without the bound arguments
        full = inspect.signature(fn)
        signature = full.replace(parameters=list(full.parameters.values())[len(bound):])

        if inspect.isgeneratorfunction(fn):
            @functools.wraps(fn)
            def gen_wrapper(*args: Any, **kwargs: Any) -> Any:
                try:
                    yield from fn(*bound, *args, **kwargs)
                except Exception as e:  # noqa: BLE001 - every failure is shown in the page
                    raise to_gr_error(e) from None
            gen_wrapper.__signature__ = signature  # type: ignore[attr-defined]
            return gen_wrapper

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                return fn(*bound, *args, **kwargs)
            except Exception as e:  # noqa: BLE001 - every failure is shown in the page
                raise to_gr_error(e) from None
        wrapper.__signature__ = signature  # type: ignore[attr-defined]
        return wrapper

    def close(self) -> None:
        """Stop the job queue (a running job gets SIGINT and saves a checkpoint) and remove the app's own temporary
        folder of request outputs (never anything under runs_dir)."""
        if self.jobs is not None:
            self.jobs.shutdown()
        if self._own_work_dir:
            import shutil
            shutil.rmtree(self.work_dir, ignore_errors=True)


def _without_path(message: str, path: Path) -> str:
    """Loader messages name the server's temporary path; the page shows the message without it."""
    return message.replace(f"image {path} ", "image ").replace(str(path), "the file")


def tensor_to_pil(images: Any, *, nrow: int | None = None, padding: int = 2, scale: int = 1) -> Any:
    """A batch (N, C, H, W) in [0, 1] (or one image C, H, W) as one PIL grid image, nearest-upscaled by ``scale``."""
    import math

    import torch
    from PIL import Image
    from torchvision.utils import make_grid

    x = images.detach().float().cpu().clamp(0, 1)
    if x.dim() == 3:
        x = x.unsqueeze(0)
    if x.shape[0] > 1 or padding:
        nrow = nrow or max(1, math.ceil(math.sqrt(x.shape[0])))
        x = make_grid(x, nrow=nrow, padding=padding if x.shape[0] > 1 else 0, pad_value=1.0).unsqueeze(0)
    arr = (x[0].permute(1, 2, 0) * 255).round().to(torch.uint8).numpy()
    img = Image.fromarray(arr[..., 0] if arr.shape[2] == 1 else arr)
    if scale > 1:
        img = img.resize((img.width * scale, img.height * scale), Image.NEAREST)
    return img
