"""Training the controller with CMA-ES, in the real environment or in the MDN-RNN's dream, and scoring it.

    >>> train_controller(SearchConfig(mode="dream", population=64, generations=100), vae="runs/wm/vae",
    ...                  rnn="runs/wm/rnn", out="runs/wm/ctrl-dream")
    >>> evaluate("runs/wm/ctrl-dream", episodes=100)       # mean ± std of the real score on unseen track seeds

A run folder holds ``config.json`` + ``model.safetensors`` (the controller at the CMA-ES mean), ``best/`` (the best
candidate seen), ``search.json`` (settings, the V and M it uses, best/mean/worst score per generation) and
``cmaes.safetensors`` (the scores of every generation, from which the search is rebuilt exactly on ``--resume``).
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch

from ..core.config import cfg_field, check_choice, check_int, from_dict, to_dict
from ..core.errors import CheckpointError, ConfigError, GenlabError
from ..core.io import read_json, write_bytes_atomic, write_json_atomic
from ..core.lock import RunLock
from ..core.signals import graceful_stop
from .cmaes import CMAES
from .env import ENV_ID, EVAL_SEED_BASE, check_env_available, check_training_seed, make_env, process_frame
from .models import Controller, ControllerConfig
from .rollout import Executor, Task, progress

SEARCH_FILE = "search.json"
STATE_FILE = "cmaes.safetensors"
# What --resume may change (the rest defines the search and is fixed by the run).
RESUMABLE = ("generations",)


@dataclass
class SearchConfig:
    mode: Literal["real", "dream"] = cfg_field("dream", help="where candidates are scored: real (CarRacing rollouts "
                                                             "in parallel workers) or dream (the MDN-RNN, batched)")
    inputs: Literal["zh", "z"] = cfg_field("zh", help="controller inputs: zh = [z, h] (V+M), z = z alone (V only)")
    population: int = cfg_field(16, help="CMA-ES population (the paper: 64)")
    trials: int = cfg_field(4, help="rollouts per candidate, averaged (the paper: 16); the same track seeds / dream "
                                    "seeds for every candidate of a generation (common random numbers)")
    generations: int = cfg_field(50, help="generations to run (the target; --max-steps is the same thing)")
    sigma: float = cfg_field(0.1, help="CMA-ES initial step size")
    temperature: float = cfg_field(1.15, help="dream sampling temperature tau (the paper: 1.15 for CarRacing's dream "
                                              "experiments in the follow-up; > 1 makes the dream harder to exploit)")
    max_episode_steps: int = cfg_field(1000, help="steps per rollout (real episode or dream horizon)")
    seed: int = cfg_field(0, help="seed of the search and of the training track seeds (seed + generation * trials "
                                  "+ trial)")
    diagonal: bool = cfg_field(False, help="diagonal covariance (sep-CMA-ES: linear cost in the parameters)")

    def __post_init__(self) -> None:
        check_choice("mode", self.mode, ("real", "dream"))
        check_choice("inputs", self.inputs, ("zh", "z"))
        if isinstance(self.population, bool) or not isinstance(self.population, int) or self.population < 2:
            raise ConfigError(f"--population must be >= 2 (got {self.population}): CMA-ES needs several candidates")
        check_int("trials", self.trials, 1)
        check_int("generations", self.generations, 1)
        check_int("max_episode_steps", self.max_episode_steps, 1)
        if not self.sigma > 0:
            raise ConfigError(f"--sigma must be > 0 (got {self.sigma})")
        if self.temperature < 0:
            raise ConfigError(f"--temperature must be >= 0 (got {self.temperature})")
        if self.mode == "dream" and self.inputs == "z":
            raise ConfigError("--mode dream needs the MDN-RNN's h as input: use --inputs zh")


def say(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def _save_state(run: Path, es: CMAES) -> None:
    from safetensors.numpy import save

    write_bytes_atomic(run / STATE_FILE, save({k: np.ascontiguousarray(v) for k, v in es.state().items()
                                               if k != "C"}))


def _load_state(run: Path) -> dict[str, np.ndarray]:
    from safetensors import SafetensorError
    from safetensors.numpy import load

    try:
        return load((run / STATE_FILE).read_bytes())
    except (OSError, SafetensorError, ValueError) as e:
        raise CheckpointError(f"{run / STATE_FILE} is missing or corrupt ({e}); start a new search") from None


def trial_seeds(cfg: SearchConfig, generation: int) -> list[int]:
    """The generation's track seeds (real) / dream noise seeds: the same for every candidate."""
    return [cfg.seed + generation * cfg.trials + j for j in range(cfg.trials)]


