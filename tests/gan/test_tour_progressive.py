"""The tour's ProGAN / StyleGAN section runs its real commands (toy size) and returns figures that exist."""

from __future__ import annotations

import pytest

from genlab.core.tourkit import TourContext
from genlab.gan.tour_progressive import section
from helpers import SHARED_DATA


@pytest.mark.slow
@pytest.mark.skipif(not (SHARED_DATA / "fashion-mnist").exists(), reason="needs ../shared/data (Fashion-MNIST)")
def test_section_runs_at_toy_size(tmp_path):
    s = section()
    assert s.key == "progan-stylegan"
    figs = s.run(TourContext(out=tmp_path, budget="quick", toy=True))
    titles = [f.title for f in figs]
    assert "Truncation trick (psi 0.5)" in titles and "Per-layer noise" in titles
    assert any(t.startswith("Style mixing: coarse") for t in titles)
    for f in figs:
        assert f.path.is_file() and f.command.startswith("genlab gan ")
    trunc = next(f for f in figs if f.title.startswith("Truncation"))
    assert "not Inception" in trunc.metrics["measured on (psi 0.5)"]
