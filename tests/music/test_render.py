"""MIDI, WAV and piano-roll PNG output."""

from __future__ import annotations

import shutil
import wave

import numpy as np
import pytest

from genlab.core.errors import ConfigError
from genlab.music import render


def _roll():
    r = np.zeros((16, 60), dtype=bool)
    r[0:4, 30] = r[4:8, 32] = r[8:16, 34] = True
    return r


def test_write_midi_merges_held_steps_into_notes_at_the_grid_times(tmp_path):
    import pretty_midi

    bass = np.zeros((16, 60))
    bass[0:16, 10] = 0.9  # float rolls: > 0.5 is on
    path = render.write_midi({"soprano": _roll(), "bass": bass}, tmp_path / "x.mid", fs_steps_per_quarter=4,
                             lowest_pitch=36, tempo=120)
    pm = pretty_midi.PrettyMIDI(str(path))
    sop, bas = pm.instruments
    assert sop.name == "soprano" and sop.program == render.DEFAULT_PROGRAMS["soprano"]
    step = 60 / 120 / 4
    assert [(n.pitch, round(n.start / step), round(n.end / step)) for n in sop.notes] == \
        [(66, 0, 4), (68, 4, 8), (70, 8, 16)]
    assert [(n.pitch, round(n.end / step)) for n in bas.notes] == [(46, 16)]


def test_write_midi_refuses_bad_rolls(tmp_path):
    with pytest.raises(ConfigError, match="2-D"):
        render.write_midi({"a": np.zeros(5)}, tmp_path / "x.mid", fs_steps_per_quarter=4)
    with pytest.raises(ConfigError, match="outside MIDI"):
        render.write_midi({"a": np.zeros((4, 60))}, tmp_path / "x.mid", fs_steps_per_quarter=4, lowest_pitch=80)
    with pytest.raises(ConfigError, match="NaN"):
        render.write_midi({"a": np.full((4, 4), np.nan)}, tmp_path / "x.mid", fs_steps_per_quarter=4)


def _wav_seconds(path):
    with wave.open(str(path)) as w:
        return w.getnframes() / w.getframerate()


@pytest.mark.skipif(shutil.which("fluidsynth") is None or render.find_soundfont() is None,
                    reason="FluidSynth or a General MIDI soundfont is not installed (Debian: fluidsynth "
                           "fluid-soundfont-gm); CI installs them")
def test_render_wav_with_fluidsynth(tmp_path):
    mid = render.write_midi({"soprano": _roll()}, tmp_path / "x.mid", fs_steps_per_quarter=4, lowest_pitch=36,
                            tempo=120)
    wav, how = render.render_wav(mid, tmp_path / "x.wav")
    assert how.startswith("fluidsynth (") and _wav_seconds(wav) >= 2.0  # 16 sixteenths at 120 bpm = 2 s


def test_render_wav_falls_back_to_sine_waves_and_says_why(tmp_path, monkeypatch):
    mid = render.write_midi({"soprano": _roll()}, tmp_path / "x.mid", fs_steps_per_quarter=4, lowest_pitch=36,
                            tempo=120)
    wav, how = render.render_wav(mid, tmp_path / "a.wav", fluidsynth="no-such-fluidsynth")
    assert how.startswith("sine waves") and "not found" in how
    assert 1.9 < _wav_seconds(wav) < 3.5
    monkeypatch.setattr(render, "SOUNDFONTS", ())
    wav, how = render.render_wav(mid, tmp_path / "b.wav")
    assert how.startswith("sine waves") and ("soundfont" in how or "not found" in how)
    assert mid.is_file() and _wav_seconds(wav) > 1.9


def test_plot_roll_writes_a_png(tmp_path):
    from PIL import Image

    path = render.plot_roll({"soprano": _roll(), "alto": np.roll(_roll(), -3, axis=1)}, tmp_path / "r.png",
                            title="t", lowest_pitch=36, steps_per_bar=16)
    assert Image.open(path).size[0] > 200
    outs = render.write_outputs({"s": _roll()}, tmp_path / "o" / "s", fs_steps_per_quarter=4, wav=False)
    assert set(outs) == {"midi", "png"}
