"""The app's MuseGAN tab: its handlers compose a window (roll PNG, WAV, MIDI) and the noise grid from a run under
--runs-dir, refuse a bad temperature and runs of another kind; the tab builds inside gradio."""

from __future__ import annotations

import pytest

from genlab.core.errors import GenlabError


@pytest.fixture()
def app_ctx(tmp_path):
    from genlab.app.kit import AppContext
    from genlab.music.musegan import MuseGAN, MuseGANConfig

    runs = tmp_path / "runs"
    MuseGAN(MuseGANConfig(z_dim=4, g_width=8, d_width=4, temporal_width=8)).save_pretrained(runs / "mg")
    ctx = AppContext(runs, work_dir=tmp_path / "work", start_jobs=False)
    yield ctx
    ctx.close()


def test_compose_and_grid(app_ctx):
    from genlab.music import musegan_app_tab as tab

    assert app_ctx.run_choices(tab.PREFIXES) == ["mg"]
    png, wav, midi, note = tab.compose(app_ctx, "mg", 3, 1.0)
    for path in (png, wav, midi):
        assert __import__("pathlib").Path(path).stat().st_size > 0
    assert "seed 3" in note and "audio:" in note
    grid_png, note2 = tab.grid(app_ctx, "mg", 0)
    assert grid_png.endswith(".png") and "other three" in note2
    with pytest.raises(GenlabError, match="temperature must be > 0"):
        tab.compose(app_ctx, "mg", 0, 0)
    with pytest.raises(GenlabError, match="outside the runs folder"):
        tab.compose(app_ctx, "../../etc", 0, 1.0)


@pytest.mark.slow
def test_tab_builds_in_gradio(app_ctx):
    gr = pytest.importorskip("gradio")
    from genlab.families import APP_TABS
    from genlab.music import musegan_app_tab as tab

    assert "genlab.music.musegan_app_tab:build_tab" in APP_TABS
    with gr.Blocks() as demo:
        with gr.Tab(tab.TITLE):
            tab.build_tab(gr, app_ctx)
    ids = {getattr(b, "elem_id", None) for b in demo.blocks.values()}
    assert {"musegan-run", "musegan-compose-btn", "musegan-audio", "musegan-grid-btn"} <= ids
