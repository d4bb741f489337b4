"""MuseGAN's figures: per-track piano rolls of a sample, the noise grid (one noise input changes, the others stay,
as Foster ch. 7 shows), and the memorisation histogram (nearest training window of each sample vs of each real
held-out window)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..core.io import atomic_write
from .musegan_metrics import TRACK_NAMES

COLOURS = ("#d62728", "#2ca02c", "#1f77b4", "#9467bd")


def voices_to_tracks(voices: np.ndarray, *, n_pitches: int = 84, lowest_pitch: int = 0) -> dict[str, np.ndarray]:
    """One window's voices (tracks, steps) -> {name: bool roll (steps, n_pitches)} for genlab.music.render."""
    voices = np.asarray(voices)
    names = TRACK_NAMES if voices.shape[0] == 4 else tuple(f"track{k}" for k in range(voices.shape[0]))
    out = {}
    for name, v in zip(names, voices, strict=True):
        roll = np.zeros((len(v), n_pitches), dtype=bool)
        on = v >= 0
        roll[np.flatnonzero(on), v[on] - lowest_pitch] = True
        out[name] = roll
    return out


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def _draw_window(ax, voices: np.ndarray, steps_per_bar: int, pitch_range: tuple[int, int]) -> None:
    for k, v in enumerate(voices):
        for t, p in enumerate(v):
            if p >= 0:
                ax.add_patch(_plt().Rectangle((t, p - 0.45), 1, 0.9, color=COLOURS[k % 4], lw=0))
    for b in range(0, voices.shape[1] + 1, steps_per_bar):
        ax.axvline(b, color="#999999", lw=0.5)
    ax.set_xlim(0, voices.shape[1])
    ax.set_ylim(*pitch_range)
    ax.set_xticks([])
    ax.tick_params(labelsize=6)


def _save(fig, path: str | os.PathLike) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_write(path) as tmp:
        fig.savefig(tmp, format="png", dpi=90)
    _plt().close(fig)
    return path


def _range(*arrays: np.ndarray) -> tuple[int, int]:
    notes = np.concatenate([np.asarray(a).ravel() for a in arrays])
    notes = notes[notes >= 0]
    if not notes.size:
        return (55, 75)
    return int(notes.min()) - 2, int(notes.max()) + 3


def noise_grid_figure(grid: dict[str, list[np.ndarray]], path: str | os.PathLike, *, steps_per_bar: int = 16,
                      title: str = "") -> Path:
    """``grid[kind]``: the windows (tracks, steps) made when only the ``kind`` noise input is redrawn; column 0 of
    every row is the same base window. One row per noise input."""
    plt = _plt()
    kinds = list(grid)
    cols = max(len(v) for v in grid.values())
    rng = _range(*[w for v in grid.values() for w in v])
    fig, axes = plt.subplots(len(kinds), cols, figsize=(2.1 * cols, 1.5 * len(kinds) + 0.6), squeeze=False)
    for r, kind in enumerate(kinds):
        for c in range(cols):
            ax = axes[r, c]
            if c < len(grid[kind]):
                _draw_window(ax, grid[kind][c], steps_per_bar, rng)
            else:
                ax.axis("off")
            if c == 0:
                ax.set_ylabel(f"{kind}\nMIDI pitch", fontsize=8)
            if r == 0:
                ax.set_title("base" if c == 0 else f"new draw {c}", fontsize=8)
    handles = [plt.Rectangle((0, 0), 1, 1, color=COLOURS[k]) for k in range(4)]
    fig.legend(handles, TRACK_NAMES, loc="lower center", ncol=4, fontsize=7)
    fig.suptitle(title or "one noise input redrawn per row, the other three kept (column 0: the base sample)",
                 fontsize=9)
    fig.tight_layout(rect=(0, 0.05, 1, 0.95))
    return _save(fig, path)


def tracks_figure(voices: np.ndarray, path: str | os.PathLike, *, steps_per_bar: int = 16, title: str = "") -> Path:
    """One window as four stacked piano rolls, one per track (soprano at the top)."""
    plt = _plt()
    voices = np.asarray(voices)
    fig, axes = plt.subplots(len(voices), 1, figsize=(7, 1.2 * len(voices) + 0.6), sharex=True, squeeze=False)
    for k, v in enumerate(voices):
        ax = axes[k, 0]
        one = np.full_like(voices, -1)
        one[k] = v
        _draw_window(ax, one, steps_per_bar, _range(v))
        ax.set_ylabel(TRACK_NAMES[k] if len(voices) == 4 else f"track {k}", fontsize=8)
    axes[-1, 0].set_xticks(range(0, voices.shape[1] + 1, 4))
    axes[-1, 0].set_xlabel("16th-note step")
    if title:
        axes[0, 0].set_title(title, fontsize=9)
    fig.tight_layout()
    return _save(fig, path)


def memorisation_figure(sample_dist: np.ndarray, real_dist: np.ndarray, path: str | os.PathLike, *,
                        pair: tuple[np.ndarray, np.ndarray] | None = None, what: str = "") -> Path:
    """Histograms of the normalised Hamming distance to the nearest training window, for generated samples and for
    real held-out windows; optionally the closest sample beside its nearest training window."""
    plt = _plt()
    ncols = 3 if pair is not None else 1
    fig, axes = plt.subplots(1, ncols, figsize=(4.2 * ncols, 3.2), squeeze=False)
    ax = axes[0, 0]
    bins = np.linspace(0, 1, 41)
    ax.hist(real_dist, bins=bins, alpha=0.6, density=True, label=f"real held-out windows ({len(real_dist)})")
    ax.hist(sample_dist, bins=bins, alpha=0.6, density=True, label=f"generated ({len(sample_dist)})")
    ax.set_xlabel("distance to the nearest training window\n(Hamming / note cells; 0 = a copy)")
    ax.set_ylabel("density")
    ax.legend(fontsize=7)
    if what:
        ax.set_title(what, fontsize=8)
    if pair is not None:
        rng = _range(*pair)
        for ax, v, name in zip(axes[0, 1:], pair, ("closest generated window", "its nearest training window"),
                               strict=True):
            _draw_window(ax, np.asarray(v), 16, rng)
            ax.set_title(name, fontsize=8)
    fig.tight_layout()
    return _save(fig, path)
