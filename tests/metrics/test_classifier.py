"""The FID/KID domain classifier: shapes, training on tiny MNIST, the cache, and fid_kid on its features."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

import genlab
from genlab.core.errors import ConfigError, DataError
from genlab.core.io import write_json_atomic
from genlab.data.datasets import ImageDataConfig, load_image_dataset
from genlab.metrics import (
    ClassifierConfig,
    DomainClassifier,
    classifier_cache_dir,
    compute_features,
    default_cache_root,
    evaluate_accuracy,
    fid_kid,
    get_domain_classifier,
    train_domain_classifier,
)
from genlab.features import domain as classifier_module
from helpers import one_line


@pytest.mark.parametrize("channels,size,classes", [(1, 28, 10), (3, 32, 5), (3, 64, 2), (3, 40, 3)])
def test_shapes(channels, size, classes):
    torch.manual_seed(0)
    model = DomainClassifier(ClassifierConfig(image_channels=channels, image_size=size, num_classes=classes,
                                              feature_dim=24))
    x, y = torch.rand(4, channels, size, size), torch.randint(0, classes, (4,))
    out = model(x, y)
    assert set(out) == {"loss", "accuracy"} and out["loss"].ndim == 0 and 0 <= out["accuracy"] <= 1
    out["loss"].backward()
    assert model.head[-1].weight.grad is not None
    assert model.features(x).shape == (4, 24)
    pred = model.predict(x)
    assert pred.shape == (4,) and pred.dtype == torch.int64 and int(pred.max()) < classes
    assert model.training  # predict restores the mode it found
    assert compute_features(model, x, batch_size=3).shape == (4, 24)
    assert model.num_parameters() < 1_500_000


def test_untrained_loss_is_about_log_classes():
    torch.manual_seed(0)
    model = DomainClassifier(ClassifierConfig()).eval()
    with torch.no_grad():
        loss = model(torch.rand(64, 1, 28, 28), torch.randint(0, 10, (64,)))["loss"]
    assert abs(loss.item() - 2.3026) < 0.5  # ln 10


@pytest.mark.parametrize("bad,words", [
    ({"num_classes": 1}, ("at least 2 classes",)), ({"image_channels": 2}, ("1 or 3 channels",)),
    ({"image_size": 4}, ("8x8",)), ({"feature_dim": 0}, ("--feature-dim",))])
def test_bad_config(bad, words):
    with pytest.raises(ConfigError) as err:
        ClassifierConfig(**bad)
    one_line(err, *words)


def test_wrong_image_shapes_are_config_errors():
    model = DomainClassifier(ClassifierConfig())
    with pytest.raises(ConfigError) as err:
        model(torch.rand(2, 3, 28, 28), torch.zeros(2, dtype=torch.int64))
    one_line(err, "(1, 28, 28)")
    with pytest.raises(ConfigError) as err:
        fid_kid(model, torch.rand(8, 1, 28, 28), torch.rand(8, 1, 32, 32))
    one_line(err, "(N, 1, 28, 28)", "32")
    with pytest.raises(ConfigError) as err:
        compute_features(model, torch.rand(8, 28, 28))
    one_line(err, "(N, 1, 28, 28)")
    with pytest.raises(ConfigError) as err:
        compute_features(model, torch.rand(8, 1, 28, 28) * 2 - 1)  # tanh-range images
    one_line(err, "[0, 1]")


# ---- trained on tiny MNIST (one training per module) ---------------------------------------------------------------

EPOCHS = 2  # 8 steps of 128 on the 512 synthetic digits: measured 100% test accuracy


@pytest.fixture(scope="module")
def tiny_cfg(tiny_mnist) -> ImageDataConfig:
    return ImageDataConfig(dataset="mnist", data_dir=str(tiny_mnist))


@pytest.fixture(scope="module")
def trained(tiny_cfg, tmp_path_factory):
    cache = tmp_path_factory.mktemp("classifier_cache")
    model, accuracy = get_domain_classifier(tiny_cfg, cache_dir=cache, epochs=EPOCHS, device="cpu")
    return model, accuracy, cache


def test_trains_well_above_chance_and_caches(trained, tiny_cfg):
    model, accuracy, cache = trained
    assert accuracy >= 0.9, accuracy  # chance is 0.1
    test = load_image_dataset(tiny_cfg, "test")
    assert evaluate_accuracy(model, test) == pytest.approx(accuracy)
    assert not model.training
    folder = classifier_cache_dir(tiny_cfg, cache_dir=cache, epochs=EPOCHS)
    assert [p.name for p in cache.iterdir()] == [folder.name]  # no temporary folder left behind
    assert folder.name.startswith("mnist-")
    names = {p.name for p in folder.iterdir()}
    assert {"config.json", "model.safetensors", "accuracy.json"} <= names and "checkpoints" not in names
    saved = json.loads((folder / "accuracy.json").read_text())
    assert saved["accuracy"] == accuracy and saved["epochs"] == EPOCHS and saved["num_test_images"] == 128


def test_second_call_loads_without_training(trained, tiny_cfg, monkeypatch):
    model, accuracy, cache = trained

    def no_training(*args, **kwargs):
        raise AssertionError("get_domain_classifier trained again instead of loading the cache")

    monkeypatch.setattr(classifier_module, "train_domain_classifier", no_training)
    again, acc2 = get_domain_classifier(tiny_cfg, cache_dir=cache, epochs=EPOCHS, device="cpu")
    assert isinstance(again, DomainClassifier) and acc2 == accuracy and not again.training
    for (k, v), (k2, v2) in zip(model.state_dict().items(), again.state_dict().items(), strict=True):
        assert k == k2 and torch.equal(v.cpu(), v2), k
    # genlab.load knows the classifier (the metrics family is registered).
    loaded = genlab.load(classifier_cache_dir(tiny_cfg, cache_dir=cache, epochs=EPOCHS))
    assert isinstance(loaded, DomainClassifier)
    # another recipe is another cache entry: it would train.
    with pytest.raises(AssertionError, match="trained again"):
        get_domain_classifier(tiny_cfg, cache_dir=cache, epochs=EPOCHS + 1)


def test_cache_folders_differ_per_dataset(tmp_path):
    def folder(cfg, **kw):
        return classifier_cache_dir(cfg, cache_dir=tmp_path, **kw)

    mnist = folder(ImageDataConfig("mnist"))
    assert mnist == folder(ImageDataConfig("MNIST")) and mnist.parent == tmp_path
    others = [folder(ImageDataConfig("fashion-mnist")), folder(ImageDataConfig("mnist", data_dir=str(tmp_path))),
              folder(ImageDataConfig("mnist"), epochs=3), folder(ImageDataConfig("mnist"), seed=1),
              folder(ImageDataConfig(str(tmp_path / "faces"))), folder(ImageDataConfig(str(tmp_path / "cats"))),
              folder(ImageDataConfig(str(tmp_path / "faces"), image_size=32)),
              folder(ImageDataConfig(str(tmp_path / "faces"), channels=1))]
    assert len({mnist, *others}) == 1 + len(others)
    assert others[0].name.startswith("fashion-mnist-") and others[4].name.startswith("faces-")
    # the defaults spelled out are the same classifier
    assert folder(ImageDataConfig(str(tmp_path / "faces"), image_size=64, channels=3)) == others[4]


def test_default_cache_root(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert default_cache_root() == tmp_path / "genlab" / "classifiers"
    assert classifier_cache_dir(ImageDataConfig("mnist")).parent == tmp_path / "genlab" / "classifiers"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_cache_root() == tmp_path / "home" / ".cache" / "genlab" / "classifiers"


def _fake_train(calls: list):
    def fake(data_config, *, out, epochs, seed, progress, device):
        calls.append(out)
        model = DomainClassifier(ClassifierConfig(feature_dim=8))
        model.save_pretrained(out)
        (Path(out) / "checkpoints" / "step_000001").mkdir(parents=True)
        write_json_atomic(Path(out) / "accuracy.json", {"accuracy": 0.5})
        return model.eval(), 0.5
    return fake


def test_incomplete_cache_entry_is_retrained_and_replaced(tmp_path, monkeypatch):
    calls: list = []
    monkeypatch.setattr(classifier_module, "train_domain_classifier", _fake_train(calls))
    cfg = ImageDataConfig("mnist")
    folder = classifier_cache_dir(cfg, cache_dir=tmp_path)
    folder.mkdir()
    (folder / "config.json").write_text("{}")  # a leftover without weights or accuracy
    model, acc = get_domain_classifier(cfg, cache_dir=tmp_path)
    assert len(calls) == 1 and acc == 0.5 and model.config.feature_dim == 8
    assert sorted(p.name for p in folder.iterdir()) == ["accuracy.json", "config.json", "model.safetensors"]
    assert [p.name for p in tmp_path.iterdir()] == [folder.name]
    again, _ = get_domain_classifier(cfg, cache_dir=tmp_path)
    assert len(calls) == 1 and again.config.feature_dim == 8


def test_failed_training_leaves_no_cache_entry(tmp_path, monkeypatch):
    def broken(*args, out, **kwargs):
        (Path(out) / "partial.txt").write_text("x")
        raise DataError("no data")

    monkeypatch.setattr(classifier_module, "train_domain_classifier", broken)
    with pytest.raises(DataError):
        get_domain_classifier(ImageDataConfig("mnist"), cache_dir=tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_rgb_folder_trains_through_the_engine(image_folder, tmp_path):
    # 22 train images (40 px RGB, 2 classes): batch clipped to the data, features pooled to 8x8.
    model, accuracy = train_domain_classifier(ImageDataConfig(str(image_folder), image_size=40), out=tmp_path / "run",
                                              epochs=1, device="cpu")
    assert model.config.image_channels == 3 and model.config.image_size == 40 and model.config.num_classes == 2
    saved = json.loads((tmp_path / "run" / "accuracy.json").read_text())
    test = load_image_dataset(ImageDataConfig(str(image_folder), image_size=40), "test")
    assert saved["accuracy"] == accuracy == pytest.approx(evaluate_accuracy(model, test))
    assert saved["num_test_images"] == len(test) == 2


def test_unlabelled_folder_is_a_data_error(tmp_path):
    from PIL import Image

    (tmp_path / "flat").mkdir()
    for i in range(6):
        Image.new("RGB", (16, 16), (i * 40, 0, 0)).save(tmp_path / "flat" / f"{i}.png")
    with pytest.raises(DataError) as err:
        train_domain_classifier(ImageDataConfig(str(tmp_path / "flat")), out=tmp_path / "run")
    one_line(err, "no class labels")


def test_fid_kid_on_classifier_features(trained, tiny_cfg):
    model, _, _ = trained
    test = load_image_dataset(tiny_cfg, "test").images  # uint8: divided by 255 inside
    train = load_image_dataset(tiny_cfg, "train").images[:128]
    noise = torch.rand(128, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    same = fid_kid(model, test, test, kid_subsets=10, kid_subset_size=100)
    assert set(same) == {"fid", "kid_mean", "kid_std", "n_real", "n_fake"}
    assert same["n_real"] == same["n_fake"] == 128
    scale = float(compute_features(model, test).double().var(dim=0).sum())
    assert same["fid"] < 1e-6 * scale
    # float images give the same features as uint8 ones
    assert fid_kid(model, test.float() / 255, test, kid_subsets=2)["fid"] < 1e-6 * scale
    real = fid_kid(model, test, train, kid_subsets=10, kid_subset_size=100)
    fake = fid_kid(model, test, noise, kid_subsets=10, kid_subset_size=100)
    assert fake["fid"] > 20 * real["fid"] and fake["fid"] > 0.5 * scale, (real, fake, scale)
    # KID of a set with itself is not exactly 0: the unbiased estimate's cross term keeps k(x, x), its within-set
    # terms drop it, so it comes out slightly negative.
    assert fake["kid_mean"] > 20 * abs(real["kid_mean"]) and fake["kid_mean"] > 10 * abs(same["kid_mean"]), \
        (same, real, fake)
    assert fid_kid(model, test, noise, kid_subsets=10, kid_subset_size=100, seed=0) == fake  # seeded
