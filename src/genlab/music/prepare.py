"""``genlab music prepare DIR --out DATA``: a folder of MIDI / MusicXML / ABC files parsed once into a DATA folder.

DATA holds ``data.json`` (the note tokens of every tune with its split, and the vocabulary), ``rolls.json`` (the same
tunes as JSB-format piano rolls on a quarter-note grid, for ``--model polyphonic``), ``skipped.txt`` (each unreadable
file and why) and ``.cache/`` (one parse per file, keyed by path, size and modification time: running prepare again
after adding files parses only the new ones). Files are parsed in parallel processes, with progress on stderr.
"""

from __future__ import annotations

import json
import os
import random
from pathlib import Path
from typing import Any

from ..core.clikit import stderr
from ..core.errors import ConfigError, DataError, GenlabError
from ..core.io import write_bytes_atomic, write_json_atomic
from .notes import MUSIC_SUFFIXES, build_vocab, file_hash, file_tunes

ROLL_STEPS_PER_QUARTER = 1


def _parse_one(args: tuple[str, str]) -> dict[str, Any]:
    """Parse one file (in a worker process) and cache the result; errors come back as text, never raised."""
    path, cache = args
    cache_file = Path(cache) / f"{file_hash(Path(path))}.json"
    if cache_file.is_file():
        try:
            return json.loads(cache_file.read_text())
        except (OSError, json.JSONDecodeError):
            pass
    try:
        result = {"file": path, "tunes": file_tunes(path, steps_per_quarter=ROLL_STEPS_PER_QUARTER)}
    except GenlabError as e:
        result = {"file": path, "error": str(e)}
    except Exception as e:  # noqa: BLE001 - a parser bug on one file must not stop the others
        result = {"file": path, "error": f"{Path(path).name}: {type(e).__name__}: {' '.join(str(e).split())[:100]}"}
    try:
        write_json_atomic(cache_file, result)
    except OSError:
        pass
    return result


def music_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in MUSIC_SUFFIXES
                  and ".cache" not in p.parts)


def prepare(folder: str | os.PathLike, out: str | os.PathLike, *, val_fraction: float = 0.1,
            workers: int | None = None, seed: int = 0, progress: bool = True) -> dict[str, Any]:
    """Parse every music file under ``folder`` into the DATA folder ``out``; returns a summary."""
    folder, out = Path(folder), Path(out)
    if not folder.is_dir():
        raise DataError(f"{folder} is not a folder of music files")
    if not 0 < val_fraction < 1:
        raise ConfigError(f"--val-fraction must be in (0, 1) (got {val_fraction})")
    if workers is not None and workers < 1:
        raise ConfigError(f"--workers must be >= 1 (got {workers})")
    files = music_files(folder)
    if not files:
        raise DataError(f"{folder} holds no music files ({', '.join(MUSIC_SUFFIXES)})")
    cache = out / ".cache"
    cache.mkdir(parents=True, exist_ok=True)
    jobs = [(str(f), str(cache)) for f in files]
    n_workers = max(1, min(workers or os.cpu_count() or 1, 8, len(files)))
    results: list[dict[str, Any]] = []
    every = max(1, len(files) // 10)
    if n_workers == 1:
        it = map(_parse_one, jobs)
        pool = None
    else:
        from concurrent.futures import ProcessPoolExecutor

        pool = ProcessPoolExecutor(max_workers=n_workers)
        it = pool.map(_parse_one, jobs, chunksize=1)
    try:
        for i, r in enumerate(it):
            results.append(r)
            if progress and ((i + 1) % every == 0 or i + 1 == len(files)):
                stderr(f"prepare: {i + 1}/{len(files)} files parsed ({n_workers} process(es))")
    finally:
        if pool is not None:
            pool.shutdown()
    ok = [r for r in results if "tunes" in r]
    bad = [r for r in results if "error" in r]
    if not ok:
        raise DataError(f"none of the {len(files)} music files in {folder} could be used (first: {bad[0]['error']})")
    for r in bad:
        stderr(f"skipped: {r['error']}")
    # split by file, so tunes of one file never sit on both sides
    order = list(range(len(ok)))
    random.Random(seed).shuffle(order)
    n_val = max(1, int(round(val_fraction * len(ok)))) if len(ok) > 1 else 0
    val_files = set(order[:n_val])
    splits: dict[str, list[dict[str, Any]]] = {"train": [], "valid": []}
    rolls: dict[str, list[list[list[int]]]] = {"train": [], "valid": []}
    for i, r in enumerate(ok):
        split = "valid" if i in val_files else "train"
        for t in r["tunes"]:
            splits[split].append({"name": t["name"], "tokens": t["tokens"]})
            rolls[split].append(t["roll"])
    if not splits["valid"]:
        stderr("note: only one usable file, so the valid split is empty; add files for a validation loss")
    pv, dv = build_vocab(splits)
    data = {"format": "genlab-music-notes", "name": out.name, "source": str(folder.resolve()),
            "tunes": splits, "pitch_vocab": pv, "duration_vocab": dv,
            "split": f"by file, {val_fraction:.0%} valid, seed {seed}",
            "roll_steps_per_quarter": ROLL_STEPS_PER_QUARTER,
            "skipped": [r["error"] for r in bad]}
    write_json_atomic(out / "data.json", data)
    write_json_atomic(out / "rolls.json", rolls)
    write_bytes_atomic(out / "skipped.txt", "".join(r["error"] + "\n" for r in bad).encode("utf-8"))
    return {"files": len(files), "files_ok": len(ok), "files_skipped": len(bad),
            "skipped_names": [Path(r["file"]).name for r in bad],
            "notes": sum(len(t["tokens"]) for s in splits.values() for t in s),
            "pitch_vocab": len(pv) - 1, "duration_vocab": len(dv) - 1,
            "train_tunes": len(splits["train"]), "valid_tunes": len(splits["valid"]), "out": str(out)}
