"""Tests of genlab.data.mnist: finding, downloading (simulated), loading and serving MNIST-like data."""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

from helpers import SHARED_DATA, one_line

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

from genlab.core.errors import ConfigError, DataError
from genlab.data import mnist as mnist_mod
from genlab.data.mnist import (
    DATASET_NAMES,
    FASHION_MNIST_CLASSES,
    MNIST_FILES,
    TensorImageDataset,
    find_dataset_dir,
    load_mnist,
    mnist_dataset,
)

SHARED = SHARED_DATA  # ../shared/data beside the repo, as in CI
needs_shared = pytest.mark.skipif(not (SHARED / "mnist").exists(), reason="shared MNIST data not available")
needs_fashion = pytest.mark.skipif(not (SHARED / "fashion-mnist").exists(), reason="shared Fashion-MNIST not available")

N_TRAIN, N_TEST = 6, 3


def write_idx(path: Path, arr: np.ndarray, gz: bool) -> None:
    type_byte = {np.dtype(np.uint8): 0x08, np.dtype(np.int32): 0x0C}[arr.dtype]
    data = struct.pack(">BBBB", 0, 0, type_byte, arr.ndim) + struct.pack(f">{arr.ndim}I", *arr.shape)
    data += arr.astype(arr.dtype.newbyteorder(">")).tobytes()
    if gz:
        path.with_name(path.name + ".gz").write_bytes(gzip.compress(data))
    else:
        path.write_bytes(data)


def fake_images(n: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (n, 28, 28), dtype=np.uint8)


def make_mnist(folder: Path, *, gz: bool = True, skip: str | None = None, train_labels: np.ndarray | None = None,
               train_images: np.ndarray | None = None) -> Path:
    """Write a tiny four-file MNIST-like data set into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    arrays = {
        "train-images-idx3-ubyte": fake_images(N_TRAIN, 0) if train_images is None else train_images,
        "train-labels-idx1-ubyte": (np.arange(N_TRAIN) % 10).astype(np.uint8) if train_labels is None else train_labels,
        "t10k-images-idx3-ubyte": fake_images(N_TEST, 1),
        "t10k-labels-idx1-ubyte": np.array([7, 2, 1], np.uint8),
    }
    for base, arr in arrays.items():
        if base != skip:
            write_idx(folder / base, arr, gz)
    return folder


@pytest.fixture
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No env dir, no shared data, an empty cache, offline: nothing outside tmp_path can be found."""
    empty = tmp_path / "empty-env"
    empty.mkdir()
    monkeypatch.setenv("GENLAB_DATA_DIR", str(empty))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("GENLAB_OFFLINE", "1")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(mnist_mod, "_shared_data_roots", lambda: [])
    monkeypatch.setattr(mnist_mod, "DEBIAN_DATASETS", tmp_path / "no-debian-datasets")
    return tmp_path




# ---------------------------------------------------------------- find_dataset_dir


@pytest.mark.parametrize("sub", [".", "mnist", "MNIST/raw"])
def test_data_dir_layouts(tmp_path: Path, sub: str) -> None:
    folder = make_mnist(tmp_path / "d" / sub, gz=(sub != "MNIST/raw"))
    assert find_dataset_dir("mnist", tmp_path / "d").resolve() == folder.resolve()


def test_fashion_torchvision_layout_and_aliases(tmp_path: Path) -> None:
    folder = make_mnist(tmp_path / "FashionMNIST" / "raw")
    for name in ("fashion-mnist", "Fashion_MNIST", "FashionMNIST"):
        assert find_dataset_dir(name, tmp_path) == folder


def test_folder_named_mnist_does_not_serve_fashion(tmp_path: Path) -> None:
    folder = make_mnist(tmp_path / "mnist")
    assert find_dataset_dir("mnist", folder) == folder
    with pytest.raises(DataError) as err:
        find_dataset_dir("fashion-mnist", folder)
    one_line(err, str(folder), "holds the files of MNIST, not Fashion-MNIST")


