"""`genlab gan ...` end to end on tiny data (FID/KID during training, figures), and every bad input."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

import genlab
from genlab.core.tracking import read_metrics
from genlab.gan import losses as gan_losses
from helpers import assert_one_line_error, make_image_folder

FAST = ["--batch-size", "16", "--log-every", "2", "--no-progress", "--no-tensorboard", "--device", "cpu",
        "--g-channels", "8", "--d-channels", "8", "--latent-dim", "16"]


@pytest.fixture(autouse=True)
def private_cache(tmp_path_factory, monkeypatch):
    """Domain classifiers of the tiny test data go to a temporary cache, not the user's."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.getbasetemp() / "cache"))


def train_args(data_dir, out, *extra):
    return ["gan", "train", "--dataset", "mnist", "--data-dir", data_dir, "--out", out, *FAST, *extra]


def test_train_sample_evaluate_with_fid_and_figures(cli, tiny_mnist, tmp_path):
    out = tmp_path / "run"
    code, stdout, err = cli(*train_args(tiny_mnist, out, "--max-steps", "6", "--fid-every", "3", "--fid-samples",
                                        "64", "--sample-every", "3", "--size", "32"))
    assert code == 0, err
    assert "FID" in stdout and "trained 6 steps" in stdout and "raw, not x1000" in stdout
    assert "test accuracy" in err and "all 128 test images" in err  # what FID is measured on, said up front
    assert "warning: FID/KID not meaningful: only 128 reference images" in err  # trial #6: small reference
    rows = read_metrics(out)
    fids = [r["eval/fid"] for r in rows if "eval/fid" in r]
    assert len(fids) == 2 and fids[0] != fids[1]  # the generator moved between the evaluations
    assert all(f > 1.0 for f in fids)  # a 6-step GAN is far from the data (FID of the test set to itself is ~0)
    assert {p.name for p in (out / "figures").iterdir()} == {"losses.png", "fid.png", "samples_over_training.png",
                                                             "interpolation.png"}
    assert Image.open(out / "samples" / "step_000006.png").size == (8 * 34 + 2, 8 * 34 + 2)

    code, stdout, err = cli("gan", "sample", out, "--n", "9", "--output", tmp_path / "s.png", "--seed", "3")
    assert code == 0, err
    assert Image.open(tmp_path / "s.png").size == (3 * 34 + 2, 3 * 34 + 2)
    cli("gan", "sample", out, "--n", "9", "--output", tmp_path / "s2.png", "--seed", "3")
    assert (tmp_path / "s.png").read_bytes() == (tmp_path / "s2.png").read_bytes()  # same seed, same picture
    code, stdout, err = cli("gan", "sample", out, "--n", "9", "--out", tmp_path / "grids", "--no-ema")
    assert code == 0, err
    assert (tmp_path / "grids" / "sample_seed0.png").exists() and "sample_seed0.png" in stdout

    code, stdout, err = cli("gan", "evaluate", out, "--fid-samples", "100")
    assert code == 0, err
    r = json.loads((out / "eval.json").read_text())
    assert r["n_fake"] == 100 and r["n_real"] == 128 and r["reference"] == "all 128 test images"
    assert r["fid"] > 1.0 and r["kid_mean"] > r["kid_std"] > 0
    assert r["meaningful"] is False and any("reference images" in w for w in r["warnings"])  # trial #6
    assert "warning: FID/KID not meaningful" in err and "[not meaningful" in stdout
    assert "FID/KID: 100/100 samples embedded" in err and "\r" not in err  # trial #16: progress, no \r in logs
    assert "not computed" in r["inception_fid"] and "Inception FID: not computed" in stdout  # never a fake number
    again = cli("gan", "evaluate", out, "--fid-samples", "100", "--output", tmp_path / "e.json", "--no-progress")
    assert again[0] == 0 and "samples embedded" not in again[2]
    assert json.loads((tmp_path / "e.json").read_text())["fid"] == r["fid"]  # same seed, same score
    model = genlab.load(out)
    assert isinstance(model, genlab.gan.GAN) and model.sample(2, seed=0).shape == (2, 1, 32, 32)


