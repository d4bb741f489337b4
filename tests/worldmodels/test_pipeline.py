"""The whole pipeline through the CLI at toy size: every stage's output checked."""

from __future__ import annotations

import json

import numpy as np
import pytest


@pytest.mark.slow
def test_the_whole_pipeline_end_to_end(cli, tmp_path):
    data, vae, z, rnn = tmp_path / "data", tmp_path / "vae", tmp_path / "z", tmp_path / "rnn"
    engine = ["--no-tensorboard", "--no-progress", "--log-every", "1"]
    code, out, err = cli("worldmodels", "collect", "--episodes", "2", "--max-episode-steps", "40", "--workers", "2",
                         "--seed", "0", "--out", data, "--no-progress")
    assert code == 0, err
    assert "collected 2 episode(s)" in out and "MB" in err and (data / "figures" / "rollout.png").exists()
    code, out, err = cli("worldmodels", "train-vae", "--data", data, "--out", vae, "--max-steps", "6",
                         "--batch-size", "16", "--conv-channels", "4", "4", "4", "4", *engine)
    assert code == 0, err
    cfg = json.loads((vae / "config.json").read_text())
    assert cfg["model_type"] == "vae-conv" and cfg["config"]["latent_dim"] == 32
    assert cfg["config"]["image_size"] == 64 and cfg["config"]["image_channels"] == 3
    assert list((vae / "samples").glob("*.png"))  # real frames over their reconstructions
    code, out, err = cli("worldmodels", "encode", "--data", data, "--vae", vae, "--out", z, "--no-progress")
    assert code == 0, err
    ep = np.load(z / "episode_00000.npz")
    assert ep["mu"].shape == ep["logvar"].shape == (40, 32) and (z / "figures" / "latent_frame.png").exists()
    code, out, err = cli("worldmodels", "train-rnn", "--data", z, "--out", rnn, "--seq-len", "8", "--batch-size",
                         "4", "--max-steps", "6", "--hidden-size", "32", "--checkpoint-every", "3", *engine)
    assert code == 0, err
    assert "z NLL" in out and list((rnn / "samples").glob("*.png"))  # decoded next-frame predictions
    code, out, err = cli("worldmodels", "train-rnn", "--data", z, "--out", rnn, "--resume", "--max-steps", "8",
                         *engine)
    assert code == 0 and "step 6 -> 8" in out, err
    code, out, err = cli("worldmodels", "train-controller", "--mode", "dream", "--vae", vae, "--rnn", rnn,
                         "--population", "4", "--trials", "2", "--generations", "2", "--max-episode-steps", "20",
                         "--out", tmp_path / "cd", "--no-progress")
    assert code == 0, err
    search = json.loads((tmp_path / "cd" / "search.json").read_text())
    assert search["generation"] == 2 and len(search["history"]) == 2 and (tmp_path / "cd" / "scores.png").exists()
    code, out, err = cli("worldmodels", "train-controller", "--mode", "real", "--vae", vae, "--rnn", rnn,
                         "--population", "2", "--trials", "1", "--generations", "1", "--max-episode-steps", "15",
                         "--workers", "2", "--init-from", tmp_path / "cd", "--out", tmp_path / "cr", "--no-progress")
    assert code == 0, err
    code, out, err = cli("worldmodels", "evaluate", tmp_path / "cr", "--episodes", "2", "--max-episode-steps", "15",
                         "--no-progress")
    assert code == 0, err
    ev = json.loads((tmp_path / "cr" / "eval.json").read_text())
    assert ev["episodes"] == 2 and len(ev["returns"]) == 2 and ev["seeds"].startswith("1000000")
    assert ev["mean"] == pytest.approx(np.mean(ev["returns"]), abs=1e-2) and "not comparable" in ev["protocol_note"]
    code, out, err = cli("worldmodels", "play", tmp_path / "cr", "--max-episode-steps", "10")
    assert code == 0, err
    from PIL import Image

    gif = Image.open(tmp_path / "cr" / "play.gif")
    assert gif.n_frames == 10 and gif.size[0] > 3 * 190  # real | reconstruction | actions
    code, out, err = cli("worldmodels", "dream", tmp_path / "cd", "--steps", "12", "--output", tmp_path / "d.mp4")
    assert code == 0, err
    assert (tmp_path / "d.mp4").stat().st_size > 1000 and (tmp_path / "d_vs_real.png").exists()


@pytest.mark.slow
def test_tour_section_runs_at_toy_size(tmp_path):
    from genlab.core.tourkit import TourContext
    from genlab.worldmodels.tour import section

    sec = section()
    assert sec.key == "worldmodels" and sec.estimate_s["quick"] <= 60
    figures = sec.run(TourContext(out=tmp_path, budget="quick", toy=True))
    assert len(figures) == 8
    for f in figures:
        assert f.path.exists() and f.path.stat().st_size > 0, f.path
        assert f.command.startswith("genlab worldmodels ")
    assert any("real score" in f.metrics and "unseen track seeds" in f.metrics["real score"] for f in figures)
