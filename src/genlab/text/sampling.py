"""The sampler's maths as pure functions: temperature, top-k and nucleus (top-p) filtering, one sampling step.

Sources: temperature reweighting as in the char-LSTM ``sample`` of Chollet, *Deep Learning with Python*; top-k
sampling from Fan, Lewis & Dauphin, "Hierarchical Neural Story Generation" (2018); nucleus sampling from Holtzman
et al., "The Curious Case of Neural Text Degeneration" (ICLR 2020). Order of the filters as in nanoGPT and Hugging
Face ``generate``: temperature, then top-k, then top-p.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch

from genlab.core.errors import ConfigError

__all__ = [
    "check_sampling_options",
    "reweight_distribution",
    "sample_logits",
    "top_k_filter",
    "top_p_filter",
]

# top_p_filter counts a cumulative probability within this of p as reaching p: float32 sums of probabilities are
# off by ~1e-7, which must not decide whether 0.5 + 0.3 "reaches" 0.8.
_TOP_P_TOL = 1e-6


def _is_number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def _is_int(x: Any) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


def check_sampling_options(
    *,
    temperature: float | Sequence[float] = 1.0,
    top_k: int | None = None,
    top_p: float | None = None,
    length: int | None = None,
    n: int | None = None,
) -> None:
    """Raise :class:`ConfigError` naming the flag of the first bad option; ``None`` means "not set"."""
    temps = list(temperature) if isinstance(temperature, Sequence) and not isinstance(temperature, str) \
        else [temperature]
    if not temps:
        raise ConfigError("--temperature needs at least one value (e.g. 1.0)")
    for t in temps:
        if not _is_number(t) or math.isnan(t):
            raise ConfigError(f"--temperature must be a number >= 0 (got {t!r})")
        if t < 0:
            raise ConfigError(f"--temperature must be >= 0 (got {float(t)})")
        if math.isinf(t):
            raise ConfigError(f"--temperature must be finite (got {t}); use a large value such as 10 for near-uniform "
                              f"sampling")
    if top_k is not None:
        if not _is_int(top_k):
            raise ConfigError(f"--top-k must be an integer >= 1 (got {top_k!r})")
        if top_k < 1:
            raise ConfigError(f"--top-k must be >= 1 (got {top_k})")
    if top_p is not None and (not _is_number(top_p) or not 0 < top_p <= 1):  # NaN fails the comparison too
        raise ConfigError(f"--top-p must be in (0, 1] (got {top_p!r})")
    if length is not None and (not _is_int(length) or length < 0):
        raise ConfigError(f"--length must be >= 0 (got {length!r})")
    if n is not None and (not _is_int(n) or n < 1):
        raise ConfigError(f"--n must be >= 1 (got {n!r})")


def reweight_distribution(probs: torch.Tensor, temperature: float) -> torch.Tensor:
    """Chollet's temperature reweighting of a distribution over the last dim:
    ``p' = exp(log(p) / T) / sum(exp(log(p) / T))``, T > 0. T < 1 sharpens, T > 1 flattens, T = 1 is the identity.
    """
    if not _is_number(temperature) or not temperature > 0 or math.isinf(temperature):
        raise ConfigError(f"temperature for reweighting must be a finite number > 0 (got {temperature!r}); "
                          f"for greedy decoding use temperature 0 with sample_logits")
    # softmax(x) = exp(x) / sum(exp(x)), computed stably; log(0) = -inf gives weight 0 as it should.
    return torch.softmax(torch.log(probs) / temperature, dim=-1)


def top_k_filter(logits: torch.Tensor, k: int) -> torch.Tensor:
    """``logits`` (..., V) with every entry below the k-th largest of its row set to -inf (Fan et al. 2018).

    Entries tied with the k-th largest are kept (as nanoGPT does). ``k >= V`` returns ``logits`` unchanged.
    """
    check_sampling_options(top_k=k)
    if k >= logits.shape[-1]:
        return logits
    kth = torch.topk(logits, k, dim=-1).values[..., -1:]
    return logits.masked_fill(logits < kth, float("-inf"))


def top_p_filter(logits: torch.Tensor, p: float) -> torch.Tensor:
    """Nucleus filtering (Holtzman et al. 2020) over the last dim: keep the smallest set of most probable tokens
    whose cumulative probability is >= ``p`` (within 1e-6, for float rounding), set the rest to -inf.

    The most probable token is always kept; ``p = 1`` returns ``logits`` unchanged.
    """
    check_sampling_options(top_p=p)
    if p >= 1:
        return logits
    sorted_logits, order = torch.sort(logits, dim=-1, descending=True)
    probs = torch.softmax(sorted_logits.float(), dim=-1)  # float32 at least: bf16 cumsums are far too coarse
    before = torch.cumsum(probs, dim=-1) - probs  # probability mass of the more probable tokens
    # A token is dropped once the tokens before it already reach p; the first has none before it, so it stays.
    drop_sorted = before >= p - _TOP_P_TOL
    drop_sorted[..., 0] = False
    drop = torch.zeros_like(drop_sorted).scatter(-1, order, drop_sorted)  # back to vocabulary order
    return logits.masked_fill(drop, float("-inf"))


def sample_logits(
    logits: torch.Tensor,
    *,
    temperature: float = 1.0,
    top_k: int | None = None,
    top_p: float | None = None,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Draw one token id per row of ``logits`` (B, V); returns (B,) int64.

    Temperature 0 is greedy decoding (argmax, no randomness). Otherwise the logits are divided by T, which equals
    Chollet's reweighting of ``softmax(logits)`` because ``log softmax(l) = l - logsumexp(l)`` differs from ``l`` by
    a constant that the normalisation removes; then top-k, then top-p, then one multinomial draw. Computed in
    float32 whatever the dtype of ``logits``. ``generator`` must live on the device of ``logits``.
    """
    check_sampling_options(temperature=temperature, top_k=top_k, top_p=top_p)
    if not _is_number(temperature):  # a sequence of temperatures passed the check above: one step takes one
        raise ConfigError(f"--temperature must be one number for a sampling step (got {temperature!r})")
    if logits.ndim != 2:
        raise ValueError(f"logits must have shape (B, V), got {tuple(logits.shape)}")
    logits = logits.float()
    if temperature == 0:
        return logits.argmax(dim=-1)  # top-k/top-p always keep the argmax, so they cannot change this
    # Subtract the row max before dividing: a tiny T then drives the others to -inf instead of overflowing to +inf.
    logits = (logits - logits.amax(dim=-1, keepdim=True)) / temperature
    if top_k is not None:
        logits = top_k_filter(logits, top_k)
    if top_p is not None:
        logits = top_p_filter(logits, top_p)
    probs = torch.softmax(logits, dim=-1)
    return torch.multinomial(probs, 1, generator=generator).squeeze(-1)