def test_data_dir_does_not_exist(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    with pytest.raises(DataError) as err:
        find_dataset_dir("mnist", missing)
    one_line(err, str(missing), "does not exist", "--data-dir")


def test_data_dir_missing_one_file_no_fallback(tmp_path: Path) -> None:
    make_mnist(tmp_path / "d" / "mnist", skip="t10k-labels-idx1-ubyte")
    with pytest.raises(DataError) as err:
        find_dataset_dir("mnist", tmp_path / "d")
    msg = one_line(err, "t10k-labels-idx1-ubyte", str(tmp_path / "d" / "mnist"), "looked in", str(tmp_path / "d"))
    assert "train-images-idx3-ubyte[" not in msg  # only the missing file is listed as missing


def test_data_dir_is_a_file(tmp_path: Path) -> None:
    f = tmp_path / "file"
    f.write_text("x")
    with pytest.raises(DataError) as err:
        find_dataset_dir("mnist", f)
    one_line(err, str(f), "not a folder")


def test_unknown_name() -> None:
    with pytest.raises(ConfigError) as err:
        find_dataset_dir("cifar10")
    one_line(err, "cifar10", *DATASET_NAMES)


def test_env_var_then_cache(isolated: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cache_copy = make_mnist(isolated / "cache" / "genlab" / "data" / "mnist")
    assert find_dataset_dir("mnist") == cache_copy
    env_copy = make_mnist(isolated / "empty-env" / "mnist")
    assert find_dataset_dir("mnist") == env_copy  # the env var comes before the cache


def test_shared_data_candidates(isolated: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shared = make_mnist(isolated / "shared" / "data" / "mnist")
    monkeypatch.setattr(mnist_mod, "_shared_data_roots", lambda: [isolated / "shared" / "data"])
    assert find_dataset_dir("mnist") == shared


def test_default_shared_roots_point_next_to_repo() -> None:
    roots = [p.resolve() for p in mnist_mod._shared_data_roots()]
    repo = Path(mnist_mod.__file__).resolve().parents[3]
    assert (repo.parent / "shared" / "data").resolve() in roots


def test_offline_not_found_message(isolated: Path) -> None:
    with pytest.raises(DataError) as err:
        find_dataset_dir("mnist")
    cache = isolated / "cache" / "genlab" / "data"
    msg = one_line(err, "MNIST not found", "looked in", str(isolated / "empty-env"), str(cache / "mnist"),
                   "train-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz", "--data-dir DIR", "GENLAB_OFFLINE")
    assert "download failed" not in msg


def test_download_false_message(isolated: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GENLAB_OFFLINE")
    with pytest.raises(DataError) as err:
        find_dataset_dir("fashion-mnist", download=False)
    msg = one_line(err, "Fashion-MNIST not found", "--data-dir DIR")
    assert "download failed" not in msg and "GENLAB_OFFLINE" not in msg


def test_download_failure_is_a_data_error(isolated: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import torchvision.datasets

    monkeypatch.delenv("GENLAB_OFFLINE")

    def fail(self: object) -> None:
        raise RuntimeError("Error downloading train-images-idx3-ubyte.gz:\nTried mirrors: network is unreachable")

    monkeypatch.setattr(torchvision.datasets.MNIST, "download", fail)
    with pytest.raises(DataError) as err:
        find_dataset_dir("mnist")
    one_line(err, "MNIST not found", "download failed (RuntimeError: Error downloading", "network is unreachable",
             str(isolated / "cache" / "genlab" / "data" / "mnist"), "--data-dir DIR")


def test_download_success_uses_torchvision_layout(isolated: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import torchvision.datasets

    monkeypatch.delenv("GENLAB_OFFLINE")

    def fake_download(self: torchvision.datasets.MNIST) -> None:
        make_mnist(Path(self.raw_folder), gz=False)

    monkeypatch.setattr(torchvision.datasets.MNIST, "download", fake_download)
    folder = find_dataset_dir("fashion-mnist")
    assert folder == isolated / "cache" / "genlab" / "data" / "FashionMNIST" / "raw"
    images, labels = load_mnist("fashion-mnist", "test")
    assert labels.tolist() == [7, 2, 1]
    assert find_dataset_dir("fashion-mnist") == folder  # found in the cache the second time


# ---------------------------------------------------------------- load_mnist


def test_load_mnist_values_and_cache(tmp_path: Path) -> None:
    make_mnist(tmp_path / "mnist")
    images, labels = load_mnist("mnist", "train", tmp_path)
    assert images.dtype == torch.uint8 and images.shape == (N_TRAIN, 28, 28)
    assert labels.dtype == torch.int64 and labels.tolist() == list(range(N_TRAIN))
    assert torch.equal(images, torch.from_numpy(fake_images(N_TRAIN, 0)))
    test_images, test_labels = load_mnist("mnist", "test", tmp_path)
    assert test_images.shape == (N_TEST, 28, 28) and test_labels.tolist() == [7, 2, 1]
    again = load_mnist("mnist", "train", tmp_path)
    assert again[0] is images and again[1] is labels


def test_bad_split(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as err:
        load_mnist("mnist", "validation", tmp_path)
    one_line(err, "validation", "train", "test")


def test_count_mismatch_names_both_files(tmp_path: Path) -> None:
    folder = make_mnist(tmp_path / "mnist", train_labels=np.zeros(N_TRAIN + 1, np.uint8))
    with pytest.raises(DataError) as err:
        load_mnist("mnist", "train", tmp_path)
    one_line(err, str(folder / "train-images-idx3-ubyte.gz"), str(folder / "train-labels-idx1-ubyte.gz"),
             f"{N_TRAIN} images", f"{N_TRAIN + 1} labels")


def test_labels_out_of_range(tmp_path: Path) -> None:
    make_mnist(tmp_path / "mnist", train_labels=np.array([0, 1, 2, 3, 12, 5], np.uint8))
    with pytest.raises(DataError) as err:
        load_mnist("mnist", "train", tmp_path)
    one_line(err, "train-labels-idx1-ubyte", "0..12", "0..9")


def test_wrong_image_shape(tmp_path: Path) -> None:
    make_mnist(tmp_path / "mnist", train_images=np.zeros((N_TRAIN, 27, 28), np.uint8))
    with pytest.raises(DataError) as err:
        load_mnist("mnist", "train", tmp_path)
    one_line(err, "train-images-idx3-ubyte", "(6, 27, 28)", "28, 28")


def test_corrupt_file_surfaces_as_data_error(tmp_path: Path) -> None:
    folder = make_mnist(tmp_path / "mnist")
    bad = folder / "train-images-idx3-ubyte.gz"
    bad.write_bytes(bad.read_bytes()[:100])
    with pytest.raises(DataError) as err:
        load_mnist("mnist", "train", tmp_path)
    one_line(err, str(bad), "truncated")


# ---------------------------------------------------------------- datasets


def test_tensor_dataset_getitems_matches_getitem() -> None:
    images = torch.randint(0, 256, (10, 3, 5, 7), dtype=torch.uint8)
    labels = torch.arange(10) % 4
    ds = TensorImageDataset(images, labels, class_names=["a", "b", "c", "d"])
    assert len(ds) == 10 and ds.image_shape == (3, 5, 7) and ds.num_classes == 4
    x, y = ds[3]
    assert x.dtype == torch.float32 and x.shape == (3, 5, 7) and y.dtype == torch.int64 and int(y) == 3
    assert torch.equal(x, images[3].float() / 255)
    idx = [9, 0, 4, 4]
    bx, by = ds.__getitems__(idx)
    assert torch.equal(bx, torch.stack([ds[i][0] for i in idx]))
    assert torch.equal(by, torch.stack([ds[i][1] for i in idx]))
    assert float(bx.min()) >= 0.0 and float(bx.max()) <= 1.0
    assert ds.collate_fn((bx, by)) == (bx, by)


def test_tensor_dataset_without_labels() -> None:
    ds = TensorImageDataset(torch.zeros((3, 1, 4, 4), dtype=torch.uint8))
    assert ds.num_classes is None and ds.class_names is None
    assert int(ds[1][1]) == 0 and ds.__getitems__([0, 2])[1].tolist() == [0, 0]


def test_tensor_dataset_rejects_float_images() -> None:
    with pytest.raises(ValueError):
        TensorImageDataset(torch.zeros((3, 1, 4, 4)))


def test_mnist_dataset_with_dataloader(tmp_path: Path) -> None:
    make_mnist(tmp_path / "fashion-mnist")
    ds = mnist_dataset("fashion-mnist", "train", tmp_path)
    assert ds.image_shape == (1, 28, 28) and ds.class_names == FASHION_MNIST_CLASSES and ds.num_classes == 10
    loader = DataLoader(ds, batch_size=4, shuffle=False, collate_fn=ds.collate_fn)
    batches = list(loader)
    assert [b[0].shape for b in batches] == [(4, 1, 28, 28), (2, 1, 28, 28)]
    x, y = batches[0]
    assert x.dtype == torch.float32 and y.dtype == torch.int64 and y.tolist() == [0, 1, 2, 3]
    assert torch.equal(x[:, 0], torch.from_numpy(fake_images(N_TRAIN, 0)[:4]).float() / 255)


# ---------------------------------------------------------------- the real data


@needs_shared
def test_real_mnist() -> None:
    images, labels = load_mnist("mnist", "train", SHARED)
    assert images.shape == (60000, 28, 28) and images.dtype == torch.uint8
    assert torch.bincount(labels, minlength=10).tolist() == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    assert int(labels[0]) == 5
    assert abs(float(images.float().mean()) - 33.32) < 0.01
    test_images, test_labels = load_mnist("mnist", "test", SHARED)
    assert test_images.shape == (10000, 28, 28) and int(test_labels[0]) == 7
    ds = mnist_dataset("mnist", "train", SHARED)
    assert ds.class_names == [str(d) for d in range(10)]
    x, y = next(iter(DataLoader(ds, batch_size=4, collate_fn=ds.collate_fn)))
    assert x.shape == (4, 1, 28, 28) and x.dtype == torch.float32 and y.tolist()[0] == 5


@needs_shared
def test_real_mnist_found_without_data_dir(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GENLAB_DATA_DIR", raising=False)
    monkeypatch.setenv("GENLAB_OFFLINE", "1")
    assert find_dataset_dir("mnist").resolve() == (SHARED / "mnist").resolve()


@needs_fashion
def test_real_fashion_mnist() -> None:
    images, labels = load_mnist("fashion-mnist", "train", SHARED)
    assert images.shape == (60000, 28, 28) and int(labels[0]) == 9
    assert FASHION_MNIST_CLASSES[int(labels[0])] == "Ankle boot"


def test_file_names_constant() -> None:
    assert set(MNIST_FILES) == {"train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
                                "t10k-labels-idx1-ubyte"}


def test_debian_dataset_package_layout_is_found(isolated: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # `apt-get install dataset-fashion-mnist` installs /usr/share/datasets/fashion-mnist/*.gz
    from helpers import make_mnist_dir

    debian = isolated / "usr-share-datasets"
    make_mnist_dir(debian / "fashion-mnist", n_train=20, n_test=10)
    monkeypatch.setattr(mnist_mod, "DEBIAN_DATASETS", debian)
    assert find_dataset_dir("fashion-mnist") == debian / "fashion-mnist"
    images, labels = load_mnist("fashion-mnist", "test")
    assert images.shape == (10, 28, 28) and labels.shape == (10,)
