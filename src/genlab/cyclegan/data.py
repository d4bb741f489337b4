"""Two unpaired image domains for CycleGAN: folders (``trainA/testA`` layouts or a held-out fraction) and the
built-in, measurable pair ``mnist`` <-> ``mnist-photo``.

``mnist-photo`` is MNIST-M (Ganin & Lempitsky 2015) rebuilt from what scikit-image bundles: each 32x32 image is
``|patch - digit|`` per pixel and channel, ``patch`` a random 32x32 crop of a colour photo. The two domains come
from *disjoint halves* of MNIST train (a seeded permutation: the first half stays grey digits = domain A, the
second half is composited = domain B), so no digit image appears in both domains and the training data is truly
unpaired. The test splits are the two halves of MNIST test, composited onto crops of *other* photos than the
training backgrounds. Built once per (MNIST folder, seed, size) and cached in ``~/.cache/genlab/cyclegan``; the
labels are kept for the judges only (training never sees them).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from ..core.config import cfg_field, check_int
from ..core.errors import ConfigError, DataError
from ..data.images import DEFAULT_MAX_PIXELS
from ..data.tensor import TensorImageDataset

BUILTIN_A = "mnist"
BUILTIN_B = "mnist-photo"
BUILTINS = (BUILTIN_A, BUILTIN_B)
PAIR_VERSION = 1
# Disjoint photo sets for the composited backgrounds (scikit-image's bundled colour photos).
TRAIN_PHOTOS = ("astronaut", "coffee", "chelsea", "motorcycle_left")
TEST_PHOTOS = ("rocket", "immunohistochemistry")
BUILTIN_SIZE = 32  # MNIST's 28 px digits zero-padded to 32 (as LeNet-5 and MNIST-M at 32 px)


@dataclass
class UnpairedDataConfig:
    domain_a: str = cfg_field(BUILTIN_A, help="domain A: 'mnist' (grey digits, half of MNIST train) or a folder of "
                                              "images (with trainA/testA or train/test sub-folders, or a held-out "
                                              "fraction)", metavar="mnist|DIR")
    domain_b: str = cfg_field(BUILTIN_B, help="domain B: 'mnist-photo' (MNIST-M-style digits on photo patches, the "
                                              "other half of MNIST train) or a folder of images", metavar="mnist-photo|DIR")
    data_dir: str | None = cfg_field(None, help="folder holding the MNIST IDX .gz files (built-in pair)")
    size: int | None = cfg_field(None, help="images are resized (shorter side) and centre-cropped to this side when "
                                            "loaded (none: 32 for the built-in pair, 64 for folders)")
    crop: int | None = cfg_field(None, help="random crops of this side are what the networks train on (none: "
                                            "--size, no cropping); e.g. --size 143 --crop 128")
    channels_a: int | None = cfg_field(None, help="1 (grey) or 3 (RGB) for domain A (none: 1 for mnist, 3 for "
                                                  "folders); grey digits may be mapped to RGB with 3")
    channels_b: int | None = cfg_field(None, help="1 or 3 for domain B (none: 3)")
    flip: bool | None = cfg_field(None, help="random horizontal flips (none: on for folders, off for the digit pair: "
                                             "a mirrored digit is not a digit)")
    holdout: float = cfg_field(0.1, help="fraction of a folder held out as its test split when it has no "
                                         "test folder")
    pair_seed: int = cfg_field(0, help="seed of the built-in pair (which half, which crops)")
    max_pixels: int = cfg_field(DEFAULT_MAX_PIXELS, help="refuse images with more pixels than this")

    def __post_init__(self) -> None:
        for name in ("domain_a", "domain_b"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value:
                raise ConfigError(f"--{name.replace('_', '-')} must be a built-in name ({', '.join(BUILTINS)}) or a "
                                  f"folder")
            if value.lower() not in BUILTINS:
                setattr(self, name, str(Path(value).expanduser().absolute()))
            else:
                setattr(self, name, value.lower())
        if isinstance(self.data_dir, str) and self.data_dir:
            self.data_dir = str(Path(self.data_dir).expanduser().absolute())
        check_int("size", self.size, 8, allow_none=True)
        check_int("crop", self.crop, 8, allow_none=True)
        for name in ("channels_a", "channels_b"):
            if getattr(self, name) not in (None, 1, 3):
                raise ConfigError(f"--{name.replace('_', '-')} must be 1 or 3 (got {getattr(self, name)})")
        if self.is_builtin(self.domain_a) or self.is_builtin(self.domain_b):
            if self.size not in (None, BUILTIN_SIZE):
                raise ConfigError(f"the built-in pair is {BUILTIN_SIZE}x{BUILTIN_SIZE}; drop --size (use --crop "
                                  f"for random crops)")
        if self.crop is not None and self.crop > self.load_size:
            raise ConfigError(f"--crop {self.crop} is larger than --size {self.load_size}")
        if not 0.0 < self.holdout < 1.0:
            raise ConfigError(f"--holdout must be between 0 and 1 (got {self.holdout})")
        check_int("pair_seed", self.pair_seed, 0)

    @staticmethod
    def is_builtin(name: str) -> bool:
        return name in BUILTINS

    @property
    def builtin_pair(self) -> bool:
        """Both domains are the built-in digit pair (the one with labels, hence judges)."""
        return (self.domain_a, self.domain_b) == (BUILTIN_A, BUILTIN_B)

    @property
    def load_size(self) -> int:
        if self.size is not None:
            return self.size
        return BUILTIN_SIZE if (self.is_builtin(self.domain_a) or self.is_builtin(self.domain_b)) else 64

    @property
    def crop_size(self) -> int:
        return self.crop or self.load_size

    def channels(self, domain: str) -> int:
        value = self.channels_a if domain == "a" else self.channels_b
        if value is not None:
            return value
        name = self.domain_a if domain == "a" else self.domain_b
        return 1 if name == BUILTIN_A else 3

    @property
    def use_flip(self) -> bool:
        if self.flip is not None:
            return self.flip
        return not (self.is_builtin(self.domain_a) or self.is_builtin(self.domain_b))


# ---- the built-in pair ----------------------------------------------------------------------------------------------

def _photo(name: str) -> np.ndarray:
    """A bundled scikit-image colour photo as uint8 (H, W, 3)."""
    from ..core.extras import require

    data = require("skimage.data", extra="dev", what="the mnist-photo backgrounds", package="scikit-image")
    if name == "motorcycle_left":
        img = data.stereo_motorcycle()[0]
    else:
        img = getattr(data, name)()
    img = np.asarray(img)
    if img.ndim == 2:
        img = np.stack([img] * 3, -1)
    img = img[..., :3]
    if img.dtype != np.uint8:  # the bundled photos are uint8; a float one would be in [0, 1]
        img = np.rint(np.clip(img, 0, 1) * 255)
    return np.ascontiguousarray(img.astype(np.uint8))


def composite(digits: np.ndarray, photos: list[np.ndarray], rng: np.random.Generator,
              chunk: int = 4096) -> np.ndarray:
    """MNIST-M: ``|patch - digit|`` per channel, ``patch`` a random crop of a random photo.

    ``digits``: (N, S, S) uint8; ``photos``: uint8 (H, W, 3) arrays; returns (N, 3, S, S) uint8. The draws (photo,
    then top-left corners) are made for all N at once, so the result depends only on ``rng``'s state.
    """
    n, s, _ = digits.shape
    which = rng.integers(0, len(photos), size=n)
    corners = np.stack([rng.random(n), rng.random(n)], 1)  # scaled to each photo's valid range below
    out = np.empty((n, 3, s, s), np.uint8)
    for k, photo in enumerate(photos):
        idx = np.flatnonzero(which == k)
        ys = (corners[idx, 0] * (photo.shape[0] - s + 1)).astype(np.int64)
        xs = (corners[idx, 1] * (photo.shape[1] - s + 1)).astype(np.int64)
        windows = np.lib.stride_tricks.sliding_window_view(photo, (s, s), axis=(0, 1))  # (H', W', 3, S, S), a view
        for c0 in range(0, len(idx), chunk):
            sl = slice(c0, c0 + chunk)
            patch = windows[ys[sl], xs[sl]].astype(np.int16)  # (n, 3, S, S)
            out[idx[sl]] = np.abs(patch - digits[idx[sl]].astype(np.int16)[:, None]).astype(np.uint8)
    return out


def _pad32(images: torch.Tensor) -> np.ndarray:
    """(N, 28, 28) uint8 -> (N, 32, 32) uint8, zero-padded (MNIST's background is 0)."""
    return np.pad(images.numpy(), ((0, 0), (2, 2), (2, 2)))


def cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME")
    return (Path(base) if base else Path.home() / ".cache") / "genlab" / "cyclegan"


def _pair_key(mnist_dir: Path, seed: int) -> str:
    files = sorted(str(p.resolve()) + f":{p.stat().st_size}" for p in mnist_dir.iterdir() if p.name.endswith(".gz"))
    what = {"mnist": files, "seed": seed, "version": PAIR_VERSION, "train_photos": TRAIN_PHOTOS,
            "test_photos": TEST_PHOTOS}
    return hashlib.sha256(json.dumps(what, sort_keys=True).encode()).hexdigest()[:12]


PAIR_ARRAYS = ("a_train", "a_train_labels", "b_train", "b_train_labels", "a_test", "a_test_labels", "b_test",
               "b_test_labels")


def build_mnist_photo_pair(mnist_train: tuple[torch.Tensor, torch.Tensor],
                           mnist_test: tuple[torch.Tensor, torch.Tensor], *, seed: int = 0) -> dict[str, np.ndarray]:
    """The built-in pair from MNIST train/test (uint8 (N, 28, 28), labels): a deterministic function of ``seed``.

    Domain A = grey digits of the first half of a seeded permutation of train; domain B = the second half composited
    on crops of :data:`TRAIN_PHOTOS`. Test: MNIST test split the same way, B on crops of :data:`TEST_PHOTOS`.
    """
    rng = np.random.default_rng(seed)
    out: dict[str, np.ndarray] = {}
    train_photos = [_photo(p) for p in TRAIN_PHOTOS]
    test_photos = [_photo(p) for p in TEST_PHOTOS]
    for split, (images, labels), photos in (("train", mnist_train, train_photos), ("test", mnist_test, test_photos)):
        n = images.shape[0]
        order = rng.permutation(n)
        half_a, half_b = np.sort(order[: n // 2]), np.sort(order[n // 2: 2 * (n // 2)])
        padded = _pad32(images)
        out[f"a_{split}"] = padded[half_a][:, None]
        out[f"a_{split}_labels"] = labels.numpy()[half_a].astype(np.int64)
        out[f"b_{split}"] = composite(padded[half_b], photos, rng)
        out[f"b_{split}_labels"] = labels.numpy()[half_b].astype(np.int64)
        out[f"{split}_index_a"] = half_a
        out[f"{split}_index_b"] = half_b
    return out


def load_mnist_photo_pair(data_dir: str | None = None, *, seed: int = 0, cache: str | os.PathLike | None = None,
                          download: bool = True) -> dict[str, torch.Tensor]:
    """The built-in pair as tensors (built once per MNIST folder and seed, then read from the cache)."""
    from ..data.mnist import find_dataset_dir, load_mnist

    mnist_dir = find_dataset_dir("mnist", data_dir, download=download)
    root = Path(cache) if cache is not None else cache_root()
    folder = root / f"mnist-photo-{_pair_key(mnist_dir, seed)}"
    names = PAIR_ARRAYS
    if not all((folder / f"{n}.npy").is_file() for n in names):
        arrays = build_mnist_photo_pair(load_mnist("mnist", "train", str(mnist_dir), download=download),
                                        load_mnist("mnist", "test", str(mnist_dir), download=download), seed=seed)
        try:
            root.mkdir(parents=True, exist_ok=True)
            tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.tmp-", dir=root))
            try:
                for n in names:
                    np.save(tmp / f"{n}.npy", arrays[n])
                if folder.exists():
                    shutil.rmtree(folder, ignore_errors=True)
                os.replace(tmp, folder)
            finally:
                shutil.rmtree(tmp, ignore_errors=True)
        except OSError as e:  # a read-only cache only costs the build time next call
            print(f"note: could not cache the mnist-photo pair in {root} ({e.strerror or e})", file=sys.stderr)
        return {n: torch.from_numpy(np.ascontiguousarray(arrays[n])) for n in names}
    try:
        return {n: torch.from_numpy(np.load(folder / f"{n}.npy", allow_pickle=False)) for n in names}
    except (OSError, ValueError) as e:
        raise DataError(f"the cached mnist-photo pair in {folder} is unreadable ({e}); delete that folder to "
                        f"rebuild it") from None


# ---- folders --------------------------------------------------------------------------------------------------------

def _split_folders(path: Path, letter: str) -> tuple[Path, Path | None]:
    """(train folder, test folder or None) of a domain folder.

    Accepted: ``DIR/trainA`` + ``DIR/testA`` (the reference repository's layout, A or B by domain), ``DIR/train`` +
    ``DIR/test``, a folder named ``trainA`` with a sibling ``testA``, or a plain folder (a fraction is held out).
    """
    if not path.exists():
        raise DataError(f"domain folder {path} does not exist; pass a folder of images or the built-in name "
                        f"({BUILTIN_A} for A, {BUILTIN_B} for B)")
    if not path.is_dir():
        raise DataError(f"domain {path} is a file, not a folder of images")
    for train_name, test_name in ((f"train{letter}", f"test{letter}"), ("train", "test")):
        if (path / train_name).is_dir():
            test = path / test_name
            return path / train_name, test if test.is_dir() else None
    if path.name.lower().startswith("train"):
        sibling = path.parent / ("test" + path.name[5:])
        if sibling.is_dir():
            return path, sibling
    return path, None


def _folder_split(path: str, letter: str, cfg: UnpairedDataConfig, channels: int) -> tuple[TensorImageDataset,
                                                                                             TensorImageDataset, str]:
    from ..data.datasets import _holdout_split
    from ..data.images import ImageFolderDataset

    train_dir, test_dir = _split_folders(Path(path), letter)
    size = cfg.load_size
    train = ImageFolderDataset(train_dir, image_size=size, channels=channels, max_pixels=cfg.max_pixels)
    if test_dir is not None:
        test = ImageFolderDataset(test_dir, image_size=size, channels=channels, max_pixels=cfg.max_pixels)
        how = f"{len(train)} train images in {train_dir}, {len(test)} test images in {test_dir}"
        return TensorImageDataset(train.images), TensorImageDataset(test.images), how
    if len(train) < 2:
        raise DataError(f"domain folder {train_dir} has {len(train)} image; a CycleGAN needs at least 2 (one to "
                        f"hold out for testing) and one batch")
    tr = _holdout_split(TensorImageDataset(train.images), cfg.holdout, "train")
    te = _holdout_split(TensorImageDataset(train.images), cfg.holdout, "test")
    how = f"{len(tr)} train / {len(te)} held-out test images of {train_dir} (--holdout {cfg.holdout})"
    return tr, te, how


def to_channels(images: torch.Tensor, channels: int) -> torch.Tensor:
    """Map (N, C, H, W) images (uint8 or float) to 1 or 3 channels: grey -> RGB repeats, RGB -> grey is luminance
    (ITU-R 601: 0.299 R + 0.587 G + 0.114 B)."""
    c = images.shape[1]
    if c == channels:
        return images
    if c == 1 and channels == 3:
        return images.repeat(1, 3, 1, 1)
    if c == 3 and channels == 1:
        w = torch.tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1)
        grey = (images.float() * w).sum(1, keepdim=True)
        return grey.round().clamp(0, 255).to(torch.uint8) if images.dtype == torch.uint8 else grey
    raise ConfigError(f"cannot map {c} channels to {channels}")


@dataclass
class Domains:
    """Both domains' train and test images (uint8 (N, C, S, S) at the load size), with labels for the built-in pair."""

    a_train: TensorImageDataset
    b_train: TensorImageDataset
    a_test: TensorImageDataset
    b_test: TensorImageDataset
    description: dict[str, str]

    @property
    def labelled(self) -> bool:
        return all(d.labels is not None for d in (self.a_train, self.b_train, self.a_test, self.b_test))


def load_domains(cfg: UnpairedDataConfig, *, download: bool = True, quiet: bool = False) -> Domains:
    """Load both domains of ``cfg`` (train and test splits)."""
    pair = None
    parts: dict[str, tuple[TensorImageDataset, TensorImageDataset]] = {}
    description: dict[str, str] = {}
    for letter, name in (("a", cfg.domain_a), ("b", cfg.domain_b)):
        channels = cfg.channels(letter)
        if name in BUILTINS:
            if pair is None:
                pair = load_mnist_photo_pair(cfg.data_dir, seed=cfg.pair_seed, download=download)
            src = "a" if name == BUILTIN_A else "b"
            train = TensorImageDataset(to_channels(pair[f"{src}_train"], channels), pair[f"{src}_train_labels"],
                                       class_names=[str(d) for d in range(10)])
            test = TensorImageDataset(to_channels(pair[f"{src}_test"], channels), pair[f"{src}_test_labels"],
                                      class_names=[str(d) for d in range(10)])
            half = "first" if src == "a" else "second"
            photos = f" composited on crops of {', '.join(TRAIN_PHOTOS)} (test: {', '.join(TEST_PHOTOS)})" \
                if src == "b" else ""
            description[letter] = (f"{name}: {len(train)} train / {len(test)} test images, the {half} half of MNIST "
                                   f"train / test{photos}")
        else:
            train, test, how = _folder_split(name, letter.upper(), cfg, channels)
            description[letter] = how
        parts[letter] = (train, test)
    domains = Domains(parts["a"][0], parts["b"][0], parts["a"][1], parts["b"][1], description)
    if not quiet:
        describe_domains(domains, cfg)
    return domains


def describe_domains(domains: Domains, cfg: UnpairedDataConfig) -> None:
    """One stderr line per domain: what was loaded, and as what (rank 0)."""
    if os.environ.get("RANK", "0") not in ("", "0"):
        return
    s = cfg.load_size
    for letter in ("a", "b"):
        c = cfg.channels(letter)
        print(f"domain {letter.upper()}: {domains.description[letter]}, as {s}x{s} {'grey' if c == 1 else 'RGB'}",
              file=sys.stderr, flush=True)


class UnpairedIndex(torch.utils.data.Dataset):
    """What the engine iterates: indices ``0 .. max(|A|, |B|) - 1`` (an epoch sees every image of the larger domain,
    as the reference implementation's unaligned dataset). The trainer takes A's image ``i mod |A|`` and draws B's
    index from a (seed, step)-seeded stream, so the pairs change every epoch and a resumed run sees the same ones."""

    def __init__(self, domains: Domains) -> None:
        self.domains = domains
        self.n = max(len(domains.a_train), len(domains.b_train))

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, index: int) -> torch.Tensor:
        return torch.tensor(index)

    def __getitems__(self, indices) -> torch.Tensor:
        return torch.as_tensor(list(indices), dtype=torch.int64)

    @staticmethod
    def collate_fn(batch):
        return batch


def augment(images: torch.Tensor, crop: int, flip: bool, generator: torch.Generator) -> torch.Tensor:
    """Random ``crop`` x ``crop`` crops (+ horizontal flips with probability 1/2) of float images (N, C, S, S),
    drawn from ``generator``."""
    n, _, s, _ = images.shape
    if crop < s:
        ys = torch.randint(0, s - crop + 1, (n,), generator=generator)
        xs = torch.randint(0, s - crop + 1, (n,), generator=generator)
        images = torch.stack([images[i, :, y:y + crop, x:x + crop] for i, (y, x) in
                              enumerate(zip(ys.tolist(), xs.tolist(), strict=True))])
    if flip:
        mask = torch.rand(n, generator=generator) < 0.5
        if bool(mask.any()):
            images = images.clone()
            images[mask] = images[mask].flip(-1)
    return images


def center_crop(images: torch.Tensor, crop: int) -> torch.Tensor:
    s = images.shape[-1]
    if crop >= s:
        return images
    o = (s - crop) // 2
    return images[..., o:o + crop, o:o + crop]
