"""Resume bookkeeping: train_config.json per segment (B2), changed options really apply, nothing-to-train, per-key
metric averaging (B4), the extra-state hook, --max-time and TrainResult.start_step."""

from __future__ import annotations

import json
import os
import signal
from dataclasses import dataclass

import pytest
import torch

from genlab.core.config import cfg_field, to_dict
from genlab.core import engine
from genlab.core.engine import TrainConfig, Trainer, TrainingInterrupted
from genlab.core.errors import ConfigError
from genlab.core.runs import resumed_configs
from genlab.core.tracking import read_metrics
from toy import ToyConfig, ToyRegressor, toy_data


@dataclass
class ToyData:
    n: int = cfg_field(40, help="examples")


BASE = dict(batch_size=8, lr=1e-2, max_steps=4, log_every=1, checkpoint_every=100, sample_every=0, progress=False,
            tensorboard=False, seed=0, device="cpu")
RUN_CONFIG = {"family": "toy", "model_type": "test-toy", "model": to_dict(ToyConfig()), "data": to_dict(ToyData())}


def trainer(run_dir, config: TrainConfig, cls=Trainer, **kw) -> Trainer:
    torch.manual_seed(0)
    return cls(ToyRegressor(ToyConfig()), toy_data(), config, run_dir, run_config=RUN_CONFIG, **kw)


def interrupt_at(step):
    def hook(model, path):
        if path.name == f"step_{step:06d}":
            os.kill(os.getpid(), signal.SIGINT)
    return hook


def resume_config(run_dir, **overrides) -> TrainConfig:
    _, _, t = resumed_configs(run_dir, family="toy", data_class=ToyData, overrides=overrides)
    return t


def saved(run_dir) -> dict:
    return json.loads((run_dir / "train_config.json").read_text())


def test_resume_overrides_persist_across_resumes_and_changed_lr_applies(tmp_path, capsys):
    """B2 + trial #8: train 4, resume to 8 with a new lr (crash at 6), resume again: the target is 8, not 4."""
    run = tmp_path / "run"
    first = trainer(run, TrainConfig(**BASE)).fit()
    assert (first.step, first.start_step) == (4, 0)
    assert saved(run)["train"]["max_steps"] == 4
    assert [h["started_at_step"] for h in saved(run)["history"]] == [0]
    capsys.readouterr()

    t = resume_config(run, max_steps=8, lr=0.05)
    assert (t.max_steps, t.lr) == (8, 0.05)
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err  # one line, once
    assert "--max-steps 4 -> 8" in err and "--lr 0.01 -> 0.05" in err and "applied" in err
    with pytest.raises(TrainingInterrupted, match="interrupted at step 6"):
        trainer(run, TrainConfig(**{**to_dict(t), "sample_every": 3}), sample_fn=interrupt_at(6)).fit(resume=True)
    s = saved(run)
    assert (s["train"]["max_steps"], s["train"]["lr"]) == (8, 0.05)
    assert s["history"][1]["started_at_step"] == 4
    assert s["history"][1]["changed"] == {"lr": [0.01, 0.05], "max_steps": [4, 8], "sample_every": [0, 3]}
    assert {"time", "genlab_version"} <= set(s["history"][1])
    lrs = {r["step"]: r["lr"] for r in read_metrics(run)}
    assert lrs[4] == pytest.approx(0.01) and lrs[5] == pytest.approx(0.05) and lrs[6] == pytest.approx(0.05)

    t = resume_config(run)  # a plain --resume after the crash
    assert t.max_steps == 8
    result = trainer(run, t).fit(resume=True)
    assert (result.step, result.start_step) == (8, 6)
    assert [h["started_at_step"] for h in saved(run)["history"]] == [0, 4, 6]
    assert saved(run)["history"][2]["changed"] == {}


def test_changed_betas_and_weight_decay_apply_on_resume(tmp_path):
    run = tmp_path / "run"
    trainer(run, TrainConfig(**BASE)).fit()
    t = trainer(run, TrainConfig(**{**BASE, "max_steps": 5, "adam_beta1": 0.5, "weight_decay": 0.1}))
    t.fit(resume=True)
    groups = t.optimizers["model"].param_groups
    assert all(g["betas"][0] == 0.5 for g in groups)
    assert [g["weight_decay"] for g in groups] == [0.1, 0.0]  # decay stays off for biases


def test_resume_at_or_past_the_target_trains_nothing_and_says_so(tmp_path, capsys):
    run = tmp_path / "run"
    trainer(run, TrainConfig(**BASE)).fit()
    before = (run / "checkpoints").stat().st_mtime_ns, sorted(os.listdir(run / "checkpoints"))
    capsys.readouterr()
    for max_steps in (4, 3):
        result = trainer(run, TrainConfig(**{**BASE, "max_steps": max_steps})).fit(resume=True)
        assert (result.step, result.start_step) == (4, 4)
        err = capsys.readouterr().err
        warn = [line for line in err.splitlines() if line.startswith("warning:")]
        assert len(warn) == 1 and "nothing to train" in warn[0] and f"target is step {max_steps}" in warn[0], err
    assert sorted(os.listdir(run / "checkpoints")) == before[1]
    assert [h["started_at_step"] for h in saved(run)["history"]] == [0]


class SometimesTrainer(Trainer):
    """Logs ``g_loss`` = 2 on every other step only (a GAN's G with n_critic=2)."""

    def training_step(self, batch):
        out = super().training_step(batch)
        if self.step % 2 == 1:
            out["g_loss"] = torch.tensor(2.0)
        return out


