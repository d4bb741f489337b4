"""The GAN trainer: D and G learn under every objective, exact resume (logged losses and monitor state too), n_critic,
EMA, the NaN guard, no process-wide warning filters."""

from __future__ import annotations

import warnings

import pytest
import torch
from safetensors.torch import load_file

import genlab
from genlab.core.checkpoint import list_checkpoints
from genlab.core.engine import TrainConfig
from genlab.core.errors import NonFiniteLossError
from genlab.core.tracking import read_metrics
from genlab.data.datasets import ImageDataConfig
from genlab.gan import GANConfig, GANTrainer, GANTrainOptions, train
from genlab.gan import losses as gan_losses

TINY = dict(g_channels=8, d_channels=8, latent_dim=16)


def fit(out, data_dir, *, model=None, options=None, resume=False, trainer_class=GANTrainer, **train_cfg):
    base = dict(batch_size=16, lr=2e-4, max_steps=4, log_every=1, checkpoint_every=100, sample_every=0,
                progress=False, tensorboard=False, device="cpu", seed=0)
    return train(GANConfig(**{**TINY, **(model or {})}) if not resume else None,
                 ImageDataConfig("mnist", data_dir=str(data_dir)) if not resume else None,
                 TrainConfig(**{**base, **train_cfg}) if not resume else None,
                 GANTrainOptions(**{"fid_samples": 0, **(options or {})}) if not resume else None,
                 out=out, resume=resume, overrides=train_cfg if resume else None, figures=False,
                 trainer_class=trainer_class)


OBJECTIVE_CASES = [
    ({"loss": "ns", "spectral_norm": False}, {"label_smoothing": 0.1, "label_flip": 0.05, "instance_noise": 0.1}),
    ({"loss": "wgan", "spectral_norm": False}, {}),
    ({"loss": "wgan-gp", "spectral_norm": False}, {}),
    ({"loss": "hinge"}, {}),
    ({"loss": "hinge", "size": 32, "attention": True, "conditional": True}, {}),
]


def losses(run_dir, key):
    return {r["step"]: r[key] for r in read_metrics(run_dir) if key in r}


@pytest.mark.parametrize("model,options", OBJECTIVE_CASES)
def test_every_objective_the_critic_learns_against_a_fixed_generator(tmp_path, tiny_mnist, model, options):
    """G frozen (n_critic above the step count): D's loss must fall as it learns to tell real from fake."""
    steps = 8
    result = fit(tmp_path / "run", tiny_mnist, model=model, options={**options, "n_critic": steps + 1},
                 max_steps=steps, lr=1e-3)
    d = losses(result.run_dir, "train/d_loss")
    assert sorted(d) == list(range(1, steps + 1))
    assert not losses(result.run_dir, "train/g_loss")  # no generator step, so no generator loss is logged
    # from step 2: wgan clips the critic after its first step, which rescales its scores
    assert d[steps] < d[2] - 0.05 * abs(d[2]) - 1e-3, d
    assert bool(losses(result.run_dir, "train/gp")) == (model["loss"] == "wgan-gp")
    if model["loss"] == "wgan":  # weight clipping: every critic parameter within [-c, c] after training
        params = list(genlab.load(result.run_dir).discriminator.parameters())
        assert params and all(float(v.detach().abs().max()) <= 0.01 + 1e-7 for v in params)
    w = load_file(str(result.run_dir / "model.safetensors"))
    assert all(torch.isfinite(v).all() for v in w.values())


@pytest.mark.parametrize("model,options", OBJECTIVE_CASES)
def test_every_objective_the_generator_learns_against_a_fixed_critic(tmp_path, tiny_mnist, model, options):
    """D all but frozen (lr_d 1e-12): G's loss must fall as it learns to fool it; logged on every G step."""
    steps = 8
    result = fit(tmp_path / "run", tiny_mnist, model=model, options={**options, "n_critic": 1, "lr_d": 1e-12},
                 max_steps=steps, lr=1e-2)
    g = losses(result.run_dir, "train/g_loss")
    assert sorted(g) == list(range(1, steps + 1))
    assert g[steps] < g[1] - 0.05 * abs(g[1]) - 1e-3, g


def test_generator_loss_is_logged_on_generator_steps_only(tmp_path, tiny_mnist):
    fit(tmp_path / "run", tiny_mnist, model={"loss": "wgan-gp", "spectral_norm": False}, options={"n_critic": 3},
        max_steps=7)
    assert sorted(losses(tmp_path / "run", "train/g_loss")) == [3, 6]
    # a log window of 3 steps holds one G step: its g_loss is that step's, not diluted by the two critic-only steps
    fit(tmp_path / "win", tiny_mnist, model={"loss": "wgan-gp", "spectral_norm": False}, options={"n_critic": 3},
        max_steps=6, log_every=3)
    g1, g3 = losses(tmp_path / "run", "train/g_loss"), losses(tmp_path / "win", "train/g_loss")
    assert g3 == pytest.approx(g1, rel=1e-6)


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


