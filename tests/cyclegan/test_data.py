"""The built-in pair (deterministic, disjoint halves, disjoint backgrounds, cached) and folder domains."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from genlab.core.errors import ConfigError
from genlab.cyclegan.data import (TEST_PHOTOS, TRAIN_PHOTOS, UnpairedDataConfig, augment, build_mnist_photo_pair,
                                  composite, load_domains, load_mnist_photo_pair, to_channels)


@pytest.fixture(scope="module")
def mnist(tiny_mnist):
    from genlab.data.mnist import load_mnist
    return load_mnist("mnist", "train", tiny_mnist), load_mnist("mnist", "test", tiny_mnist)


def test_pair_is_deterministic_and_its_halves_disjoint(mnist):
    train, test = mnist
    p, q = build_mnist_photo_pair(train, test, seed=0), build_mnist_photo_pair(train, test, seed=0)
    assert all(np.array_equal(p[k], q[k]) for k in p)
    other = build_mnist_photo_pair(train, test, seed=1)
    assert not np.array_equal(p["b_train"], other["b_train"])
    for split, n in (("train", len(train[0])), ("test", len(test[0]))):
        a, b = set(p[f"{split}_index_a"].tolist()), set(p[f"{split}_index_b"].tolist())
        assert not a & b and len(a) == len(b) == n // 2  # no MNIST image is in both domains
        assert np.array_equal(p[f"a_{split}_labels"], train[1].numpy()[sorted(a)] if split == "train"
                              else test[1].numpy()[sorted(a)])
    assert p["a_train"].shape == (len(train[0]) // 2, 1, 32, 32) and p["b_train"].shape[1:] == (3, 32, 32)
    assert np.array_equal(p["a_train"][:, 0, 2:30, 2:30], train[0].numpy()[p["train_index_a"]])  # A = padded MNIST


def test_train_and_test_backgrounds_come_from_disjoint_photos(mnist, monkeypatch):
    assert not set(TRAIN_PHOTOS) & set(TEST_PHOTOS)
    import genlab.cyclegan.data as data

    # Flat "photos" of one colour per name: every background pixel then tells which photo it came from.
    colours = {name: i * 20 + 10 for i, name in enumerate(TRAIN_PHOTOS + TEST_PHOTOS)}
    monkeypatch.setattr(data, "_photo", lambda name: np.full((40, 40, 3), colours[name], np.uint8))
    p = build_mnist_photo_pair(*mnist, seed=0)
    corner = lambda x: set(np.unique(x[:, 0, 0, 0]).tolist())  # noqa: E731 - padding: digit is 0 there
    assert corner(p["b_train"]) <= {colours[n] for n in TRAIN_PHOTOS}
    assert corner(p["b_test"]) <= {colours[n] for n in TEST_PHOTOS}


def test_composite_is_the_absolute_difference():
    digit = np.zeros((1, 4, 4), np.uint8)
    digit[0, 1, 1] = 255
    photo = np.full((4, 4, 3), 100, np.uint8)
    out = composite(digit, [photo], np.random.default_rng(0))
    assert out.shape == (1, 3, 4, 4) and out[0, :, 1, 1].tolist() == [155] * 3 and out[0, :, 0, 0].tolist() == [100] * 3


def test_pair_is_cached(tiny_mnist):
    first = load_mnist_photo_pair(str(tiny_mnist))
    second = load_mnist_photo_pair(str(tiny_mnist))
    assert all(torch.equal(first[k], second[k]) for k in first)


def test_folder_layouts(tmp_path, image_folder):
    import shutil

    root = tmp_path / "photos2paint"
    for name in ("trainA", "testA", "trainB"):
        shutil.copytree(image_folder, root / name)
    cfg = UnpairedDataConfig(domain_a=str(root), domain_b=str(root), size=16)
    d = load_domains(cfg, quiet=True)
    assert len(d.a_train) == len(d.a_test) == 24  # trainA + testA
    assert (len(d.b_train), len(d.b_test)) == (22, 2)  # trainB alone: 10% held out
    assert d.a_train.images.shape[1:] == (3, 16, 16) and not d.labelled
    grey = load_domains(UnpairedDataConfig(domain_a=str(root / "trainA"), domain_b=str(root), size=16,
                                           channels_a=1), quiet=True)
    assert grey.a_train.images.shape[1] == 1 and len(grey.a_test) == 24  # trainA + its sibling testA


def test_config_checks():
    with pytest.raises(ConfigError, match="32x32"):
        UnpairedDataConfig(size=64)
    with pytest.raises(ConfigError, match="larger than"):
        UnpairedDataConfig(crop=40)
    assert UnpairedDataConfig().use_flip is False and UnpairedDataConfig("/x", "/y").use_flip is True


def test_channels_and_augment():
    x = torch.randint(0, 256, (2, 3, 4, 4), dtype=torch.uint8)
    assert to_channels(x, 1).shape == (2, 1, 4, 4)
    assert torch.equal(to_channels(x[:, :1], 3), x[:, :1].repeat(1, 3, 1, 1))
    img = torch.rand(4, 3, 10, 10)
    a = augment(img, 8, True, torch.Generator().manual_seed(0))
    b = augment(img, 8, True, torch.Generator().manual_seed(0))
    assert a.shape == (4, 3, 8, 8) and torch.equal(a, b)
