"""MNIST and Fashion-MNIST: finding the files, loading them, and a fast in-memory image dataset.

Search order of :func:`find_dataset_dir` (first folder holding all four IDX files wins):

1. ``data_dir`` if given (and nothing else: a wrong ``--data-dir`` is an error, not a silent fallback);
2. ``$GENLAB_DATA_DIR``;
3. the project's shared data, ``<cwd>/../shared/data`` and ``<repo>/../shared/data``;
4. the cache, ``$XDG_CACHE_HOME/genlab/data`` or ``~/.cache/genlab/data``, then Debian's ``/usr/share/datasets``
   (where ``apt-get install dataset-fashion-mnist`` puts Fashion-MNIST);
5. a download with torchvision into the cache, unless ``download=False`` or ``$GENLAB_OFFLINE`` is set.

In each root the files may lie in the root itself, in ``<root>/<name>`` (e.g. ``mnist/``, ``fashion-mnist/``) or in
torchvision's layout ``<root>/MNIST/raw`` / ``<root>/FashionMNIST/raw``; each file may be gzipped or not.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

from genlab.core.errors import ConfigError, DataError
from genlab.data.idx import read_idx
from genlab.data.tensor import TensorImageDataset

__all__ = [
    "DATASET_NAMES",
    "FASHION_MNIST_CLASSES",
    "MNIST_CLASSES",
    "TensorImageDataset",
    "find_dataset_dir",
    "load_mnist",
    "mnist_dataset",
]

DATASET_NAMES = ("mnist", "fashion-mnist")
SPLITS = ("train", "test")

MNIST_FILES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)

MNIST_CLASSES = [str(d) for d in range(10)]
FASHION_MNIST_CLASSES = [
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
]

# name -> (display name, torchvision class name == torchvision's folder name under root)
_INFO = {
    "mnist": ("MNIST", "MNIST"),
    "fashion-mnist": ("Fashion-MNIST", "FashionMNIST"),
}

# (resolved dataset dir, split) -> (images, labels). Parsing 47 MB of IDX once per process is enough.
_CACHE: dict[tuple[Path, str], tuple[torch.Tensor, torch.Tensor]] = {}


def _squash(text: str) -> str:
    return text.strip().lower().replace("-", "").replace("_", "")


# "Fashion_MNIST", "FashionMNIST", "fashion-mnist" all name the same dataset.
_ALIASES = {_squash(n): n for n in DATASET_NAMES}


def canonical_name(name: str) -> str | None:
    """The built-in dataset ``name`` spells ("FashionMNIST", "Fashion_MNIST" -> "fashion-mnist"), or None."""
    return _ALIASES.get(_squash(str(name))) if isinstance(name, str) else None


def _check_name(name: str) -> str:
    key = _ALIASES.get(_squash(str(name)))
    if key is None:
        raise ConfigError(f"unknown dataset {name!r}; valid names: {', '.join(DATASET_NAMES)}")
    return key


def _env_flag(var: str) -> bool:
    return os.environ.get(var, "").strip().lower() not in ("", "0", "false", "no", "off")


def _layouts(root: Path, name: str) -> list[Path]:
    """The folders under ``root`` where the files of ``name`` may lie: the root itself, ``<name>/``, torchvision's."""
    folders = [root, root / name, root / _INFO[name][1] / "raw"]
    # Both datasets use the same file names, so a root called "mnist" must not serve Fashion-MNIST (and vice versa).
    squashed = _squash(root.name)
    if squashed in _ALIASES and _ALIASES[squashed] != name:
        folders.remove(root)
    return folders


def _find_file(folder: Path, base: str) -> Path | None:
    # Prefer the uncompressed file (faster to read; torchvision keeps both after its download).
    for candidate in (folder / base, folder / f"{base}.gz"):
        if candidate.is_file():
            return candidate
    return None


def _missing(folder: Path) -> list[str]:
    return [base for base in MNIST_FILES if _find_file(folder, base) is None]