class RecordingTrainer(GANTrainer):
    """Keeps the trainer's extra state (loss history for the divergence monitor ...) at the end of each fit."""

    seen: dict[str, dict] = {}

    def fit(self, *args, **kwargs):
        result = super().fit(*args, **kwargs)
        RecordingTrainer.seen[str(self.run_dir)] = self.extra_state()
        return result


def train_rows(run_dir):
    return [{k: v for k, v in r.items() if k.startswith("train/")} for r in read_metrics(run_dir)
            if any(k.startswith("train/") for k in r)]


@pytest.mark.parametrize("model,options,split", [
    ({"loss": "ns", "spectral_norm": False}, {"label_flip": 0.1}, 3),  # (instance noise anneals over max_steps)
    ({"loss": "wgan-gp", "spectral_norm": False}, {"n_critic": 2}, 3),
    ({"loss": "wgan-gp", "spectral_norm": False}, {"n_critic": 3}, 4),  # resumes between two generator steps
    ({"loss": "hinge", "conditional": True}, {}, 2),
    ({"loss": "ns", "spectral_norm": False}, {"r1_gamma": 1.0, "r1_every": 2}, 3),  # lazy R1 across the resume
])
def test_resume_continues_the_same_trajectory(tmp_path, tiny_mnist, model, options, split):
    rec = RecordingTrainer
    fit(tmp_path / "straight", tiny_mnist, model=model, options=options, max_steps=6, trainer_class=rec)
    fit(tmp_path / "split", tiny_mnist, model=model, options=options, max_steps=split, trainer_class=rec)
    resumed = fit(tmp_path / "split", tiny_mnist, resume=True, max_steps=6, trainer_class=rec)
    assert resumed.step == 6
    a = load_file(str(tmp_path / "straight" / "model.safetensors"))
    b = load_file(str(tmp_path / "split" / "model.safetensors"))
    assert a.keys() == b.keys()
    for k in a:  # G, D, EMA G, spectral-norm vectors, BatchNorm statistics
        torch.testing.assert_close(a[k], b[k], rtol=0, atol=1e-6, msg=k)
    # the logged losses (g_loss included, on the same steps) and the divergence monitor's history match too
    straight, split_rows = train_rows(tmp_path / "straight"), train_rows(tmp_path / "split")
    assert [sorted(r) for r in straight] == [sorted(r) for r in split_rows]
    for r, q in zip(straight, split_rows, strict=True):
        assert r == pytest.approx(q, rel=1e-5, abs=1e-6)
    seen = RecordingTrainer.seen
    assert seen[str(tmp_path / "straight")]["history"]["g"]  # the monitor saw generator losses
    a_state, b_state = seen[str(tmp_path / "straight")], seen[str(tmp_path / "split")]
    for k in ("d", "g"):
        assert b_state["history"][k] == pytest.approx(a_state["history"][k], rel=1e-5)
    assert b_state["last_g_loss"] == pytest.approx(a_state["last_g_loss"], rel=1e-5)
    assert b_state["warned"] == a_state["warned"]


def test_lazy_r1_runs_every_n_steps_and_changes_the_discriminator(tmp_path, tiny_mnist):
    plain = fit(tmp_path / "plain", tiny_mnist, model={"loss": "ns", "spectral_norm": False}, max_steps=6)
    lazy = fit(tmp_path / "r1", tiny_mnist, model={"loss": "ns", "spectral_norm": False},
               options={"r1_gamma": 10.0, "r1_every": 3}, max_steps=6)
    assert plain.step == lazy.step == 6
    r1 = losses(tmp_path / "r1", "train/r1")
    assert sorted(r1) == [1, 4] and all(v > 0 for v in r1.values())  # engine steps 0 and 3, logged as 1 and 4
    assert not losses(tmp_path / "plain", "train/r1")
    a = load_file(str(tmp_path / "plain" / "model.safetensors"))
    b = load_file(str(tmp_path / "r1" / "model.safetensors"))
    assert any(not torch.equal(a[k], b[k]) for k in a if k.startswith("discriminator."))


def test_training_leaves_the_process_warning_filters_alone(tmp_path, tiny_mnist):
    before = list(warnings.filters)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        inside = list(warnings.filters)
        fit(tmp_path / "run", tiny_mnist, model={"loss": "wgan-gp", "spectral_norm": False}, options={"n_critic": 3},
            max_steps=4)
        assert warnings.filters == inside  # nothing installed for the rest of the process
    assert warnings.filters == before
    assert not [w for w in caught if "lr_scheduler" in str(w.message)]  # torch's warning is silenced during fit


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
