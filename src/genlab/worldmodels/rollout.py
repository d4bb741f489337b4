"""Rollouts in the real environment: the random policy of the data collection, the controller policy (V, M, C), one
episode per task, and the engines that run many tasks at once.

    >>> run_episode(Task(seed=3, max_steps=300))                           # random actions, refreshed every 5 frames
    >>> run_tasks(tasks, workers=2)                                        # a local process pool (spawn)
    >>> run_tasks(tasks, scheduler="tcp://10.0.0.5:8786")                  # Dask distributed, across machines

A task is plain data (seed, step limit, the controller's flat weights and the paths of the VAE / MDN-RNN folders),
so the same function runs in this process, in a pool worker or on a Dask worker, and gives the same return for the
same seed (every worker uses one torch thread; the serial path does too, so the numbers are bit-identical).
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..core.errors import ConfigError, GenlabError
from .env import ACTION_DIM, make_env, process_frame

ACTION_REPEAT = 5  # the random policy draws a new action every 5 frames (the chapter's collection)


@dataclass
class Task:
    """One episode to run. ``params`` None = the random policy; else the controller's flat weights."""

    seed: int
    max_steps: int
    params: np.ndarray | None = None
    vae: str | None = None  # VAE run folder (needed with params)
    rnn: str | None = None  # MDN-RNN model folder (None: a V-only controller)
    record: bool = False  # keep frames, actions, rewards, dones (collection, play)
    tag: Any = None  # the caller's bookkeeping (candidate, trial)


@dataclass
class EpisodeResult:
    seed: int
    total_reward: float
    steps: int
    terminated: bool
    seconds: float
    tag: Any = None
    frames: np.ndarray | None = None  # (T, 64, 64, 3) uint8: the frame each action was taken on
    actions: np.ndarray | None = None  # (T, 3) float32
    rewards: np.ndarray | None = None  # (T,) float32: the reward of each action
    dones: np.ndarray | None = None  # (T,) bool: the episode ended after this action (terminated, not truncated)
    extra: dict[str, Any] = field(default_factory=dict)


