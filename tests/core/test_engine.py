"""The training engine: loss falls, exact resume, Ctrl-C, NaN guard, schedules, DDP under torchrun."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from genlab.core.checkpoint import latest_checkpoint, list_checkpoints, load_trainer_state
from genlab.core.engine import TrainConfig, Trainer, TrainingInterrupted, lr_factor
from genlab.core.errors import CheckpointError, ConfigError, DataError, GenlabError, NonFiniteLossError
from genlab.core.model import load
from genlab.core.tracking import read_metrics
from helpers import REPO
from toy import ToyConfig, ToyRegressor, toy_data


def make_trainer(run_dir, *, seed=0, model_cfg=None, data=None, sample_fn=None, **cfg):
    torch.manual_seed(seed)
    model = ToyRegressor(model_cfg or ToyConfig())
    base = dict(batch_size=8, lr=1e-2, max_steps=12, log_every=1, checkpoint_every=100, sample_every=0,
                progress=False, tensorboard=False, seed=seed, device="cpu")
    return Trainer(model, data or toy_data(), TrainConfig(**{**base, **cfg}), run_dir, sample_fn=sample_fn)


def weights(run_dir: Path) -> dict[str, torch.Tensor]:
    return load_file(str(run_dir / "model.safetensors"))


def test_loss_falls_and_run_folder_is_complete(tmp_path):
    result = make_trainer(tmp_path / "run", max_steps=60, tensorboard=True, checkpoint_every=20).fit()
    rows = read_metrics(tmp_path / "run")
    losses = [r["train/loss"] for r in rows]
    assert len(rows) == 60 and rows[-1]["step"] == 60
    assert sum(losses[-10:]) / 10 < 0.5 * sum(losses[:10]) / 10
    assert result.step == 60
    for name in ("config.json", "model.safetensors", "train_config.json", "metrics.jsonl"):
        assert (tmp_path / "run" / name).exists(), name
    assert any((tmp_path / "run" / "tensorboard").iterdir())
    assert [s for s, _ in list_checkpoints(tmp_path / "run")] == [40, 60]  # keep_checkpoints=2 pruned step 20


def test_same_seed_same_run_different_seed_different_run(tmp_path):
    make_trainer(tmp_path / "a", seed=3).fit()
    make_trainer(tmp_path / "b", seed=3).fit()
    make_trainer(tmp_path / "c", seed=4).fit()
    a, b, c = weights(tmp_path / "a"), weights(tmp_path / "b"), weights(tmp_path / "c")
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert not all(torch.equal(a[k], c[k]) for k in a)


def _interrupt_at(step):
    def hook(model, path):
        if path.name == f"step_{step:06d}":
            os.kill(os.getpid(), signal.SIGINT)
    return hook


def test_ctrl_c_saves_and_resume_continues_the_same_trajectory(tmp_path):
    # 40 examples / batch 8 = 5 steps per epoch: step 7 is in the middle of epoch 2, with a cosine schedule and
    # input noise, so weights, optimiser, scheduler, RNG and data position must all be restored to match.
    common = dict(max_steps=14, lr_schedule="cosine", warmup_steps=3, sample_every=7)
    straight = make_trainer(tmp_path / "straight", sample_fn=lambda m, p: None, **common).fit()
    with pytest.raises(TrainingInterrupted, match="interrupted at step 7.*--resume"):
        make_trainer(tmp_path / "split", sample_fn=_interrupt_at(7), **common).fit()
    assert latest_checkpoint(tmp_path / "split").name == "step_00000007"
    assert load_trainer_state(latest_checkpoint(tmp_path / "split"))["step"] == 7
    resumed = make_trainer(tmp_path / "split", sample_fn=lambda m, p: None, **common).fit(resume=True)
    assert resumed.step == straight.step == 14
    a, b = weights(tmp_path / "straight"), weights(tmp_path / "split")
    for k in a:
        torch.testing.assert_close(a[k], b[k], rtol=0, atol=1e-6)
    steps = [r["step"] for r in read_metrics(tmp_path / "split")]
    assert steps == sorted(set(steps)) and steps[-1] == 14


def test_resume_without_checkpoint_and_fresh_start_on_existing_run(tmp_path):
    with pytest.raises(CheckpointError, match="nothing to resume"):
        make_trainer(tmp_path / "empty").fit(resume=True)
    make_trainer(tmp_path / "run", max_steps=3).fit()
    with pytest.raises(GenlabError, match="already holds a run"):
        make_trainer(tmp_path / "run", max_steps=3).fit()


def test_nan_loss_stops_and_keeps_last_good_checkpoint(tmp_path):
    trainer = make_trainer(tmp_path / "run", model_cfg=ToyConfig(nan_after=7), checkpoint_every=5)
    with pytest.raises(NonFiniteLossError, match=r"loss became nan at step 8.*step_00000005 \(step 5\)"):
        trainer.fit()
    assert [s for s, _ in list_checkpoints(tmp_path / "run")] == [5]
    assert all(torch.isfinite(p).all() for p in trainer.model.parameters())  # the bad step never reached them
    good = load(tmp_path / "run")
    assert all(torch.isfinite(p).all() for p in good.parameters())


def test_nan_on_first_step_says_no_checkpoint(tmp_path):
    with pytest.raises(NonFiniteLossError, match="at step 1.*no checkpoint had been written"):
        make_trainer(tmp_path / "run", model_cfg=ToyConfig(nan_after=0)).fit()


def test_grad_clip_bf16_and_sgd_run(tmp_path):
    result = make_trainer(tmp_path / "run", grad_clip=0.5, precision="bf16", optimizer="sgd", max_steps=4).fit()
    assert result.metrics["train/grad_norm"] > 0
    assert torch.isfinite(torch.tensor(result.metrics["train/loss"]))


def test_fewer_examples_than_a_batch(tmp_path):
    with pytest.raises(DataError, match="fewer than one batch") as err:
        make_trainer(tmp_path / "run", data=toy_data(n=5)).fit()
    assert "pass --batch-size 5 (or fewer)" in str(err.value)  # the one flag to change, with a value that works


@pytest.mark.parametrize("bad", [dict(epochs=-1), dict(max_steps=0), dict(lr=0), dict(batch_size=0),
                                 dict(grad_clip=-1), dict(precision="fp8"), dict(device="tpu"),
                                 dict(epochs=0, max_steps=None), dict(min_lr_ratio=2.0)])
def test_bad_train_config(bad):
    with pytest.raises(ConfigError):
        TrainConfig(**bad)


def test_fp16_on_cpu_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="fp16 needs a GPU"):
        make_trainer(tmp_path / "run", precision="fp16").fit()


def test_lr_schedules():
    kw = dict(total=100, warmup=10, min_ratio=0.1)
    assert lr_factor(0, schedule="cosine", **kw) == pytest.approx(0.1)
    assert lr_factor(9, schedule="cosine", **kw) == pytest.approx(1.0)
    assert lr_factor(10, schedule="cosine", **kw) == pytest.approx(1.0)
    assert lr_factor(55, schedule="cosine", **kw) == pytest.approx(0.55)
    assert lr_factor(100, schedule="cosine", **kw) == pytest.approx(0.1)
    assert lr_factor(100, schedule="linear", **kw) == pytest.approx(0.1)
    assert lr_factor(55, schedule="linear", **kw) == pytest.approx(0.55)
    assert lr_factor(70, schedule="constant", **kw) == 1.0


def test_two_process_ddp_matches_one_process_with_the_same_global_batch(tmp_path):
    """torchrun --nproc_per_node 2 (gloo on CPU) with batch 4 each == one process with batch 8."""
    script = Path(__file__).with_name("ddp_script.py")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO / "tests"), str(REPO / "src")]),
           "OMP_NUM_THREADS": "1"}
    proc = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
                           str(script), str(tmp_path / "ddp"), "4"], env=env, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    single = make_trainer(tmp_path / "single", model_cfg=ToyConfig(noise=0.0), batch_size=8).fit()
    assert single.step == 12
    a, b = weights(tmp_path / "single"), weights(tmp_path / "ddp")
    for k in a:
        torch.testing.assert_close(a[k], b[k], rtol=1e-4, atol=1e-5)
    # Only rank 0 wrote: one metrics file whose rows are world-size-2 averages, one checkpoint set.
    rows = read_metrics(tmp_path / "ddp")
    assert [r["step"] for r in rows] == list(range(1, 13))
    assert load_trainer_state(latest_checkpoint(tmp_path / "ddp"))["world_size"] == 2


def _train_script():
    import importlib.util
    spec = importlib.util.spec_from_file_location("train_script", Path(__file__).with_name("train_script.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_two_optimizer_trainer_without_ddp_wrapping_matches_one_process(tmp_path):
    """wrap_ddp=False: parameters broadcast from rank 0, average_gradients before each optimiser step (GAN/AAE)."""
    script = Path(__file__).with_name("train_script.py")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO / "tests"), str(REPO / "src")]),
           "OMP_NUM_THREADS": "1"}
    proc = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
                           str(script), str(tmp_path / "ddp"), "--trainer", "twoopt", "--batch-size", "4",
                           "--noise", "0", "--max-steps", "10"], env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.count("done: step 10") == 1  # rank 0 alone reports
    single = _train_script().build(str(tmp_path / "single"), trainer="twoopt", noise=0.0, batch_size=8, max_steps=10)
    assert type(single).wrap_ddp is False
    single.fit()
    a, b = weights(tmp_path / "single"), weights(tmp_path / "ddp")
    for k in a:
        torch.testing.assert_close(a[k], b[k], rtol=1e-4, atol=1e-5)
    torch.manual_seed(0)
    init = ToyRegressor(ToyConfig(noise=0.0)).state_dict()
    assert not torch.equal(a["net.0.weight"], init["net.0.weight"]) and not torch.equal(a["net.2.weight"],
                                                                                       init["net.2.weight"])


def test_average_gradients_is_a_no_op_in_one_process(tmp_path):
    t = make_trainer(tmp_path / "run", max_steps=1)
    t.fit()
    p = torch.nn.Parameter(torch.ones(3))
    p.grad = torch.full((3,), 2.0)
    t.average_gradients([p, torch.nn.Parameter(torch.ones(1))])  # a parameter without .grad is skipped
    assert torch.equal(p.grad, torch.full((3,), 2.0))
