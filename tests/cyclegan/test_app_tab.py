"""The app's CycleGAN tab: translate an upload both ways with a run under --runs-dir; refuse other runs and paths."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from genlab.core.errors import GenlabError


@pytest.fixture()
def app_ctx(tmp_path):
    from genlab.app.kit import AppContext
    from genlab.cyclegan import CycleGAN, CycleGANConfig
    from genlab.features.domain import ClassifierConfig, DomainClassifier

    runs = tmp_path / "runs"
    CycleGAN(CycleGANConfig(image_size=32, generator="unet", ngf=4, ndf=4)).save_pretrained(runs / "digits")
    DomainClassifier(ClassifierConfig()).save_pretrained(runs / "other")
    ctx = AppContext(runs, work_dir=tmp_path / "work", start_jobs=False)
    yield ctx
    ctx.close()


def test_translate_both_ways(app_ctx, tmp_path):
    from genlab.cyclegan import app_tab as tab

    assert app_ctx.run_choices(tab.PREFIXES) == ["digits"]
    Image.fromarray(np.zeros((40, 40, 3), np.uint8)).save(tmp_path / "x.png")
    img, note = tab.translate(app_ctx, "digits", str(tmp_path / "x.png"), "a2b")
    assert img.size[0] > img.size[1] and "original | translated | reconstructed" in note
    img, note = tab.translate(app_ctx, "digits", str(tmp_path / "x.png"), "b2a")
    assert "with F" in note
    with pytest.raises(GenlabError):
        tab.translate(app_ctx, "other", str(tmp_path / "x.png"), "a2b")
    with pytest.raises(GenlabError, match="outside the runs folder"):
        tab.translate(app_ctx, "../../etc", str(tmp_path / "x.png"), "a2b")


@pytest.mark.slow
def test_tab_builds_in_gradio(app_ctx):
    gr = pytest.importorskip("gradio")
    from genlab.cyclegan import app_tab as tab

    with gr.Blocks() as demo:
        with gr.Tab(tab.TITLE):
            tab.build_tab(gr, app_ctx)
    ids = {getattr(b, "elem_id", None) for b in demo.blocks.values()}
    assert {"cyclegan-run", "cyclegan-translate-btn", "cyclegan-result"} <= ids
