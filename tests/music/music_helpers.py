"""Small synthetic music data for the music family's tests (no music21 parse, no shared data needed)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np


def make_jsb(path: Path, *, n_train: int = 8, n_valid: int = 3, n_test: int = 0, steps: int = 24,
             seed: int = 0) -> Path:
    """A JSB-format JSON file: four voices moving by small steps, one chord per time step."""
    rng = np.random.default_rng(seed)

    def chorales(n):
        out = []
        for _ in range(n):
            v = np.cumsum(rng.integers(-2, 3, size=(steps, 4)), axis=0) + np.array([72, 65, 58, 48])
            out.append([sorted(set(int(p) for p in row)) for row in np.clip(v, 30, 100)])
        return out

    splits = {"train": chorales(n_train), "valid": chorales(n_valid)}
    if n_test:
        splits["test"] = chorales(n_test)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(splits))
    return path


def make_note_data(folder: Path, *, n_train: int = 24, n_valid: int = 4, notes: int = 40, seed: int = 0,
                   extra_split: str | None = None, pitches=(60, 62, 64, 65, 67, 69, 71, 72)) -> Path:
    """A DATA folder as `genlab music prepare` writes it: melodies walking over a scale, durations 1/2, 1, 2."""
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "src"))
    from genlab.music.notes import build_vocab

    rng = np.random.default_rng(seed)

    def tunes(n, tag):
        out = []
        for i in range(n):
            idx = np.clip(np.cumsum(rng.integers(-1, 2, size=notes)) + len(pitches) // 2, 0, len(pitches) - 1)
            durs = rng.choice(["1/2", "1", "2"], size=notes, p=[0.3, 0.5, 0.2])
            out.append({"name": f"{tag}{i}", "tokens": [[str(pitches[k]), str(d)] for k, d in zip(idx, durs)]})
        return out

    splits = {"train": tunes(n_train, "t"), "valid": tunes(n_valid, "v")}
    if extra_split:
        splits[extra_split] = tunes(n_valid, "x")
    pv, dv = build_vocab(splits)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "data.json").write_text(json.dumps({
        "format": "genlab-music-notes", "name": folder.name, "source": "synthetic", "tunes": splits,
        "pitch_vocab": pv, "duration_vocab": dv, "roll_steps_per_quarter": 1}))
    return folder


TINY_POLY = ["--hidden-size", "12", "--nade-hidden", "6", "--seq-len", "16", "--batch-size", "4"]
TINY_NOTES = ["--hidden-size", "16", "--embed-dim", "8", "--num-layers", "1", "--seq-len", "12", "--batch-size", "4"]
TINY_GPT = ["--hidden-size", "16", "--num-layers", "1", "--n-head", "2", "--seq-len", "12", "--batch-size", "4"]
ENGINE = ["--no-progress", "--no-tensorboard", "--log-every", "1", "--sample-every", "0", "--checkpoint-every", "2",
          "--eval-every", "2"]
