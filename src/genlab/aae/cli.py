"""``genlab aae train|sample|evaluate`` and the latent tools (scatter, manifold, interpolate, attribute, reconstruct)."""

from __future__ import annotations

import argparse
import importlib

from ..latent.cli import add_model_family_parser


def _functions():
    return importlib.import_module("genlab.aae.train")  # the module (the package re-exports its train function)


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    from .model import AAEConfig
    from .train import DEFAULT_TRAIN

    add_model_family_parser(
        subparsers, family="aae", config_class=AAEConfig, default_train=DEFAULT_TRAIN, functions=_functions,
        help="adversarial autoencoders (Makhzani et al. 2016)",
        description="Train, sample and evaluate an adversarial autoencoder (a discriminator on z matches the codes "
                    "to a prior), and look into its latent space.",
        sample_help="decoded draws from the prior the codes were matched to")
