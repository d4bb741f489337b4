"""The adversarial terms of the adversarial autoencoder, as small pure functions (batch means, in nats).

Makhzani et al., "Adversarial Autoencoders" (ICLR workshop 2016), sec. 2: a discriminator D tells codes drawn from the
prior p(z) ("real") from codes of the encoder q(z|x) ("fake"); the encoder, as the generator, learns to fool it, so
the aggregate posterior q(z) = E_x q(z|x) is pushed towards p(z). The losses are the GAN ones of Goodfellow et al.
(2014), with the usual non-saturating generator loss.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def discriminator_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """``-mean log D(z_prior) - mean log(1 - D(z_encoder))`` for D's logits (any shape)."""
    real = F.binary_cross_entropy_with_logits(real_logits.float(), torch.ones_like(real_logits, dtype=torch.float32))
    fake = F.binary_cross_entropy_with_logits(fake_logits.float(), torch.zeros_like(fake_logits, dtype=torch.float32))
    return real + fake


def generator_loss(fake_logits: torch.Tensor) -> torch.Tensor:
    """The encoder's (generator's) non-saturating loss ``-mean log D(z_encoder)``."""
    return F.binary_cross_entropy_with_logits(fake_logits.float(), torch.ones_like(fake_logits, dtype=torch.float32))
