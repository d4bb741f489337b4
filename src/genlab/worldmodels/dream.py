"""Rolling out controllers inside the MDN-RNN's dream: the whole population as one batched tensor computation.

    >>> returns = dream_rollout(rnn, params, z0, horizon=300, temperature=1.15, seeds=[0, 1, ...])

Each agent i (one candidate on one trial) starts from its z0, acts with its own controller weights, and the MDN-RNN
samples the next z at temperature tau; the reward is the reward head's expectation (P(tile) times the mean tile reward
of the data, plus the rest times the mean other reward) and the episode of an agent ends when its done head gives
P(done) > 1/2 (CarRacing ends rarely: a sampled done would end most dreams early by chance alone).
All of an agent's noise (mixture choices, Gaussian draws) comes from its own seed, drawn before the loop,
so an agent's dream is the same whether it is rolled out alone or with 63 others (a test checks it).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from .losses import mdn_sample
from .models import MDNRNN, ControllerConfig, batched_actions


def agent_noise(seed: int, horizon: int, latent_dim: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(uniform (T, D), normal (T, D)) of one agent, from its seed."""
    g = torch.Generator().manual_seed(int(seed))
    return torch.rand(horizon, latent_dim, generator=g), torch.randn(horizon, latent_dim, generator=g)


@torch.no_grad()
def dream_rollout(rnn: MDNRNN, params: torch.Tensor, z0: torch.Tensor, *, horizon: int, temperature: float,
                  seeds: Sequence[int], hidden_input: bool = True, record: bool = False,
                  run_to_horizon: bool = False):
    """Returns of ``len(params)`` agents dreamt for ``horizon`` steps: (P,) float64; with ``record`` also the
    (T, P, D) z's and (T, P, 3) actions.

    ``params`` (P, n): flat controller weights (see :func:`~genlab.worldmodels.models.batched_actions`); ``z0`` (P, D);
    ``seeds`` (P,): each agent's noise seed; ``hidden_input`` False is a V-only controller (z alone);
    ``run_to_horizon`` keeps stepping (and recording) after every agent is done (for videos)."""
    if temperature < 0:
        raise ValueError(f"temperature must be >= 0 (got {temperature})")
    p, d = z0.shape
    dtype = next(rnn.parameters()).dtype
    cfg = ControllerConfig(latent_dim=d, hidden_size=rnn.hidden_size if hidden_input else 0)
    noise = [agent_noise(s, horizon, d) for s in seeds]
    u = torch.stack([n[0] for n in noise], 1).to(dtype)    # (T, P, D)
    eps = torch.stack([n[1] for n in noise], 1).to(dtype)  # (T, P, D)
    params = params.to(dtype)
    z = z0.to(dtype)
    state = rnn.initial_state(p, dtype=dtype)
    prev_r = torch.zeros(p, dtype=dtype)
    alive = torch.ones(p, dtype=torch.bool)
    total = torch.zeros(p, dtype=torch.float64)
    zs, acts = [], []
    for t in range(horizon):
        x = torch.cat([z, state[0][0]], dim=-1) if hidden_input else z
        a = batched_actions(params, x, cfg)
        (logit_pi, mu, log_sigma, reward_logit, done_logit), state = rnn.step(z, a, prev_r, state)
        r = rnn.expected_reward(reward_logit)
        total += torch.where(alive, r, torch.zeros_like(r)).double()
        alive &= ~(done_logit > 0)  # the done head says P(done) > 1/2
        if record:
            zs.append(z)
            acts.append(a)
        z = mdn_sample(logit_pi, mu, log_sigma, temperature, uniform=u[t], normal=eps[t])
        prev_r = r
        if not alive.any() and not run_to_horizon:
            break
    if record:
        return total, torch.stack(zs), torch.stack(acts)
    return total


__all__ = ["dream_rollout", "agent_noise"]
