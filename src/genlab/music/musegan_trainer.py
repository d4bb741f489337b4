"""MuseGAN's WGAN-GP training on the genlab engine (Gulrajani et al. 2017; Foster ch. 7: 5 critic updates per
generator update, gradient-penalty weight 10, Adam lr 1e-3, betas (0.5, 0.9), batch 64).

Each engine step is one critic update on a fresh real batch; every ``critic_steps``-th step also updates the
generator, so ``--max-steps`` counts critic updates. Every random draw of a step (the four noise inputs, the
penalty's ε) comes from a generator seeded by (seed, step, draw), so a resumed run continues exactly.
"""

from __future__ import annotations

from typing import Any

import torch

from ..core.engine import Trainer
from ..core.errors import ConfigError
from ..gan.losses import gradient_penalty, wgan_d_loss, wgan_g_loss
from .musegan import MuseGAN
from .musegan_config import MuseGANTrainOptions  # noqa: F401 (re-exported)


class MuseGANTrainer(Trainer):
    """Two Adam optimisers (generator, critic); the engine's lr, betas, schedule, batch size and steps apply to both.
    Under torchrun the gradients are averaged by the trainer (the double backward of the penalty does not go
    through DDP)."""

    wrap_ddp = False

    def __init__(self, model: MuseGAN, train_data, config, run_dir, *, options: MuseGANTrainOptions,
                 **kwargs: Any) -> None:
        super().__init__(model, train_data, config, run_dir, **kwargs)
        self.options = options
        if config.precision == "fp16":
            raise ConfigError("--precision fp16 is not supported for MuseGAN (two optimisers, one loss scaler); "
                              "use fp32 or bf16")

    def fit(self, *args: Any, **kwargs: Any):
        import warnings

        with warnings.catch_warnings():  # the generator's optimiser skips steps; the engine steps every schedule
            warnings.filterwarnings("ignore", message=r"Detected call of `lr_scheduler.step\(\)` before")
            return super().fit(*args, **kwargs)

    def build_optimizers(self) -> dict[str, torch.optim.Optimizer]:
        cfg = self.config
        kwargs: dict[str, Any] = {"lr": cfg.lr, "betas": (cfg.adam_beta1, cfg.adam_beta2)}
        if self.device.type in ("cpu", "cuda"):
            kwargs["fused"] = True
        return {"generator": torch.optim.Adam(self.model.generator.parameters(), **kwargs),
                "critic": torch.optim.Adam(self.model.critic.parameters(), **kwargs)}

    def _stream(self, draw: int) -> torch.Generator:
        seed = (self.config.seed * 1_000_003 + self.step * 16 + draw) % (2 ** 63)
        return torch.Generator().manual_seed(seed)

    def _noise(self, n: int, draw: int) -> dict[str, torch.Tensor]:
        """This rank's rows of the global batch's noise (rank r gets examples r, r + N ... as the data sampler)."""
        world = self.dist.world_size if self.dist.enabled else 1
        rank = self.dist.rank if self.dist.enabled else 0
        z = self.model.noise(n * world, generator=self._stream(draw))
        return {k: v[rank::world].to(self.device) for k, v in z.items()}

    def _eps(self, n: int, draw: int) -> torch.Tensor:
        world = self.dist.world_size if self.dist.enabled else 1
        rank = self.dist.rank if self.dist.enabled else 0
        return torch.rand(n * world, generator=self._stream(draw))[rank::world].to(self.device)

    def training_step(self, real: torch.Tensor) -> dict[str, torch.Tensor]:
        from ..core.device import autocast

        model, opts = self.model, self.options
        n = real.shape[0]
        opt_c, opt_g = self.optimizers["critic"], self.optimizers["generator"]
        with autocast(self.device, self.config.precision):
            with torch.no_grad():
                fake = model.generate(self._noise(n, draw=0))
            scores = model.critic(torch.cat([real, fake.to(real.dtype)]))
            c_real, c_fake = scores[:n].float(), scores[n:].float()
            w_loss = wgan_d_loss(c_real, c_fake)
            total = w_loss
            out: dict[str, torch.Tensor] = {"loss": w_loss.detach(), "critic_loss": w_loss.detach(),
                                            "wasserstein": (-w_loss).detach()}
            if opts.gp_weight > 0:
                gp = gradient_penalty(model.critic, real, fake, eps=self._eps(n, draw=2))
                total = w_loss + opts.gp_weight * gp.float()
                out["gp"] = gp.detach()
        self.check_finite(total, what="critic loss")
        opt_c.zero_grad(set_to_none=True)
        total.backward()
        self.average_gradients(list(model.critic.parameters()))
        opt_c.step()

        if (self.step + 1) % opts.critic_steps == 0:
            model.critic.requires_grad_(False)
            try:
                with autocast(self.device, self.config.precision):
                    g_loss = wgan_g_loss(model.critic(model.generate(self._noise(n, draw=1))).float())
                self.check_finite(g_loss, what="generator loss")
                opt_g.zero_grad(set_to_none=True)
                g_loss.backward()
            finally:
                model.critic.requires_grad_(True)
            self.average_gradients(list(model.generator.parameters()))
            opt_g.step()
            out["g_loss"] = g_loss.detach()
        return out