def _search(roots: Sequence[Path], name: str) -> Path | None:
    for root in roots:
        for folder in _layouts(root, name):
            if folder.is_dir() and not _missing(folder):
                return folder
    return None


DEBIAN_DATASETS = Path("/usr/share/datasets")


def _shared_data_roots() -> list[Path]:
    """The project's shared data folders (``../shared/data`` next to the cwd and next to the repo checkout)."""
    repo_root = Path(__file__).resolve().parents[3]  # src/genlab/data/mnist.py -> repo
    return [Path.cwd() / ".." / "shared" / "data", repo_root / ".." / "shared" / "data"]


def _cache_root() -> Path:
    """genlab's data cache: ``$XDG_CACHE_HOME/genlab/data`` or ``~/.cache/genlab/data``."""
    xdg = os.environ.get("XDG_CACHE_HOME", "").strip()
    base = Path(xdg) if xdg else Path.home() / ".cache"
    return base / "genlab" / "data"


def _candidate_roots() -> list[Path]:
    """Roots searched when no ``data_dir`` is given, in order (env var, shared data, cache), de-duplicated."""
    roots: list[Path] = []
    env = os.environ.get("GENLAB_DATA_DIR", "").strip()
    if env:
        roots.append(Path(env).expanduser())
    roots.extend(_shared_data_roots())
    roots.append(_cache_root())
    roots.append(DEBIAN_DATASETS)  # `apt-get install dataset-fashion-mnist` puts the .gz files here
    unique: list[Path] = []
    seen: set[Path] = set()
    for root in roots:
        key = Path(os.path.normpath(os.path.abspath(root)))
        if key not in seen:
            seen.add(key)
            unique.append(key)
    return unique


def _download(name: str, cache: Path) -> Path:
    """Download with torchvision (it verifies each file's md5) and return the folder holding the raw files."""
    from torchvision import datasets  # heavy import: only when a download is really needed

    cls = datasets.MNIST if name == "mnist" else datasets.FashionMNIST
    cache.mkdir(parents=True, exist_ok=True)
    # torchvision's urllib calls have no timeout: without one, a silently dropped connection hangs forever.
    saved_timeout = socket.getdefaulttimeout()
    socket.setdefaulttimeout(60)
    try:
        cls(root=str(cache), train=True, download=True)
    finally:
        socket.setdefaulttimeout(saved_timeout)
    return cache / _INFO[name][1] / "raw"


def _one_line(text: str, limit: int = 160) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def find_dataset_dir(name: str, data_dir: str | os.PathLike[str] | None = None, *, download: bool = True) -> Path:
    """Return a folder holding the four IDX files of ``name`` ("mnist" or "fashion-mnist").

    See the module docstring for the search order. Raises :class:`ConfigError` for an unknown name and
    :class:`DataError` when the files cannot be found (or downloaded).
    """
    name = _check_name(name)
    display = _INFO[name][0]
    file_list = ", ".join(f"{b}.gz" for b in MNIST_FILES)

    if data_dir is not None:
        root = Path(data_dir).expanduser()
        if not root.exists():
            raise DataError(
                f"data dir {root} does not exist; pass an existing folder holding {file_list} to --data-dir"
            )
        if not root.is_dir():
            raise DataError(
                f"data dir {root} is a file, not a folder; pass the folder holding {file_list} to --data-dir"
            )
        found = _search([root], name)
        if found is not None:
            return found
        folders = _layouts(root, name)
        if root not in folders and not _missing(root):
            raise DataError(
                f"data dir {root} holds the files of {_INFO[_ALIASES[_squash(root.name)]][0]}, not {display}; "
                f"pass the folder holding the {display} files (or their parent) to --data-dir"
            )
        # Report the folder that came closest (fewest missing files), so the message says exactly what to add.
        best = min((f for f in folders if f.is_dir()), key=lambda f: len(_missing(f)), default=folders[-1])
        lacking = _missing(best) if best.is_dir() else list(MNIST_FILES)
        missing = ", ".join(f"{b}[.gz]" for b in lacking)
        raise DataError(
            f"{display} files missing in data dir {root}: {best} lacks {missing} (looked in: "
            f"{', '.join(str(f) for f in folders)}); put the four files {file_list} in {root / name}"
        )

    roots = _candidate_roots()
    found = _search(roots, name)
    if found is not None:
        return found

    cache = _cache_root()
    looked = ", ".join(str(r) for r in roots)
    where = f"{display} not found (looked in: {looked}, each also in its {name}/ and {_INFO[name][1]}/raw/ sub-folders)"
    advice = f"put {file_list} in {cache / name} or pass --data-dir DIR"
    if not download:
        raise DataError(f"{where}; {advice}")
    if _env_flag("GENLAB_OFFLINE"):
        raise DataError(f"{where} and GENLAB_OFFLINE is set, so no download was tried; {advice}")
    try:
        folder = _download(name, cache)
    except Exception as e:  # noqa: BLE001 - any failure (network, disk, md5) gets the same actionable message
        raise DataError(f"{where} and download failed ({type(e).__name__}: {_one_line(e)}); {advice}") from None
    if not folder.is_dir() or _missing(folder):
        raise DataError(f"{where} and download left no complete copy in {folder}; {advice}")
    return folder


