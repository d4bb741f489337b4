"""Piano-roll data: the JSB chorales JSON format (Boulanger-Lewandowski split), the built-in data sets, training windows.

A JSB JSON file is ``{"train": [chorale, ...], "valid": [...], "test": [...]}``; a chorale is a list of time steps and
a step is the list of MIDI pitches (21..108) sounding on that grid. :func:`load_jsb` reads any file of that format
(a held-back test split too) and checks it, naming the first bad chorale.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from ..core.errors import ConfigError, DataError

LOWEST, N_KEYS = 21, 88  # A0 .. C8, the piano's 88 keys
JSB_BUILTIN = {"jsb-quarter": ("jsb-chorales-quarter.json", 1), "jsb-8th": ("jsb-chorales-8th.json", 2),
               "jsb-16th": ("jsb-chorales-16th.json", 4)}
STEPS_PER_QUARTER_BY_NAME = {"quarter": 1, "8th": 2, "16th": 4}


def shared_data_roots() -> list[Path]:
    """Where the project's data sets are looked for: ``$GENLAB_DATA_DIR``, then ``../shared/data`` beside the working
    directory and beside the checkout."""
    roots = []
    env = os.environ.get("GENLAB_DATA_DIR", "").strip()
    if env:
        roots.append(Path(env).expanduser())
    repo = Path(__file__).resolve().parents[3]
    roots += [Path.cwd() / ".." / "shared" / "data", repo / ".." / "shared" / "data"]
    return roots


def find_shared(relative: str) -> Path | None:
    for root in shared_data_roots():
        p = root / relative
        if p.exists():
            return p.resolve()
    return None


def builtin_jsb(name: str) -> tuple[Path, int]:
    """The path of a built-in JSB file and its steps per quarter note."""
    filename, spq = JSB_BUILTIN[name]
    path = find_shared(f"jsb-chorales/{filename}")
    if path is None:
        raise DataError(f"the built-in data set {name} needs jsb-chorales/{filename} under $GENLAB_DATA_DIR or "
                        f"../shared/data; pass --data FILE (a JSB JSON file) instead")
    return path, spq


def guess_steps_per_quarter(path: str | os.PathLike) -> int:
    name = Path(path).name.lower()
    for key, spq in (("16th", 4), ("8th", 2), ("quarter", 1)):
        if key in name:
            return spq
    return 1


def load_jsb(path: str | os.PathLike, *, splits: tuple[str, ...] | None = None,
             lowest: int = LOWEST, n_keys: int = N_KEYS) -> dict[str, list[np.ndarray]]:
    """The chorales of a JSB JSON file as bool piano rolls (T, n_keys), per split. ``splits`` must all be present."""
    path = Path(path)
    if path.is_dir():
        if (path / "rolls.json").is_file():  # a DATA folder from `genlab music prepare`
            path = path / "rolls.json"
        else:
            raise DataError(f"{path} is a folder without rolls.json; give a JSB JSON file or a DATA folder from "
                            f"`genlab music prepare`")
    try:
        raw = json.loads(path.read_bytes())
    except FileNotFoundError:
        raise DataError(f"{path} does not exist") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise DataError(f"{path} is not a JSB JSON file ({' '.join(str(e).split())[:120]})") from None
    if not isinstance(raw, dict) or not raw or not all(isinstance(v, list) for v in raw.values()):
        raise DataError(f"{path} is not a JSB JSON file: expected {{\"train\": [chorale, ...], \"valid\": [...]}}")
    wanted = splits or tuple(raw)
    missing = [s for s in wanted if s not in raw]
    if missing:
        raise DataError(f"{path} has no split {missing[0]!r} (it has {', '.join(raw)})")
    out: dict[str, list[np.ndarray]] = {}
    for split in wanted:
        rolls = []
        for i, chorale in enumerate(raw[split]):
            if not isinstance(chorale, list) or not chorale:
                raise DataError(f"{path}: {split} chorale {i} is not a non-empty list of time steps")
            roll = np.zeros((len(chorale), n_keys), dtype=bool)
            for t, step in enumerate(chorale):
                if not isinstance(step, list):
                    raise DataError(f"{path}: {split} chorale {i} step {t} is not a list of pitches")
                for p in step:
                    if isinstance(p, bool) or not isinstance(p, (int, float)) or int(p) != p:
                        raise DataError(f"{path}: {split} chorale {i} step {t} holds {p!r}, not a MIDI pitch")
                    k = int(p) - lowest
                    if not 0 <= k < n_keys:
                        raise DataError(f"{path}: {split} chorale {i} step {t} holds pitch {int(p)}, outside the "
                                        f"{n_keys} keys {lowest}..{lowest + n_keys - 1}")
                    roll[t, k] = True
            rolls.append(roll)
        if not rolls:
            raise DataError(f"{path}: split {split!r} is empty")
        out[split] = rolls
    return out


def resolve_roll_data(data: str | None) -> tuple[Path, int, str]:
    """``--data`` for the polyphonic model -> (file, steps per quarter, name)."""
    name = data or "jsb-quarter"
    if name in JSB_BUILTIN:
        path, spq = builtin_jsb(name)
        return path, spq, name
    if name in ("essen", "chorale-soprano"):
        raise ConfigError(f"--data {name} is a note data set; the polyphonic model needs piano rolls "
                          f"(jsb-quarter, jsb-8th, jsb-16th, a JSB JSON file or a DATA folder)")
    path = Path(name).expanduser()
    if not path.exists():
        raise DataError(f"--data {name}: no such file or folder (built-in names: {', '.join(JSB_BUILTIN)})")
    if path.is_dir():
        meta = path / "data.json"
        spq = json.loads(meta.read_text())["roll_steps_per_quarter"] if meta.is_file() else 1
        return path.resolve(), int(spq), str(path.resolve())
    return path.resolve(), guess_steps_per_quarter(path), str(path.resolve())


def transpose_roll(roll: np.ndarray, shift: int) -> np.ndarray:
    """Shift a (T, K) roll by ``shift`` keys; notes pushed past either end are dropped."""
    if shift == 0:
        return roll
    out = np.zeros_like(roll)
    if shift > 0:
        out[:, shift:] = roll[:, :-shift]
    else:
        out[:, :shift] = roll[:, -shift:]
    return out


class RollWindows(Dataset):
    """Training windows of ``seq_len`` frames (each chorale cut without overlap; the last piece padded and masked).

    Items are ``(frames (L, K) float, mask (L,) float)``. With ``transpose > 0`` each item is shifted by a random
    -transpose..transpose keys, drawn from torch's global RNG (saved with every checkpoint, so resume is exact).
    """

    def __init__(self, rolls: list[np.ndarray], seq_len: int, *, transpose: int = 0) -> None:
        self.seq_len, self.transpose = seq_len, transpose
        self.items: list[np.ndarray] = []
        for r in rolls:
            for s in range(0, len(r), seq_len):
                piece = r[s:s + seq_len]
                if len(piece) >= 2:
                    self.items.append(piece)

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        piece = self.items[i]
        if self.transpose:
            shift = int(torch.randint(-self.transpose, self.transpose + 1, ()).item())
            piece = transpose_roll(piece, shift)
        frames = torch.zeros(self.seq_len, piece.shape[1])
        frames[:len(piece)] = torch.from_numpy(piece.astype(np.float32))
        mask = torch.zeros(self.seq_len)
        mask[:len(piece)] = 1.0
        return frames, mask


def pad_batch(rolls: list[np.ndarray]) -> tuple[torch.Tensor, torch.Tensor]:
    """Whole chorales as one padded batch: (B, T_max, K) frames and a (B, T_max) mask."""
    T = max(len(r) for r in rolls)
    frames = torch.zeros(len(rolls), T, rolls[0].shape[1])
    mask = torch.zeros(len(rolls), T)
    for i, r in enumerate(rolls):
        frames[i, :len(r)] = torch.from_numpy(r.astype(np.float32))
        mask[i, :len(r)] = 1.0
    return frames, mask