class Scorer:
    """Scores a population (P, n) -> (P,) mean return over the trials, in the real game or in the dream."""

    def __init__(self, cfg: SearchConfig, *, vae: str, rnn: str | None, executor: Executor | None = None,
                 show_progress: bool = False) -> None:
        from .pipeline import load_rnn, load_vae

        self.cfg, self.vae_dir, self.rnn_dir = cfg, vae, rnn
        self.executor = executor
        self.show_progress = show_progress
        if cfg.mode == "dream":
            self.vae = load_vae(vae)
            self.rnn = load_rnn(rnn)
            self._z0: dict[int, torch.Tensor] = {}
            self._env = None

    def start_z(self, seed: int) -> torch.Tensor:
        """mu of the first frame of track ``seed`` (the dream starts where the real episode would)."""
        if seed not in self._z0:
            if self._env is None:
                self._env = make_env()
            obs, _ = self._env.reset(seed=int(seed))
            x = torch.from_numpy(process_frame(obs)).permute(2, 0, 1)[None].float() / 255.0
            with torch.no_grad():
                self._z0[seed] = self.vae.encode(x)[0][0]
        return self._z0[seed]

    def __call__(self, population: np.ndarray, generation: int, stop=None) -> np.ndarray | None:
        cfg = self.cfg
        seeds = trial_seeds(cfg, generation)
        p = len(population)
        if cfg.mode == "dream":
            from .dream import dream_rollout

            params = torch.from_numpy(population).float().repeat_interleave(cfg.trials, 0)      # (P*M, n)
            z0 = torch.stack([self.start_z(s) for s in seeds]).repeat(p, 1)                     # (P*M, D)
            noise = [cfg.seed * 7_919 + 1_000_003 * generation + j for j in seeds] * p
            returns = dream_rollout(self.rnn, params, z0, horizon=cfg.max_episode_steps,
                                    temperature=cfg.temperature, seeds=noise)
            return returns.view(p, cfg.trials).mean(1).numpy()
        tasks = [Task(seed=s, max_steps=cfg.max_episode_steps, params=population[c].astype(np.float32),
                      vae=self.vae_dir, rnn=self.rnn_dir if cfg.inputs == "zh" else None, tag=(c, j))
                 for c in range(p) for j, s in enumerate(seeds)]
        update, close = progress(len(tasks), f"generation {generation + 1} rollouts", enabled=self.show_progress)
        try:
            results = self.executor.run(tasks, on_result=lambda r: update(1), stop=stop)
        finally:
            close()
        if len(results) < len(tasks):
            return None  # stopped mid-generation: the generation is dropped and redone on resume
        scores = np.zeros((p, cfg.trials))
        for r in results:
            c, j = r.tag
            scores[c, j] = r.total_reward
        return scores.mean(1)

    def close(self) -> None:
        if getattr(self, "_env", None) is not None:
            self._env.close()


def run_search(es: CMAES, score, *, target: int, stop=None, max_seconds: float | None = None,
               on_generation=None) -> str:
    """ask -> score -> tell until generation ``target`` (the loop the controller search and the tests share).

    ``score(population, generation, stop)`` returns (P,) scores, or None when stopped mid-generation.
    ``on_generation(es, scores, seconds)`` runs after each tell (saving, logging). Returns the stop reason:
    "finished", "max_time" or "interrupted"."""
    start = time.time()
    while es.generation < target:
        if stop:
            return "interrupted"
        t0 = time.time()
        population = es.ask()
        scores = score(population, es.generation, stop)
        if scores is None:
            return "interrupted"
        es.tell(scores)
        if on_generation is not None:
            on_generation(es, np.asarray(scores), time.time() - t0)
        if max_seconds is not None and time.time() - start >= max_seconds and es.generation < target:
            return "max_time"
    return "finished"


