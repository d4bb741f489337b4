"""Toy sizes for the music family's README commands (merged into tests/test_readme.py's TOY table), and the small
synthetic inputs they name.

One list per (family, verb) serves every --model: only flags that every music model accepts, plus the --musegan-*
sizes (which the other models do not read). MuseGAN refuses the other models' options (--hidden-size ...), so they
must not be added to ("music", "train"); the other models train at their default sizes for 3 steps on tiny data.
"""

from __future__ import annotations

import sys
from pathlib import Path

ENGINE = ["--max-steps", "3", "--no-tensorboard", "--no-progress", "--log-every", "1", "--sample-every", "0",
          "--checkpoint-every", "2"]

TOY = {
    ("music", "train"): ENGINE + ["--batch-size", "8", "--musegan-z-dim", "4", "--musegan-g-width", "8",
                                  "--musegan-d-width", "4", "--musegan-temporal-width", "8",
                                  "--musegan-eval-samples", "16"],
    ("music", "sample"): ["--n", "1"],
    ("music", "evaluate"): ["--n-samples", "40"],
    ("music", "prepare"): ["--workers", "1", "--no-progress"],
}


def materials(root: Path) -> dict[str, str]:
    """The built-in note data (Essen) as a synthetic cache under $XDG_CACHE_HOME, the JSB quarter grid under
    $GENLAB_DATA_DIR (both set by the README test to root/cache and root/data), a JSB file with a test split, and a
    folder of MIDI files for `prepare`."""
    import json

    import numpy as np

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from music_helpers import make_jsb, make_note_data

    from genlab.music.notes import CACHE_VERSION
    from genlab.music.render import write_midi

    notes = make_note_data(root / "essen-synthetic", n_train=40, n_valid=6)
    data = json.loads((notes / "data.json").read_text())
    cache = root / "cache" / "genlab" / "music" / f"essen-v{CACHE_VERSION}.json"
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_text(json.dumps({**data, "name": "essen"}))
    make_jsb(root / "data" / "jsb-chorales" / "jsb-chorales-quarter.json", n_train=12, n_valid=4)
    test = make_jsb(root / "jsb-test.json", n_train=2, n_valid=2, n_test=3, seed=5)
    midi = root / "midi"
    for i in range(3):
        roll = np.zeros((16, 88), dtype=bool)
        for t in range(16):
            roll[t, 39 + (t + i) % 5] = roll[t, 27] = True
        write_midi({"piano": roll}, midi / f"song{i}.mid", fs_steps_per_quarter=2, lowest_pitch=21)
    return {"jsb-test.json": str(test), "~/midi": str(midi)}
