"""`genlab style CONTENT STYLE...` through the CLI: a real run, and every bad input as one line."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from helpers import assert_one_line_error

FAST = ["--weights", "random", "--size", "32", "--evaluations", "3", "--no-progress"]


def test_style_cli_runs(cli, photos, tmp_path):
    code, out, err = cli("style", "run", photos["astronaut"], photos["coffee"], photos["chelsea"], *FAST,
                         "--style-blend", "0.7,0.3", "--preserve-color", "--out", tmp_path / "s")
    assert code == 0, err
    assert "NOT pretrained" in out and "3 loss evaluations" in out
    assert (tmp_path / "s" / "figure.png").exists()


def test_style_help(cli):
    code, out, _ = cli("style", "-h")
    assert code == 0 and all(verb in out for verb in ("run", "train", "apply"))
    code, out, _ = cli("style", "run", "-h")
    assert code == 0 and "--style-weight" in out and "--evaluations" in out and "--steps" not in out


@pytest.mark.parametrize("args, needles", [
    (["{missing}", "{png}"], ["does not exist"]),
    (["{png}", "{txt}"], ["is not an image"]),
    (["{png}", "{png}", "--max-pixels", "10"], ["above the limit"]),
    (["{png}", "{png}", "--content-layer", "mixed4"], ["unknown layer 'mixed4' for vgg19; valid:"]),
    (["{png}", "{png}", "--style-layers", "block1_conv1:-1"], ["--style-layers weight of block1_conv1"]),
    (["{png}", "{png}", "--style-weight", "-3"], ["--style-weight must be >= 0"]),
    (["{png}", "{png}", "--evaluations", "-1"], ["--evaluations must be an integer >= 0"]),
    (["{png}", "{png}", "--size", "0"], ["--size must be an integer >= 8"]),
    (["{png}", "{png}", "--style-blend", "1,1"], ["--style-blend has 2 weights for 1 style images"]),
    (["{png}", "{png}", "--weights", "imagenet"], ["put vgg19-dcbb9e9d.pth"]),
    (["{png}", "{png}", "--weights", "{txt}"], ["is not a readable state_dict file"]),
])
def test_style_bad_input_is_one_line(cli, tmp_path, monkeypatch, args, needles):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    (tmp_path / "notes.txt").write_text("hello")
    png = tmp_path / "ok.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (24, 24, 3), dtype=np.uint8)).save(png)
    subs = {"{missing}": str(tmp_path / "nope.png"), "{txt}": str(tmp_path / "notes.txt"), "{png}": str(png)}
    code, _, err = cli("style", "run", *FAST, *[subs.get(a, a) for a in args], "--out", tmp_path / "s")
    assert_one_line_error(code, err, *needles)
