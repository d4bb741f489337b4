"""One trainer for every GAN objective: alternating discriminator and generator steps on the genlab engine.

Each engine step is one discriminator (critic) update on a fresh real batch; every ``n_critic``-th step also updates
the generator, then the EMA generator (so WGAN's "5 critic iterations per generator iteration" each see new data,
as in Arjovsky et al. 2017, Algorithm 1). ``--max-steps`` therefore counts discriminator updates.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F

from ..core.config import cfg_field, check_int, check_non_negative, check_positive
from ..core.device import autocast
from ..core.engine import Trainer
from ..core.errors import ConfigError
from .losses import OBJECTIVES, add_instance_noise, clip_weights_, gradient_penalty, r1_penalty
from .models import GAN, GANConfig
from .monitor import divergence_warning


@dataclass
class GANTrainOptions:
    """The adversarial game's knobs (the engine's TrainConfig holds lr, batch size, steps...)."""

    n_critic: int | None = cfg_field(None, help="discriminator steps per generator step (default: 5 for wgan and "
                                                "wgan-gp, 1 otherwise)")
    gp_weight: float = cfg_field(10.0, help="gradient-penalty weight lambda for --loss wgan-gp (Gulrajani et al.)")
    r1_gamma: float = cfg_field(0.0, help="R1 penalty gamma/2 E||grad D(x_real)||^2 (Mescheder et al. 2018; "
                                          "StyleGAN's regulariser with --loss ns; 0 = off)")
    r1_every: int = cfg_field(16, help="apply R1 every N discriminator steps, scaled by N (StyleGAN2's lazy "
                                       "regularisation)")
    clip_value: float = cfg_field(0.01, help="weight-clipping bound c for --loss wgan (Arjovsky et al.)")
    lr_d: float | None = cfg_field(None, help="discriminator learning rate (default: --lr; TTUR when different)")
    label_smoothing: float = cfg_field(0.0, help="one-sided label smoothing for --loss ns: real target 1 - s")
    label_flip: float = cfg_field(0.0, help="label noise for --loss ns: fraction of D's targets flipped")
    instance_noise: float = cfg_field(0.0, help="std of Gaussian noise on D's inputs, annealed linearly to 0")
    ema_decay: float = cfg_field(0.999, help="decay of the generator's weight average used for sampling (0 = off)")
    fid_samples: int = cfg_field(2000, help="samples for FID/KID during training (0 = off); every --fid-every steps")

    def __post_init__(self) -> None:
        if self.n_critic is not None and (isinstance(self.n_critic, bool) or not isinstance(self.n_critic, int)
                                          or self.n_critic < 1):
            raise ConfigError(f"--n-critic must be a whole number >= 1 (got {self.n_critic})")
        if isinstance(self.gp_weight, bool) or not isinstance(self.gp_weight, (int, float)) or not self.gp_weight >= 0:
            raise ConfigError(f"--gp-weight (the gradient penalty) must be >= 0 (got {self.gp_weight})")
        check_non_negative("r1_gamma", self.r1_gamma)
        check_int("r1_every", self.r1_every, 1)
        check_positive("clip_value", self.clip_value)
        check_positive("lr_d", self.lr_d, allow_none=True)
        for name in ("label_smoothing", "label_flip"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value < 0.5:
                raise ConfigError(f"--{name.replace('_', '-')} must be in [0, 0.5) (got {value})")
        check_non_negative("instance_noise", self.instance_noise)
        if isinstance(self.ema_decay, bool) or not 0.0 <= self.ema_decay < 1.0:
            raise ConfigError(f"--ema-decay must be in [0, 1) (got {self.ema_decay})")
        if isinstance(self.fid_samples, bool) or not isinstance(self.fid_samples, int) or self.fid_samples < 0:
            raise ConfigError(f"--fid-samples must be a whole number >= 0 (got {self.fid_samples})")
        if 0 < self.fid_samples < 2:
            raise ConfigError("--fid-samples must be 0 (off) or at least 2")

    def resolved(self, model: GANConfig) -> "GANTrainOptions":
        """These options for ``model``'s objective: the default n_critic filled in, meaningless tricks refused."""
        if model.loss != "ns" and (self.label_smoothing or self.label_flip):
            raise ConfigError(f"--label-smoothing/--label-flip act on the cross-entropy of --loss ns, not "
                              f"--loss {model.loss}")
        # DCGAN's WGAN/WGAN-GP: 5 critic steps per G step (Arjovsky et al., Gulrajani et al.); ProGAN and StyleGAN
        # train WGAN-GP with one (Karras et al. 2018, appendix A.1).
        wgan_five = model.loss in ("wgan", "wgan-gp") and getattr(model, "arch", "dcgan") == "dcgan"
        n_critic = self.n_critic if self.n_critic is not None else (5 if wgan_five else 1)
        return GANTrainOptions(**{**self.__dict__, "n_critic": n_critic})