def load_mnist(
    name: str,
    split: str = "train",
    data_dir: str | os.PathLike[str] | None = None,
    *,
    download: bool = True,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Load a split of MNIST or Fashion-MNIST as uint8 images ``(N, 28, 28)`` and int64 labels ``(N,)``.

    Results are cached per process (keyed by dataset folder and split) and the same tensors are returned on every
    call: treat them as read-only.
    """
    if split not in SPLITS:
        raise ConfigError(f"unknown split {split!r}; valid splits: {', '.join(SPLITS)}")
    name = _check_name(name)
    folder = find_dataset_dir(name, data_dir, download=download)
    key = (folder.resolve(), split)
    if key in _CACHE:
        return _CACHE[key]

    prefix = "train" if split == "train" else "t10k"
    img_path = _find_file(folder, f"{prefix}-images-idx3-ubyte")
    lbl_path = _find_file(folder, f"{prefix}-labels-idx1-ubyte")
    assert img_path is not None and lbl_path is not None  # find_dataset_dir checked all four
    images = read_idx(img_path)
    labels = read_idx(lbl_path)

    fix = "replace it with the original file"
    if images.dtype != torch.uint8 or images.ndim != 3 or tuple(images.shape[1:]) != (28, 28):
        raise DataError(
            f"{img_path} holds {images.dtype} data of shape {tuple(images.shape)}, expected uint8 (N, 28, 28) "
            f"images; {fix}"
        )
    if labels.ndim != 1:
        raise DataError(f"{lbl_path} holds data of shape {tuple(labels.shape)}, expected 1-D labels (N,); {fix}")
    if labels.shape[0] != images.shape[0]:
        raise DataError(
            f"{img_path} has {images.shape[0]} images but {lbl_path} has {labels.shape[0]} labels; "
            f"the two files must come from the same split: {fix}"
        )
    labels = labels.to(torch.int64)
    if labels.numel() and (int(labels.min()) < 0 or int(labels.max()) > 9):
        raise DataError(
            f"{lbl_path} has labels in {int(labels.min())}..{int(labels.max())}, expected 0..9; {fix}"
        )
    _CACHE[key] = (images, labels)
    return images, labels


def mnist_dataset(
    name: str,
    split: str = "train",
    data_dir: str | os.PathLike[str] | None = None,
    *,
    download: bool = True,
) -> TensorImageDataset:
    """MNIST or Fashion-MNIST as a :class:`TensorImageDataset` of ``(1, 28, 28)`` images with class names."""
    key = _check_name(name)
    images, labels = load_mnist(key, split, data_dir, download=download)
    names = FASHION_MNIST_CLASSES if key == "fashion-mnist" else MNIST_CLASSES
    return TensorImageDataset(images.unsqueeze(1), labels, class_names=names)