def _check_models(vae: str, rnn: str | None, inputs: str) -> tuple[int, int]:
    """(latent_dim, hidden_size) of V and M, refusing a mismatch (one line)."""
    from ..core.model import read_model_config, resolve_model_dir
    from .pipeline import vae_latent_dim

    d, shape = vae_latent_dim(vae)
    if shape != (3, 64, 64):
        raise ConfigError(f"--vae {vae} is a VAE of {'x'.join(map(str, shape))} images; World Models needs 3x64x64")
    if inputs == "z":
        return d, 0
    if rnn is None:
        raise ConfigError("--rnn RUN is needed (or --rnn untrained, or --inputs z for a V-only controller)")
    cfg = read_model_config(resolve_model_dir(rnn))
    if cfg.get("model_type") != "worldmodels-mdnrnn":
        raise CheckpointError(f"--rnn {rnn} holds a {cfg.get('model_type')} model, not an MDN-RNN")
    rd = int(cfg["config"]["latent_dim"])
    if rd != d:
        raise ConfigError(f"--rnn {rnn} predicts z of size {rd}, but --vae {vae} encodes to z of size {d}; give the "
                          f"MDN-RNN trained on this VAE's codes")
    return d, int(cfg["config"]["hidden_size"])


def train_controller(config: SearchConfig | None = None, *, vae: str | Path | None = None,
                     rnn: str | Path | None = None, out: str | Path, resume: bool = False,
                     overrides: dict[str, Any] | None = None, workers: int = 1, scheduler: str | None = None,
                     max_steps: int | None = None, max_time: str | None = None, init_from: str | Path | None = None,
                     show_progress: bool = True) -> dict[str, Any]:
    """Run (or continue) a CMA-ES search for the controller; returns the run's summary (also in ``search.json``).

    ``rnn="untrained"`` uses a randomly initialised MDN-RNN (saved in ``RUN/rnn_untrained``): the known control.
    Stops cleanly (state saved) on Ctrl-C / SIGTERM and at ``max_time``; ``resume=True`` continues at the generation
    it reached, with bit-identical CMA-ES state."""
    from ..core.engine import parse_duration
    from ..core.signals import Interrupted

    run = Path(out)
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ConfigError(f"--workers must be >= 1 (got {workers})")
    check_int("max_steps", max_steps, 1, allow_none=True)
    max_seconds = parse_duration(max_time) if max_time else None
    from ..core.io import ensure_dir

    ensure_dir(run)
    with RunLock(run):
        if resume:
            if not (run / SEARCH_FILE).exists():
                raise CheckpointError(f"cannot resume: {run} holds no controller search ({SEARCH_FILE} missing)")
            saved = read_json(run / SEARCH_FILE, what="controller search")
            fixed = {k: v for k, v in (overrides or {}).items() if k not in RESUMABLE and k in saved["search"]
                     and saved["search"][k] != v}
            if fixed:
                raise ConfigError(f"cannot change {', '.join('--' + k.replace('_', '-') for k in fixed)} when "
                                  f"resuming a controller search (only --generations / --max-steps / --max-time); "
                                  f"start a new run instead")
            for key, given in (("vae", vae), ("rnn", rnn)):
                if given is not None and str(Path(given).resolve()) != saved[key] and given != "untrained":
                    raise ConfigError(f"cannot change --{key} when resuming (the run uses {saved[key]})")
            cfg = from_dict(SearchConfig, {**saved["search"], **{k: v for k, v in (overrides or {}).items()
                                                                  if k in RESUMABLE}})
            vae_dir, rnn_dir = saved["vae"], saved["rnn"]
            history = saved["history"]
        else:
            cfg = config or SearchConfig()
            if (run / SEARCH_FILE).exists():
                raise GenlabError(f"{run} already holds a controller search; pass --resume to continue it or choose "
                                  f"another --out")
            if vae is None:
                raise ConfigError("--vae RUN is needed (the VAE of train-vae)")
            vae_dir = str(Path(vae).resolve())
            rnn_dir = None
            if cfg.inputs == "zh" or cfg.mode == "dream":
                if rnn == "untrained":
                    from .pipeline import untrained_rnn, vae_latent_dim

                    rnn_dir = str(untrained_rnn(run / "rnn_untrained", latent_dim=vae_latent_dim(vae)[0],
                                                seed=cfg.seed).resolve())
                elif rnn is not None:
                    rnn_dir = str(Path(rnn).resolve())
            history = []
        d, h = _check_models(vae_dir, rnn_dir, cfg.inputs)
        target = max_steps if max_steps is not None else cfg.generations
        check_training_seed(cfg.seed, max(target, cfg.generations) * cfg.trials, "train-controller")
        if cfg.mode == "real":
            check_env_available()
        ccfg = ControllerConfig(latent_dim=d, hidden_size=h)
        n = ccfg.num_parameters
        x0 = None
        if not resume and init_from is not None:
            from ..core.model import load

            other = load(init_from, family="worldmodels")
            if not isinstance(other, Controller):
                raise CheckpointError(f"--init-from {init_from} holds a {other.model_type} model, not a controller")
            oc = other.config
            if (oc.latent_dim, oc.hidden_size) != (d, h):
                raise ConfigError(f"--init-from {init_from} is a controller of z {oc.latent_dim} / h {oc.hidden_size}; "
                                  f"this search needs z {d} / h {h}")
            x0 = other.flat_parameters().double().numpy()
        if resume:
            es = CMAES.from_state(_load_state(run), num_params=n, popsize=cfg.population, sigma0=cfg.sigma,
                                  seed=cfg.seed, diagonal=cfg.diagonal)
            history = history[: es.generation]
            say(f"resuming {run} at generation {es.generation}")
        else:
            es = CMAES(n, popsize=cfg.population, sigma0=cfg.sigma, seed=cfg.seed, x0=x0, diagonal=cfg.diagonal)
        best = {"score": max((g["best"] for g in history), default=-float("inf"))}
        if es.generation >= target:
            say(f"warning: nothing to run: {run} is already at generation {es.generation} (target {target}); raise "
                f"--generations to search longer")
        controller = Controller(ccfg)
        started = time.time()

        def summary(reason: str) -> dict[str, Any]:
            return {"search": to_dict(cfg), "vae": vae_dir, "rnn": rnn_dir, "env": ENV_ID, "generation": es.generation,
                    "num_parameters": n, "history": history, "stop_reason": reason, "best_score": best["score"],
                    "evaluations": int(es.generation * cfg.population * cfg.trials),
                    "score_is": ("mean dream return (expected reward head), temperature %g" % cfg.temperature
                                 if cfg.mode == "dream" else "mean real return on the generation's training tracks")}

        def on_generation(es_: CMAES, scores: np.ndarray, seconds: float) -> None:
            row = {"generation": es_.generation, "best": float(scores.max()), "mean": float(scores.mean()),
                   "worst": float(scores.min()), "sigma": es_.sigma, "seconds": round(seconds, 3)}
            history.append(row)
            if row["best"] > best["score"]:
                best["score"] = row["best"]
                controller.set_flat_parameters(es_.last_population[int(scores.argmax())])
                controller.save_pretrained(run / "best", metadata={"generation": str(es_.generation)})
            controller.set_flat_parameters(es_.mean)
            controller.save_pretrained(run, metadata={"generation": str(es_.generation)})
            _save_state(run, es_)
            write_json_atomic(run / SEARCH_FILE, summary("running"))
            if show_progress:
                say(f"generation {es_.generation}/{target} | best {row['best']:.1f} mean {row['mean']:.1f} worst "
                    f"{row['worst']:.1f} | sigma {es_.sigma:.4f} | {seconds:.1f}s | elapsed {time.time() - started:.0f}s")

        run.mkdir(parents=True, exist_ok=True)
        if not resume:
            controller.set_flat_parameters(es.mean)
            controller.save_pretrained(run, metadata={"generation": "0"})
            _save_state(run, es)
            write_json_atomic(run / SEARCH_FILE, summary("running"))
        with graceful_stop(message="interrupt: finishing this generation's bookkeeping and saving the CMA-ES state") \
                as stop, Executor(workers, scheduler) as ex:
            scorer = Scorer(cfg, vae=vae_dir, rnn=rnn_dir, executor=ex, show_progress=show_progress and
                            cfg.mode == "real")
            try:
                reason = run_search(es, scorer, target=target, stop=stop, max_seconds=max_seconds,
                                    on_generation=on_generation)
            finally:
                scorer.close()
        result = summary(reason)
        write_json_atomic(run / SEARCH_FILE, result)
        if history:
            from .media import save_score_curve

            save_score_curve(history, run / "scores.png", title=f"CMA-ES, {cfg.mode} ({cfg.population} x "
                                                                f"{cfg.trials} rollouts per generation)")
        if reason == "interrupted":
            raise Interrupted(f"stopped at generation {es.generation}; CMA-ES state saved in {run / STATE_FILE}; "
                              f"continue with --out {run} --resume", signum=stop.signum or 2)
        result["seconds"] = time.time() - started
        result["run_dir"] = str(run)
        return result


