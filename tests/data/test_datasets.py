"""ImageDataConfig through the CLI: dataset aliases (B9), absolute folder paths in the run (trial #7), and the
one-line report of what an image folder gave (trial #16)."""

from __future__ import annotations

import json
import os

from genlab.data.datasets import ImageDataConfig


def test_dataset_aliases_are_accepted_by_the_real_entry_point(cli, tiny_mnist, tmp_path):
    for alias in ("FashionMNIST", "Fashion_MNIST", "MNIST"):
        assert ImageDataConfig(alias).is_builtin
    code, out, err = cli("vae", "train", "--dataset", "FashionMNIST", "--data-dir", tiny_mnist, "--max-steps", "2",
                         "--batch-size", "64", "--hidden-dims", "16", "--no-tensorboard", "--no-progress",
                         "--out", tmp_path / "run")
    assert code == 0, err
    saved = json.loads((tmp_path / "run" / "train_config.json").read_text())
    assert saved["data"]["dataset"] == "fashion-mnist"


def test_a_relative_folder_is_stored_absolute_and_works_from_elsewhere(cli, image_folder, tmp_path, monkeypatch):
    monkeypatch.chdir(image_folder.parent)
    code, out, err = cli("vae", "train", "--dataset", image_folder.name, "--image-size", "16", "--max-steps", "2",
                         "--batch-size", "8", "--hidden-dims", "16", "--no-tensorboard", "--no-progress",
                         "--out", tmp_path / "run")
    assert code == 0, err
    saved = json.loads((tmp_path / "run" / "train_config.json").read_text())
    assert saved["data"]["dataset"] == str(image_folder) and os.path.isabs(saved["data"]["dataset"])
    monkeypatch.chdir(tmp_path)  # another directory: the run still finds its images
    code, out, err = cli("vae", "evaluate", tmp_path / "run")
    assert code == 0, err


def test_an_image_folder_run_says_what_it_found_and_skipped(cli, image_folder, tmp_path):
    (image_folder / "notes.txt").write_text("not an image")
    code, out, err = cli("vae", "train", "--dataset", image_folder, "--image-size", "16", "--max-steps", "1",
                         "--batch-size", "8", "--hidden-dims", "16", "--no-tensorboard", "--no-progress",
                         "--out", tmp_path / "run")
    assert code == 0, err
    line = next(ln for ln in err.splitlines() if ln.startswith(str(image_folder)))
    assert "24 images, 2 classes (blue, red)" in line and "as 16x16 RGB" in line
    assert "22 for training, 2 held out" in line and "skipped 1 non-image file (notes.txt)" in line
