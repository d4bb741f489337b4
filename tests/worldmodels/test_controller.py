"""The controller search: exact resume of the CMA-ES state, a killed search continued, real rollouts the same in
this process, in a process pool and on a Dask cluster."""

from __future__ import annotations

import os
import signal

import numpy as np
import pytest

from genlab.worldmodels.controller import SearchConfig, train_controller


def _arrays(run):
    from safetensors.numpy import load_file

    return load_file(str(run / "cmaes.safetensors")), load_file(str(run / "model.safetensors"))


def _same_runs(a, b):
    (sa, ma), (sb, mb) = _arrays(a), _arrays(b)
    assert sa.keys() == sb.keys() and ma.keys() == mb.keys()
    for k in sa:
        assert np.array_equal(sa[k], sb[k]), k
    for k in ma:
        assert np.array_equal(ma[k], mb[k]), k


CFG = dict(mode="dream", population=4, trials=2, generations=4, max_episode_steps=12, temperature=1.2, seed=3)


def test_controller_resume_restores_the_cmaes_state_exactly(tmp_path, tiny_vae, tiny_rnn):
    straight = train_controller(SearchConfig(**CFG), vae=tiny_vae, rnn=tiny_rnn, out=tmp_path / "a",
                                show_progress=False)
    assert straight["generation"] == 4 and len(straight["history"]) == 4
    first = train_controller(SearchConfig(**CFG), vae=tiny_vae, rnn=tiny_rnn, out=tmp_path / "b", max_steps=2,
                             show_progress=False)
    assert first["generation"] == 2
    resumed = train_controller(out=tmp_path / "b", resume=True, show_progress=False)
    assert resumed["generation"] == 4
    _same_runs(tmp_path / "a", tmp_path / "b")
    for key in ("best", "mean", "worst", "sigma"):
        assert [h[key] for h in resumed["history"]] == [h[key] for h in straight["history"]], key
    assert (tmp_path / "b" / "scores.png").exists() and (tmp_path / "b" / "best" / "model.safetensors").exists()


def test_a_killed_search_stops_cleanly_and_resumes_at_its_generation(tmp_path, tiny_vae, tiny_rnn, cli, monkeypatch):
    from genlab.worldmodels import controller as ctrl

    train_controller(SearchConfig(**CFG), vae=tiny_vae, rnn=tiny_rnn, out=tmp_path / "a", show_progress=False)
    real_call = ctrl.Scorer.__call__

    def signalled_in_generation_2(self, population, generation, stop=None):
        if generation == 1:
            os.kill(os.getpid(), signal.SIGTERM)  # `kill PID`, `timeout`, Slurm: the generation still finishes
        return real_call(self, population, generation, stop)

    monkeypatch.setattr(ctrl.Scorer, "__call__", signalled_in_generation_2)
    args = ["worldmodels", "train-controller", "--out", tmp_path / "b", "--vae", tiny_vae, "--rnn", tiny_rnn,
            "--no-progress", *[x for k, v in CFG.items() for x in (f"--{k.replace('_', '-')}", str(v))]]
    code, _, err = cli(*args)
    assert code == 143, err
    assert "stopped at generation 2" in err and "--resume" in err and "Traceback" not in err
    monkeypatch.setattr(ctrl.Scorer, "__call__", real_call)
    code, out, err = cli("worldmodels", "train-controller", "--out", tmp_path / "b", "--resume", "--no-progress")
    assert code == 0, err
    assert "resuming" in err and "generation 4" in out
    _same_runs(tmp_path / "a", tmp_path / "b")


def _tasks(tiny_vae, tiny_rnn):
    from genlab.worldmodels.models import ControllerConfig
    from genlab.worldmodels.rollout import Task

    n = ControllerConfig(latent_dim=8, hidden_size=16).num_parameters
    params = np.random.default_rng(0).normal(0, 0.5, n).astype(np.float32)
    return [Task(seed=s, max_steps=20) for s in (5, 6)] + \
           [Task(seed=s, max_steps=20, params=params, vae=str(tiny_vae), rnn=str(tiny_rnn)) for s in (5, 6)]


@pytest.mark.slow
def test_parallel_and_serial_rollouts_give_the_same_returns(tiny_vae, tiny_rnn):
    from genlab.worldmodels.rollout import run_tasks

    tasks = _tasks(tiny_vae, tiny_rnn)
    serial = run_tasks(tasks, workers=1)
    parallel = run_tasks(tasks, workers=2)
    assert [r.seed for r in parallel] == [5, 6, 5, 6]
    assert [r.total_reward for r in serial] == [r.total_reward for r in parallel]
    assert [r.steps for r in serial] == [r.steps for r in parallel] == [20] * 4
    assert serial[0].total_reward != serial[1].total_reward  # different tracks, different returns


@pytest.mark.slow
def test_dask_scheduler_with_two_worker_processes(tiny_vae, tiny_rnn):
    from distributed import LocalCluster

    from genlab.worldmodels.rollout import run_tasks

    tasks = _tasks(tiny_vae, tiny_rnn)
    serial = run_tasks(tasks, workers=1)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=None) as cluster:
        remote = run_tasks(tasks, scheduler=cluster.scheduler_address)
    assert [r.total_reward for r in serial] == [r.total_reward for r in remote]


@pytest.mark.slow
def test_an_unreachable_scheduler_is_one_line(cli, tmp_path):
    code, _, err = cli("worldmodels", "collect", "--episodes", "1", "--max-episode-steps", "5", "--out",
                       tmp_path / "d", "--scheduler", "tcp://127.0.0.1:9", "--no-progress")
    errors = [line for line in err.splitlines() if line.startswith("genlab: error: ")]
    assert code != 0 and len(errors) == 1 and "Traceback" not in err
    assert "cannot reach the Dask scheduler" in errors[0] and "dask worker" in errors[0]
