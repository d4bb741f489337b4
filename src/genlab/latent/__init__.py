"""The latent-variable family: the VAE (MLP / conv, beta-VAE), the plain autoencoder and the adversarial autoencoder,
on one set of networks, one runner, one CLI and one set of latent-space tools. ``genlab.vae``, ``genlab.ae`` and
``genlab.aae`` are each model's face of this package.

    >>> from genlab import latent
    >>> latent.scatter("runs/vae/z2"); latent.manifold("runs/vae/z2"); latent.reconstruct("runs/ae/run")

Layout: ``config`` (the model configs), ``nets`` (encoder/decoder builders), ``losses`` (pure objectives),
``models``, ``trainers``, ``api`` (train / sample / evaluate), ``tools`` + ``ops`` + ``inputs`` (latent-space
figures), ``cli``. The tools (and with them matplotlib / scikit-learn) load on first use.
"""

import importlib

from .ops import attribute_vector, lerp, normal_quantiles, plane_grid, slerp

_LAZY = {
    **{name: ".tools" for name in ("scatter", "manifold", "interpolate", "attribute", "reconstruct", "encode_all",
                                    "manifold_codes", "reduce_2d")},
    **{name: ".config" for name in ("VAEConfig", "AEConfig", "AAEConfig")},
    **{name: ".models" for name in ("VAE", "MLPVAE", "ConvVAE", "Autoencoder", "AdversarialAutoencoder",
                                    "LatentBase")},
    **{name: ".trainers" for name in ("VAETrainer", "AETrainer", "AAETrainer")},
}


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module 'genlab.latent' has no attribute {name!r}")


__all__ = ["attribute_vector", "lerp", "slerp", "normal_quantiles", "plane_grid", *_LAZY]
