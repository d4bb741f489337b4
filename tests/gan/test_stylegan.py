"""StyleGAN-lite on hand numbers: the modulated/demodulated conv, truncation, mixing, the layer groups."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from genlab.core.errors import ConfigError
from genlab.gan.stylegan import (StyleGAN, StyleGANConfig, layer_groups, layer_sides, modulated_conv2d,
                                 parse_layers)

TINY = dict(size=16, latent_dim=8, w_dim=8, mapping_layers=1, g_channels=2, d_channels=2)


def test_modulation_and_demodulation_on_hand_numbers():
    x = torch.ones(1, 2, 1, 1)
    weight = torch.tensor([[[[1.0]], [[2.0]]], [[[3.0]], [[0.0]]]])  # (O=2, I=2, 1, 1)
    styles = torch.tensor([[2.0, 0.5]])
    # modulated weights: out 0: (1*2, 2*0.5) = (2, 1); out 1: (3*2, 0) = (6, 0)
    torch.testing.assert_close(modulated_conv2d(x, weight, styles, demodulate=False).flatten(),
                               torch.tensor([3.0, 6.0]))
    # demodulated: out 0 (2, 1)/sqrt(5) -> sum 3/sqrt(5); out 1 (6, 0)/6 -> 1
    torch.testing.assert_close(modulated_conv2d(x, weight, styles, demodulate=True, eps=0.0).flatten(),
                               torch.tensor([3 / math.sqrt(5), 1.0]))


def test_modulated_conv_equals_per_example_weights():
    """The batched form equals the paper's per-example weights w''_ijk applied as a grouped convolution."""
    torch.manual_seed(0)
    x, weight, styles = torch.randn(3, 4, 5, 5), torch.randn(6, 4, 3, 3), torch.randn(3, 4)
    w = weight.unsqueeze(0) * styles.view(3, 1, 4, 1, 1)
    w = w / w.pow(2).sum(dim=(2, 3, 4), keepdim=True).add(1e-8).sqrt()
    ref = F.conv2d(x.reshape(1, 12, 5, 5), w.reshape(18, 4, 3, 3), padding=1, groups=3).view(3, 6, 5, 5)
    torch.testing.assert_close(modulated_conv2d(x, weight, styles, padding=1), ref, atol=1e-5, rtol=1e-4)
    # demodulation restores unit output std whatever the style's scale
    torch.testing.assert_close(modulated_conv2d(x, weight, styles * 7.0, padding=1), ref, atol=1e-5, rtol=1e-4)


def _trained_like(seed: int = 0) -> StyleGAN:
    torch.manual_seed(seed)
    gan = StyleGAN(StyleGANConfig(**TINY))
    with torch.no_grad():
        gan.generator_ema.w_avg.normal_()  # a non-trivial mean w
        for m in gan.generator_ema.convs:
            m.noise_strength.fill_(0.5)  # noise that matters
    return gan


def test_truncation_psi_0_gives_the_mean_w_image_for_every_z():
    gan = _trained_like()
    images = gan.sample(5, seed=3, truncation=0.0)
    w_avg = gan.generator_ema.w_avg.view(1, 1, -1).expand(1, gan.num_ws, -1)
    mean_image = gan.images_from_styles(w_avg)
    torch.testing.assert_close(images, mean_image.expand_as(images), atol=1e-5, rtol=0)
    assert (gan.sample(5, seed=3) - images).abs().max() > 1e-3  # without truncation they differ
    half = gan.styles(gan.noise(2, seed=1), truncation=0.5)
    full = gan.styles(gan.noise(2, seed=1))
    torch.testing.assert_close(half, w_avg + 0.5 * (full - w_avg))


def test_truncation_outside_0_1():
    with pytest.raises(ConfigError, match=r"\[0, 1\]"):
        StyleGAN.check_truncation(-0.1)
    assert "extrapolates" in StyleGAN.check_truncation(1.5)
    assert StyleGAN.check_truncation(1.0) is None and StyleGAN.check_truncation(0.0) is None


def test_mixing_with_the_same_seed_on_both_sides_equals_no_mixing():
    gan = _trained_like()
    z = gan.noise(3, seed=4)
    plain = gan.decode_images(z)
    for layers in gan.layer_groups().values():
        torch.testing.assert_close(gan.mix(z, z.clone(), layers), plain)
    other = gan.noise(3, seed=5)
    assert (gan.mix(z, other, gan.layer_range("coarse")) - plain).abs().max() > 1e-4
    torch.testing.assert_close(gan.mix(z, other, range(gan.num_ws)), gan.decode_images(other))  # all from B


def test_noise_modes():
    gan = _trained_like()
    a = gan.sample(2, seed=0)
    torch.testing.assert_close(a, gan.sample(2, seed=0))  # const noise: deterministic
    assert (gan.sample(2, seed=0, noise_mode="none") - a).abs().max() > 1e-4


def test_style_layers_and_groups():
    cfg = StyleGANConfig(size=32)
    assert cfg.num_ws == 7 and layer_sides(cfg) == [4, 8, 8, 16, 16, 32, 32]
    assert {k: (r.start, r.stop) for k, r in layer_groups(cfg).items()} == {
        "coarse": (0, 3), "middle": (3, 5), "fine": (5, 7)}
    big = StyleGANConfig(size=64)  # the paper's split: coarse 4-8, middle 16-32, fine 64+
    assert {k: (r.start, r.stop) for k, r in layer_groups(big).items()} == {
        "coarse": (0, 3), "middle": (3, 7), "fine": (7, 9)}
    assert parse_layers("2-4", cfg) == range(2, 5) and parse_layers("6", cfg) == range(6, 7)
    for bad in ("3-9", "-1", "5-2", "x", "1-2-3"):
        with pytest.raises(ConfigError, match="--layers"):
            parse_layers(bad, cfg)


def test_training_forward_mixes_styles_and_tracks_w_avg():
    torch.manual_seed(0)
    gan = StyleGAN(StyleGANConfig(**TINY, mixing_prob=1.0))
    gan.train()
    before = gan.generator.w_avg.clone()
    out = gan.generator(torch.randn(4, 8))
    assert out.shape == (4, 1, 16, 16)
    assert not torch.equal(before, gan.generator.w_avg)
    gan.update_ema(0.5)
    torch.testing.assert_close(gan.generator_ema.w_avg, gan.generator.w_avg)  # buffers follow G


def test_save_and_load(tmp_path):
    gan = _trained_like()
    gan.save_pretrained(tmp_path)
    again = StyleGAN.from_pretrained(tmp_path)
    torch.testing.assert_close(again.sample(2, seed=1, truncation=0.7), gan.sample(2, seed=1, truncation=0.7))
