"""Fast (feed-forward) style: train on a tiny image folder with the Trainer, resume, apply in one pass."""

from __future__ import annotations

import json

import pytest
import torch

from genlab.core.errors import ConfigError
from genlab.style.fast import FastStyleConfig, FastStyleNet
from helpers import assert_one_line_error

TINY = ["--weights", "random", "--width", "4", "--residual-blocks", "1", "--style-size", "48", "--size", "32",
        "--batch-size", "4", "--no-tensorboard", "--no-progress", "--device", "cpu"]


def test_transformer_shapes_and_range():
    torch.manual_seed(0)
    net = FastStyleNet(FastStyleConfig(style_image="x.png", width=4, residual_blocks=1)).eval()
    y = net.stylize(torch.rand(2, 3, 30, 37))
    assert y.shape == (2, 3, 30, 37) and 0 <= y.min() and y.max() <= 1
    with pytest.raises(ConfigError, match="attach a StyleObjective"):
        net(torch.rand(1, 3, 16, 16))


def test_train_resume_apply_cli(cli, image_folder, photos, tmp_path):
    run = tmp_path / "run"
    args = ["style", "train-fast", "--dataset", image_folder, "--style-image", photos["coffee"], *TINY,
            "--out", run, "--checkpoint-every", "3", "--log-every", "1", "--lr", "0.01"]
    code, out, err = cli(*args, "--steps", "3")
    assert code == 0, err
    assert "NOT pretrained" in out and "trained 3 steps" in out
    code, out, err = cli(*args, "--steps", "6", "--resume")
    assert code == 0, err
    assert "trained 6 steps" in out
    logged = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in logged if "train/loss" in r] == [1, 2, 3, 4, 5, 6]
    code, out, err = cli("style", "apply", run, photos["astronaut"], "--size", "40", "--out", tmp_path / "ap")
    assert code == 0, err
    meta = json.loads((tmp_path / "ap" / "metadata.json").read_text())
    assert meta["weights"]["source"] == "random" and len(meta["model_sha256"]) == 64
    assert (tmp_path / "ap" / "result.png").exists() and (tmp_path / "ap" / "figure.png").exists()


@pytest.mark.parametrize("extra, needles", [
    (["--style-image", "{missing}"], ["does not exist"]),
    ([], ["--style-image is required"]),
    (["--style-image", "{style}", "--style-weight", "-1"], ["--style-weight must be >= 0"]),
    (["--style-image", "{style}", "--steps", "-2"], ["--max-steps must be > 0"]),
    (["--style-image", "{style}", "--size", "0"], ["--image-size must be > 0"]),
])
def test_train_fast_bad_input(cli, image_folder, photos, tmp_path, extra, needles):
    subs = {"{missing}": str(tmp_path / "nope.jpg"), "{style}": str(photos["coffee"])}
    code, _, err = cli("style", "train-fast", "--dataset", image_folder, *TINY, *[subs.get(a, a) for a in extra],
                       "--out", tmp_path / "run")
    assert_one_line_error(code, err, *needles)


def test_apply_bad_input(cli, tmp_path, photos):
    code, _, err = cli("style", "apply", tmp_path / "norun", photos["astronaut"])
    assert_one_line_error(code, err, "does not exist")