def test_sample_and_evaluate_outputs_are_checked_before_the_work(cli, tiny_mnist, tmp_path):
    out = tmp_path / "run"
    assert cli(*train_args(tiny_mnist, out, "--max-steps", "2", "--fid-samples", "0"))[0] == 0
    code, _, err = cli("gan", "sample", out, "--out", tmp_path / "x.png")
    assert_one_line_error(code, err, "--out is a folder", "--output")
    code, _, err = cli("gan", "evaluate", out, "--output", tmp_path / "x.png")
    assert_one_line_error(code, err, "--output", ".json")
    code, _, err = cli("gan", "evaluate", out, "--out", tmp_path / "d", "--output", tmp_path / "e.json")
    assert_one_line_error(code, err, "not both")
    assert not (out / "eval.json").exists()


def test_evaluate_refuses_a_reference_too_small_to_mean_anything(cli, tmp_path):
    """Trial #6: a folder run with a handful of held-out images gave "FID 0.18" as if excellent."""
    folder = make_image_folder(tmp_path / "imgs", n_per_class=10)
    out = tmp_path / "run"
    code, _, err = cli("gan", "train", "--dataset", folder, "--size", "32", "--out", out, "--max-steps", "2",
                       "--fid-samples", "16", *FAST[:2], *FAST[4:])
    assert code == 0, err
    assert "FID/KID skipped" in err and "at least 50 reference images" in err
    code, _, err = cli("gan", "evaluate", out, "--fid-samples", "64")
    lines = [line for line in err.splitlines() if "images" not in line or "genlab: error" in line]
    assert_one_line_error(code, "\n".join(lines), "at least 50 reference images")
    assert not (out / "eval.json").exists()


def test_resume_via_cli(cli, tiny_mnist, tmp_path):
    out = tmp_path / "run"
    assert cli(*train_args(tiny_mnist, out, "--max-steps", "3", "--fid-samples", "0"))[0] == 0
    code, stdout, err = cli("gan", "train", "--out", out, "--resume", "--max-steps", "5", "--no-progress")
    assert code == 0, err
    assert "resuming" in err and "trained 2 steps this run (step 3 -> 5)" in stdout
    code, _, err = cli("gan", "train", "--out", out, "--resume", "--loss", "ns")
    assert_one_line_error(code, err, "cannot change --loss when resuming")


def test_rgb_folder_with_mixed_sizes_and_modes_is_resized_and_converted(cli, tmp_path):
    folder = make_image_folder(tmp_path / "imgs", n_per_class=10)
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 255, (50, 70), dtype=np.uint8), mode="L").save(folder / "red" / "grey.png")
    Image.fromarray(rng.integers(0, 255, (20, 20, 4), dtype=np.uint8), mode="RGBA").save(folder / "blue" / "a.png")
    out = tmp_path / "run"
    code, stdout, err = cli("gan", "train", "--dataset", folder, "--size", "32", "--out", out, "--max-steps", "2",
                            "--fid-samples", "0", *FAST[:2], *FAST[4:])
    assert code == 0, err
    assert genlab.load(out).sample(1).shape == (1, 3, 32, 32)


def test_unlabelled_folder_skips_fid_with_a_note(cli, tmp_path):
    folder = tmp_path / "flat"
    folder.mkdir()
    for i in range(20):
        Image.fromarray(np.full((16, 16, 3), i * 10, np.uint8)).save(folder / f"{i}.png")
    code, stdout, err = cli("gan", "train", "--dataset", folder, "--size", "28", "--out", tmp_path / "run",
                            "--max-steps", "2", "--fid-samples", "16", *FAST[:2], *FAST[4:])
    assert code == 0, err
    assert "FID/KID skipped" in err


