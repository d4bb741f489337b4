"""Run by test_engine under torchrun: train the toy model with per-process batch size argv[2] into argv[1]."""

import sys

import torch

from genlab.core.distributed import shutdown_distributed
from genlab.core.engine import TrainConfig, Trainer
from toy import ToyConfig, ToyRegressor, toy_data

torch.manual_seed(0)
model = ToyRegressor(ToyConfig(noise=0.0))
config = TrainConfig(batch_size=int(sys.argv[2]), lr=1e-2, max_steps=12, log_every=1, checkpoint_every=100,
                     sample_every=0, progress=False, tensorboard=False, seed=0, device="cpu")
Trainer(model, toy_data(), config, sys.argv[1]).fit()
shutdown_distributed()
