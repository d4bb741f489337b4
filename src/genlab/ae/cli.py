"""``genlab ae train|sample|evaluate`` and the latent tools (scatter, manifold, interpolate, attribute, reconstruct)."""

from __future__ import annotations

import argparse
import importlib

from ..latent.cli import add_model_family_parser


def _functions():
    return importlib.import_module("genlab.ae.train")  # the module (the package re-exports its train function)


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    from .model import AEConfig
    from .train import DEFAULT_TRAIN

    add_model_family_parser(
        subparsers, family="ae", config_class=AEConfig, default_train=DEFAULT_TRAIN, functions=_functions,
        help="plain (deterministic) autoencoders (MLP / conv)",
        description="Train, sample and evaluate a deterministic autoencoder, and look into its latent space.",
        sample_help="decoded draws from a Gaussian fitted to the training codes (mean and covariance of the encoded "
                    "training set; an autoencoder has no prior)")
