"""MuseGAN's generator and critic shapes, the roll <-> voices conversion, the gradient penalty on a linear critic, the
noise-grid experiment (one input changes, the others stay), save/load."""

from __future__ import annotations

import pytest
import torch

from genlab.core.errors import ConfigError
from genlab.gan.losses import gradient_penalty
from genlab.music.musegan import NOISE_KINDS, MuseGAN, MuseGANConfig, to_roll, to_voices
from helpers import one_line

TINY = dict(z_dim=8, g_width=8, d_width=4, temporal_width=8)


def test_generator_and_critic_shapes():
    model = MuseGAN(MuseGANConfig(**TINY))
    z = model.noise(3, seed=0)
    assert z["chords"].shape == (3, 8) and z["style"].shape == (3, 8)
    assert z["melody"].shape == (3, 4, 8) and z["groove"].shape == (3, 4, 8)
    rolls = model.generate(z)
    assert rolls.shape == (3, 4, 2, 16, 84)
    assert rolls.min() >= -1 and rolls.max() <= 1  # tanh
    assert model.critic(rolls).shape == (3,)
    voices = model.sample(5, seed=1)
    assert voices.shape == (5, 4, 32) and voices.dtype == torch.long
    assert ((voices == -1) | ((voices >= 0) & (voices < 84))).all()


def test_foster_sized_model_builds():
    model = MuseGAN(MuseGANConfig())
    assert model.critic(torch.zeros(2, 4, 2, 16, 84)).shape == (2,)
    assert model.generate(model.noise(2)).shape == (2, 4, 2, 16, 84)


def test_voices_roll_round_trip_and_rest_rule():
    cfg = MuseGANConfig(**TINY)
    voices = torch.randint(40, 80, (2, 4, 32))
    voices[0, 1, 5:9] = -1
    roll = to_roll(voices, cfg)
    assert roll.shape == (2, 4, 2, 16, 84)
    assert set(roll.unique().tolist()) == {-1.0, 1.0}
    assert roll[0, 1, 0, 5].max() == -1.0  # a rest is a column with no +1
    assert torch.equal(to_voices(roll), voices)
    # the argmax row is the pitch only when it is above 0 (the middle of the tanh range)
    out = torch.full((1, 4, 2, 16, 84), -0.9)
    out[0, 0, 0, 0, 60] = 0.2
    out[0, 0, 0, 1, 61] = -0.1
    v = to_voices(out)
    assert v[0, 0, 0] == 60 and v[0, 0, 1] == -1 and (v[0, 1:] == -1).all()


def test_gradient_penalty_on_a_linear_critic():
    # critic(x) = <w, x>: its gradient is w everywhere, so the penalty is (|w| - 1)^2 = (3 - 1)^2 = 4
    w = torch.zeros(4, 2, 16, 84)
    w[0, 0, 0, 0], w[1, 1, 3, 5] = 2.0, 5 ** 0.5  # |w|^2 = 4 + 5 = 9
    critic = lambda x: (x * w).flatten(1).sum(1)  # noqa: E731
    real, fake = torch.randn(6, 4, 2, 16, 84), torch.randn(6, 4, 2, 16, 84)
    assert gradient_penalty(critic, real, fake).item() == pytest.approx(4.0, rel=1e-5)
    w2 = w / 3  # a unit gradient: no penalty
    assert gradient_penalty(lambda x: (x * w2).flatten(1).sum(1), real, fake).item() == pytest.approx(0, abs=1e-10)


def test_vary_one_changes_only_the_chosen_noise_input():
    from genlab.music.musegan_api import noise_grid, vary_one

    model = MuseGAN(MuseGANConfig(**TINY))
    base, fresh = model.noise(1, seed=0), model.noise(3, seed=1)
    for kind in NOISE_KINDS:
        z = vary_one(base, fresh, kind)
        for k in NOISE_KINDS:
            assert z[k].shape[0] == 3
            if k == kind:
                assert torch.equal(z[k], fresh[k])
            else:
                assert all(torch.equal(z[k][i], base[k][0]) for i in range(3))
    grid = noise_grid(model, seed=0, columns=3)
    assert list(grid) == list(NOISE_KINDS) and all(len(v) == 4 for v in grid.values())
    base_window = grid["chords"][0]
    assert all((grid[k][0] == base_window).all() for k in NOISE_KINDS)  # the same base in every row


def test_temperature_must_be_positive():
    model = MuseGAN(MuseGANConfig(**TINY))
    with pytest.raises(ConfigError) as err:
        model.noise(2, temperature=0)
    one_line(err, "--temperature", "> 0")


def test_config_is_checked():
    with pytest.raises(ConfigError) as err:
        MuseGANConfig(z_dim=0)
    one_line(err, "--z-dim")
    with pytest.raises(ConfigError):
        MuseGANConfig(g_width=10)  # not a multiple of 4


def test_save_and_load_give_the_same_samples(tmp_path):
    import genlab

    model = MuseGAN(MuseGANConfig(**TINY)).eval()
    model.save_pretrained(tmp_path / "m")
    loaded = genlab.load(tmp_path / "m")
    assert isinstance(loaded, MuseGAN)
    assert torch.equal(model.sample(4, seed=3), loaded.sample(4, seed=3))
