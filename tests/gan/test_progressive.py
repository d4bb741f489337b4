"""ProGAN pieces on hand numbers: the growth schedule, equalised LR, minibatch stddev, pixel norm, the faded reals,
and the gradient penalty never touching the fade-in alpha."""

from __future__ import annotations

import math

import pytest
import torch

from genlab.core.errors import ConfigError
from genlab.gan.losses import gradient_penalty
from genlab.gan.progressive import (EqualConv2d, EqualLinear, ProGAN, ProGANConfig, fade_real_images,
                                    growth_schedule, minibatch_stddev, pixel_norm, stage_channels)

TINY = dict(size=16, latent_dim=8, g_channels=2, d_channels=2, fade_images=40, stable_images=20)


def test_growth_schedule_by_hand():
    kw = dict(levels=3, fade_images=100, stable_images=50)
    assert growth_schedule(0, **kw) == (0, 1.0)
    assert growth_schedule(49, **kw) == (0, 1.0)
    assert growth_schedule(50, **kw) == (1, 0.0)  # fade-in starts at alpha 0
    assert growth_schedule(75, **kw) == (1, 0.25)
    assert growth_schedule(149, **kw) == (1, 0.99)
    assert growth_schedule(150, **kw) == (1, 1.0)  # stable phase
    assert growth_schedule(199, **kw) == (1, 1.0)
    assert growth_schedule(200, **kw) == (2, 0.0)
    assert growth_schedule(250, **kw) == (2, 0.5)
    assert growth_schedule(10 ** 9, **kw) == (2, 1.0)  # the last level stays


def test_alpha_rises_monotonically_from_0_to_1_within_each_fade_in():
    kw = dict(levels=4, fade_images=64, stable_images=32)
    seen = [growth_schedule(i, **kw) for i in range(0, 400, 8)]
    for level in (1, 2, 3):
        alphas = [a for lv, a in seen if lv == level]
        assert alphas[0] == 0.0 and alphas[-1] == 1.0
        assert all(b >= a for a, b in zip(alphas, alphas[1:]))
        assert len(set(alphas)) > 3  # it rises, not jumps
    levels = [lv for lv, _ in seen]
    assert levels == sorted(levels)


def test_equalised_lr_layers_scale_their_weights_at_run_time():
    torch.manual_seed(0)
    lin = EqualLinear(8, 3)
    assert lin.scale == pytest.approx(math.sqrt(2) / math.sqrt(8))
    torch.testing.assert_close(lin.effective_weight(), lin.weight * math.sqrt(2 / 8))
    x = torch.randn(4, 8)
    torch.testing.assert_close(lin(x), x @ (lin.weight * math.sqrt(2 / 8)).t())
    conv = EqualConv2d(3, 5, 3, padding=1)
    assert conv.scale == pytest.approx(math.sqrt(2) / math.sqrt(3 * 9))
    assert abs(float(conv.weight.detach().std()) - 1.0) < 0.25  # stored weights are N(0, 1): the scale is not in them
    torch.testing.assert_close(conv.effective_weight(), conv.weight * math.sqrt(2 / 27))
    slow = EqualLinear(4, 4, lr_mul=0.01, bias_init=1.0)
    torch.testing.assert_close(slow.effective_weight(), slow.weight * 0.01 * math.sqrt(2) / 2)
    torch.testing.assert_close(slow.bias * slow.lr_mul, torch.ones(4))  # the effective bias is bias_init


def test_minibatch_stddev_shape_and_value():
    x = torch.zeros(8, 3, 2, 2)
    x[:, 0] = torch.arange(8.0).view(8, 1, 1)  # channel 0 varies over the batch, the others are constant
    y = minibatch_stddev(x, group_size=4, eps=0.0)
    assert y.shape == (8, 4, 2, 2)
    torch.testing.assert_close(y[:, :3], x)
    # groups {0, 2, 4, 6} and {1, 3, 5, 7}: std of (0, 2, 4, 6) (population) = sqrt(5); over 3 channels -> sqrt(5)/3
    torch.testing.assert_close(y[:, 3], torch.full((8, 2, 2), math.sqrt(5) / 3))
    assert minibatch_stddev(torch.randn(6, 2, 4, 4), group_size=4).shape == (6, 3, 4, 4)  # 4 does not divide 6


