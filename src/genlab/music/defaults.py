"""Engine defaults of each music model (``genlab music train`` applies them under what the user types)."""

from __future__ import annotations

from typing import Any

# Shown by `genlab music train -h` (the note models' recipe); polyphonic and gpt differ, see train_defaults().
DEFAULT_TRAIN: dict[str, Any] = dict(max_steps=3000, batch_size=64, lr=2e-3, optimizer="adam", grad_clip=1.0,
                                     lr_schedule="cosine", warmup_steps=100, min_lr_ratio=0.1, log_every=50,
                                     eval_every=250, sample_every=1000, checkpoint_every=500)

PER_MODEL: dict[str, dict[str, Any]] = {
    "rnn-attention": {},
    "gpt": dict(lr=1e-3, optimizer="adamw", weight_decay=0.1, adam_beta2=0.99),
    "polyphonic": dict(max_steps=2000, batch_size=16, lr=3e-3, eval_every=100),
}


def train_defaults(model: str) -> dict[str, Any]:
    return {**DEFAULT_TRAIN, **PER_MODEL.get(model, {})}
