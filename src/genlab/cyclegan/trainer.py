"""CycleGAN's training step on the genlab engine: one generator update (G and F together), then one update of both
discriminators on images drawn through the two image pools, as in the paper's code.

An engine step sees ``--batch-size`` images of A (the engine's data order over the larger domain) and as many of B
drawn from a (seed, step)-seeded stream; crops and flips come from the same stream, so a resumed run is exact
(the pools are trainer state, saved in every checkpoint). The learning rate is the paper's: constant, then linear
decay to zero over the last ``1 - decay_start`` of the steps, on top of the engine's schedule (constant by default).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import torch

from ..core.config import cfg_field, check_choice, check_int, check_non_negative
from ..core.device import autocast
from ..core.engine import Trainer
from ..core.errors import ConfigError
from .data import Domains, UnpairedDataConfig, augment
from .losses import OBJECTIVES, cycle_loss, identity_loss
from .models import CycleGAN
from .pool import ImagePool

FOSTER_IDENTITY = 2.0  # Foster's weights: validation 1, reconstruction 10, identity 2


@dataclass
class CycleGANOptions:
    """The objective's weights and the training tricks (the engine's TrainConfig holds lr, batch size, steps ...)."""

    gan_loss: Literal["lsgan", "bce"] = cfg_field("lsgan", help="adversarial loss: lsgan (least squares, the paper) "
                                                                "or bce (cross-entropy)")
    lambda_adv: float = cfg_field(1.0, help="weight of the adversarial losses (Foster's 'validation' weight)")
    lambda_cycle: float = cfg_field(10.0, help="weight of the cycle-consistency L1 losses (the paper's lambda)")
    lambda_identity: float | None = cfg_field(None, help="weight of the identity L1 losses (none: Foster's 2 when "
                                                         "both domains have the same channels, else 0)")
    pool_size: int = cfg_field(50, help="generated images kept for the discriminators (Shrivastava et al.; 0 = off)")
    decay_start: float = cfg_field(0.5, help="fraction of the steps at the full LR before it decays linearly to 0 "
                                             "(the paper: 100 of 200 epochs; 1 = no decay)")
    channels_last: bool = cfg_field(True, help="feed the networks channels-last tensors (faster convolutions on "
                                               "CPUs and recent GPUs)")
    eval_samples: int = cfg_field(500, help="test images per direction for the label-preservation check at the end "
                                            "of training and every --eval-every steps (built-in pair; 0 = off)")

    def __post_init__(self) -> None:
        check_choice("gan_loss", self.gan_loss, tuple(OBJECTIVES))
        for name in ("lambda_adv", "lambda_cycle"):
            check_non_negative(name, getattr(self, name))
        check_non_negative("lambda_identity", self.lambda_identity, allow_none=True)
        check_int("pool_size", self.pool_size, 0)
        if isinstance(self.decay_start, bool) or not 0.0 <= self.decay_start <= 1.0:
            raise ConfigError(f"--decay-start must be in [0, 1] (got {self.decay_start})")
        check_int("eval_samples", self.eval_samples, 0)

    def resolved(self, channels_a: int, channels_b: int) -> "CycleGANOptions":
        """The identity weight filled in; an identity loss between grey and RGB domains refused."""
        same = channels_a == channels_b
        if self.lambda_identity is None:
            weight = FOSTER_IDENTITY if same else 0.0
        else:
            weight = self.lambda_identity
            if weight > 0 and not same:
                raise ConfigError(f"the identity loss compares G(b) with b, which needs equal channels, but domain A "
                                  f"has {channels_a} and domain B {channels_b}; pass --lambda-identity 0, or map "
                                  f"the channels with --channels-a {channels_b} (or --channels-b {channels_a})")
        return CycleGANOptions(**{**self.__dict__, "lambda_identity": float(weight)})


def paper_decay(step: int, *, total: int, decay_start: float) -> float:
    """Zhu et al.'s schedule: 1 for the first ``decay_start`` of ``total`` steps, then linearly down to 0 at
    ``total``."""
    start = int(round(decay_start * total))
    if step < start or total <= start:
        return 1.0
    return max(0.0, (total - step) / (total - start))


def to_model(images: torch.Tensor, channels_last: bool) -> torch.Tensor:
    """[0, 1] -> [-1, 1], optionally channels-last."""
    x = images * 2.0 - 1.0
    return x.contiguous(memory_format=torch.channels_last) if channels_last else x


class CycleGANTrainer(Trainer):
    """Two Adam optimisers (generators, discriminators) and the CycleGAN step; the pools are ``extra_state``.

    Under ``torchrun`` the model is not DDP-wrapped (two optimisers): gradients are averaged before each step.
    """

    wrap_ddp = False

    def __init__(self, model: CycleGAN, train_data, config, run_dir, *, domains: Domains,
                 data_config: UnpairedDataConfig, options: CycleGANOptions, **kwargs: Any) -> None:
        super().__init__(model, train_data, config, run_dir, **kwargs)
        if config.precision == "fp16":
            raise ConfigError("--precision fp16 is not supported for CycleGAN (two optimisers, one loss scaler); "
                              "use fp32 or bf16")
        self.domains = domains
        self.data_config = data_config
        self.options = options
        self.d_loss_fn, self.g_loss_fn = OBJECTIVES[options.gan_loss]
        self.pool_a = ImagePool(options.pool_size)  # holds F(b): fakes of domain A
        self.pool_b = ImagePool(options.pool_size)  # holds G(a): fakes of domain B
        self._schedule_ready = False

    # ---- state -----------------------------------------------------------------------------------------------------
    def extra_state(self) -> dict[str, Any]:
        return {"pool_a": self.pool_a.state_dict(), "pool_b": self.pool_b.state_dict()}

    def load_extra_state(self, state: dict[str, Any]) -> None:
        if "pool_a" in state:
            self.pool_a.load_state_dict(state["pool_a"], device=self.device)
            self.pool_b.load_state_dict(state["pool_b"], device=self.device)

    def build_optimizers(self) -> dict[str, torch.optim.Optimizer]:
        cfg = self.config
        kwargs: dict[str, Any] = {"lr": cfg.lr, "betas": (cfg.adam_beta1, cfg.adam_beta2)}
        if self.device.type in ("cpu", "cuda"):
            kwargs["fused"] = True  # one kernel for all parameters
        return {"generators": torch.optim.Adam(self.model.generators(), **kwargs),
                "discriminators": torch.optim.Adam(self.model.discriminators(), **kwargs)}

    def total_steps(self) -> int:
        cfg = self.config
        world = self.dist.world_size if self.dist.enabled else 1
        return cfg.max_steps or cfg.epochs * (len(self.train_data) // world // cfg.batch_size)

    def _install_schedule(self) -> None:
        """The paper's decay on top of the engine's LambdaLR (installed on the first step, so a resume recomputes
        the learning rate of the restored step with it)."""
        total = self.total_steps()
        for sched in self.schedulers.values():
            base = sched.lr_lambdas[0]

            def fn(step: int, base=base) -> float:
                return base(step) * paper_decay(step, total=total, decay_start=self.options.decay_start)
            sched.lr_lambdas = [fn] * len(sched.lr_lambdas)
            for group, base_lr in zip(sched.optimizer.param_groups, sched.base_lrs, strict=True):
                group["lr"] = base_lr * fn(sched.last_epoch)
            sched._last_lr = [g["lr"] for g in sched.optimizer.param_groups]
        self._schedule_ready = True

    # ---- data ------------------------------------------------------------------------------------------------------
    def _stream(self, draw: int) -> torch.Generator:
        rank = self.dist.rank if self.dist.enabled else 0
        seed = (self.config.seed * 1_000_003 + self.step * 64 + draw * 8 + rank) % (2 ** 63)
        return torch.Generator().manual_seed(seed)

    def _batch(self, index: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        d, cfg = self.domains, self.data_config
        index = index.cpu()
        n = index.shape[0]
        gen = self._stream(0)
        a_idx = index % len(d.a_train)
        b_idx = torch.randint(0, len(d.b_train), (n,), generator=gen)
        a = d.a_train.images.index_select(0, a_idx).float().div_(255.0)
        b = d.b_train.images.index_select(0, b_idx).float().div_(255.0)
        a = augment(a, cfg.crop_size, cfg.use_flip, gen)
        b = augment(b, cfg.crop_size, cfg.use_flip, gen)
        cl = self.options.channels_last
        return to_model(a, cl).to(self.device), to_model(b, cl).to(self.device)

    # ---- the step --------------------------------------------------------------------------------------------------
    def training_step(self, batch: Any) -> dict[str, torch.Tensor]:
        if not self._schedule_ready:
            self._install_schedule()
        model, opts = self.model, self.options
        real_a, real_b = self._batch(batch)
        opt_g, opt_d = self.optimizers["generators"], self.optimizers["discriminators"]

        # Generators: adversarial + cycle (+ identity), with the discriminators frozen.
        model.d_a.requires_grad_(False)
        model.d_b.requires_grad_(False)
        try:
            with autocast(self.device, self.config.precision):
                fake_b = model.g_ab(real_a)
                rec_a = model.g_ba(fake_b)
                fake_a = model.g_ba(real_b)
                rec_b = model.g_ab(fake_a)
                adv = self.g_loss_fn(model.d_b(fake_b).float()) + self.g_loss_fn(model.d_a(fake_a).float())
                cyc_a, cyc_b = cycle_loss(rec_a.float(), real_a), cycle_loss(rec_b.float(), real_b)
                g_loss = opts.lambda_adv * adv + opts.lambda_cycle * (cyc_a + cyc_b)
                out: dict[str, torch.Tensor] = {}
                if opts.lambda_identity:
                    idt = identity_loss(model.g_ab(real_b).float(), real_b) + \
                        identity_loss(model.g_ba(real_a).float(), real_a)
                    g_loss = g_loss + opts.lambda_identity * idt
                    out["identity"] = idt.detach()
            self.check_finite(g_loss, what="generator loss")
            opt_g.zero_grad(set_to_none=True)
            g_loss.backward()
        finally:
            model.d_a.requires_grad_(True)
            model.d_b.requires_grad_(True)
        self.average_gradients(model.generators())
        opt_g.step()

        # Discriminators: real vs a pooled fake, each loss halved (inside lsgan_d_loss / bce_d_loss).
        with autocast(self.device, self.config.precision):
            pooled_a = self.pool_a.query(fake_a.detach(), self._stream(1))
            pooled_b = self.pool_b.query(fake_b.detach(), self._stream(2))
            d_a = self.d_loss_fn(model.d_a(real_a).float(), model.d_a(pooled_a).float())
            d_b = self.d_loss_fn(model.d_b(real_b).float(), model.d_b(pooled_b).float())
            d_loss = d_a + d_b
        self.check_finite(d_loss, what="discriminator loss")
        opt_d.zero_grad(set_to_none=True)
        d_loss.backward()
        self.average_gradients(model.discriminators())
        opt_d.step()
        out.update({"loss": g_loss.detach(), "g_adv": adv.detach(), "cycle": (cyc_a + cyc_b).detach(),
                    "cycle_a": cyc_a.detach(), "cycle_b": cyc_b.detach(), "d_a": d_a.detach(), "d_b": d_b.detach()})
        return out
