"""``genlab worldmodels ...``: the World Models pipeline (Ha & Schmidhuber 2018; Foster ch. 8) on CarRacing-v3.

    genlab worldmodels collect --episodes 200 --max-episode-steps 300 --workers 2 --seed 0 --out data/car
    genlab worldmodels train-vae --data data/car --out runs/wm/vae
    genlab worldmodels encode --data data/car --vae runs/wm/vae --out data/car-z
    genlab worldmodels train-rnn --data data/car-z --out runs/wm/rnn
    genlab worldmodels train-controller --mode dream --vae runs/wm/vae --rnn runs/wm/rnn --population 64 \
        --generations 100 --out runs/wm/ctrl
    genlab worldmodels evaluate runs/wm/ctrl --episodes 100
    genlab worldmodels play runs/wm/ctrl            # RUN/play.gif: real frame | reconstruction | actions
    genlab worldmodels dream runs/wm/ctrl           # RUN/dream.gif (+ RUN/dream_vs_real.png)
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ..core import clikit
from ..core.clikit import say, show_path
from ..core.config import add_dataclass_arguments, from_dict, given_options


def _train_verb(sub, name: str, *, help: str, train, groups, defaults: dict[str, Any], summary, extra=None,
                extra_kwargs=None) -> argparse.ArgumentParser:
    """A training verb on the engine (``train-vae``, ``train-rnn``): the config groups, every engine flag,
    ``--out`` / ``--config`` / ``--resume``, the run summary — what :func:`clikit.add_train_command` gives ``train``."""
    from ..core.engine import TrainConfig

    t = sub.add_parser(name, help=help, description=help + ". Writes a run folder (config, metrics.jsonl, "
                                                          "tensorboard/, samples/, checkpoints/).")
    for g in groups:
        add_dataclass_arguments(t.add_argument_group(g.title), g.cls, defaults=g.defaults, exclude=g.exclude)
    add_dataclass_arguments(t.add_argument_group("training (whichever of --epochs / --max-steps you type wins; "
                                                 "both typed: --max-steps)"), TrainConfig, defaults=defaults)
    if extra is not None:
        extra(t)
    t.add_argument("--out", metavar="DIR", help="run folder (default: runs/worldmodels/<stage>-<time>)")
    t.add_argument("--config", metavar="FILE", help="read options from a .toml or .json file; typed flags win")
    t.add_argument("--resume", action="store_true", help="continue the run in --out from its newest checkpoint")

    def run(args: argparse.Namespace) -> int:
        if args.out is not None:
            clikit.check_output_dir(args.out)
        given = {g.param: given_options(args, g.cls) for g in groups}
        given_train = given_options(args, TrainConfig)
        if args.config:
            from_file = clikit.read_config_file(args.config, [g.cls for g in groups] + [TrainConfig])
            given = {g.param: {**{k: v for k, v in from_file.items() if k in clikit._fields(g.cls)}, **given[g.param]}
                     for g in groups}
            given_train = {**{k: v for k, v in from_file.items() if k in clikit._fields(TrainConfig)}, **given_train}
        kwargs = extra_kwargs(args) if extra_kwargs else {}
        fn = train()
        if args.resume:
            overrides: dict[str, Any] = {}
            for d in (*given.values(), given_train):
                overrides.update(d)
            result = fn(out=args.out, resume=True, overrides=overrides, **kwargs)
        else:
            configs = {g.param: from_dict(g.cls, {**g.defaults, **given[g.param]}) for g in groups}
            result = fn(**configs, train_config=from_dict(TrainConfig, clikit.train_config_fields(defaults, given_train)),
                        out=args.out, **kwargs)
        clikit.print_run_summary(result, list(summary(result)))
        return 0

    t.set_defaults(func=run)
    return t


def _add_engine_args(p: argparse.ArgumentParser, *, episodes: bool = False) -> None:
    p.add_argument("--workers", type=int, default=1, help="parallel rollout processes on this machine (default: 1)")
    p.add_argument("--scheduler", metavar="tcp://HOST:PORT", default=None,
                   help="run the rollouts on a Dask distributed cluster instead (start `dask scheduler`, then "
                        "`dask worker tcp://HOST:PORT` on each machine)")
    clikit.add_progress_argument(p)


def _collect(args) -> int:
    from .pipeline import collect

    out = clikit.check_output_dir(args.out)
    r = collect(out, episodes=args.episodes, workers=args.workers, seed=args.seed,
                max_episode_steps=args.max_episode_steps, scheduler=args.scheduler, show_progress=args.progress)
    fig = _rollout_figure(out)
    rate = r["steps"] / r["seconds"] if r["seconds"] > 0 else 0.0
    say(f"collected {r['written']} episode(s) ({r['kept']} kept from before), {r['steps']} steps in "
        f"{r['seconds']:.1f}s ({rate:.0f} env steps/s, {r['engine']}, {r['workers']} worker(s)), "
        f"{r['bytes'] / 1e6:.1f} MB written" + (f", mean return {r['mean_return']:.1f}" if r["mean_return"]
                                                is not None else ""))
    if fig:
        say(f"figure: {show_path(fig)}")
    clikit.print_written(out, "shards")
    return 0


def _rollout_figure(out: Path) -> Path | None:
    from .data import FRAME_KEYS, read_shard, shard_path
    from .media import rollout_figure

    first = shard_path(out, 0)
    if not first.exists():
        return None
    return rollout_figure(read_shard(first, FRAME_KEYS), out / "figures" / "rollout.png")


def _encode(args) -> int:
    import numpy as np

    from .data import FRAME_KEYS, read_shard
    from .media import latent_figure
    from .pipeline import encode

    out = clikit.check_output_dir(args.out)
    r = encode(args.data, vae=args.vae, out=out, batch_size=args.batch_size, show_progress=args.progress)
    first = sorted(out.glob("episode_*.npz"))[0]
    z = np.load(first)
    frames = read_shard(Path(args.data) / first.name, FRAME_KEYS)["frames"]
    t = min(len(frames) - 1, 60)
    fig = latent_figure(z["mu"][t], z["logvar"][t], frames[t], out / "figures" / "latent_frame.png")
    say(f"encoded {r['encoded']} episode(s) ({r['frames']} frames) of {r['episodes']} to mu, log sigma^2 "
        f"(z = {r['latent_dim']})")
    say(f"figure: {show_path(fig)}")
    clikit.print_written(out, "codes")
    return 0


def _train_controller(args) -> int:
    from .controller import SearchConfig, train_controller

    out = clikit.check_output_dir(args.out)
    given = given_options(args, SearchConfig)
    if args.resume:
        r = train_controller(out=out, resume=True, overrides=given, vae=args.vae, rnn=args.rnn, workers=args.workers,
                             scheduler=args.scheduler, max_steps=args.max_steps, max_time=args.max_time,
                             show_progress=args.progress)
    else:
        r = train_controller(from_dict(SearchConfig, given), vae=args.vae, rnn=args.rnn, out=out,
                             workers=args.workers, scheduler=args.scheduler, max_steps=args.max_steps,
                             max_time=args.max_time, init_from=args.init_from, show_progress=args.progress)
    last = r["history"][-1] if r["history"] else None
    head = f"CMA-ES at generation {r['generation']} ({r['evaluations']} rollouts, {r['num_parameters']} weights)"
    if r["stop_reason"] == "max_time":
        head += f"; stopped at the --max-time budget (continue with --out {show_path(out)} --resume)"
    say(head)
    if last:
        say(f"last generation: best {last['best']:.1f}, mean {last['mean']:.1f}, worst {last['worst']:.1f} "
            f"({r['score_is']}); best ever {r['best_score']:.1f}")
    say(f"run folder: {show_path(out)}", f"  controller: {show_path(out / 'model.safetensors')} (CMA-ES mean; "
        f"best candidate in {show_path(out / 'best')})", f"  scores:   {show_path(out / 'scores.png')}",
        f"  state:    {show_path(out / 'cmaes.safetensors')} + search.json")
    return 0


def _evaluate(args) -> int:
    from ..core.errors import ConfigError
    from .controller import evaluate

    if (args.run is None) == (not args.random):
        raise ConfigError("give a controller RUN_DIR, or --random for the random policy (not both)")
    default_dir = args.run if args.run else "runs/worldmodels"
    path = clikit.resolve_output(args, default_dir=default_dir, filename="eval.json" if args.run else
                                 "eval_random.json", suffixes=(".json",))
    r = evaluate(args.run, episodes=args.episodes, max_episode_steps=args.max_episode_steps, workers=args.workers,
                 scheduler=args.scheduler, which=args.which, out=path, show_progress=args.progress)
    say(f"{r['env']} score {r['mean']:.1f} ± {r['std']:.1f} (mean ± std over {r['episodes']} episodes of up to "
        f"{r['max_episode_steps']} steps, track seeds {r['seeds']}; {r['policy']})", f"note: {r['protocol_note']}")
    clikit.print_written(path, "scores")
    return 0


def _play(args) -> int:
    from .show import play

    path = clikit.resolve_output(args, default_dir=args.run, filename="play.gif", suffixes=(".gif", ".mp4"))
    r = play(args.run, output=path, seed=args.seed, max_episode_steps=args.max_episode_steps, which=args.which,
             every=args.every)
    say(f"played track seed {r['seed']}: return {r['return']:.1f} in {r['steps']} steps")
    clikit.print_written(path, "video")
    return 0


def _dream(args) -> int:
    from .show import dream

    path = clikit.resolve_output(args, default_dir=args.run, filename="dream.gif", suffixes=(".gif", ".mp4"))
    figure = path.with_name(path.stem + "_vs_real.png")
    r = dream(args.run, output=path, steps=args.steps, temperature=args.temperature, seed=args.seed, vae=args.vae,
              figure=figure)
    say(f"dreamt {r['steps']} steps at temperature {r['temperature']:g} from track seed {r['seed']}: dream return "
        f"{r['dream_return']:.1f} (the reward head's expectation)")
    say(f"figure: {show_path(r['figure'])}")
    clikit.print_written(path, "video")
    return 0


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    from ..core.engine import TrainConfig  # noqa: F401  (the engine flags of the training verbs)
    from ..latent.config import VAEConfig
    from .controller import SearchConfig
    from .data import FramesDataConfig, SequenceDataConfig
    from .env import EVAL_SEED_BASE
    from .models import MDNRNNConfig
    from .pipeline import RNN_TRAIN, VAE_DEFAULTS, VAE_TRAIN

    sub = clikit.family_parser(subparsers, "worldmodels", help="World Models: VAE + MDN-RNN + CMA-ES controller on "
                                                               "CarRacing, in the real game and in the dream")
    c = sub.add_parser("collect", help="random rollouts, one compressed shard per episode (resumable)")
    c.add_argument("--episodes", type=int, default=200, help="episodes to collect (default: 200)")
    c.add_argument("--max-episode-steps", type=int, default=1000, help="steps per episode (default: 1000)")
    c.add_argument("--seed", type=int, default=0, help="episode i runs on track seed SEED + i (default: 0)")
    c.add_argument("--out", metavar="DATA", required=True, help="folder of shards (kept shards are not redone)")
    _add_engine_args(c)
    c.set_defaults(func=_collect)

    _train_verb(sub, "train-vae", help="train the latent family's conv VAE (z = 32) on the collected frames",
                train=lambda: __import__("genlab.worldmodels.pipeline", fromlist=["x"]).train_vae,
                groups=[clikit.Options("data_config", FramesDataConfig, "data", exclude=("name",)),
                        clikit.Options("model_config", VAEConfig, "model (genlab.latent's VAE)",
                                       defaults=VAE_DEFAULTS)],
                defaults=VAE_TRAIN, summary=lambda r: [f"loss {r.metrics.get('train/loss', float('nan')):.1f} "
                                                       f"nats per frame (-ELBO, last log window)"])

    e = sub.add_parser("encode", help="encode every frame with the VAE (mu, log sigma^2)")
    e.add_argument("--data", required=True, help="folder of shards from collect")
    e.add_argument("--vae", required=True, help="run folder of train-vae")
    e.add_argument("--out", metavar="Z", required=True, help="folder for the encoded episodes")
    e.add_argument("--batch-size", type=int, default=256, help="frames per batch (default: 256)")
    clikit.add_progress_argument(e)
    e.set_defaults(func=_encode)

    def rnn_extra(p):
        p.add_argument("--vae", default=None, help="the VAE that encoded the data (checked; default: the one "
                                                   "encode.json names), for the decoded prediction samples")

    _train_verb(sub, "train-rnn", help="train the MDN-RNN (LSTM + 5 Gaussians per z dimension + reward/done heads)",
                train=lambda: __import__("genlab.worldmodels.pipeline", fromlist=["x"]).train_rnn,
                groups=[clikit.Options("data_config", SequenceDataConfig, "data"),
                        clikit.Options("model_config", MDNRNNConfig, "model")],
                defaults=RNN_TRAIN, extra=rnn_extra, extra_kwargs=lambda a: {"vae": a.vae},
                summary=lambda r: [f"loss {r.metrics.get('train/loss', float('nan')):.3f} (z NLL "
                                   f"{r.metrics.get('train/z_nll', float('nan')):.3f} nats/dim + reward BCE "
                                   f"{r.metrics.get('train/reward_bce', float('nan')):.3f} + done BCE, last window)"])

    t = sub.add_parser("train-controller", help="CMA-ES search for the controller, in the real game or the dream")
    add_dataclass_arguments(t.add_argument_group("search"), SearchConfig)
    t.add_argument("--vae", default=None, help="run folder of train-vae")
    t.add_argument("--rnn", default=None, help="run folder of train-rnn, or 'untrained' (a random MDN-RNN: the "
                                               "control experiment)")
    t.add_argument("--init-from", default=None, help="start the CMA-ES mean at another controller run's weights")
    t.add_argument("--max-steps", type=int, default=None, help="stop at this generation (one step = one generation; "
                                                               "default: --generations)")
    t.add_argument("--max-time", default=None, help="stop cleanly after this long (90s, 10m, 2h); --resume continues")
    t.add_argument("--out", metavar="DIR", required=True, help="run folder")
    t.add_argument("--resume", action="store_true", help="continue the search in --out at its generation")
    _add_engine_args(t)
    t.set_defaults(func=_train_controller)

    v = sub.add_parser("evaluate", help=f"mean ± std real score over fixed unseen track seeds ({EVAL_SEED_BASE}, ...)")
    v.add_argument("run", metavar="RUN_DIR", nargs="?", default=None, help="a controller run folder")
    v.add_argument("--random", action="store_true", help="score the random collection policy instead")
    v.add_argument("--episodes", type=int, default=100, help="episodes (the paper: 100) (default: 100)")
    v.add_argument("--max-episode-steps", type=int, default=1000, help="steps per episode (default: 1000)")
    v.add_argument("--which", choices=("mean", "best"), default="mean",
                   help="the CMA-ES mean or the best candidate seen (default: mean)")
    clikit.add_output_arguments(v, default="RUN_DIR (--random: runs/worldmodels)", what="eval.json")
    _add_engine_args(v)
    v.set_defaults(func=_evaluate)

    p = sub.add_parser("play", help="a video of the controller in the real game: frame | reconstruction | actions")
    clikit.add_run_argument(p, help="a controller run folder")
    p.add_argument("--seed", type=int, default=EVAL_SEED_BASE, help=f"track seed (default: {EVAL_SEED_BASE}, the "
                                                                    f"first evaluation track)")
    p.add_argument("--max-episode-steps", type=int, default=1000, help="steps (default: 1000)")
    p.add_argument("--which", choices=("mean", "best"), default="mean", help="which controller (default: mean)")
    p.add_argument("--every", type=int, default=1, help="keep every N-th frame in the video (default: 1)")
    clikit.add_output_arguments(p, default="RUN_DIR", what="the video (.gif or .mp4)")
    p.set_defaults(func=_play)

    d = sub.add_parser("dream", help="a decoded dream rollout as a video (and dream vs real frames)")
    clikit.add_run_argument(d, help="a controller run (it acts in the dream) or an MDN-RNN run (random actions)")
    d.add_argument("--steps", type=int, default=300, help="dream steps (default: 300)")
    d.add_argument("--temperature", type=float, default=1.0, help="sampling temperature tau (default: 1.0)")
    d.add_argument("--seed", type=int, default=0, help="track seed of the first frame and the dream's noise")
    d.add_argument("--vae", default=None, help="the VAE (for an MDN-RNN run that does not record it)")
    clikit.add_output_arguments(d, default="RUN_DIR", what="the video (.gif or .mp4)")
    d.set_defaults(func=_dream)
