"""`genlab dream` / `genlab visualize` through the CLI: a real run, and every bad input as one line."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from helpers import assert_one_line_error

FAST = ["--model", "vgg16", "--weights", "random", "--layers", "block2_conv2:1", "--octaves", "2",
        "--steps-per-octave", "2", "--size", "32", "--no-progress", "--device", "cpu"]


def test_dream_cli_runs(cli, photos, tmp_path):
    code, out, err = cli("dream", "run", photos["astronaut"], *FAST, "--max-loss", "none", "--out", tmp_path / "d")
    assert code == 0, err
    assert "NOT pretrained" in out and "dreamed 4 of 4 steps" in out
    meta = json.loads((tmp_path / "d" / "metadata.json").read_text())
    assert meta["config"]["max_loss"] is None and meta["model"] == "vgg16"


def test_visualize_cli_runs(cli, tmp_path):
    code, out, err = cli("visualize", "run", "block1_conv2", "--model", "vgg16", "--weights", "random",
                         "--channels", "0-1",
                         "--size", "24", "--iterations", "2", "--no-progress", "--out", tmp_path / "v")
    assert code == 0, err
    assert (tmp_path / "v" / "filters.png").exists()


@pytest.mark.parametrize("kind", ["cmyk", "rgba", "16bit", "animated", "grey"])
def test_odd_image_modes_are_converted(cli, tmp_path, kind):
    """Every mode becomes 40x40 RGB in [0, 1] with the right values: 16-bit scaled by 65535 (not clipped at 255),
    alpha composited onto white, grey copied to three channels. Zero dream steps hand back the converted input
    (the octave algebra is the identity then), so dream.png shows exactly what the network was given."""
    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 255, (40, 40, 3), dtype=np.uint8)
    alpha = rng.integers(0, 255, (40, 40), dtype=np.uint8)
    path = tmp_path / f"img_{kind}.png"
    if kind == "cmyk":
        path = path.with_suffix(".jpg")
        Image.fromarray(rgb).convert("CMYK").save(path, quality=95)
        expected, tol = rgb.astype(float), 16  # JPEG is lossy
    elif kind == "rgba":
        Image.fromarray(np.dstack([rgb, alpha])).save(path)
        a = alpha[..., None] / 255.0
        expected, tol = rgb * a + 255 * (1 - a), 1
    elif kind == "16bit":
        Image.fromarray((rgb[..., 0].astype(np.uint16) * 257)).save(path)
        expected, tol = np.repeat(rgb[..., :1], 3, axis=2).astype(float), 1
    elif kind == "animated":
        path = path.with_suffix(".gif")
        frames = [Image.fromarray(rgb), Image.fromarray(255 - rgb)]
        frames[0].save(path, save_all=True, append_images=frames[1:])
        expected, tol = rgb.astype(float), 16  # the first frame, through a 256-colour palette
    else:
        Image.fromarray(rgb[..., 0]).save(path)
        expected, tol = np.repeat(rgb[..., :1], 3, axis=2).astype(float), 1
    fast = [a for a in FAST if a not in ("--size", "32")]
    code, out, err = cli("dream", "run", path, *fast, "--octaves", "1", "--steps-per-octave", "0",
                         "--out", tmp_path / "d")
    assert code == 0, err
    got = np.asarray(Image.open(tmp_path / "d" / "dream.png")).astype(float)
    assert got.shape == (40, 40, 3)
    diff = np.abs(got - expected)
    if tol == 1:
        assert diff.max() <= 1, diff.max()
    else:
        assert diff.mean() < tol, diff.mean()  # measured: 11 (GIF palette; 128 for the 2nd frame), 1.5 (JPEG q95)


def _bad_files(tmp_path):
    (tmp_path / "notes.txt").write_text("not an image")
    png = tmp_path / "ok.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (20, 20, 3), dtype=np.uint8)).save(png)
    data = png.read_bytes()
    (tmp_path / "trunc.png").write_bytes(data[: len(data) // 2])
    return png


@pytest.mark.parametrize("args, needles", [
    (["{missing}"], ["does not exist"]),
    (["{txt}"], ["is not an image"]),
    (["{trunc}"], ["corrupt or truncated"]),
    (["{png}", "--max-pixels", "100"], ["above the limit"]),
    (["{png}", "--layers", "mixed9:1"], ["unknown layer 'mixed9' for vgg16; valid:", "block1_conv1"]),
    (["{png}", "--layers", "block1_conv1:-1"], ["weight of block1_conv1 must be a finite number >= 0"]),
    (["{png}", "--steps-per-octave", "-1"], ["--steps-per-octave must be an integer >= 0"]),
    (["{png}", "--size", "0"], ["--size must be an integer >= 8"]),
    (["{png}", "--octaves", "0"], ["--octaves must be an integer >= 1"]),
    (["{png}", "--weights", "{txt}"], ["is not a readable state_dict file"]),
    (["{png}", "--weights", "imagenet"], ["not in the cache and GENLAB_OFFLINE is set; put vgg16-397923af.pth"]),
    (["{png}", "--model", "alexnet"], ["unknown feature network 'alexnet'"]),
])
def test_dream_bad_input_is_one_line(cli, tmp_path, monkeypatch, args, needles):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    png = _bad_files(tmp_path)
    subs = {"{missing}": str(tmp_path / "nope.png"), "{txt}": str(tmp_path / "notes.txt"),
            "{trunc}": str(tmp_path / "trunc.png"), "{png}": str(png)}
    argv = [subs.get(a, a) for a in args]
    base = [a for a in FAST if a not in ("--weights", "random")] if "--weights" in argv else FAST
    if "--layers" in argv:
        i = base.index("--layers")
        base = base[:i] + base[i + 2:]
    code, _, err = cli("dream", "run", *base, *argv, "--out", tmp_path / "d")  # argv last: its options win
    assert_one_line_error(code, err, *needles)


def test_weights_file_of_another_architecture_via_cli(cli, tmp_path, photos):
    import torch
    from features.imageopt import torchvision_state_dict
    from genlab.features import load_feature_network

    path = tmp_path / "googlenet.pth"
    torch.save(torchvision_state_dict(load_feature_network("googlenet", weights="random", layers=["conv1"])), path)
    code, out, err = cli("dream", "run", photos["astronaut"], *[a if a != "random" else str(path) for a in FAST])
    assert_one_line_error(code, err, "does not fit vgg16", "unexpected keys")
    code, out, err = cli("visualize", "run", "nolayer", "--model", "vgg16", "--weights", "random", "--size", "24")
    assert_one_line_error(code, err, "unknown layer 'nolayer'")