# ---- evaluation ------------------------------------------------------------------------------------------------

def load_controller_run(run: str | Path, which: str = "mean") -> tuple[Controller, dict[str, Any]]:
    from ..core.model import load

    run = Path(run)
    if not (run / SEARCH_FILE).exists():
        raise CheckpointError(f"{run} is not a controller run (no {SEARCH_FILE}); train one with "
                              f"`genlab worldmodels train-controller`")
    info = read_json(run / SEARCH_FILE, what="controller search")
    check_choice("which", which, ("mean", "best"))
    folder = run if which == "mean" else run / "best"
    model = load(folder, family="worldmodels")
    if not isinstance(model, Controller):
        raise CheckpointError(f"{folder} holds a {model.model_type} model, not a controller")
    d, h = _check_models(info["vae"], info["rnn"], info["search"]["inputs"])
    if (model.config.latent_dim, model.config.hidden_size) != (d, h):
        raise ConfigError(f"the controller in {folder} takes z {model.config.latent_dim} / h "
                          f"{model.config.hidden_size}, its V and M give z {d} / h {h}")
    return model, info


def eval_seeds(episodes: int) -> list[int]:
    return [EVAL_SEED_BASE + i for i in range(episodes)]


def score_policy(params: np.ndarray | None, *, vae: str | None, rnn: str | None, episodes: int,
                 max_episode_steps: int, workers: int = 1, scheduler: str | None = None,
                 show_progress: bool = True) -> dict[str, Any]:
    """Real returns over the fixed evaluation seeds (``params`` None: the random collection policy)."""
    check_int("episodes", episodes, 1)
    check_int("max_episode_steps", max_episode_steps, 1)
    check_env_available()
    tasks = [Task(seed=s, max_steps=max_episode_steps, params=params, vae=vae, rnn=rnn) for s in eval_seeds(episodes)]
    update, close = progress(len(tasks), "evaluate", enabled=show_progress)
    start = time.time()
    try:
        with graceful_stop(message="interrupt: stopping the evaluation") as stop, Executor(workers, scheduler) as ex:
            results = ex.run(tasks, on_result=lambda r: update(1, ret=f"{r.total_reward:.0f}"), stop=stop)
            stop.raise_if_requested(f"evaluation stopped after {len(results)} of {episodes} episodes; nothing written")
    finally:
        close()
    returns = np.array([r.total_reward for r in results])
    return {"env": ENV_ID, "episodes": episodes, "max_episode_steps": max_episode_steps, "mean": float(returns.mean()),
            "std": float(returns.std()), "min": float(returns.min()), "max": float(returns.max()),
            "returns": [round(float(x), 3) for x in returns],
            "seeds": f"{EVAL_SEED_BASE}..{EVAL_SEED_BASE + episodes - 1} (never used in training)",
            "steps": int(sum(r.steps for r in results)), "seconds": time.time() - start,
            "cpu_seconds": float(sum(r.seconds for r in results)),
            "protocol_note": ("the paper: CarRacing-v0, 100 episodes of up to 1000 steps; here " + ENV_ID +
                              f", {episodes} episodes of up to {max_episode_steps} steps"
                              + ("" if (episodes, max_episode_steps) == (100, 1000) else
                                 ": not comparable to the paper's numbers"))}


