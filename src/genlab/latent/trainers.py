"""The trainers of the latent models: the engine's loop plus what each model needs.

* :class:`VAETrainer`: KL warm-up (Bowman et al. 2016; Sønderby et al. 2016).
* :class:`AETrainer`: every saved autoencoder carries the Gaussian fitted to its training codes.
* :class:`AAETrainer`: the three phases of Makhzani et al. (2016), each with its own Adam optimiser.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from ..core.device import autocast
from ..core.engine import Trainer
from ..core.errors import ConfigError
from .losses import discriminator_loss, generator_loss


class VAETrainer(Trainer):
    """The engine plus KL warm-up: the KL weight ramps from 0 to beta over ``kl_warmup_steps``.

    Warm-up lets the decoder learn to use z before the KL term pushes q(z|x) onto the prior, which keeps more latent
    units active. The weight is a function of the step, so a resumed run continues the same ramp.
    """

    def forward_loss(self, batch):
        out = super().forward_loss(batch)
        cfg = self.model.config
        if cfg.kl_warmup_steps > 0:
            weight = cfg.beta * min(1.0, (self.step + 1) / cfg.kl_warmup_steps)
            out["loss"] = out["recon"] + weight * out["kl"]
            out["kl_weight"] = torch.tensor(weight)
        return out


class AETrainer(Trainer):
    """The engine's single-optimiser loop; every saved model carries the Gaussian fitted to its training codes."""

    def save(self, epoch: int) -> Path | None:
        self.model.fit_code_distribution(self.train_data)  # eval mode, no RNG use: training is not disturbed
        return super().save(epoch)


class AAETrainer(Trainer):
    """Makhzani et al. (2016), sec. 2: each batch runs three phases, each with its own Adam optimiser —
    1. reconstruction: encoder + decoder minimise the reconstruction loss;
    2. regularisation, discriminator: D learns to tell prior draws from (detached) codes;
    3. regularisation, generator: the encoder learns to make D call its codes prior draws.

    Under torchrun the model is not DDP-wrapped (three backward passes per step): each phase averages its gradients
    over the ranks before its optimiser steps. The prior draws of a step are a function of (seed, step) over the
    global batch, each rank taking its slice, so N processes with batch B train as one process with batch N * B
    (for an MLP with a deterministic encoder; BatchNorm statistics and a Gaussian encoder's draws stay per rank).
    """

    wrap_ddp = False

    def build_optimizers(self) -> dict[str, torch.optim.Optimizer]:
        cfg, m = self.config, self.model
        if cfg.optimizer not in ("adam", "adamw"):
            raise ConfigError(f"aae trains with three Adam optimisers; --optimizer {cfg.optimizer} is not supported")
        opt_cls = torch.optim.AdamW if cfg.optimizer == "adamw" else torch.optim.Adam
        adv_lr = cfg.lr * m.config.adversarial_lr_ratio

        def make(params, lr: float) -> torch.optim.Optimizer:
            return opt_cls(list(params), lr=lr, betas=(cfg.adam_beta1, cfg.adam_beta2), weight_decay=cfg.weight_decay)

        return {"autoencoder": make([*m.encoder.parameters(), *m.decoder.parameters()], cfg.lr),
                "discriminator": make(m.discriminator.parameters(), adv_lr),
                "generator": make(m.encoder.parameters(), adv_lr)}

    def prior_draws(self, batch_size: int) -> torch.Tensor:
        """This rank's ``batch_size`` prior draws of the step: a slice of the global batch's draws, seeded by
        (seed, step), so the draws do not depend on the number of processes (and a resumed run repeats them)."""
        world, rank = self.dist.world_size, self.dist.rank
        gen = torch.Generator().manual_seed(self.config.seed * 1_000_003 + self.step)
        return self.model.sample_prior(batch_size * world, generator=gen)[rank * batch_size:(rank + 1) * batch_size]

    def _step(self, name: str, loss: torch.Tensor, what: str) -> None:
        self.check_finite(loss, what=what)
        opt = self.optimizers[name]
        opt.zero_grad(set_to_none=True)
        self.scaler.scale(loss).backward()
        params = [p for g in opt.param_groups for p in g["params"]]
        self.average_gradients(params)  # under torchrun; a no-op in one process
        if self.config.grad_clip > 0:
            self.scaler.unscale_(opt)
            torch.nn.utils.clip_grad_norm_(params, self.config.grad_clip)
        self.scaler.step(opt)

    def training_step(self, batch: Any) -> dict[str, torch.Tensor]:
        x = batch[0] if isinstance(batch, (tuple, list)) else batch
        m = self.model
        m.check_images(x)
        with autocast(self.device, self.config.precision):
            out = m.reconstruction_terms(x, m.decode(m.encode_sampled(x)))
        self._step("autoencoder", out["loss"].float(), "reconstruction loss")

        with autocast(self.device, self.config.precision):
            real = m.discriminator(self.prior_draws(x.shape[0]))
            with torch.no_grad():  # D's phase does not train the encoder: no graph through it
                z_fake = m.encode_sampled(x)
            fake = m.discriminator(z_fake)
            d_loss = discriminator_loss(real, fake)
        self._step("discriminator", d_loss, "discriminator loss")

        with autocast(self.device, self.config.precision):
            g_loss = generator_loss(m.discriminator(m.encode_sampled(x)))
        self._step("generator", g_loss, "generator (encoder) loss")
        self.scaler.update()
        with torch.no_grad():
            d_real = torch.sigmoid(real.float()).mean()
            d_fake = torch.sigmoid(fake.float()).mean()
        return {**out, "d_loss": d_loss.detach(), "g_loss": g_loss.detach(), "d_real": d_real, "d_fake": d_fake}


TRAINERS = {"vae": VAETrainer, "ae": AETrainer, "aae": AAETrainer}

__all__ = ["VAETrainer", "AETrainer", "AAETrainer", "TRAINERS"]
