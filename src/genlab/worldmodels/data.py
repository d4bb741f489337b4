"""The data of the pipeline on disk: one compressed shard per episode, and the datasets read from the shards.

    DATA/episode_00000.npz   frames (T, 64, 64, 3) uint8, actions (T, 3), rewards (T,), dones (T,), seed
    DATA/collect.json        how the shards were made (environment, policy, seed, step limit)
    Z/episode_00000.npz      mu, logvar (T, 32) float32 from the VAE, actions, rewards, dones, seed
    Z/encode.json            which VAE encoded them

Shards are written atomically (a killed ``collect`` keeps its finished shards and never leaves half a shard) and
read with ``allow_pickle=False`` (loading never executes code). A corrupt shard is skipped and named, once.
"""

from __future__ import annotations

import io
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset

from ..core.config import cfg_field, check_int
from ..core.errors import ConfigError, DataError
from ..core.io import write_bytes_atomic

SHARD_GLOB = "episode_*.npz"
FRAME_KEYS = ("frames", "actions", "rewards", "dones", "seed")
LATENT_KEYS = ("mu", "logvar", "actions", "rewards", "dones", "seed")


def shard_path(root: str | Path, index: int) -> Path:
    return Path(root) / f"episode_{index:05d}.npz"


def shard_index(path: Path) -> int:
    return int(path.stem.split("_")[1])


def write_shard(path: str | Path, **arrays: Any) -> Path:
    """Write one episode's arrays as a compressed .npz, atomically."""
    buf = io.BytesIO()
    np.savez_compressed(buf, **{k: np.asarray(v) for k, v in arrays.items()})
    return write_bytes_atomic(path, buf.getvalue())


def read_shard(path: str | Path, keys: tuple[str, ...] = FRAME_KEYS) -> dict[str, np.ndarray]:
    """The arrays of one shard; a :class:`DataError` if it is unreadable, truncated or lacks ``keys``."""
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as z:
            missing = [k for k in keys if k not in z.files]
            if missing:
                raise DataError(f"shard {path} lacks {', '.join(missing)} (not a shard of this kind)")
            out = {k: z[k] for k in keys}
    except DataError:
        raise
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, KeyError) as e:
        raise DataError(f"shard {path} is corrupt ({type(e).__name__}: {' '.join(str(e).split())[:120]})") from None
    lengths = {k: len(v) for k, v in out.items() if k != "seed"}
    if len(set(lengths.values())) != 1 or not next(iter(lengths.values())):
        raise DataError(f"shard {path} is corrupt (array lengths {lengths})")
    return out


def valid_shard(path: Path, keys: tuple[str, ...]) -> bool:
    try:
        read_shard(path, keys)
        return True
    except DataError:
        return False


def load_shards(root: str | Path, keys: tuple[str, ...], *, what: str, fix: str,
                limit: int | None = None) -> list[tuple[Path, dict[str, np.ndarray]]]:
    """Every readable shard of ``root`` (sorted); corrupt ones are skipped and named on stderr. None at all: a
    one-line :class:`DataError`."""
    root = Path(root)
    if not root.is_dir():
        raise DataError(f"{what} {root} does not exist or is not a folder; {fix}")
    paths = sorted(root.glob(SHARD_GLOB))[:limit]
    good, bad = [], []
    for p in paths:
        try:
            good.append((p, read_shard(p, keys)))
        except DataError as e:
            bad.append((p, str(e)))
    if bad:
        names = ", ".join(p.name for p, _ in bad[:5]) + (f" and {len(bad) - 5} more" if len(bad) > 5 else "")
        print(f"warning: skipped {len(bad)} corrupt or foreign shard(s) in {root}: {names} ({bad[0][1]})",
              file=sys.stderr, flush=True)
    if not good:
        found = f"{len(paths)} shard(s), none readable" if paths else f"no {SHARD_GLOB} shards"
        raise DataError(f"{what} {root} holds {found}; {fix}")
    return good


# ---- what train-vae reads: frames -------------------------------------------------------------------------------

@dataclass
class FramesDataConfig:
    """The frames ``train-vae`` trains on."""

    data: str = cfg_field("data/carracing", help="folder of shards written by `genlab worldmodels collect`")
    max_episodes: int | None = cfg_field(None, help="read at most N shards (default: all)")
    frame_stride: int = cfg_field(1, help="take every N-th frame of each episode (1 = all)")
    name: str = cfg_field("carracing", help="a name for the data (run folder names)", cli=False)

    def __post_init__(self) -> None:
        check_int("max_episodes", self.max_episodes, 1, allow_none=True)
        check_int("frame_stride", self.frame_stride, 1)


