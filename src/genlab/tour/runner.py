"""The tour runner: every section of ``genlab.families.TOUR``, resumable, with overall progress and ETA.

Layout of a tour folder::

    runs/tour/
      index.html            the gallery (rewritten after every section, so a stopped tour still has a page)
      tour.json             the sections in order, their status and seconds
      <key>/section.json    written LAST, when the section finished: a section is done when it exists with
                            status "done" and every figure it lists exists (then a resumed tour reuses it)
      <key>/log.txt         everything the section's commands printed
      <key>/...             the section's run folders and figures

A section whose optional package is missing is "skipped" (the page says what to install); one that raises is
"failed" (the page shows the one-line reason, log.txt the rest). Neither stops the tour. ``genlab tour`` exits 0
unless ``--strict`` is given, then 1 when any section failed or was skipped.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import shutil
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..core.errors import ConfigError, GenlabError
from ..core.extras import available
from ..core.io import write_json_atomic
from ..core.signals import Interrupted
from ..core.tourkit import Figure, TourContext, TourSection

SECTION_FILE = "section.json"
TOUR_FILE = "tour.json"
FORMAT = 1


@dataclass
class SectionEntry:
    """A TOUR line, loaded (or not: ``error`` says why)."""

    spec: str
    section: TourSection | None = None
    error: str | None = None

    @property
    def key(self) -> str:
        if self.section is not None:
            return self.section.key
        return self.spec.split(":")[0].removeprefix("genlab.").replace(".", "-")

    @property
    def title(self) -> str:
        return self.section.title if self.section is not None else self.spec


def load_entries(specs: Sequence[str] | None = None) -> list[SectionEntry]:
    """Import every ``module:function`` of the TOUR table; a broken one becomes an entry with its error."""
    from ..families import TOUR

    out = []
    for spec in (TOUR if specs is None else specs):
        module, _, function = spec.partition(":")
        try:
            section = getattr(importlib.import_module(module), function)()
            if not isinstance(section, TourSection):
                raise TypeError(f"{spec} returned {type(section).__name__}, not a TourSection")
            out.append(SectionEntry(spec, section))
        except Exception as e:  # noqa: BLE001 - a broken section is shown as failed, the tour goes on
            out.append(SectionEntry(spec, None, f"{type(e).__name__}: {e}"))
    return out


def read_section(folder: Path) -> dict | None:
    try:
        data = json.loads((folder / SECTION_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def is_done(folder: Path, budget: str) -> bool:
    """True when the section in ``folder`` finished at this budget and every figure it lists is there."""
    data = read_section(folder)
    if not data or data.get("status") != "done" or data.get("budget") != budget:
        return False
    return all((folder / f.get("path", "")).is_file() for f in data.get("figures", [])) and bool(data.get("figures"))


def read_sections(tour_dir: Path) -> list[dict]:
    """The sections of a tour folder, in tour.json's order (for the gallery and the app)."""
    tour_dir = Path(tour_dir)
    try:
        order = json.loads((tour_dir / TOUR_FILE).read_text(encoding="utf-8")).get("sections", [])
    except (OSError, ValueError, AttributeError):
        order = [{"key": p.name} for p in sorted(tour_dir.iterdir()) if (p / SECTION_FILE).is_file()] \
            if tour_dir.is_dir() else []
    out = []
    for item in order:
        data = read_section(tour_dir / item["key"]) or {}
        out.append({**item, **data})
    return out


def _fmt_s(seconds: float) -> str:
    seconds = max(0, int(round(seconds)))
    if seconds < 60:
        return f"{seconds} s"
    return f"{seconds // 60} min {seconds % 60:02d} s"


@dataclass
class Progress:
    """Overall progress: sections done, seconds spent, ETA from the sections' estimates scaled by the pace so far."""

    estimates: list[float]
    log: Callable[[str], None]
    start: float = field(default_factory=time.perf_counter)
    spent_est: float = 0.0  # estimates of the sections run so far (not reused ones)
    spent_real: float = 0.0

    def eta(self, index: int) -> float:
        remaining = sum(self.estimates[index:])
        pace = self.spent_real / self.spent_est if self.spent_est > 0 else 1.0
        return remaining * pace

    def line(self, index: int, total: int, what: str) -> None:
        done = sum(self.estimates[:index])
        allsum = sum(self.estimates) or 1.0
        pct = 100.0 * done / allsum
        width = 20
        bar = "#" * int(width * done / allsum) + "-" * (width - int(width * done / allsum))
        self.log(f"tour [{bar}] {pct:3.0f}%  section {index + 1}/{total}: {what}  "
                 f"(elapsed {_fmt_s(time.perf_counter() - self.start)}, ETA {_fmt_s(self.eta(index))})")


