"""The one training engine every genlab family runs on.

A plain, readable loop (in the spirit of nanoGPT / pytorch-examples) with the parts every real run needs:
device choice, seeding, bf16/fp16 autocast, gradient clipping, an LR schedule, a progress bar with ETA, metrics to
``metrics.jsonl`` and TensorBoard, sample/eval hooks, atomic checkpoints, exact ``resume`` (weights, optimiser,
scheduler, step, RNG and data position), a NaN/Inf guard, a clean stop on Ctrl-C / SIGTERM / ``--max-time``, and one
process per run folder (``RUN/.lock``). Under ``torchrun`` it runs unchanged with DistributedDataParallel; a trainer
with several optimisers sets ``wrap_ddp = False`` and calls :meth:`Trainer.average_gradients` itself.

Families give it a :class:`~genlab.core.model.GenlabModel` whose ``forward(*batch)`` returns a dict with a scalar
``"loss"`` (plus any other scalars to log). A family with an unusual step (a GAN's two optimisers) subclasses
:class:`Trainer` and overrides :meth:`Trainer.build_optimizers` and :meth:`Trainer.training_step`; state of its own
(a GAN's loss history, an image pool) survives a resume through :meth:`Trainer.extra_state` and
:meth:`Trainer.load_extra_state`.
"""

from __future__ import annotations

import itertools
import math
import re
import signal
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import torch
from torch import nn
from torch.utils.data import BatchSampler, DataLoader, Dataset, DistributedSampler, Sampler

from .checkpoint import latest_checkpoint, load_trainer_state, resumable_checkpoint, save_checkpoint
from .config import cfg_field, check_choice, check_non_negative, check_positive, to_dict
from .device import DEVICES, PRECISIONS, autocast, resolve_device, rng_state, seed_everything, set_rng_state
from .distributed import DistInfo, all_gather_objects, all_reduce_, barrier, broadcast_, init_distributed
from .errors import CheckpointError, ConfigError, DataError, GenlabError, NonFiniteLossError, a_or_an
from .io import ensure_dir, read_json, write_json_atomic
from .lock import RunLock
from .signals import Interrupted, graceful_stop
from .model import GenlabModel, load_weights, read_model_config, WEIGHTS_NAME
from .tracking import MetricsLogger, read_metrics

RUN_CONFIG = "train_config.json"

_DURATION = re.compile(r"\s*((?:\d+(?:\.\d*)?|\.\d+)(?:e[+-]?\d+)?)\s*([smhd]?)")
_UNIT_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(text: str) -> float:
    """Seconds in ``"90s"``, ``"10m"``, ``"2h"``, ``"1h30m"``, ``"1.5h"``, ``"1d"`` or ``"45"`` (seconds).

    Raises a one-line :class:`ConfigError` for anything else, and for zero.
    """
    spec = str(text).strip().lower()
    pos, total = 0, 0.0
    for m in _DURATION.finditer(spec):
        if m.start() != pos or (m.group(2) == "" and m.end() != len(spec)):
            break
        total += float(m.group(1)) * _UNIT_SECONDS[m.group(2)]
        pos = m.end()
    if not spec or pos != len(spec) or not math.isfinite(total) or total <= 0:
        raise ConfigError(f"--max-time must be a positive duration, e.g. 90s, 10m, 2h or 1h30m (got {text!r})")
    return total