def load_frames(cfg: FramesDataConfig) -> torch.Tensor:
    """All frames of the shards as one uint8 tensor (N, 3, 64, 64)."""
    shards = load_shards(cfg.data, ("frames",), what="--data", limit=cfg.max_episodes,
                         fix="run `genlab worldmodels collect --out DATA` first")
    frames = np.concatenate([s["frames"][:: cfg.frame_stride] for _, s in shards])
    if frames.ndim != 4 or frames.shape[3] != 3:
        raise DataError(f"the shards of {cfg.data} hold frames shaped {frames.shape[1:]}, not (H, W, 3)")
    return torch.from_numpy(frames).permute(0, 3, 1, 2).contiguous()


# ---- what train-rnn reads: encoded sequences ----------------------------------------------------------------------

@dataclass
class SequenceDataConfig:
    """The encoded episodes ``train-rnn`` trains on, cut into windows."""

    data: str = cfg_field("data/carracing-z", help="folder written by `genlab worldmodels encode`")
    seq_len: int = cfg_field(32, help="steps per training window (each window has seq-len + 1 frames)")
    max_episodes: int | None = cfg_field(None, help="read at most N episodes (default: all)")

    def __post_init__(self) -> None:
        check_int("seq_len", self.seq_len, 1)
        check_int("max_episodes", self.max_episodes, 1, allow_none=True)


def load_latent_episodes(root: str | Path, limit: int | None = None) -> list[dict[str, np.ndarray]]:
    return [s for _, s in load_shards(root, LATENT_KEYS, what="--data", limit=limit,
                                      fix="run `genlab worldmodels encode --data DATA --vae RUN --out Z` first")]


def read_encode_meta(root: str | Path) -> dict[str, Any]:
    from ..core.io import read_json

    path = Path(root) / "encode.json"
    if not path.exists():
        raise DataError(f"{root} has no encode.json: it is not a folder written by `genlab worldmodels encode`")
    return read_json(path, what="encode metadata")


class SequenceDataset(Dataset):
    """Windows of ``seq_len`` steps from encoded episodes: (mu, logvar) (L+1, D), actions (L, A), the previous and
    this step's rewards (L,), dones (L,). Windows do not overlap; an episode's remainder shorter than a window is
    dropped."""

    def __init__(self, episodes: list[dict[str, np.ndarray]], seq_len: int) -> None:
        cols: dict[str, list[np.ndarray]] = {k: [] for k in ("mu", "logvar", "actions", "prev", "rewards", "dones")}
        for ep in episodes:
            t = len(ep["actions"])
            prev = np.concatenate([[0.0], ep["rewards"][:-1]]).astype(np.float32)
            for s in range(0, t - seq_len, seq_len):
                cols["mu"].append(ep["mu"][s:s + seq_len + 1])
                cols["logvar"].append(ep["logvar"][s:s + seq_len + 1])
                cols["actions"].append(ep["actions"][s:s + seq_len])
                cols["prev"].append(prev[s:s + seq_len])
                cols["rewards"].append(ep["rewards"][s:s + seq_len])
                cols["dones"].append(ep["dones"][s:s + seq_len])
        if not cols["mu"]:
            longest = max(len(ep["actions"]) for ep in episodes)
            raise DataError(f"no training window: the longest episode has {longest} steps, a window needs "
                            f"--seq-len + 1 = {seq_len + 1}; lower --seq-len or collect longer episodes")
        self.tensors = [torch.from_numpy(np.stack(v).astype(np.float32)) for v in cols.values()]

    def __len__(self) -> int:
        return len(self.tensors[0])

    def __getitem__(self, i: int):
        return tuple(t[i] for t in self.tensors)


def reward_statistics(episodes: list[dict[str, np.ndarray]]) -> tuple[float, float]:
    """(mean reward of tile steps, mean reward of the others): the values the dream's expected reward uses."""
    r = np.concatenate([ep["rewards"] for ep in episodes]).astype(np.float64)
    pos, neg = r[r > 0], r[r <= 0]
    return (float(pos.mean()) if len(pos) else 3.0), (float(neg.mean()) if len(neg) else -0.1)


def check_positive_count(name: str, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"--{name.replace('_', '-')} must be >= 1 (got {value})")
