"""Slow tier for style transfer: a fast style network trained on scikit-image's bundled photos, and Gatys at
128 px (random VGG weights: ImageNet weights cannot be downloaded here; the losses still must fall)."""

from __future__ import annotations

import json

import pytest
from PIL import Image

pytestmark = pytest.mark.slow

PHOTOS = ("astronaut", "coffee", "chelsea", "rocket", "camera", "immunohistochemistry", "hubble_deep_field",
          "retina", "colorwheel")


@pytest.fixture(scope="module")
def photo_folder(tmp_path_factory):
    from skimage import data

    root = tmp_path_factory.mktemp("skimage_photos")
    for name in PHOTOS:
        img = Image.fromarray(getattr(data, name)())
        img.thumbnail((128, 128))
        img.convert("RGB").save(root / f"{name}.png")
    return root


def test_fast_style_network_learns_the_style(photo_folder, tmp_path):
    from genlab.core.engine import TrainConfig
    from genlab.data.datasets import ImageDataConfig
    from genlab.style import FastStyleConfig, StyleLossConfig, apply, train

    cfg = FastStyleConfig(width=8, residual_blocks=2)
    loss = StyleLossConfig(style_image=str(photo_folder / "chelsea.png"), loss_network_weights="random", style_size=64)
    train_config = TrainConfig(max_steps=80, batch_size=4, lr=5e-3, progress=False, tensorboard=False, log_every=1,
                        sample_every=40, checkpoint_every=80, device="cpu")
    result = train(cfg, ImageDataConfig(str(photo_folder), image_size=64, holdout=0.15), train_config, loss,
                   out=tmp_path / "r")
    losses = [json.loads(line)["train/loss"] for line in (result.run_dir / "metrics.jsonl").read_text().splitlines()
              if "train/loss" in line]
    first, last = sum(losses[:5]) / 5, sum(losses[-5:]) / 5
    print(f"fast style: mean loss of the first 5 steps {first:.4g}, of the last 5 {last:.4g}")
    # Measured: mean loss of the first 5 steps 3.63, of the last 5 0.67 (5.4x lower) after 80 steps.
    assert last < first / 3, (first, last)
    out = apply(result.run_dir, photo_folder / "astronaut.png", out=tmp_path / "apply", size=96, device="cpu")
    assert Image.open(out).size == (96, 96)


def test_gatys_128px_loss_falls_by_10x(photo_folder, tmp_path):
    from genlab.style import StyleConfig, style_transfer

    cfg = StyleConfig(weights="random", size=128, evaluations=60, device="cpu")
    r = style_transfer(photo_folder / "astronaut.png", [photo_folder / "coffee.png"], cfg, out=tmp_path / "s",
                       progress=False)
    print(f"gatys 128 px: {r.losses[0]:.4g} -> {r.final_loss:.4g}")
    # Measured: 16.6 -> 0.092 (180x) in 60 L-BFGS evaluations.
    assert r.final_loss < r.losses[0] / 10, (r.losses[0], r.final_loss)
