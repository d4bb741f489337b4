"""The app tab's handlers (without a browser): a controller run under --runs-dir, and refusals."""

from __future__ import annotations

import shutil

import pytest


def test_app_tab_handlers(tmp_path, tiny_vae, tiny_rnn):
    from genlab.app.kit import AppContext, AppError
    from genlab.worldmodels import app_tab
    from genlab.worldmodels.controller import SearchConfig, train_controller

    runs = tmp_path / "runs"
    shutil.copytree(tiny_vae, runs / "vae")
    shutil.copytree(tiny_rnn, runs / "rnn")
    train_controller(SearchConfig(mode="dream", population=3, trials=1, generations=1, max_episode_steps=5),
                     vae=runs / "vae", rnn=runs / "rnn", out=runs / "ctrl", show_progress=False)
    ctx = AppContext(runs, start_jobs=False)
    assert "ctrl" in ctx.run_choices(app_tab.PREFIXES)
    png, text = app_tab.scores(ctx, "ctrl")
    assert png.endswith("scores.png") and "1 generations" in text
    gif, text = app_tab.dream(ctx, "ctrl", 4, 1.0, 0)
    assert gif.endswith("dream.gif") and "dream return" in text
    gif, text = app_tab.play(ctx, "ctrl", 4, 1_000_000)
    assert gif.endswith("play.gif") and "return" in text
    with pytest.raises(AppError, match="between 1 and 300"):
        app_tab.dream(ctx, "ctrl", 5000, 1.0, 0)
    with pytest.raises(AppError, match="worldmodels-controller"):
        app_tab.scores(ctx, "rnn")
    # a controller whose V lies outside the runs folder is refused
    train_controller(SearchConfig(mode="dream", population=3, trials=1, generations=1, max_episode_steps=5),
                     vae=tiny_vae, rnn=tiny_rnn, out=runs / "outside", show_progress=False)
    with pytest.raises(AppError, match="outside the runs folder"):
        app_tab.dream(ctx, "outside", 4, 1.0, 0)