def test_a_key_logged_on_some_steps_is_averaged_over_those_steps(tmp_path):
    """B4: g_loss is 2.0 whenever present; dividing by every step of the window reported 1.0."""
    trainer(tmp_path / "run", TrainConfig(**{**BASE, "max_steps": 8, "log_every": 4}), cls=SometimesTrainer).fit()
    rows = [r for r in read_metrics(tmp_path / "run") if "train/g_loss" in r]
    assert [r["step"] for r in rows] == [4, 8]
    assert all(r["train/g_loss"] == pytest.approx(2.0) for r in rows)


class HistoryTrainer(Trainer):
    """Keeps a per-step history and a tensor, which must survive a resume through extra_state."""

    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.history: list[int] = []
        self.last = torch.zeros(2)
        self.loaded = None

    def training_step(self, batch):
        out = super().training_step(batch)
        self.history.append(self.step + 1)
        self.last = self.last + 1
        return out

    def extra_state(self):
        return {"history": list(self.history), "last": self.last.clone(), "nested": {"a": [1, 2.5, "x", None]}}

    def load_extra_state(self, state):
        self.loaded = state
        self.history, self.last = list(state["history"]), state["last"].clone()


def test_extra_state_is_saved_with_the_checkpoint_and_restored_on_resume(tmp_path):
    run = tmp_path / "run"
    cfg = TrainConfig(**{**BASE, "max_steps": 6, "sample_every": 3})
    with pytest.raises(TrainingInterrupted):
        trainer(run, cfg, cls=HistoryTrainer, sample_fn=interrupt_at(3)).fit()
    t = trainer(run, cfg, cls=HistoryTrainer)
    t.fit(resume=True)
    assert t.loaded["nested"] == {"a": [1, 2.5, "x", None]}
    assert t.history == [1, 2, 3, 4, 5, 6] and torch.equal(t.last, torch.full((2,), 6.0))


def test_extra_state_with_an_unloadable_type_is_refused_when_saving(tmp_path):
    class Bad(Trainer):
        def extra_state(self):
            return {"pool": [torch.zeros(1), object()]}

    with pytest.raises(TypeError, match=r"extra_state\(\)\['pool'\]\[1\].*object"):
        trainer(tmp_path / "run", TrainConfig(**BASE), cls=Bad).fit()


@pytest.mark.parametrize("text, seconds", [("90s", 90), ("10m", 600), ("2h", 7200), ("1h30m", 5400),
                                           ("1.5h", 5400), ("45", 45), ("0.25s", 0.25), ("1d", 86400),
                                           (" 2H ", 7200), ("1e+06s", 1e6), ("2m 30s", 150)])
def test_parse_duration(text, seconds):
    assert engine.parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("bad", ["abc", "10x", "-5m", "0s", "", "m", "1h-5m", "nan", "inf", "1e400s", "1 5m"])
def test_bad_max_time_is_one_line_config_error(bad):
    with pytest.raises(ConfigError) as e:
        TrainConfig(max_time=bad)
    assert "--max-time" in str(e.value) and "\n" not in str(e.value) and "e.g. 90s" in str(e.value)


class Slow(Trainer):
    def training_step(self, batch):
        import time
        time.sleep(0.03)
        return super().training_step(batch)


def test_max_time_stops_cleanly_saves_and_resume_continues(tmp_path, capsys):
    run = tmp_path / "run"
    cfg = TrainConfig(**{**BASE, "max_steps": 100_000, "max_time": "0.5s", "log_every": 5})
    result = trainer(run, cfg, cls=Slow).fit()
    assert 1 <= result.step < 100_000 and result.start_step == 0
    assert result.stop_reason == "max_time"
    assert result.checkpoint is not None and result.checkpoint.name == f"step_{result.step:08d}"
    assert (run / "model.safetensors").exists()
    err = capsys.readouterr().err
    assert "time limit" in err and "--max-time 0.5s" in err and "--resume" in err
    assert saved(run)["train"]["max_time"] == "0.5s"
    again = trainer(run, cfg, cls=Slow).fit(resume=True)
    assert again.start_step == result.step and again.step > result.step


def test_progress_lines_without_a_terminal_have_no_carriage_returns(tmp_path, capsys):
    trainer(tmp_path / "run", TrainConfig(**{**BASE, "progress": True, "log_every": 2})).fit()
    err = capsys.readouterr().err
    assert "\r" not in err
    assert [line.split(" |")[0] for line in err.splitlines() if line.startswith("step ")] == ["step 2/4", "step 4/4"]


def test_a_new_optimizer_on_resume_starts_its_state_afresh_and_says_so(tmp_path, capsys):
    """Adam's saved state loaded into SGD crashed with KeyError('momentum') on the first step."""
    run = tmp_path / "run"
    trainer(run, TrainConfig(**BASE)).fit()
    capsys.readouterr()
    t = trainer(run, TrainConfig(**{**BASE, "max_steps": 6, "optimizer": "sgd"}))
    result = t.fit(resume=True)
    assert (result.step, result.start_step) == (6, 4)
    assert isinstance(t.optimizers["model"], torch.optim.SGD)
    assert "optimiser 'model' is now SGD (the checkpoint has Adam): its state (moments, momentum) starts afresh" \
        in capsys.readouterr().err
