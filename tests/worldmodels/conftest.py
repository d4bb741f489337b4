"""Tiny World Models pieces shared by the tests: a 3x64x64 conv VAE, an MDN-RNN and a few short real episodes."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")


@pytest.fixture(scope="session")
def tiny_vae(tmp_path_factory):
    import torch

    from genlab.latent import ConvVAE, VAEConfig

    torch.manual_seed(0)
    model = ConvVAE(VAEConfig(arch="conv", latent_dim=8, conv_channels=(4, 4, 4, 4), image_channels=3,
                              image_size=64))
    return model.save_pretrained(tmp_path_factory.mktemp("vae"))


@pytest.fixture(scope="session")
def tiny_rnn(tmp_path_factory):
    import torch

    from genlab.worldmodels.models import MDNRNN, MDNRNNConfig

    torch.manual_seed(1)
    return MDNRNN(MDNRNNConfig(latent_dim=8, hidden_size=16, num_mixtures=3)).save_pretrained(
        tmp_path_factory.mktemp("rnn"))


@pytest.fixture(scope="session")
def tiny_data(tmp_path_factory):
    """3 random episodes of 24 steps (track seeds 0, 1, 2) as shards."""
    from genlab.worldmodels.pipeline import collect

    out = tmp_path_factory.mktemp("data") / "car"
    collect(out, episodes=3, workers=1, seed=0, max_episode_steps=24, show_progress=False)
    return out
