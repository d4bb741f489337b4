"""The first stages of World Models: collect rollouts, train the VAE (the latent family's conv VAE), encode the
frames, train the MDN-RNN on the engine.

    >>> collect("data/car", episodes=200, workers=2, seed=0, max_episode_steps=300)
    >>> train_vae(data_config=FramesDataConfig(data="data/car"), out="runs/wm/vae")
    >>> encode("data/car", vae="runs/wm/vae", out="data/car-z")
    >>> train_rnn(data_config=SequenceDataConfig(data="data/car-z"), out="runs/wm/rnn")
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..core.config import from_dict, to_dict
from ..core.engine import TrainConfig, Trainer, TrainResult
from ..core.errors import CheckpointError, ConfigError, DataError
from ..core.io import read_json, write_json_atomic
from ..core.signals import graceful_stop
from .data import (FRAME_KEYS, FramesDataConfig, SequenceDataConfig, SequenceDataset, load_frames,
                   load_latent_episodes, load_shards, read_encode_meta, reward_statistics, shard_index, shard_path,
                   valid_shard, write_shard)
from .env import ENV_ID, FRAME_SIZE, check_env_available, check_training_seed
from .models import MDNRNN, MDNRNNConfig
from .rollout import Executor, Task, progress

FRAME_BYTES = FRAME_SIZE * FRAME_SIZE * 3
VAE_DEFAULTS = dict(arch="conv", latent_dim=32, conv_channels=(32, 64, 128, 256), image_channels=3, image_size=64)
VAE_TRAIN = dict(epochs=1, batch_size=64, lr=1e-3, lr_schedule="cosine", min_lr_ratio=0.1, warmup_steps=20,
                 log_every=20, sample_every=0, checkpoint_every=500)
RNN_TRAIN = dict(epochs=20, batch_size=32, lr=1e-3, grad_clip=1.0, lr_schedule="cosine", min_lr_ratio=0.1,
                 warmup_steps=20, log_every=20, sample_every=0, checkpoint_every=500)


def say(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# ---- collect ---------------------------------------------------------------------------------------------------

def collect(out: str | Path, *, episodes: int, workers: int = 1, seed: int = 0, max_episode_steps: int = 1000,
            scheduler: str | None = None, show_progress: bool = True) -> dict[str, Any]:
    """Random rollouts (the action refreshed every 5 frames), episode ``i`` on track seed ``seed + i``, one shard each.

    Resumable: shards already in ``out`` (readable ones) are kept and skipped; a killed collection continues when the
    same command is run again. Returns a summary (episodes written / kept, steps, bytes, seconds).
    """
    for name, value in (("episodes", episodes), ("workers", workers), ("max_episode_steps", max_episode_steps)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ConfigError(f"--{name.replace('_', '-')} must be >= 1 (got {value})")
    check_training_seed(seed, episodes, "collect")
    check_env_available()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    meta_path = out / "collect.json"
    meta = {"env": ENV_ID, "policy": "random (uniform action held 5 frames; brake in [0, 0.2])", "seed": seed,
            "max_episode_steps": max_episode_steps, "frame": "top 84 of 96 rows, bilinear 64x64 (Ha & Schmidhuber)"}
    if meta_path.exists():
        old = read_json(meta_path, what="collection metadata")
        changed = [k for k in ("seed", "max_episode_steps") if old.get(k) != meta[k]]
        if changed:
            raise ConfigError(f"{out} was collected with " + ", ".join(f"--{k.replace('_', '-')} {old.get(k)}"
                                                                          for k in changed)
                              + "; continue it with the same values or choose another --out")
    write_json_atomic(meta_path, {**meta, "episodes": max(episodes, read_json(meta_path).get("episodes", 0)
                                                          if meta_path.exists() else 0)})
    have = {i for i in range(episodes) if shard_path(out, i).exists() and valid_shard(shard_path(out, i), FRAME_KEYS)}
    todo = [i for i in range(episodes) if i not in have]
    raw = len(todo) * max_episode_steps * FRAME_BYTES
    say(f"collect: {len(todo)} episode(s) to run ({len(have)} already in {out}), up to {max_episode_steps} steps "
        f"each: at most {raw / 1e6:.0f} MB of frames uncompressed, about {raw / 1e6 / 10:.0f} MB as compressed "
        f"shards (CarRacing frames compress about 10x: 1.26 KB a frame measured on random episodes)")
    start = time.time()
    written = {"n": 0, "steps": 0, "bytes": 0, "returns": []}
    update, close = progress(len(todo), "collect", enabled=show_progress)

    def save(r) -> None:
        index = r.tag
        path = shard_path(out, index)
        write_shard(path, frames=r.frames, actions=r.actions, rewards=r.rewards, dones=r.dones,
                    seed=np.int64(r.seed))
        written["n"] += 1
        written["steps"] += r.steps
        written["bytes"] += path.stat().st_size
        written["returns"].append(r.total_reward)
        update(1, ret=f"{r.total_reward:.0f}")

    tasks = [Task(seed=seed + i, max_steps=max_episode_steps, record=True, tag=i) for i in todo]
    try:
        with graceful_stop(message="interrupt: keeping the finished shards (run the same command to continue)") \
                as stop, Executor(workers, scheduler) as ex:
            ex.run(tasks, on_result=save, stop=stop)
            stop.raise_if_requested(f"stopped after {written['n']} of {len(todo)} episodes; the finished shards are "
                                    f"in {out}; run the same command to continue")
    finally:
        close()
    seconds = time.time() - start
    return {"out": str(out), "written": written["n"], "kept": len(have), "steps": written["steps"],
            "bytes": written["bytes"], "seconds": seconds, "mean_return": float(np.mean(written["returns"]))
            if written["returns"] else None, "workers": workers, "engine": "dask" if scheduler else
            ("pool" if workers > 1 else "serial")}


# ---- train-vae: the latent family's conv VAE on the frames --------------------------------------------------------

def train_vae(model_config: Any = None, data_config: FramesDataConfig | None = None,
              train_config: TrainConfig | None = None, *, out: str | Path | None = None, resume: bool = False,
              overrides: dict[str, Any] | None = None) -> TrainResult:
    """Train ``genlab.latent``'s VAE (conv, z = 32 by default) on the collected 64x64x3 frames.

    The run is an ordinary VAE run (family ``vae``): ``genlab vae sample RUN`` works on it.
    """
    from ..core.device import seed_everything
    from ..core.runs import resumed_configs
    from ..data.tensor import TensorImageDataset
    from ..latent import VAEConfig, VAETrainer
    from ..latent.models import VAE_CLASSES

    if resume:
        model_config, data_config, train_config = resumed_configs(
            out, family="vae", data_class=FramesDataConfig, overrides=dict(overrides or {}))
    else:
        model_config = model_config or from_dict(VAEConfig, VAE_DEFAULTS)
        data_config = data_config or FramesDataConfig()
        train_config = train_config or TrainConfig(**VAE_TRAIN)
    frames = load_frames(data_config)
    c, h, w = frames.shape[1:]
    if (model_config.image_channels, model_config.image_size) != (c, h):
        if resume:
            raise ConfigError(f"the frames are now {c}x{h}x{w}, the run was trained on 3x{model_config.image_size}")
        model_config = from_dict(VAEConfig, {**to_dict(model_config), "image_channels": int(c), "image_size": int(h)})
    run_dir = Path(out) if out is not None else Path("runs/worldmodels") / f"vae-z{model_config.latent_dim}-{time.strftime('%Y%m%d-%H%M%S')}"
    seed_everything(train_config.seed)
    model = VAE_CLASSES[model_config.arch](model_config)
    dataset = TensorImageDataset(frames)
    fixed = frames[torch.linspace(0, len(frames) - 1, 8).long()].float() / 255.0

    def sample_fn(m, path: Path) -> None:
        from ..viz import save_image_grid

        save_image_grid(torch.cat([fixed, m.reconstruct(fixed).cpu()]), path.with_suffix(".png"), nrow=8)

    run_config = {"family": "vae", "model_type": model.model_type, "model": to_dict(model_config),
                  "data": to_dict(data_config), "worldmodels": {"stage": "vae", "frames": len(frames)}}
    trainer = VAETrainer(model, dataset, train_config, run_dir, run_config=run_config, sample_fn=sample_fn)
    return trainer.fit(resume=resume)


def load_vae(run: str | Path, *, device: str = "cpu"):
    """The VAE of a ``train-vae`` run (or any 3x64x64 ``genlab vae`` run); refuses other families / image sizes."""
    from ..core.model import load

    model = load(run, family="vae", device=device)
    if model.image_shape != (3, FRAME_SIZE, FRAME_SIZE):
        raise ConfigError(f"{run} is a VAE of {'x'.join(map(str, model.image_shape))} images; World Models needs "
                          f"3x{FRAME_SIZE}x{FRAME_SIZE} frames (train one with `genlab worldmodels train-vae`)")
    return model


def vae_latent_dim(run: str | Path) -> tuple[int, tuple[int, ...]]:
    """(latent_dim, image shape) of a VAE run without loading its weights."""
    from ..core.model import read_model_config, resolve_model_dir

    cfg = read_model_config(resolve_model_dir(run))
    if cfg.get("family") != "vae":
        raise CheckpointError(f"{run} holds {cfg.get('family', '?')} model ({cfg.get('model_type')}), not a VAE")
    c = cfg["config"]
    return int(c["latent_dim"]), (int(c["image_channels"]), int(c["image_size"]), int(c["image_size"]))


# ---- encode ------------------------------------------------------------------------------------------------------

@torch.no_grad()
def encode(data: str | Path, *, vae: str | Path, out: str | Path, batch_size: int = 256,
           show_progress: bool = True) -> dict[str, Any]:
    """Encode every frame of every shard with the VAE: mu and log sigma^2 per frame (``Z/episode_*.npz``).

    Resumable (episodes already encoded with the same VAE are kept)."""
    model = load_vae(vae)
    out = Path(out)
    vae_dir = str(Path(vae).resolve())
    meta = {"vae": vae_dir, "latent_dim": model.latent_dim, "image_shape": list(model.image_shape),
            "data": str(Path(data).resolve())}
    meta_path = out / "encode.json"
    if meta_path.exists():
        old = read_json(meta_path, what="encode metadata")
        if old.get("vae") != vae_dir:
            raise ConfigError(f"{out} was encoded with the VAE {old.get('vae')}; use another --out for {vae_dir}")
    shards = load_shards(data, FRAME_KEYS, what="--data", fix="run `genlab worldmodels collect --out DATA` first")
    out.mkdir(parents=True, exist_ok=True)
    write_json_atomic(meta_path, meta)
    update, close = progress(len(shards), "encode", enabled=show_progress)
    n_frames, written = 0, 0
    try:
        for path, s in shards:
            target = out / path.name
            if target.exists() and valid_shard(target, ("mu", "logvar", "actions")):
                update(1)
                continue
            x = torch.from_numpy(s["frames"]).permute(0, 3, 1, 2).float() / 255.0
            mus, logvars = [], []
            for i in range(0, len(x), batch_size):
                mu, logvar = model.encode(x[i:i + batch_size])
                mus.append(mu)
                logvars.append(logvar)
            write_shard(target, mu=torch.cat(mus).numpy().astype(np.float32),
                        logvar=torch.cat(logvars).numpy().astype(np.float32), actions=s["actions"],
                        rewards=s["rewards"], dones=s["dones"], seed=s["seed"])
            n_frames += len(x)
            written += 1
            update(1)
    finally:
        close()
    return {"out": str(out), "episodes": len(shards), "encoded": written, "frames": n_frames,
            "latent_dim": model.latent_dim}


# ---- train-rnn: the MDN-RNN on the engine --------------------------------------------------------------------------

def train_rnn(model_config: MDNRNNConfig | None = None, data_config: SequenceDataConfig | None = None,
              train_config: TrainConfig | None = None, *, out: str | Path | None = None, resume: bool = False,
              overrides: dict[str, Any] | None = None, vae: str | Path | None = None) -> TrainResult:
    """Train the MDN-RNN on encoded episodes (teacher forcing, windows of ``seq_len``). ``vae`` (default: the one
    that encoded the data, if it still exists) decodes the predicted next frames written as samples."""
    from ..core.device import seed_everything
    from ..core.runs import resumed_configs

    if resume:
        model_config, data_config, train_config = resumed_configs(
            out, family="worldmodels", data_class=SequenceDataConfig, overrides=dict(overrides or {}))
    else:
        model_config = model_config or MDNRNNConfig()
        data_config = data_config or SequenceDataConfig()
        train_config = train_config or TrainConfig(**RNN_TRAIN)
    meta = read_encode_meta(data_config.data)
    episodes = load_latent_episodes(data_config.data, data_config.max_episodes)
    d = int(episodes[0]["mu"].shape[1])
    if vae is not None:
        vd, shape = vae_latent_dim(vae)
        if shape != (3, FRAME_SIZE, FRAME_SIZE):
            raise ConfigError(f"--vae {vae} is a VAE of {'x'.join(map(str, shape))} images; World Models needs "
                              f"3x{FRAME_SIZE}x{FRAME_SIZE} frames")
        if vd != d:
            raise ConfigError(f"--vae {vae} has z of size {vd}, but {data_config.data} was encoded to z of size {d}; "
                              f"give the VAE that encoded it ({meta.get('vae')})")
    vae_dir = str(vae) if vae is not None else (meta.get("vae") if meta.get("vae") and Path(meta["vae"]).exists()
                                                 else None)
    if not resume:
        pos, neg = reward_statistics(episodes)
        model_config = from_dict(MDNRNNConfig, {**to_dict(model_config), "latent_dim": d, "reward_positive": pos,
                                                "reward_negative": neg})
    elif model_config.latent_dim != d:
        raise ConfigError(f"the data now has z of size {d}, the run was trained on {model_config.latent_dim}")
    dataset = SequenceDataset(episodes, data_config.seq_len)
    run_dir = Path(out) if out is not None else Path("runs/worldmodels") / f"rnn-{time.strftime('%Y%m%d-%H%M%S')}"
    seed_everything(train_config.seed)
    model = MDNRNN(model_config)
    run_config = {"family": "worldmodels", "model_type": model.model_type, "model": to_dict(model_config),
                  "data": to_dict(data_config), "worldmodels": {"stage": "rnn", "vae": vae_dir,
                                                                "windows": len(dataset), "episodes": len(episodes)}}
    sample_fn = None
    if vae_dir is not None:
        first = dataset[0]

        def sample_fn(m, path: Path) -> None:
            from .media import save_rnn_predictions

            save_rnn_predictions(m, load_vae(vae_dir), first, path.with_suffix(".png"))

    trainer = Trainer(model, dataset, train_config, run_dir, run_config=run_config, sample_fn=sample_fn)
    return trainer.fit(resume=resume)


def untrained_rnn(out: str | Path, *, latent_dim: int, seed: int = 0, hidden_size: int = 256,
                  num_mixtures: int = 5) -> Path:
    """A randomly initialised MDN-RNN saved to ``out`` (the "untrained M" control of the benchmark)."""
    torch.manual_seed(seed)
    model = MDNRNN(MDNRNNConfig(latent_dim=latent_dim, hidden_size=hidden_size, num_mixtures=num_mixtures))
    return model.save_pretrained(out, metadata={"untrained": "1", "seed": str(seed)})


def load_rnn(run: str | Path, *, device: str = "cpu") -> MDNRNN:
    from ..core.model import load

    model = load(run, family="worldmodels", device=device)
    if not isinstance(model, MDNRNN):
        raise CheckpointError(f"{run} holds a {model.model_type} model, not an MDN-RNN (worldmodels-mdnrnn)")
    return model


__all__ = ["collect", "train_vae", "encode", "train_rnn", "untrained_rnn", "load_vae", "load_rnn", "vae_latent_dim",
           "VAE_DEFAULTS", "VAE_TRAIN", "RNN_TRAIN", "FramesDataConfig", "SequenceDataConfig"]