@dataclass
class TourResult:
    out: Path
    index: Path
    sections: list[dict]

    @property
    def failed(self) -> list[dict]:
        return [s for s in self.sections if s["status"] == "failed"]

    @property
    def skipped(self) -> list[dict]:
        return [s for s in self.sections if s["status"] == "skipped"]


def _figure_record(fig: Figure, folder: Path) -> dict:
    path = Path(fig.path)
    if not path.is_absolute():
        path = (folder / path) if not path.exists() else path.resolve()
    path = path.resolve()
    if not path.is_file():
        raise GenlabError(f"figure {fig.title!r}: {fig.path} was not written")
    if not path.is_relative_to(folder.resolve()):  # keep the gallery self-contained: copy it in
        target = folder / "figures" / path.name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)
        path = target.resolve()
    return {"path": path.relative_to(folder.resolve()).as_posix(), "title": fig.title, "caption": fig.caption,
            "command": fig.command, "metrics": {str(k): str(v) for k, v in fig.metrics.items()},
            "weights": fig.weights, "kind": fig.kind}


class _Tee:
    """The section's output into its log.txt (the terminal shows only the tour's progress lines)."""

    def __init__(self, f: Any) -> None:
        self.f = f

    def write(self, s: str) -> int:
        self.f.write(s)
        return len(s)

    def flush(self) -> None:
        self.f.flush()

    def isatty(self) -> bool:
        return False


def run_section(entry: SectionEntry, folder: Path, *, budget: str, device: str, seed: int, toy: bool,
                log: Callable[[str], None]) -> dict:
    """Run one section into ``folder`` and write its section.json (also when it failed or was skipped)."""
    base = {"format": FORMAT, "key": entry.key, "title": entry.title, "budget": budget, "spec": entry.spec,
            "summary": entry.section.summary if entry.section else "", "figures": [], "commands": []}
    if entry.section is None:
        record = {**base, "status": "failed", "reason": f"the section could not be loaded: {entry.error}",
                  "seconds": 0.0}
        folder.mkdir(parents=True, exist_ok=True)
        write_json_atomic(folder / SECTION_FILE, record)
        return record
    section = entry.section
    missing = [m for m in section.requires if not available(m)]
    if missing:
        record = {**base, "status": "skipped", "seconds": 0.0,
                  "reason": f"needs {', '.join(missing)}, which is not installed (pip install 'genlab[dev]' "
                            f"installs every optional package)"}
        folder.mkdir(parents=True, exist_ok=True)
        write_json_atomic(folder / SECTION_FILE, record)
        return record
    if folder.exists():  # an unfinished or stale attempt: start clean (a finished one never gets here)
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    from ..cli import main as cli_main

    ctx = TourContext(out=folder, budget=budget, device=device, seed=seed, log=log,  # type: ignore[arg-type]
                      cli_main=cli_main, toy=toy)
    start = time.perf_counter()
    with open(folder / "log.txt", "w", encoding="utf-8") as logf:
        tee = _Tee(logf)
        try:
            with contextlib.redirect_stdout(tee), contextlib.redirect_stderr(tee):  # type: ignore[type-var]
                figures = section.run(ctx)
                records = [_figure_record(f, folder) for f in figures]
            if not records:
                raise GenlabError("the section returned no figures")
            record = {**base, "status": "done", "figures": records}
        except KeyboardInterrupt:
            raise
        except Exception as e:  # noqa: BLE001 - shown as failed in the page; the tour goes on
            logf.write(traceback.format_exc())
            reason = " ".join(str(e).split()) or type(e).__name__
            if not isinstance(e, (GenlabError, RuntimeError)):
                reason = f"{type(e).__name__}: {reason}"
            record = {**base, "status": "failed", "reason": reason}
    record["seconds"] = round(time.perf_counter() - start, 2)
    record["commands"] = list(ctx.commands)
    write_json_atomic(folder / SECTION_FILE, record)
    return record


