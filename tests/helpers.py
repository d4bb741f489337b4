"""Plain helpers shared by tests (importable: pytest puts tests/ on sys.path)."""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"


def write_idx(path: Path, array: np.ndarray) -> Path:
    """Write ``array`` (uint8) as a gzipped IDX file, the MNIST format."""
    header = struct.pack(">BBBB", 0, 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    with gzip.open(path, "wb") as f:
        f.write(header + array.astype(np.uint8).tobytes())
    return path


def synthetic_digits(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """MNIST-shaped, learnable data: 10 fixed blob templates (one per class) plus a little noise."""
    rng = np.random.default_rng(1234)
    yy, xx = np.mgrid[0:28, 0:28]
    templates = []
    for _ in range(10):
        img = np.zeros((28, 28))
        for _ in range(3):
            cy, cx, r = rng.uniform(6, 22), rng.uniform(6, 22), rng.uniform(2.5, 5)
            img += np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * r * r))
        templates.append(np.clip(img, 0, 1))
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 10, size=n)
    images = np.stack([templates[k] for k in labels]) + rng.normal(0, 0.05, size=(n, 28, 28))
    return (np.clip(images, 0, 1) * 255).astype(np.uint8), labels.astype(np.uint8)


def make_mnist_dir(root: Path, n_train: int = 512, n_test: int = 128) -> Path:
    """A folder holding the four MNIST IDX .gz files, filled with :func:`synthetic_digits`."""
    root.mkdir(parents=True, exist_ok=True)
    x, y = synthetic_digits(n_train, seed=1)
    write_idx(root / "train-images-idx3-ubyte.gz", x)
    write_idx(root / "train-labels-idx1-ubyte.gz", y)
    x, y = synthetic_digits(n_test, seed=2)
    write_idx(root / "t10k-images-idx3-ubyte.gz", x)
    write_idx(root / "t10k-labels-idx1-ubyte.gz", y)
    return root


def make_image_folder(root: Path, n_per_class: int = 12, size: int = 40) -> Path:
    """RGB PNGs in two class sub-folders (red and blue squares on white)."""
    from PIL import Image

    rng = np.random.default_rng(0)
    for cls, colour in (("red", (220, 40, 40)), ("blue", (40, 40, 220))):
        (root / cls).mkdir(parents=True, exist_ok=True)
        for i in range(n_per_class):
            img = np.full((size, size, 3), 255, np.uint8)
            y, x = rng.integers(0, size // 2, 2)
            img[y:y + size // 2, x:x + size // 2] = colour
            Image.fromarray(img).save(root / cls / f"{i:03d}.png")
    return root


def assert_one_line_error(code: int, err: str, *needles: str) -> None:
    """The contract for user errors: non-zero exit, exactly one line on stderr, no traceback."""
    assert code != 0, err
    lines = [line for line in err.strip().splitlines() if line.strip()]
    assert len(lines) == 1, f"expected one error line, got:\n{err}"
    assert lines[0].startswith("genlab: error: "), lines[0]
    assert "Traceback" not in err
    for needle in needles:
        assert needle in lines[0], f"{needle!r} not in {lines[0]!r}"


def one_line(err, *words: str) -> str:
    """For ``pytest.raises(...) as err``: the error message is one line and contains every word."""
    msg = str(err.value)
    assert "\n" not in msg, msg
    for w in words:
        assert w in msg, msg
    return msg
