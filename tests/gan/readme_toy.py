"""Toy sizes for the GAN family's new README verbs (merged into tests/test_readme.py's TOY table; the train /
sample / evaluate entries for gan stay there and serve --arch progan / stylegan too: their flags are shared)."""

from __future__ import annotations

TOY = {
    ("gan", "mix"): ["--n-a", "2", "--n-b", "2"],
    ("gan", "noise"): ["--n", "2", "--realisations", "4"],
    ("gan", "analyze"): ["--samples", "50", "--pairs", "10"],
}
