"""The MDN-RNN's objective and its sampler: pure functions on tensors.

Mixture density network (Bishop 1994, "Mixture Density Networks"), as used by Ha & Schmidhuber (2018, "World
Models", sec. 2.2 and appendix): for each of the D latent dimensions independently, p(z_{t+1} | h_t) is a mixture of
K univariate Gaussians with weights pi = softmax(logit_pi), means mu and standard deviations exp(log_sigma). The
reward head is a Bernoulli over "this step visited a new tile" (reward > 0), trained with binary cross-entropy, and
the done head likewise. Sampling with a temperature tau (paper, sec. 4.4) divides the mixture logits by tau and
multiplies the variance by tau (sigma * sqrt(tau)): tau -> 0 gives the mean of the most likely component.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)


def mdn_log_prob(logit_pi: torch.Tensor, mu: torch.Tensor, log_sigma: torch.Tensor,
                 target: torch.Tensor) -> torch.Tensor:
    """log p(target) under the mixture, per element.

    ``logit_pi``, ``mu``, ``log_sigma``: (..., K); ``target``: (...). Computed as logsumexp over k of
    log pi_k + log N(target; mu_k, sigma_k^2), stable for tiny sigmas.
    """
    log_pi = torch.log_softmax(logit_pi, dim=-1)
    x = target.unsqueeze(-1)
    log_normal = -0.5 * ((x - mu) * torch.exp(-log_sigma)) ** 2 - log_sigma - LOG_SQRT_2PI
    return torch.logsumexp(log_pi + log_normal, dim=-1)


def mdn_nll(logit_pi: torch.Tensor, mu: torch.Tensor, log_sigma: torch.Tensor, target: torch.Tensor,
            mask: torch.Tensor | None = None) -> torch.Tensor:
    """Mean negative log-likelihood (nats per latent dimension) of ``target`` under the mixture.

    ``mask`` (broadcastable to ``target``) weights the elements (1 = counted); the mean is over counted elements.
    With K = 1 this is the Gaussian NLL ``0.5 ((x - mu) / sigma)^2 + log sigma + 0.5 log 2 pi``.
    """
    nll = -mdn_log_prob(logit_pi, mu, log_sigma, target)
    if mask is None:
        return nll.mean()
    mask = mask.expand_as(nll).to(nll.dtype)
    return (nll * mask).sum() / mask.sum().clamp_min(1.0)


def bernoulli_bce(logits: torch.Tensor, target: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
    """Mean binary cross-entropy (nats) of the reward / done heads' logits against 0/1 targets."""
    bce = F.binary_cross_entropy_with_logits(logits, target.to(logits.dtype), reduction="none")
    if mask is None:
        return bce.mean()
    mask = mask.expand_as(bce).to(bce.dtype)
    return (bce * mask).sum() / mask.sum().clamp_min(1.0)


def mixture_weights(logit_pi: torch.Tensor, temperature: float = 1.0) -> torch.Tensor:
    """pi = softmax(logit_pi / tau) over the last axis (sums to 1)."""
    return torch.softmax(logit_pi / max(float(temperature), 1e-8), dim=-1)


def mdn_sample(logit_pi: torch.Tensor, mu: torch.Tensor, log_sigma: torch.Tensor, temperature: float, *,
               uniform: torch.Tensor, normal: torch.Tensor) -> torch.Tensor:
    """One draw per element from the mixture at temperature tau, from given noise (so draws are reproducible
    and the same whether agents are rolled out together or one by one).

    ``uniform`` (...) in [0, 1) picks the component by inverse CDF of pi = softmax(logit_pi / tau); ``normal`` (...)
    is the standard-normal noise: z = mu_k + sigma_k sqrt(tau) * normal. ``temperature == 0`` returns the mean of
    the most likely component (the limit tau -> 0).
    """
    if temperature < 0:
        raise ValueError(f"temperature must be >= 0 (got {temperature})")
    if temperature == 0:
        k = logit_pi.argmax(dim=-1, keepdim=True)
        return mu.gather(-1, k).squeeze(-1)
    pi = mixture_weights(logit_pi, temperature)
    cdf = pi.cumsum(dim=-1)
    k = (cdf < uniform.unsqueeze(-1)).sum(dim=-1, keepdim=True).clamp_max(pi.shape[-1] - 1)
    mean = mu.gather(-1, k).squeeze(-1)
    sigma = log_sigma.gather(-1, k).squeeze(-1).exp()
    return mean + sigma * math.sqrt(temperature) * normal


__all__ = ["mdn_log_prob", "mdn_nll", "bernoulli_bce", "mixture_weights", "mdn_sample"]
