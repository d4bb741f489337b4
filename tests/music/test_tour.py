"""The tour's music section runs its real commands (toy size) and returns figures that exist, audio included."""

from __future__ import annotations

import pytest
import torch


@pytest.mark.slow
def test_music_tour_section_at_toy_size(tmp_path):
    pytest.importorskip("music21")
    from genlab.core.tourkit import TourContext
    from genlab.music.tour import section

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        ctx = TourContext(out=tmp_path, budget="quick", toy=True, log=lambda s: None)
        figs = section().run(ctx)
    finally:
        torch.set_num_threads(before)
    assert len(figs) >= 4 and all(f.path.is_file() for f in figs)
    assert {f.kind for f in figs} >= {"image", "audio"} or not any(f.path.suffix == ".wav" for f in figs)
    assert any("frame NLL" in f.metrics for f in figs) and any("measured on" in f.metrics for f in figs)
    assert all(f.command.startswith("genlab music ") for f in figs)
