"""Shared by the image-optimisation tests (features, dream, style): one CPU thread, small photos, helpers."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image


@pytest.fixture(autouse=True)
def _one_thread():
    # These tests run tiny convolutions (32-64 px) where two OpenMP threads on a shared 2-core machine are up to 8x
    # slower than one (spin-waiting against other processes); restore the setting afterwards.
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def photos(tmp_path_factory):
    """scikit-image's bundled astronaut / coffee / chelsea photos as small PNG/JPEG files."""
    from skimage import data

    root = tmp_path_factory.mktemp("photos")
    paths = {}
    for name, fmt in (("astronaut", "png"), ("coffee", "jpg"), ("chelsea", "png")):
        img = Image.fromarray(getattr(data, name)())
        img.thumbnail((96, 96))
        paths[name] = root / f"{name}.{fmt}"
        img.save(paths[name])
    return paths


def random_image(size: int = 40, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.rand(1, 3, size, size, generator=g)


def torchvision_state_dict(net) -> dict[str, torch.Tensor]:
    """A FeatureNetwork's weights under torchvision's key names (``features.0.weight``, ``Mixed_5b.branch1x1...``)."""
    out = {}
    for name, module in zip(net.names, net.body, strict=True):
        for k, v in module.state_dict().items():
            out[f"{name}.{k}"] = v.clone().contiguous()
    return out


def save_png(path, array) -> None:
    Image.fromarray(np.asarray(array)).save(path)