@dataclass
class TrainConfig:
    """Engine knobs shared by every family (the family's own config holds the model's)."""

    epochs: int = cfg_field(10, help="passes over the training data (if you type both, --max-steps wins)")
    max_steps: int | None = cfg_field(None, help="stop after this many optimiser steps (if you type both, this wins over --epochs)")
    batch_size: int = cfg_field(128, help="examples per step (per process under torchrun)")
    lr: float = cfg_field(1e-3, help="peak learning rate")
    optimizer: Literal["adam", "adamw", "rmsprop", "sgd"] = cfg_field("adam", help="optimiser")
    weight_decay: float = cfg_field(0.0, help="weight decay (matrices and embeddings only, not biases/norms)")
    adam_beta1: float = cfg_field(0.9, help="Adam/AdamW beta1")
    adam_beta2: float = cfg_field(0.999, help="Adam/AdamW beta2")
    lr_schedule: Literal["constant", "cosine", "linear"] = cfg_field("constant", help="LR schedule after warm-up")
    warmup_steps: int = cfg_field(0, help="linear LR warm-up steps")
    min_lr_ratio: float = cfg_field(0.1, help="final LR as a fraction of --lr for cosine/linear schedules")
    grad_clip: float = cfg_field(0.0, help="clip the gradient norm to this value (0 = off)")
    precision: Literal["fp32", "bf16", "fp16"] = cfg_field("fp32", help="autocast precision (bf16 on CPU/GPU, fp16 GPU)")
    device: str = cfg_field("auto", help="auto|cpu|cuda|mps (auto: CUDA, then MPS, then CPU)")
    seed: int = cfg_field(0, help="random seed; the same seed and config give the same run on CPU")
    log_every: int = cfg_field(50, help="log metrics every N steps")
    eval_every: int = cfg_field(0, help="evaluate every N steps (0 = only at the end)")
    sample_every: int = cfg_field(500, help="write samples (images, text ...) every N steps (0 = only at the end)")
    checkpoint_every: int = cfg_field(1000, help="save a checkpoint every N steps (and always at the end)")
    keep_checkpoints: int = cfg_field(2, help="how many recent checkpoints to keep")
    num_workers: int = cfg_field(0, help="DataLoader worker processes")
    tensorboard: bool = cfg_field(True, help="also log to TensorBoard (RUN/tensorboard)")
    progress: bool = cfg_field(True, help="show a progress bar")
    max_time: str | None = cfg_field(None, help="stop cleanly after this much wall-clock time, e.g. 90s, 10m, 2h; "
                                                "saves a checkpoint; continue with --resume")

    def __post_init__(self) -> None:
        check_non_negative("epochs", self.epochs)
        check_positive("max_steps", self.max_steps, allow_none=True)
        check_positive("batch_size", self.batch_size)
        check_positive("lr", self.lr)
        check_choice("optimizer", self.optimizer, ("adam", "adamw", "rmsprop", "sgd"))
        check_non_negative("weight_decay", self.weight_decay)
        for name in ("adam_beta1", "adam_beta2"):
            if not 0.0 <= getattr(self, name) < 1.0:
                raise ConfigError(f"--{name.replace('_', '-')} must be in [0, 1) (got {getattr(self, name)})")
        check_choice("lr_schedule", self.lr_schedule, ("constant", "cosine", "linear"))
        check_non_negative("warmup_steps", self.warmup_steps)
        if not 0.0 <= self.min_lr_ratio <= 1.0:
            raise ConfigError(f"--min-lr-ratio must be in [0, 1] (got {self.min_lr_ratio})")
        check_non_negative("grad_clip", self.grad_clip)
        check_choice("precision", self.precision, PRECISIONS)
        check_choice("device", self.device.split(":")[0], DEVICES)
        for name in ("log_every", "checkpoint_every", "keep_checkpoints"):
            check_positive(name, getattr(self, name))
        for name in ("eval_every", "sample_every", "num_workers"):
            check_non_negative(name, getattr(self, name))
        if self.max_steps is None and self.epochs == 0:
            raise ConfigError("--epochs 0 trains nothing; give --epochs >= 1 or --max-steps N")
        if self.max_time is not None:
            parse_duration(self.max_time)

    @property
    def max_seconds(self) -> float | None:
        """``max_time`` in seconds (None: no time limit)."""
        return None if self.max_time is None else parse_duration(self.max_time)


@dataclass
class TrainResult:
    """What :meth:`Trainer.fit` did. ``step - start_step`` steps were trained by this call (``step`` in all)."""

    run_dir: Path
    step: int
    metrics: dict[str, float]
    eval_metrics: dict[str, float]
    seconds: float
    checkpoint: Path | None
    start_step: int = 0
    stop_reason: str = "finished"  # "finished" | "max_time" (--max-time reached) | "nothing_to_train"

    @property
    def steps_this_run(self) -> int:
        return self.step - self.start_step


class TrainingInterrupted(Interrupted):
    """Ctrl-C (exit code 130) or SIGTERM (143): a checkpoint was saved, the run can be resumed."""

    exit_code = 130


_ALLOWED_LEAVES = (torch.Tensor, bool, int, float, str, type(None))


def _check_loadable(value: Any, where: str) -> None:
    """Refuse (when saving) what ``torch.load(weights_only=True)`` could not load back."""
    if isinstance(value, _ALLOWED_LEAVES):
        return
    if isinstance(value, dict):
        for k, v in value.items():
            if not isinstance(k, (str, int)):
                raise TypeError(f"{where} has a key {k!r} of type {type(k).__name__}; use str or int keys")
            _check_loadable(v, f"{where}[{k!r}]")
        return
    if isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            _check_loadable(v, f"{where}[{i}]")
        return
    raise TypeError(f"{where} is a {type(value).__name__}; extra_state() may hold only tensors, numbers, strings, "
                    f"None, lists, tuples and dicts (trainer_state.pt is loaded with weights_only=True)")


class _ResumeSampler(Sampler):
    """Skips the first ``skip`` indices of an epoch's order, so a resumed run sees exactly the data it would have."""

    def __init__(self, base: Sampler, skip: int) -> None:
        self.base, self.skip = base, skip

    def __iter__(self):
        return itertools.islice(iter(self.base), self.skip, None)

    def __len__(self) -> int:
        return max(0, len(self.base) - self.skip)  # type: ignore[arg-type]


