"""Latent-space tools for any model with the latent protocol (VAE, AE, AAE), and the pieces AE and AAE share.

    >>> from genlab import latent
    >>> latent.scatter("runs/vae/z2"); latent.manifold("runs/vae/z2"); latent.reconstruct("runs/ae/run")

The tools (and with them matplotlib / scikit-learn) load on first use, so importing a model family stays light.
"""

import importlib

from .ops import attribute_vector, lerp, normal_quantiles, plane_grid, slerp

_TOOLS = ("scatter", "manifold", "interpolate", "attribute", "reconstruct", "encode_all", "manifold_codes",
          "reduce_2d")


def __getattr__(name: str):
    if name in _TOOLS:
        return getattr(importlib.import_module(".tools", __name__), name)
    raise AttributeError(f"module 'genlab.latent' has no attribute {name!r}")


__all__ = ["attribute_vector", "lerp", "slerp", "normal_quantiles", "plane_grid", *_TOOLS]
