"""Gatys style transfer with random weights at small sizes: the loss falls, every option works."""

from __future__ import annotations

import json

import pytest
import torch

from features.imageopt import random_image
from genlab.core.errors import ConfigError
from genlab.features import load_feature_network
from genlab.imageopt.gatys import StyleConfig, StyleObjective, blend_weights, style_transfer
from genlab.imageopt.style_losses import gram_matrix, rgb_to_yiq


@pytest.fixture(scope="module")
def vgg():
    return load_feature_network("vgg19", weights="random", layers=["block5_conv2"], seed=0)


def _cfg(**kw):
    return StyleConfig(**{**dict(weights="random", size=40, evaluations=15), **kw})


@pytest.mark.parametrize("optimizer, factor", [("lbfgs", 2.0), ("adam", 1.3)])
def test_loss_falls(vgg, optimizer, factor):
    r = style_transfer(random_image(40, 1), [random_image(40, 2)], _cfg(optimizer=optimizer, lr=0.05), net=vgg,
                       write=False, progress=False)
    assert len(r.losses) == 15
    # measured at 40 px: 2.4x (L-BFGS), 1.6x (Adam)
    assert r.final_loss < r.losses[0] / factor, (r.losses[0], r.final_loss)


def test_noise_init_is_seeded(vgg):
    a = style_transfer(random_image(40, 1), [random_image(40, 2)], _cfg(init="noise", evaluations=8, seed=4), net=vgg,
                       write=False, progress=False)
    b = style_transfer(random_image(40, 1), [random_image(40, 2)], _cfg(init="noise", evaluations=8, seed=4), net=vgg,
                       write=False, progress=False)
    assert torch.equal(a.image, b.image)
    assert a.losses[0] > 2 * a.losses[-1]


def test_several_styles_blend_their_grams(vgg):
    s1, s2 = random_image(40, 2), random_image(40, 3)
    cfg = _cfg()
    obj = StyleObjective(vgg, cfg, random_image(40, 1), [s1, s2], [0.75, 0.25])
    layer = vgg.resolve("block3_conv1")
    g1 = gram_matrix(vgg(vgg.normalize(s1), [layer])[layer])
    g2 = gram_matrix(vgg(vgg.normalize(s2), [layer])[layer])
    assert torch.allclose(obj.gram_targets[layer], 0.75 * g1 + 0.25 * g2, rtol=1e-4, atol=1e-7)
    assert blend_weights("3,1", 2) == [0.75, 0.25] and blend_weights(None, 4) == [0.25] * 4
    with pytest.raises(ConfigError, match="has 1 weights for 2 style images"):
        blend_weights("1", 2)


def test_colour_preservation_keeps_the_content_chroma(vgg):
    content = random_image(40, 1)
    r = style_transfer(content, [random_image(40, 2)], _cfg(preserve_color=True, evaluations=5), net=vgg, write=False,
                       progress=False)
    assert torch.allclose(rgb_to_yiq(r.image)[:, 1:], rgb_to_yiq(content)[:, 1:], atol=0.02)


def test_coarse_to_fine(vgg):
    r = style_transfer(random_image(64, 1), [random_image(48, 2)], _cfg(size=64, scales=2, evaluations=5), net=vgg,
                       write=False, progress=False)
    assert len(r.losses) == 10 and r.image.shape == (1, 3, 64, 64)


def test_outputs_and_figure(vgg, photos, tmp_path):
    r = style_transfer(photos["astronaut"], [photos["coffee"], photos["chelsea"]],
                       _cfg(evaluations=3, style_blend="2,1"),
                       net=vgg, out=tmp_path / "s", progress=False)
    assert sorted(p.name for p in r.out_dir.iterdir()) == ["figure.png", "loss.png", "metadata.json", "result.png"]
    meta = json.loads((r.out_dir / "metadata.json").read_text())
    assert meta["blend"] == pytest.approx([2 / 3, 1 / 3]) and meta["weights"]["source"] == "random"
    assert set(meta["final"]) == {"loss", "content", "style", "tv"}


@pytest.mark.parametrize("field, value", [("evaluations", -1), ("size", 0), ("style_weight", -1.0), ("tv_weight", -1.0),
                                          ("style_layers", "block1_conv1:-2"), ("scales", 6), ("optimizer", "sgd")])
def test_bad_config(field, value):
    with pytest.raises(ConfigError):
        StyleConfig(**{field: value})
