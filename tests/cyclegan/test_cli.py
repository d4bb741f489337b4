"""`genlab cyclegan ...` end to end at toy size, and every bad input as one line and a non-zero exit."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from helpers import assert_one_line_error, make_image_folder
from PIL import Image

TOY = ["--ngf", "4", "--ndf", "4", "--batch-size", "2", "--eval-samples", "0", "--sample-every", "0",
       "--no-tensorboard", "--no-progress", "--generator", "unet"]


@pytest.fixture(scope="module")
def run(tiny_mnist, tmp_path_factory, _cyclegan_cache):
    from genlab.cli import main

    out = tmp_path_factory.mktemp("cg") / "run"
    with pytest.MonkeyPatch.context() as mp:  # module scope: before the per-test cache fixture
        mp.setenv("XDG_CACHE_HOME", str(_cyclegan_cache))
        assert main(["cyclegan", "train", "--data-dir", str(tiny_mnist), "--max-steps", "2", *TOY,
                     "--out", str(out)]) == 0
    return out


def test_train_sample_translate_evaluate(cli, run, tmp_path):
    assert (run / "model.safetensors").exists() and (run / "checkpoints").is_dir()
    code, out, err = cli("cyclegan", "sample", run, "--output", tmp_path / "fig.png")
    assert code == 0, err
    fig = Image.open(tmp_path / "fig.png")
    assert fig.mode == "RGB" and fig.size[0] == 6 * 32 + 7 * 2  # A | G(A) | F(G(A)) | B | F(B) | G(F(B))

    Image.fromarray(np.zeros((40, 40), np.uint8), "L").save(tmp_path / "digit.png")
    code, out, err = cli("cyclegan", "translate", run, tmp_path / "digit.png", "--direction", "a2b",
                         "--out", tmp_path / "tr")
    assert code == 0, err
    assert Image.open(tmp_path / "tr" / "digit_a2b.png").mode == "RGB" and "note" not in err
    code, out, err = cli("cyclegan", "evaluate", run, "--n", "50", "--output", tmp_path / "eval.json")
    assert code == 0, err
    r = json.loads((tmp_path / "eval.json").read_text())
    for d in ("a2b", "b2a"):
        lp = r["label_preservation"][d]
        assert {"accuracy", "source_only", "ceiling", "judge_test_accuracy"} <= set(lp) and lp["n"] == 50
        assert r["fid_kid"][d]["n_fake"] == 50 and "penultimate layer" in r["fid_kid"][d]["features"]
        assert r["steganography"][d]["noise_std"] == 0.01
    assert "label preservation B->A (F)" in out and "steganography a2b" in out and "only 50 images" in err


def test_translate_converts_an_image_of_the_other_mode_with_a_note(cli, run, tmp_path):
    Image.fromarray(np.zeros((32, 32, 3), np.uint8), "RGB").save(tmp_path / "colour.png")
    code, out, err = cli("cyclegan", "translate", run, tmp_path / "colour.png", "--direction", "a2b",
                         "--out", tmp_path / "tr")
    assert code == 0 and "converted to grey" in err
    code, out, err = cli("cyclegan", "translate", run, tmp_path / "missing.png", "--out", tmp_path / "tr")
    assert_one_line_error(code, err, "does not exist")


def _folder(path, n, size=16):
    path.mkdir(parents=True)
    for i in range(n):
        Image.fromarray(np.full((size, size, 3), 40 * i % 255, np.uint8)).save(path / f"{i}.png")
    return path


def test_bad_domains(cli, tmp_path, image_folder):
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "notes.txt").write_text("x")
    code, _, err = cli("cyclegan", "train", "--domain-a", tmp_path / "empty", "--domain-b", image_folder, *TOY,
                       "--size", "32", "--out", tmp_path / "r1")
    assert_one_line_error(code, err, "no images in")
    few = _folder(tmp_path / "few", 3)
    code, _, err = cli("cyclegan", "train", "--domain-a", few, "--domain-b", image_folder, *TOY, "--size", "32",
                       "--batch-size", "8", "--out", tmp_path / "r2")
    assert_one_line_error(code, err, "fewer than one batch of 8")
    code, _, err = cli("cyclegan", "train", "--domain-a", tmp_path / "nowhere", "--domain-b", image_folder, *TOY,
                       "--out", tmp_path / "r3")
    assert_one_line_error(code, err, "does not exist")


def test_identical_domains_warn_and_train(cli, tmp_path, image_folder):
    code, out, err = cli("cyclegan", "train", "--domain-a", image_folder, "--domain-b", image_folder, *TOY,
                         "--generator", "resnet", "--size", "16", "--max-steps", "1", "--out", tmp_path / "same")
    assert code == 0, err
    assert "warning: domains A and B are the same images" in err


def test_grey_a_rgb_b_with_identity_loss_and_unet_size(cli, tmp_path, tiny_mnist, image_folder):
    code, _, err = cli("cyclegan", "train", "--data-dir", tiny_mnist, "--lambda-identity", "2", *TOY,
                       "--out", tmp_path / "r")
    assert_one_line_error(code, err, "needs equal channels", "--lambda-identity 0", "--channels-a 3")
    code, _, err = cli("cyclegan", "train", "--domain-a", image_folder, "--domain-b", image_folder, *TOY,
                       "--size", "40", "--out", tmp_path / "r2")
    assert_one_line_error(code, err, "multiple of 16", "--unet-depth")
    code, _, err = cli("cyclegan", "train", "--domain-a", image_folder, "--domain-b", image_folder, *TOY,
                       "--size", "16", "--out", tmp_path / "r4")
    assert_one_line_error(code, err, "too small for the U-Net", "at least 32")
    code, _, err = cli("cyclegan", "train", "--data-dir", tiny_mnist, "--size", "64", *TOY, "--out", tmp_path / "r3")
    assert_one_line_error(code, err, "32x32")


def test_a_run_of_another_family_and_a_corrupt_checkpoint(cli, run, tmp_path):
    from genlab.features.domain import ClassifierConfig, DomainClassifier

    DomainClassifier(ClassifierConfig()).save_pretrained(tmp_path / "other")
    for verb in ("evaluate", "sample"):
        code, _, err = cli("cyclegan", verb, tmp_path / "other")
        assert_one_line_error(code, err, "not a cyclegan model")
    broken = tmp_path / "broken"
    shutil.copytree(run, broken)
    weights = broken / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:100])
    code, _, err = cli("cyclegan", "evaluate", broken)
    assert_one_line_error(code, err, "corrupt or truncated")
    code, _, err = cli("cyclegan", "sample", run, "--out", tmp_path / "fig.png")
    assert_one_line_error(code, err, "looks like a file name", "--output")


def test_nan_loss_stops_and_keeps_the_last_good_checkpoint(cli, tmp_path, tiny_mnist, monkeypatch):
    import torch

    import genlab.cyclegan.trainer as trainer

    calls = {"n": 0}
    real = trainer.cycle_loss

    def cycle_loss(a, b):
        calls["n"] += 1
        return real(a, b) if calls["n"] <= 4 else torch.tensor(float("nan"))  # two calls per step: NaN at step 3

    monkeypatch.setattr(trainer, "cycle_loss", cycle_loss)
    code, _, err = cli("cyclegan", "train", "--data-dir", tiny_mnist, *TOY, "--max-steps", "5",
                       "--checkpoint-every", "2", "--out", tmp_path / "nan")
    assert code == 3 and "Traceback" not in err
    last = err.strip().splitlines()[-1]  # after the run's own progress lines (what was loaded)
    assert last.startswith("genlab: error: generator loss became nan at step 3") and "step_00000002" in last
    assert (tmp_path / "nan" / "checkpoints" / "step_00000002" / "model.safetensors").exists()


def test_resume_through_the_cli(cli, run, tmp_path):
    copy = tmp_path / "run"
    shutil.copytree(run, copy)
    code, out, err = cli("cyclegan", "train", "--out", copy, "--resume", "--max-steps", "3", "--no-progress")
    assert code == 0, err
    assert "step 2 -> 3" in out and "--max-steps 2 -> 3" in err
    code, _, err = cli("cyclegan", "train", "--out", copy, "--resume", "--generator", "resnet")
    assert_one_line_error(code, err, "cannot change --generator")
