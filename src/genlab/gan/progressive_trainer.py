"""The ProGAN trainer: the GAN step of :class:`~genlab.gan.trainer.GANTrainer` at the growth schedule's resolution.

Before every step the networks are set to ``growth_schedule(images_seen)`` (level, fade-in alpha); the real images are
pooled to that side and faded like G's output; after the step ``images_seen`` grows by the global batch. The count is
checkpointed (``extra_state``), and the level/alpha are buffers of the saved weights, so a run resumed in the middle
of a fade-in continues with exactly the alpha it would have had. At the end of every phase (before the schedule moves
on) a sample grid of that phase is written to ``RUN/samples/phase<k>_<side>px[-fade].png``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from ..viz import save_image_grid
from .progressive import fade_real_images, phase_name
from .trainer import GANTrainer


class ProGANTrainer(GANTrainer):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.images_seen = 0
        self._phase: tuple[int, bool] | None = None  # (level, fading) of the previous step
        self._phase_index = 0

    def extra_state(self) -> dict[str, Any]:
        return {**super().extra_state(), "images_seen": self.images_seen, "phase": self._phase_key(),
                "phase_index": self._phase_index}

    def load_extra_state(self, state: dict[str, Any]) -> None:
        super().load_extra_state(state)
        self.images_seen = int(state.get("images_seen", 0))
        self._phase_index = int(state.get("phase_index", 0))
        phase = state.get("phase")
        self._phase = (int(phase[0]), bool(phase[1])) if phase else None

    def _phase_key(self) -> list | None:
        return [self._phase[0], self._phase[1]] if self._phase is not None else None

    def _global_batch(self, n: int) -> int:
        return n * (self.dist.world_size if self.dist.enabled else 1)

    def _phase_grid(self, level: int, fading: bool) -> None:
        if not self.dist.is_main:
            return
        name = phase_name(level, 0.5 if fading else 1.0)
        path = Path(self.run_dir) / "samples" / f"phase{self._phase_index}_{name}.png"
        seed = self.config.seed
        self._run_hook(lambda m: save_image_grid(m.sample(64, seed=seed), path, nrow=8))

    def training_step(self, batch: Any) -> dict[str, torch.Tensor]:
        level, alpha = self.model.schedule(self.images_seen)
        phase = (level, alpha < 1.0)
        if self._phase is not None and phase != self._phase:
            self._phase_grid(*self._phase)  # the phase that just ended, as it ended (the nets are still there)
            self._phase_index += 1
        self._phase = phase
        self.model.set_growth(level, alpha)
        out = super().training_step(batch)
        self.images_seen += self._global_batch(batch[0].shape[0])
        out["alpha"] = torch.tensor(alpha)
        out["side"] = torch.tensor(float(4 * 2 ** level))
        return out

    def real_images(self, images: torch.Tensor) -> torch.Tensor:
        level, alpha = self.model.growth
        return fade_real_images(super().real_images(images), level, alpha)

    def fit(self, *args: Any, **kwargs: Any):
        result = super().fit(*args, **kwargs)
        if self._phase is not None and result.stop_reason in ("finished", "max_time"):
            self._phase_grid(*self._phase)
        return result