# ---- bad input ----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("flags,needle", [
    (["--size", "48"], "--size 48 is not supported"),
    (["--n-critic", "0"], "--n-critic must be a whole number >= 1"),
    (["--gp-weight", "-1"], "--gp-weight (the gradient penalty) must be >= 0"),
    (["--r1-gamma", "-1"], "--r1-gamma"),
    (["--r1-gamma", "1", "--r1-every", "0"], "--r1-every must be an integer >= 1"),
    (["--batch-size", "100000"], "fewer than one batch"),
    (["--label-smoothing", "0.1"], "act on the cross-entropy of --loss ns"),
    (["--precision", "fp16"], "fp16"),
    (["--ema-decay", "1.5"], "--ema-decay"),
])
def test_bad_options(cli, tiny_mnist, tmp_path, flags, needle):
    code, _, err = cli(*train_args(tiny_mnist, tmp_path / "run", "--max-steps", "2", "--fid-samples", "0", *flags))
    assert_one_line_error(code, err, needle)


def test_conditional_on_an_unlabelled_folder_and_size_mismatch(cli, tmp_path):
    folder = tmp_path / "flat"
    folder.mkdir()
    for i in range(20):
        Image.fromarray(np.full((16, 16), i * 10, np.uint8)).save(folder / f"{i}.png")
    code, _, err = cli("gan", "train", "--dataset", folder, "--conditional", "--out", tmp_path / "r", *FAST)
    report, err = err.split("\n", 1)  # the data loader's line saying what it found comes first
    assert "20 images, no classes" in report
    assert_one_line_error(code, err, "--conditional needs class labels")
    code, _, err = cli("gan", "train", "--dataset", folder, "--image-size", "32", "--size", "64", "--out",
                       tmp_path / "r", *FAST)
    assert_one_line_error(code, err, "--image-size 32 and --size 64 differ")


def test_nan_loss_names_the_step_and_keeps_the_checkpoint(cli, tiny_mnist, tmp_path, monkeypatch):
    calls = {"n": 0}

    def inf_after_3(real, fake):
        calls["n"] += 1
        loss = gan_losses.hinge_d_loss(real, fake)
        return loss + float("inf") if calls["n"] > 3 else loss

    monkeypatch.setitem(gan_losses.OBJECTIVES, "hinge", (inf_after_3, gan_losses.hinge_g_loss))
    code, _, err = cli(*train_args(tiny_mnist, tmp_path / "run", "--max-steps", "6", "--checkpoint-every", "2",
                                   "--fid-samples", "0"))
    assert_one_line_error(code, err, "discriminator loss became inf at step 4", "step_00000002")


def test_evaluate_on_another_family_and_corrupt_checkpoint(cli, tiny_mnist, tmp_path):
    vae = tmp_path / "vae"
    assert cli("vae", "train", "--dataset", "mnist", "--data-dir", tiny_mnist, "--out", vae, "--max-steps", "2",
               "--batch-size", "16", "--no-progress", "--no-tensorboard")[0] == 0
    code, _, err = cli("gan", "evaluate", vae)
    assert_one_line_error(code, err, "holds a vae model", "not a gan model")
    code, _, err = cli("gan", "sample", tmp_path / "nowhere")
    assert_one_line_error(code, err, "does not exist")

    out = tmp_path / "run"
    assert cli(*train_args(tiny_mnist, out, "--max-steps", "2", "--fid-samples", "0"))[0] == 0
    weights = out / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:1000])
    code, _, err = cli("gan", "sample", out)
    assert_one_line_error(code, err, "corrupt or truncated")
    code, _, err = cli("gan", "evaluate", out, "--fid-samples", "1")
    assert_one_line_error(code, err, "--fid-samples must be an integer >= 2")


def test_inception_fid_is_refused_without_torchmetrics_or_weights(cli, tiny_mnist, tmp_path):
    try:
        import torchmetrics  # noqa: F401
        pytest.skip("torchmetrics is installed: the error path is not reachable without breaking the weights")
    except ImportError:
        pass
    out = tmp_path / "run"
    assert cli(*train_args(tiny_mnist, out, "--max-steps", "2", "--fid-samples", "0"))[0] == 0
    code, _, err = cli("gan", "evaluate", out, "--fid-samples", "50", "--inception")
    assert_one_line_error(code, err, "Inception FID needs torchmetrics")
