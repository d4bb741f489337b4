"""Shards, collection (round trip, resume after a kill), frame processing, the RNN's training windows."""

from __future__ import annotations

import numpy as np
import pytest

from genlab.core.errors import DataError
from genlab.worldmodels import rollout as rollout_module
from genlab.worldmodels.data import (FRAME_KEYS, SequenceDataset, load_shards, read_shard, shard_path,
                                     write_shard)
from genlab.worldmodels.env import process_frame
from genlab.worldmodels.pipeline import collect


def test_process_frame_crops_the_dashboard_and_resizes():
    obs = np.zeros((96, 96, 3), np.uint8)
    obs[84:] = 255  # the dashboard rows
    out = process_frame(obs)
    assert out.shape == (64, 64, 3) and out.dtype == np.uint8
    assert out.max() == 0  # nothing of the dashboard survives the crop


def test_shard_round_trip_and_corrupt_shards_are_skipped_and_named(tmp_path, capsys):
    rng = np.random.default_rng(0)
    arrays = dict(frames=rng.integers(0, 255, (7, 64, 64, 3), dtype=np.uint8), actions=rng.random((7, 3),
                  dtype=np.float32), rewards=rng.random(7, dtype=np.float32), dones=np.zeros(7, bool),
                  seed=np.int64(42))
    path = write_shard(shard_path(tmp_path, 0), **arrays)
    back = read_shard(path)
    for k, v in arrays.items():
        assert np.array_equal(back[k], v) and back[k].dtype == np.asarray(v).dtype
    shard_path(tmp_path, 1).write_bytes(path.read_bytes()[:200])  # truncated by a kill or a full disk
    good = load_shards(tmp_path, FRAME_KEYS, what="--data", fix="x")
    assert [p.name for p, _ in good] == ["episode_00000.npz"]
    assert "episode_00001.npz" in capsys.readouterr().err
    path.unlink()
    with pytest.raises(DataError, match="none readable"):
        load_shards(tmp_path, FRAME_KEYS, what="--data", fix="collect first")


def test_collect_writes_shards_that_match_their_episode(tiny_data):
    shards = load_shards(tiny_data, FRAME_KEYS, what="--data", fix="")
    assert len(shards) == 3
    for i, (path, s) in enumerate(shards):
        assert int(s["seed"]) == i
        assert s["frames"].shape == (24, 64, 64, 3) and s["actions"].shape == (24, 3)
        # the random policy: one action held for 5 frames, within CarRacing's ranges
        assert np.array_equal(s["actions"][0], s["actions"][4]) and not np.array_equal(s["actions"][4],
                                                                                       s["actions"][5])
        assert (np.abs(s["actions"][:, 0]) <= 1).all() and (s["actions"][:, 1:] >= 0).all()
    again = rollout_module.run_episode(rollout_module.Task(seed=1, max_steps=24, record=True))
    assert np.array_equal(again.frames, shards[1][1]["frames"])
    assert again.total_reward == pytest.approx(float(shards[1][1]["rewards"].sum()), abs=1e-4)


def test_a_killed_collection_keeps_its_shards_and_continues(tmp_path, monkeypatch, tiny_data):
    real = rollout_module.run_episode
    calls = {"n": 0}

    def dies_on_the_third(task, env=None):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt  # kill -INT twice: abort mid-episode
        return real(task, env)

    monkeypatch.setattr(rollout_module, "run_episode", dies_on_the_third)
    out = tmp_path / "car"
    with pytest.raises(KeyboardInterrupt):
        collect(out, episodes=3, seed=0, max_episode_steps=24, show_progress=False)
    assert sorted(p.name for p in out.glob("episode_*.npz")) == ["episode_00000.npz", "episode_00001.npz"]
    assert not list(out.glob(".*tmp"))  # no half-written shard
    monkeypatch.setattr(rollout_module, "run_episode", real)
    r = collect(out, episodes=3, seed=0, max_episode_steps=24, show_progress=False)
    assert (r["kept"], r["written"]) == (2, 1)
    for i in range(3):  # the same shards as an uninterrupted collection
        assert np.array_equal(read_shard(shard_path(out, i))["frames"], read_shard(shard_path(tiny_data, i))["frames"])


def test_sequence_windows():
    ep = {"mu": np.arange(10 * 2, dtype=np.float32).reshape(10, 2), "logvar": np.zeros((10, 2), np.float32),
          "actions": np.ones((10, 3), np.float32), "rewards": np.arange(10, dtype=np.float32),
          "dones": np.zeros(10, bool)}
    ds = SequenceDataset([ep], seq_len=4)
    assert len(ds) == 2  # windows at 0 and 4 (each needs 5 frames); the remainder is dropped
    mu, logvar, actions, prev, rewards, dones = ds[1]
    assert mu.shape == (5, 2) and float(mu[0, 0]) == 8.0
    assert prev.tolist() == [3.0, 4.0, 5.0, 6.0] and rewards.tolist() == [4.0, 5.0, 6.0, 7.0]
    with pytest.raises(DataError, match="--seq-len"):
        SequenceDataset([ep], seq_len=10)
