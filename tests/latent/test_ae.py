"""The plain autoencoder: losses on numbers, training with falling loss, the fitted code Gaussian, save/load, CLI."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch
from PIL import Image

import genlab
from genlab.ae import AEConfig, Autoencoder, reconstruction_loss, squared_error, train
from genlab.core.engine import TrainConfig
from genlab.core.tracking import read_metrics
from genlab.data.datasets import ImageDataConfig
from helpers import assert_one_line_error

FAST = ["--batch-size", "32", "--log-every", "2", "--no-progress", "--no-tensorboard", "--device", "cpu",
        "--warmup-steps", "0", "--hidden-dims", "64"]


def tiny_train(**kw) -> TrainConfig:
    return TrainConfig(**{"batch_size": 32, "warmup_steps": 0, "progress": False, "tensorboard": False,
                          "sample_every": 0, "log_every": 5, "device": "cpu", "lr": 3e-3, **kw})


def test_losses_on_hand_computed_numbers():
    logits = torch.tensor([[0.0, 2.0]])
    target = torch.tensor([[1.0, 0.0]])
    s = 1 / (1 + math.exp(-2.0))
    assert squared_error(logits, target).item() == pytest.approx((0.5 - 1) ** 2 + s ** 2)
    bce = -math.log(0.5) - math.log(1 - s)
    assert reconstruction_loss(logits, target, "bce").item() == pytest.approx(bce, rel=1e-6)
    with pytest.raises(ValueError):
        reconstruction_loss(logits, target, "l1")


def test_trains_with_falling_loss_and_round_trips(tiny_mnist, tmp_path):
    data = ImageDataConfig("mnist", data_dir=str(tiny_mnist))
    result = train(AEConfig(latent_dim=4, hidden_dims=(64,)), data, tiny_train(max_steps=40), out=tmp_path / "run")
    losses = [r["train/loss"] for r in read_metrics(tmp_path / "run") if "train/loss" in r]
    assert losses[-1] < 0.8 * losses[0], losses
    assert result.eval_metrics["eval/bce"] < 0.8 * 543.4  # untrained: ~784 log 2
    model = genlab.load(tmp_path / "run")
    assert isinstance(model, Autoencoder) and int(model.code_count) == 512  # fitted on the whole training set
    x = torch.rand(3, 1, 28, 28)
    again = Autoencoder(model.config)
    again.load_state_dict(model.state_dict())
    assert torch.equal(again.eval().reconstruct(x), model.reconstruct(x))
    model.save_pretrained(tmp_path / "saved")
    loaded = genlab.load(tmp_path / "saved")
    assert torch.equal(loaded.code_cov, model.code_cov) and torch.equal(loaded.reconstruct(x), model.reconstruct(x))
    assert torch.equal(loaded.sample(5, seed=1), model.sample(5, seed=1))


def test_code_gaussian_is_the_mean_and_covariance_of_the_codes():
    torch.manual_seed(0)
    model = Autoencoder(AEConfig(latent_dim=3, hidden_dims=(16,))).eval()
    images = torch.rand(200, 1, 28, 28)
    model.fit_code_distribution(images, batch_size=64)
    codes = model.encode_latent(images).double()
    assert torch.allclose(model.code_mean.double(), codes.mean(0), atol=1e-5)
    assert torch.allclose(model.code_cov.double(), torch.cov(codes.T), atol=1e-5)
    z = model.sample_latent(20000, torch.Generator().manual_seed(0)).double()
    assert torch.allclose(z.mean(0), codes.mean(0), atol=0.05 * float(codes.std(0).max()))
    assert torch.allclose(torch.cov(z.T), torch.cov(codes.T), atol=0.05 * float(torch.cov(codes.T).abs().max()))


def test_unfitted_autoencoder_cannot_sample():
    with pytest.raises(genlab.ConfigError, match="no fitted code distribution"):
        Autoencoder(AEConfig(latent_dim=2, hidden_dims=(8,))).sample(2)


def test_cli_train_sample_evaluate_resume(cli, tiny_mnist, tmp_path):
    out = tmp_path / "run"
    code, stdout, err = cli("ae", "train", "--dataset", "mnist", "--data-dir", tiny_mnist, "--out", out, *FAST,
                            "--max-steps", "10", "--latent-dim", "2", "--checkpoint-every", "5", "--sample-every", "5",
                            "--recon-loss", "mse")
    assert code == 0, err
    assert "test reconstruction: BCE" in stdout and str(out) in stdout
    assert Image.open(out / "samples" / "step_000005.png").size == (8 * 30 + 2, 8 * 30 + 2)
    code, stdout, err = cli("ae", "sample", out, "--n", "4", "--output", tmp_path / "s.png")
    assert code == 0, err
    assert "Gaussian fitted to the training codes" in stdout and stdout.strip().endswith(str(tmp_path / "s.png"))
    assert Image.open(tmp_path / "s.png").size == (2 * 30 + 2, 2 * 30 + 2)
    code, stdout, err = cli("ae", "evaluate", out)
    assert code == 0, err
    r = json.loads((out / "eval.json").read_text())
    assert r["num_images"] == 128 and r["model_type"] == "ae" and 0 < r["mse"] < 1 and r["bce"] > 0
    assert r["bce"] == pytest.approx(read_metrics(out)[-1]["eval/bce"], rel=1e-5)
    code, stdout, err = cli("ae", "train", "--out", out, "--resume", "--max-steps", "14", "--no-progress")
    assert code == 0, err
    assert "resuming" in err and "(step 10 -> 14)" in stdout
    code, _, err = cli("ae", "train", "--out", out, "--resume", "--latent-dim", "8")
    assert_one_line_error(code, err, "cannot change --latent-dim when resuming")


def test_conv_autoencoder_on_a_mixed_mode_image_folder(cli, tmp_path):
    # RGBA, LA, L, P (palette), P with transparency, 1-bit, 16-bit grey, CMYK JPEG, RGB: all must load as RGB.
    folder = tmp_path / "mixed"
    folder.mkdir()
    rng = np.random.default_rng(0)
    base = rng.integers(0, 255, (24, 20, 3), dtype=np.uint8)
    rgb = Image.fromarray(base, "RGB")
    rgb.convert("RGBA").save(folder / "rgba.png")
    rgb.convert("LA").save(folder / "la.png")
    rgb.convert("L").save(folder / "grey.png")
    rgb.convert("P").save(folder / "palette.png")
    pt = rgb.convert("P")
    pt.info["transparency"] = 0
    pt.save(folder / "palette_t.png", transparency=0)
    rgb.convert("1").save(folder / "bw.png")
    Image.fromarray(base[..., 0].astype(np.uint16) * 257).save(folder / "grey16.png")
    rgb.convert("CMYK").save(folder / "cmyk.jpg")
    rgb.save(folder / "rgb.bmp")
    for i in range(3):
        rgb.save(folder / f"extra{i}.png")
    from genlab.data.datasets import load_image_dataset
    train_split = load_image_dataset(ImageDataConfig(str(folder), image_size=16), "train")
    assert train_split.images.shape[1:] == (3, 16, 16) and train_split.images.dtype == torch.uint8
    out = tmp_path / "run"
    code, stdout, err = cli("ae", "train", "--dataset", folder, "--image-size", "16", "--arch", "conv", "--out", out,
                            "--max-steps", "3", "--batch-size", "4", "--no-progress", "--no-tensorboard")
    assert code == 0, err
    model = genlab.load(out)
    assert model.image_shape == (3, 16, 16) and model.sample(2, seed=0).shape == (2, 3, 16, 16)


# ---- bad input ----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("flags,needle", [
    (["--latent-dim", "0"], "--latent-dim must be an integer >= 1"),
    (["--hidden-dims", "0"], "--hidden-dims must be one or more integers >= 1"),
    (["--arch", "conv", "--conv-channels", "8", "8", "8"], "divisible by 8"),
])
def test_bad_options(cli, tiny_mnist, tmp_path, flags, needle):
    code, _, err = cli("ae", "train", "--dataset", "mnist", "--data-dir", tiny_mnist, "--out", tmp_path / "r", *FAST,
                       "--max-steps", "2", *flags)
    assert_one_line_error(code, err, needle)


def test_corrupt_checkpoint(cli, tiny_mnist, tmp_path):
    out = tmp_path / "run"
    assert cli("ae", "train", "--dataset", "mnist", "--data-dir", tiny_mnist, "--out", out, *FAST,
               "--max-steps", "2")[0] == 0
    weights = out / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[: weights.stat().st_size // 2])
    for argv in (["sample", out], ["evaluate", out], ["reconstruct", out]):
        code, _, err = cli("ae", *argv)
        assert_one_line_error(code, err, "corrupt or truncated")
    code, _, err = cli("ae", "sample", tmp_path / "nowhere")
    assert_one_line_error(code, err, "does not exist")
