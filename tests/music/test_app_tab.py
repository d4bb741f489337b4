"""The app's music tab: compose with a note model (heat map) and the polyphonic model from runs under --runs-dir,
refuse a bad temperature, a prompt outside the vocabulary and runs of another kind; the tab builds inside gradio."""

from __future__ import annotations

from pathlib import Path

import pytest

from genlab.core.errors import GenlabError


@pytest.fixture()
def app_ctx(tmp_path):
    from genlab.app.kit import AppContext
    from genlab.music.config import NoteRNNConfig, PolyConfig
    from genlab.music.models import NoteRNN, PolyRNN

    runs = tmp_path / "runs"
    NoteRNN(NoteRNNConfig(embed_dim=4, hidden_size=8, num_layers=1, seq_len=8,
                          pitch_vocab=("<s>", "rest", "60", "62", "64"),
                          duration_vocab=("<s>", "1/2", "1"))).save_pretrained(runs / "notes")
    PolyRNN(PolyConfig(hidden_size=8, nade_hidden=4)).save_pretrained(runs / "poly")
    ctx = AppContext(runs, work_dir=tmp_path / "work", start_jobs=False)
    yield ctx
    ctx.close()


def test_compose_with_both_kinds_of_model(app_ctx):
    from genlab.music import app_tab as tab

    assert sorted(app_ctx.run_choices(tab.PREFIXES)) == ["notes", "poly"]
    png, att, wav, midi, note = tab.compose(app_ctx, "notes", 1, 0.8, 1.0, 12, "60:1 62:1/2")
    assert all(Path(p).stat().st_size > 0 for p in (png, att, wav, midi)) and "12 notes" in note
    png, att, wav, midi, note = tab.compose(app_ctx, "poly", 0, 1.0, 1.0, 6, "")
    assert att is None and Path(midi).is_file() and "6 frames" in note
    with pytest.raises(GenlabError, match="must be > 0"):
        tab.compose(app_ctx, "notes", 0, 0, 1.0, 8, "")
    with pytest.raises(GenlabError, match="--prompt pitch 61"):
        tab.compose(app_ctx, "notes", 0, 1.0, 1.0, 8, "61:1")
    with pytest.raises(GenlabError, match="outside the runs folder"):
        tab.compose(app_ctx, "../../etc", 0, 1.0, 1.0, 8, "")


@pytest.mark.slow
def test_tab_builds_in_gradio(app_ctx):
    gr = pytest.importorskip("gradio")
    from genlab.music import app_tab as tab

    with gr.Blocks() as demo:
        with gr.Tab(tab.TITLE):
            tab.build_tab(gr, app_ctx)
    ids = {getattr(b, "elem_id", None) for b in demo.blocks.values()}
    assert {"music-run", "music-compose-btn", "music-audio", "music-attention"} <= ids
