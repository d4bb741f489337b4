"""The adversarial autoencoder: its losses on numbers, the priors, three-phase training, exact resume, save/load, CLI."""

from __future__ import annotations

import math

import pytest
import torch

import genlab
from genlab.aae import (AAEConfig, AdversarialAutoencoder, discriminator_loss, generator_loss,
                        sample_mixture_prior, train)
from genlab.core.checkpoint import latest_checkpoint
from genlab.core.engine import TrainConfig
from genlab.core.tracking import read_metrics
from genlab.data.datasets import ImageDataConfig
from helpers import assert_one_line_error

TINY = dict(hidden_dims=(64,), disc_hidden_dims=(16,))


def tiny_train(**kw) -> TrainConfig:
    return TrainConfig(**{"batch_size": 32, "warmup_steps": 0, "progress": False, "tensorboard": False,
                          "sample_every": 0, "log_every": 5, "device": "cpu", "lr": 3e-3, **kw})


def test_adversarial_losses_on_hand_computed_numbers():
    assert discriminator_loss(torch.zeros(4, 1), torch.zeros(4, 1)).item() == pytest.approx(2 * math.log(2))
    assert generator_loss(torch.zeros(3, 1)).item() == pytest.approx(math.log(2))
    # D(real) = sigmoid(2), D(fake) = sigmoid(-1): -log s(2) - log(1 - s(-1)) = softplus(-2) + softplus(-1)
    expected = math.log1p(math.exp(-2)) + math.log1p(math.exp(-1))
    assert discriminator_loss(torch.tensor([2.0]), torch.tensor([-1.0])).item() == pytest.approx(expected)
    assert generator_loss(torch.tensor([-1.0])).item() == pytest.approx(math.log1p(math.exp(1)))


def test_mixture_prior_has_its_components_on_the_circle():
    z = sample_mixture_prior(20000, components=10, radius=4.0, std=0.1, generator=torch.Generator().manual_seed(0))
    assert z.shape == (20000, 2)
    assert z.norm(dim=1).mean().item() == pytest.approx(4.0, abs=0.02)
    angles = torch.atan2(z[:, 1], z[:, 0]) % (2 * math.pi)
    k = torch.round(angles / (2 * math.pi / 10)) % 10
    assert torch.bincount(k.long(), minlength=10).min() > 1700  # ~2000 in each of the ten components


def test_trains_with_falling_loss_and_logs_all_phases(tiny_mnist, tmp_path):
    data = ImageDataConfig("mnist", data_dir=str(tiny_mnist))
    train(AAEConfig(latent_dim=2, prior="mixture", **TINY), data, tiny_train(max_steps=40), out=tmp_path / "run")
    rows = [r for r in read_metrics(tmp_path / "run") if "train/loss" in r]
    assert rows[-1]["train/loss"] < 0.8 * rows[0]["train/loss"], rows
    assert {"train/d_loss", "train/g_loss", "train/d_real", "train/d_fake"} <= set(rows[-1])
    state = torch.load(latest_checkpoint(tmp_path / "run") / "trainer_state.pt", weights_only=True)
    assert set(state["optimizers"]) == {"autoencoder", "discriminator", "generator"}
    model = genlab.load(tmp_path / "run")
    assert isinstance(model, AdversarialAutoencoder) and model.config.prior == "mixture"
    model.save_pretrained(tmp_path / "saved")
    loaded = genlab.load(tmp_path / "saved")
    x = torch.rand(2, 1, 28, 28)
    assert torch.equal(loaded.reconstruct(x), model.reconstruct(x))
    assert torch.equal(loaded.sample(3, seed=4), model.sample(3, seed=4))
    d = model.discriminator(torch.zeros(1, 2))
    assert torch.equal(loaded.discriminator(torch.zeros(1, 2)), d)


def test_resume_is_exact(tiny_mnist, tmp_path):
    data = ImageDataConfig("mnist", data_dir=str(tiny_mnist))
    cfg = AAEConfig(latent_dim=3, encoder_type="gaussian", **TINY)
    train(cfg, data, tiny_train(max_steps=12), out=tmp_path / "straight")
    train(cfg, data, tiny_train(max_steps=6, checkpoint_every=6), out=tmp_path / "split")
    train(out=tmp_path / "split", resume=True, overrides={"max_steps": 12})
    a, b = genlab.load(tmp_path / "straight").state_dict(), genlab.load(tmp_path / "split").state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_gaussian_encoder_uses_its_mean_as_the_code():
    model = AdversarialAutoencoder(AAEConfig(latent_dim=2, encoder_type="gaussian", **TINY)).eval()
    x = torch.rand(2, 1, 28, 28)
    mu = model.encoder(x)[:, :2]
    assert torch.equal(model.encode_latent(x), mu)
    torch.manual_seed(0)
    assert not torch.equal(model.encode_sampled(x), mu)