def evaluate(run: str | Path | None, *, episodes: int = 100, max_episode_steps: int = 1000, workers: int = 1,
             scheduler: str | None = None, which: str = "mean", out: str | Path | None = None,
             show_progress: bool = True) -> dict[str, Any]:
    """Mean ± std of the real score of a controller run (``run=None``: the random policy) over the fixed evaluation
    seeds; written to ``RUN/eval.json`` (or ``out``)."""
    if run is None:
        result = {"policy": "random", **score_policy(None, vae=None, rnn=None, episodes=episodes,
                                                     max_episode_steps=max_episode_steps, workers=workers,
                                                     scheduler=scheduler, show_progress=show_progress)}
    else:
        model, info = load_controller_run(run, which)
        rnn = info["rnn"] if info["search"]["inputs"] == "zh" else None
        result = {"policy": f"controller ({which}) of {run}", "mode": info["search"]["mode"],
                  "inputs": info["search"]["inputs"], "generations": info["generation"],
                  **score_policy(model.flat_parameters().numpy(), vae=info["vae"], rnn=rnn, episodes=episodes,
                                 max_episode_steps=max_episode_steps, workers=workers, scheduler=scheduler,
                                 show_progress=show_progress)}
    path = Path(out) if out is not None else (Path(run) / "eval.json" if run is not None else None)
    if path is not None:
        write_json_atomic(path, result)
        result["written"] = str(path)
    return result


__all__ = ["SearchConfig", "train_controller", "evaluate", "score_policy", "run_search", "Scorer", "trial_seeds",
           "load_controller_run", "eval_seeds"]
