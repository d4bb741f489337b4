"""The environment: gymnasium's ``CarRacing-v3`` (Box2D), headless, its frames cropped and resized as in the paper.

    >>> env = make_env(max_episode_steps=300)
    >>> obs, _ = env.reset(seed=0)
    >>> frame = process_frame(obs)        # (64, 64, 3) uint8

Ha & Schmidhuber (2018) crop the 96x96 observation to its top 84 rows (the bottom 12 are the dashboard: speed, ABS,
steering and gyro bars, which would leak the car's state past the VAE) and resize the 84x96 crop to 64x64 (their
``scipy.misc.imresize``, bilinear; here PIL's bilinear resize). The paper used ``CarRacing-v0``; gymnasium 1.x has
``v3`` (same track generator and reward: -0.1 per frame, +1000/N per new track tile; v3 fixes a few physics and
rendering bugs), so scores are labelled v3.
"""

from __future__ import annotations

import os

import numpy as np

from ..core.errors import ConfigError
from ..core.extras import require

ENV_ID = "CarRacing-v3"
FRAME_SIZE = 64
CROP_ROWS = 84
ACTION_DIM = 3  # steer in [-1, 1], gas in [0, 1], brake in [0, 1]
# Evaluation uses the track seeds EVAL_SEED_BASE, EVAL_SEED_BASE + 1, ...; collection and controller training use
# seeds below it, so a reported score is always on tracks that training never saw.
EVAL_SEED_BASE = 1_000_000


def check_env_available() -> None:
    """One line saying what to install when gymnasium or Box2D is missing."""
    os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
    require("gymnasium", extra="worldmodels", what="the CarRacing environment", package="'gymnasium[box2d]'")
    require("Box2D", extra="worldmodels", what="CarRacing's physics", package="'gymnasium[box2d]'")


def make_env(max_episode_steps: int | None = None):
    """A headless ``CarRacing-v3`` (``SDL_VIDEODRIVER=dummy``: no display needed), optionally time-limited."""
    check_env_available()
    import gymnasium as gym

    kwargs = {} if max_episode_steps is None else {"max_episode_steps": int(max_episode_steps)}
    return gym.make(ENV_ID, **kwargs)


def process_frame(obs: np.ndarray) -> np.ndarray:
    """A (96, 96, 3) uint8 observation -> (64, 64, 3) uint8: top 84 rows (no dashboard), bilinear resize to 64x64."""
    from PIL import Image

    if obs.ndim != 3 or obs.shape[2] != 3:
        raise ConfigError(f"expected an (H, W, 3) frame, got {obs.shape}")
    crop = np.ascontiguousarray(obs[:CROP_ROWS])
    return np.array(Image.fromarray(crop).resize((FRAME_SIZE, FRAME_SIZE), Image.BILINEAR), dtype=np.uint8)


def check_training_seed(seed: int, count: int, what: str) -> None:
    """Training and collection seeds must stay below the evaluation seeds."""
    if seed < 0 or seed + count > EVAL_SEED_BASE:
        raise ConfigError(f"{what}: track seeds {seed}..{seed + count - 1} must lie in [0, {EVAL_SEED_BASE}) "
                          f"(seeds from {EVAL_SEED_BASE} on are kept for evaluate); choose a smaller --seed")
