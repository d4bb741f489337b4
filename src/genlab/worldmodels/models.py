"""The M and C of World Models (Ha & Schmidhuber 2018): the MDN-RNN and the linear controller.

    >>> rnn = MDNRNN(MDNRNNConfig(latent_dim=32))           # LSTM 256, 5 Gaussians per z dimension, reward/done heads
    >>> out = rnn(mu, logvar, actions, prev_rewards, rewards, dones)   # {"loss", "z_nll", "reward_bce", "done_bce"}
    >>> heads, state = rnn.step(z, a, r_prev, state)        # one step, (B, ...) batched
    >>> ctrl = Controller(ControllerConfig(latent_dim=32, hidden_size=256))   # a = f(W [z, h] + b)

The MDN-RNN reads (z_t, a_t, r_{t-1}) and predicts z_{t+1} (a mixture of K Gaussians per dimension), whether step t
earns a tile (reward > 0) and whether the episode ends. The controller maps [z_t, h_t] to (steer, gas, brake) with
one linear layer: steer = tanh(.), gas = (tanh(.) + 1) / 2, brake = clip(tanh(.), 0, 1), as in the paper's code.
``hidden_size = 0`` is the paper's "V only" controller (z alone).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from ..core.config import cfg_field, check_int
from ..core.errors import ConfigError
from ..core.model import GenlabModel, register_model
from .env import ACTION_DIM
from .losses import bernoulli_bce, mdn_nll


@dataclass
class MDNRNNConfig:
    latent_dim: int = cfg_field(32, help="size of z (set from the encoded data)", cli=False)
    action_dim: int = cfg_field(ACTION_DIM, help="size of the action (CarRacing: steer, gas, brake)", cli=False)
    hidden_size: int = cfg_field(256, help="LSTM hidden units (the paper: 256)")
    num_mixtures: int = cfg_field(5, help="Gaussians per z dimension (the paper: 5)")
    reward_positive: float = cfg_field(3.0, help="mean reward of a tile step in the data (set from the data)",
                                       cli=False)
    reward_negative: float = cfg_field(-0.1, help="mean reward of any other step in the data (set from the data)",
                                       cli=False)

    def __post_init__(self) -> None:
        check_int("latent_dim", self.latent_dim, 1)
        check_int("action_dim", self.action_dim, 1)
        check_int("hidden_size", self.hidden_size, 1)
        check_int("num_mixtures", self.num_mixtures, 1)


@register_model
class MDNRNN(GenlabModel):
    """LSTM over [z_t, a_t, r_{t-1}] with an MDN head (K mixtures per z dimension) plus reward and done logits."""

    model_type = "worldmodels-mdnrnn"
    family = "worldmodels"
    config_class = MDNRNNConfig

    def __init__(self, config: MDNRNNConfig) -> None:
        super().__init__(config)
        c = config
        self.lstm = nn.LSTM(c.latent_dim + c.action_dim + 1, c.hidden_size, batch_first=True)
        self.head = nn.Linear(c.hidden_size, 3 * c.num_mixtures * c.latent_dim + 2)

    @property
    def latent_dim(self) -> int:
        return self.config.latent_dim

    @property
    def hidden_size(self) -> int:
        return self.config.hidden_size

    def heads(self, out: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """LSTM outputs (..., H) -> (logit_pi, mu, log_sigma) each (..., D, K), reward logit (...), done logit (...)."""
        c = self.config
        y = self.head(out)
        mdn, reward, done = y[..., :-2], y[..., -2], y[..., -1]
        mdn = mdn.view(*y.shape[:-1], c.latent_dim, 3, c.num_mixtures)
        logit_pi, mu, log_sigma = mdn.unbind(-2)
        return logit_pi, mu, log_sigma.clamp(-7.0, 5.0), reward, done

    def inputs(self, z: torch.Tensor, actions: torch.Tensor, prev_rewards: torch.Tensor) -> torch.Tensor:
        return torch.cat([z, actions, prev_rewards.unsqueeze(-1)], dim=-1)

    def forward(self, mu: torch.Tensor, logvar: torch.Tensor, actions: torch.Tensor, prev_rewards: torch.Tensor,
                rewards: torch.Tensor, dones: torch.Tensor) -> dict[str, torch.Tensor]:
        """Teacher-forced loss on windows: ``mu``/``logvar`` (B, L+1, D) from the VAE, ``actions`` (B, L, A),
        ``prev_rewards``/``rewards``/``dones`` (B, L). z is drawn from N(mu, sigma^2) (as the paper: a fresh draw per
        epoch). loss = z NLL (nats per dimension) + reward BCE + done BCE."""
        if mu.shape[-1] != self.latent_dim:
            raise ConfigError(f"this MDN-RNN takes z of size {self.latent_dim}, the data has {mu.shape[-1]}")
        z = mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)
        out, _ = self.lstm(self.inputs(z[:, :-1], actions, prev_rewards))
        logit_pi, m, log_sigma, reward_logit, done_logit = self.heads(out)
        z_nll = mdn_nll(logit_pi, m, log_sigma, z[:, 1:])
        reward_bce = bernoulli_bce(reward_logit, (rewards > 0).float())
        done_bce = bernoulli_bce(done_logit, dones.float())
        return {"loss": z_nll + reward_bce + done_bce, "z_nll": z_nll, "reward_bce": reward_bce, "done_bce": done_bce}

    def initial_state(self, batch: int, *, device=None, dtype=None) -> tuple[torch.Tensor, torch.Tensor]:
        p = next(self.parameters())
        shape = (1, batch, self.hidden_size)
        return (torch.zeros(shape, device=device or p.device, dtype=dtype or p.dtype),
                torch.zeros(shape, device=device or p.device, dtype=dtype or p.dtype))

    def step(self, z: torch.Tensor, action: torch.Tensor, prev_reward: torch.Tensor,
             state: tuple[torch.Tensor, torch.Tensor]) -> tuple[tuple[torch.Tensor, ...], tuple[torch.Tensor, torch.Tensor]]:
        """One step for a batch: ``z`` (B, D), ``action`` (B, A), ``prev_reward`` (B,) -> (heads, new state).
        ``state[0][0]`` (B, H) is h, the controller's input for the next step."""
        out, state = self.lstm(self.inputs(z, action, prev_reward).unsqueeze(1), state)
        return self.heads(out[:, 0]), state

    def expected_reward(self, reward_logit: torch.Tensor) -> torch.Tensor:
        """The dream's reward: P(tile) * mean tile reward + (1 - P(tile)) * mean other reward (from the data)."""
        p = torch.sigmoid(reward_logit)
        return p * self.config.reward_positive + (1 - p) * self.config.reward_negative


