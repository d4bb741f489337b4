"""The tour's MuseGAN section runs its real commands (toy size) and returns its figures with the measured numbers."""

from __future__ import annotations

import pytest

from helpers import SHARED_DATA


@pytest.mark.slow
@pytest.mark.skipif(not (SHARED_DATA / "jsb-chorales" / "Jsb16thSeparated.json").exists(),
                    reason="needs ../shared/data/jsb-chorales (the section trains on the default data)")
def test_musegan_tour_section_toy(tmp_path):
    from genlab.core.tourkit import TourContext
    from genlab.families import TOUR
    from genlab.music.musegan_tour import section

    assert "genlab.music.musegan_tour:section" in TOUR
    sec = section()
    assert sec.key == "musegan"
    figs = sec.run(TourContext(out=tmp_path, budget="quick", toy=True))
    kinds = [f.kind for f in figs]
    assert kinds[0] == "image" and "audio" in kinds
    assert all(f.path.is_file() and f.command.startswith("genlab music ") for f in figs)
    assert "real" in figs[0].metrics["qualified-note rate (>= 2 steps)"]
    assert "generated windows vs" in figs[0].metrics["measured on"]
