"""Fast (feed-forward) style: train on a tiny image folder with the Trainer, resume, apply in one pass."""

from __future__ import annotations

import json

import pytest
import torch

from genlab.core.errors import ConfigError
from genlab.imageopt.fast_style import FastStyleConfig, FastStyleNet
from helpers import REPO, assert_one_line_error

TINY = ["--loss-network-weights", "random", "--width", "4", "--residual-blocks", "1", "--style-size", "48",
        "--image-size", "32", "--batch-size", "4", "--no-tensorboard", "--no-progress", "--device", "cpu"]
LEGACY = REPO / "tests" / "fixtures" / "legacy_runs" / "fast-style"


def test_transformer_shapes_and_range():
    """The network is only the image transformer: forward stylises (the objective lives in FastStyleTrainer)."""
    torch.manual_seed(0)
    net = FastStyleNet(FastStyleConfig(width=4, residual_blocks=1)).eval()
    y = net(torch.rand(2, 3, 30, 37))
    assert y.shape == (2, 3, 30, 37) and 0 <= y.min() and y.max() <= 1
    assert not hasattr(net, "objective")
    assert net.config_dict()["config"] == {"width": 4, "residual_blocks": 1}  # no training knobs saved


def test_a_run_saved_before_the_config_split_loads_and_keeps_its_objective(tmp_path, photos):
    """tests/fixtures/legacy_runs/fast-style saved the loss options inside the model config: it still loads, its
    objective is read back as StyleLossConfig, and re-saving keeps the old fields."""
    import genlab
    from genlab.imageopt.fast_style import StyleLossConfig, apply

    model = genlab.load(LEGACY)
    assert isinstance(model, FastStyleNet) and model.config.width == 4
    loss = StyleLossConfig(**model.config.legacy_loss())
    assert loss.loss_network == "vgg16" and loss.loss_network_weights == "random" and loss.style_weight == 1e6
    model.save_pretrained(tmp_path / "again")
    assert json.loads((tmp_path / "again" / "config.json").read_text())["config"]["style_image"].endswith("000.png")
    out = apply(LEGACY, photos["astronaut"], out=tmp_path / "ap", size=24, device="cpu")
    meta = json.loads((tmp_path / "ap" / "metadata.json").read_text())
    assert out == tmp_path / "ap" / "result.png" and meta["options"]["style_image"].endswith("000.png")


def test_train_resume_apply_cli(cli, image_folder, photos, tmp_path):
    run = tmp_path / "run"
    args = ["style", "train", "--dataset", image_folder, "--style-image", photos["coffee"], *TINY,
            "--out", run, "--checkpoint-every", "3", "--log-every", "1", "--lr", "0.01"]
    code, out, err = cli(*args, "--max-steps", "3")
    assert code == 0, err
    assert "NOT pretrained" in out and "trained 3 steps" in out
    saved = json.loads((run / "train_config.json").read_text())
    assert saved["options"]["style_image"] == str(photos["coffee"]) and saved["options"]["loss_network"] == "vgg16"
    assert "style_image" not in json.loads((run / "config.json").read_text())["config"]
    code, _, err = cli(*args[:5], photos["astronaut"], *args[6:], "--max-steps", "6", "--resume")
    assert_one_line_error(code, err, "cannot change --style-image when resuming")
    code, out, err = cli(*args, "--max-steps", "6", "--style-weight", "2e6", "--resume")
    assert code == 0, err
    assert "step 3 -> 6" in out
    assert json.loads((run / "train_config.json").read_text())["options"]["style_weight"] == 2e6
    logged = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in logged if "train/loss" in r] == [1, 2, 3, 4, 5, 6]
    code, out, err = cli("style", "apply", run, photos["astronaut"], "--size", "40", "--out", tmp_path / "ap")
    assert code == 0, err
    meta = json.loads((tmp_path / "ap" / "metadata.json").read_text())
    assert meta["weights"]["source"] == "random" and len(meta["model_sha256"]) == 64
    assert (tmp_path / "ap" / "result.png").exists() and (tmp_path / "ap" / "figure.png").exists()
    code, out, err = cli("style", "evaluate", run, "--device", "cpu")
    assert code == 0, err
    ev = json.loads((run / "eval.json").read_text())
    assert ev["split"] == "test" and ev["images"] == 2 and "2 held-out photos" in out
    w = ev["weights"]  # the total is the training objective: the weighted sum of its terms
    assert ev["loss"] == pytest.approx(w["content"] * ev["content"] + w["style"] * ev["style"] + w["tv"] * ev["tv"],
                                       rel=1e-4)


@pytest.mark.parametrize("extra, needles", [
    (["--style-image", "{missing}"], ["does not exist"]),
    ([], ["--style-image is required"]),
    (["--style-image", "{style}", "--style-weight", "-1"], ["--style-weight must be >= 0"]),
    (["--style-image", "{style}", "--max-steps", "-2"], ["--max-steps must be > 0"]),
    (["--style-image", "{style}", "--image-size", "0"], ["--image-size must be > 0"]),
])
def test_train_fast_bad_input(cli, image_folder, photos, tmp_path, extra, needles):
    subs = {"{missing}": str(tmp_path / "nope.jpg"), "{style}": str(photos["coffee"])}
    code, _, err = cli("style", "train", "--dataset", image_folder, *TINY, *[subs.get(a, a) for a in extra],
                       "--out", tmp_path / "run")
    assert_one_line_error(code, err, *needles)


def test_train_needs_a_photo_folder(cli, photos, tmp_path):
    """--dataset has no default (it was mnist, grey digits, for a photo style network)."""
    code, _, err = cli("style", "train", "--style-image", photos["coffee"], *TINY, "--out", tmp_path / "run")
    assert_one_line_error(code, err, "--dataset FOLDER")
    code, _, err = cli("style", "train", "--dataset", "mnist", "--style-image", photos["coffee"], *TINY,
                       "--out", tmp_path / "run")
    assert_one_line_error(code, err, "folder of RGB photos")


def test_apply_bad_input(cli, tmp_path, photos):
    code, _, err = cli("style", "apply", tmp_path / "norun", photos["astronaut"])
    assert_one_line_error(code, err, "does not exist")


def test_the_first_releases_call_still_trains(image_folder, photos, tmp_path):
    """train_fast(FastStyleConfig(style_image=..., weights=...), data, train): the loss options it put in the model
    config become the run's options, and the saved network config is the network's only."""
    from genlab.core.engine import TrainConfig
    from genlab.data.datasets import ImageDataConfig
    from genlab.style import train_fast

    cfg = FastStyleConfig(style_image=str(photos["coffee"]), weights="random", width=4, residual_blocks=1,
                          style_size=48)
    r = train_fast(cfg, ImageDataConfig(str(image_folder), image_size=32),
                   TrainConfig(max_steps=1, batch_size=2, progress=False, tensorboard=False, device="cpu"),
                   out=tmp_path / "r")
    saved = json.loads((r.run_dir / "train_config.json").read_text())
    assert saved["options"]["loss_network_weights"] == "random" and saved["options"]["style_size"] == 48
    assert json.loads((r.run_dir / "config.json").read_text())["config"] == {"width": 4, "residual_blocks": 1}
