"""One entry point for image datasets: a built-in name (mnist, fashion-mnist) or a folder of images."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

import torch

from ..core.config import cfg_field, check_positive, from_dict
from ..core.errors import ConfigError, DataError
from .images import DEFAULT_MAX_PIXELS, ImageFolderDataset
from .mnist import DATASET_NAMES, canonical_name, mnist_dataset
from .tensor import TensorImageDataset


@dataclass
class ImageDataConfig:
    dataset: str = cfg_field("mnist", help="mnist, fashion-mnist, or a folder of images", metavar="NAME|PATH")
    data_dir: str | None = cfg_field(None, help="folder holding the MNIST/Fashion-MNIST IDX .gz files")
    image_size: int | None = cfg_field(None, help="resize/crop folder images to this size; none = 64")
    channels: int | None = cfg_field(None, help="1 (grey) or 3 (RGB) for folder images; none = 3")
    max_pixels: int = cfg_field(DEFAULT_MAX_PIXELS, help="refuse images with more pixels than this")
    holdout: float = cfg_field(0.1, help="fraction of a folder's images held out as the test split")
    download: bool = cfg_field(True, help="download MNIST/Fashion-MNIST if no local copy is found")

    def __post_init__(self) -> None:
        # "FashionMNIST", "Fashion_MNIST" -> "fashion-mnist"; a folder is stored absolute, so a run's evaluate /
        # scatter / resume work from any directory (train_config.json records the absolute path).
        builtin = canonical_name(self.dataset) if isinstance(self.dataset, str) else None
        if builtin is not None:
            self.dataset = builtin
        elif isinstance(self.dataset, str) and self.dataset:
            self.dataset = str(Path(self.dataset).expanduser().absolute())
        if isinstance(self.data_dir, str) and self.data_dir:
            self.data_dir = str(Path(self.data_dir).expanduser().absolute())
        if self.channels is not None and self.channels not in (1, 3):
            raise ConfigError(f"--channels must be 1 or 3 (got {self.channels})")
        check_positive("image_size", self.image_size, allow_none=True)
        check_positive("max_pixels", self.max_pixels)
        if not 0.0 < self.holdout < 1.0:
            raise ConfigError(f"--holdout must be between 0 and 1 (got {self.holdout})")

    @property
    def is_builtin(self) -> bool:
        return canonical_name(self.dataset) is not None

    @property
    def name(self) -> str:
        return self.dataset.lower() if self.is_builtin else Path(self.dataset).name or "images"


def load_image_dataset(cfg: ImageDataConfig, split: str = "train") -> TensorImageDataset:
    """The ``split`` ("train" or "test") of the dataset ``cfg`` names, as uint8 images in memory."""
    if split not in ("train", "test"):
        raise ConfigError(f"split must be 'train' or 'test' (got {split!r})")
    if cfg.is_builtin:
        if cfg.image_size not in (None, 28) or cfg.channels not in (None, 1):
            raise ConfigError(f"{cfg.dataset} is 28x28 grey; drop --image-size/--channels")
        return mnist_dataset(cfg.dataset.lower(), split, cfg.data_dir, download=cfg.download)
    path = Path(cfg.dataset)
    if not path.exists():
        raise DataError(f"dataset {cfg.dataset!r} is neither a built-in name ({', '.join(DATASET_NAMES)}) "
                        f"nor an existing folder")
    full = ImageFolderDataset(path, image_size=cfg.image_size or 64, channels=cfg.channels or 3,
                              max_pixels=cfg.max_pixels)
    part = _holdout_split(full, cfg.holdout, split)
    _report_folder(full, cfg, path)
    return part


_REPORTED: set[tuple[str, int, int]] = set()


def _report_folder(full: ImageFolderDataset, cfg: ImageDataConfig, path: Path) -> None:
    """Say once per process what an image folder gave: images, classes, the split, and what was skipped."""
    key = (str(path), cfg.image_size or 64, cfg.channels or 3)
    if key in _REPORTED or os.environ.get("RANK", "0") not in ("", "0"):
        return
    _REPORTED.add(key)
    n = len(full)
    n_test = max(1, round(n * cfg.holdout)) if n > 1 else 0
    names = full.class_names or []
    classes = (f"{len(names)} classes ({', '.join(names[:6])}{', ...' if len(names) > 6 else ''})" if names
               else "no classes (images directly in the folder)")
    skipped = getattr(full, "skipped", [])
    skip = ""
    if skipped:
        shown = ", ".join(str(p.relative_to(path)) for p in skipped[:3])
        skip = f"; skipped {len(skipped)} non-image file{'s' if len(skipped) != 1 else ''} ({shown}" \
               f"{', ...' if len(skipped) > 3 else ''})"
    side = cfg.image_size or 64
    print(f"{path}: {n} images, {classes}, as {side}x{side} {'grey' if (cfg.channels or 3) == 1 else 'RGB'}; "
          f"{n - n_test} for training, {n_test} held out for testing{skip}", file=sys.stderr, flush=True)


def _holdout_split(full: TensorImageDataset, fraction: float, split: str) -> TensorImageDataset:
    """A fixed, seeded split of a folder: the same images are held out on every run and machine."""
    n = len(full)
    n_test = max(1, round(n * fraction)) if n > 1 else 0
    order = torch.randperm(n, generator=torch.Generator().manual_seed(1234))
    idx = order[:n_test] if split == "test" else order[n_test:]
    if len(idx) == 0:
        raise DataError(f"{split} split of the image folder is empty ({n} images); add images")
    idx = idx.sort().values
    labels = full.labels[idx] if getattr(full, "labels", None) is not None else None
    return TensorImageDataset(full.images[idx], labels, class_names=full.class_names)


def saved_data_config(run: str | Path) -> ImageDataConfig | None:
    """The data config a run was trained with (its ``train_config.json``), or None when the folder has none."""
    from ..core.engine import RUN_CONFIG
    from ..core.io import read_json

    path = Path(run) / RUN_CONFIG
    if not path.exists():
        return None
    try:
        return from_dict(ImageDataConfig, read_json(path, what="run config")["data"])
    except (KeyError, TypeError, ConfigError):
        return None


def add_evaluation_data_arguments(p) -> None:
    """``--dataset`` / ``--data-dir`` of every image command that reads a run's test set (evaluate, latent tools)."""
    p.add_argument("--dataset", help="images to use (default: the dataset the run was trained on)")
    p.add_argument("--data-dir", help="folder with the MNIST/Fashion-MNIST IDX .gz files")


def evaluation_data_config(args) -> ImageDataConfig | None:
    """The run's own data config with ``--dataset`` / ``--data-dir`` applied, or None when neither was given."""
    from ..core.config import to_dict

    dataset, data_dir = getattr(args, "dataset", None), getattr(args, "data_dir", None)
    if not (dataset or data_dir):
        return None
    base = saved_data_config(Path(args.run)) or ImageDataConfig()
    return from_dict(ImageDataConfig, {**to_dict(base), **({"dataset": dataset} if dataset else {}),
                                        **({"data_dir": data_dir} if data_dir else {})})
