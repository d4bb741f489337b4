"""Train the toy model in a subprocess (lock, SIGTERM, --max-time and torchrun tests).

``python train_script.py OUT [--max-steps N] [--resume] [--delay S] [--trainer plain|twoopt] ...``; GenlabErrors are
printed as the CLI prints them (``genlab: error: ...`` / ``genlab: stopped: ...``, rank 0 only) with their exit code.
"""

from __future__ import annotations

import argparse
import sys
import time

import torch

from genlab.core.distributed import dist_info_from_env, shutdown_distributed
from genlab.core.engine import TrainConfig, Trainer
from genlab.core.errors import GenlabError
from toy import ToyConfig, ToyRegressor, toy_data


class SlowTrainer(Trainer):
    """The default step, ``delay`` seconds slower (so a test can act while it runs)."""

    delay = 0.0

    def training_step(self, batch):
        time.sleep(self.delay)
        return super().training_step(batch)


class TwoOptimizerTrainer(SlowTrainer):
    """Two optimisers (Adam on the first layer, SGD on the last) stepped on alternate steps, as a GAN's D and G are.

    Not wrapped in DDP: under torchrun it averages the gradients itself, before each optimiser step.
    """

    wrap_ddp = False

    def build_optimizers(self):
        net = self.model.net
        return {"first": torch.optim.Adam(net[0].parameters(), lr=self.config.lr),
                "second": torch.optim.SGD(net[2].parameters(), lr=self.config.lr, momentum=0.9)}

    def training_step(self, batch):
        time.sleep(self.delay)
        x, y = batch
        loss = self.model(x, y)["loss"]
        for opt in self.optimizers.values():
            opt.zero_grad(set_to_none=True)
        loss.backward()
        opt = self.optimizers["first" if self.step % 2 == 0 else "second"]
        self.average_gradients([p for g in opt.param_groups for p in g["params"]])
        opt.step()
        return {"loss": loss.detach()}


TRAINERS = {"plain": SlowTrainer, "twoopt": TwoOptimizerTrainer}


def build(out: str, *, trainer: str = "plain", delay: float = 0.0, noise: float = 0.1, **cfg) -> Trainer:
    torch.manual_seed(0)
    model = ToyRegressor(ToyConfig(noise=noise))
    base = dict(batch_size=8, lr=1e-2, max_steps=12, log_every=1, checkpoint_every=100, sample_every=0,
                progress=False, tensorboard=False, seed=0, device="cpu")
    t = TRAINERS[trainer](model, toy_data(), TrainConfig(**{**base, **cfg}), out)
    t.delay = delay
    return t


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("out")
    p.add_argument("--max-steps", type=int, default=12)
    p.add_argument("--batch-size", type=int, default=8)
    p.add_argument("--checkpoint-every", type=int, default=100)
    p.add_argument("--max-time", default=None)
    p.add_argument("--delay", type=float, default=0.0)
    p.add_argument("--noise", type=float, default=0.1)
    p.add_argument("--trainer", default="plain", choices=sorted(TRAINERS))
    p.add_argument("--resume", action="store_true")
    a = p.parse_args()
    try:
        t = build(a.out, trainer=a.trainer, delay=a.delay, noise=a.noise, max_steps=a.max_steps,
                  batch_size=a.batch_size, checkpoint_every=a.checkpoint_every, max_time=a.max_time)
        r = t.fit(resume=a.resume)
        if dist_info_from_env().is_main:
            print(f"done: step {r.step} from {r.start_step}", flush=True)
        return 0
    except GenlabError as e:
        if dist_info_from_env().is_main:
            print(f"genlab: {'stopped' if e.exit_code in (130, 143) else 'error'}: {e}", file=sys.stderr, flush=True)
        return e.exit_code
    finally:
        shutdown_distributed()


if __name__ == "__main__":
    sys.exit(main())
