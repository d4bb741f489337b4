"""The app's World Models tab: a controller run's CMA-ES curve, a decoded dream, and the controller playing a real
CarRacing track (real frame | reconstruction | actions)."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

TITLE = "World Models"
KEY = "worldmodels"
PREFIXES = ("worldmodels-controller",)
REQUIRES = ("gymnasium", "Box2D")
MAX_STEPS = 300


def _run(ctx: Any, run: Any) -> tuple[Path, dict]:
    """The controller run, and a check that the V and M it names are under the runs folder too."""
    from ..core.io import read_json
    from .controller import SEARCH_FILE

    folder = ctx.resolve_run(run, prefix=PREFIXES)
    if not (folder / SEARCH_FILE).exists():
        from ..app.kit import AppError

        raise AppError(f"{run!r} is a controller without its search (no {SEARCH_FILE}); pick a train-controller run")
    info = read_json(folder / SEARCH_FILE, what="controller search")
    for key in ("vae", "rnn"):
        if info.get(key):
            ctx.resolve_run(info[key])  # refuses a V or M outside --runs-dir
    return folder, info


def scores(ctx: Any, run: Any) -> tuple[Any, str]:
    folder, info = _run(ctx, run)
    last = info["history"][-1] if info["history"] else None
    text = (f"{info['search']['mode']} search, {info['generation']} generations of {info['search']['population']} x "
            f"{info['search']['trials']} rollouts ({info['score_is']})")
    if last:
        text += f"; last generation best {last['best']:.1f}, mean {last['mean']:.1f}"
    png = folder / "scores.png"
    if not png.exists():
        return None, text
    import shutil

    copy = Path(tempfile.mkdtemp(prefix="worldmodels-", dir=ctx.work_dir)) / "scores.png"
    shutil.copyfile(png, copy)  # served from the app's own folder
    return str(copy), text


def dream(ctx: Any, run: Any, steps: Any, temperature: Any, seed: Any) -> tuple[Any, str]:
    from ..app.kit import AppError
    from .show import dream as make_dream

    folder, info = _run(ctx, run)
    steps = int(steps)
    if not 1 <= steps <= MAX_STEPS:
        raise AppError(f"steps must be between 1 and {MAX_STEPS}")
    out = Path(tempfile.mkdtemp(prefix="worldmodels-", dir=ctx.work_dir)) / "dream.gif"
    r = make_dream(folder, output=out, steps=steps, temperature=float(temperature), seed=int(seed))
    return str(out), (f"{r['steps']} dream steps at temperature {r['temperature']:g} from track seed {r['seed']}: "
                      f"dream return {r['dream_return']:.1f} (the reward head's expectation, not a game score)")


def play(ctx: Any, run: Any, steps: Any, seed: Any) -> tuple[Any, str]:
    from ..app.kit import AppError
    from .show import play as make_play

    folder, info = _run(ctx, run)
    steps = int(steps)
    if not 1 <= steps <= MAX_STEPS:
        raise AppError(f"steps must be between 1 and {MAX_STEPS}")
    out = Path(tempfile.mkdtemp(prefix="worldmodels-", dir=ctx.work_dir)) / "play.gif"
    r = make_play(folder, output=out, seed=int(seed), max_episode_steps=steps, every=2)
    return str(out), f"track seed {r['seed']}: return {r['return']:.1f} in {r['steps']} steps (CarRacing-v3)"


def build_tab(gr: Any, ctx: Any) -> None:
    from .env import EVAL_SEED_BASE

    g = ctx.guard
    run = ctx.run_picker(gr, prefix=PREFIXES, label="controller run", elem_id="worldmodels-run")
    with gr.Tab("Search"):
        btn = gr.Button("Show the CMA-ES curve", elem_id="worldmodels-scores-btn")
        img = gr.Image(label="best / mean / worst per generation", type="filepath", interactive=False,
                       elem_id="worldmodels-scores")
        note = gr.Markdown(elem_id="worldmodels-scores-note")
        btn.click(g(scores, ctx), [run], [img, note])
    with gr.Tab("Dream"):
        with gr.Row():
            steps = gr.Slider(10, MAX_STEPS, value=100, step=10, label="steps", elem_id="worldmodels-dream-steps")
            tau = gr.Slider(0.0, 2.0, value=1.15, step=0.05, label="temperature", elem_id="worldmodels-tau")
            seed = gr.Number(value=0, precision=0, label="track seed of the first frame", elem_id="worldmodels-seed")
        btn2 = gr.Button("Dream", variant="primary", elem_id="worldmodels-dream-btn")
        gif = gr.Image(label="decoded dream", type="filepath", interactive=False, elem_id="worldmodels-dream")
        note2 = gr.Markdown(elem_id="worldmodels-dream-note")
        btn2.click(g(dream, ctx), [run, steps, tau, seed], [gif, note2])
    with gr.Tab("Play"):
        with gr.Row():
            steps3 = gr.Slider(10, MAX_STEPS, value=150, step=10, label="steps", elem_id="worldmodels-play-steps")
            seed3 = gr.Number(value=EVAL_SEED_BASE, precision=0, label="track seed", elem_id="worldmodels-play-seed")
        btn3 = gr.Button("Play", elem_id="worldmodels-play-btn")
        gif3 = gr.Image(label="real frame | reconstruction | actions", type="filepath", interactive=False,
                        elem_id="worldmodels-play")
        note3 = gr.Markdown(elem_id="worldmodels-play-note")
        btn3.click(g(play, ctx), [run, steps3, seed3], [gif3, note3])