def run_tour(out: str | Path = "runs/tour", *, budget: str = "quick", only: Sequence[str] | None = None,
             redo: Sequence[str] = (), device: str = "cpu", seed: int = 0, toy: bool = False,
             specs: Sequence[str] | None = None, log: Callable[[str], None] | None = None) -> TourResult:
    """Run the tour into ``out`` (finished sections reused), write index.html, return what happened."""
    from .gallery import write_gallery

    if budget not in ("quick", "full"):
        raise ConfigError(f"--budget must be quick or full, got {budget!r}")
    log = log or (lambda s: print(s, flush=True))
    out = Path(out)
    entries = load_entries(specs)
    keys = [e.key for e in entries]
    for name in [*(only or ()), *redo]:
        if name not in keys:
            raise ConfigError(f"there is no tour section {name!r}; the sections are: {', '.join(keys) or 'none'}")
    all_entries = entries  # tour.json and the page always list every section (--only runs some of them)
    if only:
        entries = [e for e in entries if e.key in set(only)]
    out.mkdir(parents=True, exist_ok=True)
    estimates = [float(e.section.estimate_s.get(budget, 60.0)) if e.section else 0.0 for e in entries]
    reusable = {e.key for e in entries if e.key not in redo and is_done(out / e.key, budget)}
    estimates = [0.0 if e.key in reusable else s for e, s in zip(entries, estimates)]
    progress = Progress(estimates, log)
    records: list[dict] = []
    for i, entry in enumerate(entries):
        folder = out / entry.key
        if entry.key in reusable:
            record = read_section(folder) or {}
            record["reused"] = True
            records.append(record)
            log(f"tour: section {i + 1}/{len(entries)} {entry.key}: finished earlier, reused "
                f"({record.get('seconds', 0):.0f} s then)")
            continue
        progress.line(i, len(entries), f"{entry.key} — {entry.title} (about {_fmt_s(estimates[i])})")
        start = time.perf_counter()
        try:
            record = run_section(entry, folder, budget=budget, device=device, seed=seed, toy=toy, log=log)
        except KeyboardInterrupt as e:  # Ctrl-C / SIGTERM: stop the tour; the finished sections are kept
            _write_state(out, budget, records, all_entries)
            write_gallery(out)
            code = getattr(e, "exit_code", 130)
            raise Interrupted(f"tour stopped in section {entry.key} ({e or 'Ctrl-C'}); run the same command again "
                              f"to continue: the {len(records)} finished section(s) are reused",
                              signum=code - 128) from None
        took = time.perf_counter() - start
        if record["status"] == "done":
            progress.spent_est += estimates[i]
            progress.spent_real += took
        state = {"done": f"done in {_fmt_s(took)}, {len(record['figures'])} figures",
                 "failed": f"FAILED after {_fmt_s(took)}: {record.get('reason')}",
                 "skipped": f"skipped: {record.get('reason')}"}[record["status"]]
        log(f"tour: section {i + 1}/{len(entries)} {entry.key}: {state}")
        records.append(record)
        _write_state(out, budget, records, all_entries)
        write_gallery(out)
    _write_state(out, budget, records, all_entries)
    index = write_gallery(out)
    total = time.perf_counter() - progress.start
    log(f"tour: {sum(r['status'] == 'done' for r in records)}/{len(records)} sections done in {_fmt_s(total)}"
        + (f", {sum(r['status'] == 'failed' for r in records)} failed" if any(r['status'] == 'failed' for r in records)
           else "")
        + (f", {sum(r['status'] == 'skipped' for r in records)} skipped"
           if any(r['status'] == 'skipped' for r in records) else ""))
    return TourResult(out, index, records)


def _write_state(out: Path, budget: str, records: list[dict], entries: list[SectionEntry]) -> None:
    from .. import __version__

    done = {r["key"]: r for r in records}
    sections = []
    for e in entries:
        r = done.get(e.key)
        if r is None:  # not run this time (--only): what an earlier run left, if it was at this budget
            earlier = read_section(out / e.key)
            r = earlier if earlier and earlier.get("budget") == budget else None
        sections.append({"key": e.key, "title": e.title, "budget": budget,
                         "status": r["status"] if r else "pending", "seconds": r.get("seconds") if r else None,
                         "reused": bool(r.get("reused")) if r else False,
                         "estimate_s": e.section.estimate_s.get(budget) if e.section else None})
    write_json_atomic(out / TOUR_FILE, {"format": FORMAT, "budget": budget, "genlab_version": __version__,
                                        "python": sys.version.split()[0], "sections": sections,
                                        "written": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())})