@dataclass
class ControllerConfig:
    latent_dim: int = cfg_field(32, help="size of z (from the VAE)", cli=False)
    hidden_size: int = cfg_field(256, help="size of h (from the MDN-RNN; 0 = V only: the controller sees z alone)",
                                 cli=False)
    action_dim: int = cfg_field(ACTION_DIM, help="size of the action", cli=False)

    def __post_init__(self) -> None:
        check_int("latent_dim", self.latent_dim, 1)
        check_int("hidden_size", self.hidden_size, 0)
        check_int("action_dim", self.action_dim, 1)

    @property
    def input_size(self) -> int:
        return self.latent_dim + self.hidden_size

    @property
    def num_parameters(self) -> int:
        return self.action_dim * self.input_size + self.action_dim


def squash_actions(raw: torch.Tensor) -> torch.Tensor:
    """tanh outputs (..., 3) -> CarRacing's ranges: steer tanh, gas (tanh + 1) / 2, brake clip(tanh, 0, 1)."""
    a = torch.tanh(raw)
    return torch.stack([a[..., 0], (a[..., 1] + 1) / 2, a[..., 2].clamp(0, 1)], dim=-1)


def batched_actions(params: torch.Tensor, x: torch.Tensor, config: ControllerConfig) -> torch.Tensor:
    """Actions of P controllers at once: flat ``params`` (P, n) (W row-major, then b) on inputs ``x`` (P, in)."""
    a, n_in = config.action_dim, config.input_size
    w = params[:, : a * n_in].view(-1, a, n_in)
    b = params[:, a * n_in:]
    return squash_actions(torch.bmm(w, x.unsqueeze(-1)).squeeze(-1) + b)


@register_model
class Controller(GenlabModel):
    """One linear layer [z, h] -> 3 actions; its weights are found by CMA-ES (no gradients)."""

    model_type = "worldmodels-controller"
    family = "worldmodels"
    config_class = ControllerConfig

    def __init__(self, config: ControllerConfig) -> None:
        super().__init__(config)
        self.linear = nn.Linear(config.input_size, config.action_dim)

    def forward(self, z: torch.Tensor, h: torch.Tensor | None = None) -> torch.Tensor:
        x = z if self.config.hidden_size == 0 else torch.cat([z, h], dim=-1)
        return squash_actions(self.linear(x))

    def flat_parameters(self) -> torch.Tensor:
        return torch.cat([self.linear.weight.detach().reshape(-1), self.linear.bias.detach()])

    @torch.no_grad()
    def set_flat_parameters(self, flat) -> "Controller":
        flat = torch.as_tensor(flat, dtype=self.linear.weight.dtype)
        if flat.numel() != self.config.num_parameters:
            raise ConfigError(f"expected {self.config.num_parameters} controller parameters, got {flat.numel()}")
        k = self.linear.weight.numel()
        self.linear.weight.copy_(flat[:k].view_as(self.linear.weight))
        self.linear.bias.copy_(flat[k:])
        return self


__all__ = ["MDNRNNConfig", "MDNRNN", "ControllerConfig", "Controller", "batched_actions", "squash_actions"]
