"""The latent-space arithmetic behind the tools, as small pure functions on codes (tensors (..., D))."""

from __future__ import annotations

import torch

from ..core.errors import DataError


def lerp(a: torch.Tensor, b: torch.Tensor, steps: int) -> torch.Tensor:
    """``steps`` codes evenly spaced on the straight line from ``a`` to ``b`` (both (D,)), endpoints included: (steps, D)."""
    t = torch.linspace(0.0, 1.0, steps, dtype=torch.float64)[:, None]
    return ((1 - t) * a.double() + t * b.double()).to(a.dtype)


def slerp(a: torch.Tensor, b: torch.Tensor, steps: int, *, eps: float = 1e-7) -> torch.Tensor:
    """Spherical interpolation (Shoemake 1985; for latent codes, White, "Sampling Generative Networks", 2016):
    ``sin((1-t) w) / sin w * a + sin(t w) / sin w * b`` with ``w`` the angle between ``a`` and ``b``.

    Under a standard-normal prior codes concentrate near a sphere, which the straight line cuts through; the arc
    stays at typical norms. Falls back to :func:`lerp` for (anti)parallel codes, where the arc is undefined.
    (steps, D), endpoints included.
    """
    a64, b64 = a.double(), b.double()
    cos = torch.dot(a64, b64) / (a64.norm() * b64.norm()).clamp_min(1e-300)
    omega = torch.arccos(cos.clamp(-1.0, 1.0))
    if float(torch.sin(omega).abs()) < eps:
        return lerp(a, b, steps)
    t = torch.linspace(0.0, 1.0, steps, dtype=torch.float64)[:, None]
    out = (torch.sin((1 - t) * omega) * a64 + torch.sin(t * omega) * b64) / torch.sin(omega)
    out[0], out[-1] = a64, b64  # exact endpoints, not merely up to rounding
    return out.to(a.dtype)


def attribute_vector(codes: torch.Tensor, has_attribute: torch.Tensor, *, name: str = "the attribute") -> torch.Tensor:
    """Mean code of the examples with the attribute minus the mean of those without: (N, D), bool (N,) -> (D,).

    The "smile vector" of White (2016) and the latent arithmetic of Radford et al. (2016) / Larsen et al. (2016).
    """
    mask = has_attribute.bool()
    n_with = int(mask.sum())
    if n_with == 0:
        raise DataError(f"no images have {name}; pick another label or more images")
    if n_with == len(mask):
        raise DataError(f"every image has {name}; an attribute vector needs images without it too")
    return codes[mask].double().mean(0).to(codes.dtype) - codes[~mask].double().mean(0).to(codes.dtype)


def normal_quantiles(grid_size: int, *, low: float = 0.05, high: float = 0.95) -> torch.Tensor:
    """Standard-normal quantiles at ``grid_size`` evenly spaced probabilities in [low, high] (the Keras VAE figure)."""
    return torch.distributions.Normal(0.0, 1.0).icdf(torch.linspace(low, high, grid_size))


def plane_grid(x_values: torch.Tensor, y_values: torch.Tensor) -> torch.Tensor:
    """The 2-D points of a grid image, row by row: rows go from high y (top) to low y, columns from low x to high x.
    (len(y) * len(x), 2)."""
    yy, xx = torch.meshgrid(y_values.flip(0), x_values, indexing="ij")
    return torch.stack([xx, yy], dim=-1).reshape(-1, 2)
