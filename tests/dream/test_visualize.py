"""Filter and class visualisation from noise, with random or genlab-trained weights."""

from __future__ import annotations

import json

import pytest
import torch

from genlab.core.errors import ConfigError
from genlab.imageopt.visualize import VisualizeConfig, parse_channels, visualize
from genlab.features import load_feature_network


@pytest.fixture(scope="module")
def vgg():
    return load_feature_network("vgg16", weights="random", layers=["block3_conv1"], seed=0)


@pytest.mark.parametrize("param", ["fft", "pixel"])
def test_filter_grid_objective_rises(vgg, param, tmp_path):
    cfg = VisualizeConfig(model="vgg16", weights="random", channels="0-3", size=40, iterations=15, param=param,
                          blur_every=5 if param == "pixel" else 0)
    r = visualize("block3_conv1", cfg, net=vgg, out=tmp_path / "v", progress=False)
    assert r.images.shape == (4, 3, 40, 40) and r.channels == [0, 1, 2, 3]
    assert r.objectives[-1] > 3 * max(r.objectives[0], 1e-3), r.objectives
    assert sorted(p.name for p in r.out_dir.iterdir()) == ["filters.png", "metadata.json", "objective.png"]
    assert json.loads((r.out_dir / "metadata.json").read_text())["weights"]["pretrained"] is False


def test_class_visualisation_on_a_genlab_classifier(tmp_path):
    """The logits layer of a genlab MNIST-shaped classifier (random init): after maximising class K from noise the
    classifier itself predicts K for the image (its logits start near zero, so this is the meaningful check)."""
    from genlab.core.model import load
    from genlab.features.domain import ClassifierConfig, DomainClassifier

    torch.manual_seed(0)
    DomainClassifier(ClassifierConfig()).save_pretrained(tmp_path / "clf")
    model = load(tmp_path / "clf")
    for k in (3, 7):
        cfg = VisualizeConfig(model=str(tmp_path / "clf"), weights="genlab", channels=str(k), size=28, iterations=20,
                              jitter=1, scale=0.0, param="fft", lr=0.5)
        r = visualize("logits", cfg, out=tmp_path / f"v{k}", progress=False)
        assert r.images.shape == (1, 1, 28, 28)
        assert r.objectives[-1] > r.objectives[0]
        assert int(model.predict(r.images)) == k


def test_channel_out_of_range(vgg):
    with pytest.raises(ConfigError, match="has 256 channels"):
        visualize("block3_conv1", VisualizeConfig(channels="300", size=32, iterations=1), net=vgg, write=False,
                  progress=False)


def test_channel_parsing():
    assert parse_channels("0-3,7") == [0, 1, 2, 3, 7]
    for bad in ("-1", "a", ""):
        with pytest.raises(ConfigError):
            parse_channels(bad)