def random_actions(seed: int, steps: int) -> np.ndarray:
    """The collection policy: a uniform action (steer in [-1, 1], gas in [0, 1], brake in [0, 0.2]) held for 5 frames.

    The brake is drawn from [0, 0.2] rather than [0, 1], so the car moves and the frames cover the track (with full
    random braking it mostly stands at the start, as in the paper's own notes on random CarRacing policies).
    """
    rng = np.random.default_rng([seed, 0x5EED])
    n = -(-steps // ACTION_REPEAT)
    draws = np.stack([rng.uniform(-1, 1, n), rng.uniform(0, 1, n), rng.uniform(0, 0.2, n)], axis=1)
    return np.repeat(draws, ACTION_REPEAT, axis=0)[:steps].astype(np.float32)


# ---- models, loaded once per process ------------------------------------------------------------------------------

_MODELS: dict[tuple, tuple[Any, Any]] = {}


def load_models(vae: str, rnn: str | None) -> tuple[Any, Any]:
    """The VAE and MDN-RNN (or None) of a task, cached per process (a pool or Dask worker loads them once)."""
    from ..core.model import WEIGHTS_NAME, resolve_model_dir

    def stamp(path: str | None) -> float:
        return os.path.getmtime(resolve_model_dir(path) / WEIGHTS_NAME) if path else 0.0

    key = (vae, rnn, stamp(vae), stamp(rnn))  # a retrained folder is loaded afresh
    if key not in _MODELS:
        from ..core.model import load

        v = load(vae, family="vae").eval()
        m = load(rnn, family="worldmodels").eval() if rnn else None
        _MODELS[key] = (v, m)
    return _MODELS[key]


class ControllerPolicy:
    """V (encode the frame to mu), C (act on [z, h]), M (advance h with (z, a, r_prev)), one frame at a time."""

    def __init__(self, params: np.ndarray, vae: str, rnn: str | None) -> None:
        import torch

        from .models import ControllerConfig, batched_actions

        self.vae, self.rnn = load_models(vae, rnn)
        h = self.rnn.hidden_size if self.rnn is not None else 0
        self.config = ControllerConfig(latent_dim=self.vae.latent_dim, hidden_size=h)
        params = np.asarray(params, dtype=np.float32).reshape(-1)
        if params.size != self.config.num_parameters:
            raise ConfigError(f"the controller has {params.size} weights, a z{self.vae.latent_dim}/h{h} controller "
                              f"needs {self.config.num_parameters}")
        self.params = torch.from_numpy(params)[None]
        self._act = batched_actions
        self.state = self.rnn.initial_state(1) if self.rnn is not None else None
        self.torch = torch

    def encode(self, frame: np.ndarray):
        t = self.torch.from_numpy(np.array(frame, dtype=np.uint8)).permute(2, 0, 1)[None].float() / 255.0
        mu, _ = self.vae.encode(t)
        return mu

    def act(self, frame: np.ndarray, prev_reward: float) -> np.ndarray:
        with self.torch.no_grad():
            z = self.encode(frame)
            x = z if self.rnn is None else self.torch.cat([z, self.state[0][0]], dim=-1)
            a = self._act(self.params, x, self.config)
            if self.rnn is not None:
                _, self.state = self.rnn.step(z, a, self.torch.tensor([prev_reward], dtype=z.dtype), self.state)
        return a[0].numpy().astype(np.float32)


@contextlib.contextmanager
def one_thread() -> Iterator[None]:
    """torch on one thread inside (as every worker): the serial and parallel paths compute the same floats."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def run_episode(task: Task, env=None) -> EpisodeResult:
    """Run one episode of ``task`` (a fresh env unless one is given); returns its total reward and (if asked) data."""
    start = time.perf_counter()
    own = env is None
    env = env if env is not None else make_env(max_episode_steps=task.max_steps)
    try:
        policy = ControllerPolicy(task.params, task.vae, task.rnn) if task.params is not None else None
        fixed = random_actions(task.seed, task.max_steps) if policy is None else None
        obs, _ = env.reset(seed=int(task.seed))
        frames, actions, rewards, dones = [], [], [], []
        total, prev_r, terminated, t = 0.0, 0.0, False, 0
        with one_thread():
            for t in range(task.max_steps):
                frame = process_frame(obs)
                a = fixed[t] if policy is None else policy.act(frame, prev_r)
                obs, r, term, trunc, _ = env.step(a)
                total += float(r)
                prev_r = float(r)
                if task.record:
                    frames.append(frame)
                    actions.append(a)
                    rewards.append(r)
                    dones.append(bool(term))
                if term or trunc:
                    terminated = bool(term)
                    break
        steps = t + 1
    finally:
        if own:
            env.close()
    result = EpisodeResult(int(task.seed), total, steps, terminated, time.perf_counter() - start, tag=task.tag)
    if task.record:
        result.frames = np.stack(frames).astype(np.uint8)
        result.actions = np.stack(actions).astype(np.float32)
        result.rewards = np.asarray(rewards, dtype=np.float32)
        result.dones = np.asarray(dones, dtype=bool)
    return result


# ---- engines: serial, a local process pool, Dask distributed -----------------------------------------------------

def _worker_init() -> None:
    import signal

    # Ctrl-C reaches the whole process group: the parent decides (finish the bookkeeping, save, stop the pool)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
    import torch

    torch.set_num_threads(1)


def _pool_task(task: Task) -> EpisodeResult:
    return run_episode(task)


class Executor:
    """Where episodes run: this process (``workers == 1``), a local process pool (``spawn``, one torch thread per
    worker), or a Dask distributed cluster (``scheduler="tcp://HOST:PORT"``: start it with ``dask scheduler`` and
    ``dask worker tcp://HOST:PORT`` on each machine). Kept open across calls (a pool starts once per search, not once
    per generation); use it as a context manager.
    """

    def __init__(self, workers: int = 1, scheduler: str | None = None) -> None:
        if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
            raise ConfigError(f"--workers must be >= 1 (got {workers})")
        self.workers, self.scheduler = workers, scheduler
        self._pool = None
        self._client = None
        self._envs: dict[int, Any] = {}

    @property
    def kind(self) -> str:
        return "dask" if self.scheduler else ("pool" if self.workers > 1 else "serial")

    def __enter__(self) -> "Executor":
        if self.scheduler:
            from ..core.extras import require

            distributed = require("distributed", extra="worldmodels", what="--scheduler (Dask distributed)",
                                  package="'dask[distributed]'")
            try:
                self._client = distributed.Client(self.scheduler, timeout="5s")
            except (OSError, TimeoutError) as e:
                raise GenlabError(f"cannot reach the Dask scheduler at {self.scheduler} "
                                  f"({' '.join(str(e).split())[:160]}); start it with `dask scheduler` and workers "
                                  f"with `dask worker {self.scheduler}`") from None
        elif self.workers > 1:
            import multiprocessing as mp

            self._pool = mp.get_context("spawn").Pool(self.workers, initializer=_worker_init)
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._pool is not None:
            self._pool.terminate()
            self._pool.join()
            self._pool = None
        if self._client is not None:
            self._client.close()
            self._client = None
        for env in self._envs.values():
            env.close()
        self._envs.clear()

    def run(self, tasks: Sequence[Task], *, on_result: Callable[[EpisodeResult], None] | None = None,
            stop=None) -> list[EpisodeResult]:
        """Results in task order. ``on_result`` is called as each finishes (completion order); a set ``stop`` flag
        stops handing out tasks (the results so far are returned, in task order)."""
        results: list[EpisodeResult | None] = [None] * len(tasks)

        def done(i: int, r: EpisodeResult) -> None:
            results[i] = r
            if on_result is not None:
                on_result(r)

        if self._client is not None:
            import distributed

            futures = self._client.map(_pool_task, list(tasks), pure=False)
            index = {f.key: i for i, f in enumerate(futures)}
            for fut in distributed.as_completed(futures):
                done(index[fut.key], fut.result())
                if stop:
                    self._client.cancel(futures)
                    break
        elif self._pool is not None:
            pending = {i: self._pool.apply_async(_pool_task, (task,)) for i, task in enumerate(tasks)}
            while pending:
                for i in [i for i, p in pending.items() if p.ready()]:
                    done(i, pending.pop(i).get())
                if stop and pending:  # the running episodes are dropped: restart the pool for a later call
                    self._pool.terminate()
                    self._pool.join()
                    import multiprocessing as mp

                    self._pool = mp.get_context("spawn").Pool(self.workers, initializer=_worker_init)
                    break
                time.sleep(0.005)
        else:
            for i, task in enumerate(tasks):
                if stop:
                    break
                env = self._envs.get(task.max_steps)
                if env is None:
                    env = self._envs[task.max_steps] = make_env(max_episode_steps=task.max_steps)
                done(i, run_episode(task, env))
        return [r for r in results if r is not None]


def run_tasks(tasks: Sequence[Task], *, workers: int = 1, scheduler: str | None = None,
              on_result: Callable[[EpisodeResult], None] | None = None, stop=None) -> list[EpisodeResult]:
    """Run ``tasks`` on a fresh :class:`Executor` and return their results in task order."""
    with Executor(workers, scheduler) as ex:
        return ex.run(tasks, on_result=on_result, stop=stop)


def progress(total: int, desc: str, *, enabled: bool = True):
    """A tqdm bar on a terminal, else a line on stderr every ~10%: returns ``update(n=1, **postfix)`` and ``close``."""
    if enabled and sys.stderr.isatty():
        from tqdm.auto import tqdm

        bar = tqdm(total=total, desc=desc, unit="ep", dynamic_ncols=True)

        def update(n: int = 1, **post: Any) -> None:
            bar.update(n)
            if post:
                bar.set_postfix(**post)

        return update, bar.close
    state = {"n": 0, "t0": time.time(), "last": -1}

    def update_lines(n: int = 1, **post: Any) -> None:
        state["n"] += n
        k = state["n"] * 10 // max(total, 1)
        if enabled and (k != state["last"] or state["n"] == total):
            state["last"] = k
            el = time.time() - state["t0"]
            eta = el / state["n"] * (total - state["n"])
            extra = "".join(f" | {a} {b}" for a, b in post.items())
            print(f"{desc}: {state['n']}/{total}{extra} | elapsed {el:.0f}s | eta {eta:.0f}s", file=sys.stderr,
                  flush=True)

    return update_lines, (lambda: None)


__all__ = ["Task", "EpisodeResult", "run_episode", "run_tasks", "random_actions", "ControllerPolicy", "ACTION_DIM",
           "ACTION_REPEAT", "Executor", "load_models", "progress", "one_thread"]
