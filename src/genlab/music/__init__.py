"""Music (Foster ch. 7): a note/duration LSTM with attention and a GPT over the same tokens, an RNN over 88-key chorale
frames (Bernoulli or NADE output) and MuseGAN; every sample is MIDI + WAV + a piano-roll PNG.

    >>> from genlab import music
    >>> run = music.train(music.MusicDataConfig(model="polyphonic"), out="runs/music/jsb").run_dir
    >>> music.evaluate(run)["nll"]                      # nats per step, summed over 88 keys, on JSB valid
    >>> music.sample(run, n=2, out="runs/music/jsb/samples/s.mid")
    >>> music.write_midi({"soprano": roll}, "x.mid", fs_steps_per_quarter=4)
"""

from __future__ import annotations

from importlib import import_module

_LAZY = {
    "train": "api", "sample": "api", "evaluate": "api", "prepare": "prepare",
    "MusicDataConfig": "config", "NoteRNNConfig": "config", "PolyConfig": "config", "SharedModelOptions": "config",
    "write_midi": "render", "render_wav": "render", "plot_roll": "render", "write_outputs": "render",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(import_module(f"{__name__}.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
