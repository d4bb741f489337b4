"""The model families genlab ships. Importing this registers every family's models with ``genlab.load``."""

from __future__ import annotations

import importlib

# (family, module with its models, module with its CLI)
FAMILIES: list[tuple[str, str, str | None]] = [
    ("vae", "genlab.vae.model", "genlab.vae.cli"),
    ("ae", "genlab.ae.model", "genlab.ae.cli"),  # plain autoencoder (+ latent tools, genlab.latent)
    ("aae", "genlab.aae.model", "genlab.aae.cli"),  # adversarial autoencoder
    ("text", "genlab.text.gpt", "genlab.text.cli"),  # gpt.py imports model.py: LSTM, GRU and GPT
    ("gan", "genlab.gan.models", "genlab.gan.cli"),
    ("metrics", "genlab.metrics.classifier", None),  # the FID/KID domain classifier; no CLI of its own
    ("dream", "genlab.dream.deepdream", "genlab.dream.cli"),  # also `genlab visualize` and `genlab features`
    ("style", "genlab.style.fast", "genlab.style.cli"),  # Gatys, train-fast, apply
]

for _family, _models, _cli in FAMILIES:
    importlib.import_module(_models)
