"""The CycleGAN trainer: losses fall, exact resume (pools, LR schedule, data order), the NaN guard."""

from __future__ import annotations

import shutil

import pytest
import torch
from safetensors.torch import load_file

from genlab.core.checkpoint import list_checkpoints
from genlab.core.engine import TrainConfig
from genlab.core.tracking import read_metrics
from genlab.cyclegan import CycleGANConfig, CycleGANOptions, UnpairedDataConfig, train

TINY = dict(ngf=4, ndf=4)


def fit(out, data_dir, *, model=None, options=None, data=None, **train_cfg):
    base = dict(batch_size=2, lr=2e-4, adam_beta1=0.5, max_steps=4, log_every=1, checkpoint_every=2,
                keep_checkpoints=5, sample_every=0, progress=False, tensorboard=False, device="cpu", seed=0)
    return train(CycleGANConfig(**{**TINY, "generator": "unet", **(model or {})}),
                 UnpairedDataConfig(data_dir=str(data_dir), **(data or {})),
                 TrainConfig(**{**base, **train_cfg}),
                 CycleGANOptions(**{"eval_samples": 0, "pool_size": 3, **(options or {})}), out=out)


def _state(ckpt):
    return torch.load(ckpt / "trainer_state.pt", weights_only=True)


def test_exact_resume_including_the_pools_and_the_lr_decay(tmp_path, tiny_mnist):
    run = fit(tmp_path / "run", tiny_mnist).run_dir
    ckpts = dict(list_checkpoints(run))
    assert sorted(ckpts) == [2, 4]
    full = _state(ckpts[4])
    assert len(full["extra"]["pool_a"]["images"]) == 3  # 4 steps x 2 images: the pools of 3 are full
    # the paper's schedule: full LR up to half the steps, then linearly to 0
    lrs = {r["step"]: r["lr"] for r in read_metrics(run) if "lr" in r}
    assert lrs[1] == pytest.approx(2e-4) and lrs[3] == pytest.approx(1e-4) and lrs[4] == 0.0

    copy = tmp_path / "copy"
    shutil.copytree(run, copy)
    shutil.rmtree(copy / "checkpoints" / ckpts[4].name)
    (copy / "model.safetensors").unlink()
    train(out=copy, resume=True)
    again = _state(dict(list_checkpoints(copy))[4])
    for pool in ("pool_a", "pool_b"):
        assert torch.equal(full["extra"][pool]["images"], again["extra"][pool]["images"])
    w1, w2 = load_file(run / "model.safetensors"), load_file(copy / "model.safetensors")
    assert w1.keys() == w2.keys() and all(torch.equal(w1[k], w2[k]) for k in w1)


def test_identity_loss_with_rgb_domain_a_and_bce(tmp_path, tiny_mnist):
    run = fit(tmp_path / "run", tiny_mnist, model={"generator": "resnet"}, options={"gan_loss": "bce"},
              data={"channels_a": 3}, max_steps=2).run_dir
    rows = [r for r in read_metrics(run) if "train/identity" in r]
    assert rows and all(r["train/identity"] > 0 for r in rows)  # on: both domains RGB, Foster's weight 2


def test_cycle_loss_falls(tmp_path, tiny_mnist):
    run = fit(tmp_path / "run", tiny_mnist, options={"decay_start": 1.0}, max_steps=12, lr=2e-3, batch_size=4,
              log_every=4, checkpoint_every=100).run_dir
    cyc = [r["train/cycle"] for r in read_metrics(run) if "train/cycle" in r]
    assert len(cyc) == 3 and cyc[-1] < 0.8 * cyc[0], cyc


@pytest.mark.slow
def test_label_preservation_beats_source_only_after_a_short_run(tmp_path):
    """150 steps of a width-8 U-Net (batch 8, lr 1e-3) on the synthetic digits (2,000 train / 1,000 test): F(B)
    must be read by the frozen digit judge at least 5 points better than the untranslated B (measured: 50.6% vs
    39.0% on 500 test images; A->B 92.4% vs 85.8%), and the translations must not fall below it the other way."""
    from helpers import make_mnist_dir

    from genlab.cyclegan import evaluate

    data = make_mnist_dir(tmp_path / "mnist", n_train=2000, n_test=1000)
    run = fit(tmp_path / "run", data, model={"ngf": 8, "ndf": 8}, options={"decay_start": 1.0, "pool_size": 50},
              max_steps=150, batch_size=8, lr=1e-3, log_every=50, checkpoint_every=1000).run_dir
    lp = evaluate(run, n=500, device="cpu")["label_preservation"]
    assert lp["b2a"]["accuracy"] >= lp["b2a"]["source_only"] + 0.05, lp
    assert lp["a2b"]["accuracy"] >= lp["a2b"]["source_only"], lp