# ---- bad input ----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("flags,needle", [
    (["--prior", "mixture", "--latent-dim", "32"], "--prior mixture is a 2-D prior; use it with --latent-dim 2"),
    (["--adversarial-lr-ratio", "0"], "--adversarial-lr-ratio must be > 0"),
    (["--disc-hidden-dims", "0"], "--disc-hidden-dims must be"),
    (["--optimizer", "sgd"], "three Adam optimisers"),
])
def test_bad_options(cli, tiny_mnist, tmp_path, flags, needle):
    code, _, err = cli("aae", "train", "--dataset", "mnist", "--data-dir", tiny_mnist, "--out", tmp_path / "r",
                       "--max-steps", "2", "--batch-size", "32", "--no-progress", "--no-tensorboard", *flags)
    assert_one_line_error(code, err, needle)


def test_cli_round_trip_and_wrong_family(cli, tiny_mnist, tmp_path):
    out = tmp_path / "run"
    code, stdout, err = cli("aae", "train", "--dataset", "mnist", "--data-dir", tiny_mnist, "--out", out,
                            "--max-steps", "3", "--batch-size", "32", "--no-progress", "--no-tensorboard",
                            "--hidden-dims", "32", "--disc-hidden-dims", "16", "--latent-dim", "2")
    assert code == 0, err
    code, stdout, err = cli("aae", "sample", out, "--n", "4", "--output", tmp_path / "s.png")
    assert code == 0 and "prior" in stdout
    code, stdout, err = cli("aae", "evaluate", out)
    assert code == 0 and "codes: mean |mean|" in stdout
    code, _, err = cli("ae", "sample", out)
    assert_one_line_error(code, err, "holds an aae model", "not an ae model", "genlab aae")
    code, _, err = cli("vae", "evaluate", out)
    assert_one_line_error(code, err, "not a vae model")
    code, _, err = cli("aae", "train", "--out", out, "--resume", "--prior", "mixture")
    assert_one_line_error(code, err, "cannot change --prior when resuming")
    code, _, err = cli("ae", "train", "--out", out, "--resume")
    assert_one_line_error(code, err, "cannot resume", "aae")


def test_two_process_torchrun_matches_one_process_with_the_doubled_batch(tiny_mnist, tmp_path):
    """The real CLI under `torchrun --nproc_per_node 2` (gloo on CPU), batch 16 each == one process with batch 32:
    the three optimisers step on gradients averaged over the ranks (the engine's wrap_ddp = False)."""
    import os
    import subprocess
    import sys

    from safetensors.torch import load_file

    args = ["aae", "train", "--dataset", "mnist", "--data-dir", str(tiny_mnist), "--max-steps", "6",
            "--hidden-dims", "32", "--disc-hidden-dims", "16", "--latent-dim", "2", "--log-every", "2",
            "--no-progress", "--no-tensorboard", "--device", "cpu", "--warmup-steps", "0", "--sample-every", "0"]
    env = {**os.environ, "GENLAB_OFFLINE": "1", "OMP_NUM_THREADS": "1"}
    ddp = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
                          "-m", "genlab", *args, "--batch-size", "16", "--out", str(tmp_path / "ddp")],
                         capture_output=True, text=True, env=env, timeout=300)
    assert ddp.returncode == 0, ddp.stderr[-3000:]
    assert ddp.stdout.count("trained 6 steps") == 1  # rank 0 alone reports
    single = subprocess.run([sys.executable, "-m", "genlab", *args, "--batch-size", "32", "--out",
                             str(tmp_path / "single")], capture_output=True, text=True, env=env, timeout=300)
    assert single.returncode == 0, single.stderr[-3000:]
    a = load_file(str(tmp_path / "single" / "model.safetensors"))
    b = load_file(str(tmp_path / "ddp" / "model.safetensors"))
    for k in a:
        torch.testing.assert_close(a[k], b[k], rtol=1e-4, atol=1e-5)
    from genlab.core.device import seed_everything

    seed_everything(TrainConfig().seed)  # the run's initial weights: every phase moved its parameters
    untrained = AdversarialAutoencoder(genlab.load(tmp_path / "single").config).state_dict()
    for k in ("encoder.1.weight", "decoder.0.weight", "discriminator.0.weight"):
        assert not torch.equal(a[k], untrained[k]), k
