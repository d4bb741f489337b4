"""The GAN trainer: every objective trains without NaN, exact resume, n_critic, EMA, the NaN guard."""

from __future__ import annotations

import pytest
import torch
from safetensors.torch import load_file

import genlab
from genlab.core.checkpoint import list_checkpoints
from genlab.core.engine import TrainConfig
from genlab.core.errors import NonFiniteLossError
from genlab.core.tracking import read_metrics
from genlab.data.datasets import ImageDataConfig
from genlab.gan import GANConfig, GANTrainOptions, train
from genlab.gan import losses as gan_losses

TINY = dict(g_channels=8, d_channels=8, latent_dim=16)


def fit(out, data_dir, *, model=None, options=None, resume=False, **train_cfg):
    base = dict(batch_size=16, lr=2e-4, max_steps=4, log_every=1, checkpoint_every=100, sample_every=0,
                progress=False, tensorboard=False, device="cpu", seed=0)
    return train(GANConfig(**{**TINY, **(model or {})}) if not resume else None,
                 ImageDataConfig("mnist", data_dir=str(data_dir)) if not resume else None,
                 TrainConfig(**{**base, **train_cfg}) if not resume else None,
                 GANTrainOptions(**{"fid_samples": 0, **(options or {})}) if not resume else None,
                 out=out, resume=resume, overrides=train_cfg if resume else None, figures=False)


@pytest.mark.parametrize("model,options", [
    ({"loss": "ns", "spectral_norm": False}, {"label_smoothing": 0.1, "label_flip": 0.05, "instance_noise": 0.1}),
    ({"loss": "wgan", "spectral_norm": False}, {"n_critic": 2}),
    ({"loss": "wgan-gp", "spectral_norm": False}, {"n_critic": 2}),
    ({"loss": "hinge"}, {}),
    ({"loss": "hinge", "size": 32, "attention": True, "conditional": True}, {}),
])
def test_every_objective_trains_a_few_steps_without_nan(tmp_path, tiny_mnist, model, options):
    result = fit(tmp_path / "run", tiny_mnist, model=model, options=options)
    rows = [r for r in read_metrics(tmp_path / "run") if "train/d_loss" in r]
    assert len(rows) == 4
    first_g = options.get("n_critic", 1)  # the generator's first step; its loss is logged from then on
    for r in rows:
        keys = ("train/d_loss", "train/g_loss") if r["step"] >= first_g else ("train/d_loss",)
        assert all(isinstance(r[k], float) and r[k] == r[k] for k in keys), r
    if model["loss"] == "wgan-gp":
        assert all(r["train/gp"] >= 0 for r in rows)
    if model["loss"] == "wgan":  # weight clipping: every critic parameter within [-c, c] after training
        d = list(genlab.load(result.run_dir).discriminator.parameters())
        assert d and all(float(v.detach().abs().max()) <= 0.01 + 1e-7 for v in d)
    w = load_file(str(result.run_dir / "model.safetensors"))
    assert all(torch.isfinite(v).all() for v in w.values())


def test_generator_steps_every_n_critic_and_ema_follows(tmp_path, tiny_mnist):
    fit(tmp_path / "run", tiny_mnist, model={"loss": "wgan-gp", "spectral_norm": False},
        options={"n_critic": 3, "ema_decay": 0.5}, max_steps=2)
    w = load_file(str(tmp_path / "run" / "model.safetensors"))
    torch.manual_seed(0)  # the same init as train(): seed_everything(0) before building the model
    from genlab.gan import GAN
    init = GAN(GANConfig(**TINY, loss="wgan-gp", spectral_norm=False, image_channels=1)).state_dict()
    g_keys = [k for k in w if k.startswith("generator.") and "weight" in k]
    d_keys = [k for k in w if k.startswith("discriminator.") and "weight" in k]
    # 2 steps < n_critic 3: the critic moved, the generator did not.
    assert all(torch.equal(w[k], init[k]) for k in g_keys)
    assert any(not torch.equal(w[k], init[k]) for k in d_keys)
    fit(tmp_path / "run2", tiny_mnist, model={"loss": "wgan-gp", "spectral_norm": False},
        options={"n_critic": 3, "ema_decay": 0.5}, max_steps=3)
    w = load_file(str(tmp_path / "run2" / "model.safetensors"))
    k = "generator.body.0.weight"
    assert not torch.equal(w[k], init[k])
    # EMA after one G step with warm-up decay min(0.5, 2/11): ema = d * init + (1 - d) * G
    d = 2 / 11
    torch.testing.assert_close(w["generator_ema.body.0.weight"], d * init[k] + (1 - d) * w[k])


@pytest.mark.parametrize("model,options,split", [
    ({"loss": "ns", "spectral_norm": False}, {"label_flip": 0.1}, 3),
    ({"loss": "wgan-gp", "spectral_norm": False}, {"n_critic": 2}, 3),
    ({"loss": "hinge", "conditional": True}, {}, 2),
])
def test_resume_continues_the_same_trajectory(tmp_path, tiny_mnist, model, options, split):
    fit(tmp_path / "straight", tiny_mnist, model=model, options=options, max_steps=6)
    fit(tmp_path / "split", tiny_mnist, model=model, options=options, max_steps=split)
    resumed = fit(tmp_path / "split", tiny_mnist, resume=True, max_steps=6)
    assert resumed.step == 6
    a = load_file(str(tmp_path / "straight" / "model.safetensors"))
    b = load_file(str(tmp_path / "split" / "model.safetensors"))
    assert a.keys() == b.keys()
    for k in a:  # G, D, EMA G, spectral-norm vectors, BatchNorm statistics
        torch.testing.assert_close(a[k], b[k], rtol=0, atol=1e-6, msg=k)


def test_nan_loss_stops_and_keeps_the_last_good_checkpoint(tmp_path, tiny_mnist, monkeypatch):
    calls = {"n": 0}

    def nan_after_5(real, fake):
        calls["n"] += 1
        loss = gan_losses.hinge_d_loss(real, fake)
        return loss * float("nan") if calls["n"] > 5 else loss

    monkeypatch.setitem(gan_losses.OBJECTIVES, "hinge", (nan_after_5, gan_losses.hinge_g_loss))
    with pytest.raises(NonFiniteLossError, match=r"discriminator loss became nan at step 6.*step_00000004 \(step 4\)"):
        fit(tmp_path / "run", tiny_mnist, max_steps=8, checkpoint_every=2)
    assert [s for s, _ in list_checkpoints(tmp_path / "run")] == [2, 4]
