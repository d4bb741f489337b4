"""``play`` (the controller in the real game: frame | reconstruction | actions) and ``dream`` (a decoded dream)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..core.errors import CheckpointError, ConfigError
from ..core.io import read_json
from .controller import SEARCH_FILE, load_controller_run
from .env import EVAL_SEED_BASE, check_env_available, make_env, process_frame
from .rollout import Task, run_episode


def play(run: str | Path, *, output: str | Path, seed: int = EVAL_SEED_BASE, max_episode_steps: int = 1000,
         which: str = "mean", every: int = 1, fps: int = 20) -> dict[str, Any]:
    """One real episode of the controller on track ``seed`` (default: the first evaluation track) as a video."""
    from .media import play_video
    from .pipeline import load_vae

    check_env_available()
    model, info = load_controller_run(run, which)
    rnn = info["rnn"] if info["search"]["inputs"] == "zh" else None
    episode = run_episode(Task(seed=seed, max_steps=max_episode_steps, params=model.flat_parameters().numpy(),
                               vae=info["vae"], rnn=rnn, record=True))
    path = play_video(episode, load_vae(info["vae"]), output, every=every, fps=fps)
    return {"output": str(path), "seed": seed, "return": episode.total_reward, "steps": episode.steps}


def _models_of(run: Path, vae: str | None):
    """(vae dir, rnn dir, controller or None, inputs) of a controller run or an MDN-RNN run."""
    from .pipeline import vae_latent_dim

    if (run / SEARCH_FILE).exists():
        model, info = load_controller_run(run)
        if info["rnn"] is None:
            raise ConfigError(f"{run} is a V-only controller (no MDN-RNN): it has no dream")
        return info["vae"], info["rnn"], model
    from ..core.model import read_model_config, resolve_model_dir

    cfg = read_model_config(resolve_model_dir(run))
    if cfg.get("model_type") != "worldmodels-mdnrnn":
        raise CheckpointError(f"{run} is neither a controller run nor an MDN-RNN run ({cfg.get('model_type')})")
    if vae is None:
        rc = run / "train_config.json"
        vae = (read_json(rc, what="run config").get("worldmodels", {}) or {}).get("vae") if rc.exists() else None
        if vae is None:
            raise ConfigError(f"{run} does not say which VAE encoded its data; pass --vae RUN")
    d, _ = vae_latent_dim(vae)
    if d != int(cfg["config"]["latent_dim"]):
        raise ConfigError(f"--vae {vae} has z of size {d}, the MDN-RNN {run} predicts z of size "
                          f"{cfg['config']['latent_dim']}")
    return str(vae), str(run), None


@torch.no_grad()
def dream(run: str | Path, *, output: str | Path, steps: int = 300, temperature: float = 1.0, seed: int = 0,
          vae: str | None = None, fps: int = 20, figure: str | Path | None = None) -> dict[str, Any]:
    """Decode a dream rollout (from the first frame of training track ``seed``) as a video: the run's controller
    acts inside the MDN-RNN (an MDN-RNN run alone: random actions, refreshed every 5 frames). With ``figure``,
    also the real episode vs the dream under the same actions."""
    from .dream import dream_rollout
    from .losses import mdn_sample
    from .media import decode_z, dream_vs_real_figure, save_video
    from .pipeline import load_rnn, load_vae
    from .rollout import random_actions

    if temperature < 0:
        raise ConfigError(f"--temperature must be >= 0 (got {temperature})")
    if steps < 1:
        raise ConfigError(f"--steps must be >= 1 (got {steps})")
    check_env_available()
    vae_dir, rnn_dir, controller = _models_of(Path(run), vae)
    v, m = load_vae(vae_dir), load_rnn(rnn_dir)
    env = make_env(max_episode_steps=steps)
    obs, _ = env.reset(seed=seed)
    first = process_frame(obs)
    z0 = v.encode(torch.from_numpy(first).permute(2, 0, 1)[None].float() / 255.0)[0]
    if controller is not None:
        total, zs, acts = dream_rollout(m, controller.flat_parameters()[None], z0, horizon=steps,
                                        temperature=temperature, seeds=[seed], record=True,
                                        run_to_horizon=True)
        zs, acts = zs[:, 0], acts[:, 0].numpy()
    else:
        acts = random_actions(seed, steps)
        z, state, prev = z0, m.initial_state(1), torch.zeros(1)
        g = torch.Generator().manual_seed(seed)
        zl, total = [], 0.0
        for t in range(steps):
            zl.append(z[0])
            (lp, mu, ls, rl, dl), state = m.step(z, torch.from_numpy(acts[t])[None], prev, state)
            prev = m.expected_reward(rl)
            total += float(prev)
            z = mdn_sample(lp, mu, ls, temperature, uniform=torch.rand(z.shape, generator=g),
                           normal=torch.randn(z.shape, generator=g))
        zs, total = torch.stack(zl), torch.tensor([total])
    from .media import _big, action_panel, hstack

    decoded = decode_z(v, zs)
    frames = [hstack([_big(decoded[t]), action_panel(acts[t])]) for t in range(len(decoded))]
    path = save_video(frames, output, fps=fps)
    result = {"output": str(path), "steps": len(decoded), "dream_return": float(total[0]),
              "temperature": temperature, "seed": seed}
    if figure is not None:
        real = [first]
        for t in range(len(acts) - 1):
            obs, _, term, trunc, _ = env.step(acts[t])
            real.append(process_frame(obs))
            if term or trunc:
                break
        real = np.stack(real)
        # open loop: the same actions, the MDN-RNN's most likely next z (tau -> 0) from the same first frame
        z, state, prev, zl = z0, m.initial_state(1), torch.zeros(1), []
        for t in range(len(real)):
            zl.append(z[0])
            (lp, mu, ls, rl, dl), state = m.step(z, torch.from_numpy(np.asarray(acts[t]))[None].float(), prev, state)
            prev = m.expected_reward(rl)
            z = mdn_sample(lp, mu, ls, 0.0, uniform=torch.zeros(()), normal=torch.zeros(()))
        result["figure"] = str(dream_vs_real_figure(real, decode_z(v, torch.stack(zl)), figure))
    env.close()
    return result
