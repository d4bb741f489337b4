"""Music people can use: piano rolls to MIDI (pretty_midi), MIDI to WAV (FluidSynth with a General MIDI soundfont,
else a sine-wave rendering), and a piano-roll PNG.

Every model of the music family ends in these three calls, so a sample is always a ``.mid`` file, a ``.wav`` file
and a ``.png`` picture::

    tracks = {"soprano": roll_s, "alto": roll_a, "tenor": roll_t, "bass": roll_b}   # (T, n_pitches) each
    midi = write_midi(tracks, "sample.mid", fs_steps_per_quarter=4, lowest_pitch=24)
    wav, how = render_wav(midi, "sample.wav")    # how: "fluidsynth (FluidR3_GM.sf2)" or the sine fallback's note
    plot_roll(tracks, "sample.png", title="MuseGAN sample", lowest_pitch=24)

A roll's step ``t`` and column ``k`` is pitch ``lowest_pitch + k`` sounding during step ``t`` (bool, or float with
``> threshold`` on). Consecutive ``on`` steps are one held note: the grid cannot tell held from repeated notes (the
JSB data cannot either).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import wave
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from ..core.errors import ConfigError, DataError
from ..core.extras import require
from ..core.io import atomic_write

SOUNDFONTS = ("/usr/share/sounds/sf2/FluidR3_GM.sf2", "/usr/share/sounds/sf2/default-GM.sf2",
              "/usr/share/soundfonts/FluidR3_GM.sf2", "/usr/share/soundfonts/default.sf2")
SAMPLE_RATE = 22050

# General MIDI programs (0-based): a choir-like default for the four chorale voices, piano otherwise.
DEFAULT_PROGRAMS = {"soprano": 52, "alto": 52, "tenor": 52, "bass": 52}
TRACK_COLOURS = ("#d62728", "#2ca02c", "#1f77b4", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf")


def _as_roll(name: str, roll: np.ndarray, threshold: float) -> np.ndarray:
    a = np.asarray(roll)
    if a.ndim != 2:
        raise ConfigError(f"track {name!r}: a piano roll must be 2-D (steps, pitches), got shape {a.shape}")
    if a.dtype == bool:
        return a
    if not np.isfinite(a).all():
        raise ConfigError(f"track {name!r}: the piano roll holds NaN or Inf values")
    return a > threshold


def roll_to_notes(roll: np.ndarray, *, lowest_pitch: int = 0) -> list[tuple[int, int, int]]:
    """(pitch, start step, end step exclusive) of each run of ``on`` steps of a bool (T, P) roll, sorted by start."""
    notes = []
    padded = np.zeros((roll.shape[0] + 2, roll.shape[1]), dtype=np.int8)
    padded[1:-1] = roll.astype(np.int8)
    diff = np.diff(padded, axis=0)
    for k in range(roll.shape[1]):
        starts = np.flatnonzero(diff[:, k] == 1)
        ends = np.flatnonzero(diff[:, k] == -1)
        notes += [(lowest_pitch + k, int(s), int(e)) for s, e in zip(starts, ends, strict=True)]
    return sorted(notes, key=lambda n: (n[1], n[0]))


def write_midi(tracks: Mapping[str, np.ndarray], path: str | os.PathLike, *, fs_steps_per_quarter: int,
               lowest_pitch: int = 0, programs: Mapping[str, int] | None = None, tempo: float = 100.0,
               threshold: float = 0.5, velocity: int = 90) -> Path:
    """Write piano rolls as a multi-track MIDI file (one instrument per track), atomically; returns ``path``.

    ``fs_steps_per_quarter``: grid steps per quarter note (1 quarter, 2 eighths, 4 sixteenths); ``tempo`` in quarter
    notes per minute. ``programs`` maps a track name to a General MIDI program (0-based; default: choir aahs for
    soprano/alto/tenor/bass, piano for other names).
    """
    pretty_midi = require("pretty_midi", extra="music", what="writing MIDI")
    if not tracks:
        raise ConfigError("write_midi needs at least one track")
    if fs_steps_per_quarter <= 0:
        raise ConfigError(f"fs_steps_per_quarter must be positive (got {fs_steps_per_quarter})")
    if tempo <= 0:
        raise ConfigError(f"tempo must be positive (got {tempo})")
    step_s = 60.0 / tempo / fs_steps_per_quarter
    pm = pretty_midi.PrettyMIDI(initial_tempo=float(tempo))
    for name, roll in tracks.items():
        roll = _as_roll(name, roll, threshold)
        if lowest_pitch < 0 or lowest_pitch + roll.shape[1] > 128:
            raise ConfigError(f"track {name!r}: pitches {lowest_pitch}..{lowest_pitch + roll.shape[1] - 1} "
                              f"are outside MIDI's 0..127")
        program = (programs or {}).get(name, DEFAULT_PROGRAMS.get(name, 0))
        inst = pretty_midi.Instrument(program=int(program), name=str(name))
        for pitch, s, e in roll_to_notes(roll, lowest_pitch=lowest_pitch):
            inst.notes.append(pretty_midi.Note(velocity=int(velocity), pitch=int(pitch), start=s * step_s,
                                               end=e * step_s))
        pm.instruments.append(inst)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_write(path) as tmp:
        pm.write(str(tmp))
    return path


def find_soundfont(soundfont: str | os.PathLike | None = None) -> Path | None:
    """The soundfont to use: ``soundfont`` if given (it must exist), else the first General MIDI one installed."""
    if soundfont is not None:
        p = Path(soundfont)
        if not p.is_file():
            raise DataError(f"soundfont {p} does not exist; give an .sf2 file or leave it out")
        return p
    for candidate in SOUNDFONTS:
        if Path(candidate).is_file():
            return Path(candidate)
    return None


def _write_wav(path: Path, audio: np.ndarray, rate: int) -> None:
    audio = np.asarray(audio, dtype=np.float64)
    peak = float(np.abs(audio).max()) if audio.size else 0.0
    if peak > 0:
        audio = audio / peak * 0.9
    pcm = (audio * 32767).astype("<i2")
    with atomic_write(path) as tmp:
        with wave.open(str(tmp), "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(rate)
            w.writeframes(pcm.tobytes())


def render_wav(midi_path: str | os.PathLike, wav_path: str | os.PathLike, *,
               soundfont: str | os.PathLike | None = None, sample_rate: int = SAMPLE_RATE,
               fluidsynth: str | None = "fluidsynth") -> tuple[Path, str]:
    """Render a MIDI file to WAV; returns ``(wav_path, how)``, ``how`` saying which renderer made it.

    FluidSynth (the ``fluidsynth`` program) with a General MIDI soundfont when both are there; otherwise a sine-wave
    rendering through ``pretty_midi.PrettyMIDI.synthesize`` and ``how`` says why (the MIDI file is untouched either
    way). ``fluidsynth=None`` forces the fallback.
    """
    midi_path, wav_path = Path(midi_path), Path(wav_path)
    if not midi_path.is_file():
        raise DataError(f"{midi_path} does not exist; write the MIDI file first")
    wav_path.parent.mkdir(parents=True, exist_ok=True)
    font = find_soundfont(soundfont)
    exe = shutil.which(fluidsynth) if fluidsynth else None
    reason = None
    if not fluidsynth:
        reason = "FluidSynth not used (asked for the sine rendering)"
    elif exe is None:
        reason = f"FluidSynth ({fluidsynth}) not found (install Debian's fluidsynth + fluid-soundfont-gm)"
    elif font is None:
        reason = "no General MIDI soundfont found (install fluid-soundfont-gm, or pass a soundfont)"
    else:
        tmp = wav_path.with_name(f".{wav_path.name}.fluidsynth-{os.getpid()}.tmp")
        try:
            proc = subprocess.run([exe, "-ni", "-q", "-g", "0.8", "-r", str(sample_rate), "-F", str(tmp),
                                   str(font), str(midi_path)], capture_output=True, text=True, timeout=300)
            if proc.returncode == 0 and tmp.is_file() and tmp.stat().st_size > 44:
                os.replace(tmp, wav_path)
                return wav_path, f"fluidsynth ({font.name})"
            err = (proc.stderr or proc.stdout or "").strip().splitlines()
            reason = f"FluidSynth failed ({err[-1] if err else f'exit {proc.returncode}'})"
        except (OSError, subprocess.TimeoutExpired) as e:
            reason = f"FluidSynth failed ({e})"
        finally:
            tmp.unlink(missing_ok=True)
    pretty_midi = require("pretty_midi", extra="music", what="rendering MIDI to audio")
    try:
        pm = pretty_midi.PrettyMIDI(str(midi_path))
    except Exception as e:  # noqa: BLE001 - pretty_midi/mido raise many types on a bad file
        raise DataError(f"{midi_path} is not a readable MIDI file ({type(e).__name__}: {e})") from None
    audio = pm.synthesize(fs=sample_rate) if pm.instruments else np.zeros(sample_rate)
    if audio.size == 0:
        audio = np.zeros(sample_rate)
    _write_wav(wav_path, audio, sample_rate)
    return wav_path, f"sine waves (pretty_midi.synthesize): {reason}"


def plot_roll(tracks: Mapping[str, np.ndarray], path: str | os.PathLike, *, title: str = "",
              lowest_pitch: int = 0, steps_per_bar: int | None = None, threshold: float = 0.5,
              separate: bool = False) -> Path:
    """A piano-roll PNG: time across, MIDI pitch up, one colour per track (or one panel per track with
    ``separate=True``); bar lines every ``steps_per_bar`` steps. Written atomically; returns ``path``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    if not tracks:
        raise ConfigError("plot_roll needs at least one track")
    rolls = {name: _as_roll(name, r, threshold) for name, r in tracks.items()}
    T = max(r.shape[0] for r in rolls.values())
    P = max(r.shape[1] for r in rolls.values())
    used = np.flatnonzero(np.any(np.stack([np.pad(r, ((0, T - r.shape[0]), (0, P - r.shape[1])))
                                           for r in rolls.values()]), axis=(0, 1)))
    lo, hi = (int(used.min()) - 2, int(used.max()) + 3) if used.size else (0, P)
    lo, hi = max(lo, 0), min(hi, P)
    panels = list(rolls.items()) if separate else [("", None)]
    fig, axes = plt.subplots(len(panels), 1, figsize=(min(16, 3 + T * 0.08), 1.2 + 2.2 * len(panels)),
                             squeeze=False, sharex=True)
    for ax, (pname, _) in zip(axes[:, 0], panels, strict=True):
        items = [(pname, rolls[pname])] if separate else list(rolls.items())
        handles = []
        for i, (name, roll) in enumerate(items):
            colour = TRACK_COLOURS[list(rolls).index(name) % len(TRACK_COLOURS)]
            for pitch, s, e in roll_to_notes(roll, lowest_pitch=lowest_pitch):
                ax.add_patch(plt.Rectangle((s, pitch - 0.45), e - s, 0.9, color=colour, alpha=0.85, lw=0))
            handles.append(Patch(color=colour, label=name))
        if steps_per_bar:
            for b in range(0, T + 1, steps_per_bar):
                ax.axvline(b, color="#999999", lw=0.6)
        ax.set_xlim(0, T)
        ax.set_ylim(lowest_pitch + lo - 0.5, lowest_pitch + hi - 0.5)
        ax.set_ylabel(f"{pname + ' ' if pname else ''}MIDI pitch")
        if len(items) > 1 or separate:
            ax.legend(handles=handles, loc="upper right", fontsize=7, ncol=min(4, len(handles)))
    axes[-1, 0].set_xlabel("step")
    if title:
        axes[0, 0].set_title(title)
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_write(path) as tmp:
        fig.savefig(tmp, format="png", dpi=90)
    plt.close(fig)
    return path


def write_outputs(tracks: Mapping[str, np.ndarray], stem: str | os.PathLike, *, fs_steps_per_quarter: int,
                  lowest_pitch: int = 0, programs: Mapping[str, int] | None = None, tempo: float = 100.0,
                  title: str = "", steps_per_bar: int | None = None, wav: bool = True,
                  soundfont: str | os.PathLike | None = None) -> dict[str, str]:
    """``stem.mid``, ``stem.wav`` and ``stem.png`` of one sample; returns their paths and how the WAV was made."""
    stem = Path(stem)
    midi = write_midi(tracks, stem.with_suffix(".mid"), fs_steps_per_quarter=fs_steps_per_quarter,
                      lowest_pitch=lowest_pitch, programs=programs, tempo=tempo)
    out = {"midi": str(midi)}
    png = plot_roll(tracks, stem.with_suffix(".png"), title=title, lowest_pitch=lowest_pitch,
                    steps_per_bar=steps_per_bar)
    out["png"] = str(png)
    if wav:
        path, how = render_wav(midi, stem.with_suffix(".wav"), soundfont=soundfont)
        out["wav"], out["wav_how"] = str(path), how
    return out