def to_model_range(x: torch.Tensor, size: int) -> torch.Tensor:
    """Images in [0, 1] -> [-1, 1] (the generator's tanh range) at ``size`` px: 28 -> 32 by zero padding (the
    MNIST-family background is 0), other sizes bilinearly."""
    if x.shape[-1] != size:
        if (x.shape[-1], size) == (28, 32):
            x = F.pad(x, (2, 2, 2, 2))
        else:
            x = F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False, antialias=True)
    return x * 2.0 - 1.0


def to_data_size(x: torch.Tensor, side: int) -> torch.Tensor:
    """The inverse of :func:`to_model_range`'s resizing for images in [0, 1]: back to the dataset's ``side``."""
    if x.shape[-1] == side:
        return x
    if (x.shape[-1], side) == (32, 28):
        return x[..., 2:30, 2:30]
    return F.interpolate(x, size=(side, side), mode="bilinear", align_corners=False, antialias=True).clamp(0, 1)


class GANTrainer(Trainer):
    """:class:`~genlab.core.engine.Trainer` with two optimisers and the adversarial step.

    From the engine's TrainConfig it uses lr (the generator's; ``options.lr_d`` for D), Adam betas, the LR schedule,
    precision (fp32/bf16), batch size and steps; the optimiser type follows the objective (RMSprop for ``wgan``, as
    Arjovsky et al. prescribe; Adam otherwise), and ``optimizer`` / ``weight_decay`` / ``grad_clip`` are not used.

    Under ``torchrun`` the model is not wrapped in DistributedDataParallel (two optimisers, and WGAN-GP's double
    backward, which DDP does not support): D's and G's gradients are averaged over the ranks before each optimiser
    step. Every random draw of a step (noise z, the penalty's ε, label flips, instance noise) comes from a generator
    seeded by (seed, step), drawn for the whole global batch, and each rank keeps its share (the examples the data
    sampler gives it), so N processes x batch b see the same numbers as one process x batch N·b. BatchNorm in G (and
    in D with ``--d-norm batch``) normalises each rank's own batch, as in any DDP run without SyncBatchNorm.
    """

    wrap_ddp = False  # the trainer averages gradients itself (average_gradients)
    HISTORY = 20  # logged losses kept for the divergence monitor (it looks at the last 5)

    def __init__(self, model: GAN, train_data, config, run_dir, *, options: GANTrainOptions, **kwargs: Any) -> None:
        super().__init__(model, train_data, config, run_dir, **kwargs)
        self.options = options.resolved(model.config)
        self.d_loss_fn, self.g_loss_fn = OBJECTIVES[model.config.loss]
        # Checkpointed through extra_state(): the losses the divergence monitor has seen, the last generator loss
        # and which warnings were already printed.
        self._history: dict[str, list[float]] = {"d": [], "g": []}
        self._last_g_loss: float | None = None
        self._warned: set[str] = set()
        if config.precision == "fp16":
            raise ConfigError("--precision fp16 is not supported for GANs (two optimisers, one loss scaler); "
                              "use fp32 or bf16")

    def fit(self, *args: Any, **kwargs: Any):
        # With n_critic > 1 the generator's optimiser skips steps while the engine steps every LR schedule; torch
        # warns about that on the first steps. Silenced for this training run only, not for the whole process.
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=r"Detected call of `lr_scheduler.step\(\)` before")
            return super().fit(*args, **kwargs)

    def extra_state(self) -> dict[str, Any]:
        return {"history": {k: list(v) for k, v in self._history.items()}, "last_g_loss": self._last_g_loss,
                "warned": sorted(self._warned)}

    def load_extra_state(self, state: dict[str, Any]) -> None:
        history = state.get("history") or {}
        self._history = {"d": list(history.get("d", [])), "g": list(history.get("g", []))}
        self._last_g_loss = state.get("last_g_loss")
        self._warned = set(state.get("warned", []))

    def build_optimizers(self) -> dict[str, torch.optim.Optimizer]:
        cfg, model = self.config, self.model
        lr_g, lr_d = cfg.lr, self.options.lr_d or cfg.lr
        g_params = list(model.generator.parameters())
        d_params = list(model.discriminator.parameters())
        if model.config.loss == "wgan":  # Arjovsky et al.: momentum-based optimisers destabilise the clipped critic
            return {"generator": torch.optim.RMSprop(g_params, lr=lr_g),
                    "discriminator": torch.optim.RMSprop(d_params, lr=lr_d)}
        kwargs: dict[str, Any] = {"betas": (cfg.adam_beta1, cfg.adam_beta2)}
        if self.device.type in ("cpu", "cuda"):
            kwargs["fused"] = True
        return {"generator": torch.optim.Adam(g_params, lr=lr_g, **kwargs),
                "discriminator": torch.optim.Adam(d_params, lr=lr_d, **kwargs)}

    # ---- randomness: one stream per (seed, step, draw), shared by every rank ------------------------------------------
    def _draw(self, sampler: Any, n: int, *shape: int, draw: int) -> torch.Tensor:
        """``sampler`` (torch.randn / torch.rand) for the global batch of this step; this rank's rows.

        The data sampler gives rank r the global batch's examples r, r + N, r + 2N ... (N ranks), so the rows are
        taken with the same stride: every example keeps its noise whatever the number of processes.
        """
        world = self.dist.world_size if self.dist.enabled else 1
        rank = self.dist.rank if self.dist.enabled else 0
        seed = (self.config.seed * 1_000_003 + self.step * 16 + draw) % (2 ** 63)
        full = sampler((n * world, *shape), generator=torch.Generator().manual_seed(seed))
        return full[rank::world].to(self.device)

    def _noise_std(self) -> float:
        cfg = self.config
        total = cfg.max_steps or cfg.epochs * (len(self.train_data) // cfg.batch_size)
        return self.options.instance_noise * max(0.0, 1.0 - self.step / total)

    def _instance_noise(self, x: torch.Tensor, std: float, draw: int) -> torch.Tensor:
        if std <= 0:
            return x
        return add_instance_noise(x, std, self._draw(torch.randn, x.shape[0], *x.shape[1:], draw=draw))

    def _d_outputs(self, real: torch.Tensor, fake: torch.Tensor, labels: torch.Tensor | None):
        model = self.model
        # Separate batches, as DCGAN does with batch norm, and as ProGAN's minibatch-stddev layer needs (a group of
        # real and fake images would give D their difference for free).
        if getattr(model.config, "resolved_d_norm", "none") == "batch" or getattr(model.config, "minibatch_stddev",
                                                                                   False):
            return model.discriminate(real, labels), model.discriminate(fake, labels)
        both_labels = torch.cat([labels, labels]) if labels is not None else None
        scores = model.discriminate(torch.cat([real, fake]), both_labels)  # one bigger batch: faster on a CPU
        return scores[: real.shape[0]], scores[real.shape[0]:]

    def _ns_targets(self, real_scores: torch.Tensor) -> tuple[Any, Any]:
        opts = self.options
        real_t: Any = 1.0 - opts.label_smoothing
        fake_t: Any = 0.0
        if opts.label_flip > 0:
            n = real_scores.shape[0]
            flip_r = (self._draw(torch.rand, n, draw=3) < opts.label_flip).float()
            flip_f = (self._draw(torch.rand, n, draw=4) < opts.label_flip).float()
            real_t = real_t * (1 - flip_r)
            fake_t = flip_f
        return real_t, fake_t

    def real_images(self, images: torch.Tensor) -> torch.Tensor:
        """The batch's images as D sees them: [-1, 1] at the model's side (ProGAN's trainer also fades them)."""
        return to_model_range(images, self.model.config.size)

    def training_step(self, batch: Any) -> dict[str, torch.Tensor]:
        model, opts = self.model, self.options
        mcfg = model.config
        images, labels = batch
        real = self.real_images(images)
        labels = labels if mcfg.conditional else None
        n = real.shape[0]
        std = self._noise_std()
        opt_d, opt_g = self.optimizers["discriminator"], self.optimizers["generator"]
        d_params = list(model.discriminator.parameters())

        # Discriminator / critic step.
        with autocast(self.device, self.config.precision):
            with torch.no_grad():
                fake = model.generator(self._draw(torch.randn, n, mcfg.latent_dim, draw=0), labels)
            real_in, fake_in = self._instance_noise(real, std, 5), self._instance_noise(fake, std, 6)
            d_real, d_fake = self._d_outputs(real_in, fake_in, labels)
            if mcfg.loss == "ns":
                real_t, fake_t = self._ns_targets(d_real)
                d_loss = self.d_loss_fn(d_real.float(), d_fake.float(), real_target=real_t, fake_target=fake_t)
            else:
                d_loss = self.d_loss_fn(d_real.float(), d_fake.float())
            # "loss" (the D loss) is what the engine's progress line shows
            out: dict[str, torch.Tensor] = {"loss": d_loss.detach(), "d_loss": d_loss.detach()}
            total = d_loss
            if mcfg.loss == "wgan-gp" and opts.gp_weight > 0:
                gp = gradient_penalty(lambda x: model.discriminate(x, labels), real_in, fake_in,
                                      eps=self._draw(torch.rand, n, draw=2))
                total = d_loss + opts.gp_weight * gp
                out["gp"] = gp.detach()
            if opts.r1_gamma > 0 and self.step % opts.r1_every == 0:
                r1 = r1_penalty(lambda x: model.discriminate(x, labels), real_in)
                total = total + (opts.r1_gamma / 2) * opts.r1_every * r1
                out["r1"] = r1.detach()
            drift = getattr(mcfg, "drift", 0.0)  # ProGAN / StyleGAN only (DCGAN's config has none)
            if drift:
                drift_term = d_real.float().pow(2).mean()
                total = total + drift * drift_term
                out["drift"] = drift_term.detach()
        self.check_finite(total, what="discriminator loss")
        opt_d.zero_grad(set_to_none=True)
        total.backward()
        self.average_gradients(d_params)  # under torchrun: the mean over ranks (a no-op in one process)
        opt_d.step()
        if mcfg.loss == "wgan":
            clip_weights_(model.discriminator, opts.clip_value)
        out["d_real"] = d_real.detach().float().mean()
        out["d_fake"] = d_fake.detach().float().mean()

        # Generator step, every n_critic-th engine step. Its loss is logged on these steps only (the engine averages
        # each key over the steps that have it).
        if (self.step + 1) % opts.n_critic == 0:
            g_params = list(model.generator.parameters())
            model.discriminator.requires_grad_(False)  # no D weight gradients: they would be thrown away
            try:
                with autocast(self.device, self.config.precision):
                    fake = model.generator(self._draw(torch.randn, n, mcfg.latent_dim, draw=1), labels)
                    g_loss = self.g_loss_fn(model.discriminate(self._instance_noise(fake, std, 7), labels).float())
                self.check_finite(g_loss, what="generator loss")
                opt_g.zero_grad(set_to_none=True)
                g_loss.backward()
            finally:
                model.discriminator.requires_grad_(True)
            self.average_gradients(g_params)
            opt_g.step()
            g_step = (self.step + 1) // opts.n_critic
            # EMA with a warm-up (as TF's ExponentialMovingAverage with num_updates): early averages are not
            # dragged towards the random initial weights.
            decay = min(opts.ema_decay, (1.0 + g_step) / (10.0 + g_step))
            model.update_ema(decay)
            out["g_loss"] = g_loss.detach()
            self._last_g_loss = float(g_loss.detach())
        self._watch(out)
        return out

    def _watch(self, out: dict[str, torch.Tensor]) -> None:
        """Divergence warnings from the losses at each log interval (printed once per kind)."""
        if (self.step + 1) % self.config.log_every or self._last_g_loss is None:
            return
        self._history["d"].append(float(out["d_loss"]))
        self._history["g"].append(self._last_g_loss)
        for k in self._history:
            del self._history[k][:-self.HISTORY]
        msg = divergence_warning(self.model.config.loss, self._history["d"], self._history["g"])
        if msg and "divergence" not in self._warned:
            self._warned.add("divergence")
            self._say(f"warning (step {self.step + 1}): {msg}")
