"""MuseGAN's data: four-voice (SATB) chorales on a 16th-note grid, cut into every 2-bar window with a hop of 1 bar.

Input formats:

* the ``Jsb16thSeparated.json`` format (``{"train": [chorale, ...], "valid": [...], "test": [...]}``, a chorale a
  list of steps, a step exactly four MIDI pitches soprano, alto, tenor, bass, ``-1`` = silence): the default data,
  ``../shared/data/jsb-chorales/Jsb16thSeparated.json`` (train/valid split by chorale, as Boulanger-Lewandowski);
* a folder of MusicXML / MIDI files (parsed with music21): each file's parts, top to bottom, become the voices;
  a file with more than four parts is skipped (or ``--musegan-parts`` picks four of them), and said so.

All windows of a chorale are taken (Foster takes only the first window of each chorale, 229 examples, which invites
memorisation). The windows start at the chorale's first step: the data has no bar lines, so a chorale that starts
with a pick-up is cut at the same offsets.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from ..core.errors import DataError

DEFAULT_DATA = "jsb-chorales/Jsb16thSeparated.json"
MUSIC_SUFFIXES = (".mid", ".midi", ".xml", ".musicxml", ".mxl", ".krn", ".abc")


def shared_data_dir() -> Path:
    """``$GENLAB_DATA_DIR`` or ``../shared/data`` beside the repository (the project's data folder)."""
    env = os.environ.get("GENLAB_DATA_DIR")
    if env:
        return Path(env)
    here = Path(__file__).resolve()
    for parent in here.parents:
        candidate = parent.parent / "shared" / "data"
        if (candidate / "jsb-chorales").exists():
            return candidate
    return Path("../shared/data")


def default_data_path() -> Path:
    path = shared_data_dir() / DEFAULT_DATA
    if not path.exists():
        # the same file, wherever the project's data folder is (GENLAB_DATA_DIR may point at a test's toy folder)
        fallback = Path(__file__).resolve().parents[4] / "shared" / "data" / DEFAULT_DATA
        if fallback.exists():
            return fallback
    return path


def windows(chorale: np.ndarray, *, n_bars: int = 2, steps_per_bar: int = 16, hop_bars: int = 1) -> np.ndarray:
    """Every ``n_bars`` window of ``chorale`` (steps, voices), starting every ``hop_bars`` bars:
    (windows, voices, n_bars * steps_per_bar). A chorale shorter than one window gives none."""
    length, hop = n_bars * steps_per_bar, hop_bars * steps_per_bar
    starts = range(0, chorale.shape[0] - length + 1, hop)
    if chorale.shape[0] < length:
        return np.zeros((0, chorale.shape[1], length), dtype=np.int64)
    return np.stack([chorale[s:s + length].T for s in starts]).astype(np.int64)


def _check_chorale(c, where: str) -> np.ndarray:
    try:
        a = np.asarray(c, dtype=np.float64)
    except (TypeError, ValueError):
        raise DataError(f"{where} is not a list of steps of four numbers (soprano, alto, tenor, bass)") from None
    if a.ndim != 2 or a.shape[1] != 4 or a.shape[0] == 0:
        shape = "x".join(map(str, a.shape)) if a.ndim else "a number"
        raise DataError(f"{where} is not a list of steps of exactly four pitches (soprano, alto, tenor, bass; -1 = "
                        f"silence): its shape is {shape}; MuseGAN needs the Jsb16thSeparated format")
    if not np.all(np.isfinite(a)) or np.any(a != np.round(a)) or np.any(a < -1) or np.any(a > 127):
        raise DataError(f"{where} holds values that are not MIDI pitches 0..127 or -1 (silence)")
    return a.astype(np.int64)


def read_separated_json(path: str | os.PathLike) -> dict[str, list[np.ndarray]]:
    """The splits of a Jsb16thSeparated-format JSON file: {split: [chorale (steps, 4) int array, ...]}."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise DataError(f"cannot read {path} ({e.strerror or e})") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise DataError(f"{path} is not valid JSON ({' '.join(str(e).split())})") from None
    if not isinstance(data, dict) or not data or not all(isinstance(v, list) for v in data.values()):
        raise DataError(f"{path} is not in the Jsb16thSeparated format ({{\"train\": [chorale, ...], \"valid\": "
                        f"[...]}}, each chorale a list of [soprano, alto, tenor, bass] steps)")
    return {split: [_check_chorale(c, f"{path}: {split} chorale {i}") for i, c in enumerate(chorales)]
            for split, chorales in data.items()}


def parse_score_voices(path: Path, *, parts: tuple[int, ...] | None = None) -> np.ndarray:
    """A MusicXML / MIDI file -> (steps, 4) MIDI pitches on the 16th grid (the top note of each part, -1 = rest).

    Raises DataError for an unreadable file, one without four parts (unless ``parts`` picks four), or without notes.
    """
    from ..core.extras import require

    music21 = require("music21", extra="music", what="reading MusicXML / MIDI for MuseGAN")
    try:
        score = music21.converter.parse(str(path))
    except Exception as e:  # music21 raises many kinds for a corrupt file
        raise DataError(f"{path.name}: cannot be read as music ({type(e).__name__}: {' '.join(str(e).split())[:120]})"
                        ) from None
    score_parts = list(getattr(score, "parts", [])) or [score]
    if parts is not None:
        if max(parts) >= len(score_parts):
            raise DataError(f"{path.name} has {len(score_parts)} parts; --musegan-parts "
                            f"{' '.join(str(p + 1) for p in parts)} names a part it does not have")
        score_parts = [score_parts[p] for p in parts]
    if len(score_parts) != 4:
        raise DataError(f"{path.name} has {len(score_parts)} parts; MuseGAN's tracks are four voices (soprano, alto, "
                        f"tenor, bass): choose four with --musegan-parts, e.g. --musegan-parts 1 2 3 4")
    length = int(np.ceil(max(float(p.highestTime) for p in score_parts) * 4))
    if length == 0:
        raise DataError(f"{path.name} holds no notes")
    voices = np.full((length, 4), -1, dtype=np.int64)
    any_note = False
    for v, part in enumerate(score_parts):
        for el in part.flatten().notes:
            if getattr(el, "isChord", False):
                pitches = [p.midi for p in el.pitches]
            else:
                pitches = [el.pitch.midi]
            if not pitches:
                continue
            start = int(round(float(el.offset) * 4))
            end = max(start + 1, int(round(float(el.offset + el.quarterLength) * 4)))
            voices[start:min(end, length), v] = max(pitches)
            any_note = True
    if not any_note:
        raise DataError(f"{path.name} holds no notes")
    return voices


def read_score_folder(folder: Path, *, parts: tuple[int, ...] | None = None, valid_fraction: float = 0.2,
                      seed: int = 0) -> dict[str, list[np.ndarray]]:
    """Every music file in ``folder`` (recursively), split by file into train / valid. Unusable files are skipped
    with one line each on stderr; no usable file is a DataError."""
    files = sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in MUSIC_SUFFIXES)
    if not files:
        raise DataError(f"{folder} holds no music files ({', '.join(MUSIC_SUFFIXES)})")
    chorales, names = [], []
    for f in files:
        try:
            chorales.append(parse_score_voices(f, parts=parts))
            names.append(f.name)
        except DataError as e:
            print(f"note: skipped {e}", file=sys.stderr, flush=True)
    if not chorales:
        raise DataError(f"none of the {len(files)} music files in {folder} could be used for MuseGAN (see the notes "
                        f"above)")
    order = np.random.default_rng(seed).permutation(len(chorales))
    n_valid = int(round(len(chorales) * valid_fraction)) if len(chorales) > 1 else 0
    valid = sorted(order[:n_valid].tolist())
    return {"train": [chorales[i] for i in range(len(chorales)) if i not in set(valid)],
            "valid": [chorales[i] for i in valid]}


def read_chorales(path: str | os.PathLike | None, *, parts: tuple[int, ...] | None = None
                  ) -> tuple[dict[str, list[np.ndarray]], Path]:
    """The chorales of ``path`` (JSON file or music folder; None = the default data) and the path used."""
    p = default_data_path() if path is None else Path(path)
    if not p.exists():
        hint = " (the default data set; set GENLAB_DATA_DIR or pass --data)" if path is None else ""
        raise DataError(f"{p} does not exist{hint}")
    if p.is_dir():
        if (p / "rolls.json").is_file() and (p / "data.json").is_file():
            raise DataError(f"{p} is a DATA folder from `genlab music prepare`: its rolls are quarter-note frames "
                            f"without separate voices; MuseGAN needs four voices on the 16th grid: pass the folder of "
                            f"MusicXML/MIDI files itself, or a Jsb16thSeparated-format JSON file")
        return read_score_folder(p, parts=parts), p
    if p.suffix.lower() in MUSIC_SUFFIXES:
        return {"train": [parse_score_voices(p, parts=parts)]}, p
    return read_separated_json(p), p


def first_window(chorale: np.ndarray, *, n_bars: int = 2, steps_per_bar: int = 16) -> np.ndarray:
    """Foster's one example per chorale: the window that starts at the first step where all four voices sound
    (his loader skips the leading steps with a silent voice): (0 or 1, voices, n_bars * steps_per_bar)."""
    length = n_bars * steps_per_bar
    full = np.flatnonzero((chorale >= 0).all(axis=1))
    start = int(full[0]) if len(full) else 0
    if chorale.shape[0] - start < length:
        return np.zeros((0, chorale.shape[1], length), dtype=np.int64)
    return chorale[start:start + length].T[None].astype(np.int64)


def split_windows(chorales: dict[str, list[np.ndarray]], split: str, *, n_bars: int = 2, steps_per_bar: int = 16,
                  lowest_pitch: int = 0, n_pitches: int = 84, where: str = "the data",
                  first_only: bool = False) -> np.ndarray:
    """All windows of one split as (N, 4, n_bars*steps_per_bar) MIDI pitches (-1 = rest); ``first_only``: only the
    first window of each chorale (Foster's 229 training examples). Windows with a pitch outside the model's rows are
    dropped (a note says how many); none left is a DataError."""
    if split not in chorales:
        raise DataError(f"{where} has no {split!r} split (it has: {', '.join(sorted(chorales))})")
    cut = first_window if first_only else windows
    parts = [cut(c, n_bars=n_bars, steps_per_bar=steps_per_bar) for c in chorales[split]]
    parts = [w for w in parts if len(w)]
    if not parts:
        raise DataError(f"the {split!r} split of {where} has no chorale of at least {n_bars} bars "
                        f"({n_bars * steps_per_bar} sixteenth steps)")
    w = np.concatenate(parts)
    high = lowest_pitch + n_pitches - 1
    ok = np.all((w == -1) | ((w >= lowest_pitch) & (w <= high)), axis=(1, 2))
    if not ok.any():
        raise DataError(f"no window of the {split!r} split of {where} has all its notes in MIDI {lowest_pitch}..{high}")
    if not ok.all():
        print(f"note: {int((~ok).sum())} of {len(w)} {split} windows have notes outside MIDI {lowest_pitch}..{high} "
              f"and are left out", file=sys.stderr, flush=True)
    w = w[ok]
    if not (w >= 0).any():
        raise DataError(f"the {split!r} split of {where} holds no notes (every step is silent)")
    return w


class WindowDataset(Dataset):
    """2-bar windows as model inputs: (tracks, bars, steps, pitches) in {-1, +1}."""

    def __init__(self, voices: np.ndarray, cfg) -> None:
        from .musegan import to_roll

        self.voices = torch.as_tensor(voices, dtype=torch.long)
        self.rolls = to_roll(self.voices, cfg).to(torch.int8)  # {-1, +1}: a quarter of float32's memory

    def __len__(self) -> int:
        return len(self.rolls)

    def __getitem__(self, i: int) -> torch.Tensor:
        return self.rolls[i].float()
