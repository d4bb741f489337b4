"""Every bad input is one line and a non-zero exit (through the CLI)."""

from __future__ import annotations

import sys

import numpy as np
import pytest
import torch

from helpers import assert_one_line_error


def _controller_run(tmp_path, cli, tiny_vae, tiny_rnn, name="c", *extra):
    out = tmp_path / name
    code, _, err = cli("worldmodels", "train-controller", "--mode", "dream", "--vae", tiny_vae, "--rnn", tiny_rnn,
                       "--population", "3", "--trials", "1", "--generations", "1", "--max-episode-steps", "5",
                       "--out", out, "--no-progress", *extra)
    assert code == 0, err
    return out


def test_counts_and_temperature_and_population(cli, tmp_path, tiny_vae, tiny_rnn):
    for flag, value, needle in (("--workers", "0", "--workers must be >= 1"),
                                ("--episodes", "0", "--episodes must be >= 1"),
                                ("--max-episode-steps", "0", "--max-episode-steps must be >= 1")):
        code, _, err = cli("worldmodels", "collect", "--out", tmp_path / "d", flag, value)
        assert_one_line_error(code, err, needle)
    base = ("worldmodels", "train-controller", "--vae", tiny_vae, "--rnn", tiny_rnn, "--out", tmp_path / "c")
    code, _, err = cli(*base, "--temperature", "-0.5")
    assert_one_line_error(code, err, "--temperature must be >= 0")
    code, _, err = cli(*base, "--population", "1")
    assert_one_line_error(code, err, "--population must be >= 2")
    code, _, err = cli(*base, "--workers", "0", "--mode", "real")
    assert_one_line_error(code, err, "--workers must be >= 1")
    run = _controller_run(tmp_path, cli, tiny_vae, tiny_rnn)
    code, _, err = cli("worldmodels", "dream", run, "--temperature", "-1", "--steps", "3")
    assert_one_line_error(code, err, "--temperature must be >= 0")
    code, _, err = cli("worldmodels", "evaluate", run, "--episodes", "0")
    assert_one_line_error(code, err, "episodes")


def test_missing_gymnasium_says_what_to_install(cli, tmp_path, monkeypatch):
    import gymnasium

    monkeypatch.setitem(sys.modules, "gymnasium", None)  # import gymnasium -> ImportError
    code, _, err = cli("worldmodels", "collect", "--episodes", "1", "--out", tmp_path / "d")
    assert_one_line_error(code, err, "gymnasium", "pip install 'genlab[worldmodels]'")
    monkeypatch.setitem(sys.modules, "gymnasium", gymnasium)
    monkeypatch.setitem(sys.modules, "Box2D", None)
    code, _, err = cli("worldmodels", "collect", "--episodes", "1", "--out", tmp_path / "d")
    assert_one_line_error(code, err, "Box2D", "genlab[worldmodels]")


def test_data_folders_without_usable_shards(cli, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    code, _, err = cli("worldmodels", "train-vae", "--data", empty, "--out", tmp_path / "v")
    assert_one_line_error(code, err, "no episode_*.npz shards", "collect")
    code, _, err = cli("worldmodels", "train-vae", "--data", tmp_path / "nowhere", "--out", tmp_path / "v")
    assert_one_line_error(code, err, "does not exist")
    (empty / "episode_00000.npz").write_bytes(b"PK\x03\x04 not really a zip")
    code, _, err = cli("worldmodels", "train-vae", "--data", empty, "--out", tmp_path / "v")
    lines = [x for x in err.strip().splitlines() if x.startswith("genlab: error")]
    assert code != 0 and len(lines) == 1 and "none readable" in lines[0] and "Traceback" not in err
    assert "warning: skipped 1 corrupt" in err and "episode_00000.npz" in err
    code, _, err = cli("worldmodels", "train-rnn", "--data", empty, "--out", tmp_path / "r")
    assert_one_line_error(code, err, "encode.json", "genlab worldmodels encode")


def test_a_vae_of_the_wrong_size_or_z_for_train_rnn(cli, tmp_path, tiny_data, tiny_vae):
    from genlab.latent import ConvVAE, VAEConfig

    z = tmp_path / "z"
    code, _, err = cli("worldmodels", "encode", "--data", tiny_data, "--vae", tiny_vae, "--out", z, "--no-progress")
    assert code == 0, err
    small = ConvVAE(VAEConfig(arch="conv", latent_dim=8, conv_channels=(4, 4), image_channels=3, image_size=32))
    small.save_pretrained(tmp_path / "vae32")
    other_z = ConvVAE(VAEConfig(arch="conv", latent_dim=5, conv_channels=(4, 4), image_channels=3, image_size=64))
    other_z.save_pretrained(tmp_path / "vae_z5")
    base = ("worldmodels", "train-rnn", "--data", z, "--out", tmp_path / "r", "--max-steps", "1")
    code, _, err = cli(*base, "--vae", tmp_path / "vae32")
    assert_one_line_error(code, err, "3x32x32", "3x64x64")
    code, _, err = cli(*base, "--vae", tmp_path / "vae_z5")
    assert_one_line_error(code, err, "z of size 5", "size 8")
    code, _, err = cli("worldmodels", "encode", "--data", tiny_data, "--vae", tmp_path / "vae32", "--out", tmp_path / "z2")
    assert_one_line_error(code, err, "3x32x32")


def test_a_controller_or_rnn_of_another_size(cli, tmp_path, tiny_vae, tiny_rnn):
    from genlab.worldmodels.models import MDNRNN, Controller, ControllerConfig, MDNRNNConfig

    MDNRNN(MDNRNNConfig(latent_dim=4, hidden_size=16)).save_pretrained(tmp_path / "rnn_z4")
    code, _, err = cli("worldmodels", "train-controller", "--vae", tiny_vae, "--rnn", tmp_path / "rnn_z4",
                       "--out", tmp_path / "c1")
    assert_one_line_error(code, err, "predicts z of size 4", "z of size 8")
    other = tmp_path / "other"
    Controller(ControllerConfig(latent_dim=8, hidden_size=32)).save_pretrained(other)
    code, _, err = cli("worldmodels", "train-controller", "--vae", tiny_vae, "--rnn", tiny_rnn, "--init-from", other,
                       "--out", tmp_path / "c2")
    assert_one_line_error(code, err, "z 8 / h 32", "z 8 / h 16")
    code, _, err = cli("worldmodels", "evaluate", tiny_rnn, "--episodes", "1")
    assert_one_line_error(code, err, "not a controller run")
    code, _, err = cli("worldmodels", "evaluate", "--episodes", "1")
    assert_one_line_error(code, err, "--random")


def test_resume_refusals(cli, tmp_path, tiny_vae, tiny_rnn):
    run = _controller_run(tmp_path, cli, tiny_vae, tiny_rnn)
    code, _, err = cli("worldmodels", "train-controller", "--vae", tiny_vae, "--rnn", tiny_rnn, "--out", run)
    assert_one_line_error(code, err, "already holds a controller search", "--resume")
    code, _, err = cli("worldmodels", "train-controller", "--out", run, "--resume", "--population", "8")
    assert_one_line_error(code, err, "cannot change --population")
    code, _, err = cli("worldmodels", "train-controller", "--out", tmp_path / "none", "--resume")
    assert_one_line_error(code, err, "no controller search")
    (run / "cmaes.safetensors").write_bytes(b"garbage")
    code, _, err = cli("worldmodels", "train-controller", "--out", run, "--resume", "--generations", "2")
    assert_one_line_error(code, err, "cmaes.safetensors", "corrupt")
