"""Reconstruction losses of the deterministic autoencoders, per example (pure functions)."""

from __future__ import annotations

import torch

from ..vae.losses import bernoulli_nll

RECON_LOSSES = ("bce", "mse")


def squared_error(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Sum over pixels of ``(sigmoid(logits) - target)^2`` per example: (B, ...) -> (B,).

    Up to a constant and a factor 1 / (2 sigma^2) this is the negative log-likelihood of a Gaussian decoder with a
    fixed variance (the "MSE autoencoder" of the Keras/"Generative Deep Learning" examples).
    """
    return (torch.sigmoid(logits.float()) - target.float()).pow(2).flatten(1).sum(dim=1)


def reconstruction_loss(logits: torch.Tensor, target: torch.Tensor, kind: str = "bce") -> torch.Tensor:
    """Per-example reconstruction loss: ``"bce"`` = Bernoulli NLL in nats (:func:`genlab.vae.bernoulli_nll`, the
    binary cross-entropy summed over pixels, for images in [0, 1]); ``"mse"`` = :func:`squared_error`."""
    if kind == "bce":
        return bernoulli_nll(logits, target)
    if kind == "mse":
        return squared_error(logits, target)
    raise ValueError(f"unknown reconstruction loss {kind!r}; use one of {RECON_LOSSES}")