def move_to(batch: Any, device: torch.device) -> Any:
    if isinstance(batch, torch.Tensor):
        return batch.to(device, non_blocking=True)
    if isinstance(batch, (list, tuple)):
        return type(batch)(move_to(b, device) for b in batch)
    if isinstance(batch, dict):
        return {k: move_to(v, device) for k, v in batch.items()}
    return batch


def lr_factor(step: int, *, total: int, warmup: int, schedule: str, min_ratio: float) -> float:
    """Multiplier of the peak LR at ``step`` (linear warm-up, then constant / cosine / linear decay)."""
    if warmup > 0 and step < warmup:
        return (step + 1) / warmup
    if schedule == "constant":
        return 1.0
    progress = min(1.0, max(0.0, (step - warmup) / max(1, total - warmup)))
    if schedule == "cosine":
        return min_ratio + (1.0 - min_ratio) * 0.5 * (1.0 + math.cos(math.pi * progress))
    return 1.0 - (1.0 - min_ratio) * progress


def _jsonable(value: Any) -> Any:
    """Tuples compare equal to the lists JSON gives back."""
    if isinstance(value, tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    return value


class _LogWindow:
    """Metric sums of the steps since the last log line, with a count per key.

    A key present on some steps only (a GAN's ``g_loss`` with ``n_critic > 1``) is averaged over the steps that had
    it, not over every step of the window. A window cut short by a stop (Ctrl-C, SIGTERM, ``--max-time``) is logged
    before the checkpoint is written; the sums themselves are not checkpointed, so a resumed run starts a fresh
    window (its first log line averages only the steps after the resume).
    """

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.sums: dict[str, torch.Tensor] = {}
        self.counts: dict[str, int] = {}
        self.steps = 0
        self.started = time.time()

    def add(self, out: dict[str, Any]) -> None:
        for k, v in out.items():
            if isinstance(v, torch.Tensor) and v.numel() == 1:
                self.sums[k] = self.sums.get(k, 0) + v.detach().float()
                self.counts[k] = self.counts.get(k, 0) + 1
        self.steps += 1


class _NonFinite(Exception):
    def __init__(self, value: float, what: str) -> None:
        self.value, self.what = value, what


def _fmt_time(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m" if seconds >= 3600 else f"{seconds // 60}m{seconds % 60:02d}s"


class Trainer:
    """Runs ``model`` on ``train_data`` under ``config``, writing everything into ``run_dir``.

    >>> trainer = Trainer(model, dataset, TrainConfig(max_steps=1000), "runs/vae/demo", sample_fn=save_samples)
    >>> result = trainer.fit()            # later: Trainer(...).fit(resume=True)

    Under ``torchrun`` the model is wrapped in DistributedDataParallel, which averages the gradients inside
    ``backward()``. That fits one optimiser stepping all parameters after one backward. A trainer with several
    optimisers or backward passes per step (a GAN, an AAE) sets ``wrap_ddp = False``: then ``fit`` broadcasts rank 0's
    parameters and buffers once at the start, and the trainer calls :meth:`average_gradients` after each backward and
    before each optimiser step (buffers such as BatchNorm statistics are then per rank; rank 0's are saved).
    """

    #: wrap the model in DistributedDataParallel under torchrun (False: the trainer calls average_gradients itself)
    wrap_ddp: bool = True

    def __init__(self, model: GenlabModel, train_data: Dataset, config: TrainConfig, run_dir: str | Path, *,
                 run_config: dict[str, Any] | None = None,
                 eval_fn: Callable[[GenlabModel], dict[str, float]] | None = None,
                 sample_fn: Callable[[GenlabModel, Path], None] | None = None) -> None:
        """``sample_fn(model, path_stem)`` writes samples to ``path_stem`` + a suffix of its choice."""
        self.model = model
        self.train_data = train_data
        self.config = config
        self.run_dir = Path(run_dir)
        self.run_config = run_config or {}
        self.eval_fn = eval_fn
        self.sample_fn = sample_fn
        self.step = 0
        self.start_step = 0
        self._stop = None
        self._last_checkpoint: Path | None = None

    # ---- pieces a family may override ------------------------------------------------------------------------------
    def build_optimizers(self) -> dict[str, torch.optim.Optimizer]:
        cfg = self.config
        params = [p for p in self.model.parameters() if p.requires_grad]
        # Decay matrices and embeddings, not biases or norm gains (as nanoGPT / GPT-2 do).
        groups = [{"params": [p for p in params if p.dim() >= 2], "weight_decay": cfg.weight_decay},
                  {"params": [p for p in params if p.dim() < 2], "weight_decay": 0.0}]
        groups = [g for g in groups if g["params"]]
        opt_cls = {"adam": torch.optim.Adam, "adamw": torch.optim.AdamW, "rmsprop": torch.optim.RMSprop,
                   "sgd": torch.optim.SGD}[cfg.optimizer]
        kwargs: dict[str, Any] = {"lr": cfg.lr}
        if cfg.optimizer == "sgd":
            kwargs["momentum"] = 0.9
        if cfg.optimizer in ("adam", "adamw"):
            kwargs["betas"] = (cfg.adam_beta1, cfg.adam_beta2)
        if cfg.optimizer in ("adam", "adamw") and self.device.type in ("cpu", "cuda"):
            kwargs["fused"] = True  # one kernel for all parameters: ~15% faster steps for small CPU models
        return {"model": opt_cls(groups, **kwargs)}

    def forward_loss(self, batch: Any) -> dict[str, torch.Tensor]:
        """Run the (DDP-wrapped) model under autocast; it returns a dict with a scalar ``loss``."""
        with autocast(self.device, self.config.precision):
            out = self.ddp_model(*batch) if isinstance(batch, (tuple, list)) else self.ddp_model(batch)
        if not isinstance(out, dict) or "loss" not in out:
            raise TypeError(f"{type(self.model).__name__}.forward must return a dict with a 'loss' entry")
        return out

    def training_step(self, batch: Any) -> dict[str, torch.Tensor]:
        out = self.forward_loss(batch)
        loss = out["loss"].float()
        self.check_finite(loss)
        opt = self.optimizers["model"]
        opt.zero_grad(set_to_none=True)
        self.scaler.scale(loss).backward()
        if self.config.grad_clip > 0:
            self.scaler.unscale_(opt)
            out["grad_norm"] = nn.utils.clip_grad_norm_(self.model.parameters(), self.config.grad_clip)
            if not self.scaler.is_enabled():  # fp16's scaler skips inf/NaN-gradient steps by design
                self.check_finite(out["grad_norm"], what="gradient norm")
        self.scaler.step(opt)
        self.scaler.update()
        return out

    def average_gradients(self, params) -> None:
        """Under torchrun without DDP wrapping (``wrap_ddp = False``): average ``.grad`` of ``params`` over ranks.

        Call it after ``backward()`` and before the optimiser step, with the same parameters (in the same order, all
        with or all without a gradient) on every rank. One all-reduce per dtype and device (gradients are flattened
        into one buffer). A no-op in one process.
        """
        if not self.dist.enabled:
            return
        grads = [p.grad for p in params if p.grad is not None]
        buckets: dict[tuple[torch.dtype, torch.device], list[torch.Tensor]] = {}
        for g in grads:
            buckets.setdefault((g.dtype, g.device), []).append(g)
        for group in buckets.values():
            flat = torch.cat([g.reshape(-1) for g in group])
            all_reduce_(flat, "sum")
            flat /= self.dist.world_size
            offset = 0
            for g in group:
                g.copy_(flat[offset:offset + g.numel()].view_as(g))
                offset += g.numel()

    def extra_state(self) -> dict[str, Any]:
        """State of a subclass that must survive a resume (a loss history, an image pool ...); default none.

        Saved inside ``trainer_state.pt`` (rank 0's under torchrun), so it may hold only tensors, numbers, strings,
        None, lists, tuples and dicts; anything else is refused when saving. Given back to :meth:`load_extra_state`.
        """
        return {}

    def load_extra_state(self, state: dict[str, Any]) -> None:
        """Restore what :meth:`extra_state` returned; called on resume, after the weights and optimisers are loaded
        (with ``{}`` for a checkpoint of an older genlab that saved none)."""

    def check_finite(self, loss: torch.Tensor, *, what: str = "loss") -> None:
        """Stop (on every rank) before a NaN/Inf loss (or gradient) can reach the weights."""
        bad = torch.tensor([0.0 if bool(torch.isfinite(loss).all()) else 1.0])
        all_reduce_(bad, "max")
        if bad.item() > 0:
            raise _NonFinite(float(loss.detach().float().mean()) if loss.numel() else float("nan"), what)

    # ---- state ---------------------------------------------------------------------------------------------------
    def trainer_state(self, epoch: int) -> dict[str, Any]:
        from .. import __version__
        rngs = all_gather_objects(rng_state())  # collective: every rank calls this
        extra = self.extra_state()
        if not isinstance(extra, dict):
            raise TypeError(f"{type(self).__name__}.extra_state() must return a dict, not {type(extra).__name__}")
        _check_loadable(extra, "extra_state()")
        return {
            "step": self.step, "epoch": epoch, "world_size": self.dist.world_size,
            "batch_size": self.config.batch_size, "model_type": self.model.model_type, "family": self.model.family,
            "optimizers": {k: o.state_dict() for k, o in self.optimizers.items()},
            "schedulers": {k: s.state_dict() for k, s in self.schedulers.items()},
            "scaler": self.scaler.state_dict(), "rng": rngs, "genlab_version": __version__,
            "optimizer_classes": {k: type(o).__name__ for k, o in self.optimizers.items()}, "extra": extra,
        }

    def save(self, epoch: int) -> Path | None:
        state = self.trainer_state(epoch)
        path = None
        if self.dist.is_main:
            path = save_checkpoint(self.run_dir, self.step, self.model, state, keep_last=self.config.keep_checkpoints)
            self._last_checkpoint = path
        barrier()
        return path

    def _load(self, checkpoint: Path) -> None:
        cfg = read_model_config(checkpoint)
        if cfg["model_type"] != self.model.model_type:
            raise CheckpointError(f"cannot resume: {checkpoint} holds {a_or_an(cfg.get('family', '?'))} model "
                                  f"({cfg['model_type']}), not {self.model.family} ({self.model.model_type})")
        state = load_trainer_state(checkpoint)
        load_weights(self.model, checkpoint / WEIGHTS_NAME)
        # The hyperparameters the optimisers were just built with (from the *current* configs): loading the saved
        # state would bring back the old ones (a new --lr silently ignored), so they are put back afterwards.
        fresh = {k: [{n: v for n, v in g.items() if n != "params"} for g in o.param_groups]
                 for k, o in self.optimizers.items()}
        classes = state.get("optimizer_classes", {})
        try:
            for k, opt in self.optimizers.items():
                if classes.get(k, type(opt).__name__) != type(opt).__name__:
                    self._say(f"note: optimiser {k!r} is now {type(opt).__name__} (the checkpoint has "
                              f"{classes[k]}): its state (moments, momentum) starts afresh")
                    continue
                opt.load_state_dict(state["optimizers"][k])
            for k, sched in self.schedulers.items():
                sched.load_state_dict(state["schedulers"][k])
            self.scaler.load_state_dict(state["scaler"])
        except (KeyError, ValueError, RuntimeError) as e:
            raise CheckpointError(f"{checkpoint}: trainer state does not fit this model/optimiser ({e}); resume "
                                  f"with the options the run was trained with, or start a new run") from None
        for k, opt in self.optimizers.items():
            self._apply_hyperparameters(opt, fresh[k], self.schedulers.get(k))
        rngs = state["rng"]
        set_rng_state(rngs[self.dist.rank] if len(rngs) == self.dist.world_size else rngs[0])
        self.step = int(state["step"])
        if state.get("world_size") != self.dist.world_size or state.get("batch_size") != self.config.batch_size:
            self._say(f"note: resuming with world size {self.dist.world_size} x batch {self.config.batch_size} "
                      f"(checkpoint had {state.get('world_size')} x {state.get('batch_size')}): data order differs")
        self.load_extra_state(state.get("extra") or {})
        self._last_checkpoint = checkpoint

    @staticmethod
    def _apply_hyperparameters(opt: torch.optim.Optimizer, fresh: list[dict[str, Any]],
                               sched: torch.optim.lr_scheduler.LRScheduler | None) -> None:
        """After loading an optimiser's state: the current config's lr/betas/weight decay ... win over the saved ones.

        The learning rate goes through the scheduler: its base LRs become the new peak LRs and each group's current
        lr is recomputed for the restored step (bit-identical to the saved one when nothing changed).
        """
        if len(fresh) != len(opt.param_groups):
            return
        for group, new in zip(opt.param_groups, fresh, strict=True):
            for name, value in new.items():
                if name != "lr":
                    group[name] = value
        if isinstance(sched, torch.optim.lr_scheduler.LambdaLR):
            sched.base_lrs = [g["initial_lr"] for g in opt.param_groups]
            for group, base, fn in zip(opt.param_groups, sched.base_lrs, sched.lr_lambdas, strict=True):
                group["lr"] = base * fn(sched.last_epoch)
            sched._last_lr = [g["lr"] for g in opt.param_groups]  # what get_last_lr() reports
        else:
            for group, new in zip(opt.param_groups, fresh, strict=True):
                group["lr"] = new["lr"]

    # ---- the loop --------------------------------------------------------------------------------------------------
    def _say(self, msg: str) -> None:
        if self.dist.is_main:
            print(msg, file=sys.stderr, flush=True)

    def _run_hook(self, fn: Callable, *args) -> Any:
        """Run an eval/sample hook in eval mode, without touching the training RNG stream (resume stays exact)."""
        was_training = self.model.training
        self.model.eval()
        try:
            with torch.random.fork_rng(devices=[self.device] if self.device.type == "cuda" else []), torch.no_grad():
                return fn(self.model, *args)
        finally:
            self.model.train(was_training)

    def _sample(self) -> None:
        if self.sample_fn is not None and self.dist.is_main:
            # The hook adds its own suffix (.png for images, .txt for text ...).
            self._run_hook(self.sample_fn, self.run_dir / "samples" / f"step_{self.step:06d}")

    def _evaluate(self) -> dict[str, float]:
        if self.eval_fn is None or not self.dist.is_main:
            barrier()
            return {}
        metrics = self._run_hook(self.eval_fn)
        metrics = {f"eval/{k}": float(v) for k, v in metrics.items()}
        self.logger.log(self.step, metrics)
        barrier()
        return metrics

    def _lock(self) -> RunLock | None:
        """Rank 0 takes RUN/.lock; every rank learns whether it got it (and raises the same error if not)."""
        lock, error = None, None
        if self.dist.is_main:
            try:
                ensure_dir(self.run_dir)
                lock = RunLock(self.run_dir).acquire()
            except GenlabError as e:
                error = str(e)
        if self.dist.enabled:
            error = all_gather_objects(error)[0]
        if error is not None:
            raise GenlabError(error)
        return lock

    def fit(self, *, resume: bool = False) -> TrainResult:
        """Train to ``max_steps`` (or ``epochs``); with ``resume=True`` continue from the run's newest checkpoint.

        Stops early, with a checkpoint, on Ctrl-C / SIGTERM (raises :class:`TrainingInterrupted`, exit code 130 /
        143) and when ``max_time`` is used up (returns normally, ``stop_reason="max_time"``). The run folder is
        locked (``RUN/.lock``) for the whole call.
        """
        cfg = self.config
        start = time.time()
        from .distributed import dist_info_from_env
        self.device = resolve_device(cfg.device, local_rank=dist_info_from_env().local_rank)
        autocast(self.device, cfg.precision)  # validates precision vs device before any work
        self.dist: DistInfo = init_distributed(self.device.type)
        lock = self._lock()
        try:
            return self._fit(resume, start)
        finally:
            if lock is not None:
                lock.release()

    def _fit(self, resume: bool, start: float) -> TrainResult:
        cfg = self.config
        if resume:
            checkpoint = resumable_checkpoint(self.run_dir)
        else:
            checkpoint = latest_checkpoint(self.run_dir)
            if checkpoint is not None:
                raise GenlabError(f"{self.run_dir} already holds a run (checkpoint {checkpoint.name}); pass --resume "
                                  f"to continue it or choose another --out")

        seed_everything(cfg.seed + self.dist.rank)
        self.model.to(self.device).train()
        if self.dist.enabled and self.wrap_ddp:
            from torch.nn.parallel import DistributedDataParallel
            ids = [self.device.index] if self.device.type == "cuda" else None
            self.ddp_model: nn.Module = DistributedDataParallel(self.model, device_ids=ids)
        else:
            self.ddp_model = self.model
            if self.dist.enabled:  # same start on every rank; average_gradients keeps them equal
                for t in itertools.chain(self.model.parameters(), self.model.buffers()):
                    broadcast_(t.data, src=0)

        data = self.train_data
        sampler = DistributedSampler(data, num_replicas=self.dist.world_size, rank=self.dist.rank, shuffle=True,
                                     seed=cfg.seed, drop_last=True)
        steps_per_epoch = len(sampler) // cfg.batch_size
        if steps_per_epoch == 0:
            raise DataError(f"the training data has {len(data)} examples, fewer than one batch of {cfg.batch_size}"
                            f"{' per process' if self.dist.enabled else ''}; pass --batch-size {max(1, len(sampler))} (or fewer) "
                            f"or add data")
        total = cfg.max_steps if cfg.max_steps is not None else cfg.epochs * steps_per_epoch

        self.optimizers = self.build_optimizers()
        self.schedulers = {
            k: torch.optim.lr_scheduler.LambdaLR(o, lambda s: lr_factor(
                s, total=total, warmup=cfg.warmup_steps, schedule=cfg.lr_schedule, min_ratio=cfg.min_lr_ratio))
            for k, o in self.optimizers.items()}
        self.scaler = torch.amp.GradScaler(self.device.type, enabled=cfg.precision == "fp16")
        if resume:
            self._load(checkpoint)
            self._say(f"resuming {self.run_dir} from step {self.step}")
        self.start_step = self.step
        if self.step >= total:
            return self._nothing_to_train(total, start)
        if self.dist.is_main:
            self._write_run_config()
        self.logger = MetricsLogger(self.run_dir, enabled=self.dist.is_main, tensorboard=cfg.tensorboard,
                                    start_step=self.step)
        def stop_message(signum: int) -> str:
            if signum == signal.SIGINT:
                return "interrupt: finishing this step and saving a checkpoint (Ctrl-C again to abort)"
            return f"{signal.Signals(signum).name}: finishing this step and saving a checkpoint"

        try:
            with graceful_stop(message=stop_message if self.dist.is_main else None) as self._stop:
                return self._loop(sampler, steps_per_epoch, total, start)
        finally:
            self.logger.close()

    def _nothing_to_train(self, total: int, start: float) -> TrainResult:
        cfg = self.config
        target = f"--max-steps {cfg.max_steps}" if cfg.max_steps is not None else f"--epochs {cfg.epochs}"
        self._say(f"warning: nothing to train: {self.run_dir} is already at step {self.step} and the target is step "
                  f"{total} ({target}); raise {target.split()[0]} to train longer")
        if self.dist.is_main and not (self.run_dir / WEIGHTS_NAME).exists():
            self.model.save_pretrained(self.run_dir, metadata={"step": str(self.step)})
        barrier()
        rows = [r for r in read_metrics(self.run_dir) if any(k.startswith("train/") for k in r)]
        metrics = {k: v for k, v in rows[-1].items() if k not in ("step", "time")} if rows else {}
        return TrainResult(self.run_dir, self.step, metrics, {}, time.time() - start, self._last_checkpoint,
                           start_step=self.step, stop_reason="nothing_to_train")

    def _write_run_config(self) -> None:
        """``train_config.json``: the effective configs of this segment, plus one history entry per segment."""
        from .. import __version__
        path = self.run_dir / RUN_CONFIG
        old: dict[str, Any] = {}
        if self.step > 0 and path.exists():
            try:
                old = read_json(path, what="run config")
            except GenlabError as e:
                self._say(f"note: rewriting {path}: {e}")
        new = {**old, **self.run_config, "train": to_dict(self.config), "genlab_version": __version__}
        changed: dict[str, list[Any]] = {}
        for section, fields in new.items():
            before = old.get(section)
            if section == "history" or not isinstance(fields, dict) or not isinstance(before, dict):
                continue
            for name, value in fields.items():
                was = before.get(name)
                if name in before and _jsonable(was) != _jsonable(value):
                    changed[name if name not in changed else f"{section}.{name}"] = [was, value]
        history = list(old.get("history") or [])
        history.append({"started_at_step": self.step, "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                        "changed": changed, "genlab_version": __version__})
        new["history"] = history
        write_json_atomic(path, new)

    def _stop_flags(self, start: float) -> tuple[bool, bool]:
        """(a signal asked to stop, --max-time is used up), agreed by every rank (one all-reduce)."""
        limit = self.config.max_seconds
        flags = torch.tensor([1.0 if self._stop else 0.0,
                              1.0 if limit is not None and time.time() - start >= limit else 0.0])
        if self.dist.enabled:
            all_reduce_(flags, "max")  # every rank stops at the same step
        return bool(flags[0] > 0), bool(flags[1] > 0)

    def _loop(self, sampler: DistributedSampler, steps_per_epoch: int, total: int, start: float) -> TrainResult:
        cfg = self.config
        epoch, offset = divmod(self.step, steps_per_epoch)
        start_step = self.step
        # A bar only on a terminal: redirected to a file, tqdm's \r updates would fill the log; print lines instead.
        use_bar = cfg.progress and self.dist.is_main and sys.stderr.isatty()
        bar = None
        if use_bar:
            from tqdm.auto import tqdm
            bar = tqdm(total=total, initial=self.step, desc=f"{self.model.family} train", unit="step",
                       dynamic_ncols=True)
        window = _LogWindow()
        last_metrics: dict[str, float] = {}
        eval_metrics: dict[str, float] = {}
        saved_at = -1
        stop_reason = "finished"
        collate = getattr(self.train_data, "collate_fn", None)
        try:
            while self.step < total:
                sampler.set_epoch(epoch)
                batches = BatchSampler(_ResumeSampler(sampler, offset * cfg.batch_size), cfg.batch_size, drop_last=True)
                # Its own generator: a DataLoader iterator otherwise draws a seed from the global RNG, which would
                # make a resumed run (a new iterator mid-epoch) drift from an uninterrupted one.
                loader = DataLoader(self.train_data, batch_sampler=batches, collate_fn=collate,
                                    num_workers=cfg.num_workers, pin_memory=self.device.type == "cuda",
                                    generator=torch.Generator().manual_seed(cfg.seed + 7919 * epoch))
                for batch in loader:
                    batch = move_to(batch, self.device)
                    try:
                        out = self.training_step(batch)
                    except _NonFinite as nf:
                        raise self._nonfinite_error(nf.value, nf.what) from None
                    self.step += 1
                    with warnings.catch_warnings():
                        # A trainer with several optimisers does not step each of them every step (a GAN's G with
                        # n_critic > 1); the engine still steps every scheduler, so the schedule is a function of the
                        # global step. PyTorch's "scheduler before optimizer" warning is spurious here.
                        warnings.filterwarnings("ignore", message=r"Detected call of `lr_scheduler\.step\(\)`")
                        for sched in self.schedulers.values():
                            sched.step()
                    window.add(out)
                    if self.step % cfg.log_every == 0 or self.step == total:
                        last_metrics = self._log(window, epoch, start, start_step, total, bar)
                    if bar is not None:
                        bar.update(1)
                    if cfg.eval_every and self.step % cfg.eval_every == 0 and self.step < total:
                        eval_metrics = self._evaluate()
                    if cfg.sample_every and self.step % cfg.sample_every == 0 and self.step < total:
                        self._sample()
                    signalled, out_of_time = self._stop_flags(start)
                    if (signalled or out_of_time) and window.steps:  # log the cut window before stopping
                        last_metrics = self._log(window, epoch, start, start_step, total, bar)
                    if signalled:
                        path = self.save(epoch)
                        signum = self._stop.signum or signal.SIGINT
                        what = "interrupted" if signum == signal.SIGINT else \
                            f"terminated ({signal.Signals(signum).name})"
                        raise TrainingInterrupted(f"{what} at step {self.step}; checkpoint saved to "
                                                  f"{path or self.run_dir}; continue with --resume", signum=signum)
                    if out_of_time and self.step < total:
                        path = self.save(epoch)
                        saved_at, stop_reason = self.step, "max_time"
                        if bar is not None:
                            bar.close()
                            bar = None
                        self._say(f"time limit --max-time {cfg.max_time} reached at step {self.step}/{total}; "
                                  f"checkpoint saved to {path or self.run_dir}; continue with --resume")
                        break
                    if self.step % cfg.checkpoint_every == 0 or self.step == total:
                        self.save(epoch)
                        saved_at = self.step
                    if self.step >= total:
                        break
                if stop_reason != "finished":
                    break
                epoch += 1
                offset = 0
        finally:
            if bar is not None:
                bar.close()
        if saved_at != self.step:
            self.save(epoch)
        if self.dist.is_main:
            self.model.save_pretrained(self.run_dir, metadata={"step": str(self.step)})
        if stop_reason == "finished":  # the final sample and evaluation belong to a run that reached its target
            self._sample()
            eval_metrics = self._evaluate() or eval_metrics
        seconds = time.time() - start
        return TrainResult(self.run_dir, self.step, last_metrics, eval_metrics, seconds, self._last_checkpoint,
                           start_step=start_step, stop_reason=stop_reason)

    def _log(self, window: _LogWindow, epoch, start, start_step, total, bar) -> dict[str, float]:
        sums, counts, steps, t_log = window.sums, window.counts, window.steps, window.started
        window.reset()
        keys = sorted(sums)
        if keys:
            vec = torch.cat([torch.stack([sums[k].cpu() for k in keys]),
                             torch.tensor([float(counts[k]) for k in keys])])
            if self.dist.enabled:
                all_reduce_(vec, "sum")  # sums and counts over ranks: the mean over every rank's steps
            means = vec[:len(keys)] / vec[len(keys):].clamp_min(1.0)
        else:
            means = torch.zeros(0)
        metrics = {f"train/{k}": float(v) for k, v in zip(keys, means.tolist(), strict=True)}
        now = time.time()
        metrics["lr"] = self.optimizers[next(iter(self.optimizers))].param_groups[0]["lr"]
        metrics["epoch"] = epoch
        metrics["samples_per_sec"] = steps * self.config.batch_size * self.dist.world_size / max(now - t_log, 1e-9)
        self.logger.log(self.step, metrics)
        loss = metrics.get("train/loss", float("nan"))
        if bar is not None:
            bar.set_postfix(loss=f"{loss:.4g}")
        elif self.config.progress and self.dist.is_main:
            done = self.step - start_step
            eta = (now - start) / max(done, 1) * (total - self.step)
            print(f"step {self.step}/{total} | loss {loss:.4g} | {metrics['samples_per_sec']:.0f} ex/s | "
                  f"elapsed {_fmt_time(now - start)} | eta {_fmt_time(eta)}", file=sys.stderr, flush=True)
        return metrics

    def _nonfinite_error(self, value: float, what: str) -> NonFiniteLossError:
        step = self.step + 1
        if self._last_checkpoint is not None:
            keep = f"the last good checkpoint is {self._last_checkpoint} (step {int(self._last_checkpoint.name[5:])})"
        else:
            keep = "no checkpoint had been written yet"
        return NonFiniteLossError(f"{what} became {value} at step {step}; training stopped before updating the weights, "
                                  f"{keep}; lower --lr, set --grad-clip, or use --precision fp32, then --resume")

