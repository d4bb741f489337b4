"""The one FID/KID reference rule (whole test set or a seeded random subset, never the first n) and the refusals
and warnings that keep a meaningless score from looking like a result."""

from __future__ import annotations

import pytest
import torch

from genlab.core.errors import DataError
from genlab.data.datasets import ImageDataConfig, load_image_dataset
from genlab.metrics import (
    MIN_REFERENCE_IMAGES,
    fid_reference,
    generation_scores,
    reference_images,
    sample_fid_kid,
)
from genlab.metrics import quality
from helpers import one_line


@pytest.fixture(scope="module")
def cache_home(tmp_path_factory):
    mp = pytest.MonkeyPatch()
    home = tmp_path_factory.mktemp("xdg_cache")
    mp.setenv("XDG_CACHE_HOME", str(home))
    yield home
    mp.undo()


@pytest.fixture(scope="module")
def tiny_cfg(tiny_mnist, cache_home) -> ImageDataConfig:
    return ImageDataConfig(dataset="mnist", data_dir=str(tiny_mnist))


class _Sampler:
    """A "generative model" that returns real test images (so its FID is small) and records its calls."""

    def __init__(self, images: torch.Tensor) -> None:
        self.images, self.calls = images.float() / 255.0, []

    def sample(self, n: int, *, seed: int = 0) -> torch.Tensor:
        self.calls.append((n, seed))
        g = torch.Generator().manual_seed(seed)
        return self.images[torch.randint(len(self.images), (n,), generator=g)]


def test_reference_is_the_whole_set_or_a_seeded_random_subset():
    images = torch.arange(100).view(100, 1, 1, 1)
    whole, what = reference_images(images)
    assert torch.equal(whole, images) and what == "all 100 test images"
    sub, what = reference_images(images, max_images=10, seed=3)
    again, _ = reference_images(images, max_images=10, seed=3)
    other, _ = reference_images(images, max_images=10, seed=4)
    assert torch.equal(sub, again) and not torch.equal(sub, other)
    assert not torch.equal(sub.flatten(), torch.arange(10))  # not the first ten (an ordered test set is biased)
    assert "seeded random subset, seed 3" in what and what.startswith("10 of 100")


def test_sample_fid_kid_scores_against_all_test_images(tiny_cfg):
    # Before: the first n test images (n = the number of samples) were the reference.
    test = load_image_dataset(tiny_cfg, "test")
    model = _Sampler(test.images)
    scores = sample_fid_kid(model, test, tiny_cfg, n=64, seed=0, device="cpu", progress=False)
    assert scores["n_real"] == len(test) == 128 and scores["n_fake"] == 64
    assert scores["reference"] == "all 128 test images"
    assert "domain classifier" in scores["features"] and scores["classifier_test_accuracy"] > 0.5
    # 128 reference images and 64 samples are below the recommended sizes: computed, but flagged
    assert scores["meaningful"] is False
    assert any("reference images" in w for w in scores["warnings"])
    assert any("only 64 samples" in w for w in scores["warnings"])


def test_generation_scores_batches_samples_and_tells_progress(tiny_cfg, capsys):
    test = load_image_dataset(tiny_cfg, "test")
    ref = fid_reference(tiny_cfg, test.images)
    model = _Sampler(test.images)
    scores = generation_scores(lambda n, s: model.sample(n, seed=s), ref, n=50, seed=7, batch_size=20,
                               progress=True)
    assert model.calls == [(20, 7), (20, 8), (10, 9)]
    assert scores["n_fake"] == 50
    err = capsys.readouterr().err
    assert "50/50 samples" in err and "\r" not in err
    noise = generation_scores(lambda n, s: torch.rand(n, 1, 28, 28, generator=torch.Generator().manual_seed(s)),
                              ref, n=50, seed=7)
    assert noise["fid"] > 5 * scores["fid"], (noise["fid"], scores["fid"])


def test_too_few_reference_images_are_refused(tiny_cfg):
    test = load_image_dataset(tiny_cfg, "test")
    with pytest.raises(DataError) as err:
        fid_reference(tiny_cfg, test.images[: MIN_REFERENCE_IMAGES - 1])
    one_line(err, f"at least {MIN_REFERENCE_IMAGES} reference images", "would mean nothing")


def test_a_classifier_near_chance_is_refused_and_a_weak_one_flagged(tiny_cfg, monkeypatch):
    test = load_image_dataset(tiny_cfg, "test")
    real_get = quality.get_domain_classifier
    model, _ = real_get(tiny_cfg, device="cpu")
    monkeypatch.setattr(quality, "get_domain_classifier", lambda *a, **k: (model, 0.12))
    with pytest.raises(DataError) as err:
        fid_reference(tiny_cfg, test.images)
    one_line(err, "12.0% test accuracy", "chance: 10.0%", "refused")
    monkeypatch.setattr(quality, "get_domain_classifier", lambda *a, **k: (model, 0.6))
    ref = fid_reference(tiny_cfg, test.images)
    assert any("60.0% test accuracy" in w for w in ref.warnings)