def test_pixel_norm_gives_unit_rms_per_pixel():
    x = torch.tensor([[[[3.0]], [[4.0]]]])  # one pixel, feature vector (3, 4): rms sqrt(12.5)
    torch.testing.assert_close(pixel_norm(x, eps=0.0), x / math.sqrt(12.5))
    assert torch.allclose(pixel_norm(torch.randn(2, 7, 3, 3)).pow(2).mean(dim=1), torch.ones(2, 3, 3), atol=1e-5)


def test_stage_channels_double_towards_4x4():
    assert stage_channels(16, 4) == [128, 64, 32, 16]
    assert stage_channels(16, 5) == [128, 128, 64, 32, 16]


def test_faded_real_images_blend_the_half_resolution_version():
    x8 = torch.rand(2, 1, 8, 8)
    lo = torch.nn.functional.interpolate(torch.nn.functional.avg_pool2d(x8, 2), scale_factor=2)
    torch.testing.assert_close(fade_real_images(x8, 1, 0.0), lo)
    torch.testing.assert_close(fade_real_images(x8, 1, 1.0), x8)
    torch.testing.assert_close(fade_real_images(x8, 1, 0.25), 0.75 * lo + 0.25 * x8)
    assert fade_real_images(torch.rand(2, 1, 32, 32), 1, 1.0).shape == (2, 1, 8, 8)


def test_generator_output_fades_between_the_two_resolutions():
    torch.manual_seed(0)
    gan = ProGAN(ProGANConfig(**TINY))
    z = torch.randn(3, 8)
    gan.set_growth(1, 1.0)
    new = gan.generator(z)
    gan.set_growth(0, 1.0)
    old = torch.nn.functional.interpolate(gan.generator(z), scale_factor=2)
    gan.set_growth(1, 0.3)
    torch.testing.assert_close(gan.generator(z), 0.7 * old + 0.3 * new, atol=1e-6, rtol=1e-5)
    assert gan.discriminate(gan.generator(z)).shape == (3,)
    assert gan.sample(2, seed=0).shape == (2, 1, 16, 16)  # samples at the final side whatever the phase


def test_gradient_penalty_does_not_touch_the_fade_in_alpha():
    """The reference repositories' bug: the GP's interpolation weight named alpha overwrote the fade-in alpha."""
    torch.manual_seed(0)
    gan = ProGAN(ProGANConfig(**TINY))
    gan.set_growth(1, 0.37)
    real, fake = torch.rand(4, 1, 8, 8), torch.rand(4, 1, 8, 8)
    gp = gradient_penalty(gan.discriminate, real, fake, eps=torch.full((4,), 0.9))
    assert torch.isfinite(gp)
    for net in (gan.generator, gan.discriminator, gan.generator_ema):
        assert net.current == (1, pytest.approx(0.37))


def test_growth_state_is_saved_with_the_weights(tmp_path):
    gan = ProGAN(ProGANConfig(**TINY))
    gan.set_growth(images_seen=20 + 10)  # a quarter into the 8 px fade-in
    assert gan.growth == (1, 0.25)
    gan.save_pretrained(tmp_path)
    again = ProGAN.from_pretrained(tmp_path)
    assert again.growth == (1, 0.25) and again.generator_ema.current == (1, 0.25)
    torch.testing.assert_close(again.sample(2, seed=1), gan.sample(2, seed=1))


@pytest.mark.parametrize("size", [28, 48, 2])
def test_sizes_that_are_not_powers_of_two_are_refused(size):
    with pytest.raises(ConfigError, match="powers of two"):
        ProGANConfig(size=size)
