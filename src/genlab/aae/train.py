"""Train, sample and evaluate adversarial autoencoders: the functions behind ``genlab aae ...``.

    >>> from genlab import aae
    >>> result = aae.train(aae.AAEConfig(latent_dim=2, prior="mixture"), out="runs/aae/mix")
    >>> aae.sample(result.run_dir, n=64)   # decoded prior draws
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from ..core.device import autocast
from ..core.engine import TrainConfig, Trainer, TrainResult
from ..core.errors import ConfigError
from ..data.datasets import ImageDataConfig
from ..latent import training
from .losses import discriminator_loss, generator_loss
from .model import AAEConfig, build_aae

FAMILY = "aae"

# beta1 = 0.5 as usual for adversarial training (Radford et al. 2016); it also serves the reconstruction phase here.
DEFAULT_TRAIN = dict(epochs=10, batch_size=128, lr=1e-3, adam_beta1=0.5, lr_schedule="cosine", min_lr_ratio=0.05,
                     warmup_steps=200, sample_every=1000, checkpoint_every=2000, log_every=100)


def default_train_config(**overrides: Any) -> TrainConfig:
    return TrainConfig(**{**DEFAULT_TRAIN, **overrides})


class AAETrainer(Trainer):
    """Makhzani et al. (2016), sec. 2: each batch runs three phases, each with its own Adam optimiser —
    1. reconstruction: encoder + decoder minimise the reconstruction loss;
    2. regularisation, discriminator: D learns to tell prior draws from (detached) codes;
    3. regularisation, generator: the encoder learns to make D call its codes prior draws.
    """

    def build_optimizers(self) -> dict[str, torch.optim.Optimizer]:
        cfg, m = self.config, self.model
        if self.dist.enabled:
            raise ConfigError("aae training runs in one process; torchrun/DDP is not supported for it yet")
        if cfg.optimizer not in ("adam", "adamw"):
            raise ConfigError(f"aae trains with three Adam optimisers; --optimizer {cfg.optimizer} is not supported")
        opt_cls = torch.optim.AdamW if cfg.optimizer == "adamw" else torch.optim.Adam
        adv_lr = cfg.lr * m.config.adversarial_lr_ratio

        def make(params, lr: float) -> torch.optim.Optimizer:
            return opt_cls(list(params), lr=lr, betas=(cfg.adam_beta1, cfg.adam_beta2), weight_decay=cfg.weight_decay)

        return {"autoencoder": make([*m.encoder.parameters(), *m.decoder.parameters()], cfg.lr),
                "discriminator": make(m.discriminator.parameters(), adv_lr),
                "generator": make(m.encoder.parameters(), adv_lr)}

    def _step(self, name: str, loss: torch.Tensor, what: str) -> None:
        self.check_finite(loss, what=what)
        opt = self.optimizers[name]
        opt.zero_grad(set_to_none=True)
        self.scaler.scale(loss).backward()
        if self.config.grad_clip > 0:
            self.scaler.unscale_(opt)
            params = [p for g in opt.param_groups for p in g["params"]]
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
            real = m.discriminator(m.sample_prior(x.shape[0]))
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


def train(model_config: AAEConfig | None = None, data_config: ImageDataConfig | None = None,
          train_config: TrainConfig | None = None, *, out: str | Path | None = None, resume: bool = False,
          overrides: dict[str, Any] | None = None) -> TrainResult:
    """Train an adversarial autoencoder; returns the run's :class:`TrainResult`."""
    return training.train_latent_model(
        family=FAMILY, config_class=AAEConfig, build=build_aae, trainer_class=AAETrainer,
        default_train=DEFAULT_TRAIN, model_config=model_config, data_config=data_config, train_config=train_config,
        out=out, resume=resume, overrides=overrides)


def sample(run: str | Path, *, n: int = 64, out: str | Path | None = None, seed: int = 0, nrow: int | None = None,
           device: str = "cpu") -> Path:
    """Decode ``n`` draws from the prior; returns the PNG's path."""
    return training.sample(run, family=FAMILY, n=n, out=out, seed=seed, nrow=nrow, device=device)


def evaluate(run: str | Path, **kwargs: Any) -> dict[str, Any]:
    """Test reconstruction error and how close the codes are to the prior (code mean / std); see
    :func:`genlab.latent.training.evaluate`."""
    return training.evaluate(run, family=FAMILY, **kwargs)
