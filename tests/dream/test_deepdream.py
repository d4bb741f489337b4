"""DeepDream end to end with random weights at small sizes: the objective rises, knobs behave, outputs exist."""

from __future__ import annotations

import json

import pytest
import torch

from features.imageopt import random_image
from genlab.core.errors import ConfigError
from genlab.imageopt.dream import DreamConfig, deepdream
from genlab.features import load_feature_network


@pytest.fixture(scope="module")
def vgg():
    return load_feature_network("vgg16", weights="random", layers=["block3_conv1"], seed=0)


def _cfg(**kw):
    base = dict(model="vgg16", weights="random", layers="block2_conv2:1,block3_conv1:2", octaves=1, steps_per_octave=8,
                step_size=0.05, max_loss=None, size=48)
    return DreamConfig(**{**base, **kw})


def test_dream_raises_its_objective(vgg):
    r = deepdream(random_image(48), _cfg(), net=vgg, write=False, progress=False)
    assert len(r.losses) == 8
    assert r.losses[-1] > 2.0 * r.losses[0], r.losses  # measured: about 4x in 8 steps
    assert r.image.shape == (1, 3, 48, 48) and 0 <= r.image.min() and r.image.max() <= 1


def test_octaves_max_loss_and_detail_reinjection(vgg):
    x = random_image(48)
    r = deepdream(x, _cfg(octaves=3, steps_per_octave=3), net=vgg, write=False, progress=False)
    assert [o.shape[-1] for o in r.octave_images] == [24, 34, 48]
    assert len(r.losses) == 9
    stop = deepdream(x, _cfg(octaves=2, steps_per_octave=5, max_loss=1e-9), net=vgg, write=False, progress=False)
    assert len(stop.losses) == 2  # one evaluation per octave, then the max-loss stop
    # with zero steps the octave loop must hand back the original: shrinking loses detail, re-injection restores it
    same = deepdream(x, _cfg(octaves=3, steps_per_octave=0), net=vgg, write=False, progress=False)
    assert torch.allclose(same.image, x, atol=1e-5)


def test_jitter_is_seeded_and_tiles_agree(vgg):
    x = random_image(48)
    a = deepdream(x, _cfg(jitter=4, seed=1), net=vgg, write=False, progress=False)
    b = deepdream(x, _cfg(jitter=4, seed=1), net=vgg, write=False, progress=False)
    c = deepdream(x, _cfg(jitter=4, seed=2), net=vgg, write=False, progress=False)
    assert torch.equal(a.image, b.image) and not torch.equal(a.image, c.image)
    plain = deepdream(x, _cfg(steps_per_octave=3), net=vgg, write=False, progress=False)
    tiled = deepdream(x, _cfg(steps_per_octave=3, tile_size=24, tile_margin=48), net=vgg, write=False, progress=False)
    assert torch.allclose(plain.image, tiled.image, atol=1e-4)


def test_guided_dream_moves_towards_the_guide(vgg, photos):
    cfg = _cfg(guide=str(photos["coffee"]), steps_per_octave=6)
    r = deepdream(photos["astronaut"], cfg, net=vgg, write=False, progress=False)
    assert r.losses[-1] > r.losses[0]


def test_outputs_and_metadata(tmp_path, photos, capsys, vgg):
    r = deepdream(photos["astronaut"], _cfg(octaves=2, steps_per_octave=2), net=vgg, out=tmp_path / "d", progress=False)
    names = sorted(p.name for p in r.out_dir.iterdir())
    assert names == ["dream.png", "loss.png", "metadata.json", "octaves.png"]
    meta = json.loads((r.out_dir / "metadata.json").read_text())
    assert meta["weights"]["source"] == "random" and "NOT pretrained" in meta["weights"]["description"]
    assert meta["losses"] == r.losses and meta["config"]["octaves"] == 2
    assert "NOT pretrained" in capsys.readouterr().out


@pytest.mark.parametrize("field, value", [("steps_per_octave", -1), ("octaves", 0), ("step_size", 0), ("size", 0),
                                          ("layers", "mixed2:-1"), ("octave_scale", -1.4), ("tile_size", -5)])
def test_bad_config(field, value):
    with pytest.raises(ConfigError):
        DreamConfig(**{field: value})
